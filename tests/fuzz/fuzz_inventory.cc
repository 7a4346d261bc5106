// Fuzz target: hlo::LoadInventory on hand-written YAML (CONTRACT §8
// "Entities": topology.yaml and hosts/<node>/services.yaml).
//
// The input is written as both inventory/topology.yaml and
// hosts/x/services.yaml of a scratch checkout (one document can exercise both
// loaders: `nodes:` and `services:` keys side by side). Loading must not
// throw or crash, and whatever it keeps must be usable as-is: every node and
// service name obeys the event name rules (so an event could carry it) and is
// valid UTF-8, as are roles, addresses and labels; warnings name their file
// and carry no control characters (they go to an operator's terminal).
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "observer/inventory.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

bool IsInventoryName(std::string_view name) {
  return !name.empty() && IsAcceptableEventName(name) && ReferenceIsValidUtf8(name);
}

bool HasControlCharacter(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

void CheckNode(const std::string& key, const InventoryNode& node) {
  HLO_FUZZ_CHECK(node.name == key, key);
  HLO_FUZZ_CHECK(IsInventoryName(node.name), node.name);
  std::set<std::string> seen;
  for (const std::string& role : node.roles) {
    HLO_FUZZ_CHECK(!role.empty() && ReferenceIsValidUtf8(role), role);
    HLO_FUZZ_CHECK(seen.insert(role).second, "duplicate role " + role);
  }
  HLO_FUZZ_CHECK(ReferenceIsValidUtf8(node.address), node.address);
  for (const auto& [name, value] : node.labels) {
    HLO_FUZZ_CHECK(!name.empty() && ReferenceIsValidUtf8(name), name);
    HLO_FUZZ_CHECK(ReferenceIsValidUtf8(value), value);
  }
}

}  // namespace

int FuzzInventory(const uint8_t* data, size_t size) {
  const std::string_view yaml = AsText(data, size);
  WriteScratchFile("inventory/topology.yaml", yaml);
  WriteScratchFile("hosts/x/services.yaml", yaml);

  const Inventory inventory = LoadInventory(ScratchDir());

  for (const auto& [key, node] : inventory.nodes) CheckNode(key, node);
  // The services.yaml alone makes `x` an inventory node.
  HLO_FUZZ_CHECK(inventory.HasNode("x"), "node x missing");
  for (const auto& [node, services] : inventory.services) {
    HLO_FUZZ_CHECK(inventory.HasNode(node), node);
    for (const std::string& service : services) {
      HLO_FUZZ_CHECK(IsInventoryName(service), service);
    }
  }
  for (const InventoryWarning& warning : inventory.warnings) {
    // An empty file is LoadInventory's last-resort catch: an exception
    // escaped the per-file handling.
    HLO_FUZZ_CHECK(!warning.file.empty(), warning.message);
    HLO_FUZZ_CHECK(warning.line >= 0, std::to_string(warning.line));
    HLO_FUZZ_CHECK(!HasControlCharacter(warning.message), warning.message);
  }
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzInventory)
