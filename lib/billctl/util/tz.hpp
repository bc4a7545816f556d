// IANA time zones from the system's TZif files (/usr/share/zoneinfo, or $TZDIR), without the C
// library's global TZ state: the UTC offset at an instant, and local calendar boundaries in UTC.
// Instants after the file's last transition follow its POSIX TZ footer (Mm.w.d rules).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "billctl/util/time.hpp"

namespace billctl::util {

class TimeZone {
 public:
  // UTC.
  TimeZone();
  // Loads a zone by IANA name ("Europe/Berlin", "UTC"). Throws UsageError naming the zone.
  static TimeZone load(const std::string& name, const std::string& tzdir = "/usr/share/zoneinfo");

  const std::string& name() const { return m_name; }
  // Seconds east of UTC in force at instant t.
  int32_t offset_at(Seconds t) const;
  // The instant at which local wall-clock time `local` (seconds since the epoch as if local were
  // UTC) occurs; for a skipped local time, the instant just after the gap.
  Seconds to_utc(Seconds local) const;
  // Local midnight starting the given civil day, as an instant.
  Seconds day_start(int64_t local_day) const { return to_utc(local_day * 86400); }
  // The local civil day of an instant.
  int64_t local_day(Seconds t) const { return day_of(t + offset_at(t)); }

 private:
  struct Rule {  // POSIX TZ footer
    bool valid = false;
    int32_t std_offset = 0, dst_offset = 0;
    bool has_dst = false;
    int start_month = 0, start_week = 0, start_wday = 0, start_time = 7200;
    int end_month = 0, end_week = 0, end_wday = 0, end_time = 7200;
  };
  int32_t rule_offset(Seconds t) const;

  std::string m_name = "UTC";
  std::vector<int64_t> m_transitions;
  std::vector<uint8_t> m_types;
  std::vector<int32_t> m_offsets;
  Rule m_rule;
};

}  // namespace billctl::util
