// `homelab-observer run` over TLS for integration tests: a copy of the
// example homelab, a certificate made in-process (tests/fakes/test_pki.h)
// written to cert.pem and key.pem next to web.yml, the daemon on a port it
// picks (127.0.0.1:0), found in its log. SIGKILLed when destroyed.
// Header-only.
#pragma once

#include <regex>

#include "tests/fakes/test_pki.h"
#include "tests/integration/daemon_helpers.h"

namespace hlo::testing {

// A key and a self-signed certificate for 127.0.0.1 named `cn`.
struct TlsIdentity {
  fakes::Key key = fakes::NewKey();
  fakes::Cert cert;
  explicit TlsIdentity(const std::string& cn) : cert(fakes::NewCert(cn, key.get(), false)) {}
  std::string CertPem() const { return fakes::Pem(cert.get()); }
  std::string KeyPem() const { return fakes::Pem(key.get()); }
};

class TlsDaemon {
 public:
  // Writes `identity` and a web.yml naming it (plus `web_extra`, YAML
  // appended at the top level), then starts the daemon with `extra` flags.
  explicit TlsDaemon(const TlsIdentity& identity, const std::string& web_extra = "",
                     const std::vector<std::string>& extra = {}) {
    CopyExample(home());
    WriteIdentity(identity);
    WriteWebConfig("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n" + web_extra);
    std::vector<std::string> argv = {HLO_BINARY,
                                     "run",
                                     "--root",
                                     home().string(),
                                     "--inventory",
                                     home().string(),
                                     "--now",
                                     kExampleNow,
                                     "--web.listen-address",
                                     "127.0.0.1:0",
                                     "--web.config.file",
                                     web_config().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, dir_.path() / "stdout", dir_.path() / "stderr");
    static const std::regex kPort(R"(\(port (\d+)\))");
    WaitUntil(
        [&] {
          std::smatch m;
          const std::string log = Err();
          if (std::regex_search(log, m, kPort)) port_ = std::stoi(m[1]);
          return port_ != 0 || !child_->Running();
        },
        Millis(20000), Millis(10));
    // Ready: the first pass over events/ is done.
    if (port_ != 0) {
      WaitUntil([&] { return fakes::StatusOf(Get("/readyz")) == 200 || !child_->Running(); },
                Millis(20000), Millis(10));
    }
  }

  fs::path home() const { return dir_.path() / "homelab"; }
  fs::path web_config() const { return dir_.path() / "web.yml"; }
  int port() const { return port_; }
  Child& child() { return *child_; }
  std::string Err() const { return child_->Err(); }

  void WriteIdentity(const TlsIdentity& identity) const {
    WriteFile(dir_.path() / "cert.pem", identity.CertPem());
    WriteFile(dir_.path() / "key.pem", identity.KeyPem());
    fs::permissions(dir_.path() / "key.pem", fs::perms::owner_read | fs::perms::owner_write);
  }
  void WriteWebConfig(const std::string& yaml) const {
    WriteFile(web_config(), yaml);
    fs::permissions(web_config(), fs::perms::owner_read | fs::perms::owner_write);
  }

  // GET `path` over TLS (not verifying the server); the raw response.
  std::optional<std::string> Get(const std::string& path, const std::string& headers = "") const {
    return fakes::TlsGet(port_, path, {}, headers);
  }
  // The samples of /metrics; empty when the scrape fails.
  std::vector<Sample> Metrics(const std::string& headers = "") const {
    const std::optional<std::string> r = Get("/metrics", headers);
    if (fakes::StatusOf(r) != 200) return {};
    const size_t body = r->find("\r\n\r\n");
    return ParseExposition(r->substr(body + 4));
  }

 private:
  TempDir dir_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

}  // namespace hlo::testing
