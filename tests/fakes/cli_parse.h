// The command line as the flag tests see it: the Config it gives (a usage
// error fails the test), or whether it is refused.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "exporter/cli.h"

namespace hlo::fakes {

inline Config ParseOk(std::vector<std::string> args) {
  const CliResult r = ParseCommandLine(args);
  if (const auto* usage = std::get_if<UsageError>(&r)) ADD_FAILURE() << usage->message;
  return std::holds_alternative<Config>(r) ? std::get<Config>(r) : Config{};
}

inline bool Refused(std::vector<std::string> args) {
  return std::holds_alternative<UsageError>(ParseCommandLine(args));
}

}  // namespace hlo::fakes
