#include <catch2/catch.hpp>

#include "billctl/util/time.hpp"

using namespace billctl::util;

TEST_CASE("RFC 3339 timestamps", "[time]") {
  CHECK(*parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(*parse_rfc3339("2026-10-05T12:34:56Z") == 1791203696);
  CHECK(*parse_rfc3339("2026-10-05T14:34:56+02:00") == 1791203696);
  CHECK(*parse_rfc3339("2026-10-05 12:34:56.999z") == 1791203696);
  CHECK(*parse_rfc3339("2026-10-05T07:34:56-05:00") == 1791203696);
  CHECK(*parse_rfc3339("2024-02-29T00:00:00Z") == 1709164800);
  for (const char* bad : {"", "2026-10-05", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-10-05T24:00:00Z",
                          "2026-10-05T12:34:56", "2026-10-05T12:34:56+2:00", "2026-10-05T12:34:56Zjunk",
                          "2025-02-29T00:00:00Z", "2026-10-05T12:34:56."})
    CHECK_FALSE(parse_rfc3339(bad));
  CHECK(format_rfc3339(1791203696) == "2026-10-05T12:34:56Z");
}

TEST_CASE("civil dates", "[time]") {
  for (int64_t d = -1000; d < 100000; d += 37) CHECK(days_from_civil(civil_from_days(d)) == d);
  CHECK(weekday(days_from_civil({2026, 11, 23})) == 0);  // a Monday
  CHECK(weekday(days_from_civil({2026, 11, 29})) == 6);
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(2100, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
}

TEST_CASE("periods", "[time]") {
  const Seconds now = *parse_rfc3339("2026-11-02T08:00:00Z");
  auto p = [&](const char* s) { return parse_period(s, now).value_or_throw(); };
  CHECK(p("2026-10").begin == *parse_rfc3339("2026-10-01T00:00:00Z"));
  CHECK(p("2026-10").end == *parse_rfc3339("2026-11-01T00:00:00Z"));
  CHECK(p("2026-10-05").end - p("2026-10-05").begin == 86400);
  CHECK(p("2026-10-01..2026-10-15").days() == 15);
  CHECK(p("this-month").label == "2026-11");
  CHECK(p("last-month").label == "2026-10");
  CHECK(p("today").label == "2026-11-02");
  CHECK(p("mtd").label == "2026-11-01..2026-11-02");
  CHECK(parse_period("last-month", *parse_rfc3339("2026-01-15T00:00:00Z"))->label == "2025-12");
  CHECK(previous_period(p("2026-03")).label == "2026-02");
  CHECK(previous_period(p("2026-01")).label == "2025-12");
  CHECK(previous_period(p("2026-10-05")).label == "2026-10-04");
  CHECK(previous_period(p("2026-10-11..2026-10-20")).label == "2026-10-01..2026-10-10");
  for (const char* bad : {"2026-13", "2026-1", "yesterday-ish", "2026-10-20..2026-10-01", "2026-10-32", ""})
    CHECK_FALSE(parse_period(bad, now));
  CHECK(parse_period("2026-13", now).error() == "month must be 01-12");
}

TEST_CASE("periods people type", "[time]") {
  const Seconds now = *parse_rfc3339("2026-11-04T08:00:00Z");  // a Wednesday
  auto p = [&](const char* s) { return parse_period(s, now).value_or_throw(); };
  CHECK(p("yesterday").label == "2026-11-03");
  CHECK(p("7d").label == "2026-10-29..2026-11-04");
  CHECK(p("last-7-days").label == "2026-10-29..2026-11-04");
  CHECK(p("30d").days() == 30);
  CHECK(p("1d").label == "2026-11-04..2026-11-04");
  CHECK(p("this-week").label == "2026-11-02..2026-11-08");  // Monday to Sunday
  CHECK(p("last-week").label == "2026-10-26..2026-11-01");
  CHECK(parse_period("this-week", *parse_rfc3339("2026-11-08T23:00:00Z"))->label == "2026-11-02..2026-11-08");  // Sunday
  CHECK(parse_period("this-week", *parse_rfc3339("2026-11-09T00:00:00Z"))->label == "2026-11-09..2026-11-15");  // Monday
  CHECK(p("ytd").label == "2026-01-01..2026-11-04");
  // A configured week start: Sunday-first weeks (6), Saturday-first (5).
  CHECK(parse_period("this-week", now, 6)->label == "2026-11-01..2026-11-07");
  CHECK(parse_period("last-week", now, 6)->label == "2026-10-25..2026-10-31");
  CHECK(parse_period("this-week", *parse_rfc3339("2026-11-01T00:00:00Z"), 6)->label == "2026-11-01..2026-11-07");  // a Sunday
  CHECK(parse_period("this-week", *parse_rfc3339("2026-10-31T23:59:59Z"), 6)->label == "2026-10-25..2026-10-31");  // Saturday
  CHECK(parse_period("this-week", now, 5)->label == "2026-10-31..2026-11-06");
  CHECK(since_until("last-week", "", now, 6)->begin == *parse_rfc3339("2026-10-25T00:00:00Z"));
  CHECK(parse_weekday("sunday") == 6);
  CHECK(parse_weekday("monday") == 0);
  CHECK(!parse_weekday("Sun"));
  CHECK(p("2026-Q3").label == "2026-Q3");
  CHECK(p("2026-Q3").begin == *parse_rfc3339("2026-07-01T00:00:00Z"));
  CHECK(p("2026-Q3").end == *parse_rfc3339("2026-10-01T00:00:00Z"));
  CHECK(p("2026-q1").label == "2026-Q1");
  CHECK(previous_period(p("2026-Q1")).label == "2025-Q4");
  CHECK(previous_period(p("2026-Q3")).label == "2026-Q2");
  CHECK(p("2026").begin == *parse_rfc3339("2026-01-01T00:00:00Z"));
  CHECK(p("2026").end == *parse_rfc3339("2027-01-01T00:00:00Z"));
  CHECK(previous_period(p("2026")).label == "2025");
  CHECK(p("2026-07..2026-09").label == "2026-07-01..2026-09-30");
  CHECK(p("2025-12..2026-02").days() == 31 + 31 + 28);
  for (const char* bad : {"0d", "3661d", "last-x-days", "2026-Q5", "2026-Q0", "2026-09..2026-07", "2026-07..2026-13", "20x6", "d"})
    CHECK_FALSE(parse_period(bad, now));
  CHECK(parse_period("0d", now).error() == "a count of days must be 1-3660");
}

TEST_CASE("since and until bounds", "[time]") {
  const Seconds now = *parse_rfc3339("2026-11-04T08:00:00Z");
  CHECK(*parse_bound("2026-10-05", now, false) == *parse_rfc3339("2026-10-05T00:00:00Z"));
  CHECK(*parse_bound("2026-10-05", now, true) == *parse_rfc3339("2026-10-06T00:00:00Z"));
  CHECK(*parse_bound("2026-10-05T12:00:00+02:00", now, true) == *parse_rfc3339("2026-10-05T10:00:00Z"));
  CHECK(*parse_bound("7d", now, false) == *parse_rfc3339("2026-10-29T00:00:00Z"));
  CHECK_FALSE(parse_bound("soon", now, false));
  auto p = since_until("2026-10-05", "2026-10-07", now);
  REQUIRE(p);
  CHECK(p->label == "2026-10-05..2026-10-07");
  CHECK(p->days() == 3);
  CHECK(previous_period(*p).label == "2026-10-02..2026-10-04");
  auto q = since_until("2026-11-04T06:00:00Z", "", now);
  REQUIRE(q);
  CHECK(q->end == now);
  CHECK(q->label == "2026-11-04T06:00:00Z..2026-11-04T08:00:00Z");
  CHECK(previous_period(*q).label == "2026-11-04T04:00:00Z..2026-11-04T06:00:00Z");
  CHECK(since_until("", "2026-10-07", now).error() == "--until needs --since");
  CHECK_FALSE(since_until("2026-10-07", "2026-10-05", now));
}
