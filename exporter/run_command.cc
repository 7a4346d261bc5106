#include <iostream>

#include "exporter/commands.h"

namespace hlo {

int RunDaemon(const Config&) {
  std::cerr << "homelab-observer: run is not available in this build yet\n";
  return 1;
}

}  // namespace hlo
