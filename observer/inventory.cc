#include "observer/inventory.h"

#include <atomic>

#include "observer/event_parser.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace hlo {

bool Inventory::HasService(const std::string& node, const std::string& service) const {
  auto it = services.find(node);
  return it != services.end() && it->second.count(service) > 0;
}

namespace detail {
namespace {

namespace fs = std::filesystem;

// An inventory file is a hand-written YAML document; anything this large is a
// mistake (or a generated file pointed at by accident), not worth parsing.
constexpr std::uintmax_t kMaxYamlBytes = 16 * 1024 * 1024;

// IsValidUtf8 is the event parser's (observer/event_parser.h): one
// definition of well-formed UTF-8 for events, inventory and markers alike.

// Renders text for a warning: control characters (and every non-ASCII byte
// when the text is not UTF-8) become \xNN, so a hostile name cannot garble the
// operator's terminal.
std::string Printable(std::string_view s) {
  const bool utf8 = IsValidUtf8(s);
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Quoted(std::string_view s) { return "'" + Printable(s) + "'"; }

// Node and service names follow the event rules, so that every inventory
// name is one an event could also carry. Returns "" when the name is fine.
std::string NameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxNameBytes) return "is longer than 253 bytes";
  if (!IsValidUtf8(name)) return "is not valid UTF-8";
  if (const size_t at = ForbiddenNameByte(name); at != std::string_view::npos) {
    return name[at] == '/' ? "contains '/'" : "contains a control character";
  }
  return "";
}

// Warnings about one file, and the line of a YAML node within it.
struct FileContext {
  Inventory& inventory;
  std::string file;  // relative to the checkout, as the operator knows it

  void Warn(int line, std::string message) const {
    inventory.warnings.push_back({file, line, std::move(message)});
  }
};

// yaml-cpp marks are 0-based; a null that stands for a missing value may
// carry no mark at all, so the caller supplies the nearest sensible line.
int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : fallback;
}

// yaml-cpp's operator[] throws on non-maps and silently picks the first of
// duplicate keys; a plain scan avoids both.
std::optional<YAML::Node> FindKey(const YAML::Node& map, std::string_view key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return std::nullopt;
}

// A scalar that may stand in for a string; YAML null counts as "".
std::optional<std::string> AsText(const YAML::Node& node) {
  if (node.IsNull()) return std::string();
  if (node.IsScalar()) return node.Scalar();
  return std::nullopt;
}

std::string_view KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null: return "empty";
    default: return "a single value";
  }
}

// Reads and parses one YAML file. Every failure is a warning and nullopt.
std::optional<YAML::Node> ParseYamlFile(const fs::path& path, const FileContext& ctx) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    ctx.Warn(0, "file not found");
    return std::nullopt;
  }
  if (ec) {  // e.g. a folder on the way is not searchable
    ctx.Warn(0, "cannot be accessed: " + ec.message() + "; skipped");
    return std::nullopt;
  }
  if (!fs::is_regular_file(status)) {
    ctx.Warn(0, "not a regular file; skipped");
    return std::nullopt;
  }
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxYamlBytes) {
    ctx.Warn(0, "file is larger than 16 MiB; skipped");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    ctx.Warn(0, "cannot be opened or read; skipped");
    return std::nullopt;
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp words this as "bad file"; say what actually went wrong.
    ctx.Warn(e.mark.line >= 0 ? e.mark.line + 1 : 0,
             "YAML is nested too deeply to be an inventory; file skipped");
  } catch (const YAML::ParserException& e) {
    // yaml-cpp quotes the offending character, which may be a control byte.
    ctx.Warn(e.mark.line >= 0 ? e.mark.line + 1 : 0,
             "YAML syntax error: " + Printable(e.msg) + "; file skipped");
  } catch (const std::exception& e) {
    ctx.Warn(0, "cannot be parsed: " + Printable(e.what()) + "; file skipped");
  }
  return std::nullopt;
}

