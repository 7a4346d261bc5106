// Everything the command line can set, with the contract's defaults
// (CONTRACT §2). main() parses flags into this and only then wires parts.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "exporter/send_options.h"
#include "observer/model.h"
#include "observer/timestamp.h"

namespace hlo {

enum class Command { kOnce, kRun, kValidate, kSend };

struct Config {
  Command command = Command::kOnce;
  // --root: the homelab folder holding events/, state/, logs/, world/.
  std::filesystem::path root = "/opt/homelab";
  // --inventory: a checkout with inventory/topology.yaml and
  // hosts/*/services.yaml; none when absent.
  std::optional<std::filesystem::path> inventory;
  // --now: a fixed clock for reproducible output; the system clock when absent.
  std::optional<Timestamp> now;
  // --node-stale-after: a node unseen for longer is down. Default 10m.
  Duration node_stale_after{10LL * 60 * 1'000'000'000};
  // --service-stale-after: a healthy service whose last check is strictly
  // older is stale (CONTRACT §9). Default 0 = off.
  Duration service_stale_after{0};
  // --flap.high / --flap.low: flap detection's thresholds, percent.
  FlapThresholds flap{};
  // once --textfile: also write the metrics there, for node_exporter.
  std::optional<std::filesystem::path> textfile;
  // run --web.listen-address: [host]:port to serve HTTP on.
  std::string listen_address = ":9847";
  // run --web.telemetry-path: where the metrics are served.
  std::string telemetry_path = "/metrics";
  // once and run --web.site-name: the site this observer watches, for a view
  // of many sites (docs/scale-out.md): a `site` label on
  // homelab_observer_build_info and `site` in /api/v1/observer. Empty (the
  // default): neither.
  std::string site_name;
  // run --web.config.file: TLS, basic auth and response headers in the
  // exporter-toolkit format (exporter/web_config.h); plain HTTP when absent.
  std::optional<std::filesystem::path> web_config_file;
  // run --watch.mode: "auto" (inotify, polling where it is unavailable) or
  // "poll" (always poll: for NFS and other filesystems inotify cannot see).
  bool force_poll = false;
  // run --watch.poll-interval: the polling period, and inotify's safety net.
  Duration poll_interval{1'000'000'000};
  // --events.max-lateness: an event at most this far behind the latest
  // applied event time is folded in without a replay. Default 5m.
  Duration max_lateness{300'000'000'000};
  // once and run --history.retention: resolved incidents and finished
  // deployments that ended longer ago than this (by event time, behind
  // --events.max-lateness) move to world/archive/. Default 0 = off: keep
  // everything in the world files.
  Duration history_retention{0};
  // run --web.enable-ingest: serve POST /api/v1/events (push ingestion).
  bool enable_ingest = false;
  // run --web.ingest.max-bytes: the largest POST body. Default 8 MiB.
  uint64_t ingest_max_bytes = 8ULL << 20;
  // run --events.replay-min-interval: replays for late events are coalesced
  // to at most one per this long. Default 30s.
  Duration replay_min_interval{30'000'000'000};
  // send: its own flags (exporter/send_options.h); the common ones do not apply.
  SendOptions send;
};

}  // namespace hlo
