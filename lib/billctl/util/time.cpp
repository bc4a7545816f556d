#include "billctl/util/time.hpp"

#include <cstdio>
#include <cstring>

namespace billctl::util {

int64_t days_from_civil(const Date& d) {
  int64_t y = d.year;
  const unsigned m = unsigned(d.month);
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + unsigned(d.day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

Date civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{int(y + (m <= 2)), int(m), int(d)};
}

int days_in_month(int year, int month) {
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return k_days[month - 1];
}

int weekday(int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return int(((days % 7) + 7 + 3) % 7);
}

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool parse_ymd(std::string_view s, Date& d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, d.year) || !digits(s, 5, 2, d.month) || !digits(s, 8, 2, d.day)) return false;
  if (d.month < 1 || d.month > 12) return false;
  if (d.day < 1 || d.day > days_in_month(d.year, d.month)) return false;
  return true;
}

}  // namespace

Expected<Seconds> parse_rfc3339(std::string_view s) {
  auto bad = [&] {
    return Expected<Seconds>::fail("invalid timestamp '" + std::string(s.substr(0, 64)) +
                                   "' (expected RFC 3339 such as 2026-10-05T12:00:00Z)");
  };
  Date d;
  if (!parse_ymd(s, d)) return bad();
  if (s.size() < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return bad();
  int hh, mm, ss;
  if (!digits(s, 11, 2, hh) || !digits(s, 14, 2, mm) || !digits(s, 17, 2, ss)) return bad();
  if (hh > 23 || mm > 59 || ss > 60) return bad();
  if (ss == 60) ss = 59;  // leap second: clamp, it cannot move a record to another period
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return bad();
  }
  int offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om))
      return bad();
    if (oh > 23 || om > 59) return bad();
    offset = sign * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  return Seconds(days_from_civil(d) * 86400 + hh * 3600 + mm * 60 + ss - offset);
}

void format_rfc3339(Seconds t, char* out) {
  const int64_t days = day_of(t);
  const int64_t sod = t - days * 86400;
  const Date d = civil_from_days(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year % 10000, d.month, d.day, int(sod / 3600),
                int(sod / 60 % 60), int(sod % 60));
  std::memcpy(out, buf, 20);
}

std::string format_rfc3339(Seconds t) {
  char buf[32];
  format_rfc3339(t, buf);
  return std::string(buf, 20);
}

std::string format_date(int64_t days) {
  const Date d = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

Expected<int64_t> parse_date(std::string_view s) {
  Date d;
  if (s.size() != 10 || !parse_ymd(s, d))
    return Expected<int64_t>::fail("expected a date YYYY-MM-DD");
  return days_from_civil(d);
}

namespace {

Period month_period(int year, int month) {
  Period p;
  p.kind = Period::Kind::month;
  p.begin = days_from_civil({year, month, 1}) * 86400;
  p.end = p.begin + int64_t(days_in_month(year, month)) * 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  p.label = buf;
  return p;
}

Period day_period(int64_t day) {
  Period p;
  p.kind = Period::Kind::day;
  p.begin = day * 86400;
  p.end = p.begin + 86400;
  p.label = format_date(day);
  return p;
}

Period range_period(int64_t first_day, int64_t last_day) {
  Period p;
  p.kind = Period::Kind::range;
  p.begin = first_day * 86400;
  p.end = (last_day + 1) * 86400;
  p.label = format_date(first_day) + ".." + format_date(last_day);
  return p;
}

Period months_period(int y0, int m0, int y1, int m1) {
  Period p = range_period(days_from_civil({y0, m0, 1}), days_from_civil({y1, m1, days_in_month(y1, m1)}));
  return p;
}

Period quarter_period(int y, int q) {
  Period p = months_period(y, 3 * q - 2, y, 3 * q);
  p.kind = Period::Kind::quarter;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-Q%d", y, q);
  p.label = buf;
  return p;
}

Period year_period(int y) {
  Period p = months_period(y, 1, y, 12);
  p.kind = Period::Kind::year;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", y);
  p.label = buf;
  return p;
}

// "7d", "30d", "last-7-days": the count of days, else 0.
int64_t day_count(std::string_view s) {
  std::string_view n;
  if (s.size() >= 2 && s.back() == 'd') n = s.substr(0, s.size() - 1);
  else if (s.starts_with("last-") && s.ends_with("-days")) n = s.substr(5, s.size() - 10);
  if (n.empty() || n.size() > 4) return 0;
  int64_t v = 0;
  for (char c : n)
    if (c < '0' || c > '9') return 0;
    else v = v * 10 + (c - '0');
  return v;
}

}  // namespace

constexpr const char* k_period_forms =
    "YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY, FROM..TO (dates or months), this-month, last-month, today, yesterday, "
    "mtd, ytd, this-week, last-week, Nd or last-N-days";

std::optional<int> parse_weekday(std::string_view name) {
  static constexpr const char* k_names[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  for (int i = 0; i < 7; ++i)
    if (name == k_names[i]) return i;
  return std::nullopt;
}

Expected<Period> parse_period(std::string_view s, Seconds now, int week_start) {
  auto bad = [&](const std::string& why) {
    return Expected<Period>::fail(why);
  };
  const int64_t today = day_of(now);
  const Date td = civil_from_days(today);
  if (s == "this-month") return month_period(td.year, td.month);
  if (s == "last-month") return td.month == 1 ? month_period(td.year - 1, 12) : month_period(td.year, td.month - 1);
  if (s == "today") return day_period(today);
  if (s == "mtd") {
    Period p = range_period(days_from_civil({td.year, td.month, 1}), today);
    return p;
  }
  if (s == "yesterday") return day_period(today - 1);
  if (s == "ytd") return range_period(days_from_civil({td.year, 1, 1}), today);
  // Weeks start on Monday (ISO 8601) unless the config says otherwise.
  const int into_week = (weekday(today) - week_start + 7) % 7;
  if (s == "this-week") return range_period(today - into_week, today - into_week + 6);
  if (s == "last-week") return range_period(today - into_week - 7, today - into_week - 1);
  if (const int64_t n = day_count(s); n > 0 || s == "0d" || s == "last-0-days") {
    if (n < 1 || n > 3660) return bad("a count of days must be 1-3660");
    return range_period(today - n + 1, today);  // the n days ending today
  }
  if (auto dots = s.find(".."); dots != std::string_view::npos) {
    const std::string_view a_text = s.substr(0, dots), b_text = s.substr(dots + 2);
    if (a_text.size() == 7 && b_text.size() == 7) {
      int y0, m0, y1, m1;
      if (a_text[4] != '-' || b_text[4] != '-' || !digits(a_text, 0, 4, y0) || !digits(a_text, 5, 2, m0) ||
          !digits(b_text, 0, 4, y1) || !digits(b_text, 5, 2, m1))
        return bad("expected FROM..TO with months YYYY-MM");
      if (m0 < 1 || m0 > 12 || m1 < 1 || m1 > 12) return bad("month must be 01-12");
      if (y1 * 12 + m1 < y0 * 12 + m0) return bad("the range ends before it starts");
      return months_period(y0, m0, y1, m1);
    }
    auto a = parse_date(a_text);
    auto b = parse_date(b_text);
    if (!a || !b) return bad("expected FROM..TO with dates YYYY-MM-DD or months YYYY-MM");
    if (*b < *a) return bad("the range ends before it starts");
    return range_period(*a, *b);
  }
  if (s.size() == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q')) {
    int y, q;
    if (!digits(s, 0, 4, y) || !digits(s, 6, 1, q) || q < 1 || q > 4) return bad("expected a quarter YYYY-Q1 to YYYY-Q4");
    return quarter_period(y, q);
  }
  if (s.size() == 4) {
    int y;
    if (!digits(s, 0, 4, y)) return bad(std::string("expected ") + k_period_forms);
    return year_period(y);
  }
  if (s.size() == 7 && s[4] == '-') {
    int y, m;
    if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m)) return bad("expected YYYY-MM");
    if (m < 1 || m > 12) return bad("month must be 01-12");
    return month_period(y, m);
  }
  if (s.size() == 10) {
    auto d = parse_date(s);
    if (!d) return bad("expected a date YYYY-MM-DD");
    return day_period(*d);
  }
  return bad(std::string("expected ") + k_period_forms);
}

