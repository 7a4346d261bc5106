// SIGHUP: reloads the inventory and the web config (--web.config.file:
// TLS certificate and key, basic-auth users, headers) while `run` keeps
// serving. All or nothing, like Prometheus' own reload: everything is read
// and checked first, and only when all of it is good is any of it put in
// use; otherwise the configuration in use stays, and the outcome says
// which file (and line) broke.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "exporter/inventory_keeper.h"
#include "exporter/web_config.h"

namespace hlo {

struct ReloadTargets {
  // The inventory in use; required (without --inventory it has nothing to
  // load, and that part always succeeds).
  InventoryKeeper* inventory = nullptr;
  // --web.config.file; without it there is no web config to reload.
  std::optional<std::filesystem::path> web_config_file;
  // Why a well-formed web config must still be refused here (ingestion
  // off loopback without basic auth), or nullopt. May be empty.
  std::function<std::optional<std::string>(const WebConfig&)> refuse_web;
  // Puts a checked web config in use (HttpServer::Reconfigure): false and
  // *error when it cannot, and then nothing of it is in use.
  std::function<bool(const WebConfig&, std::string* error)> apply_web;
};

struct ReloadOutcome {
  bool ok = false;
  // What to log, one line each: what was reloaded, or every problem found.
  std::vector<std::string> log;
};

// Runs one reload. Call it where the inventory is used (the daemon's loop
// thread); apply_web is what makes the web part safe for other threads.
ReloadOutcome ReloadConfig(const ReloadTargets& targets);

}  // namespace hlo
