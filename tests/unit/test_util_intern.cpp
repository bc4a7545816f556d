#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "billctl/util/intern.hpp"
#include "billctl/util/simd.hpp"

using billctl::util::Interner;

TEST_CASE("the interner gives dense ids in order of first sight", "[util][intern]") {
  Interner in;
  CHECK(in.id("alice") == 0);
  CHECK(in.id("bob") == 1);
  CHECK(in.id("alice") == 0);
  CHECK(in.id("") == 2);
  CHECK(in.id("bob") == 1);
  CHECK(in.size() == 3);
  CHECK(in.value(0) == "alice");
  CHECK(in.value(2).empty());
}

TEST_CASE("the interner keeps every value apart through growth, and copies are independent", "[util][intern]") {
  Interner in;
  // Values of every length up to 40 that share prefixes and differ in one byte.
  std::vector<std::string> values;
  for (size_t len = 1; len <= 40; ++len)
    for (char c : {'a', 'b', 'z'})
      for (size_t at = 0; at < len; at += 3) {
        std::string v(len, 'x');
        v[at] = c;
        values.push_back(v);
      }
  for (int i = 0; i < 3000; ++i) values.push_back("user." + std::to_string(i));
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (const auto& v : values)
    if (seen.insert(v).second) unique.push_back(v);
  for (size_t i = 0; i < unique.size(); ++i) REQUIRE(in.id(unique[i]) == int32_t(i));
  Interner copy = in;
  for (size_t i = unique.size(); i-- > 0;) {
    REQUIRE(in.id(unique[i]) == int32_t(i));
    REQUIRE(copy.value(int32_t(i)) == unique[i]);
  }
  CHECK(copy.id("new") == int32_t(unique.size()));
  CHECK(in.size() == unique.size());  // the copy's new value is its own
  in.clear();
  CHECK(in.id("user.7") == 0);
}

TEST_CASE("fast_hash tells apart keys shorter than a word", "[util][intern]") {
  // Below 8 bytes every byte reaches the hash: keys of one length never collide.
  for (size_t len = 1; len < 8; ++len) {
    std::set<uint64_t> hashes;
    size_t n = 0;
    for (int i = 0; i < 2000; ++i) {
      std::string k(len, 'a');
      for (size_t b = 0; b < len; ++b) k[b] = char('a' + (i >> (3 * b)) % 8);
      hashes.insert(billctl::util::fast_hash(k));
      ++n;
    }
    std::set<std::string> keys;
    for (int i = 0; i < 2000; ++i) {
      std::string k(len, 'a');
      for (size_t b = 0; b < len; ++b) k[b] = char('a' + (i >> (3 * b)) % 8);
      keys.insert(k);
    }
    CHECK(hashes.size() == keys.size());
  }
  // Equal bytes, equal hash, wherever they sit in memory.
  const std::string a = "xxcode-review-2", b = "code-review-2";
  CHECK(billctl::util::fast_hash(std::string_view(a).substr(2)) == billctl::util::fast_hash(b));
}

TEST_CASE("same_bytes agrees with memcmp at every length and every differing byte", "[util][intern]") {
  // Each buffer sits at the start of a larger one, so a wrong word load would read a differing byte.
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'q'), b(n, 'q');
    a += "AAAAAAAA";
    b += "BBBBBBBB";
    CHECK(billctl::util::same_bytes(a.data(), b.data(), n));
    for (size_t at = 0; at < n; ++at) {
      std::string c = b;
      c[at] = 'r';
      CHECK_FALSE(billctl::util::same_bytes(a.data(), c.data(), n));
      CHECK_FALSE(billctl::util::same_bytes(c.data(), a.data(), n));
    }
  }
}
