// SIGHUP's reload (ReloadConfig): all or nothing over the inventory and the
// web config, with a web part that is a plain function here (the real
// HttpServer::Reconfigure is tls_acceptor_test.cc's).
#include "exporter/config_reload.h"

#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

// "alice:wonderland", cost 4.
constexpr char kAliceHash[] = "$2b$04$RbUpxOo7fxYKY.jupWKpgOlFW9UD9UPaOauB.0vRBpJInmlv8Uocu";

class ConfigReloadTest : public ::testing::Test {
 protected:
  ConfigReloadTest() {
    dir_.Write("checkout/inventory/topology.yaml", "nodes: [saturn]\n");
    keeper_ = std::make_unique<InventoryKeeper>(dir_.path() / "checkout");
    web_file_ = dir_.Write("web.yml", std::string("basic_auth_users:\n  alice: ") + kAliceHash + "\n");
    // Hashes readable by everyone would add a warning to the log.
    std::filesystem::permissions(web_file_, std::filesystem::perms::owner_read |
                                                std::filesystem::perms::owner_write);
  }

  ReloadTargets Targets() {
    ReloadTargets t;
    t.inventory = keeper_.get();
    t.web_config_file = web_file_;
    t.apply_web = [this](const WebConfig& web, std::string* error) {
      if (refuse_apply_) {
        *error = "TLS: key_file k.pem does not match cert_file c.pem";
        return false;
      }
      applied_.push_back(web);
      return true;
    };
    return t;
  }

  static bool Mentions(const ReloadOutcome& o, const std::string& text) {
    for (const std::string& line : o.log) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<InventoryKeeper> keeper_;
  std::filesystem::path web_file_;
  std::vector<WebConfig> applied_;
  bool refuse_apply_ = false;
};

TEST_F(ConfigReloadTest, GoodFilesAreAllPutInUse) {
  dir_.Write("checkout/inventory/topology.yaml", "nodes: [saturn, jupiter]\n");
  const ReloadOutcome o = ReloadConfig(Targets());
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(keeper_->current()->nodes.size(), 2u);
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].basic_auth_users.count("alice"), 1u);
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_TRUE(Mentions(o, "reloaded inventory")) << o.log[0];
  EXPECT_TRUE(Mentions(o, "(2 nodes)")) << o.log[0];
  EXPECT_TRUE(Mentions(o, "web config " + web_file_.string() + " (plain HTTP, 1 basic-auth user)"))
      << o.log[0];
}

TEST_F(ConfigReloadTest, BrokenWebConfigKeepsTheOldInventoryToo) {
  dir_.Write("checkout/inventory/topology.yaml", "nodes: [saturn, jupiter]\n");
  dir_.Write("web.yml", "basic_auth_users:\n  alice: not-a-hash\n");
  const ReloadOutcome o = ReloadConfig(Targets());
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(keeper_->current()->nodes.size(), 1u);
  EXPECT_TRUE(applied_.empty());
  EXPECT_TRUE(Mentions(o, "reload failed; the configuration in use stays (1 problem):"));
  EXPECT_TRUE(Mentions(o, "web config " + web_file_.string() + ":2:")) << o.log.back();
}

TEST_F(ConfigReloadTest, BrokenInventoryKeepsTheOldWebConfigToo) {
  dir_.Write("checkout/inventory/topology.yaml", "nodes: [saturn\n");
  const ReloadOutcome o = ReloadConfig(Targets());
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(keeper_->current()->nodes.size(), 1u);
  EXPECT_TRUE(Mentions(o, (dir_.path() / "checkout" / "inventory" / "topology.yaml").string()));
}

TEST_F(ConfigReloadTest, CertificateTheServerRefusesKeepsTheOldInventory) {
  dir_.Write("checkout/inventory/topology.yaml", "nodes: [saturn, jupiter]\n");
  refuse_apply_ = true;
  const ReloadOutcome o = ReloadConfig(Targets());
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(keeper_->current()->nodes.size(), 1u);
  EXPECT_TRUE(Mentions(o, "does not match")) << o.log.back();
}

TEST_F(ConfigReloadTest, MissingWebConfigFileIsAProblemNamingIt) {
  std::filesystem::remove(web_file_);
  const ReloadOutcome o = ReloadConfig(Targets());
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o, web_file_.string()));
}

TEST_F(ConfigReloadTest, RefusedWebConfigIsAProblem) {
  ReloadTargets t = Targets();
  t.refuse_web = [](const WebConfig&) -> std::optional<std::string> {
    return "ingestion off loopback needs basic_auth_users";
  };
  const ReloadOutcome o = ReloadConfig(t);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(applied_.empty());
  EXPECT_TRUE(Mentions(o, "needs basic_auth_users"));
}

TEST(ConfigReloadWithoutFilesTest, NothingToReloadSucceeds) {
  InventoryKeeper none(std::nullopt);
  ReloadTargets t;
  t.inventory = &none;
  const ReloadOutcome o = ReloadConfig(t);
  EXPECT_TRUE(o.ok);
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "reloaded nothing (no --inventory, no --web.config.file)");
}

}  // namespace
}  // namespace hlo
