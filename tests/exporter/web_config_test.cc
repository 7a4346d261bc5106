#include "exporter/web_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <iterator>
#include <string>
#include <string_view>

#include "exporter/basic_auth.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

// A bcrypt hash of "secret" at cost 4 (any well-formed hash will do here).
constexpr char kHash[] = "$2b$04$hGwBnN0dQBUnBF2hH.BX3.LR8m7uSCHMdEVXzd05GAGRzzGSCzgrG";

std::string ErrorOf(std::string_view yaml) {
  std::string error;
  EXPECT_EQ(ParseWebConfig(yaml, &error), std::nullopt) << yaml;
  return error;
}

TEST(WebConfigTest, EmptyFileMeansPlainHttpForAnyone) {
  for (const char* yaml : {"", "# nothing\n", "---\n", "tls_server_config:\nbasic_auth_users:\n"}) {
    std::string error;
    const auto config = ParseWebConfig(yaml, &error);
    ASSERT_TRUE(config) << yaml << ": " << error;
    EXPECT_FALSE(config->tls);
    EXPECT_TRUE(config->basic_auth_users.empty());
    EXPECT_TRUE(config->headers.empty());
  }
}

TEST(WebConfigTest, ReadsEverySupportedSetting) {
  const std::string yaml = std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /etc/hlo/server.key
  min_version: TLS13
  max_version: TLS13
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: clients.pem
http_server_config:
  headers:
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: ")") + kHash +
                           "\"\n  alice: '" + kHash + "'\n";
  std::string error;
  const auto config = ParseWebConfig(yaml, &error);
  ASSERT_TRUE(config) << error;
  ASSERT_TRUE(config->tls);
  EXPECT_EQ(config->tls->cert_file, "server.crt");
  EXPECT_EQ(config->tls->key_file, "/etc/hlo/server.key");
  EXPECT_EQ(config->tls->client_ca_file, "clients.pem");
  EXPECT_TRUE(config->tls->cert_pem.empty());  // files are read by LoadWebConfig
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(config->tls->max_version, TlsVersion::kTls13);
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(config->headers.size(), 3u);
  EXPECT_EQ(config->headers.at("X-Frame-Options"), "deny");
  EXPECT_EQ(config->basic_auth_users.size(), 2u);
  EXPECT_EQ(config->basic_auth_users.at("prometheus"), kHash);
  EXPECT_TRUE(config->notes.empty());
}

TEST(WebConfigTest, TlsDefaultsFollowExporterToolkit) {
  const auto config = ParseWebConfig("tls_server_config:\n  cert: PEM\n  key: PEM\n", nullptr);
  ASSERT_TRUE(config && config->tls);
  EXPECT_EQ(config->tls->cert_pem, "PEM");
  EXPECT_EQ(config->tls->key_pem, "PEM");
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(config->tls->max_version, TlsVersion::kTls13);
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kNoClientCert);
}

TEST(WebConfigTest, ReadsEveryClientAuthType) {
  const std::pair<const char*, ClientAuth> cases[] = {
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuth::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, expected] : cases) {
    const bool verifies = expected == ClientAuth::kVerifyClientCertIfGiven ||
                          expected == ClientAuth::kRequireAndVerifyClientCert;
    const std::string yaml = std::string("tls_server_config:\n  cert_file: c\n  key_file: k\n") +
                             "  client_auth_type: " + name + "\n" +
                             (verifies ? "  client_ca_file: ca\n" : "");
    std::string error;
    const auto config = ParseWebConfig(yaml, &error);
    ASSERT_TRUE(config && config->tls) << name << ": " << error;
    EXPECT_EQ(config->tls->client_auth, expected) << name;
  }
}

TEST(WebConfigTest, HarmlessGoOnlySettingsAreAcceptedWithANote) {
  const auto config = ParseWebConfig(R"(
tls_server_config:
  cert_file: c
  key_file: k
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519]
  prefer_server_cipher_suites: true
http_server_config:
  http2: true
)",
                                     nullptr);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->notes.size(), 4u);
  const auto quiet = ParseWebConfig("http_server_config:\n  http2: false\n", nullptr);
  ASSERT_TRUE(quiet);
  EXPECT_TRUE(quiet->notes.empty());
}

