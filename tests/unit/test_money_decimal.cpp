#include <catch2/catch.hpp>

#include "billctl/money/decimal.hpp"
#include "billctl/money/money.hpp"

using billctl::money::Decimal;
using billctl::money::i128;
using billctl::money::Rounding;

namespace {
Decimal D(const char* s) { return Decimal::parse(s).value_or_throw(); }
}  // namespace

TEST_CASE("Decimal parses exact values", "[money]") {
  CHECK(D("0").units() == 0);
  CHECK(D("1").units() == 1'000'000'000'000);
  CHECK(D("-2.5").units() == -2'500'000'000'000);
  CHECK(D("+0.000000000001").units() == 1);
  CHECK(D("2.5e-06").units() == 2'500'000);
  CHECK(D("3.75E-8").units() == 37'500);
  CHECK(D("1e3").units() == i128(1000) * 1'000'000'000'000);
  CHECK(D(".5").units() == 500'000'000'000);
  CHECK(D("1.000000000000000").units() == 1'000'000'000'000);  // trailing zeros beyond 12 digits are fine
}

TEST_CASE("Decimal refuses what it cannot hold exactly", "[money]") {
  SECTION("too many fractional digits") { CHECK_FALSE(Decimal::parse("0.0000000000001")); }
  SECTION("exponent pushing below 1e-12") { CHECK_FALSE(Decimal::parse("1e-13")); }
  SECTION("not a number") {
    for (const char* s : {"", "-", "abc", "1.2.3", "1,000", "1e", "0x10", " 1", "1 ", "NaN", "inf"})
      CHECK_FALSE(Decimal::parse(s));
  }
  SECTION("overflow") {
    CHECK_FALSE(Decimal::parse("1e30"));
    CHECK_FALSE(Decimal::parse("99999999999999999999999999999999999999999"));
  }
}

TEST_CASE("Decimal arithmetic is checked", "[money]") {
  CHECK((D("0.1") + D("0.2")) == D("0.3"));
  CHECK((D("1") - D("3")) == D("-2"));
  CHECK(D("0.000000037500").mul_int(1'000'000) == D("0.0375"));
  const Decimal big = Decimal::from_units(i128(1) << 126);
  CHECK_THROWS_AS(big + big, billctl::DataError);
  CHECK_THROWS_AS(big.mul_int(4), billctl::DataError);
  CHECK_THROWS_AS(Decimal::from_units(i128(1) << 125) + Decimal::from_units((i128(1) << 125) + 1), billctl::DataError);
  CHECK(D("2.5").mul(D("0.5")) == D("1.25"));
  CHECK(D("1").div_int(3) == D("0.333333333333"));
  CHECK(D("2").div_int(3) == D("0.666666666667"));
  CHECK_THROWS_AS(D("1").div_int(0), billctl::DataError);
}

TEST_CASE("Decimal rounds half-even at a named digit", "[money]") {
  CHECK(D("0.125").round(2) == D("0.12"));
  CHECK(D("0.135").round(2) == D("0.14"));
  CHECK(D("-0.125").round(2) == D("-0.12"));
  CHECK(D("-0.135").round(2) == D("-0.14"));
  CHECK(D("2.5").round(0) == D("2"));
  CHECK(D("3.5").round(0) == D("4"));
  CHECK(D("0.125").round(2, Rounding::half_up) == D("0.13"));
  CHECK(D("0.129").round(2, Rounding::down) == D("0.12"));
  CHECK(D("0.121").round(2, Rounding::up) == D("0.13"));
  CHECK(D("1.23456").round(12) == D("1.23456"));
}

TEST_CASE("Decimal prints plainly and formatted", "[money]") {
  CHECK(D("12.5").to_string() == "12.5");
  CHECK(D("12.5").to_string(2) == "12.50");
  CHECK(D("0.0000000375").to_string() == "0.0000000375");
  CHECK(D("-3").to_string() == "-3");
  CHECK(D("1234567.891").format(2) == "1,234,567.89");
  CHECK(D("999.995").format(2) == "1,000.00");
  CHECK(D("-1234.5").format(2) == "-1,234.50");
  CHECK(D("-0.001").format(2) == "0.00");
  CHECK(D("123").format(0) == "123");
  CHECK(D("1234").format(0, false) == "1234");
  CHECK(D("0.5").format(3) == "0.500");
}

TEST_CASE("round trip through text", "[money][property]") {
  uint64_t s = 42;
  for (int i = 0; i < 2000; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const i128 u = i128(int64_t(s)) * 1000 + i128(s % 997);
    const Decimal d = Decimal::from_units(u);
    CHECK(Decimal::parse(d.to_string()).value_or_throw() == d);
  }
}

TEST_CASE("currencies and money", "[money]") {
  using namespace billctl::money;
  CHECK(currency("USD").minor_units == 2);
  CHECK(currency("JPY").minor_units == 0);
  CHECK(currency("BHD").minor_units == 3);
  CHECK_FALSE(find_currency("XYZ"));
  CHECK_FALSE(find_currency("usd"));
  const Money a{D("1.005"), currency("USD")};
  const Money b{D("2"), currency("EUR")};
  CHECK_THROWS_AS(a + b, billctl::DataError);
  CHECK(round_minor(a).amount == D("1.00"));
  CHECK(round_minor(Money{D("1.5"), currency("JPY")}).amount == D("2"));
  CHECK(round_minor(Money{D("0.0125"), currency("BHD")}).amount == D("0.012"));
}
