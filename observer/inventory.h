// The repository inventory: inventory/topology.yaml and
// hosts/<node>/services.yaml (CONTRACT §8 "Entities").
#pragma once

#include <filesystem>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hlo {

struct InventoryNode {
  std::string name;
  std::vector<std::string> roles;  // inventory order, no duplicates
  std::string address;             // "" when not given
  std::map<std::string, std::string> labels;
};

// A problem found while loading; loading always goes on past it.
struct InventoryWarning {
  std::string file;  // path as shown to the operator (relative to the checkout)
  int line = 0;      // 1-based; 0 when the whole file is concerned (missing)
  std::string message;
};

struct Inventory {
  std::map<std::string, InventoryNode> nodes;                 // by name
  std::map<std::string, std::set<std::string>> services;      // node → services
  std::vector<InventoryWarning> warnings;
  // Unique to each LoadInventory in this process (never 0), so that what is
  // derived from an inventory can tell it was replaced; 0 for one built by
  // hand, which nothing may cache.
  uint64_t generation = 0;

  bool HasNode(const std::string& node) const { return nodes.count(node) > 0; }
  bool HasService(const std::string& node, const std::string& service) const;
};

// Loads from a checkout directory. Never throws: a missing or broken file is a
// warning naming the file and line, and whatever else parses is kept. A node
// with a services.yaml is an inventory node even if topology.yaml lacks it.
Inventory LoadInventory(const std::filesystem::path& checkout);

}  // namespace hlo
