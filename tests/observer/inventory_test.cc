#include "observer/inventory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

using Roles = std::vector<std::string>;

constexpr char kTopology[] = "inventory/topology.yaml";

// The warnings of one file, as "LINE: message" for readable failures.
std::vector<std::string> WarningsFor(const Inventory& inv, const std::string& file) {
  std::vector<std::string> out;
  for (const InventoryWarning& w : inv.warnings) {
    if (w.file == file) out.push_back(std::to_string(w.line) + ": " + w.message);
  }
  return out;
}

bool HasWarning(const Inventory& inv, const std::string& file, int line,
                const std::string& fragment) {
  for (const InventoryWarning& w : inv.warnings) {
    if (w.file == file && w.line == line && w.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

Inventory LoadTopologyText(TempDir& dir, const std::string& yaml) {
  dir.Write(kTopology, yaml);
  return LoadInventory(dir.path());
}

TEST(InventoryTest, ListOfMapsGivesNamesRolesAddressAndLabels) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  - name: saturn\n"
                                   "    roles: [nas, media]\n"
                                   "    address: 10.0.0.5\n"
                                   "    labels: {rack: 2, env: home, ssd: true}\n"
                                   "  - name: jupiter\n");
  EXPECT_TRUE(inv.warnings.empty()) << ::testing::PrintToString(WarningsFor(inv, kTopology));
  ASSERT_EQ(inv.nodes.size(), 2u);
  const InventoryNode& saturn = inv.nodes.at("saturn");
  EXPECT_EQ(saturn.name, "saturn");
  EXPECT_EQ(saturn.roles, (Roles{"nas", "media"}));
  EXPECT_EQ(saturn.address, "10.0.0.5");
  EXPECT_EQ(saturn.labels, (std::map<std::string, std::string>{
                               {"env", "home"}, {"rack", "2"}, {"ssd", "true"}}));
  EXPECT_TRUE(inv.nodes.at("jupiter").roles.empty());
  EXPECT_EQ(inv.nodes.at("jupiter").address, "");
}

TEST(InventoryTest, ListOfPlainNamesGivesNodesWithoutRoles) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - saturn\n  - jupiter\n");
  EXPECT_TRUE(inv.warnings.empty());
  EXPECT_TRUE(inv.HasNode("saturn"));
  EXPECT_TRUE(inv.HasNode("jupiter"));
  EXPECT_TRUE(inv.nodes.at("saturn").roles.empty());
}

TEST(InventoryTest, MapFormAcceptsDetailsOrEmptyValues) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  saturn:\n"
                                   "    roles: [nas]\n"
                                   "    address: saturn.lan\n"
                                   "  jupiter:\n"
                                   "  mars: ~\n"
                                   "  venus: {}\n"
                                   "  pluto: ''\n");
  EXPECT_TRUE(inv.warnings.empty()) << ::testing::PrintToString(WarningsFor(inv, kTopology));
  EXPECT_EQ(inv.nodes.size(), 5u);
  EXPECT_EQ(inv.nodes.at("saturn").roles, Roles{"nas"});
  EXPECT_EQ(inv.nodes.at("saturn").address, "saturn.lan");
  EXPECT_TRUE(inv.nodes.at("venus").roles.empty());
}

TEST(InventoryTest, MapFormWithNonMapDetailsKeepsNodeAndWarns) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  saturn: [nas]\n  jupiter: {roles: web}\n");
  EXPECT_TRUE(inv.HasNode("saturn"));
  EXPECT_TRUE(inv.nodes.at("saturn").roles.empty());
  EXPECT_EQ(inv.nodes.at("jupiter").roles, Roles{"web"});
  EXPECT_TRUE(HasWarning(inv, kTopology, 2, "saturn"));
}

TEST(InventoryTest, SingleRoleStringIsOneRole) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - name: saturn\n    roles: nas\n");
  EXPECT_EQ(inv.nodes.at("saturn").roles, Roles{"nas"});
}

TEST(InventoryTest, RolesKeepOrderAndDropDuplicates) {
  TempDir dir;
  Inventory inv = LoadTopologyText(
      dir, "nodes:\n  - name: saturn\n    roles: [web, db, web, cache, db]\n");
  EXPECT_EQ(inv.nodes.at("saturn").roles, (Roles{"web", "db", "cache"}));
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(InventoryTest, MissingTopologyWarnsFileNotFoundAtLineZero) {
  TempDir dir;
  Inventory inv = LoadInventory(dir.path());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].file, "inventory/topology.yaml");
  EXPECT_EQ(inv.warnings[0].line, 0);
  EXPECT_EQ(inv.warnings[0].message, "file not found");
  EXPECT_TRUE(inv.nodes.empty());
}

