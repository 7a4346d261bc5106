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

  // An inventory read from the files as they are now, not yet in use
  // (SIGHUP: it is put in use only when the whole configuration is good).
  struct Candidate {
    Inventory inventory;
    std::string fingerprint;
  };
  // The files read now; null without a checkout. Its problems, if any, are
  // in inventory.warnings (see FormatInventoryWarning).
  std::optional<Candidate> Load() const;
  // Puts `candidate` in use (the observer sees it through current()).
  void Adopt(Candidate candidate);

  // Problems of the initial load, as "FILE:LINE: warning: message".
  std::vector<std::string> InitialWarnings() const;

  const std::optional<std::filesystem::path>& checkout() const { return checkout_; }
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
