// The Prometheus text exposition format 0.0.4, written straight into a
// string. Byte for byte what prometheus-cpp 1.0.1's TextSerializer writes for
// the same families, so the exposition did not change when the table stopped
// building prometheus::MetricFamily objects to serialize (the exposition
// tests compare the two): numbers as `%.16g` (integers without a fraction,
// "Nan", "+Inf", "-Inf"), label values with `\\`, `\"` and `\n` escaped.
// One difference: HELP text is escaped (`\\`, `\n`) as the format requires,
// where TextSerializer copies it raw; no help text in the table needs it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <prometheus/metric_type.h>

namespace hlo::text_exposition {

// "# HELP <name> <help>\n" (left out when help is empty) and
// "# TYPE <name> <type>\n".
void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  prometheus::MetricType type);

// One sample line: `<name>{<label>="<value>",...} <value>\n`. Labels are
// paired in order, as many as both lists have; no braces when none.
void AppendSample(std::string& out, std::string_view name,
                  std::span<const std::string_view> label_names,
                  std::initializer_list<std::string_view> label_values, double value);

// One histogram series: _count, _sum, then a _bucket per bound with its
// cumulative count, and le="+Inf" with `count`; the labels (paired as in
// AppendSample) on each line, `le` after them.
void AppendHistogram(std::string& out, std::string_view name,
                     std::span<const std::string_view> label_names,
                     std::initializer_list<std::string_view> label_values,
                     std::span<const double> bounds, std::span<const uint64_t> cumulative,
                     uint64_t count, double sum);

// A sample value as TextSerializer writes a double.
void AppendValue(std::string& out, double value);

// A label value with backslash, double quote and newline escaped.
void AppendLabelValue(std::string& out, std::string_view value);

}  // namespace hlo::text_exposition
