#include "exporter/api_publisher.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "observer/json_writer.h"

namespace hlo {
namespace {

// The index of each world file in kWorldFileNames.
constexpr size_t kDeployments = 0, kIncidents = 1, kSummary = 3;

auto NodeFields(const NodeView& n) {
  std::vector<std::pair<std::string, Timestamp>> stages;
  for (const StageMarker& s : n.stages) stages.emplace_back(s.name, s.completed_at);
  return std::make_tuple(n.status, n.roles, n.last_seen, n.in_inventory, std::move(stages),
                         n.maintenance);
}

auto ServiceFields(const ServiceView& s) {
  return std::tie(s.status, s.last_check, s.active_incident, s.in_inventory, s.last_deployment,
                  s.last_deployment_status, s.maintenance, s.flapping, s.flap_percent);
}

// Names in `a` or `b` whose fields differ (or which are in only one).
template <class Item, class KeyOf, class Same>
std::set<std::string> Differing(const std::vector<Item>& a, const std::vector<Item>& b,
                                KeyOf key_of, Same same) {
  std::map<std::string, const Item*> before;
  for (const Item& item : a) before.emplace(key_of(item), &item);
  std::set<std::string> out;
  for (const Item& item : b) {
    std::string key = key_of(item);
    auto it = before.find(key);
    if (it == before.end() || !same(*it->second, item)) out.insert(key);
    if (it != before.end()) before.erase(it);
  }
  for (const auto& [key, item] : before) out.insert(key);
  return out;
}

std::string RenderFile(size_t index, const WorldSnapshot& world, const Model& model) {
  JsonWriter writer(JsonWriter::Style::kPretty);
  WriteWorldFile(index, world, model, writer);
  return writer.Take();
}

std::string CompactSummary(const WorldSnapshot& world) {
  static const Model kNoHistory;
  JsonWriter writer(JsonWriter::Style::kCompact);
  WriteWorldFile(kSummary, world, kNoHistory, writer);
  std::string text = writer.Take();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

nlohmann::json TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json WorldChanges(const WorldSnapshot* before, const WorldSnapshot& after,
                            bool incidents_history_changed, bool deployments_history_changed) {
  static const WorldSnapshot kEmpty;
  const WorldSnapshot& b = before != nullptr ? *before : kEmpty;
  const auto nodes = Differing(
      b.nodes, after.nodes, [](const NodeView& n) { return n.name; },
      [](const NodeView& x, const NodeView& y) { return NodeFields(x) == NodeFields(y); });
  const auto key = [](const ServiceView& s) { return s.node + "/" + s.service; };
  const auto services =
      Differing(b.services, after.services, key, [](const ServiceView& x, const ServiceView& y) {
        return ServiceFields(x) == ServiceFields(y);
      });
  const auto incidents = Differing(
      b.active_incidents, after.active_incidents, [](const IncidentState& i) { return i.id; },
      [](const IncidentState& x, const IncidentState& y) { return x == y; });
  // A deployment shows through the service entries it is the latest of.
  std::set<std::string> deployments;
  std::map<std::string, const ServiceView*> old_services;
  for (const ServiceView& s : b.services) old_services.emplace(key(s), &s);
  for (const ServiceView& s : after.services) {
    if (s.last_deployment.empty()) continue;
    auto it = old_services.find(key(s));
    if (it == old_services.end() || it->second->last_deployment != s.last_deployment ||
        it->second->last_deployment_status != s.last_deployment_status) {
      deployments.insert(s.last_deployment);
    }
  }
  return {{"nodes", nodes},
          {"services", services},
          {"incidents", incidents},
          {"deployments", deployments},
          {"history",
           {{"incidents", incidents_history_changed}, {"deployments", deployments_history_changed}}}};
}

double ApiPublisher::EventsPerSecond(uint64_t processed, bool replayed,
                                     std::chrono::steady_clock::time_point steady) {
  if (replayed) samples_.clear();
  samples_.emplace_back(steady, processed);
  // Keep one sample at least a minute old as the baseline.
  while (samples_.size() > 2 && steady - samples_[1].first >= std::chrono::seconds(60)) {
    samples_.pop_front();
  }
  const auto& [t0, n0] = samples_.front();
  const double seconds = std::max(60.0, std::chrono::duration<double>(steady - t0).count());
  if (processed < n0) return 0;
  return static_cast<double>(processed - n0) / seconds;
}

std::shared_ptr<const ApiView> ApiPublisher::Publish(std::shared_ptr<const WorldSnapshot> world,
                                                     const Model& model,
                                                     const HistoryRevisions& revisions,
                                                     const ObserverHealth& health, Timestamp now,
                                                     std::chrono::steady_clock::time_point steady) {
  const bool first = last_world_ == nullptr;
  const bool deployments_moved = first || revisions.deployments != last_revisions_.deployments ||
                                 revisions.deployments == 0;
  const bool incidents_moved =
      first || revisions.incidents != last_revisions_.incidents || revisions.incidents == 0;
  for (size_t i : {kDeployments, kIncidents}) {
    if (history_[i] != nullptr && !(i == kDeployments ? deployments_moved : incidents_moved)) {
      continue;
    }
    history_[i] = JsonDocument::Of(RenderFile(i, *world, model));
    rendered_[i] = std::shared_ptr<const std::string>(history_[i], &history_[i]->Text());
  }

  // A change: anything a reader of the world files or the summary could see,
  // besides the clock.
  nlohmann::json changed = WorldChanges(last_world_.get(), *world, incidents_moved && !first,
                                        deployments_moved && !first);
  const Counters& c = world->counters;
  const bool counts_moved = first || c.events_processed != last_world_->counters.events_processed ||
                            c.events_rejected != last_world_->counters.events_rejected ||
                            c.events_duplicate != last_world_->counters.events_duplicate;
  const bool any = first || counts_moved || !changed["nodes"].empty() ||
                   !changed["services"].empty() || !changed["incidents"].empty() ||
                   !changed["deployments"].empty() || changed["history"]["incidents"] ||
                   changed["history"]["deployments"];
  uint64_t sequence = feed_.latest();
  if (any) {
    sequence = feed_.latest() + 1;
    nlohmann::json data = {{"sequence", sequence},
                           {"generated_at", FormatTimestamp(world->generated_at)},
                           {"changed", std::move(changed)}};
    std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The summary as runtime-summary.json has it, spliced in whole.
    text.pop_back();  // '}'
    text += ",\"summary\":" + CompactSummary(*world) + "}";
    feed_.Publish(std::move(text));
  }
  last_world_ = world;
  last_revisions_ = revisions;

  auto view = std::make_shared<ApiView>();
  view->sequence = sequence;
  view->files[kDeployments] = history_[kDeployments];
  view->files[kIncidents] = history_[kIncidents];
  for (size_t i = 2; i < view->files.size(); ++i) {
    view->files[i] = std::make_shared<const JsonDocument>([world, i] {
      static const Model kNoHistory;
      return RenderFile(i, *world, kNoHistory);
    });
  }
  const std::optional<Timestamp> last_event = c.last_event_at;
  nlohmann::json observer = {
      {"version", HLO_VERSION},
      {"site", health.site_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(health.site_name)},
      {"ready", health.ready},
      {"sequence", sequence},
      {"events_processed", c.events_processed},
      {"events_rejected", c.events_rejected},
      {"events_duplicate", c.events_duplicate},
      {"last_event_at", TimeOrNull(last_event)},
      {"events_per_second", EventsPerSecond(c.events_processed, health.replayed, steady)},
      {"lag_seconds", last_event ? nlohmann::json(ToUnixSeconds(now) - ToUnixSeconds(*last_event))
                                 : nlohmann::json(nullptr)},
      {"last_batch_at", TimeOrNull(health.last_batch_at)},
      {"pending_bytes", health.pending_bytes},
      {"ingest_enabled", health.ingest_enabled},
      {"ingest_accepted", health.ingest_accepted},
  };
  view->observer = JsonDocument::Of(
      observer.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return view;
}

}  // namespace hlo
