#include <signal.h>

#include <atomic>

#include "exporter/command_support.h"
#include "exporter/commands.h"
#include "exporter/daemon.h"
#include "exporter/ingest_policy.h"
#include "exporter/web_config.h"

#include <iostream>

namespace hlo {
namespace detail {
namespace {

std::atomic<Daemon*> g_daemon{nullptr};

extern "C" void OnStopSignal(int) {
  if (Daemon* daemon = g_daemon.load()) daemon->RequestStop();
}

extern "C" void OnReloadSignal(int) {
  if (Daemon* daemon = g_daemon.load()) daemon->RequestReload();
}

}  // namespace
}  // namespace detail

int RunDaemon(const Config& config) {
  if (const std::string warning = RootWarning(config.root); !warning.empty()) {
    std::cerr << "homelab-observer: " << warning << "\n";
  }
  if (config.enable_ingest) {
    bool basic_auth = false;
    bool readable = true;
    if (config.web_config_file) {
      std::string error;
      const std::optional<WebConfig> web = LoadWebConfig(*config.web_config_file, &error);
      // A broken file is reported (exit 1) by the daemon, which loads it too.
      readable = web.has_value();
      basic_auth = web && !web->basic_auth_users.empty();
    }
    auto refusal = IngestRefusal(config.listen_address, basic_auth);
    if (readable && refusal) {
      std::cerr << "homelab-observer: " << *refusal << "\n";
      return 2;
    }
  }
  Daemon daemon(config);
  detail::g_daemon.store(&daemon);
  struct sigaction action {};
  action.sa_handler = detail::OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // SIGHUP reloads (systemctl reload; the unit's ExecReload) instead of
  // killing the daemon, which is its default.
  struct sigaction reload {};
  reload.sa_handler = detail::OnReloadSignal;
  sigemptyset(&reload.sa_mask);
  reload.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &reload, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int code = daemon.Run();
  detail::g_daemon.store(nullptr);
  return code;
}

}  // namespace hlo
