#include "exporter/web_config.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <set>

namespace hlo {
namespace detail {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFileBytes = 1 << 20;

// Internal only: unwinds the parse to ParseImpl, which turns it into a value.
struct ConfigError {
  int line = 0;  // 1-based; 0 when the problem has no place
  std::string reason;
};

int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

[[noreturn]] void Fail(const YAML::Node& at, std::string reason) {
  throw ConfigError{LineOf(at), std::move(reason)};
}

std::string_view KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "a single value";
  }
}

// The entries of a map (null counts as empty), each key a scalar from
// `known`, none twice. yaml-cpp itself keeps duplicates silently.
std::vector<std::pair<YAML::Node, YAML::Node>> Entries(
    const YAML::Node& map, const std::string& where,
    std::initializer_list<std::string_view> known) {
  std::vector<std::pair<YAML::Node, YAML::Node>> entries;
  if (map.IsNull()) return entries;
  if (!map.IsMap()) Fail(map, where + " must be a map, not " + std::string(KindOf(map)));
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a temporary pair.
    const YAML::Node key = it->first;
    if (!key.IsScalar()) Fail(key, where + ": keys must be plain names");
    const std::string& name = key.Scalar();
    if (known.size() > 0 && std::find(known.begin(), known.end(), name) == known.end()) {
      Fail(key, where + ": unknown key \"" + name + "\"");
    }
    if (!seen.insert(name).second) Fail(key, where + ": duplicate key \"" + name + "\"");
    entries.emplace_back(key, it->second);
  }
  return entries;
}

std::string Text(const YAML::Node& value, const std::string& what) {
  if (value.IsNull()) return "";
  if (!value.IsScalar()) Fail(value, what + " must be a string, not " + std::string(KindOf(value)));
  return value.Scalar();
}

bool Bool(const YAML::Node& value, const std::string& what) {
  bool result = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
    Fail(value, what + " must be true or false");
  }
  return result;
}

std::vector<std::string> TextList(const YAML::Node& value, const std::string& what) {
  std::vector<std::string> list;
  if (value.IsNull()) return list;
  if (!value.IsSequence()) Fail(value, what + " must be a list, not " + std::string(KindOf(value)));
  for (const YAML::Node& item : value) list.push_back(Text(item, what + " entries"));
  return list;
}

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

TlsVersion Version(const YAML::Node& value, const std::string& what) {
  const std::string text = Text(value, what);
  if (text == "TLS12") return TlsVersion::kTls12;
  if (text == "TLS13") return TlsVersion::kTls13;
  if (text == "TLS10" || text == "TLS11") {
    Fail(value, what + " " + text +
                    " is not supported: TLS 1.0 and 1.1 are insecure (use TLS12 or TLS13)");
  }
  Fail(value, what + ": unknown TLS version \"" + text + "\" (expected TLS12 or TLS13)");
}

