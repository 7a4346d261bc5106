// Fuzz target: hlo::ParseWebConfig (exporter/web_config.h), the YAML of
// --web.config.file: TLS, basic authentication users, response headers.
//
// Besides the sanitizers (and no exception escaping: libFuzzer reports one),
// it checks what the header promises: a failure is one line of error, a
// success only holds what the daemon may use as-is (a TLS setting with a
// certificate and a key, versions in order, a client CA exactly when client
// certificates are verified or requested; bcrypt hashes under valid user
// names; only the five allowed headers, with allowed values); and the
// verdict is deterministic and does not depend on whether an error is asked for.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/web_config.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
}

void CheckTls(const TlsServerConfig& tls) {
  HLO_FUZZ_CHECK(!tls.cert_pem.empty() || !tls.cert_file.empty(), "TLS without a certificate");
  HLO_FUZZ_CHECK(!tls.key_pem.empty() || !tls.key_file.empty(), "TLS without a key");
  HLO_FUZZ_CHECK(tls.cert_pem.empty() || tls.cert_file.empty(), "cert and cert_file both");
  HLO_FUZZ_CHECK(tls.key_pem.empty() || tls.key_file.empty(), "key and key_file both");
  HLO_FUZZ_CHECK(tls.min_version <= tls.max_version, "max_version below min_version");
  const bool has_ca = !tls.client_ca_pem.empty() || !tls.client_ca_file.empty();
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  HLO_FUZZ_CHECK(!verifies || has_ca, "verifying client certificates without a CA");
  HLO_FUZZ_CHECK(!has_ca || tls.client_auth != ClientAuth::kNoClientCert,
                 "a client CA without client_auth_type");
}

void CheckHeader(const std::string& name, const std::string& value) {
  HLO_FUZZ_CHECK(!value.empty() && !HasControlCharacter(value), name + ": " + value);
  if (name == "X-Content-Type-Options") {
    HLO_FUZZ_CHECK(value == "nosniff", value);
  } else if (name == "X-Frame-Options") {
    HLO_FUZZ_CHECK(value == "deny" || value == "sameorigin", value);
  } else {
    HLO_FUZZ_CHECK(name == "Content-Security-Policy" || name == "Strict-Transport-Security" ||
                       name == "X-XSS-Protection",
                   name);
  }
}

void CheckConfig(const WebConfig& config) {
  if (config.tls) CheckTls(*config.tls);
  for (const auto& [user, hash] : config.basic_auth_users) {
    // RFC 7617: a user-id holds no colon and no control character.
    HLO_FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos &&
                       !HasControlCharacter(user),
                   user);
    HLO_FUZZ_CHECK(detail::IsBcryptHash(hash), user);
  }
  for (const auto& [name, value] : config.headers) CheckHeader(name, value);
}

bool SameConfig(const WebConfig& a, const WebConfig& b) {
  if (a.tls.has_value() != b.tls.has_value()) return false;
  if (a.tls) {
    const TlsServerConfig& x = *a.tls;
    const TlsServerConfig& y = *b.tls;
    if (x.cert_pem != y.cert_pem || x.cert_file != y.cert_file || x.key_pem != y.key_pem ||
        x.key_file != y.key_file || x.min_version != y.min_version ||
        x.max_version != y.max_version || x.client_auth != y.client_auth ||
        x.client_ca_pem != y.client_ca_pem || x.client_ca_file != y.client_ca_file) {
      return false;
    }
  }
  return a.basic_auth_users == b.basic_auth_users && a.headers == b.headers && a.notes == b.notes;
}

}  // namespace

int FuzzWebConfig(const uint8_t* data, size_t size) {
  const std::string_view yaml = AsText(data, size);
  std::string error;
  const std::optional<WebConfig> config = ParseWebConfig(yaml, &error);
  if (config) {
    CheckConfig(*config);
  } else {
    HLO_FUZZ_CHECK(!error.empty(), "refused without an error");
    HLO_FUZZ_CHECK(error.find_first_of("\r\n") == std::string::npos, error);
  }

  const std::optional<WebConfig> again = ParseWebConfig(yaml, nullptr);
  HLO_FUZZ_CHECK(config.has_value() == again.has_value(), error);
  if (config) HLO_FUZZ_CHECK(SameConfig(*config, *again), "not deterministic");
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzWebConfig)
