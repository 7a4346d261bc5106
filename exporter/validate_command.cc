#include <iostream>

#include "exporter/commands.h"
#include "observer/inventory.h"
#include "observer/validation.h"

namespace hlo {

int RunValidate(const Config& config) {
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
