// HTTP basic authentication (RFC 7617) against bcrypt hashes, as
// exporter-toolkit's basic_auth_users does.
//
// bcrypt is slow on purpose (about 70-100 ms at cost 10), so a credential
// that passed is remembered: the same user and password are then accepted
// at the cost of one SHA-256. The cache holds keyed digests, never
// passwords, and at most kCacheSize of them (it is cleared when full).
// A failure is not remembered, so wrong guesses cannot evict good entries.
//
// An unknown user costs a bcrypt run against a dummy hash of the highest
// configured cost, so response times do not tell which user names exist.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace hlo {

class BasicAuth {
 public:
  static constexpr size_t kCacheSize = 256;

  // `users`: user name → bcrypt hash, each one detail::IsBcryptHash (see
  // web_config.h); anything else never matches.
  explicit BasicAuth(std::map<std::string, std::string> users);

  // Whether the value of a request's Authorization header names a user and
  // that user's password. Thread-safe; takes one bcrypt run on a miss.
  bool Allows(std::string_view authorization) const;

  // Bcrypt runs so far (for tests of the cache).
  size_t bcrypt_runs() const;

 private:
  std::string CacheKey(std::string_view user, std::string_view password) const;

  const std::map<std::string, std::string> users_;
  std::string dummy_hash_;  // checked for unknown users
  std::string cache_salt_;  // random per process: digests are useless elsewhere
  mutable std::mutex mutex_;
  mutable std::set<std::string> cache_;  // CacheKey of credentials that passed
  mutable size_t bcrypt_runs_ = 0;
};

namespace detail {

// The user and password of an "Authorization: Basic <base64>" value (the
// scheme case-insensitive, spaces around the token allowed); nullopt when
// it is another scheme, bad base64, or has no ':'.
std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(
    std::string_view authorization);

// Whether bcrypt of `password` with the salt and cost of `hash` gives
// `hash` (libxcrypt's crypt_rn; the hash part compared in constant time).
// False for a malformed hash and for passwords holding a NUL byte.
bool BcryptMatches(std::string_view password, const std::string& hash);

}  // namespace detail
}  // namespace hlo