// The value of `key` in a top-level map, or a warning. A present but empty
// key gives a null node (an empty list, to the callers).
std::optional<YAML::Node> TopLevelKey(const YAML::Node& root, std::string_view key,
                                      const FileContext& ctx) {
  const std::string wanted = "a map with a `" + std::string(key) + ":` key";
  if (root.IsNull()) {
    ctx.Warn(0, "file is empty; expected " + wanted);
    return std::nullopt;
  }
  if (!root.IsMap()) {
    ctx.Warn(LineOf(root, 1), "top level is " + std::string(KindOf(root)) + "; expected " +
                                  wanted);
    return std::nullopt;
  }
  std::optional<YAML::Node> value = FindKey(root, key);
  if (!value) ctx.Warn(LineOf(root, 1), "no `" + std::string(key) + ":` key");
  return value;
}

// ---- topology.yaml -------------------------------------------------------

// Loads topology.yaml entries into an Inventory, remembering where each node
// was first declared so duplicates can point at it.
class TopologyLoader {
 public:
  explicit TopologyLoader(const FileContext& ctx) : ctx_(ctx) {}

  void Load(const YAML::Node& nodes) {
    if (nodes.IsNull()) return;
    if (nodes.IsSequence()) {
      for (auto it = nodes.begin(); it != nodes.end(); ++it) LoadListEntry(*it);
    } else if (nodes.IsMap()) {
      for (auto it = nodes.begin(); it != nodes.end(); ++it) LoadMapEntry(it->first, it->second);
    } else {
      ctx_.Warn(LineOf(nodes, 1), "`nodes:` is " + std::string(KindOf(nodes)) +
                                      "; expected a list of nodes or a map of name to node");
    }
  }

 private:
  // `- saturn` or `- {name: saturn, roles: [...]}`.
  void LoadListEntry(const YAML::Node& entry) {
    const int line = LineOf(entry, 0);
    if (entry.IsScalar()) {
      if (auto node = NamedNode(entry, line)) Merge(std::move(*node));
      return;
    }
    if (!entry.IsMap()) {
      ctx_.Warn(line, "node entry is " + std::string(KindOf(entry)) +
                          "; expected a name or a map with `name:`; entry skipped");
      return;
    }
    std::optional<YAML::Node> name = FindKey(entry, "name");
    if (!name) {
      ctx_.Warn(line, "node entry has no `name:`; entry skipped");
      return;
    }
    if (auto node = NamedNode(*name, line)) {
      ReadDetails(entry, *node, line);
      Merge(std::move(*node));
    }
  }

  // `saturn: {roles: [...]}`; the value may be empty.
  void LoadMapEntry(const YAML::Node& key, const YAML::Node& value) {
    const int line = LineOf(key, 0);
    auto node = NamedNode(key, line);
    if (!node) return;
    if (value.IsMap()) {
      ReadDetails(value, *node, line);
    } else if (!(value.IsNull() || (value.IsScalar() && value.Scalar().empty()))) {
      ctx_.Warn(LineOf(value, line), "details of node " + Quoted(node->name) + " are " +
                                         std::string(KindOf(value)) +
                                         "; expected a map with roles, address, labels; "
                                         "details ignored");
    }
    Merge(std::move(*node));
  }

  // Also reports a repeated declaration here, before its details, so the
  // warnings come out in line order.
  std::optional<InventoryNode> NamedNode(const YAML::Node& name, int line) {
    if (!name.IsScalar()) {
      ctx_.Warn(LineOf(name, line), "node name is " + std::string(KindOf(name)) +
                                        "; expected a string; entry skipped");
      return std::nullopt;
    }
    if (std::string problem = NameProblem(name.Scalar()); !problem.empty()) {
      ctx_.Warn(LineOf(name, line),
                "node name " + Quoted(name.Scalar()) + " " + problem + "; entry skipped");
      return std::nullopt;
    }
    auto [first, inserted] = first_line_.emplace(name.Scalar(), line);
    if (!inserted) {
      ctx_.Warn(line, "node " + Quoted(name.Scalar()) +
                          " is declared more than once (first at line " +
                          std::to_string(first->second) + "); the entries are merged");
    }
    InventoryNode node;
    node.name = name.Scalar();
    return node;
  }

