// Small pieces the commands share: the clock and loading the inventory.
#pragma once

#include "exporter/config.h"
#include "observer/inventory.h"
#include "observer/timestamp.h"

namespace hlo {

// --now when given, else the system clock.
Timestamp ConfiguredNow(const Config& config);

// The system clock as a Timestamp.
Timestamp SystemNow();

}  // namespace hlo
