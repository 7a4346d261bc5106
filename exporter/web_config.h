// The web configuration file of `run` (--web.config.file): TLS, basic
// authentication and extra response headers, in the format of the
// Prometheus exporter-toolkit, so one file can serve node_exporter and us.
//
//   tls_server_config:
//     cert_file: server.crt        # or `cert:` with the PEM inline
//     key_file: server.key         # or `key:`
//     min_version: TLS12           # TLS12 (default) or TLS13
//     max_version: TLS13           # TLS12 or TLS13 (default)
//     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
//     client_ca_file: clients.pem  # or `client_ca:`
//   http_server_config:
//     headers: {X-Content-Type-Options: nosniff}
//   basic_auth_users:
//     prometheus: $2y$10$...       # bcrypt (htpasswd -nBC 10 "" | tr -d ':\n')
//     sender: $2y$10$...
//   ingest_users: [sender]         # ours, not exporter-toolkit's: who may POST events
//
// Parsing is strict, as exporter-toolkit's is: an unknown or duplicate key,
// a value of the wrong kind, a malformed bcrypt hash or an unsupported
// setting is an error, never silently ignored. A few settings that cannot
// weaken anything (cipher_suites, curve_preferences,
// prefer_server_cipher_suites, http2) are accepted without effect and
// reported in WebConfig::notes. Settings that would weaken or change
// security if ignored (client_allowed_sans, rate_limit, TLS below 1.2) are
// errors. Certificates are read at startup and on SIGHUP (config_reload.h),
// not per connection as exporter-toolkit does.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlo {

enum class TlsVersion { kTls12, kTls13 };

// exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType).
enum class ClientAuth {
  kNoClientCert,                // no certificate asked for
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required; verified when sent
  kRequireAndVerifyClientCert,  // required and verified against the client CA
};

struct TlsServerConfig {
  // The server's certificate chain (leaf first) and its private key, as PEM
  // text: given inline (`cert`, `key`) or read by LoadWebConfig from
  // cert_file and key_file. ParseWebConfig leaves the text empty when only
  // a file is named.
  std::string cert_pem;
  std::filesystem::path cert_file;
  std::string key_pem;
  std::filesystem::path key_file;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  // The CAs client certificates are verified against (PEM), inline
  // (`client_ca`) or from client_ca_file; required by the two verifying
  // client_auth_types, refused without a client auth policy.
  std::string client_ca_pem;
  std::filesystem::path client_ca_file;
};

struct WebConfig {
  // TLS on the listening port; plain HTTP when absent (exporter-toolkit
  // turns TLS on when any of cert, key, client CA or client_auth_type is set).
  std::optional<TlsServerConfig> tls;
  // User name → bcrypt hash. When not empty, every path requires HTTP basic
  // authentication as one of these users.
  std::map<std::string, std::string> basic_auth_users;
  // Who may POST /api/v1/events (a homelab-observer key, not
  // exporter-toolkit's; node_exporter would refuse a file holding it). Each
  // name must be one of basic_auth_users. Empty (or absent): every
  // basic-auth user may, and anyone when there is no basic auth (the daemon
  // then allows ingestion only on a loopback address).
  std::set<std::string> ingest_users;
  // Extra headers on every response, by name. Only the five exporter-toolkit
  // allows: Content-Security-Policy, X-Frame-Options (deny, sameorigin),
  // X-Content-Type-Options (nosniff), X-XSS-Protection,
  // Strict-Transport-Security.
  std::map<std::string, std::string> headers;
  // Settings that were accepted but have no effect here, and (from
  // LoadWebConfig, which prefixes each with "web config PATH: ") files
  // readable by every user that should not be: one line each, to log.
  std::vector<std::string> notes;
};

// Parses the text of a web configuration file. Relative paths are kept as
// written; no file is read. On failure returns nullopt and sets *error
// (when not null) to one line, prefixed "line N: " when the problem has a
// place. Never throws (std::bad_alloc aside); any input is safe, including
// hostile nesting and inputs over 1 MiB (refused).
std::optional<WebConfig> ParseWebConfig(std::string_view yaml, std::string* error);

// Reads and parses `path`, resolves relative cert_file, key_file and
// client_ca_file against the folder of `path` (as exporter-toolkit does)
// and reads them into the *_pem fields. Errors name the file (and the line
// when there is one): "web.yml:3: tls_server_config: unknown key cert_fil".
// Does not check that the PEM text holds a usable certificate and key;
// HttpServer::Start does, before it listens.
std::optional<WebConfig> LoadWebConfig(const std::filesystem::path& path, std::string* error);

namespace detail {

// Whether `hash` has the form of a bcrypt hash libxcrypt verifies:
// "$2a$", "$2b$" or "$2y$", a two-digit cost from 04 to 31, "$", then 53
// characters of bcrypt's base64 alphabet (22 of salt, 31 of hash).
bool IsBcryptHash(std::string_view hash);

}  // namespace detail
}  // namespace hlo
