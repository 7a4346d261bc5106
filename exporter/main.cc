// homelab-observer: flags → Config → the command. Nothing else lives here.
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "exporter/cli.h"
#include "exporter/commands.h"

int main(int argc, char** argv) {
  using namespace hlo;
  const CliResult parsed = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (const auto* info = std::get_if<InfoRequest>(&parsed)) {
    std::cout << info->text;
    return 0;
  }
  if (const auto* usage = std::get_if<UsageError>(&parsed)) {
    std::cerr << "homelab-observer: " << usage->message << "\n"
              << "Try 'homelab-observer --help'.\n";
    return 2;
  }
  const Config& config = std::get<Config>(parsed);
  switch (config.command) {
    case Command::kOnce: return RunOnce(config);
    case Command::kValidate: return RunValidate(config);
    case Command::kRun: return RunDaemon(config);
    case Command::kSend: return RunSend(config);
  }
  return 2;
}