Expected<Seconds> parse_bound(std::string_view text, Seconds now, bool end, int week_start) {
  if (text.size() > 10 && (text[10] == 'T' || text[10] == 't' || text[10] == ' ')) return parse_rfc3339(text);
  auto p = parse_period(text, now, week_start);
  if (!p) return Expected<Seconds>::fail("expected an RFC 3339 time or " + std::string(k_period_forms));
  return end ? p->end : p->begin;
}

Expected<Period> since_until(std::string_view since, std::string_view until, Seconds now, int week_start) {
  if (since.empty()) return Expected<Period>::fail("--until needs --since");
  auto b = parse_bound(since, now, false, week_start);
  if (!b) return Expected<Period>::fail("invalid --since '" + std::string(since) + "': " + b.error());
  Seconds e = now;
  if (!until.empty()) {
    auto u = parse_bound(until, now, true, week_start);
    if (!u) return Expected<Period>::fail("invalid --until '" + std::string(until) + "': " + u.error());
    e = *u;
  }
  if (e <= *b) return Expected<Period>::fail("--until (" + format_rfc3339(e) + ") is not after --since (" + format_rfc3339(*b) + ")");
  Period p;
  p.begin = *b;
  p.end = e;
  p.kind = Period::Kind::range;
  p.label = *b % 86400 == 0 && e % 86400 == 0 ? format_date(day_of(*b)) + ".." + format_date(day_of(e) - 1)
                                              : format_rfc3339(*b) + ".." + format_rfc3339(e);
  return p;
}

Period previous_period(const Period& p) {
  const int64_t first = day_of(p.begin);
  switch (p.kind) {
    case Period::Kind::month: {
      const Date d = civil_from_days(first);
      return d.month == 1 ? month_period(d.year - 1, 12) : month_period(d.year, d.month - 1);
    }
    case Period::Kind::day:
      return day_period(first - 1);
    case Period::Kind::quarter: {
      const Date d = civil_from_days(first);
      const int q = (d.month - 1) / 3 + 1;
      return q == 1 ? quarter_period(d.year - 1, 4) : quarter_period(d.year, q - 1);
    }
    case Period::Kind::year:
      return year_period(civil_from_days(first).year - 1);
    case Period::Kind::range:
      break;
  }
  if (p.begin % 86400 != 0 || p.end % 86400 != 0) {
    // A range of times (--since/--until): the same length just before.
    Period q;
    q.begin = p.begin - (p.end - p.begin);
    q.end = p.begin;
    q.label = format_rfc3339(q.begin) + ".." + format_rfc3339(q.end);
    return q;
  }
  const int64_t n = p.days();
  return range_period(first - n, first - 1);
}

}  // namespace billctl::util
