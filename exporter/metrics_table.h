// The metrics as data (CONTRACT §7): one table of {name, help, type, labels,
// generator} run over an ExportState (once per published state: WorldCollector
// keeps the text for the scrapes). Series exist only for what the snapshot holds, so resolved incidents and vanished entities leave
// nothing stale behind. docs/metrics.md is rendered from the same table.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "exporter/export_state.h"

namespace hlo {

// Receives the series of one family from its generator. The exposition
// writes them straight into its text (RenderExposition); GenerateFamilies
// builds prometheus-cpp objects from them instead.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  // One series of a counter or gauge; `values` in the order of
  // MetricSpec::labels. The views need only live for the call.
  virtual void Add(std::initializer_list<std::string_view> values, double value) = 0;
  // One series of a histogram family, `values` as for Add: cumulative[i]
  // observations were <= bounds[i]; `count` in all (the +Inf bucket).
  virtual void AddHistogram(std::initializer_list<std::string_view> values,
                            std::span<const double> bounds, std::span<const uint64_t> cumulative,
                            uint64_t count, double sum) = 0;
};

struct MetricSpec {
  std::string_view name;
  std::string_view help;
  prometheus::MetricType type;
  std::vector<std::string_view> labels;
  // "world" (contract §7): its generator reads only state.world,
  // state.observer and state.site_name, which lets the cache share its text
  // between states. Or
  // "daemon" (run only): reads state.daemon.
  std::string_view source;
  std::function<void(const ExportState&, SeriesSink&)> generate;
};

const std::vector<MetricSpec>& MetricTable();

// Every family of the table, in table order, as prometheus-cpp objects (for
// WorldCollector::Collect, a prometheus::Collectable). Daemon-only families
// are left out when state.daemon.present is false.
std::vector<prometheus::MetricFamily> GenerateFamilies(const ExportState& state);

// The Prometheus text exposition (format 0.0.4) of the same families, written
// directly: byte for byte what prometheus::TextSerializer makes of
// GenerateFamilies(state) (see text_exposition.h).
std::string RenderExposition(const ExportState& state);

// Appends the exposition of the families whose MetricSpec::source is `source`
// ("world" or "daemon"), in table order. The table lists every world family
// before the daemon's, so RenderExposition(state) is the world part followed,
// when state.daemon.present, by the daemon part.
void AppendExposition(const ExportState& state, std::string_view source, std::string* out);

// docs/metrics.md, generated from the table.
std::string RenderMetricsMarkdown();

}  // namespace hlo
