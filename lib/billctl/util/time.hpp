// Civil time in UTC without the C library's time zone state: RFC 3339 parsing and printing,
// days <-> dates (Howard Hinnant's algorithms), and the report periods of SPEC §2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "billctl/util/error.hpp"

namespace billctl::util {

using Seconds = int64_t;  // seconds since 1970-01-01T00:00:00Z

struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend bool operator==(const Date&, const Date&) = default;
};

int64_t days_from_civil(const Date& d);
Date civil_from_days(int64_t days);
int days_in_month(int year, int month);
// 0 = Monday .. 6 = Sunday
int weekday(int64_t days);

// Parses RFC 3339 ("2026-10-05T12:34:56Z", "...56.123+02:00", 'T' or ' ' separator).
// Fractions of a second are accepted and truncated.
Expected<Seconds> parse_rfc3339(std::string_view text);
// "2026-10-05T12:34:56Z"
std::string format_rfc3339(Seconds t);
// Writes exactly 20 characters of RFC 3339 UTC into out.
void format_rfc3339(Seconds t, char* out);
// "2026-10-05"
std::string format_date(int64_t days);
// Parses "2026-10-05".
Expected<int64_t> parse_date(std::string_view text);

inline int64_t day_of(Seconds t) { return t >= 0 ? t / 86400 : (t - 86399) / 86400; }
// The month of a UTC day as one number, year * 12 + month - 1 (2026-10 is 24321).
inline int64_t month_of_day(int64_t days) {
  const Date d = civil_from_days(days);
  return int64_t(d.year) * 12 + d.month - 1;
}

// A half-open interval of time [begin, end) with the text that named it.
struct Period {
  Seconds begin = 0;
  Seconds end = 0;
  std::string label;  // "2026-10", "2026-10-05", "2026-10-01..2026-10-15"
  enum class Kind { month, day, range, quarter, year } kind = Kind::range;

  bool contains(Seconds t) const { return t >= begin && t < end; }
  int64_t days() const { return (end - begin + 86399) / 86400; }
};

// Parses a period: 2026-10, 2026-10-05, 2026-10-01..2026-10-15 (inclusive), 2026-07..2026-09,
// 2026-Q3, 2026, this-month, last-month, today, yesterday, mtd, ytd, this-week, last-week, 7d,
// last-7-days. Relative names are resolved against `now`; weeks start on `week_start`
// (0 Monday, as ISO 8601, ... 6 Sunday).
Expected<Period> parse_period(std::string_view text, Seconds now, int week_start = 0);
// "monday" .. "sunday" -> 0 .. 6 (the config's week_start); nullopt for anything else.
std::optional<int> parse_weekday(std::string_view name);
// The period of the same shape just before p: the previous month, quarter, year, day, or range
// of the same length.
Period previous_period(const Period& p);
// A time for --since / --until: RFC 3339 as written, else any period form, whose start (`end`
// false) or end (`end` true) it stands for: --since 7d --until yesterday.
Expected<Seconds> parse_bound(std::string_view text, Seconds now, bool end, int week_start = 0);
// [since, until) from --since and --until (until defaults to now); label "2026-10-05..2026-10-07"
// when both fall on UTC midnights, else the two RFC 3339 times.
Expected<Period> since_until(std::string_view since, std::string_view until, Seconds now, int week_start = 0);

}  // namespace billctl::util
