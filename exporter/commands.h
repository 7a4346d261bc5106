// The commands of CONTRACT §2. Each returns the process exit code.
#pragma once

#include "exporter/config.h"

namespace hlo {

int RunOnce(const Config& config);
int RunValidate(const Config& config);
int RunDaemon(const Config& config);

}  // namespace hlo
