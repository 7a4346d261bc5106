// Keys, certificates and a TLS client for tests of the HTTP server's TLS,
// made in-process with OpenSSL (EC P-256, quick). Header-only.
#pragma once

#include <arpa/inet.h>
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

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "exporter/web_config.h"

namespace hlo::fakes {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

inline Key NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
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
inline Cert NewCert(const std::string& cn, EVP_PKEY* key, bool is_ca, X509* issuer = nullptr,
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

inline std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

inline std::string Pem(EVP_PKEY* key, const char* passphrase = nullptr) {
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
inline std::optional<std::string> TlsGet(int port, const std::string& path, const ClientOptions& o = {},
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

inline int StatusOf(const std::optional<std::string>& response) {
  if (!response || response->rfind("HTTP/1.", 0) != 0) return 0;
  return std::stoi(response->substr(9, 3));
}

// The CN of the certificate the server at 127.0.0.1:port presents to a
// new TLS connection; "" when the handshake fails.
inline std::string ServedCommonName(int port) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string cn;
  SSL* ssl = SSL_new(ctx.get());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && SSL_set_fd(ssl, fd) &&
      SSL_connect(ssl) == 1) {
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char text[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, text, sizeof text);
      cn = text;
      X509_free(cert);
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  return cn;
}

}  // namespace hlo::fakes