TEST(WebConfigTest, BlankHeaderValuesAreUnset) {
  const auto config =
      ParseWebConfig("http_server_config:\n  headers:\n    X-XSS-Protection: ''\n", nullptr);
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->headers.empty());
}

// Every rejection: the message says what is wrong and, where it can, the line.
TEST(WebConfigTest, RejectsWhatExporterToolkitRejectsAndMore) {
  const std::string user = std::string("basic_auth_users:\n  alice: ") + kHash + "\n";
  const struct {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"tls_server_config: {cert_file: c, key_file: k}\nrate_limt: 1\n",
       "line 2: web config: unknown key \"rate_limt\""},
      {"tls_server_config:\n  cert_file: c\n  key_file: k\n  cert_fil: x\n",
       "line 4: tls_server_config: unknown key \"cert_fil\""},
      {"http_server_config:\n  header: {}\n", "line 2: http_server_config: unknown key \"header\""},
      {user + "basic_auth_users: {}\n", "line 3: web config: duplicate key \"basic_auth_users\""},
      {"basic_auth_users:\n  bob: " + std::string(kHash) + "\n  bob: " + kHash + "\n",
       "line 3: basic_auth_users: duplicate key \"bob\""},
      {"- tls_server_config\n", "line 1: web config must be a map, not a list"},
      {"tls_server_config: yes\n", "line 1: tls_server_config must be a map, not a single value"},
      {"tls_server_config: {cert_file: [a], key_file: k}\n",
       "tls_server_config.cert_file must be a string, not a list"},
      {"tls_server_config:\n  key_file: k\n",
       "tls_server_config: missing one of cert or cert_file"},
      {"tls_server_config:\n  cert_file: c\n", "tls_server_config: missing one of key or key_file"},
      {"tls_server_config: {cert: x, cert_file: c, key_file: k}\n",
       "set cert or cert_file, not both"},
      {"tls_server_config: {cert_file: c, key_file: k, min_version: TLS11}\n",
       "min_version TLS11 is not supported"},
      {"tls_server_config: {cert_file: c, key_file: k, min_version: TLS10}\n",
       "min_version TLS10 is not supported"},
      {"tls_server_config: {cert_file: c, key_file: k, max_version: SSL3}\n",
       "unknown TLS version \"SSL3\""},
      {"tls_server_config: {cert_file: c, key_file: k, min_version: TLS13, max_version: TLS12}\n",
       "max_version is below min_version"},
      {"tls_server_config: {cert_file: c, key_file: k, client_auth_type: Maybe}\n",
       "client_auth_type: unknown value \"Maybe\""},
      {"tls_server_config: {cert_file: c, key_file: k, client_ca_file: ca}\n",
       "a client CA is set without a client_auth_type"},
      {"tls_server_config: {cert_file: c, key_file: k, client_auth_type: "
       "RequireAndVerifyClientCert}\n",
       "RequireAndVerifyClientCert needs client_ca_file"},
      {"tls_server_config: {cert_file: c, key_file: k, client_auth_type: RequireAnyClientCert,"
       " client_allowed_sans: [a]}\n",
       "client_allowed_sans is not supported"},
      {"tls_server_config:\n  min_version: TLS13\n",
       "has no cert_file or key_file: TLS would be off"},
      {"tls_server_config: {cert_file: c, key_file: k, prefer_server_cipher_suites: maybe}\n",
       "prefer_server_cipher_suites must be true or false"},
      {"http_server_config: {http2: 2}\n", "http_server_config.http2 must be true or false"},
      {"http_server_config:\n  headers:\n    Set-Cookie: a=b\n",
       "line 3: http_server_config.headers: header \"Set-Cookie\" cannot be configured"},
      {"http_server_config:\n  headers:\n    x-frame-options: deny\n",
       "header \"x-frame-options\" cannot be configured"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "X-Frame-Options: \"allow\" is not one of deny or sameorigin"},
      {"http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x\"\n",
       "Content-Security-Policy: control characters"},
      {"rate_limit:\n  interval: 1s\n  burst: 20\n", "line 1: rate_limit is not supported"},
      {"basic_auth_users: [alice]\n", "basic_auth_users must be a map, not a list"},
      {"basic_auth_users:\n  alice: secret\n", "line 2: basic_auth_users.alice: not a bcrypt hash"},
      {"basic_auth_users:\n  alice:\n", "basic_auth_users.alice: not a bcrypt hash"},
      {"basic_auth_users:\n  \"a:b\": " + std::string(kHash) + "\n", "cannot be a user name"},
      {"basic_auth_users:\n  \"\": " + std::string(kHash) + "\n", "cannot be a user name"},
      {"basic_auth_users:\n  [a]: " + std::string(kHash) + "\n",
       "basic_auth_users: keys must be plain names"},
      {"tls_server_config: {cert_file: c\n", "line 2: YAML: "},
      {std::string(5000, '[') + std::string(5000, ']'), "YAML nested too deeply"},
      {std::string((1 << 20) + 1, '#'), "larger than 1 MiB"},
  };
  for (const auto& c : cases) {
    const std::string error = ErrorOf(c.yaml);
    EXPECT_NE(error.find(c.message), std::string::npos)
        << "yaml: " << c.yaml.substr(0, 200) << "\nerror: " << error
        << "\nexpected to contain: " << c.message;
  }
}