TEST(InventoryTest, MissingCheckoutIsJustAMissingTopology) {
  Inventory inv = LoadInventory("/nonexistent/hlo-checkout");
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].message, "file not found");
}

TEST(InventoryTest, MissingHostsFolderIsNotAWarning) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes: [saturn]\n");
  EXPECT_TRUE(inv.warnings.empty());
  EXPECT_TRUE(inv.services.empty());
}

TEST(InventoryTest, TopologyThatIsAFolderWarns) {
  TempDir dir;
  dir.Write("inventory/topology.yaml/x", "");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(HasWarning(inv, kTopology, 0, "not a regular file"));
}

TEST(InventoryTest, SyntaxErrorWarnsWithOneBasedLineAndSkipsFile) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - saturn\n  - [jupiter\n");
  EXPECT_TRUE(inv.nodes.empty());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].file, kTopology);
  EXPECT_GE(inv.warnings[0].line, 3);  // yaml-cpp reports where it gave up
  EXPECT_NE(inv.warnings[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(InventoryTest, TabIndentationIsASyntaxErrorOnItsLine) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - name: saturn\n\troles: [nas]\n");
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].line, 3);
}

TEST(InventoryTest, EmptyTopologyWarns) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "");
  EXPECT_TRUE(HasWarning(inv, kTopology, 0, "empty"));
}

TEST(InventoryTest, TopologyWithoutNodesKeyWarns) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "hosts: [saturn]\n");
  EXPECT_TRUE(HasWarning(inv, kTopology, 1, "no `nodes:` key"));
  EXPECT_TRUE(inv.nodes.empty());
}

TEST(InventoryTest, EmptyNodesKeyIsNoNodesWithoutWarning) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n");
  EXPECT_TRUE(inv.warnings.empty());
  EXPECT_TRUE(inv.nodes.empty());
}

TEST(InventoryTest, ScalarNodesWarnsWithItsLine) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "# topology\nnodes: saturn\n");
  EXPECT_TRUE(inv.nodes.empty());
  EXPECT_TRUE(HasWarning(inv, kTopology, 2, "`nodes:` is a single value"));
}

TEST(InventoryTest, EntryWithoutNameIsSkippedAndOthersKept) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  - name: saturn\n"
                                   "  - roles: [web]\n"
                                   "  - name: jupiter\n");
  EXPECT_EQ(inv.nodes.size(), 2u);
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].line, 3);
  EXPECT_NE(inv.warnings[0].message.find("no `name:`"), std::string::npos);
}

TEST(InventoryTest, NestedListEntryIsSkippedWithItsLine) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - saturn\n  - [a, b]\n  - jupiter\n");
  EXPECT_EQ(inv.nodes.size(), 2u);
  EXPECT_TRUE(HasWarning(inv, kTopology, 3, "node entry is a list"));
}

TEST(InventoryTest, RoleThatIsAMapIsDroppedWithItsLine) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  - name: saturn\n"
                                   "    roles:\n"
                                   "      - nas\n"
                                   "      - {kind: media}\n"
                                   "      - backup\n");
  EXPECT_EQ(inv.nodes.at("saturn").roles, (Roles{"nas", "backup"}));
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].line, 5);
  EXPECT_NE(inv.warnings[0].message.find("role"), std::string::npos);
}

TEST(InventoryTest, RolesThatAreAMapAreIgnoredButNodeKept) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - name: saturn\n    roles: {a: b}\n");
  EXPECT_TRUE(inv.HasNode("saturn"));
  EXPECT_TRUE(inv.nodes.at("saturn").roles.empty());
  EXPECT_TRUE(HasWarning(inv, kTopology, 3, "roles of node 'saturn'"));
}

TEST(InventoryTest, MalformedLabelsAndAddressAreIgnoredWithWarnings) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  - name: saturn\n"
                                   "    address: [1, 2]\n"
                                   "    labels:\n"
                                   "      good: yes\n"
                                   "      bad: [x]\n"
                                   "      empty:\n");
  const InventoryNode& saturn = inv.nodes.at("saturn");
  EXPECT_EQ(saturn.address, "");
  EXPECT_EQ(saturn.labels,
            (std::map<std::string, std::string>{{"good", "yes"}, {"empty", ""}}));
  EXPECT_TRUE(HasWarning(inv, kTopology, 3, "address"));
  EXPECT_TRUE(HasWarning(inv, kTopology, 6, "label"));
  EXPECT_EQ(inv.warnings.size(), 2u);
}

TEST(InventoryTest, LabelsThatAreAListAreIgnored) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - name: saturn\n    labels: [a]\n");
  EXPECT_TRUE(inv.nodes.at("saturn").labels.empty());
  EXPECT_TRUE(HasWarning(inv, kTopology, 3, "labels"));
}

