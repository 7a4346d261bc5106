#include "exporter/inventory_keeper.h"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

namespace hlo {
namespace detail {
namespace {

void StatInto(const std::filesystem::path& path, std::string& out) {
  struct stat st {};
  out += path.string();
  if (::stat(path.c_str(), &st) == 0) {
    out += ':' + std::to_string(st.st_size) + ':' + std::to_string(st.st_ino) + ':' +
           std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec);
  }
  out += '\n';
}

}  // namespace
}  // namespace detail

std::string FormatInventoryWarning(const std::filesystem::path& checkout,
                                   const InventoryWarning& warning) {
  return (checkout / warning.file).string() + ":" + std::to_string(warning.line) +
         ": warning: " + warning.message;
}

InventoryKeeper::InventoryKeeper(std::optional<std::filesystem::path> checkout)
    : checkout_(std::move(checkout)) {
  if (!checkout_) return;
  fingerprint_ = Fingerprint();
  current_ = LoadInventory(*checkout_);
}

std::vector<std::string> InventoryKeeper::InitialWarnings() const {
  std::vector<std::string> out;
  if (!checkout_) return out;
  for (const auto& w : current_.warnings) out.push_back(FormatInventoryWarning(*checkout_, w));
  return out;
}

std::string InventoryKeeper::Fingerprint() const {
  std::string out;
  detail::StatInto(*checkout_ / "inventory" / "topology.yaml", out);
  std::error_code ec;
  std::vector<std::filesystem::path> hosts;
  for (std::filesystem::directory_iterator it(*checkout_ / "hosts", ec), end; !ec && it != end;
       it.increment(ec)) {
    hosts.push_back(it->path() / "services.yaml");
  }
  std::sort(hosts.begin(), hosts.end());
  for (const auto& path : hosts) detail::StatInto(path, out);
  return out;
}

bool InventoryKeeper::Refresh(std::vector<std::string>* log) {
  if (!checkout_) return false;
  std::string fingerprint = Fingerprint();
  if (fingerprint == fingerprint_) return false;
  fingerprint_ = std::move(fingerprint);
  ++reloads_;
  Inventory fresh = LoadInventory(*checkout_);
  if (!fresh.warnings.empty()) {
    for (const auto& w : fresh.warnings) log->push_back(FormatInventoryWarning(*checkout_, w));
    if (current_.warnings.empty()) {
      ++failures_;
      broken_ = true;
      log->push_back("inventory reload found problems; keeping the last good inventory");
      return false;
    }
  }
  current_ = std::move(fresh);
  broken_ = false;
  log->push_back("inventory reloaded: " + std::to_string(current_.nodes.size()) + " nodes");
  return true;
}

std::optional<InventoryKeeper::Candidate> InventoryKeeper::Load() const {
  if (!checkout_) return std::nullopt;
  // The fingerprint first: a change made while loading is seen by the next
  // Refresh, never lost.
  Candidate candidate;
  candidate.fingerprint = Fingerprint();
  candidate.inventory = LoadInventory(*checkout_);
  return candidate;
}

void InventoryKeeper::Adopt(Candidate candidate) {
  if (!checkout_) return;
  ++reloads_;
  current_ = std::move(candidate.inventory);
  fingerprint_ = std::move(candidate.fingerprint);
  broken_ = false;
}

}  // namespace hlo
