#include <catch2/catch.hpp>

#include "billctl/budgets/budget.hpp"
#include "billctl/util/tz.hpp"

using namespace billctl;

namespace {
util::Seconds T(const char* s) { return *util::parse_rfc3339(s); }
}  // namespace

TEST_CASE("time zones from the system's TZif files", "[tz]") {
  const auto berlin = util::TimeZone::load("Europe/Berlin");
  CHECK(berlin.offset_at(T("2026-07-01T12:00:00Z")) == 7200);
  CHECK(berlin.offset_at(T("2026-12-01T12:00:00Z")) == 3600);
  // DST ends 2026-10-25 01:00 UTC.
  CHECK(berlin.offset_at(T("2026-10-25T00:59:59Z")) == 7200);
  CHECK(berlin.offset_at(T("2026-10-25T01:00:00Z")) == 3600);
  // Far future: the POSIX rule in the file's footer.
  CHECK(berlin.offset_at(T("2090-07-01T12:00:00Z")) == 7200);
  CHECK(berlin.offset_at(T("2090-01-01T12:00:00Z")) == 3600);
  CHECK(berlin.day_start(util::days_from_civil({2026, 11, 1})) == T("2026-10-31T23:00:00Z"));
  CHECK(berlin.day_start(util::days_from_civil({2026, 10, 1})) == T("2026-09-30T22:00:00Z"));
  CHECK(berlin.local_day(T("2026-10-31T23:30:00Z")) == util::days_from_civil({2026, 11, 1}));
  const auto ny = util::TimeZone::load("America/New_York");
  CHECK(ny.offset_at(T("2026-07-01T12:00:00Z")) == -4 * 3600);
  const auto syd = util::TimeZone::load("Australia/Sydney");
  CHECK(syd.offset_at(T("2026-01-15T00:00:00Z")) == 11 * 3600);
  CHECK(syd.offset_at(T("2026-07-15T00:00:00Z")) == 10 * 3600);
  CHECK(util::TimeZone::load("UTC").offset_at(T("2026-07-01T00:00:00Z")) == 0);
  CHECK_THROWS_AS(util::TimeZone::load("Mars/Olympus"), UsageError);
  CHECK_THROWS_AS(util::TimeZone::load("../etc/passwd"), UsageError);
}

TEST_CASE("budget windows are calendar periods in the budget's zone", "[budgets]") {
  budgets::Budget b;
  b.tz = "Europe/Berlin";
  const auto berlin = util::TimeZone::load(b.tz);
  // 23:30 UTC on 31 October is already November in Berlin.
  auto w = budgets::current_window(b, berlin, T("2026-10-31T23:30:00Z"));
  CHECK(w.label == "2026-11");
  CHECK(w.begin == T("2026-10-31T23:00:00Z"));
  CHECK(w.end == T("2026-11-30T23:00:00Z"));
  b.period = budgets::Period::daily;
  w = budgets::current_window(b, berlin, T("2026-10-25T12:00:00Z"));  // the 25-hour day
  CHECK(w.end - w.begin == 25 * 3600);
  w = budgets::current_window(b, util::TimeZone(), T("2026-10-31T23:30:00Z"));
  CHECK(w.label == "2026-10-31");
}

TEST_CASE("budget definitions are checked", "[budgets]") {
  budgets::Budget b;
  b.name = "x";
  budgets::parse_limit(b, "5000 USD", "t");
  CHECK(b.limit == money::Decimal::from_int(5000));
  budgets::parse_limit(b, "2500000 tokens", "t");
  CHECK(b.in_tokens);
  CHECK_THROWS_WITH(budgets::parse_limit(b, "12.345 USD", "t"), Catch::Contains("more decimals than USD"));
  CHECK_THROWS_WITH(budgets::parse_limit(b, "-5 USD", "t"), Catch::Contains("positive"));
  CHECK_THROWS_WITH(budgets::parse_limit(b, "5 XYZ", "t"), Catch::Contains("unknown currency"));
  b.scope = {"departmnt:eng"};
  CHECK_THROWS_WITH(budgets::validate(b, "t"), Catch::Contains("did you mean 'department'?"));
  b.scope = {"user"};
  CHECK_THROWS_WITH(budgets::validate(b, "t"), Catch::Contains("needs a value"));
  b.scope = {"model:gpt-4o", "department:eng", "organization"};
  budgets::validate(b, "t");
  CHECK(b.scope == std::vector<std::string>{"department:eng", "model:gpt-4o"});
  CHECK(budgets::parse_fail_on("warning") == 80);
  CHECK(budgets::parse_fail_on("critical") == 95);
  CHECK(budgets::parse_fail_on("exceeded") == 100);
  CHECK(budgets::parse_fail_on("90%") == 90);
  CHECK_THROWS_AS(budgets::parse_fail_on("soon"), UsageError);
}

TEST_CASE("budgets as code", "[budgets]") {
  const auto list = budgets::parse_budgets_toml(R"(
[[budget]]
name = "eng"
scope = ["department:engineering"]
limit = "5000 USD"
stages = [95, 50]

[[budget]]
name = "alice"
scope = "user:alice"
period = "daily"
tokens = 200000
mode = "hard"
tz = "Europe/Berlin"
)",
                                                "b.toml");
  REQUIRE(list.size() == 2);
  CHECK(list[0].stages == std::vector<int>{50, 95});
  CHECK(list[1].in_tokens);
  CHECK(list[1].mode == budgets::Mode::hard);
  CHECK(budgets::from_json(budgets::to_json(list[1]), "x") == list[1]);
  CHECK_THROWS_WITH(budgets::parse_budgets_toml("[[budget]]\nname = \"a\"\nlimt = \"5 USD\"\n", "b.toml"),
                    Catch::Contains("b.toml:3: unknown key 'limt'"));
  CHECK_THROWS_WITH(budgets::parse_budgets_toml("[[budget]]\nname = \"a\"\n", "b.toml"), Catch::Contains("needs 'limit'"));
  CHECK_THROWS_WITH(budgets::parse_budgets_toml("[[budget]]\nname = \"a\"\nlimit = \"5 USD\"\n[[budget]]\nname = \"a\"\nlimit = \"6 USD\"\n",
                                                "b.toml"),
                    Catch::Contains("defined twice"));
  CHECK_THROWS_WITH(budgets::parse_budgets_toml("[[budget]\n", "b.toml"), Catch::Contains("b.toml:1"));
}

TEST_CASE("quota identity matching", "[budgets]") {
  budgets::Budget b;
  b.scope = {"department:eng", "user:alice"};
  budgets::Identity who{{{usage::Dim::user, "alice"}, {usage::Dim::department, "eng"}}};
  CHECK(budgets::applies_to(b, who));
  budgets::Identity other{{{usage::Dim::user, "alice"}}};
  CHECK_FALSE(budgets::applies_to(b, other));
  b.scope = {"organization"};
  CHECK(budgets::applies_to(b, other));
}
