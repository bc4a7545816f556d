#include "billctl/budgets/budget.hpp"
#include "billctl/util/toml_guard.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "billctl/util/strings.hpp"

namespace billctl::budgets {

namespace {

const std::vector<std::string> k_scope_keys{"organization", "department", "user", "feature", "project", "model", "provider"};

std::string first_of_month_label(int64_t local_day) {
  const util::Date d = util::civil_from_days(local_day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", d.year, d.month);
  return buf;
}

}  // namespace

std::string_view period_name(Period p) { return p == Period::monthly ? "monthly" : "daily"; }
std::string_view mode_name(Mode m) { return m == Mode::soft ? "soft" : "hard"; }

namespace {
// "invalid --limit 'X': why" for a flag (origin "--limit"), "FILE:LINE: invalid limit 'X': why" for a file.
UsageError bad_value(const std::string& origin, const char* what, const std::string& text, const std::string& why) {
  if (origin.rfind("--", 0) == 0) return UsageError("invalid " + origin + " '" + text + "': " + why);
  return UsageError(origin + ": invalid " + what + " '" + text + "': " + why);
}
}  // namespace

void parse_limit(Budget& b, const std::string& text, const std::string& origin) {
  const auto parts = util::split(util::trim(text), ' ');
  std::vector<std::string_view> words;
  for (auto p : parts)
    if (!p.empty()) words.push_back(p);
  if (words.empty() || words.size() > 2)
    throw bad_value(origin, "limit", text, std::string("expected an amount and a currency (\"5000 USD\") or tokens (\"2500000 tokens\")"));
  auto amount = money::Decimal::parse(words[0]);
  if (!amount || amount->negative() || amount->is_zero())
    throw bad_value(origin, "limit", text, "the amount must be a positive number");
  if (words.size() == 2 && (words[1] == "tokens" || words[1] == "token")) {
    if (amount->round(0) != *amount) throw bad_value(origin, "limit", text, "tokens are whole");
    b.in_tokens = true;
    b.currency = money::Currency();
    b.limit = *amount;
    return;
  }
  b.in_tokens = false;
  b.limit = *amount;
  b.currency = money::k_usd;
  if (words.size() == 2) {
    auto c = money::find_currency(words[1]);
    if (!c) throw bad_value(origin, "limit", text, c.error());
    b.currency = *c;
  }
  if (b.limit.round(b.currency.minor_units) != b.limit)
    throw bad_value(origin, "limit", text, std::string("more decimals than " + std::string(b.currency.name()) + " has"));
}

std::vector<int> parse_stages(const std::string& text, const std::string& origin) {
  std::vector<int> out;
  for (auto part : util::split(text, ',')) {
    int64_t v = 0;
    part = util::trim(part);
    if (!part.empty() && part.back() == '%') part.remove_suffix(1);
    if (!util::parse_u63(part, v) || v < 1 || v > 1000)
      throw bad_value(origin, "stages", text, "expected percents from 1 to 1000 such as 50,80,95,100");
    out.push_back(int(v));
  }
  return out;
}

void validate(Budget& b, const std::string& origin) {
  if (b.name.empty() || b.name.size() > 100 ||
      !std::all_of(b.name.begin(), b.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      }))
    throw UsageError(origin + ": invalid budget name '" + b.name + "': use letters, digits, '-', '_' and '.'");
  if (b.limit.is_zero()) throw UsageError(origin + ": budget '" + b.name + "' has no limit");
  std::sort(b.stages.begin(), b.stages.end());
  b.stages.erase(std::unique(b.stages.begin(), b.stages.end()), b.stages.end());
  if (b.stages.empty()) throw UsageError(origin + ": budget '" + b.name + "' has no alert stages");
  if (b.scope.empty()) b.scope = {"organization"};
  std::vector<std::string> keys_seen;
  for (const auto& term : b.scope) {
    const auto colon = term.find(':');
    const std::string key = term.substr(0, colon);
    if (std::find(k_scope_keys.begin(), k_scope_keys.end(), key) == k_scope_keys.end()) {
      const std::string hint = util::did_you_mean(key, k_scope_keys);
      throw UsageError(origin + ": invalid scope '" + term + "': expected organization, department:NAME, user:NAME, "
                       "feature:NAME, project:NAME, model:NAME or provider:NAME" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (colon == std::string::npos && key != "organization")
      throw UsageError(origin + ": invalid scope '" + term + "': '" + key + "' needs a value, e.g. " + key + ":NAME");
    if (colon != std::string::npos && colon + 1 == term.size())
      throw UsageError(origin + ": invalid scope '" + term + "': empty value");
    if (std::find(keys_seen.begin(), keys_seen.end(), key) != keys_seen.end())
      throw UsageError(origin + ": invalid scope: '" + key + "' given twice in budget '" + b.name + "'");
    keys_seen.push_back(key);
  }
  // "organization" with other terms adds nothing.
  if (b.scope.size() > 1) std::erase(b.scope, std::string("organization"));
  std::sort(b.scope.begin(), b.scope.end());
  try {
    util::TimeZone::load(b.tz);
  } catch (const UsageError& e) {
    throw UsageError(origin + ": " + e.what());  // an unknown zone, named with the file and line
  }
}

std::vector<usage::Filter> scope_filters(const Budget& b) {
  std::vector<std::string> items;
  for (const auto& term : b.scope) {
    const auto colon = term.find(':');
    if (colon == std::string::npos) continue;  // "organization": everything
    items.push_back(term.substr(0, colon) + "=" + term.substr(colon + 1));
  }
  return usage::parse_filters(items);
}

std::string scope_text(const Budget& b) {
  std::string s;
  for (const auto& t : b.scope) s += (s.empty() ? "" : " ") + t;
  return s;
}

std::string amount_text(const Budget& b, const money::Decimal& amount) {
  if (b.in_tokens) return util::group_thousands(int64_t(amount.units() / money::Decimal::k_one)) + " tokens";
  return amount.format(b.currency.minor_units) + " " + std::string(b.currency.name());
}

ApplyPlan plan_apply(const std::vector<Budget>& wanted, const std::vector<Budget>& current, bool prune, bool dry_run) {
  ApplyPlan p;
  size_t added = 0, changed = 0;
  for (const auto& b : wanted) {
    auto it = std::find_if(current.begin(), current.end(), [&](const Budget& c) { return c.name == b.name; });
    if (it == current.end()) {
      p.text += "+ " + b.name + ": " + amount_text(b, b.limit) + " " + std::string(period_name(b.period)) + " on " + scope_text(b) + "\n";
      ++added;
      p.put.push_back(b);
    } else if (!(*it == b)) {
      p.text += "~ " + b.name + ":";
      for (const auto& f : changed_fields(*it, b)) p.text += "\n    " + f;
      p.text += "\n";
      ++changed;
      p.put.push_back(b);
    }
  }
  // Only budgets that came from a file are the file's to remove; hand-set ones need prune.
  size_t kept = 0;
  for (const auto& c : current) {
    if (std::any_of(wanted.begin(), wanted.end(), [&](const Budget& b) { return b.name == c.name; })) continue;
    if (c.from_file || prune) {
      p.text += "- " + c.name + (c.from_file ? "" : " (set by hand; --prune)") + "\n";
      p.remove.push_back(c.name);
    } else {
      ++kept;
    }
  }
  p.text += std::to_string(added) + " to add, " + std::to_string(changed) + " to change, " + std::to_string(p.remove.size()) +
            " to remove" + (kept ? ", " + std::to_string(kept) + " set by hand left alone (--prune removes them)" : "") +
            (dry_run ? " (dry run: nothing changed)" : "") + "\n";
  return p;
}

std::string to_json(const Budget& b) {
  nlohmann::ordered_json j;
  j["name"] = b.name;
  j["scope"] = b.scope;
  j["period"] = period_name(b.period);
  j["limit"] = b.in_tokens ? b.limit.to_string() + " tokens" : b.limit.to_string() + " " + std::string(b.currency.name());
  j["stages"] = b.stages;
  j["mode"] = mode_name(b.mode);
  j["tz"] = b.tz;
  if (!b.channels.empty()) j["channels"] = b.channels;
  if (b.from_file) j["managed"] = "file";
  return j.dump();
}

std::vector<std::string> changed_fields(const Budget& a, const Budget& b) {
  auto join = [](const auto& v) {
    std::string s;
    for (const auto& x : v) {
      if (!s.empty()) s += ",";
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, int>) s += std::to_string(x);
      else s += x;
    }
    return s.empty() ? std::string("(none)") : s;
  };
  std::vector<std::string> out;
  auto field = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(std::string(name) + " " + x + " -> " + y);
  };
  field("scope", scope_text(a), scope_text(b));
  field("period", std::string(period_name(a.period)), std::string(period_name(b.period)));
  field("limit", amount_text(a, a.limit), amount_text(b, b.limit));
  field("stages", join(a.stages), join(b.stages));
  field("mode", std::string(mode_name(a.mode)), std::string(mode_name(b.mode)));
  field("tz", a.tz, b.tz);
  field("channels", join(a.channels), join(b.channels));
  if (a.from_file != b.from_file) out.push_back(b.from_file ? "now managed by the file (was set by hand)" : "now set by hand");
  return out;
}

Budget from_json(const std::string& json, const std::string& origin) {
  Budget b;
  try {
    const auto j = nlohmann::json::parse(json);
    b.name = j.at("name").get<std::string>();
    b.scope = j.at("scope").get<std::vector<std::string>>();
    b.period = j.at("period").get<std::string>() == "daily" ? Period::daily : Period::monthly;
    parse_limit(b, j.at("limit").get<std::string>(), origin);
    b.stages = j.at("stages").get<std::vector<int>>();
    b.mode = j.at("mode").get<std::string>() == "hard" ? Mode::hard : Mode::soft;
    b.tz = j.at("tz").get<std::string>();
    if (j.contains("channels")) b.channels = j.at("channels").get<std::vector<std::string>>();
    b.from_file = j.value("managed", "") == "file";
  } catch (const nlohmann::json::exception& e) {
    throw DataError(origin + ": stored budget is damaged: " + e.what());
  }
  return b;
}

std::vector<Budget> parse_budgets_toml(const std::string& text, const std::string& origin, const std::string& default_tz) {
  toml::table doc;
  try {
    std::string why;
    const std::string ascii = util::toml_ascii(text, why);
    if (!why.empty()) throw UsageError(origin + ":" + why);
    doc = toml::parse(ascii, origin);
  } catch (const toml::parse_error& e) {
    throw UsageError(origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  std::vector<Budget> out;
  for (const auto& [k, v] : doc) {
    if (k.str() != "budget")
      throw UsageError(origin + ":" + std::to_string(k.source().begin.line) + ": unknown key '" + std::string(k.str()) +
                       "' (budgets are [[budget]] tables)");
  }
  const toml::array* arr = doc["budget"].as_array();
  if (!arr) {
    if (doc.contains("budget")) throw UsageError(origin + ": 'budget' must be an array of tables ([[budget]])");
    return out;
  }
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    const std::string where = origin + ":" + std::to_string(node.source().begin.line);
    if (!t) throw UsageError(where + ": each budget is a [[budget]] table");
    Budget b;
    b.tz = default_tz;
    b.from_file = true;
    std::string tz_at = where;  // where the zone is named, for an unknown one
    bool has_limit = false;
    for (const auto& [key, binding] : *t) {
      const toml::node& val = binding;  // a plain reference: lambdas cannot capture structured bindings (C++20, clang)
      const std::string k(key.str());
      const std::string at = origin + ":" + std::to_string(val.source().begin.line);
      auto str = [&]() -> std::string {
        if (auto s = val.value<std::string>()) return *s;
        throw UsageError(at + ": '" + k + "' must be a string");
      };
      // A string, or an array of strings.
      auto strings = [&]() {
        std::vector<std::string> out;
        const auto* a = val.as_array();
        if (!a) return std::vector<std::string>{str()};
        for (const auto& e : *a) {
          auto s = e.value<std::string>();
          if (!s) throw UsageError(at + ": '" + k + "' entries must be strings");
          out.push_back(*s);
        }
        return out;
      };
      if (k == "name") b.name = str();
      else if (k == "scope") {
        b.scope = strings();
      } else if (k == "period") {
        const std::string p = str();
        if (p == "monthly") b.period = Period::monthly;
        else if (p == "daily") b.period = Period::daily;
        else throw UsageError(at + ": invalid period '" + p + "': expected monthly or daily");
      } else if (k == "limit") {
        if (has_limit) throw UsageError(at + ": give 'limit' or 'tokens', not both");
        parse_limit(b, str(), at);
        has_limit = true;
      } else if (k == "tokens") {
        if (has_limit) throw UsageError(at + ": give 'limit' or 'tokens', not both");
        auto n = util::toml_integer(val);
        if (!n || *n <= 0) throw UsageError(at + ": 'tokens' must be a positive integer");
        b.in_tokens = true;
        b.limit = money::Decimal::from_int(*n);
        b.currency = money::Currency();  // a token limit has no currency
        has_limit = true;
      } else if (k == "stages") {
        b.stages.clear();
        const auto* a = val.as_array();
        if (!a) throw UsageError(at + ": 'stages' must be an array of percents");
        for (const auto& e : *a) {
          auto n = util::toml_integer(e);
          if (!n || *n < 1 || *n > 1000) throw UsageError(at + ": stages are percents from 1 to 1000");
          b.stages.push_back(int(*n));
        }
      } else if (k == "mode") {
        const std::string m = str();
        if (m == "soft") b.mode = Mode::soft;
        else if (m == "hard") b.mode = Mode::hard;
        else throw UsageError(at + ": invalid mode '" + m + "': expected soft or hard");
      } else if (k == "tz") {
        b.tz = str();
        tz_at = at;
      } else if (k == "channels") {
        b.channels = strings();
      } else {
        throw UsageError(at + ": unknown key '" + k + "' (known: name, scope, period, limit, tokens, stages, mode, tz, channels)");
      }
    }
    if (!has_limit) throw UsageError(where + ": budget '" + b.name + "' needs 'limit' (\"5000 USD\") or 'tokens'");
    try {
      util::TimeZone::load(b.tz);
    } catch (const UsageError& e) {
      throw UsageError(tz_at + ": " + e.what());
    }
    validate(b, where);
    for (const auto& o : out)
      if (o.name == b.name) throw UsageError(where + ": budget '" + b.name + "' is defined twice");
    out.push_back(std::move(b));
  }
  return out;
}

Window current_window(const Budget& b, const util::TimeZone& tz, util::Seconds now) {
  const int64_t today = tz.local_day(now);
  Window w;
  if (b.period == Period::daily) {
    w.begin = tz.day_start(today);
    w.end = tz.day_start(today + 1);
    w.label = util::format_date(today);
  } else {
    const util::Date d = util::civil_from_days(today);
    const int64_t first = util::days_from_civil({d.year, d.month, 1});
    w.begin = tz.day_start(first);
    w.end = tz.day_start(first + util::days_in_month(d.year, d.month));
    w.label = first_of_month_label(first);
  }
  return w;
}

std::vector<Status> evaluate(usage::Source& usage, const std::vector<Budget>& list, util::Seconds now,
                             const std::string& tzdir) {
  std::vector<usage::AggQuery> queries;
  std::vector<Window> windows;
  for (const auto& b : list) {
    const Window w = current_window(b, util::TimeZone::load(b.tz, tzdir), now);  // zones were checked when stored
    windows.push_back(w);
    // Spent so far: usage stamped after `now` (clock skew, a pinned --now) does not count yet.
    queries.push_back({w.begin, std::clamp(now + 1, w.begin, w.end), scope_filters(b), {}});
  }
  const auto results = usage.aggregate(queries);
  std::vector<Status> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const Budget& b = list[i];
    Status s;
    s.budget = b;
    s.window = windows[i];
    const usage::Totals t = results[i].total();
    s.resets_in_days = (s.window.end - now + 86399) / 86400;
    s.at = now;
    if (b.in_tokens) {
      s.spent = money::Decimal::from_int(t.tokens());
    } else {
      if (t.cost != 0 && !(results[i].currency == b.currency)) {
        s.error = "budget '" + b.name + "' is in " + std::string(b.currency.name()) + " but its usage is in " +
                  std::string(results[i].currency.name()) + " (billctl does not convert currencies; set the limit in " +
                  std::string(results[i].currency.name()) + ")";
        s.remaining = b.limit;
        out.push_back(std::move(s));
        continue;
      }
      s.spent = t.cost_decimal();
    }
    s.remaining = s.spent < b.limit ? b.limit - s.spent : money::Decimal();
    s.used_tenths = int64_t(money::div_round(s.spent.units() * 1000, b.limit.units(), money::Rounding::down));
    for (int st : b.stages)
      if (s.used_tenths >= int64_t(st) * 10) s.stage = st;
    // Run rate: what was spent so far, stretched over the whole period.
    const util::Seconds length = s.window.end - s.window.begin;
    const util::Seconds elapsed = std::clamp<util::Seconds>(now - s.window.begin, 1, length);
    s.projected = s.spent.mul_int(length).div_int(elapsed);
    s.projected = b.in_tokens ? s.projected.round(0) : s.projected.round(b.currency.minor_units);
    s.projected_tenths = int64_t(money::div_round(s.projected.units() * 1000, b.limit.units(), money::Rounding::down));
    out.push_back(std::move(s));
  }
  return out;
}

std::string time_left_text(util::Seconds now, util::Seconds end) {
  const int64_t left = std::max<int64_t>(end - now, 0);
  auto unit = [](int64_t n, const char* one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };
  if (left >= 2 * 86400) return unit(left / 86400, "day");
  if (left >= 86400) {
    const int64_t h = (left - 86400) / 3600;
    return h ? "1 day " + unit(h, "hour") : "1 day";
  }
  const int64_t h = left / 3600, m = (left % 3600 + 59) / 60;
  if (h == 0) return unit(std::max<int64_t>(m, 1), "minute");
  return m == 0 || m == 60 ? unit(h + (m == 60), "hour") : unit(h, "hour") + " " + unit(m, "minute");
}

int64_t p_exceed_tenths(double p) { return int64_t(std::llround(std::clamp(p, 0.0, 1.0) * 1000)); }

int parse_fail_on(const std::string& text) {
  if (text == "warning") return 80;
  if (text == "critical") return 95;
  if (text == "exceeded") return 100;
  std::string_view v = text;
  if (!v.empty() && v.back() == '%') v.remove_suffix(1);
  int64_t n = 0;
  if (util::parse_u63(v, n) && n >= 1 && n <= 1000) return int(n);
  throw UsageError("invalid --fail-on '" + text + "': expected warning (80 %), critical (95 %), exceeded (100 %), a percent or forecast");
}

bool applies_to(const Budget& b, const Identity& who) {
  for (const auto& f : scope_filters(b)) {
    bool matched = false;
    for (const auto& [dim, value] : who.values)
      if (dim == f.dim && std::find(f.values.begin(), f.values.end(), value) != f.values.end()) matched = true;
    if (!matched) return false;
  }
  return true;
}

}  // namespace billctl::budgets
