#include "billctl/util/tz.hpp"

#include <algorithm>
#include <cstring>

#include "billctl/util/error.hpp"
#include "billctl/util/io.hpp"

namespace billctl::util {

namespace {

uint32_t be32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
int64_t be64(const unsigned char* p) { return int64_t(uint64_t(be32(p)) << 32 | be32(p + 4)); }

// Parses "[+-]hh[:mm[:ss]]"; POSIX offsets are positive west of Greenwich.
bool parse_hms(const std::string& s, size_t& i, int32_t& out) {
  int sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  int parts[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i >= s.size() || s[i] != ':') break;
      ++i;
    }
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') parts[k] = parts[k] * 10 + (s[i++] - '0');
    if (i == start) return false;
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool skip_name(const std::string& s, size_t& i) {
  if (i < s.size() && s[i] == '<') {
    const size_t close = s.find('>', i);
    if (close == std::string::npos) return false;
    i = close + 1;
    return true;
  }
  const size_t start = i;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
  return i - start >= 3;
}

// "Mm.w.d[/time]"
bool parse_date_rule(const std::string& s, size_t& i, int& month, int& week, int& wday, int& time) {
  if (i >= s.size() || s[i] != 'M') return false;
  ++i;
  int* fields[3] = {&month, &week, &wday};
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    int v = 0;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    if (i == start) return false;
    *fields[k] = v;
  }
  time = 7200;
  if (i < s.size() && s[i] == '/') {
    ++i;
    int32_t t;
    if (!parse_hms(s, i, t)) return false;
    time = t;
  }
  return true;
}

// The day (days since epoch) of the w-th (5 = last) weekday d (0 = Sunday) of month m in year y.
int64_t rule_day(int y, int m, int w, int d) {
  const int64_t first = days_from_civil({y, m, 1});
  const int first_wday = (weekday(first) + 1) % 7;  // weekday() has Monday = 0; POSIX Sunday = 0
  int64_t day = first + (d - first_wday + 7) % 7 + int64_t(w - 1) * 7;
  while (day >= first + days_in_month(y, m)) day -= 7;
  return day;
}

}  // namespace

TimeZone::TimeZone() = default;

