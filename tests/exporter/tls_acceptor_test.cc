// HttpServer::Reconfigure over TLS (a renewed certificate for new
// connections, open ones untouched, all-or-nothing refusals) and the TLS
// handshake deadline of TlsAcceptor, on a real server and real sockets.
#include "exporter/tls_acceptor.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <thread>

#include "exporter/http_server.h"
#include "tests/fakes/test_pki.h"

namespace hlo {
namespace {

using namespace std::chrono_literals;
using fakes::Cert;
using fakes::Key;
using fakes::NewCert;
using fakes::NewKey;
using fakes::Pem;
using fakes::ServedCommonName;
using fakes::StatusOf;
using fakes::TlsGet;

// "alice:wonderland", cost 4 (as in tls_context_test.cc).
constexpr char kAliceHash[] = "$2b$04$RbUpxOo7fxYKY.jupWKpgOlFW9UD9UPaOauB.0vRBpJInmlv8Uocu";
constexpr char kAlice[] = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n";

struct Identity {
  Key key = NewKey();
  Cert cert;
  explicit Identity(const std::string& cn) : cert(NewCert(cn, key.get(), false)) {}
  TlsServerConfig Config() const {
    TlsServerConfig tls;
    tls.cert_pem = Pem(cert.get());
    tls.key_pem = Pem(key.get());
    return tls;
  }
};

std::unique_ptr<HttpServer> StartTls(const WebConfig& web, int handshake_timeout_ms = 5000) {
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.num_threads = 2;
  options.tls_handshake_timeout_ms = handshake_timeout_ms;
  options.web = web;
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string("homelab_node_up{node=\"nas\"} 1\n"); };
  handlers.ready = [] { return true; };
  std::string error;
  auto server = HttpServer::Start(options, std::move(handlers), &error);
  if (server == nullptr) throw std::runtime_error("Start failed: " + error);
  return server;
}

WebConfig TlsWeb(const Identity& id) {
  WebConfig web;
  web.tls = id.Config();
  return web;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Seconds until the server closes `fd` (reads EOF or a reset), at most `limit`.
double SecondsUntilClosed(int fd, std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  char buf[512];
  while (poll(&p, 1, static_cast<int>(limit.count())) > 0) {
    if (recv(fd, buf, sizeof buf, 0) <= 0) break;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(TlsReloadTest, NewConnectionsGetTheNewCertificate) {
  const Identity old_id("old.example"), new_id("new.example");
  const auto server = StartTls(TlsWeb(old_id));
  EXPECT_EQ(ServedCommonName(server->port()), "old.example");
  std::string error;
  ASSERT_TRUE(server->Reconfigure(TlsWeb(new_id), &error)) << error;
  EXPECT_EQ(ServedCommonName(server->port()), "new.example");
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 200);
}

TEST(TlsReloadTest, NewCertificateAppliesToTls12AndTls13) {
  const Identity old_id("old.example"), new_id("new.example");
  const auto server = StartTls(TlsWeb(old_id));
  std::string error;
  ASSERT_TRUE(server->Reconfigure(TlsWeb(new_id), &error)) << error;
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    fakes::ClientOptions o;
    o.min_version = o.max_version = version;
    o.trust = new_id.cert.get();  // verifies that the new chain is the one sent
    EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz", o)), 200) << version;
  }
}

TEST(TlsReloadTest, NewVersionsApplyToNewHandshakes) {
  const Identity id("server");
  const auto server = StartTls(TlsWeb(id));
  WebConfig web = TlsWeb(id);
  web.tls->min_version = TlsVersion::kTls13;
  std::string error;
  ASSERT_TRUE(server->Reconfigure(web, &error)) << error;
  fakes::ClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  EXPECT_EQ(TlsGet(server->port(), "/healthz", tls12), std::nullopt);
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz")), 200);
}

TEST(TlsReloadTest, OpenConnectionKeepsWorkingAcrossTheSwap) {
  const Identity old_id("old.example"), new_id("new.example");
  const auto server = StartTls(TlsWeb(old_id));
  // A keep-alive connection established before the reload.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  const int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  SSL* ssl = SSL_new(ctx.get());
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string error;
  ASSERT_TRUE(server->Reconfigure(TlsWeb(new_id), &error)) << error;
  ASSERT_GT(SSL_write(ssl, request.data(), static_cast<int>(request.size())), 0);
  char buf[1024];
  const int n = SSL_read(ssl, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 200", 0), 0u);
  SSL_free(ssl);
  close(fd);
}

TEST(TlsReloadTest, KeyNotMatchingTheCertificateIsRefusedAndTheOldOneStays) {
  const Identity old_id("old.example"), new_id("new.example"), other("other");
  const auto server = StartTls(TlsWeb(old_id));
  WebConfig broken = TlsWeb(new_id);
  broken.tls->key_pem = Pem(other.key.get());
  broken.basic_auth_users = {{"alice", kAliceHash}};
  std::string error;
  EXPECT_FALSE(server->Reconfigure(broken, &error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  EXPECT_EQ(ServedCommonName(server->port()), "old.example");
  // All or nothing: the users of the refused config are not in use either.
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 200);
}

TEST(TlsReloadTest, TurningTlsOffOrOnNeedsARestart) {
  const Identity id("server");
  const auto server = StartTls(TlsWeb(id));
  std::string error;
  EXPECT_FALSE(server->Reconfigure(WebConfig{}, &error));
  EXPECT_NE(error.find("turning TLS off needs a restart"), std::string::npos) << error;
  EXPECT_EQ(ServedCommonName(server->port()), "server");
}

TEST(TlsReloadTest, BasicAuthUsersAreReplaced) {
  const Identity id("server");
  const auto server = StartTls(TlsWeb(id));
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 200);
  WebConfig web = TlsWeb(id);
  web.basic_auth_users = {{"alice", kAliceHash}};
  web.headers = {{"X-Frame-Options", "deny"}};
  std::string error;
  ASSERT_TRUE(server->Reconfigure(web, &error)) << error;
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 401);
  const auto ok = TlsGet(server->port(), "/metrics", {}, kAlice);
  EXPECT_EQ(StatusOf(ok), 200);
  EXPECT_NE(ok->find("X-Frame-Options: deny\r\n"), std::string::npos) << *ok;
  // And back: no users, no authentication.
  ASSERT_TRUE(server->Reconfigure(TlsWeb(id), &error)) << error;
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 200);
}

TEST(HandshakeDeadlineTest, StalledHandshakeIsCutAtTheDeadline) {
  const Identity id("server");
  const auto server = StartTls(TlsWeb(id), /*handshake_timeout_ms=*/300);
  const int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  // Three bytes of a TLS record header, then nothing.
  ASSERT_EQ(send(fd, "\x16\x03\x01", 3, MSG_NOSIGNAL), 3);
  const double held = SecondsUntilClosed(fd, 5000ms);
  close(fd);
  EXPECT_GE(held, 0.2);
  EXPECT_LT(held, 2.0) << "the handshake deadline did not cut the connection";
  EXPECT_EQ(server->handshakes_cut(), 1u);
}

TEST(HandshakeDeadlineTest, FinishedHandshakeIsNotCutLater) {
  const Identity id("server");
  const auto server = StartTls(TlsWeb(id), /*handshake_timeout_ms=*/200);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  const int fd = Connect(server->port());
  SSL* ssl = SSL_new(ctx.get());
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  std::this_thread::sleep_for(500ms);  // past the handshake deadline
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_GT(SSL_write(ssl, request.data(), static_cast<int>(request.size())), 0);
  char buf[1024];
  const int n = SSL_read(ssl, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(server->handshakes_cut(), 0u);
  SSL_free(ssl);
  close(fd);
}

TEST(HandshakeDeadlineTest, ManyStalledHandshakesDoNotDelayAScrape) {
  const Identity id("server");
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.web = TlsWeb(id);  // default threads and deadline
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string("up 1\n"); };
  handlers.ready = [] { return true; };
  std::string error;
  const auto server = HttpServer::Start(options, std::move(handlers), &error);
  ASSERT_NE(server, nullptr) << error;
  std::vector<int> stalled;
  for (int i = 0; i < 40; ++i) {
    const int fd = Connect(server->port());
    ASSERT_GE(fd, 0);
    send(fd, "\x16\x03\x01", 3, MSG_NOSIGNAL);
    stalled.push_back(fd);
  }
  std::this_thread::sleep_for(200ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 200);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  for (const int fd : stalled) close(fd);
}

}  // namespace
}  // namespace hlo
