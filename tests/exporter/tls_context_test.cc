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

namespace hlo {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid failed");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key, or
// self-signed when they are null.
Cert NewCert(const std::string& cn, EVP_PKEY* key, bool is_ca, X509* issuer = nullptr,
             EVP_PKEY* issuer_key = nullptr) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  AddExtension(cert.get(), signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (!is_ca) AddExtension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1");
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  return cert;
}

std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string Pem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, passphrase ? EVP_aes_256_cbc() : nullptr, nullptr, 0, nullptr,
                           const_cast<char*>(passphrase));
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// A CA, a server certificate from it, and a client certificate from it.
struct Pki {
  Key ca_key = NewKey();
  Cert ca = NewCert("test CA", ca_key.get(), true);
  Key server_key = NewKey();
  Cert server = NewCert("127.0.0.1", server_key.get(), false, ca.get(), ca_key.get());
  Key client_key = NewKey();
  Cert client = NewCert("scraper", client_key.get(), false, ca.get(), ca_key.get());

  TlsServerConfig ServerConfig() const {
    TlsServerConfig tls;
    tls.cert_pem = Pem(server.get()) + Pem(ca.get());  // leaf, then chain
    tls.key_pem = Pem(server_key.get());
    return tls;
  }
};

struct ClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  X509* trust = nullptr;  // verify the server against this CA when set
};

// GET `path` over TLS; the whole response, or nullopt when the handshake
// or the exchange fails (a refused version, a missing client certificate).
std::optional<std::string> TlsGet(int port, const std::string& path, const ClientOptions& o = {},
                                  const std::string& headers = "") {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx.get(), o.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), o.max_version);
  if (o.cert != nullptr) {
    SSL_CTX_use_certificate(ctx.get(), o.cert);
    SSL_CTX_use_PrivateKey(ctx.get(), o.key);
  }
  if (o.trust != nullptr) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), o.trust);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<std::string> result;
  SSL* ssl = SSL_new(ctx.get());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && SSL_set_fd(ssl, fd) &&
      SSL_connect(ssl) == 1) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n";
    if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      std::string response;
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
      if (!response.empty()) result = response;
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  return result;
}

int StatusOf(const std::optional<std::string>& response) {
  if (!response || response->rfind("HTTP/1.", 0) != 0) return 0;
  return std::stoi(response->substr(9, 3));
}

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