struct BadNameCase {
  std::string label;
  std::string yaml_name;  // as written in the YAML (quoted where needed)
  std::string fragment;
};

class InventoryBadNameTest : public ::testing::TestWithParam<BadNameCase> {};

TEST_P(InventoryBadNameTest, NodeIsSkippedWithWarningOnItsLine) {
  TempDir dir;
  Inventory inv = LoadTopologyText(
      dir, "nodes:\n  - name: ok\n  - name: " + GetParam().yaml_name + "\n  - other\n");
  EXPECT_EQ(inv.nodes.size(), 2u);
  EXPECT_TRUE(inv.HasNode("ok"));
  EXPECT_TRUE(inv.HasNode("other"));
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].line, 3);
  EXPECT_NE(inv.warnings[0].message.find(GetParam().fragment), std::string::npos)
      << inv.warnings[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, InventoryBadNameTest,
    ::testing::Values(BadNameCase{"Slash", "a/b", "contains '/'"},
                      BadNameCase{"ControlCharacter", "\"a\\tb\"", "control character"},
                      BadNameCase{"Delete", "\"a\\x7Fb\"", "control character"},
                      BadNameCase{"TooLong", std::string(254, 'x'), "longer than 253"},
                      BadNameCase{"Empty", "''", "is empty"},
                      BadNameCase{"NotUtf8", "\"\xff\"", ""},
                      BadNameCase{"Map", "{a: b}", "expected a string"}),
    [](const ::testing::TestParamInfo<BadNameCase>& info) { return info.param.label; });

TEST(InventoryTest, NameOf253BytesIsAccepted) {
  TempDir dir;
  const std::string name(253, 'x');
  Inventory inv = LoadTopologyText(dir, "nodes:\n  - " + name + "\n");
  EXPECT_TRUE(inv.warnings.empty());
  EXPECT_TRUE(inv.HasNode(name));
}

TEST(InventoryTest, DuplicateNodesMergeRolesWithWarning) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  - name: saturn\n"
                                   "    roles: [nas, web]\n"
                                   "    address: 10.0.0.5\n"
                                   "  - name: jupiter\n"
                                   "  - name: saturn\n"
                                   "    roles: [web, backup]\n"
                                   "    address: 10.0.0.9\n");
  ASSERT_EQ(inv.nodes.size(), 2u);
  EXPECT_EQ(inv.nodes.at("saturn").roles, (Roles{"nas", "web", "backup"}));
  EXPECT_EQ(inv.nodes.at("saturn").address, "10.0.0.5");  // first declaration wins
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].line, 6);
  EXPECT_NE(inv.warnings[0].message.find("first at line 2"), std::string::npos);
}

TEST(InventoryTest, DuplicateKeysInMapFormMerge) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir,
                                   "nodes:\n"
                                   "  saturn: {roles: [nas]}\n"
                                   "  saturn: {roles: [web]}\n");
  EXPECT_EQ(inv.nodes.at("saturn").roles, (Roles{"nas", "web"}));
  EXPECT_TRUE(HasWarning(inv, kTopology, 3, "more than once"));
}

TEST(InventoryTest, SelfReferencingAliasIsRejectedNotLooped) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes: &x [*x, saturn]\n");
  EXPECT_TRUE(inv.HasNode("saturn"));
  EXPECT_EQ(inv.warnings.size(), 1u);
}

TEST(InventoryTest, DeepNestingIsAWarningNotACrash) {
  TempDir dir;
  Inventory inv = LoadTopologyText(dir, "nodes: " + std::string(100000, '['));
  EXPECT_TRUE(inv.nodes.empty());
  EXPECT_EQ(WarningsFor(inv, kTopology).size(), 1u);
  EXPECT_TRUE(HasWarning(inv, kTopology, 1, "nested too deeply"));
}

// ---- services.yaml ----

TEST(InventoryTest, ServicesAcceptListOfNamesListOfMapsAndMap) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn, jupiter, mars]\n");
  dir.Write("hosts/saturn/services.yaml", "services:\n  - jellyfin\n  - samba\n");
  dir.Write("hosts/jupiter/services.yaml",
            "services:\n  - name: nginx\n    port: 443\n  - name: postgres\n");
  dir.Write("hosts/mars/services.yaml",
            "services:\n  grafana: {port: 3000}\n  loki:\n  prometheus: [x]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(inv.warnings.empty()) << inv.warnings[0].file << ":" << inv.warnings[0].message;
  EXPECT_EQ(inv.services.at("saturn"), (std::set<std::string>{"jellyfin", "samba"}));
  EXPECT_EQ(inv.services.at("jupiter"), (std::set<std::string>{"nginx", "postgres"}));
  EXPECT_EQ(inv.services.at("mars"), (std::set<std::string>{"grafana", "loki", "prometheus"}));
}

