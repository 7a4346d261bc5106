#include "exporter/command_support.h"

#include <chrono>

namespace hlo {

Timestamp SystemNow() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return Timestamp{ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000)};
}

Timestamp ConfiguredNow(const Config& config) { return config.now ? *config.now : SystemNow(); }

}  // namespace hlo