TEST(WebConfigTest, IngestUsersNameBasicAuthUsersInAnyOrder) {
  for (const std::string& yaml :
       {std::string("basic_auth_users:\n  alice: ") + kHash + "\n  bob: " + kHash +
            "\ningest_users: [bob]\n",
        std::string("ingest_users:\n  - bob\nbasic_auth_users:\n  alice: ") + kHash +
            "\n  bob: " + kHash + "\n"}) {
    std::string error;
    const auto config = ParseWebConfig(yaml, &error);
    ASSERT_TRUE(config) << yaml << ": " << error;
    EXPECT_EQ(config->ingest_users, std::set<std::string>{"bob"});
    EXPECT_EQ(config->basic_auth_users.size(), 2u);
  }
}

TEST(WebConfigTest, AbsentOrEmptyIngestUsersMeansEveryBasicAuthUser) {
  for (const std::string& tail : {std::string(""), std::string("ingest_users:\n"),
                                  std::string("ingest_users: []\n")}) {
    std::string error;
    const auto config =
        ParseWebConfig(std::string("basic_auth_users:\n  alice: ") + kHash + "\n" + tail, &error);
    ASSERT_TRUE(config) << tail << ": " << error;
    EXPECT_TRUE(config->ingest_users.empty());
  }
}

TEST(WebConfigTest, IngestUsersMustBeBasicAuthUsersErrorNamingTheLine) {
  const std::string users = std::string("basic_auth_users:\n  alice: ") + kHash + "\n";
  EXPECT_EQ(ErrorOf(users + "ingest_users:\n  - alice\n  - mallory\n"),
            "line 5: ingest_users: \"mallory\" is not one of basic_auth_users");
  EXPECT_EQ(ErrorOf("ingest_users: [alice]\n"),
            "line 1: ingest_users: \"alice\" is not one of basic_auth_users");
  EXPECT_EQ(ErrorOf(users + "ingest_users: alice\n"),
            "line 3: ingest_users must be a list of user names, not a single value");
  EXPECT_EQ(ErrorOf(users + "ingest_users: [alice, alice]\n"),
            "line 3: ingest_users: \"alice\" listed twice");
  EXPECT_NE(ErrorOf(users + "ingest_users: [[alice]]\n").find("ingest_users entries"),
            std::string::npos);
}

