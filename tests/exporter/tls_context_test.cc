// NewServerTlsContext, and HttpServer serving TLS through it: versions,
// client certificates, and what a plain-HTTP client gets. Keys and
// certificates are made here with OpenSSL (EC P-256, quick).
#include "exporter/tls_context.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "exporter/http_server.h"
#include "tests/fakes/test_pki.h"

namespace hlo {
namespace {

using fakes::Cert;
using fakes::ClientOptions;
using fakes::Key;
using fakes::NewCert;
using fakes::NewKey;
using fakes::Pem;
using fakes::Pki;
using fakes::StatusOf;
using fakes::TlsGet;

HttpHandlers Handlers() {
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string("homelab_node_up{node=\"nas\"} 1\n"); };
  handlers.ready = [] { return true; };
  return handlers;
}

std::unique_ptr<HttpServer> MustStartTls(const TlsServerConfig& tls,
                                         std::map<std::string, std::string> users = {}) {
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.num_threads = 2;
  options.web.tls = tls;
  options.web.basic_auth_users = std::move(users);
  std::string error;
  auto server = HttpServer::Start(options, Handlers(), &error);
  if (server == nullptr) throw std::runtime_error("Start failed: " + error);
  return server;
}

TEST(TlsContextTest, BuildsFromAChainAndItsKey) {
  const Pki pki;
  std::string error;
  EXPECT_NE(NewServerTlsContext(pki.ServerConfig(), &error), nullptr) << error;
}

TEST(TlsContextTest, SaysWhatIsWrongWithTheCertificateOrKey) {
  const Pki pki;
  const struct {
    std::function<void(TlsServerConfig&)> change;
    std::string message;
  } cases[] = {
      {[](TlsServerConfig& t) { t.cert_pem = "not a certificate"; },
       "cert: no PEM certificate found"},
      {[](TlsServerConfig& t) {
         t.cert_pem = "";
         t.cert_file = "/etc/hlo/c.pem";
       },
       "cert_file /etc/hlo/c.pem: no PEM certificate found"},
      {[](TlsServerConfig& t) { t.key_pem = "garbage"; },
       "key: no unencrypted PEM private key found"},
      {[&](TlsServerConfig& t) { t.key_pem = Pem(pki.client_key.get()); },
       "key does not match cert"},
      {[&](TlsServerConfig& t) {
         t.key_pem = Pem(pki.server_key.get(), "passphrase");
         t.key_file = "/etc/hlo/k.pem";
       },
       "key_file /etc/hlo/k.pem: no unencrypted PEM private key found"},
      {[](TlsServerConfig& t) {
         t.client_auth = ClientAuth::kRequireAndVerifyClientCert;
         t.client_ca_pem = "nothing";
       },
       "client_ca: no PEM certificate found"},
  };
  for (const auto& c : cases) {
    TlsServerConfig tls = pki.ServerConfig();
    c.change(tls);
    std::string error;
    EXPECT_EQ(NewServerTlsContext(tls, &error), nullptr) << c.message;
    EXPECT_EQ(error.rfind(c.message, 0), 0u) << "got: " << error << "\nwant: " << c.message;
  }
}

TEST(TlsContextTest, StartFailsOnABadCertificateNamingIt) {
  TlsServerConfig tls = Pki().ServerConfig();
  tls.cert_pem = "x";
  tls.cert_file = "/srv/c.pem";
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.web.tls = tls;
  std::string error;
  EXPECT_EQ(HttpServer::Start(options, Handlers(), &error), nullptr);
  EXPECT_EQ(error,
            "cannot listen on 127.0.0.1:0: TLS: cert_file /srv/c.pem: no PEM certificate found");
}

TEST(HttpServerTlsTest, ServesTls12AndTls13ByDefault) {
  const Pki pki;
  const auto server = MustStartTls(pki.ServerConfig());
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions o;
    o.min_version = o.max_version = version;
    o.trust = pki.ca.get();
    const auto response = TlsGet(server->port(), "/metrics", o);
    EXPECT_EQ(StatusOf(response), 200) << version;
    EXPECT_NE(response.value_or("").find("homelab_node_up{node=\"nas\"} 1"), std::string::npos);
  }
}

TEST(HttpServerTlsTest, MinVersionTls13RefusesTls12) {
  const Pki pki;
  TlsServerConfig tls = pki.ServerConfig();
  tls.min_version = TlsVersion::kTls13;
  const auto server = MustStartTls(tls);
  ClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  EXPECT_EQ(TlsGet(server->port(), "/healthz", tls12), std::nullopt);
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz")), 200);
}

TEST(HttpServerTlsTest, MaxVersionTls12RefusesTls13Only) {
  const Pki pki;
  TlsServerConfig tls = pki.ServerConfig();
  tls.max_version = TlsVersion::kTls12;
  const auto server = MustStartTls(tls);
  ClientOptions tls13;
  tls13.min_version = TLS1_3_VERSION;
  EXPECT_EQ(TlsGet(server->port(), "/healthz", tls13), std::nullopt);
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz")), 200);
}

TEST(HttpServerTlsTest, PlainHttpGetsNoHttpAnswer) {
  const auto server = MustStartTls(Pki().ServerConfig());
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string received;
  char buf[1024];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) received.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(received.find("HTTP/1."), std::string::npos) << received;
  EXPECT_EQ(received.find("homelab_node_up"), std::string::npos);
}

TEST(HttpServerTlsTest, BasicAuthWorksOverTls) {
  const Pki pki;
  // "alice:wonderland"; a cost-4 hash made by Python's crypt (libxcrypt).
  const auto server =
      MustStartTls(pki.ServerConfig(),
                   {{"alice", "$2b$04$RbUpxOo7fxYKY.jupWKpgOlFW9UD9UPaOauB.0vRBpJInmlv8Uocu"}});
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics")), 401);
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/metrics", {},
                            "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n")),
            200);
}

TEST(HttpServerTlsTest, RequireAndVerifyClientCertWantsACertFromTheCa) {
  const Pki pki;
  TlsServerConfig tls = pki.ServerConfig();
  tls.client_auth = ClientAuth::kRequireAndVerifyClientCert;
  tls.client_ca_pem = Pem(pki.ca.get());
  const auto server = MustStartTls(tls);
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions o;
    o.min_version = o.max_version = version;
    EXPECT_EQ(TlsGet(server->port(), "/healthz", o), std::nullopt) << "no client cert";
    o.cert = pki.client.get();
    o.key = pki.client_key.get();
    EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz", o)), 200) << version;
    // A self-signed client certificate is not from the CA.
    const Key stranger_key = NewKey();
    const Cert stranger = NewCert("stranger", stranger_key.get(), false);
    o.cert = stranger.get();
    o.key = stranger_key.get();
    EXPECT_EQ(TlsGet(server->port(), "/healthz", o), std::nullopt) << "foreign client cert";
  }
}

TEST(HttpServerTlsTest, RequireAnyClientCertTakesAnyCert) {
  const Pki pki;
  TlsServerConfig tls = pki.ServerConfig();
  tls.client_auth = ClientAuth::kRequireAnyClientCert;
  const auto server = MustStartTls(tls);
  EXPECT_EQ(TlsGet(server->port(), "/healthz"), std::nullopt);
  const Key stranger_key = NewKey();
  const Cert stranger = NewCert("stranger", stranger_key.get(), false);
  ClientOptions o;
  o.cert = stranger.get();
  o.key = stranger_key.get();
  EXPECT_EQ(StatusOf(TlsGet(server->port(), "/healthz", o)), 200);
}

}  // namespace
}  // namespace hlo