ClientAuth ClientAuthOf(const YAML::Node& value) {
  const std::string text = Text(value, "client_auth_type");
  if (text.empty() || text == "NoClientCert") return ClientAuth::kNoClientCert;
  if (text == "RequestClientCert") return ClientAuth::kRequestClientCert;
  // "RequireClientCert" is exporter-toolkit's old spelling, still accepted there.
  if (text == "RequireAnyClientCert" || text == "RequireClientCert") {
    return ClientAuth::kRequireAnyClientCert;
  }
  if (text == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
  if (text == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
  Fail(value, "tls_server_config.client_auth_type: unknown value \"" + text +
                  "\" (expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
                  "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
}

// One of an inline PEM and a file naming it, never both.
void PemOrFile(const YAML::Node& section, const char* inline_key, const char* file_key,
               std::string* pem, fs::path* file, const std::string& pem_text,
               const std::string& file_text) {
  if (!pem_text.empty() && !file_text.empty()) {
    Fail(section,
         std::string("tls_server_config: set ") + inline_key + " or " + file_key + ", not both");
  }
  *pem = pem_text;
  *file = file_text;
}

std::optional<TlsServerConfig> ParseTls(const YAML::Node& section,
                                        std::vector<std::string>* notes) {
  const std::string where = "tls_server_config";
  std::map<std::string, YAML::Node> values;
  for (auto& [key, value] :
       Entries(section, where,
               {"cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type",
                "client_ca_file", "client_allowed_sans", "min_version", "max_version",
                "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"})) {
    values[key.Scalar()] = value;
  }
  const auto text = [&](const char* key) {
    return values.count(key) ? Text(values[key], where + "." + key) : std::string();
  };
  TlsServerConfig tls;
  PemOrFile(section, "cert", "cert_file", &tls.cert_pem, &tls.cert_file, text("cert"),
            text("cert_file"));
  PemOrFile(section, "key", "key_file", &tls.key_pem, &tls.key_file, text("key"), text("key_file"));
  PemOrFile(section, "client_ca", "client_ca_file", &tls.client_ca_pem, &tls.client_ca_file,
            text("client_ca"), text("client_ca_file"));
  const bool has_auth_type = !text("client_auth_type").empty();
  if (values.count("client_auth_type")) tls.client_auth = ClientAuthOf(values["client_auth_type"]);
  if (values.count("min_version"))
    tls.min_version = Version(values["min_version"], where + ".min_version");
  if (values.count("max_version"))
    tls.max_version = Version(values["max_version"], where + ".max_version");

  if (values.count("client_allowed_sans") &&
      !TextList(values["client_allowed_sans"], where + ".client_allowed_sans").empty()) {
    Fail(values["client_allowed_sans"],
         where + ".client_allowed_sans is not supported by homelab-observer");
  }
  if (values.count("cipher_suites") &&
      !TextList(values["cipher_suites"], where + ".cipher_suites").empty()) {
    notes->push_back(where + ".cipher_suites is ignored: OpenSSL's defaults apply");
  }
  if (values.count("curve_preferences") &&
      !TextList(values["curve_preferences"], where + ".curve_preferences").empty()) {
    notes->push_back(where + ".curve_preferences is ignored: OpenSSL's defaults apply");
  }
  if (values.count("prefer_server_cipher_suites")) {
    Bool(values["prefer_server_cipher_suites"], where + ".prefer_server_cipher_suites");
    notes->push_back(where + ".prefer_server_cipher_suites is ignored");
  }

  const bool has_cert = !tls.cert_pem.empty() || !tls.cert_file.empty();
  const bool has_key = !tls.key_pem.empty() || !tls.key_file.empty();
  const bool has_ca = !tls.client_ca_pem.empty() || !tls.client_ca_file.empty();
  if (!has_cert && !has_key && !has_ca && !has_auth_type) {
    // exporter-toolkit then serves plain HTTP; a version set alone would be
    // silently dropped, so say so instead.
    if (!values.empty()) Fail(section, where + " has no cert_file or key_file: TLS would be off");
    return std::nullopt;
  }
  if (!has_cert) Fail(section, where + ": missing one of cert or cert_file");
  if (!has_key) Fail(section, where + ": missing one of key or key_file");
  if (tls.max_version < tls.min_version)
    Fail(section, where + ": max_version is below min_version");
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (has_ca && tls.client_auth == ClientAuth::kNoClientCert) {
    Fail(section, where + ": a client CA is set without a client_auth_type");
  }
  if (verifies && !has_ca) {
    Fail(section, where + ": client_auth_type " + text("client_auth_type") +
                      " needs client_ca_file (or client_ca)");
  }
  return tls;
}

void ParseHeaders(const YAML::Node& section, std::map<std::string, std::string>* headers) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> kAllowed = {
      {"Content-Security-Policy", {}},
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
  };
  const std::string where = "http_server_config.headers";
  for (const auto& [key, value] : Entries(section, where, {})) {
    const std::string& name = key.Scalar();
    const auto allowed = kAllowed.find(name);
    if (allowed == kAllowed.end()) {
      Fail(key, where + ": header \"" + name + "\" cannot be configured (allowed: " +
                    "Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, " +
                    "X-Frame-Options, X-XSS-Protection)");
    }
    const std::string text = Text(value, where + "." + name);
    if (HasControlCharacter(text)) Fail(value, where + "." + name + ": control characters");
    const std::vector<std::string>& values = allowed->second;
    if (!text.empty() && !values.empty() &&
        std::find(values.begin(), values.end(), text) == values.end()) {
      std::string expected;
      for (const std::string& v : values) expected += (expected.empty() ? "" : " or ") + v;
      Fail(value, where + "." + name + ": \"" + text + "\" is not one of " + expected);
    }
    if (!text.empty()) (*headers)[name] = text;  // blank: unset, as in exporter-toolkit
  }
}

void ParseHttp(const YAML::Node& section, WebConfig* config) {
  for (const auto& [key, value] : Entries(section, "http_server_config", {"http2", "headers"})) {
    if (key.Scalar() == "headers") {
      ParseHeaders(value, &config->headers);
    } else if (Bool(value, "http_server_config.http2")) {
      config->notes.push_back("http_server_config.http2 is ignored: HTTP/1.1 is served");
    }
  }
}

void ParseUsers(const YAML::Node& section, std::map<std::string, std::string>* users) {
  const std::string where = "basic_auth_users";
  for (const auto& [key, value] : Entries(section, where, {})) {
    const std::string& user = key.Scalar();
    // RFC 7617: a user-id cannot hold a colon, nor control characters.
    if (user.empty() || user.find(':') != std::string::npos || HasControlCharacter(user)) {
      Fail(key,
           where + ": \"" + user + "\" cannot be a user name (empty, ':' or control characters)");
    }
    const std::string hash = Text(value, where + "." + user);
    if (!IsBcryptHash(hash)) {
      // The value is a secret of sorts: never echo it.
      Fail(value, where + "." + user +
                      ": not a bcrypt hash (expected $2y$, $2b$ or $2a$, a cost, "
                      "53 characters; make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')");
    }
    (*users)[user] = hash;
  }
}

// ingest_users: a list of names, each a basic-auth user. Checked after the
// whole file is read, since basic_auth_users may come after it.
void ParseIngestUsers(const YAML::Node& section, const std::map<std::string, std::string>& users,
                      std::set<std::string>* ingest_users) {
  const std::string where = "ingest_users";
  if (section.IsNull()) return;
  if (!section.IsSequence()) {
    Fail(section, where + " must be a list of user names, not " + std::string(KindOf(section)));
  }
  for (const YAML::Node& item : section) {
    const std::string user = Text(item, where + " entries");
    if (users.count(user) == 0) {
      Fail(item, where + ": \"" + user + "\" is not one of basic_auth_users");
    }
    if (!ingest_users->insert(user).second) Fail(item, where + ": \"" + user + "\" listed twice");
  }
}

WebConfig ParseRoot(const YAML::Node& root) {
  WebConfig config;
  if (root.IsNull()) return config;  // an empty file: plain HTTP, no auth
  std::optional<YAML::Node> ingest_users;  // yaml-cpp's Node assignment would alias
  for (const auto& [key, value] :
       Entries(root, "web config",
               {"tls_server_config", "http_server_config", "basic_auth_users", "ingest_users",
                "rate_limit"})) {
    const std::string& name = key.Scalar();
    if (name == "tls_server_config") config.tls = ParseTls(value, &config.notes);
    if (name == "http_server_config") ParseHttp(value, &config);
    if (name == "basic_auth_users") ParseUsers(value, &config.basic_auth_users);
    if (name == "ingest_users") ingest_users.emplace(value);
    if (name == "rate_limit") Fail(key, "rate_limit is not supported by homelab-observer");
  }
  if (ingest_users) ParseIngestUsers(*ingest_users, config.basic_auth_users, &config.ingest_users);
  return config;
}

// Errors quote keys and values from the file: keep them one printable line.
std::string EscapeControls(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

std::optional<WebConfig> ParseImpl(std::string_view yaml, ConfigError* error) {
  if (yaml.size() > kMaxFileBytes) {
    *error = {0, "larger than 1 MiB: not a web configuration"};
    return std::nullopt;
  }
  try {
    return ParseRoot(YAML::Load(std::string(yaml)));
  } catch (const ConfigError& e) {
    *error = e;
  } catch (const YAML::DeepRecursion& e) {
    *error = {e.mark.line >= 0 ? e.mark.line + 1 : 0, "YAML nested too deeply"};
  } catch (const YAML::Exception& e) {
    *error = {e.mark.line >= 0 ? e.mark.line + 1 : 0, "YAML: " + e.msg};
  } catch (const std::exception& e) {
    *error = {0, std::string("cannot be parsed: ") + e.what()};
  }
  error->reason = EscapeControls(error->reason);
  return std::nullopt;
}

// A whole small file; nullopt and *error (the reason alone) on failure.
std::optional<std::string> ReadSmallFile(const fs::path& path, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileBytes) {
    *error = "larger than 1 MiB";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *error = "read error";
    return std::nullopt;
  }
  return text;
}

bool ReadableByOthers(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0;
}

// Resolves `file` against `dir` and reads it into *pem; false and *error
// (naming the key and the file) on failure.
bool LoadPem(const fs::path& dir, const char* key, fs::path* file, std::string* pem,
             std::string* error) {
  if (file->empty()) return true;
  if (file->is_relative()) *file = dir / *file;
  std::string reason;
  std::optional<std::string> text = ReadSmallFile(*file, &reason);
  if (!text) {
    *error = std::string("tls_server_config.") + key + " " + file->string() + ": " + reason;
    return false;
  }
  *pem = std::move(*text);
  return true;
}

}  // namespace

bool IsBcryptHash(std::string_view hash) {
  constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || hash.substr(0, 2) != "$2" || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5]))) {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return hash.substr(7).find_first_not_of(kAlphabet) == std::string_view::npos;
}

}  // namespace detail

