#include "exporter/cli.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "observer/event_parser.h"

namespace hlo {
namespace detail {
namespace {

struct FlagSpec {
  // Which commands take it; common flags are taken by all.
  bool once = true, run = true, validate = true;
  std::function<std::string(Config&, const std::string&)> set;  // "" or an error
  bool send = false;       // taken by send (whose flags no other command takes)
  bool is_switch = false;  // takes no value: `--flag` means "true" (or --flag=true|false)
};

// A send flag (send_options.h).
FlagSpec SendFlag(std::function<std::string(SendOptions&, const std::string&)> set,
                  bool is_switch = false) {
  return {false, false, false,
          [set](Config& c, const std::string& v) { return set(c.send, v); }, true, is_switch};
}

// A positive count for --retries and --batch.*; nullopt when it is not one.
std::optional<long long> Count(const std::string& v, long long min) {
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const long long n = std::stoll(v);
  return n >= min ? std::optional<long long>(n) : std::nullopt;
}

// A byte count: digits, optionally followed by KiB, MiB or GiB (powers of
// 1024); at least 1, at most 1 GiB. nullopt otherwise.
std::optional<uint64_t> ByteSize(const std::string& v) {
  const size_t digits = std::min(v.find_first_not_of("0123456789"), v.size());
  if (digits == 0 || digits > 10) return std::nullopt;
  const std::string unit = v.substr(digits);
  uint64_t scale = 1;
  if (unit == "KiB") scale = 1ULL << 10;
  else if (unit == "MiB") scale = 1ULL << 20;
  else if (unit == "GiB") scale = 1ULL << 30;
  else if (!unit.empty()) return std::nullopt;
  const uint64_t n = std::stoull(v.substr(0, digits)) * scale;
  if (n < 1 || n > (1ULL << 30)) return std::nullopt;
  return n;
}

// "0" … "100".
std::optional<int> Percent(const std::string& v) {
  if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int n = std::stoi(v);
  if (n > 100) return std::nullopt;
  return n;
}

// A duration as ParseDuration reads it, optionally led by whole days
// ("90d", "30d12h"): retention is counted in days.
std::optional<Duration> RetentionDuration(const std::string& v) {
  const size_t d = v.find('d');
  if (d == std::string::npos) return ParseDuration(v);
  if (d == 0 || d > 6 || v.find_first_not_of("0123456789") != d) return std::nullopt;
  const int64_t days = std::stoll(v.substr(0, d));
  Duration rest{0};
  if (d + 1 < v.size()) {
    const std::optional<Duration> parsed = ParseDuration(v.substr(d + 1));
    if (!parsed) return std::nullopt;
    rest = *parsed;
  }
  constexpr int64_t kDay = 86'400LL * 1'000'000'000;
  if (days > std::numeric_limits<int64_t>::max() / kDay ||
      rest.nanos > std::numeric_limits<int64_t>::max() - days * kDay) {
    return std::nullopt;
  }
  return Duration{days * kDay + rest.nanos};
}

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
         if (d->nanos <= 0) {
           return "--node-stale-after " + v + ": at least 1s (0 would call every node down)";
         }
         c.node_stale_after = *d;
         return std::string();
       }}},
      {"--service-stale-after", {true, true, true, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d) return "--service-stale-after " + v + ": not a duration like 0s (off), 90s, 10m, 1h";
         if (d->nanos != 0 && d->nanos < 1'000'000'000) {
           return "--service-stale-after " + v + ": at least 1s (or 0s to turn it off)";
         }
         c.service_stale_after = *d;
         return std::string();
       }}},
      {"--flap.high", {true, true, true, [](Config& c, const std::string& v) {
         auto n = Percent(v);
         if (!n) return "--flap.high " + v + ": expected a whole percent from 0 to 100";
         c.flap.high = *n;
         return std::string();
       }}},
      {"--flap.low", {true, true, true, [](Config& c, const std::string& v) {
         auto n = Percent(v);
         if (!n) return "--flap.low " + v + ": expected a whole percent from 0 to 100";
         c.flap.low = *n;
         return std::string();
       }}},
      {"--events.max-lateness", {true, true, true, [](Config& c, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d) return "--events.max-lateness " + v + ": not a duration like 0s, 90s, 5m, 1h";
         c.max_lateness = *d;
         return std::string();
       }}},
      {"--history.retention", {true, true, false, [](Config& c, const std::string& v) {
         auto d = RetentionDuration(v);
         if (!d) return "--history.retention " + v + ": not a duration like 0s (off), 720h, 90d, 30d12h";
         if (d->nanos != 0 && d->nanos < 1'000'000'000) {
           return "--history.retention " + v + ": at least 1s (or 0s to keep everything)";
         }
         c.history_retention = *d;
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
      {"--web.site-name", {true, true, false, [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 128 || !IsValidUtf8(v) ||
             std::any_of(v.begin(), v.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
           return "--web.site-name " + v + ": expected 1 to 128 bytes of UTF-8 without control characters";
         }
         c.site_name = v;
         return std::string();
       }}},
      {"--web.config.file", {false, true, false, [](Config& c, const std::string& v) {
         if (v.empty()) return std::string("--web.config.file needs a path");
         c.web_config_file = v;
         return std::string();
       }}},
      {"--web.enable-ingest", {false, true, false, [](Config& c, const std::string& v) {
         if (v != "true" && v != "false") return "--web.enable-ingest=" + v + ": expected true or false";
         c.enable_ingest = v == "true";
         return std::string();
       }, /*send=*/false, /*is_switch=*/true}},
      {"--web.ingest.max-bytes", {false, true, false, [](Config& c, const std::string& v) {
         auto n = ByteSize(v);
         if (!n) return "--web.ingest.max-bytes " + v + ": not a size like 8388608, 512KiB, 8MiB";
         c.ingest_max_bytes = *n;
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
      {"--url", SendFlag([](SendOptions& s, const std::string& v) {
         if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
           return "--url " + v + ": expected http://HOST:PORT[/api/v1/events] or https://...";
         }
         s.url = v;
         return std::string();
       })},
      {"--user", SendFlag([](SendOptions& s, const std::string& v) {
         if (v.empty() || v.find(':') != std::string::npos) {
           return "--user " + v + ": a basic-auth user name without ':'";
         }
         s.user = v;
         return std::string();
       })},
      {"--password-file", SendFlag([](SendOptions& s, const std::string& v) {
         if (v.empty()) return std::string("--password-file needs a path");
         s.password_file = v;
         return std::string();
       })},
      {"--ca-file", SendFlag([](SendOptions& s, const std::string& v) {
         if (v.empty()) return std::string("--ca-file needs a path");
         s.ca_file = v;
         return std::string();
       })},
      {"--spool", SendFlag([](SendOptions& s, const std::string& v) {
         if (v.empty()) return std::string("--spool needs a folder");
         s.spool = v;
         return std::string();
       })},
      {"--timeout", SendFlag([](SendOptions& s, const std::string& v) {
         auto d = ParseDuration(v);
         if (!d || d->nanos < 1'000'000) return "--timeout " + v + ": not a duration like 10s, 1m";
         s.timeout = std::chrono::milliseconds(d->nanos / 1'000'000);
         return std::string();
       })},
      {"--retries", SendFlag([](SendOptions& s, const std::string& v) {
         auto n = Count(v, 0);
         if (!n || *n > 1000) return "--retries " + v + ": expected a number from 0 to 1000";
         s.retries = static_cast<int>(*n);
         return std::string();
       })},
      {"--batch.max-events", SendFlag([](SendOptions& s, const std::string& v) {
         auto n = Count(v, 1);
         if (!n) return "--batch.max-events " + v + ": expected a positive number";
         s.batch_events = static_cast<size_t>(*n);
         return std::string();
       })},
      {"--batch.max-bytes", SendFlag([](SendOptions& s, const std::string& v) {
         auto n = Count(v, 1);
         if (!n) return "--batch.max-bytes " + v + ": expected a positive number of bytes";
         s.batch_bytes = static_cast<size_t>(*n);
         return std::string();
       })},
      {"--drain-only", SendFlag([](SendOptions& s, const std::string& v) {
         if (v != "true" && v != "false") return "--drain-only=" + v + ": expected true or false";
         s.drain_only = v == "true";
         return std::string();
       }, /*is_switch=*/true)},
  };
  return flags;
}

bool Takes(const FlagSpec& spec, Command command) {
  switch (command) {
    case Command::kOnce: return spec.once;
    case Command::kRun: return spec.run;
    case Command::kValidate: return spec.validate;
    case Command::kSend: return spec.send;
  }
  return false;
}

const char* CommandName(Command c) {
  switch (c) {
    case Command::kOnce: return "once";
    case Command::kRun: return "run";
    case Command::kValidate: return "validate";
    case Command::kSend: return "send";
  }
  return "?";
}

}  // namespace
}  // namespace detail

namespace detail {
namespace {

// The flags' help, grouped as the usage text shows them; each entry is the
// flag's lines there. A command's help lists the entries whose flag it takes.
struct FlagHelp {
  std::string_view section;
  std::string_view text;
};
constexpr FlagHelp kFlagHelp[] = {
    {"Flags (once, run and validate):",
     "  --root DIR                 homelab folder (default /opt/homelab)\n"},
    {"Flags (once, run and validate):",
     "  --inventory DIR            checkout holding inventory/topology.yaml and\n                             hosts/*/services.yaml (default: none)\n"},
    {"Flags (once, run and validate):",
     "  --now RFC3339              fixed clock, for reproducible output\n"},
    {"Flags (once, run and validate):",
     "  --node-stale-after DUR     a node unseen for longer is down (default 10m;\n                             forms: 90s, 10m, 1h, 1h30m)\n"},
    {"Flags (once, run and validate):",
     "  --service-stale-after DUR  a healthy service whose last check is older is\n                             stale (default 0s: off; at least 1s when on)\n"},
    {"Flags (once, run and validate):",
     "  --flap.high PCT            a service starts flapping at this percent of\n                             state change over its last 21 results (default 30)\n"},
    {"Flags (once, run and validate):",
     "  --flap.low PCT             and stops at or below this one (default 20)\n"},
    {"Flags (once, run and validate):",
     "  --events.max-lateness DUR  events are applied in event-time order; one at\n                             most DUR behind the latest is folded in without\n                             a full replay (default 5m)\n"},
    {"once and run:",
     "  --web.site-name NAME       the site this observer watches, when Prometheus\n                             gathers many (a site label on\n                             homelab_observer_build_info; default: none)\n"},
    {"once and run:",
     "  --history.retention DUR    move resolved incidents and finished deployments\n                             that ended more than DUR (by event time) before\n                             the latest event to world/archive/ (default 0s:\n                             off; at least 1s; forms: 720h, 90d, 30d12h)\n"},
    {"once:",
     "  --textfile PATH            also write the metrics in the Prometheus text\n                             format to PATH, atomically\n"},
    {"run:",
     "  --web.listen-address ADDR  [host]:port to listen on (default :9847)\n"},
    {"run:",
     "  --web.telemetry-path PATH  metrics path (default /metrics)\n"},
    {"run:",
     "  --web.config.file PATH     TLS and basic auth, exporter-toolkit format\n                             (default: none, plain HTTP for anyone)\n"},
    {"run:",
     "  --watch.mode auto|poll     inotify with a polling fallback (auto, default),\n                             or always poll (for NFS and the like)\n"},
    {"run:",
     "  --watch.poll-interval DUR  polling period and inotify safety net (default 1s)\n"},
    {"run:",
     "  --events.replay-min-interval DUR\n                             at most one replay for late events per DUR (default 30s)\n"},
    {"run:",
     "  --web.enable-ingest        accept events on POST /api/v1/events (off by\n                             default; off loopback it needs basic auth)\n"},
    {"run:",
     "  --web.ingest.max-bytes N   largest POST body (default 8MiB; 512KiB, 8MiB)\n"},
    {"send [FILE|-] (only these flags):",
     "  --url URL                  the observer, e.g. http://observer:9847 (the path\n                             /api/v1/events is appended when missing)\n"},
    {"send [FILE|-] (only these flags):",
     "  --user U --password-file F basic auth; the password is the file's first line\n"},
    {"send [FILE|-] (only these flags):",
     "  --ca-file PEM              verify the observer's certificate with these CAs\n"},
    {"send [FILE|-] (only these flags):",
     "  --spool DIR                append the events to DIR first (fsync), then\n                             drain it; without FILE, only drain\n"},
    {"send [FILE|-] (only these flags):",
     "  --drain-only               with --spool: read no input, only drain\n"},
    {"send [FILE|-] (only these flags):",
     "  --timeout DUR              per request (default 30s)\n"},
    {"send [FILE|-] (only these flags):",
     "  --retries N                per batch, with exponential backoff (default 8)\n"},
    {"send [FILE|-] (only these flags):",
     "  --batch.max-events N       events per POST (default 1000)\n"},
    {"send [FILE|-] (only these flags):",
     "  --batch.max-bytes N        bytes per POST (default 1048576)\n"},
};

struct CommandHelp {
  Command command;
  std::string_view name;
  std::string_view summary;  // its lines of the usage text's Commands list
  std::string_view usage;    // the synopsis after "homelab-observer"
  std::string_view examples;
};
constexpr CommandHelp kCommandHelp[] = {
    {Command::kOnce, "once",
     "process every pending event, write the world files and the\n"
     "             checkpoint, exit (0 ok, 1 fatal, 2 usage)\n",
     "once [flags]",
     "  homelab-observer once --root /opt/homelab --inventory /srv/homelab-repo\n"
     "  homelab-observer once --root examples/homelab --now 2026-05-13T09:00:00Z \\\n"
     "      --textfile /var/lib/prometheus/node-exporter/homelab.prom\n"},
    {Command::kRun, "run",
     "the daemon: process pending events, then watch events/ and\n"
     "             serve HTTP until SIGTERM/SIGINT (SIGHUP reloads the inventory\n"
     "             and the web config)\n",
     "run [flags]",
     "  homelab-observer run --root /opt/homelab --web.listen-address :9847\n"
     "  homelab-observer run --root /opt/homelab --web.config.file /etc/homelab-observer/web.yml \\\n"
     "      --web.enable-ingest\n"},
    {Command::kValidate, "validate",
     "check the inventory and every event file without writing;\n"
     "             prints FILE:LINE: reason per problem (exit 1 if any invalid)\n",
     "validate [flags]",
     "  homelab-observer validate --root /opt/homelab --inventory /srv/homelab-repo\n"},
    {Command::kSend, "send",
     "post events (a JSON object, an array or NDJSON, from FILE or\n"
     "             stdin) to a running observer's POST /api/v1/events (exit 0 all\n"
     "             accepted or duplicates, 1 some rejected or not delivered, 2 usage)\n",
     "send --url URL [flags] [FILE|-]",
     "  echo '{\"timestamp\":\"2026-05-13T09:00:00Z\",\"type\":\"node_heartbeat\",\"node\":\"nas\"}' \\\n"
     "      | homelab-observer send --url http://observer:9847 -\n"
     "  homelab-observer send --url https://observer:9847 --user nas --password-file /etc/hlo-pass \\\n"
     "      --spool /var/spool/homelab-observer events.ndjson\n"},
};

// The flag an entry of kFlagHelp is about: its first word.
std::string_view FlagOf(const FlagHelp& h) {
  std::string_view text = h.text.substr(h.text.find("--"));
  return text.substr(0, text.find(' '));
}

}  // namespace
}  // namespace detail

std::string UsageText() {
  std::string out =
      "Usage: homelab-observer COMMAND [flags]\n"
      "       homelab-observer help [COMMAND] | version\n\n"
      "Watches a homelab through the events its tools write, keeps a world model of\n"
      "it in <root>/world/*.json, and exposes it as Prometheus metrics.\n\n"
      "Commands:\n";
  for (const auto& c : detail::kCommandHelp) {
    std::string name(c.name);
    name.resize(11, ' ');
    out += "  " + name + std::string(c.summary);
  }
  out += "\n";
  std::string_view section;
  for (const auto& h : detail::kFlagHelp) {
    if (h.section != section) {
      section = h.section;
      out += std::string(section) + "\n";
    }
    out += h.text;
  }
  out += "\n  --help, --version          (or: help [COMMAND], version)\n"
         "\n`homelab-observer help COMMAND` shows one command's flags and examples.\n";
  return out;
}

std::string CommandHelpText(Command command) {
  for (const auto& c : detail::kCommandHelp) {
    if (c.command != command) continue;
    std::string summary(c.summary);
    // The summary's continuation lines are indented for the Commands list.
    for (size_t at = 0; (at = summary.find("\n             ", at)) != std::string::npos;) {
      summary.replace(at, 14, "\n");
      ++at;
    }
    std::string out = "Usage: homelab-observer " + std::string(c.usage) + "\n\n";
    summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
    out += summary + "\nFlags:\n";
    for (const auto& h : detail::kFlagHelp) {
      if (detail::Takes(detail::Flags().at(std::string(detail::FlagOf(h))), command)) {
        out += h.text;
      }
    }
    out += "  --help                     this help\n\nExamples:\n" + std::string(c.examples);
    return out;
  }
  return UsageText();
}

CliResult ParseCommandLine(const std::vector<std::string>& args) {
  const auto command_named = [](const std::string& word) -> std::optional<Command> {
    for (const auto& c : detail::kCommandHelp) {
      if (c.name == word) return c.command;
    }
    return std::nullopt;
  };
  // `help [COMMAND]` and `version` as commands; `COMMAND --help` shows that
  // command's help wherever --help stands.
  if (!args.empty() && args[0] == "version") {
    if (args.size() > 1) return UsageError{"version takes no arguments"};
    return InfoRequest{"homelab-observer " HLO_VERSION "\n"};
  }
  if (!args.empty() && args[0] == "help") {
    if (args.size() == 1) return InfoRequest{UsageText()};
    const std::optional<Command> command = command_named(args[1]);
    if (!command || args.size() > 2) {
      return UsageError{"help " + args[1] + ": expected help [once|run|validate|send]"};
    }
    return InfoRequest{CommandHelpText(*command)};
  }
  Config config;
  bool have_command = false;
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      for (const std::string& word : args) {
        if (const std::optional<Command> command = command_named(word)) {
          return InfoRequest{CommandHelpText(*command)};
        }
      }
      return InfoRequest{UsageText()};
    }
    if (arg == "--version") return InfoRequest{"homelab-observer " HLO_VERSION "\n"};
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      if (detail::Flags().count(name) == 0) return UsageError{"unknown flag " + name};
      if (eq != std::string::npos) {
        flags.emplace_back(name, arg.substr(eq + 1));
      } else if (detail::Flags().at(name).is_switch) {
        flags.emplace_back(name, "true");
      } else if (i + 1 < args.size()) {
        flags.emplace_back(name, args[++i]);
      } else {
        return UsageError{"flag " + name + " needs a value"};
      }
      continue;
    }
    if (have_command && config.command == Command::kSend && !config.send.input) {
      config.send.input = arg;  // FILE or "-"
      continue;
    }
    if (have_command) return UsageError{"unexpected argument " + arg};
    if (arg == "once") config.command = Command::kOnce;
    else if (arg == "run") config.command = Command::kRun;
    else if (arg == "validate") config.command = Command::kValidate;
    else if (arg == "send") config.command = Command::kSend;
    else return UsageError{"unknown command " + arg + " (commands: once, run, validate, send, help, version)"};
    have_command = true;
  }
  if (!have_command) return UsageError{"no command given (once, run, validate or send)"};
  for (const auto& [name, value] : flags) {
    const detail::FlagSpec& spec = detail::Flags().at(name);
    if (!detail::Takes(spec, config.command)) {
      return UsageError{"flag " + name + " does not apply to " +
                        detail::CommandName(config.command)};
    }
    if (std::string err = spec.set(config, value); !err.empty()) return UsageError{err};
  }
  if (config.flap.low > config.flap.high) {
    return UsageError{"--flap.low " + std::to_string(config.flap.low) + " is above --flap.high " +
                      std::to_string(config.flap.high) + ": a service would never stop flapping"};
  }
  if (config.command == Command::kSend) {
    if (config.send.url.empty()) return UsageError{"send needs --url"};
    if (!config.send.user.empty() && !config.send.password_file) {
      return UsageError{"--user needs --password-file (a password is never a flag value)"};
    }
    if (config.send.password_file && config.send.user.empty()) {
      return UsageError{"--password-file needs --user"};
    }
    if (config.send.drain_only && (!config.send.spool || config.send.input)) {
      return UsageError{"--drain-only needs --spool and no FILE"};
    }
  }
  return config;
}

}  // namespace hlo
