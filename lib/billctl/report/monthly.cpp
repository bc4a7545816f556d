#include "billctl/report/monthly.hpp"

#include "billctl/money/money.hpp"
#include "billctl/render/json.hpp"
#include "billctl/report/breakdown.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::report {

using usage::Dim;

namespace {

constexpr size_t k_top_users = 10;

struct Section {
  const char* id;
  const char* title;
  Dim dim;
};

constexpr Section k_sections[] = {
    {"by_provider", "By provider", Dim::provider},       {"by_model", "By model", Dim::model},
    {"by_department", "By department", Dim::department}, {"by_user", "By user", Dim::user},
    {"by_feature", "By feature", Dim::feature},          {"by_project", "By project", Dim::project},
};

// Fills in days without usage so the trend shows every day of the period.
usage::AggResult with_every_day(usage::AggResult r, const util::Period& p) {
  std::vector<usage::Group> all;
  size_t k = 0;
  for (int64_t d = util::day_of(p.begin); d * 86400 < p.end; ++d) {
    const std::string label = util::format_date(d);
    if (k < r.groups.size() && r.groups[k].keys[0] == label) {
      all.push_back(std::move(r.groups[k++]));
    } else {
      all.push_back(usage::Group{{label}, {}});
    }
  }
  r.groups = std::move(all);
  return r;
}

}  // namespace

std::string percent_text(int64_t tenths, bool sign) { return render::percent_text(tenths, sign) + " %"; }

MonthlyReport build_monthly_report(usage::Source& source, const util::Period& period,
                                   const std::vector<usage::Filter>& where, util::Seconds now) {
  MonthlyReport r;
  r.period = period;
  r.previous = util::previous_period(period);
  r.generated_at = now;
  r.where = where;

  std::vector<usage::AggQuery> queries;
  // Token and cost breakdowns leave meter records out (they are counted in "Metered usage").
  auto q = [&](const util::Period& p, std::vector<Dim> by) {
    queries.push_back(usage::AggQuery{p.begin, p.end, where, std::move(by)});
    queries.back().tokens_only = true;
  };
  q(period, {});
  queries.back().meters = true;
  q(r.previous, {});
  for (const auto& s : k_sections) q(period, {s.dim});
  q(period, {Dim::day});
  // Sessions are counted only where records name them (a store answers that from an index).
  const bool sessions = source.may_have_sessions(period.begin, period.end);
  if (sessions) q(period, {Dim::session});
  std::vector<usage::AggResult> res = source.aggregate(queries);
  r.catalogs = source.catalogs_used(period.begin, period.end);

  r.currency = res[0].currency;
  r.total = res[0].total();
  r.previous_total = res[1].total();
  if (!res[1].groups.empty() && !(res[1].currency == r.currency) && r.previous_total.cost != 0 && r.total.cost != 0)
    throw DataError("the previous period is in " + std::string(res[1].currency.name()) + ", this one in " +
                    std::string(r.currency.name()));
  const int digits = r.currency.minor_units;
  r.cost = r.total.cost_decimal().round(digits);
  r.previous_cost = r.previous_total.cost_decimal().round(digits);
  if (r.previous_total.cost != 0)
    r.change_tenths = share_tenths(r.total.cost - r.previous_total.cost, r.previous_total.cost);

  const usage::AggResult& by_user = res[2 + 3];
  for (const auto& g : by_user.groups)
    if (!g.keys[0].empty()) ++r.active_users;
  if (r.total.requests > 0) r.cost_per_request = r.total.cost_decimal().div_int(r.total.requests).round(4);
  if (r.active_users > 0) r.cost_per_active_user = r.total.cost_decimal().div_int(r.active_users).round(digits);
  if (r.total.requests > 0) r.failed_tenths = share_tenths(r.total.error_requests, r.total.requests);
  if (sessions) {
    // Cost per session: the cost of the records that name a session over how many they name.
    money::i128 in_sessions = 0;
    for (const auto& g : res.back().groups)
      if (!g.keys[0].empty() && g.totals.records > 0) {
        ++r.sessions;
        in_sessions += g.totals.cost;
      }
    if (r.sessions > 0) r.cost_per_session = money::Decimal::from_units(in_sessions).div_int(r.sessions).round(digits);
  }

  for (size_t i = 0; i < std::size(k_sections); ++i) {
    res[2 + i].currency = r.currency;
    r.breakdowns.push_back(breakdown_table({k_sections[i].id, k_sections[i].title, {k_sections[i].dim}}, res[2 + i]));
  }
  for (const auto& g : res[2 + 1].groups)
    if (g.totals.unpriced_records > 0) r.unpriced_models.push_back(g.keys[0]);

  r.top_users = breakdown_table({"top_users", "Top consumers", {Dim::user}, Order::cost_desc, k_top_users}, by_user);
  r.top_users.currency = r.currency;
  usage::AggResult daily = with_every_day(res[2 + std::size(k_sections)], period);
  daily.currency = r.currency;
  r.daily = breakdown_table({"daily", "Daily trend", {Dim::day}, Order::key_asc}, daily);
  r.meters = meters_table(res[0].meters, false);
  return r;
}

