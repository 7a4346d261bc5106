#include "exporter/basic_auth.h"

#include "exporter/base64.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>

#include "exporter/web_config.h"

namespace hlo {
namespace detail {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A syntactically valid bcrypt hash that no password is expected to match;
// only its cost matters, which the caller sets.
std::string DummyHash(int cost) {
  std::string hash = "$2b$10$CCCCCCCCCCCCCCCCCCCCC.Ggp5ajfKfyA1blMcFZLZX3MM6jsz1Bu";
  hash[4] = static_cast<char>('0' + cost / 10);
  hash[5] = static_cast<char>('0' + cost % 10);
  return hash;
}

int CostOf(const std::string& hash) { return (hash[4] - '0') * 10 + (hash[5] - '0'); }

}  // namespace

std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(
    std::string_view authorization) {
  authorization = TrimSpaces(authorization);
  constexpr std::string_view kScheme = "basic";
  if (authorization.size() <= kScheme.size() || authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::optional<std::string> decoded =
      Base64Decode(TrimSpaces(authorization.substr(kScheme.size())), Base64Alphabet::kStandard);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

bool BcryptMatches(std::string_view password, const std::string& hash) {
  if (!IsBcryptHash(hash) || password.find('\0') != std::string_view::npos) return false;
  // crypt_data is about 32 KiB: too much for a worker thread's stack.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* computed = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (computed == nullptr || std::char_traits<char>::length(computed) != hash.size()) return false;
  // The first 29 characters are the setting we passed in (libxcrypt may
  // normalise the salt's last character); the last 31 are the hash proper.
  constexpr size_t kSettingLength = 29;
  return CRYPTO_memcmp(computed + kSettingLength, hash.data() + kSettingLength,
                       hash.size() - kSettingLength) == 0;
}

}  // namespace detail

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  int cost = 0;
  for (const auto& [user, hash] : users_) {
    if (detail::IsBcryptHash(hash)) cost = std::max(cost, detail::CostOf(hash));
  }
  dummy_hash_ = detail::DummyHash(cost > 0 ? cost : 10);
  std::array<unsigned char, 32> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    // Without randomness the digests are still one-way; only their
    // uniqueness to this process is lost.
    salt.fill(0);
  }
  cache_salt_.assign(reinterpret_cast<const char*>(salt.data()), salt.size());
}

std::string BasicAuth::CacheKey(std::string_view user, std::string_view password) const {
  // Lengths first, so ("ab", "c") and ("a", "bc") cannot collide.
  std::string input = cache_salt_;
  input += std::to_string(user.size()) + ':';
  input += user;
  input += std::to_string(password.size()) + ':';
  input += password;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    length = 0;  // an empty key is never inserted; see Allows
  }
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

bool BasicAuth::Allows(std::string_view authorization) const {
  const auto credentials = detail::ParseBasicCredentials(authorization);
  if (!credentials) return false;
  const auto& [user, password] = *credentials;
  const std::string key = CacheKey(user, password);
  {
    std::lock_guard lock(mutex_);
    if (!key.empty() && cache_.count(key) > 0) return true;
    ++bcrypt_runs_;
  }
  const auto found = users_.find(user);
  const bool known = found != users_.end();
  // Unknown users pay the same bcrypt as known ones.
  const bool matches = detail::BcryptMatches(password, known ? found->second : dummy_hash_);
  if (!(known && matches)) return false;
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kCacheSize) cache_.clear();
  if (!key.empty()) cache_.insert(key);
  return true;
}

size_t BasicAuth::bcrypt_runs() const {
  std::lock_guard lock(mutex_);
  return bcrypt_runs_;
}

}  // namespace hlo
