// The live view (`billctl usage watch`): right now in one screen — today's spend and requests,
// the last hour's rate, today by hour, month to date against the same point of last month, the
// month's forecast, every budget's burn, the top users / models / features of the last hour and
// the newest anomalies. Built from a usage::Source on each refresh (rollups answer it), rendered
// to lines that fit a width.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
#include "billctl/money/currency.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

namespace billctl::report {

struct LiveTop {
  std::string value;
  money::Decimal cost;
};

struct LiveAnomaly {
  util::Seconds start = 0;
  std::string metric, severity, driver;  // driver: "user bob" or empty
  int64_t times_tenths = 0;              // observed over expected, in tenths (0: nothing expected)
};

struct LiveView {
  util::Seconds now = 0;
  money::Currency currency;
  money::Decimal today;            // UTC day of now, up to now
  int64_t today_requests = 0;
  money::Decimal last_hour;        // [now - 1 h, now)
  int64_t last_hour_requests = 0;
  std::vector<money::Decimal> today_by_hour;  // UTC hours 00 .. the current one
  money::Decimal month_to_date;
  money::Decimal last_month_same_point;  // last month from its start to the same elapsed time
  std::string month, last_month;         // "2026-10", "2026-09"
  // The month's forecast (mean, 80 % band); none while the history is too short for one.
  std::optional<money::Decimal> forecast, forecast_low, forecast_high;
  bool forecast_insufficient = false;
  std::vector<budgets::Status> budgets;
  std::vector<LiveTop> top_users, top_models, top_features;  // last hour, largest first, at most 5
  std::vector<LiveAnomaly> anomalies;                        // the newest first, at most 3 (last 7 days, hourly)
};

LiveView build_live(usage::Source& src, const std::vector<budgets::Budget>& budgets, util::Seconds now,
                    const std::string& tzdir = "/usr/share/zoneinfo");

struct LiveStyle {
  int width = 80;
  bool unicode = false;  // block characters for bars and the sparkline (a terminal)
  bool color = false;
  std::string footer;    // "every 5 s · q quits"
};

// The view as lines (each without a newline), none wider than style.width display columns.
std::vector<std::string> render_live(const LiveView& v, const LiveStyle& style);

}  // namespace billctl::report
