// Keeps the inventory in use by the daemon, reloading it when its files
// change. A reload that finds problems keeps the last good inventory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "observer/inventory.h"

namespace hlo {

class InventoryKeeper {
 public:
  // No checkout: no inventory (current() is null), Refresh() does nothing.
  explicit InventoryKeeper(std::optional<std::filesystem::path> checkout);

  // The inventory in use. The object stays at the same address for the
  // keeper's lifetime (reloads assign into it), so the observer may hold it.
  const Inventory* current() const { return checkout_ ? &current_ : nullptr; }

  // Reloads when the files' fingerprint changed since the last look. Returns
  // true when the inventory in use changed. Appends log lines to *log.
  bool Refresh(std::vector<std::string>* log);

  // Problems of the initial load, as "FILE:LINE: warning: message".
  std::vector<std::string> InitialWarnings() const;

  uint64_t reloads() const { return reloads_; }
  uint64_t reload_failures() const { return failures_; }
  // False while the files on disk are broken (the last good one is in use).
  bool ok() const { return !broken_ && current_.warnings.empty(); }

 private:
  std::string Fingerprint() const;

  std::optional<std::filesystem::path> checkout_;
  Inventory current_;
  std::string fingerprint_;
  uint64_t reloads_ = 0;
  uint64_t failures_ = 0;
  bool broken_ = false;
};

// "FILE:LINE: warning: message" for one inventory warning.
std::string FormatInventoryWarning(const std::filesystem::path& checkout,
                                   const InventoryWarning& warning);

}  // namespace hlo
