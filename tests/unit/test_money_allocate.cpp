#include <catch2/catch.hpp>

#include "billctl/money/money.hpp"

using billctl::money::allocate;
using billctl::money::Decimal;

namespace {
Decimal D(const char* s) { return Decimal::parse(s).value_or_throw(); }
}  // namespace

TEST_CASE("allocation makes rounded parts sum to the rounded total", "[money][allocate]") {
  SECTION("three thirds") {
    const auto out = allocate({D("0.333333333333"), D("0.333333333333"), D("0.333333333334")}, 2);
    CHECK(out[0] + out[1] + out[2] == D("1.00"));
    CHECK(out[2] == D("0.34"));  // the largest remainder takes the cent
  }
  SECTION("ties go to the earlier part") {
    const auto out = allocate({D("0.005"), D("0.005")}, 2);
    CHECK(out[0] == D("0.01"));
    CHECK(out[1] == D("0.00"));
  }
  SECTION("zero-decimal currency") {
    const auto out = allocate({D("10.4"), D("10.4"), D("10.2")}, 0);
    CHECK(out[0] + out[1] + out[2] == D("31"));
  }
  SECTION("negative parts") {
    const auto out = allocate({D("-0.004"), D("1.006")}, 2);
    CHECK(out[0] + out[1] == D("1.00"));
  }
  SECTION("empty") { CHECK(allocate({}, 2).empty()); }
}

TEST_CASE("allocation property: sums hold for random parts", "[money][allocate][property]") {
  uint64_t s = 7;
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<Decimal> parts;
    const int n = 1 + int(s % 40);
    Decimal sum;
    for (int i = 0; i < n; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const Decimal p = Decimal::from_units(billctl::money::i128(s >> 20));
      parts.push_back(p);
      sum += p;
    }
    for (int digits : {0, 2, 3}) {
      const auto out = allocate(parts, digits);
      Decimal got;
      for (size_t i = 0; i < out.size(); ++i) {
        got += out[i];
        CHECK(out[i] == out[i].round(digits));
        // No part moves by a whole minor unit or more.
        const Decimal diff = out[i] - parts[i];
        CHECK(diff.units() < billctl::money::pow10(12 - digits));
        CHECK(diff.units() > -billctl::money::pow10(12 - digits));
      }
      CHECK(got == sum.round(digits));
    }
  }
}