TEST(WebConfigTest, NeverEchoesAMalformedHash) {
  const std::string error = ErrorOf("basic_auth_users:\n  alice: hunter2-plaintext\n");
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(WebConfigTest, RecognisesBcryptHashes) {
  EXPECT_TRUE(detail::IsBcryptHash(kHash));
  EXPECT_TRUE(detail::IsBcryptHash("$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"));
  EXPECT_TRUE(detail::IsBcryptHash("$2a$31$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"));
  const char* bad[] = {
      "",
      "secret",
      "$2x$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",  // buggy legacy variant
      "$2y$03$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",  // cost below 4
      "$2y$32$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",  // cost above 31
      "$2y$1a$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
      "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPz",    // one short
      "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPzee",  // one long
      "$2y$10$mDwo+lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",   // not bcrypt's base64
      "$6$rounds=5000$saltsaltsaltsalt$abcdefghijklmnopqrstuvwxyz0123456789ABCD",  // sha512-crypt
      "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
  };
  for (const char* hash : bad) EXPECT_FALSE(detail::IsBcryptHash(hash)) << hash;
}

TEST(WebConfigTest, LoadResolvesFilesBesideTheConfigAndReadsThem) {
  TempDir dir;
  dir.Write("tls/c.pem", "CERT PEM");
  dir.Write("tls/k.pem", "KEY PEM");
  dir.Write("ca.pem", "CA PEM");
  const auto path = dir.Write("tls/web.yml",
                              "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n"
                              "  client_auth_type: VerifyClientCertIfGiven\n"
                              "  client_ca_file: " +
                                  (dir.path() / "ca.pem").string() + "\n");
  ::chmod((dir.path() / "tls/k.pem").c_str(), 0600);
  std::string error;
  const auto config = LoadWebConfig(path, &error);
  ASSERT_TRUE(config && config->tls) << error;
  EXPECT_EQ(config->tls->cert_file, dir.path() / "tls" / "c.pem");
  EXPECT_EQ(config->tls->cert_pem, "CERT PEM");
  EXPECT_EQ(config->tls->key_pem, "KEY PEM");
  EXPECT_EQ(config->tls->client_ca_pem, "CA PEM");
  EXPECT_TRUE(config->notes.empty()) << config->notes.front();
}

TEST(WebConfigTest, LoadErrorsNameTheFileAndLine) {
  TempDir dir;
  std::string error;
  EXPECT_FALSE(LoadWebConfig(dir.path() / "missing.yml", &error));
  EXPECT_EQ(error,
            "web config " + (dir.path() / "missing.yml").string() + ": No such file or directory");

  const auto bad = dir.Write("bad.yml", "basic_auth_users:\n  alice: nope\n");
  EXPECT_FALSE(LoadWebConfig(bad, &error));
  EXPECT_EQ(
      error.rfind("web config " + bad.string() + ":2: basic_auth_users.alice: not a bcrypt", 0), 0u)
      << error;

  EXPECT_FALSE(LoadWebConfig(dir.path(), &error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;

  const auto no_key =
      dir.Write("nokey.yml", "tls_server_config: {cert_file: c.pem, key_file: k.pem}\n");
  dir.Write("c.pem", "CERT");
  EXPECT_FALSE(LoadWebConfig(no_key, &error));
  EXPECT_EQ(error, "web config " + no_key.string() + ": tls_server_config.key_file " +
                       (dir.path() / "k.pem").string() + ": No such file or directory");
}

TEST(WebConfigTest, LoadNotesSecretsReadableByEveryone) {
  TempDir dir;
  dir.Write("c.pem", "CERT");
  const auto key = dir.Write("k.pem", "KEY");
  const auto path = dir.Write("web.yml", std::string("tls_server_config: {cert_file: c.pem, "
                                                     "key_file: k.pem}\nbasic_auth_users:\n  a: ") +
                                             kHash + "\n");
  ::chmod(path.c_str(), 0644);
  ::chmod(key.c_str(), 0644);
  auto config = LoadWebConfig(path, nullptr);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->notes.size(), 2u);
  EXPECT_EQ(config->notes[0].rfind("web config " + path.string() + ": ", 0), 0u);
  ::chmod(path.c_str(), 0640);
  ::chmod(key.c_str(), 0600);
  config = LoadWebConfig(path, nullptr);
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->notes.empty());
}

TEST(WebConfigTest, ShippedExampleParses) {
  std::ifstream in(std::string(HLO_SOURCE_DIR) + "/deploy/web-config.example.yml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  std::string error;
  const auto config = ParseWebConfig(text, &error);
  ASSERT_TRUE(config) << error;
  ASSERT_TRUE(config->tls);
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(config->headers.size(), 2u);
  ASSERT_EQ(config->basic_auth_users.count("prometheus"), 1u);
  // As its comment says.
  EXPECT_TRUE(detail::BcryptMatches("changeme", config->basic_auth_users.at("prometheus")));
}

}  // namespace
}  // namespace hlo
