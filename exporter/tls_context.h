// An OpenSSL server context (SSL_CTX) built from a TlsServerConfig: the
// certificate chain and key, the TLS versions, and the client certificate
// policy. HttpServer hands it to civetweb whole (its external_ssl_ctx
// callback), so civetweb's own ssl_* options play no part and the versions
// are exactly those configured. OpenSSL stays out of this header.
#pragma once

#include <memory>
#include <string>

#include "exporter/web_config.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace hlo {

struct SslCtxFree {
  void operator()(ssl_ctx_st* ctx) const;
};
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, SslCtxFree>;

// A new server context for `tls`, whose cert_pem, key_pem and (when client
// certificates are verified) client_ca_pem must hold the PEM text. nullptr
// and *error (one line, e.g. "key_file does not match the certificate")
// when the text holds no certificate, no key, a key that does not match, or
// no CA certificate where one is needed.
//
// Besides the configuration: renegotiation is off, the server's cipher order
// is preferred, and a session id context is set (sessions resume under
// client certificate verification too).
SslCtxPtr NewServerTlsContext(const TlsServerConfig& tls, std::string* error);

// The first certificate of a PEM text, for the log: "subject CN=example,
// valid until 2026-08-01T12:00:00Z"; "(none)" when there is none.
std::string DescribeCertificate(const std::string& cert_pem);

}  // namespace hlo
