#include "exporter/cli.h"

#include <functional>
#include <map>

namespace hlo {
namespace detail {
namespace {

struct FlagSpec {
  // Which commands take it; common flags are taken by all.
  bool once = true, run = true, validate = true;
  std::function<std::string(Config&, const std::string&)> set;  // "" or an error
};

const std::map<std::string, FlagSpec>& Flags() {
  static const std::map<std::string, FlagSpec> flags = {
      {"--root", {true, true, true, [](Config& c, const std::string& v) {
         if (v.empty()) return std::string("--root needs a folder");
         c.root = v;
         return std::string();
       }}},
      {"--inventory", {true, true, true, [](Config& c, const std::string& v) {
         if (v.empty()) return std::string("--inventory needs a folder");
         c.inventory = v;
         return std::string();
       }}},
      {"--now", {true, true, true, [](Config& c, const std::string& v) {
         c.now = ParseTimestamp(v);
         return c.now ? std::string()
                      : "--now " + v + ": not an RFC 3339 time like 2026-05-12T12:05:00Z";
       }}},
      {"--node-stale-after", {true, true, true, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d) return "--node-stale-after " + v + ": not a duration like 90s, 10m, 1h30m";
         c.node_stale_after = *d;
         return std::string();
       }}},
      {"--events.max-lateness", {true, true, true, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d) return "--events.max-lateness " + v + ": not a duration like 0s, 90s, 5m, 1h";
         c.max_lateness = *d;
         return std::string();
       }}},
      {"--events.replay-min-interval", {false, true, false, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d) return "--events.replay-min-interval " + v + ": not a duration like 0s, 30s, 5m";
         c.replay_min_interval = *d;
         return std::string();
       }}},
      {"--textfile", {true, false, false, [](Config& c, const std::string& v) {
         if (v.empty()) return std::string("--textfile needs a path");
         c.textfile = v;
         return std::string();
       }}},
      {"--web.listen-address", {false, true, false, [](Config& c, const std::string& v) {
         if (v.find(':') == std::string::npos) {
           return "--web.listen-address " + v + ": expected [host]:port";
         }
         c.listen_address = v;
         return std::string();
       }}},
      {"--web.telemetry-path", {false, true, false, [](Config& c, const std::string& v) {
         if (v.empty() || v.front() != '/') {
           return "--web.telemetry-path " + v + ": must start with '/'";
         }
         c.telemetry_path = v;
         return std::string();
       }}},
      {"--web.config.file", {false, true, false, [](Config& c, const std::string& v) {
         if (v.empty()) return std::string("--web.config.file needs a path");
         c.web_config_file = v;
         return std::string();
       }}},
      {"--watch.mode", {false, true, false, [](Config& c, const std::string& v) {
         if (v != "auto" && v != "poll") return "--watch.mode " + v + ": expected auto or poll";
         c.force_poll = v == "poll";
         return std::string();
       }}},
      {"--watch.poll-interval", {false, true, false, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d || d->nanos <= 0) {
           return "--watch.poll-interval " + v + ": not a duration like 1s, 90s";
         }
         c.poll_interval = *d;
         return std::string();
       }}},
  };
  return flags;
}

bool Takes(const FlagSpec& spec, Command command) {
  switch (command) {
    case Command::kOnce: return spec.once;
    case Command::kRun: return spec.run;
    case Command::kValidate: return spec.validate;
  }
  return false;
}

const char* CommandName(Command c) {
  switch (c) {
    case Command::kOnce: return "once";
    case Command::kRun: return "run";
    case Command::kValidate: return "validate";
  }
  return "?";
}

}  // namespace
}  // namespace detail

std::string UsageText() {
  return R"(Usage: homelab-observer COMMAND [flags]

Watches a homelab through the events its tools write, keeps a world model of
it in <root>/world/*.json, and exposes it as Prometheus metrics.

Commands:
  once       process every pending event, write the world files and the
             checkpoint, exit (0 ok, 1 fatal, 2 usage)
  run        the daemon: process pending events, then watch events/ and
             serve HTTP until SIGTERM/SIGINT
  validate   check the inventory and every event file without writing;
             prints FILE:LINE: reason per problem (exit 1 if any invalid)

Flags (all commands):
  --root DIR                 homelab folder (default /opt/homelab)
  --inventory DIR            checkout holding inventory/topology.yaml and
                             hosts/*/services.yaml (default: none)
  --now RFC3339              fixed clock, for reproducible output
  --node-stale-after DUR     a node unseen for longer is down (default 10m;
                             forms: 90s, 10m, 1h, 1h30m)
  --events.max-lateness DUR  events are applied in event-time order; one at
                             most DUR behind the latest is folded in without
                             a full replay (default 5m)
once:
  --textfile PATH            also write the metrics in the Prometheus text
                             format to PATH, atomically
run:
  --web.listen-address ADDR  [host]:port to listen on (default :9847)
  --web.telemetry-path PATH  metrics path (default /metrics)
  --web.config.file PATH     TLS and basic auth, exporter-toolkit format
                             (default: none, plain HTTP for anyone)
  --watch.mode auto|poll     inotify with a polling fallback (auto, default),
                             or always poll (for NFS and the like)
  --watch.poll-interval DUR  polling period and inotify safety net (default 1s)
  --events.replay-min-interval DUR
                             at most one replay for late events per DUR (default 30s)

  --help, --version
)";
}

CliResult ParseCommandLine(const std::vector<std::string>& args) {
  Config config;
  bool have_command = false;
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return InfoRequest{UsageText()};
    if (arg == "--version") return InfoRequest{"homelab-observer " HLO_VERSION "\n"};
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      if (detail::Flags().count(name) == 0) return UsageError{"unknown flag " + name};
      if (eq != std::string::npos) {
        flags.emplace_back(name, arg.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        flags.emplace_back(name, args[++i]);
      } else {
        return UsageError{"flag " + name + " needs a value"};
      }
      continue;
    }
    if (have_command) return UsageError{"unexpected argument " + arg};
    if (arg == "once") config.command = Command::kOnce;
    else if (arg == "run") config.command = Command::kRun;
    else if (arg == "validate") config.command = Command::kValidate;
    else return UsageError{"unknown command " + arg};
    have_command = true;
  }
  if (!have_command) return UsageError{"no command given (once, run or validate)"};
  for (const auto& [name, value] : flags) {
    const detail::FlagSpec& spec = detail::Flags().at(name);
    if (!detail::Takes(spec, config.command)) {
      return UsageError{"flag " + name + " does not apply to " +
                        detail::CommandName(config.command)};
    }
    if (std::string err = spec.set(config, value); !err.empty()) return UsageError{err};
  }
  return config;
}

}  // namespace hlo
