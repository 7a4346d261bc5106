#include "exporter/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <limits>
#include <vector>

namespace hlo {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// Keys must be unencrypted: without this, OpenSSL would prompt for a
// passphrase on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// OpenSSL's last queued error as text, or `fallback`; clears the queue.
std::string OpenSslError(const std::string& fallback) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return fallback + " (" + text + ")";
}

BioPtr MemoryBio(const std::string& text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in a PEM text, in order.
std::vector<X509Ptr> Certificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  if (!bio) return certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return certs;
}

// How a file or inline value is named in messages.
std::string Source(const std::filesystem::path& file, const char* file_key, const char* key) {
  return file.empty() ? std::string(key) : std::string(file_key) + " " + file.string();
}

bool UseCertificateAndKey(SSL_CTX* ctx, const TlsServerConfig& tls, std::string* error) {
  const std::string cert_source = Source(tls.cert_file, "cert_file", "cert");
  const std::string key_source = Source(tls.key_file, "key_file", "key");
  std::vector<X509Ptr> chain = Certificates(tls.cert_pem);
  if (chain.empty()) {
    *error = cert_source + ": no PEM certificate found";
    return false;
  }
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
    *error = OpenSslError(cert_source + ": certificate not usable");
    return false;
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    // add0 takes ownership on success.
    if (SSL_CTX_add0_chain_cert(ctx, chain[i].get()) != 1) {
      *error = OpenSslError(cert_source + ": intermediate certificate not usable");
      return false;
    }
    chain[i].release();
  }
  BioPtr bio = MemoryBio(tls.key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!key) {
    *error = OpenSslError(key_source + ": no unencrypted PEM private key found");
    return false;
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    *error = OpenSslError(key_source + " does not match " + cert_source);
    return false;
  }
  return true;
}

// Accepts whatever certificate the client sends (RequestClientCert and
// RequireAnyClientCert ask for one but, like Go, do not verify it).
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

bool UseClientAuth(SSL_CTX* ctx, const TlsServerConfig& tls, std::string* error) {
  const std::string source = Source(tls.client_ca_file, "client_ca_file", "client_ca");
  if (!tls.client_ca_pem.empty()) {
    std::vector<X509Ptr> cas = Certificates(tls.client_ca_pem);
    if (cas.empty()) {
      *error = source + ": no PEM certificate found";
      return false;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
        *error = OpenSslError(source + ": certificate not usable");
        return false;
      }
    }
  }
  switch (tls.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return true;
}

int ProtocolVersion(TlsVersion v) {
  return v == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

}  // namespace

// OpenSSL 3 turned SSL_get_peer_certificate into a macro for
// SSL_get1_peer_certificate (same semantics: a new reference), so libssl.so.3
// no longer exports the name. Debian 12's civetweb 1.15, built for the 1.1
// API, loads OpenSSL at run time and refuses TLS when dlsym cannot find it
// (civetweb issue #1334). The program therefore carries the SONAME
// "libssl.so" (see exporter/CMakeLists.txt): civetweb's dlopen("libssl.so")
// then returns the program itself, whose symbol scope holds all of
// libssl.so.3, which it links, plus this definition, exported under the
// old name.
extern "C" __attribute__((visibility("default"), used)) X509* HloSslGetPeerCertificate(
    const SSL* ssl) __asm__("SSL_get_peer_certificate");
extern "C" X509* HloSslGetPeerCertificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }

void SslCtxFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

std::string DescribeCertificate(const std::string& cert_pem) {
  std::vector<X509Ptr> chain = Certificates(cert_pem);
  if (chain.empty()) return "(none)";
  X509* leaf = chain.front().get();
  std::string text = "subject ";
  if (BioPtr bio{BIO_new(BIO_s_mem())}) {
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(leaf), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    if (n > 0) text.append(data, static_cast<size_t>(n));
  }
  tm until{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &until) == 1) {
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &until);
    text += std::string(", valid until ") + when;
  }
  return text;
}

SslCtxPtr NewServerTlsContext(const TlsServerConfig& tls, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    *error = OpenSslError("cannot create a TLS context");
    return nullptr;
  }
  if (SSL_CTX_set_min_proto_version(ctx.get(), ProtocolVersion(tls.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), ProtocolVersion(tls.max_version)) != 1) {
    *error = OpenSslError("cannot set the TLS versions");
    return nullptr;
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  static constexpr unsigned char kSessionContext[] = "homelab-observer";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  if (!UseCertificateAndKey(ctx.get(), tls, error) || !UseClientAuth(ctx.get(), tls, error)) {
    return nullptr;
  }
  return ctx;
}

}  // namespace hlo
