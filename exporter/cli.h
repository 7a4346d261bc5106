// Command-line parsing: argv → Config, or what to print and the exit code.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "exporter/config.h"

namespace hlo {

// --help / --version: print `text` on stdout, exit 0.
struct InfoRequest {
  std::string text;
};
// Anything that does not parse: print `message` on stderr, exit 2.
struct UsageError {
  std::string message;
};

using CliResult = std::variant<Config, InfoRequest, UsageError>;

// args excludes argv[0]. Flags take `--flag value` or `--flag=value`, before
// or after the command.
CliResult ParseCommandLine(const std::vector<std::string>& args);

// The whole usage (`--help`, `help`).
std::string UsageText();
// One command's usage, the flags it takes and examples (`help once`,
// `once --help`).
std::string CommandHelpText(Command command);

}  // namespace hlo
