#include <signal.h>

#include <atomic>

#include "exporter/commands.h"
#include "exporter/daemon.h"

namespace hlo {
namespace detail {
namespace {

std::atomic<Daemon*> g_daemon{nullptr};

extern "C" void OnStopSignal(int) {
  if (Daemon* daemon = g_daemon.load()) daemon->RequestStop();
}

}  // namespace
}  // namespace detail

int RunDaemon(const Config& config) {
  Daemon daemon(config);
  detail::g_daemon.store(&daemon);
  struct sigaction action {};
  action.sa_handler = detail::OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int code = daemon.Run();
  detail::g_daemon.store(nullptr);
  return code;
}

}  // namespace hlo