namespace {

std::string filters_text(const std::vector<usage::Filter>& where) {
  std::string s;
  for (const auto& f : where) {
    for (const auto& v : f.values) {
      if (!s.empty()) s += ' ';
      s += std::string(usage::dim_name(f.dim)) + "=" + v;
    }
  }
  return s;
}

render::Table summary_table(const MonthlyReport& r) {
  using render::Column;
  using render::Kind;
  using render::Value;
  render::Table t;
  t.id = "summary";
  t.title = "Summary";
  t.currency = r.currency;
  t.columns = {{"metric", "metric", Kind::text}, {"value", "value", Kind::text}, {"note", "note", Kind::text}};
  const std::string cur(r.currency.name());
  const int digits = r.currency.minor_units;
  auto row = [&](std::string m, std::string v, std::string n = {}) {
    t.rows.push_back({Value::of_text(std::move(m)), Value::of_text(std::move(v)), Value::of_text(std::move(n))});
  };
  std::string change = r.change_tenths ? percent_text(*r.change_tenths, true) + " vs " + r.previous.label + " (" +
                                             r.previous_cost.format(digits) + " " + cur + ")"
                                       : "no cost in " + r.previous.label;
  row("Total cost", r.cost.format(digits) + " " + cur, change);
  row("Requests", util::group_thousands(r.total.requests));
  row("Tokens", util::group_thousands(r.total.tokens()),
      "input " + util::group_thousands(r.total.input_tokens) + ", cached " + util::group_thousands(r.total.cached_input_tokens) +
          ", cache writes 5m " + util::group_thousands(r.total.cache_write_tokens) + ", 1h " +
              util::group_thousands(r.total.cache_write_1h_tokens) +
          ", output " + util::group_thousands(r.total.output_tokens));
  row("Active users", util::group_thousands(r.active_users));
  row("Cost per request", r.cost_per_request ? r.cost_per_request->format(4) + " " + cur : "-");
  row("Cost per active user", r.cost_per_active_user ? r.cost_per_active_user->format(digits) + " " + cur : "-");
  if (r.sessions > 0)
    row("Cost per session", r.cost_per_session->format(digits) + " " + cur, util::group_thousands(r.sessions) + " sessions");
  row("Failed requests", percent_text(r.failed_tenths, false), util::group_thousands(r.total.error_requests) + " of " +
                                                                   util::group_thousands(r.total.requests));
  if (r.total.unpriced_records > 0) {
    std::string models;
    for (const auto& m : r.unpriced_models) models += (models.empty() ? "" : ", ") + m;
    row("Unpriced records", util::group_thousands(r.total.unpriced_records), "not in the cost: " + models);
  }
  return t;
}

std::string catalogs_text(const MonthlyReport& r) {
  if (r.catalogs.empty()) return "none (no usage)";
  std::string s;
  for (const auto& c : r.catalogs) {
    if (!s.empty()) s += "; ";
    s += c.name + " sha256:" + c.hash.substr(0, 12) + " (as of " + c.as_of + ")";
  }
  return s;
}

}  // namespace

