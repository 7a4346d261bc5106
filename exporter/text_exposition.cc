#include "exporter/text_exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace hlo::text_exposition {
namespace {

std::string_view TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Untyped: break;
  }
  return "untyped";
}

void AppendCount(std::string& out, uint64_t n) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, result.ptr);
}

}  // namespace

void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  prometheus::MetricType type) {
  if (!help.empty()) {
    out.append("# HELP ").append(name).push_back(' ');
    for (const char c : help) {
      if (c == '\\') {
        out.append("\\\\");
      } else if (c == '\n') {
        out.append("\\n");
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\n');
  }
  out.append("# TYPE ").append(name).push_back(' ');
  out.append(TypeName(type)).push_back('\n');
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("Nan");
  } else if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
  } else if (value == 0) {
    out.append(std::signbit(value) ? "-0" : "0");
  } else if (std::abs(value) < 1e15 && value == std::trunc(value)) {
    // Most values are small integers (0/1, counts, whole seconds): %.16g
    // writes them as plain digits, which the integer path does faster.
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(value));
    out.append(buffer, result.ptr);
  } else {
    // TextSerializer streams with precision max_digits10 - 1 = 16 in the
    // classic locale, i.e. %.16g; to_chars with a precision is specified as
    // exactly that, and ignores the locale.
    char buffer[32];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16);
    out.append(buffer, result.ptr);
  }
}

void AppendLabelValue(std::string& out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(start, i - start));
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    start = i + 1;
  }
  out.append(value.substr(start));
}

void AppendSample(std::string& out, std::string_view name,
                  std::span<const std::string_view> label_names,
                  std::initializer_list<std::string_view> label_values, double value) {
  out.append(name);
  const size_t pairs = std::min(label_names.size(), label_values.size());
  if (pairs > 0) {
    out.push_back('{');
    const std::string_view* v = label_values.begin();
    for (size_t i = 0; i < pairs; ++i) {
      if (i > 0) out.push_back(',');
      out.append(label_names[i]).append("=\"");
      AppendLabelValue(out, v[i]);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  AppendValue(out, value);
  out.push_back('\n');
}

void AppendHistogram(std::string& out, std::string_view name,
                     std::span<const std::string_view> label_names,
                     std::initializer_list<std::string_view> label_values,
                     std::span<const double> bounds, std::span<const uint64_t> cumulative,
                     uint64_t count, double sum) {
  const size_t pairs = std::min(label_names.size(), label_values.size());
  // `{a="x",b="y"` without the closing brace, or "" without labels.
  std::string labels;
  for (size_t i = 0; i < pairs; ++i) {
    labels.push_back(i == 0 ? '{' : ',');
    labels.append(label_names[i]).append("=\"");
    AppendLabelValue(labels, label_values.begin()[i]);
    labels.push_back('"');
  }
  const auto line = [&](std::string_view suffix) {
    out.append(name).append(suffix).append(labels);
    if (!labels.empty()) out.push_back('}');
    out.push_back(' ');
  };
  line("_count");
  AppendCount(out, count);
  out.push_back('\n');
  line("_sum");
  AppendValue(out, sum);
  out.push_back('\n');
  const auto bucket = [&]() {
    out.append(name).append("_bucket").append(labels).append(labels.empty() ? "{" : ",");
    out.append("le=\"");
  };
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    bucket();
    AppendValue(out, bounds[i]);
    out.append("\"} ");
    AppendCount(out, cumulative[i]);
    out.push_back('\n');
  }
  bucket();
  out.append("+Inf\"} ");
  AppendCount(out, count);
  out.push_back('\n');
}

}  // namespace hlo::text_exposition