TEST(InventoryTest, ServicesFileMakesItsNodeAnInventoryNode) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn]\n");
  dir.Write("hosts/pluto/services.yaml", "services: [dns]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(inv.warnings.empty());
  ASSERT_TRUE(inv.HasNode("pluto"));
  EXPECT_EQ(inv.nodes.at("pluto").name, "pluto");
  EXPECT_TRUE(inv.nodes.at("pluto").roles.empty());
  EXPECT_TRUE(inv.HasService("pluto", "dns"));
}

TEST(InventoryTest, ServicesFileDoesNotChangeTopologyRoles) {
  TempDir dir;
  dir.Write(kTopology, "nodes:\n  - name: saturn\n    roles: [nas]\n");
  dir.Write("hosts/saturn/services.yaml", "services: [samba]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_EQ(inv.nodes.at("saturn").roles, Roles{"nas"});
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(InventoryTest, HostFoldersWithoutServicesFileOrHiddenAreIgnored) {
  TempDir dir;
  dir.Write(kTopology, "nodes: []\n");
  dir.Write("hosts/.template/services.yaml", "services: [x]\n");
  dir.Write("hosts/notes/README.md", "hello\n");
  dir.Write("hosts/stray.yaml", "services: [x]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(inv.nodes.empty());
  EXPECT_TRUE(inv.services.empty());
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(InventoryTest, BrokenServicesFileWarnsWithLineAndKeepsOthers) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn, jupiter]\n");
  dir.Write("hosts/saturn/services.yaml", "services:\n  - samba\n  - [oops\n");
  dir.Write("hosts/jupiter/services.yaml", "services: [nginx]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(inv.HasService("jupiter", "nginx"));
  EXPECT_FALSE(inv.HasService("saturn", "samba"));  // the whole file is skipped
  EXPECT_TRUE(inv.HasNode("saturn"));
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].file, "hosts/saturn/services.yaml");
  EXPECT_GE(inv.warnings[0].line, 3);
}

TEST(InventoryTest, BadServiceEntriesAreSkippedWithTheirLines) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn]\n");
  dir.Write("hosts/saturn/services.yaml",
            "services:\n"
            "  - samba\n"
            "  - port: 80\n"
            "  - a/b\n"
            "  - {name: [x]}\n"
            "  - jellyfin\n"
            "  - samba\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_EQ(inv.services.at("saturn"), (std::set<std::string>{"jellyfin", "samba"}));
  const std::string file = "hosts/saturn/services.yaml";
  EXPECT_TRUE(HasWarning(inv, file, 3, "no `name:`"));
  EXPECT_TRUE(HasWarning(inv, file, 4, "contains '/'"));
  EXPECT_TRUE(HasWarning(inv, file, 5, "expected a string"));
  EXPECT_TRUE(HasWarning(inv, file, 7, "more than once"));
  EXPECT_EQ(inv.warnings.size(), 4u);
}

TEST(InventoryTest, ServicesFileWithScalarServicesWarns) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn]\n");
  dir.Write("hosts/saturn/services.yaml", "services: samba\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(HasWarning(inv, "hosts/saturn/services.yaml", 1, "`services:` is a single value"));
  EXPECT_TRUE(inv.services.at("saturn").empty());
}

TEST(InventoryTest, ServicesFileWithoutServicesKeyWarns) {
  TempDir dir;
  dir.Write(kTopology, "nodes: [saturn]\n");
  dir.Write("hosts/saturn/services.yaml", "- samba\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(HasWarning(inv, "hosts/saturn/services.yaml", 1, "top level is a list"));
}

TEST(InventoryTest, HostFolderWithInvalidNodeNameWarns) {
  TempDir dir;
  dir.Write(kTopology, "nodes: []\n");
  dir.Write("hosts/bad\x01name/services.yaml", "services: [x]\n");
  Inventory inv = LoadInventory(dir.path());
  EXPECT_TRUE(inv.nodes.empty());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0].file, "hosts/bad\\x01name/services.yaml");
  EXPECT_NE(inv.warnings[0].message.find("control character"), std::string::npos);
}

TEST(InventoryTest, HasServiceNeedsBothNodeAndService) {
  Inventory inv;
  inv.services["saturn"] = {"samba"};
  EXPECT_TRUE(inv.HasService("saturn", "samba"));
  EXPECT_FALSE(inv.HasService("saturn", "nginx"));
  EXPECT_FALSE(inv.HasService("jupiter", "samba"));
}

}  // namespace
}  // namespace hlo
