// SIGHUP on the real program (issue 12): reloads the web config (a renewed
// certificate, basic-auth users) and the inventory without a restart; a
// broken config keeps the old one, is logged naming the file and line, and
// is counted; SIGHUP no longer kills the daemon.
#include <gtest/gtest.h>

#include "tests/integration/tls_daemon.h"

namespace hlo::testing {
namespace {

// "alice:wonderland", cost 4.
constexpr char kAliceHash[] = "$2b$04$RbUpxOo7fxYKY.jupWKpgOlFW9UD9UPaOauB.0vRBpJInmlv8Uocu";
constexpr char kAlice[] = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n";

double Reloads(const std::vector<Sample>& m, const std::string& result) {
  return Value(m, "homelab_observer_config_reloads_total", {{"result", result}}).value_or(-1);
}

TEST(ReloadTest, SighupServesTheRenewedCertificateToNewConnections) {
  const TlsIdentity first("first.example"), second("second.example");
  TlsDaemon daemon(first);
  ASSERT_GT(daemon.port(), 0) << daemon.Err();
  EXPECT_EQ(fakes::ServedCommonName(daemon.port()), "first.example");
  const std::vector<Sample> before = daemon.Metrics();
  EXPECT_EQ(Value(before, "homelab_observer_config_reload_success"), 1);
  EXPECT_GT(Value(before, "homelab_observer_config_last_reload_success_timestamp_seconds")
                .value_or(0),
            1.7e9);
  EXPECT_EQ(Reloads(before, "success"), 0);

  daemon.WriteIdentity(second);  // certbot's renewal
  daemon.child().Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return fakes::ServedCommonName(daemon.port()) == "second.example"; },
                        Millis(10000), Millis(50)))
      << daemon.Err();
  ASSERT_TRUE(daemon.child().Running()) << daemon.Err();
  EXPECT_NE(daemon.Err().find("SIGHUP: reloaded inventory"), std::string::npos) << daemon.Err();
  EXPECT_NE(daemon.Err().find("subject CN=second.example"), std::string::npos) << daemon.Err();
  EXPECT_TRUE(WaitUntil([&] { return Reloads(daemon.Metrics(), "success") == 1; }, Millis(5000)))
      << daemon.Err();
  EXPECT_EQ(Reloads(daemon.Metrics(), "failure"), 0);
}

TEST(ReloadTest, BrokenConfigKeepsTheOldOneLogsWhereAndIsCounted) {
  const TlsIdentity first("first.example");
  TlsDaemon daemon(first);
  ASSERT_GT(daemon.port(), 0) << daemon.Err();
  daemon.WriteWebConfig("tls_server_config:\n  cert_file: cert.pem\n  key_fil: key.pem\n");
  daemon.child().Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return Reloads(daemon.Metrics(), "failure") == 1; }, Millis(10000)))
      << daemon.Err();
  const std::vector<Sample> m = daemon.Metrics();
  EXPECT_EQ(Value(m, "homelab_observer_config_reload_success"), 0);
  EXPECT_EQ(Reloads(m, "success"), 0);
  EXPECT_EQ(fakes::ServedCommonName(daemon.port()), "first.example");
  EXPECT_NE(daemon.Err().find("SIGHUP: reload failed; the configuration in use stays"),
            std::string::npos)
      << daemon.Err();
  EXPECT_NE(daemon.Err().find(daemon.web_config().string() + ":3:"), std::string::npos)
      << daemon.Err();

  // Fixed: the next SIGHUP succeeds and the gauge comes back.
  daemon.WriteWebConfig("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n");
  daemon.child().Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return Reloads(daemon.Metrics(), "success") == 1; }, Millis(10000)))
      << daemon.Err();
  EXPECT_EQ(Value(daemon.Metrics(), "homelab_observer_config_reload_success"), 1);
}

TEST(ReloadTest, CertificateNotMatchingItsKeyIsRefused) {
  const TlsIdentity first("first.example"), second("second.example");
  TlsDaemon daemon(first);
  ASSERT_GT(daemon.port(), 0) << daemon.Err();
  // A renewal caught half-way: the new certificate, the old key.
  WriteFile(daemon.web_config().parent_path() / "cert.pem", second.CertPem());
  daemon.child().Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return Reloads(daemon.Metrics(), "failure") == 1; }, Millis(10000)))
      << daemon.Err();
  EXPECT_EQ(fakes::ServedCommonName(daemon.port()), "first.example");
  EXPECT_NE(daemon.Err().find("does not match"), std::string::npos) << daemon.Err();
}

TEST(ReloadTest, BasicAuthUsersChangeWithoutARestart) {
  const TlsIdentity first("first.example");
  TlsDaemon daemon(first);
  ASSERT_GT(daemon.port(), 0) << daemon.Err();
  EXPECT_EQ(fakes::StatusOf(daemon.Get("/metrics")), 200);
  daemon.WriteWebConfig(std::string("tls_server_config:\n  cert_file: cert.pem\n"
                                    "  key_file: key.pem\nbasic_auth_users:\n  alice: ") +
                        kAliceHash + "\n");
  daemon.child().Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return fakes::StatusOf(daemon.Get("/metrics")) == 401; },
                        Millis(10000), Millis(50)))
      << daemon.Err();
  EXPECT_EQ(fakes::StatusOf(daemon.Get("/metrics", kAlice)), 200);
}

TEST(ReloadTest, SighupReloadsTheInventory) {
  TempDir dir;
  CopyExample(dir.path() / "homelab");
  const fs::path home = dir.path() / "homelab";
  DaemonProcess daemon(home, {"--inventory", home.string()});
  ASSERT_EQ(daemon.Start(), "");
  const double nodes_before =
      Sum(daemon.Metrics(), "homelab_node_role", {}).value_or(0);
  AppendFile(home / "inventory" / "topology.yaml",
             "  neptune:\n    roles: [backup]\n");
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& m) {
        return Value(m, "homelab_node_role", {{"node", "neptune"}, {"role", "backup"}}) == 1;
      },
      Millis(10000)))
      << daemon.Err();
  EXPECT_GT(Sum(daemon.Metrics(), "homelab_node_role", {}).value_or(0), nodes_before);
  // The daemon also reloads an edited inventory by itself; the log tells
  // that this SIGHUP read it too.
  EXPECT_TRUE(WaitUntil([&] { return daemon.Err().find("SIGHUP: reloaded inventory") !=
                                     std::string::npos; },
                        Millis(5000)))
      << daemon.Err();
  EXPECT_EQ(Value(daemon.Metrics(), "homelab_observer_config_reloads_total", {{"result", "success"}}),
            1);
  EXPECT_EQ(daemon.Stop().exit_code, 0) << daemon.Err();
}

TEST(ReloadTest, SighupWithoutConfigFilesNeitherKillsNorFails) {
  TempDir dir;
  CopyExample(dir.path() / "homelab");
  DaemonProcess daemon(dir.path() / "homelab");
  ASSERT_EQ(daemon.Start(), "");
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& m) {
        return Value(m, "homelab_observer_config_reloads_total", {{"result", "success"}}) == 1;
      },
      Millis(10000)))
      << daemon.Err();
  EXPECT_TRUE(daemon.Running());
  EXPECT_NE(daemon.Err().find("SIGHUP: reloaded nothing"), std::string::npos) << daemon.Err();
  EXPECT_EQ(daemon.Stop().exit_code, 0) << daemon.Err();
}

}  // namespace
}  // namespace hlo::testing
