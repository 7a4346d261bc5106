#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <system_error>

#include "exporter/command_support.h"
#include "exporter/commands.h"
#include "observer/inventory.h"
#include "observer/validation.h"

namespace hlo {

int RunValidate(const Config& config) {
  // As for `once`, a root that is not there is fatal (CONTRACT §8), not an
  // empty and therefore valid history: `validate --root /typo` must fail.
  std::error_code ec;
  if (!std::filesystem::is_directory(config.root, ec) ||
      ::access(config.root.c_str(), R_OK | X_OK) != 0) {
    std::cerr << "homelab-observer: root " << config.root.string() << " is not a readable folder\n";
    return 1;
  }
  if (const std::string warning = RootWarning(config.root); !warning.empty()) {
    std::cerr << "homelab-observer: " << warning << "\n";
  }
  bool inventory_ok = true;
  if (config.inventory) {
    const Inventory inventory = LoadInventory(*config.inventory);
    for (const InventoryWarning& w : inventory.warnings) {
      std::cout << (*config.inventory / w.file).string() << ":" << w.line << ": " << w.message
                << "\n";
      inventory_ok = false;
    }
  }
  const ValidationReport report = ValidateEventFiles(config.root / "events");
  for (const Problem& p : report.problems) {
    std::cout << (config.root / p.file).string() << ":" << p.line << ": " << p.reason << ": "
              << p.detail << "\n";
  }
  std::cout << report.events << " events, " << report.invalid << " invalid\n";
  return report.invalid == 0 && inventory_ok && !report.unreadable ? 0 : 1;
}

}  // namespace hlo
