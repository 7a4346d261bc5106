#include "exporter/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "exporter/web_config.h"

namespace hlo {
namespace {

// A fresh bcrypt hash of `password` from libxcrypt, as htpasswd -B makes.
std::string Bcrypt(const std::string& password, int cost, const char* prefix = "$2b$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof setting) == nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), setting, &data, sizeof data);
  if (hash == nullptr) throw std::runtime_error("crypt_rn failed");
  return hash;
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t bits = 0;
    for (size_t j = 0; j < 3; ++j) {
      bits = (bits << 8) | (j < n ? static_cast<unsigned char>(in[i + j]) : 0u);
    }
    for (size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(bits >> (18 - 6 * j)) & 63] : '=';
    }
  }
  return out;
}

std::string Basic(const std::string& user, const std::string& password) {
  return "Basic " + Base64(user + ":" + password);
}

TEST(BasicAuthTest, ParsesCredentialsOfRfc7617) {
  using detail::ParseBasicCredentials;
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(ParseBasicCredentials("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), Pair("aladdin", "opensesame"));
  EXPECT_EQ(ParseBasicCredentials("basic YWxhZGRpbjpvcGVuc2VzYW1l"), Pair("aladdin", "opensesame"));
  EXPECT_EQ(ParseBasicCredentials("  BASIC   YWxhZGRpbjpvcGVuc2VzYW1l  "),
            Pair("aladdin", "opensesame"));
  // The first colon splits: passwords may hold colons, user names not.
  EXPECT_EQ(ParseBasicCredentials(Basic("u", "a:b:c")), Pair("u", "a:b:c"));
  EXPECT_EQ(ParseBasicCredentials(Basic("", "")), Pair("", ""));
  EXPECT_EQ(ParseBasicCredentials(Basic("u", "p")), Pair("u", "p"));    // padding "=="
  EXPECT_EQ(ParseBasicCredentials(Basic("u", "pw")), Pair("u", "pw"));  // padding "="
  EXPECT_EQ(ParseBasicCredentials("Basic dTpw"), Pair("u", "p"));       // unpadded
  for (const char* bad : {"", "Basic", "Basic ", "Bearer dTpw", "Basicx dTpw", "Basic dT",
                          "Basic dT!w", "Basic dXNlcg==" /* "user": no colon */, "Digest a=b"}) {
    EXPECT_EQ(ParseBasicCredentials(bad), std::nullopt) << bad;
  }
}

TEST(BasicAuthTest, BcryptMatchesOnlyTheRightPassword) {
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    const std::string hash = Bcrypt("correct horse", 4, prefix);
    ASSERT_TRUE(detail::IsBcryptHash(hash)) << hash;
    EXPECT_TRUE(detail::BcryptMatches("correct horse", hash)) << prefix;
    EXPECT_FALSE(detail::BcryptMatches("correct horsf", hash));
    EXPECT_FALSE(detail::BcryptMatches("", hash));
    EXPECT_FALSE(detail::BcryptMatches(std::string("correct horse\0x", 15), hash));
  }
  // Made by Go's bcrypt: exporter-toolkit's dummy hash, of "fakepassword".
  const std::string go_hash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
  EXPECT_TRUE(detail::BcryptMatches("fakepassword", go_hash));
  EXPECT_FALSE(detail::BcryptMatches("fakepassworD", go_hash));
  EXPECT_FALSE(detail::BcryptMatches("test", "not a hash"));
}

TEST(BasicAuthTest, AllowsKnownUsersWithTheirPasswordsOnly) {
  const BasicAuth auth({{"alice", Bcrypt("wonderland", 4)}, {"bob", Bcrypt("builder", 4)}});
  EXPECT_TRUE(auth.Allows(Basic("alice", "wonderland")));
  EXPECT_TRUE(auth.Allows(Basic("bob", "builder")));
  EXPECT_FALSE(auth.Allows(Basic("alice", "builder")));
  EXPECT_FALSE(auth.Allows(Basic("bob", "wonderland")));
  EXPECT_FALSE(auth.Allows(Basic("Alice", "wonderland")));
  EXPECT_FALSE(auth.Allows(Basic("mallory", "wonderland")));
  EXPECT_FALSE(auth.Allows(""));
  EXPECT_FALSE(auth.Allows("Bearer token"));
}

TEST(BasicAuthTest, RemembersSuccessesButNotFailures) {
  const BasicAuth auth({{"alice", Bcrypt("wonderland", 4)}});
  EXPECT_TRUE(auth.Allows(Basic("alice", "wonderland")));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(auth.Allows(Basic("alice", "wonderland")));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  // A wrong password is checked every time: it never gets in by repetition,
  // and it cannot evict the good entry.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(auth.Allows(Basic("alice", "wonderlanc")));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
  EXPECT_TRUE(auth.Allows(Basic("alice", "wonderland")));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
}

TEST(BasicAuthTest, UnknownUsersCostAsMuchAsKnownOnes) {
  // Cost 11 makes bcrypt (~150 ms) dwarf everything else in a check; the
  // fastest of three runs each shrugs off a busy machine.
  const BasicAuth auth({{"alice", Bcrypt("wonderland", 11)}});
  const auto fastest = [&](const std::string& header) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      EXPECT_FALSE(auth.Allows(header));
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  };
  const double known = fastest(Basic("alice", "wrong"));
  const double unknown = fastest(Basic("nobody", "wrong"));
  EXPECT_EQ(auth.bcrypt_runs(), 6u);  // every one ran bcrypt
  EXPECT_GT(unknown, known * 0.5) << "known " << known << " s, unknown " << unknown << " s";
  EXPECT_LT(unknown, known * 2.0) << "known " << known << " s, unknown " << unknown << " s";
}

TEST(BasicAuthTest, IsThreadSafe) {
  const BasicAuth auth({{"alice", Bcrypt("wonderland", 4)}});
  std::vector<std::thread> threads;
  std::atomic<int> allowed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (auth.Allows(Basic("alice", (t + i) % 2 ? "wonderland" : "nope"))) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 40);
}

}  // namespace
}  // namespace hlo