  // Unknown keys are ignored so the topology can carry data for other tools.
  void ReadDetails(const YAML::Node& map, InventoryNode& node, int line) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      const std::string& key = it->first.Scalar();
      const int key_line = LineOf(it->first, line);
      if (key == "roles") {
        ReadRoles(it->second, node, key_line);
      } else if (key == "address") {
        ReadAddress(it->second, node, key_line);
      } else if (key == "labels") {
        ReadLabels(it->second, node, key_line);
      }
    }
  }

  void ReadRoles(const YAML::Node& roles, InventoryNode& node, int line) {
    if (roles.IsNull()) return;
    if (roles.IsScalar()) {
      if (!roles.Scalar().empty()) AddRole(roles, node, line);
      return;
    }
    if (!roles.IsSequence()) {
      ctx_.Warn(LineOf(roles, line), "roles of node " + Quoted(node.name) + " are " +
                                         std::string(KindOf(roles)) +
                                         "; expected a list of strings; roles ignored");
      return;
    }
    for (auto it = roles.begin(); it != roles.end(); ++it) AddRole(*it, node, line);
  }

  void AddRole(const YAML::Node& role, InventoryNode& node, int line) {
    const int role_line = LineOf(role, line);
    if (!role.IsScalar() || role.Scalar().empty()) {
      ctx_.Warn(role_line, "a role of node " + Quoted(node.name) + " is " +
                               std::string(role.IsScalar() ? "empty" : KindOf(role)) +
                               "; expected a string; role ignored");
      return;
    }
    if (!IsValidUtf8(role.Scalar())) {
      ctx_.Warn(role_line, "role " + Quoted(role.Scalar()) + " of node " + Quoted(node.name) +
                               " is not valid UTF-8; role ignored");
      return;
    }
    AppendUnique(node.roles, role.Scalar());
  }

  void ReadAddress(const YAML::Node& address, InventoryNode& node, int line) {
    std::optional<std::string> text = AsText(address);
    if (!text || !IsValidUtf8(*text)) {
      ctx_.Warn(LineOf(address, line), "address of node " + Quoted(node.name) +
                                           " is not a valid string; address ignored");
      return;
    }
    node.address = std::move(*text);
  }

  void ReadLabels(const YAML::Node& labels, InventoryNode& node, int line) {
    if (labels.IsNull()) return;
    if (!labels.IsMap()) {
      ctx_.Warn(LineOf(labels, line), "labels of node " + Quoted(node.name) + " are " +
                                          std::string(KindOf(labels)) +
                                          "; expected a map of name to value; labels ignored");
      return;
    }
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      std::optional<std::string> key = it->first.IsScalar()
                                           ? std::optional<std::string>(it->first.Scalar())
                                           : std::nullopt;
      std::optional<std::string> value = AsText(it->second);
      if (!key || key->empty() || !value || !IsValidUtf8(*key) || !IsValidUtf8(*value)) {
        ctx_.Warn(LineOf(it->first, line), "a label of node " + Quoted(node.name) +
                                               " is not a plain `name: value` pair of "
                                               "strings; label ignored");
        continue;
      }
      node.labels.emplace(std::move(*key), std::move(*value));  // first one wins
    }
  }

  static void AppendUnique(std::vector<std::string>& list, const std::string& value) {
    for (const std::string& existing : list) {
      if (existing == value) return;
    }
    list.push_back(value);
  }

  // A node declared twice keeps the first declaration's address and labels
  // and gains the roles of both, in order.
  void Merge(InventoryNode node) {
    auto& nodes = ctx_.inventory.nodes;
    auto it = nodes.find(node.name);
    if (it == nodes.end()) {
      std::string name = node.name;
      nodes.emplace(std::move(name), std::move(node));
      return;
    }
    InventoryNode& existing = it->second;
    for (const std::string& role : node.roles) AppendUnique(existing.roles, role);
    if (existing.address.empty()) existing.address = std::move(node.address);
    existing.labels.merge(node.labels);
  }

  const FileContext& ctx_;
  std::map<std::string, int> first_line_;
};

void LoadTopology(const fs::path& checkout, Inventory& inventory) {
  const FileContext ctx{inventory, "inventory/topology.yaml"};
  std::optional<YAML::Node> root =
      ParseYamlFile(checkout / "inventory" / "topology.yaml", ctx);
  if (!root) return;
  std::optional<YAML::Node> nodes = TopLevelKey(*root, "nodes", ctx);
  if (!nodes) return;
  TopologyLoader(ctx).Load(*nodes);
}

// ---- hosts/<node>/services.yaml ------------------------------------------

