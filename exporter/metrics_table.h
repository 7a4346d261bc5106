// The metrics as data (CONTRACT §7): one table of {name, help, type, labels,
// generator} run over an ExportState at scrape time. Series exist only for
// what the snapshot holds, so resolved incidents and vanished entities leave
// nothing stale behind. docs/metrics.md is rendered from the same table.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "exporter/export_state.h"

namespace hlo {

struct MetricSpec;

// Adds series to one family, pairing label values with the spec's names.
class SeriesSink {
 public:
  SeriesSink(const MetricSpec& spec, prometheus::MetricFamily& family)
      : spec_(spec), family_(family) {}
  // `values` in the order of MetricSpec::labels.
  void Add(const std::vector<std::string>& values, double value);
  prometheus::MetricFamily& family() { return family_; }

 private:
  const MetricSpec& spec_;
  prometheus::MetricFamily& family_;
};

struct MetricSpec {
  std::string_view name;
  std::string_view help;
  prometheus::MetricType type;
  std::vector<std::string_view> labels;
  std::string_view source;  // "world" (contract §7) or "daemon" (run only)
  std::function<void(const ExportState&, SeriesSink&)> generate;
};

const std::vector<MetricSpec>& MetricTable();

// Every family of the table, in table order. Daemon-only families are left
// out when state.daemon.present is false.
std::vector<prometheus::MetricFamily> GenerateFamilies(const ExportState& state);

// The Prometheus text exposition (format 0.0.4) of GenerateFamilies.
std::string RenderExposition(const ExportState& state);

// docs/metrics.md, generated from the table.
std::string RenderMetricsMarkdown();

}  // namespace hlo
