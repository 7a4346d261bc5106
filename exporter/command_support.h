// Small pieces the commands share: the clock and loading the inventory.
#pragma once

#include <filesystem>
#include <string>

#include "exporter/config.h"
#include "observer/inventory.h"
#include "observer/timestamp.h"

namespace hlo {

// --now when given, else the system clock.
Timestamp ConfiguredNow(const Config& config);

// The system clock as a Timestamp.
Timestamp SystemNow();

// A warning when `root` has no events/ folder but holds event files itself
// (--root pointed at events/, or at a folder of event files): what --root
// should be instead. "" when the root looks right, or is not there at all.
std::string RootWarning(const std::filesystem::path& root);

}  // namespace hlo