void AddService(const YAML::Node& name, const std::string& node, int line,
                std::set<std::string>& services, const FileContext& ctx) {
  const int name_line = LineOf(name, line);
  if (!name.IsScalar()) {
    ctx.Warn(name_line, "service name is " + std::string(KindOf(name)) +
                            "; expected a string; entry skipped");
    return;
  }
  if (std::string problem = NameProblem(name.Scalar()); !problem.empty()) {
    ctx.Warn(name_line, "service name " + Quoted(name.Scalar()) + " " + problem +
                            "; entry skipped");
    return;
  }
  if (!services.insert(name.Scalar()).second) {
    ctx.Warn(name_line, "service " + Quoted(name.Scalar()) + " of node " + Quoted(node) +
                            " is listed more than once");
  }
}

void LoadServiceList(const YAML::Node& list, const std::string& node,
                     std::set<std::string>& services, const FileContext& ctx) {
  for (auto it = list.begin(); it != list.end(); ++it) {
    const YAML::Node& entry = *it;
    const int line = LineOf(entry, 0);
    if (entry.IsMap()) {
      std::optional<YAML::Node> name = FindKey(entry, "name");
      if (!name) {
        ctx.Warn(line, "service entry has no `name:`; entry skipped");
        continue;
      }
      AddService(*name, node, line, services, ctx);
    } else {
      AddService(entry, node, line, services, ctx);
    }
  }
}

void LoadServices(const fs::path& file, const std::string& node, Inventory& inventory) {
  const FileContext ctx{inventory, "hosts/" + Printable(node) + "/services.yaml"};
  if (std::string problem = NameProblem(node); !problem.empty()) {
    ctx.Warn(0, "folder name " + Quoted(node) + " " + problem +
                    ", so it cannot be a node name; file skipped");
    return;
  }
  // The file's presence alone makes the node part of the inventory.
  if (!inventory.nodes.count(node)) inventory.nodes[node].name = node;
  std::set<std::string>& services = inventory.services[node];

  std::optional<YAML::Node> root = ParseYamlFile(file, ctx);
  if (!root) return;
  std::optional<YAML::Node> list = TopLevelKey(*root, "services", ctx);
  if (!list || list->IsNull()) return;
  if (list->IsSequence()) {
    LoadServiceList(*list, node, services, ctx);
  } else if (list->IsMap()) {
    for (auto it = list->begin(); it != list->end(); ++it) {
      AddService(it->first, node, LineOf(it->first, 0), services, ctx);
    }
  } else {
    ctx.Warn(LineOf(*list, 1), "`services:` is " + std::string(KindOf(*list)) +
                                   "; expected a list of services or a map of name to "
                                   "service");
  }
}

void LoadHosts(const fs::path& checkout, Inventory& inventory) {
  const fs::path hosts = checkout / "hosts";
  std::error_code ec;
  const fs::file_status status = fs::status(hosts, ec);
  if (status.type() == fs::file_type::not_found) return;  // a checkout without hosts/
  if (ec) {
    inventory.warnings.push_back({"hosts", 0, "cannot be accessed: " + ec.message()});
    return;
  }
  if (!fs::is_directory(status)) {
    inventory.warnings.push_back({"hosts", 0, "not a folder; host services skipped"});
    return;
  }
  std::vector<std::string> names;
  fs::directory_iterator it(hosts, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code dir_ec;
    if (it->is_directory(dir_ec)) names.push_back(std::move(name));
  }
  if (ec) {
    inventory.warnings.push_back({"hosts", 0, "cannot list the folder: " + ec.message()});
  }
  std::sort(names.begin(), names.end());  // deterministic warning order
  for (const std::string& name : names) {
    const fs::path file = hosts / name / "services.yaml";
    std::error_code file_ec;
    if (fs::exists(fs::symlink_status(file, file_ec))) LoadServices(file, name, inventory);
  }
}

}  // namespace
}  // namespace detail

Inventory LoadInventory(const std::filesystem::path& checkout) {
  Inventory inventory;
  try {
    detail::LoadTopology(checkout, inventory);
    detail::LoadHosts(checkout, inventory);
  } catch (const std::exception& e) {
    // Nothing above should throw; this keeps the promise if a library does.
    inventory.warnings.push_back(
        {"", 0, "inventory loading stopped: " + detail::Printable(e.what())});
  }
  static std::atomic<uint64_t> last_generation{0};
  inventory.generation = ++last_generation;
  return inventory;
}

}  // namespace hlo