std::string render_report(const MonthlyReport& r, OutputFormat f, const render::TextStyle& style, size_t rows) {
  switch (f) {
    case OutputFormat::table: {
      std::string out;
      out += "billctl report " + r.period.label + "  (" + util::format_rfc3339(r.period.begin) + " .. " +
             util::format_rfc3339(r.period.end) + ")\n";
      if (!r.where.empty()) out += "filter  " + filters_text(r.where) + "\n";
      out += "catalog " + catalogs_text(r) + "\n\n";
      out += render::to_text(summary_table(r), style) + "\n";
      if (r.total.records == 0) {
        out += "No usage in " + r.period.label + ".\n";
        return out;
      }
      for (const auto& t : r.breakdowns) {
        bool blank_only = t.rows.size() == 1 && t.rows[0][0].text.empty();
        if (blank_only) continue;  // nothing attributed on this dimension
        if (rows == 0 || t.rows.size() <= rows) {
          out += render::to_text(t, style) + "\n";
          continue;
        }
        // The top rows; the totals row stays the whole breakdown's.
        render::Table top = t;
        top.rows.resize(rows);
        const size_t more = t.rows.size() - rows;
        out += render::to_text(top, style);
        out.append("  \u2026 ").append(util::group_thousands(int64_t(more))).append(" more ").append(t.columns[0].title);
        out.append(more == 1 ? "" : "s").append(" (use --all or --format csv)\n\n");
      }
      out += render::to_text(r.top_users, style) + "\n";
      out += render::to_text(r.daily, style);
      if (!r.meters.rows.empty()) out += "\n" + render::to_text(r.meters, style);
      return out;
    }
    case OutputFormat::csv: {
      // One tidy table: the totals row as section "total", then every breakdown row with its
      // section (the dimension) and its value in the "key" column.
      auto keyed = [](render::Table t) {
        t.columns[0].id = "key";
        return t;
      };
      render::Table total = keyed(r.breakdowns[0]);
      total.rows = {total.total};
      total.rows[0][0] = render::Value::of_text("");
      std::string out = render::to_csv(total, true, "total");
      for (const auto& t : r.breakdowns) out += render::to_csv(keyed(t), false, t.id.substr(3));
      out += render::to_csv(keyed(r.daily), false, "day");
      return out;
    }
    case OutputFormat::json: {
      using render::Json;
      const int digits = r.currency.minor_units;
      Json j;
      j["schema_version"] = 1;
      j["kind"] = "billctl.report.monthly";
      j["period"] = {{"label", r.period.label},
                     {"start", util::format_rfc3339(r.period.begin)},
                     {"end", util::format_rfc3339(r.period.end)}};
      j["previous_period"] = {{"label", r.previous.label},
                              {"start", util::format_rfc3339(r.previous.begin)},
                              {"end", util::format_rfc3339(r.previous.end)}};
      j["generated_at"] = util::format_rfc3339(r.generated_at);
      Json filters = Json::object();
      for (const auto& f2 : r.where) filters[std::string(usage::dim_name(f2.dim))] = f2.values;
      j["filters"] = filters;
      Json cats = Json::array();
      for (const auto& c : r.catalogs) cats.push_back({{"name", c.name}, {"sha256", c.hash}, {"as_of", c.as_of}});
      j["catalogs"] = cats;
      j["currency"] = std::string(r.currency.name());
      auto totals = [&](const usage::Totals& t, const money::Decimal& cost) {
        return Json{{"records", t.records},
                    {"requests", t.requests},
                    {"error_requests", t.error_requests},
                    {"input_tokens", t.input_tokens},
                    {"cached_input_tokens", t.cached_input_tokens},
                    {"cache_write_tokens", t.cache_write_tokens},
                    {"cache_write_1h_tokens", t.cache_write_1h_tokens},
                    {"output_tokens", t.output_tokens},
                    {"unpriced_records", t.unpriced_records},
                    {"cost", render::money_json(cost, digits, r.currency)},
                    {"cost_exact", t.cost_decimal().to_string()}};
      };
      j["totals"] = totals(r.total, r.cost);
      j["previous_totals"] = totals(r.previous_total, r.previous_cost);
      j["change_pct"] = r.change_tenths ? Json(render::plain({"", "", render::Kind::percent}, render::Value::of_percent(*r.change_tenths))) : Json(nullptr);
      j["active_users"] = r.active_users;
      j["cost_per_request"] = r.cost_per_request ? render::money_json(*r.cost_per_request, 4, r.currency) : Json(nullptr);
      j["cost_per_active_user"] = r.cost_per_active_user ? render::money_json(*r.cost_per_active_user, digits, r.currency) : Json(nullptr);
      j["sessions"] = r.sessions;
      j["cost_per_session"] = r.cost_per_session ? render::money_json(*r.cost_per_session, digits, r.currency) : Json(nullptr);
      j["failed_request_pct"] = render::plain({"", "", render::Kind::percent}, render::Value::of_percent(r.failed_tenths));
      j["unpriced_models"] = r.unpriced_models;
      Json b = Json::object();
      for (const auto& t : r.breakdowns) b[t.id.substr(3)] = render::rows_json(t);
      j["breakdowns"] = b;
      j["top_users"] = render::rows_json(r.top_users);
      j["daily"] = render::rows_json(r.daily);
      j["meters"] = render::rows_json(r.meters);
      return render::dump(j);
    }
  }
  return {};
}

}  // namespace billctl::report