TimeZone TimeZone::load(const std::string& name, const std::string& tzdir) {
  TimeZone tz;
  tz.m_name = name;
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return tz;
  if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos)
    throw UsageError("invalid time zone '" + name + "': expected an IANA name such as Europe/Berlin");
  std::string data;
  try {
    data = read_file(tzdir + "/" + name);
  } catch (const DataError&) {
    throw UsageError("unknown time zone '" + name + "' (expected an IANA name such as Europe/Berlin; is tzdata installed?)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  auto bad = [&]() { return DataError("time zone file for '" + name + "' is not valid TZif"); };
  if (n < 44 || std::memcmp(p, "TZif", 4) != 0) throw bad();
  auto counts = [&](size_t at, uint32_t c[6]) {
    if (at + 44 > n) throw bad();
    for (int i = 0; i < 6; ++i) c[i] = be32(p + at + 20 + 4 * i);
  };
  uint32_t c[6];
  counts(0, c);
  size_t at = 44;
  const bool v2 = p[4] >= '2';
  int time_size = 4;
  if (v2) {
    // Skip the 32-bit block; use the 64-bit one.
    at += size_t(c[3]) * 4 + c[3] + size_t(c[4]) * 6 + c[5] + size_t(c[2]) * 8 + c[1] + c[0];
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  const uint32_t isut = c[0], isstd = c[1], leap = c[2], timecnt = c[3], typecnt = c[4], charcnt = c[5];
  const size_t need = size_t(timecnt) * time_size + timecnt + size_t(typecnt) * 6 + charcnt +
                      size_t(leap) * (time_size + 4) + isstd + isut;
  if (at + need > n || typecnt == 0) throw bad();
  for (uint32_t i = 0; i < timecnt; ++i)
    tz.m_transitions.push_back(time_size == 8 ? be64(p + at + 8 * i) : int64_t(int32_t(be32(p + at + 4 * i))));
  at += size_t(timecnt) * time_size;
  for (uint32_t i = 0; i < timecnt; ++i) {
    if (p[at + i] >= typecnt) throw bad();
    tz.m_types.push_back(p[at + i]);
  }
  at += timecnt;
  for (uint32_t i = 0; i < typecnt; ++i) tz.m_offsets.push_back(int32_t(be32(p + at + 6 * i)));
  at += size_t(typecnt) * 6 + charcnt + size_t(leap) * (time_size + 4) + isstd + isut;
  // Footer: "\n<POSIX TZ>\n".
  if (v2 && at < n && p[at] == '\n') {
    const size_t end = data.find('\n', at + 1);
    const std::string rule = data.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    size_t i = 0;
    Rule r;
    int32_t off;
    if (skip_name(rule, i) && parse_hms(rule, i, off)) {
      r.std_offset = -off;
      r.valid = true;
      if (i < rule.size()) {
        r.has_dst = skip_name(rule, i);
        r.dst_offset = r.std_offset + 3600;
        if (r.has_dst && i < rule.size() && rule[i] != ',') {
          int32_t d;
          if (parse_hms(rule, i, d)) r.dst_offset = -d;
        }
        if (r.has_dst) {
          r.valid = i < rule.size() && rule[i++] == ',' &&
                    parse_date_rule(rule, i, r.start_month, r.start_week, r.start_wday, r.start_time) &&
                    i < rule.size() && rule[i++] == ',' &&
                    parse_date_rule(rule, i, r.end_month, r.end_week, r.end_wday, r.end_time);
        }
      }
    }
    tz.m_rule = r;
  }
  return tz;
}

int32_t TimeZone::rule_offset(Seconds t) const {
  if (!m_rule.has_dst) return m_rule.std_offset;
  const int y = civil_from_days(day_of(t + m_rule.std_offset)).year;
  // Transition instants in UTC: start is given in standard local time, end in daylight time.
  const Seconds start = rule_day(y, m_rule.start_month, m_rule.start_week, m_rule.start_wday) * 86400 +
                        m_rule.start_time - m_rule.std_offset;
  const Seconds end =
      rule_day(y, m_rule.end_month, m_rule.end_week, m_rule.end_wday) * 86400 + m_rule.end_time - m_rule.dst_offset;
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);  // southern hemisphere
  return dst ? m_rule.dst_offset : m_rule.std_offset;
}

int32_t TimeZone::offset_at(Seconds t) const {
  if (m_offsets.empty()) return 0;
  if (m_transitions.empty() || t < m_transitions.front()) {
    if (m_transitions.empty() && m_rule.valid) return rule_offset(t);
    return m_offsets[0];
  }
  if (t >= m_transitions.back() && m_rule.valid) return rule_offset(t);
  const auto it = std::upper_bound(m_transitions.begin(), m_transitions.end(), t);
  return m_offsets[m_types[size_t(it - m_transitions.begin()) - 1]];
}

Seconds TimeZone::to_utc(Seconds local) const {
  // The offsets in force a day before and a day after bracket any transition near `local`.
  const int32_t before = offset_at(local - 86400 - 50400);
  const int32_t after = offset_at(local + 86400 + 50400);
  const Seconds t_before = local - before;  // `local` read with the earlier offset
  const Seconds t_after = local - after;    // ... and with the later one
  const bool ok_before = t_before + offset_at(t_before) == local;
  const bool ok_after = t_after + offset_at(t_after) == local;
  if (ok_before && ok_after) return std::min(t_before, t_after);  // a repeated time: its first occurrence
  if (ok_before) return t_before;
  if (ok_after) return t_after;
  // Other offsets (two transitions within the window): settle by iteration.
  Seconds t = local - offset_at(local);
  t = local - offset_at(t);
  if (t + offset_at(t) == local) return t;
  // A skipped local time (e.g. midnight on a day whose DST starts at 00:00): the first instant
  // after the gap, which is the transition itself. Local time runs up to `local` with the earlier
  // offset and resumes past it with the later one, so the transition lies in (t_after, t_before].
  Seconds lo = std::min(t_after, t_before), hi = std::max(t_after, t_before);
  const int32_t later = offset_at(hi);
  while (lo + 1 < hi) {  // first instant with the later offset
    const Seconds mid = lo + (hi - lo) / 2;
    if (offset_at(mid) == later) hi = mid;
    else lo = mid;
  }
  return hi;
}

}  // namespace billctl::util