std::optional<WebConfig> ParseWebConfig(std::string_view yaml, std::string* error) {
  detail::ConfigError problem;
  std::optional<WebConfig> config = detail::ParseImpl(yaml, &problem);
  if (!config && error != nullptr) {
    *error = problem.line > 0 ? "line " + std::to_string(problem.line) + ": " + problem.reason
                              : problem.reason;
  }
  return config;
}

std::optional<WebConfig> LoadWebConfig(const std::filesystem::path& path, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  const std::string name = "web config " + path.string();
  std::string reason;
  std::optional<std::string> text = detail::ReadSmallFile(path, &reason);
  if (!text) {
    *error = name + ": " + reason;
    return std::nullopt;
  }
  detail::ConfigError problem;
  std::optional<WebConfig> config = detail::ParseImpl(*text, &problem);
  if (!config) {
    *error =
        name + (problem.line > 0 ? ":" + std::to_string(problem.line) : "") + ": " + problem.reason;
    return std::nullopt;
  }
  if (!config->basic_auth_users.empty() && detail::ReadableByOthers(path)) {
    config->notes.push_back("the file holds password hashes and is readable by every user");
  }
  if (TlsServerConfig* tls = config->tls ? &*config->tls : nullptr) {
    const std::filesystem::path dir = path.parent_path();
    if (!detail::LoadPem(dir, "cert_file", &tls->cert_file, &tls->cert_pem, &reason) ||
        !detail::LoadPem(dir, "key_file", &tls->key_file, &tls->key_pem, &reason) ||
        !detail::LoadPem(dir, "client_ca_file", &tls->client_ca_file, &tls->client_ca_pem,
                         &reason)) {
      *error = name + ": " + reason;
      return std::nullopt;
    }
    if (!tls->key_file.empty() && detail::ReadableByOthers(tls->key_file)) {
      config->notes.push_back("tls_server_config.key_file " + tls->key_file.string() +
                              " is readable by every user");
    }
  }
  for (std::string& note : config->notes) note = name + ": " + note;
  return config;
}

}  // namespace hlo
