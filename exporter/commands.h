// The commands of CONTRACT §2. Each returns the process exit code.
#pragma once

#include "exporter/config.h"

namespace hlo {

int RunOnce(const Config& config);
int RunValidate(const Config& config);
int RunDaemon(const Config& config);
// send: 0 all accepted (or duplicates), 1 some rejected or not delivered, 2 usage.
int RunSend(const Config& config);

}  // namespace hlo
