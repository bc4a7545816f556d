#include "billctl/credits/ledger.hpp"
#include "billctl/util/toml_guard.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>
#include <utility>
#include <nlohmann/json.hpp>

#include "billctl/money/config.hpp"
#include "billctl/usage/meters.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::credits {

namespace {

using Json = nlohmann::ordered_json;

const std::string k_genesis(64, '0');

Decimal parse_decimal(std::string_view text, const std::string& what) {
  auto d = Decimal::parse(text);
  if (!d) throw DataError(what + ": " + d.error());
  return *d;
}

void month_of(util::Seconds t, util::Seconds& begin, util::Seconds& end) {
  const util::Date d = util::civil_from_days(util::day_of(t));
  begin = util::days_from_civil({d.year, d.month, 1}) * 86400;
  end = begin + int64_t(util::days_in_month(d.year, d.month)) * 86400;
}

// A new entry of a request: who, when, for which organization, with the request's reference,
// reason and idempotency key (callers change what differs).
Entry new_entry(const Request& r, std::string_view kind, const Decimal& credits) {
  Entry e;
  e.at = r.now;
  e.organization = r.organization;
  e.kind = kind;
  e.credits = credits;
  e.actor = r.actor;
  e.reference = r.reference;
  e.reason = r.reason;
  e.idempotency_key = r.idempotency_key;
  return e;
}

void hash_field(util::Sha256& h, std::string_view v) {
  const std::string len = std::to_string(v.size()) + ":";
  h.update(len.data(), len.size());
  h.update(v.data(), v.size());
  h.update(";", 1);
}


}  // namespace

std::vector<SummaryRow> summarize(const std::vector<Entry>& list) {
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<int64_t, Decimal>> sums;
  for (const auto& e : list) {
    const util::Date d = util::civil_from_days(util::day_of(e.at));
    std::string month = util::format_date(util::days_from_civil({d.year, d.month, 1})).substr(0, 7);
    if (e.kind == "usage" || e.kind == "correction") {
      const Json detail = Json::parse(e.detail);
      // October's usage charged on 2 November is October's.
      const std::string period = detail.value("period", "");
      if (period.size() >= 7 && period[4] == '-') month = period.substr(0, 7);
      const Json by_type = detail.value("by_type", Json::object());
      for (const auto& [type, v] : by_type.items()) {
        auto& s = sums[{month, e.organization, e.kind + ":" + type}];
        ++s.first;
        s.second -= parse_decimal(v.get<std::string>(), "credit ledger entry #" + std::to_string(e.seq));
      }
    } else {
      auto& s = sums[{month, e.organization, e.kind}];
      ++s.first;
      s.second += e.credits;
    }
  }
  std::vector<SummaryRow> out;
  for (const auto& [k, v] : sums) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), v.first, v.second});
  return out;
}

Decimal Package::cost_per_credit() const {
  const Decimal t = total();
  if (t.is_zero()) return Decimal();
  // price / total with 12 fractional digits: scale by 1e12 and divide exactly in integers.
  return Decimal::from_units(money::div_round(price.amount.units() * Decimal::k_one, t.units(), money::Rounding::half_even));
}

const Package* Config::find_package(const std::string& name) const {
  for (const auto& p : packages)
    if (p.name == name) return &p;
  return nullptr;
}

Config default_config() {
  Config c;
  auto pkg = [](std::string name, int64_t credits, int64_t bonus, int64_t price, int expires) {
    return Package{std::move(name), Decimal::from_int(credits), Decimal::from_int(bonus), {Decimal::from_int(price), money::k_usd},
                   expires};
  };
  c.packages = {pkg("starter", 1000, 0, 10, 0), pkg("growth", 5000, 500, 45, 365), pkg("scale", 25000, 5000, 200, 365)};
  return c;
}

Config parse_config(const toml::table* t, const std::string& origin) {
  Config c = default_config();
  if (!t) return c;
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    const std::string where = money::config_at(origin, v) + ": [credits]";
    if (key == "rate") {
      c.rate = money::config_decimal(v, where + " rate");
      if (c.rate.is_zero()) throw DataError(where + " rate: must be more than 0");
    } else if (key == "currency") {
      auto cur = money::find_currency(v.value<std::string>().value_or(""));
      if (!cur) throw DataError(where + " currency: " + cur.error());
      c.currency = *cur;
    } else if (key == "low_balance") {
      c.low_balance = money::config_decimal(v, where + " low_balance");
    } else if (key == "actor") {
      c.actor = v.value<std::string>().value_or("");
    } else if (key == "channels") {
      const auto* arr = v.as_array();
      if (!arr) throw DataError(where + " channels: expected an array of channel names");
      for (const auto& n : *arr) c.channels.push_back(n.value<std::string>().value_or(""));
    } else if (key == "meter_rates") {
      const auto* mt = v.as_table();
      if (!mt) throw DataError(where + " meter_rates: expected a table of meter = \"credits per unit\"");
      for (const auto& [mk, mv] : *mt) c.meter_rates[std::string(mk.str())] = money::config_decimal(mv, where + " meter_rates." + std::string(mk.str()));
    } else if (key == "packages") {
      const auto* pt = v.as_table();
      if (!pt) throw DataError(where + " packages: expected [credits.packages.NAME] tables");
      for (const auto& [pk, pv] : *pt) {
        const std::string name(pk.str());
        const std::string pw = money::config_at(origin, pv) + ": [credits.packages." + name + "]";
        const auto* p = pv.as_table();
        if (!p) throw DataError(pw + ": expected a table");
        Package pkg;
        pkg.name = name;
        bool has_credits = false, has_price = false;
        for (const auto& [fk, fv] : *p) {
          const std::string f(fk.str());
          if (f == "credits") {
            pkg.credits = money::config_decimal(fv, pw + " credits");
            has_credits = true;
          } else if (f == "bonus") {
            pkg.bonus = money::config_decimal(fv, pw + " bonus");
          } else if (f == "price") {
            auto m = money::parse_money(fv.value<std::string>().value_or(""));
            if (!m) throw DataError(pw + " price: " + m.error());
            pkg.price = *m;
            has_price = true;
          } else if (f == "bonus_expires_days") {
            auto d = util::toml_integer(fv);
            if (!d || *d < 0 || *d > 36500) throw DataError(pw + " bonus_expires_days: expected a number of days");
            pkg.bonus_expires_days = int(*d);
          } else {
            throw DataError(pw + ": unknown key '" + f + "' (known: credits, bonus, price, bonus_expires_days)");
          }
        }
        if (!has_credits || pkg.credits.is_zero()) throw DataError(pw + ": needs credits > 0");
        if (!has_price) throw DataError(pw + ": needs price, e.g. price = \"45 USD\"");
        std::erase_if(c.packages, [&](const Package& q) { return q.name == name; });
        c.packages.push_back(std::move(pkg));
      }
    } else {
      throw DataError(where + ": unknown key '" + key +
                      "' (known: rate, currency, meter_rates, packages, low_balance, channels, actor)");
    }
  }
  std::sort(c.packages.begin(), c.packages.end(), [](const Package& a, const Package& b) {
    return a.total() != b.total() ? a.total() < b.total() : a.name < b.name;
  });
  return c;
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::purchase: return "purchase";
    case Kind::usage: return "usage";
    case Kind::correction: return "correction";
    case Kind::refund: return "refund";
    case Kind::adjustment: return "adjustment";
    case Kind::expiry: return "expiry";
    case Kind::topup: return "topup";
    case Kind::invoice: return "invoice";
  }
  return "";
}

std::optional<Kind> find_kind(std::string_view name) {
  for (Kind k : {Kind::purchase, Kind::usage, Kind::correction, Kind::refund, Kind::adjustment, Kind::expiry, Kind::topup,
                 Kind::invoice})
    if (kind_name(k) == name) return k;
  return std::nullopt;
}

std::string entry_hash(const Entry& e) {
  util::Sha256 h;
  hash_field(h, e.prev_hash);
  hash_field(h, std::to_string(e.seq));
  hash_field(h, std::to_string(e.at));
  hash_field(h, e.organization);
  hash_field(h, e.kind);
  hash_field(h, e.credits.to_string());
  hash_field(h, e.balance.to_string());
  hash_field(h, e.actor);
  hash_field(h, e.reference);
  hash_field(h, e.reason);
  hash_field(h, e.idempotency_key);
  hash_field(h, e.detail);
  return h.hex_digest();
}

Ledger::Ledger(LedgerStore& store, Config cfg) : m_store(store), m_cfg(std::move(cfg)) {}

Decimal Ledger::balance(const std::string& organization) { return m_store.balance(organization).value_or(Decimal()); }

std::map<std::string, Decimal> Ledger::balances() { return m_store.balances(); }

std::optional<Entry> Ledger::entry(int64_t seq) { return m_store.entry(seq); }

std::optional<Outcome> Ledger::replay(const Request& r, std::string_view kind, const Mismatch& mismatch) {
  if (r.idempotency_key.empty()) return std::nullopt;
  std::vector<Entry> made = m_store.request_entries(r.idempotency_key);
  if (made.empty()) return std::nullopt;
  const Entry& first = made.front();
  if (first.kind != kind || first.organization != r.organization)
    throw UsageError("idempotency key '" + r.idempotency_key + "' was used for a different request (entry #" +
                     std::to_string(first.seq) + ": " + first.kind + " for '" + first.organization + "')");
  // The same key with other parameters is a different request: refuse it, as payment APIs do,
  // instead of silently replaying the first one.
  if (mismatch)
    if (const std::string why = mismatch(first); !why.empty())
      throw UsageError("idempotency key '" + r.idempotency_key + "' was used for a different request (entry #" +
                       std::to_string(first.seq) + ": " + why + "); use a new key for a new request");
  Outcome out;
  out.replayed = true;
  out.entries = std::move(made);
  return out;
}

Entry Ledger::append(Entry e) {
  if (auto last = m_store.last_entry()) {
    e.seq = last->seq + 1;
    e.prev_hash = last->hash;
  } else {
    e.seq = 1;
    e.prev_hash = k_genesis;
  }
  e.balance = balance(e.organization) + e.credits;
  e.hash = entry_hash(e);
  m_store.append(e);
  return e;
}

Entry Ledger::purchase_entry(const Request& r, const Package& p, Kind kind) {
  Entry e = new_entry(r, kind_name(kind), p.total());
  e.idempotency_key.clear();
  Json d;
  d["package"] = p.name;
  d["credits"] = p.credits.to_string();
  d["bonus"] = p.bonus.to_string();
  d["price"] = p.price.amount.to_string(p.price.currency.minor_units);
  d["currency"] = std::string(p.price.currency.name());
  if (p.bonus_expires_days > 0 && !p.bonus.is_zero()) d["bonus_expires"] = util::format_rfc3339(r.now + int64_t(p.bonus_expires_days) * 86400);
  e.detail = d.dump();
  return e;
}

bool Ledger::knows(const std::string& org) { return m_store.organization_known(org); }

void Ledger::require_known(const Request& r) {
  if (r.new_org || r.known_org || knows(r.organization)) return;
  const std::string hint = util::did_you_mean(r.organization, m_store.organization_names());
  throw UsageError("unknown organization '" + r.organization + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                   ": it has no usage, plan, invoice or ledger entry; pass --new-org to open its ledger");
}

Outcome Ledger::buy(const Request& r, const std::string& package) {
  const Package* p = m_cfg.find_package(package);
  if (!p) {
    std::vector<std::string> names;
    for (const auto& q : m_cfg.packages) names.push_back(q.name);
    const std::string hint = util::did_you_mean(package, names);
    throw UsageError("unknown package '" + package + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                     "; see 'billctl credits packages'");
  }
  if (r.reference.empty()) throw UsageError("credits buy needs --reference PAYMENT_REF (the payment it records)");
  auto t = m_store.transaction();
  if (auto again = replay(r, "purchase", [&](const Entry& e) {
        const Json d = Json::parse(e.detail);
        if (d.value("package", "") != package) return "package " + d.value("package", "") + " then, " + package + " now";
        if (e.reference != r.reference) return "reference '" + e.reference + "' then, '" + r.reference + "' now";
        return std::string();
      }))
    return *again;
  Outcome out = expire_locked(r);
  Entry e = purchase_entry(r, *p, Kind::purchase);
  e.idempotency_key = r.idempotency_key;
  out.entries.push_back(append(std::move(e)));
  t->commit();
  return out;
}

Outcome Ledger::refund(const Request& req, int64_t purchase_seq, std::optional<Decimal> credits) {
  auto t = m_store.transaction();
  auto p = entry(purchase_seq);
  if (!p || (p->kind != "purchase" && p->kind != "topup"))
    throw UsageError("entry #" + std::to_string(purchase_seq) + " is not a purchase; see 'billctl credits ledger --kind purchase'");
  Request r = req;
  r.organization = p->organization;
  if (auto again = replay(r, "refund", [&](const Entry& e) {
        const Json d = Json::parse(e.detail);
        if (d.value("refund_of", int64_t(0)) != purchase_seq)
          return "refund of #" + std::to_string(d.value("refund_of", int64_t(0))) + " then, of #" + std::to_string(purchase_seq) + " now";
        if (credits && d.value("credits", "") != credits->to_string())
          return "credits " + d.value("credits", "") + " then, " + credits->to_string() + " now";
        return std::string();
      }))
    return *again;
  if (r.reference.empty()) throw UsageError("credits refund needs --reference (the refund's payment reference)");
  const Json pd = Json::parse(p->detail);
  const Decimal bought = parse_decimal(pd.value("credits", "0"), "purchase detail");
  const Decimal bonus = parse_decimal(pd.value("bonus", "0"), "purchase detail");
  const money::Currency cur = money::currency(pd.value("currency", "USD"));
  const Decimal price = parse_decimal(pd.value("price", "0"), "purchase detail");
  // What earlier refunds of this purchase took back (paid credits only).
  Decimal refunded;
  for (const Entry& e : refunds_of(r.organization, purchase_seq))
    refunded += parse_decimal(Json::parse(e.detail).value("credits", "0"), "refund detail");
  const Decimal left = bought - refunded;
  const Decimal n = credits ? *credits : left;
  if (n.negative() || n.is_zero()) throw UsageError("invalid --credits '" + n.to_string() + "': must be more than 0");
  if (n > left)
    throw DataError("cannot refund " + n.to_string() + " credits of purchase #" + std::to_string(purchase_seq) + ": " +
                    bought.to_string() + " were bought and " + refunded.to_string() + " refunded already, " + left.to_string() +
                    " are left");
  Outcome out = expire_locked(r);
  // The bonus goes back in proportion; the money back is the price's share, rounded to the minor unit.
  auto share = [&](const Decimal& whole) {  // whole * n / bought, exact to 1e-12 (both below 1e20 units)
    return Decimal::from_units(money::div_round(whole.units() * n.units(), bought.units(), money::Rounding::half_even));
  };
  const Decimal bonus_back = share(bonus);
  const Decimal money_back = share(price).round(cur.minor_units);
  const Decimal take = n + bonus_back;
  const Decimal bal = balance(r.organization);
  if (take > bal)
    throw DataError("cannot refund " + n.to_string() + " credits (" + take.to_string() + " with the bonus) of purchase #" +
                    std::to_string(purchase_seq) + ": the balance of '" + r.organization + "' is " + bal.round(2).format(2) +
                    " credits");
  Entry e = new_entry(r, "refund", -take);
  Json d;
  d["refund_of"] = purchase_seq;
  d["credits"] = n.to_string();
  d["bonus"] = bonus_back.to_string();
  d["amount"] = money_back.to_string(cur.minor_units);
  d["currency"] = std::string(cur.name());
  e.detail = d.dump();
  out.entries.push_back(append(std::move(e)));
  t->commit();
  return out;
}

Outcome Ledger::adjust(const Request& r, Decimal credits) {
  if (r.reason.empty()) throw UsageError("credits adjust needs --reason (why the balance changes)");
  if (credits.is_zero()) throw UsageError("invalid --credits '0': an adjustment changes the balance");
  auto t = m_store.transaction();
  if (auto again = replay(r, "adjustment", [&](const Entry& e) {
        if (!(e.credits == credits)) return "credits " + e.credits.to_string() + " then, " + credits.to_string() + " now";
        if (e.reason != r.reason) return "reason '" + e.reason + "' then, '" + r.reason + "' now";
        return std::string();
      }))
    return *again;
  require_known(r);
  Outcome out = expire_locked(r);
  const Decimal after = balance(r.organization) + credits;
  if (after.negative() && !r.allow_negative)
    throw DataError("the adjustment would take the balance of '" + r.organization + "' to " + after.round(2).format(2) +
                    " credits; pass --allow-negative if that is intended");
  Entry e = new_entry(r, "adjustment", credits);
  e.detail = "{}";
  out.entries.push_back(append(std::move(e)));
  t->commit();
  return out;
}

Outcome Ledger::apply_to_invoice(const Request& r, Decimal credits, const std::string& invoice_number) {
  Entry e = new_entry(r, "invoice", -credits);
  e.reference = invoice_number;
  e.detail = Json{{"invoice", invoice_number}}.dump();
  Outcome out;
  out.entries.push_back(append(std::move(e)));  // the caller holds the transaction (with the invoice)
  return out;
}

Outcome Ledger::expire(const Request& r) {
  auto t = m_store.transaction();
  Outcome out = expire_locked(r);
  t->commit();
  return out;
}

std::vector<Entry> Ledger::refunds_of(const std::string& organization, int64_t purchase_seq) {
  LedgerFilter f;
  f.organization = organization;
  f.kind = "refund";
  f.after_seq = purchase_seq;
  std::vector<Entry> out = m_store.entries(f);
  std::erase_if(out, [&](const Entry& e) { return Json::parse(e.detail).value("refund_of", int64_t(0)) != purchase_seq; });
  return out;
}

Outcome Ledger::expire_locked(const Request& r) {
  Outcome out;
  // Purchases of this organization with a bonus that expired and no expiry entry yet.
  LedgerFilter pf;
  pf.organization = r.organization;
  pf.kinds = {"purchase", "topup", "expiry"};
  std::set<int64_t> expired;
  std::vector<std::pair<int64_t, Json>> due;
  const std::string now = util::format_rfc3339(r.now);
  for (const Entry& e : m_store.entries(pf)) {
    const Json d = Json::parse(e.detail);
    if (e.kind == "expiry") expired.insert(d.value("expires_of", int64_t(0)));
    else if (const std::string at = d.value("bonus_expires", ""); !at.empty() && at <= now) due.emplace_back(e.seq, d);
  }
  std::erase_if(due, [&](const auto& p) { return expired.count(p.first) > 0; });
  for (const auto& [seq, d] : due) {
    // Credits are spent oldest-bonus first: what was spent since the purchase used the bonus up first.
    LedgerFilter sf;
    sf.organization = r.organization;
    sf.after_seq = seq;
    sf.kinds = {"usage", "correction", "invoice", "adjustment", "expiry"};
    Decimal spent;
    for (const Entry& e : m_store.entries(sf)) spent -= e.credits;  // debits are negative
    Decimal unused = parse_decimal(d.value("bonus", "0"), "purchase detail") - std::max(spent, Decimal());
    // A refund took its share of the bonus back already.
    for (const Entry& e : refunds_of(r.organization, seq))
      unused -= parse_decimal(Json::parse(e.detail).value("bonus", "0"), "refund detail");
    unused = std::min(unused, balance(r.organization));
    if (unused.negative()) unused = Decimal();
    Entry e = new_entry(r, "expiry", -unused);
    e.idempotency_key.clear();
    e.reference = "purchase #" + std::to_string(seq);
    e.reason = "bonus credits expired " + d.value("bonus_expires", "");
    e.detail = Json{{"expires_of", seq}}.dump();
    out.entries.push_back(append(std::move(e)));
  }
  return out;
}

DeductResult Ledger::deduct(const Request& r, util::Seconds begin, util::Seconds end, const std::string& period_label) {
  auto res = deduct(r, std::vector<std::string>{r.organization}, begin, end, period_label);
  return std::move(res.front());
}

namespace {

using TypeSums = std::map<std::string, Decimal, std::less<>>;

void add_type(TypeSums& m, std::string_view type, const Decimal& d) {
  auto it = m.find(type);
  if (it == m.end()) it = m.emplace(std::string(type), Decimal()).first;
  it->second += d;
}

Json types_json(const TypeSums& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v.to_string();
  return j;
}

// The conversion a deduct run charged at: the rate and currency of priced tokens, credits per
// billed unit of each meter. Kept per run, so that a record is charged at the rates in force when
// it was charged: a later rate change applies to usage charged after it, not to charged records.
struct Rates {
  Decimal rate;
  std::string currency;
  std::map<std::string, Decimal, std::less<>> meters;
};

Rates rates_of(const Config& c) { return {c.rate, std::string(c.currency.name()), c.meter_rates}; }

std::string rates_json(const Rates& r) {
  Json m = Json::object();
  for (const auto& [k, v] : r.meters) m[k] = v.to_string();
  return Json{{"rate", r.rate.to_string()}, {"currency", r.currency}, {"meter_rates", m}}.dump();
}

Rates parse_rates(int64_t run, const std::string& text) {
  const std::string what = "the rates of deduct run " + std::to_string(run);
  try {
    const Json j = Json::parse(text);
    Rates r;
    r.rate = parse_decimal(j.at("rate").get<std::string>(), what);
    r.currency = j.at("currency").get<std::string>();
    for (const auto& [k, v] : j.at("meter_rates").items()) r.meters[k] = parse_decimal(v.get<std::string>(), what);
    return r;
  } catch (const Json::exception& e) {
    throw DataError(what + ": " + e.what());
  }
}

// A record's credits at the given rates; nullopt when they have none for it (unpriced tokens,
// another currency, a meter without a rate).
std::optional<Decimal> credits_at(const ChargeRow& row, const Rates& r) {
  if (row.meter.empty()) {
    if (!row.priced || row.currency != r.currency) return std::nullopt;
    return row.cost.mul(r.rate);
  }
  auto rate = r.meters.find(row.meter);
  if (rate == r.meters.end()) return std::nullopt;
  auto q = Decimal::parse(row.quantity);
  if (!q) throw DataError("usage record '" + std::string(row.id) + "': stored quantity: " + q.error());
  // Rate first, then the unit conversion (minutes -> hours): one rounding, at the end, so that
  // 100 minutes at 45 credits an hour are exactly 75 credits.
  Decimal c = q->mul(rate->second);
  const usage::MeterKind* k = usage::find_meter_kind(row.meter);
  if (k && k->divisor != 1) c = c.div_int(k->divisor);
  return c;
}


}  // namespace

std::vector<DeductResult> Ledger::deduct(const Request& base, const std::vector<std::string>& organizations, util::Seconds begin,
                                         util::Seconds end, const std::string& period_label) {
  struct State {
    DeductResult res;
    Request req;
    bool replayed = false;
    Decimal fresh, delta;
    TypeSums by_type, corr_by_type;
    int64_t unchanged = 0;  // records found as they were charged
  };
  const bool all = organizations.empty();
  const bool suffix_keys = all || organizations.size() > 1;
  std::deque<State> states;  // stable addresses
  std::map<std::string, State*, std::less<>> by_org;
  auto t = m_store.transaction();
  int64_t run = 0;
  if (auto last = m_store.last_entry()) run = last->seq;
  // An organization's state: its replay (when its key was used before) and due expiries first.
  // Organizations first met in the records wait for their expiries until the records are read, and
  // are then taken in name order: the ledger's entries do not depend on the order records are read in.
  std::vector<State*> met;
  auto open = [&](std::string_view org, bool in_scan = false) -> State* {
    State& st = states.emplace_back();
    st.req = base;
    st.req.organization = std::string(org);
    if (suffix_keys && !base.idempotency_key.empty()) st.req.idempotency_key = base.idempotency_key + ":" + st.req.organization;
    st.res.organization = st.req.organization;
    if (auto again = replay(st.req, "usage")) {
      st.res.outcome = *again;
      st.replayed = true;
    } else if (in_scan) {
      met.push_back(&st);
    } else {
      st.res.outcome.entries = expire_locked(st.req).entries;
    }
    by_org.emplace(st.req.organization, &st);
    return &st;
  };
  for (const auto& org : organizations)
    if (!by_org.count(org)) open(org);

  // A run over the same records at the same usage version charged everything there is: nothing
  // can have changed since, so the records are not read again (what it skipped is reported again).
  const std::string scope = all ? "*" : organizations.size() == 1 ? organizations[0] : std::string();
  const int64_t version = m_store.usage_version();
  std::optional<std::map<std::string, Skipped>> done;
  if (!scope.empty()) done = m_store.charged_at(begin, end, scope, version);
  if (!done && !all && !scope.empty())
    if (auto every = m_store.charged_at(begin, end, "*", version)) {
      done.emplace();
      if (auto it = every->find(scope); it != every->end()) done->insert(*it);
    }
  if (done) {
    for (const auto& [org, skipped] : *done) {
      auto it = by_org.find(org);
      State* s = it != by_org.end() ? it->second : all ? open(org) : nullptr;
      if (!s || s->replayed) continue;
      s->res.skipped_records = skipped.records;
      s->res.skipped_meters = skipped.meters;
    }
  }

  // One pass over the period's records, each joined with what it was charged before. Charges are
  // written as they are found, tagged with this run (the ledger position it began at, which its
  // entries record), so memory stays bounded whatever the number of records.
  std::string last_org;
  State* st = nullptr;
  uint64_t read = 0;
  // The rates of the run that charged a record. A run from before billctl kept them is taken at
  // the rates of the first run that did (the first deduct after the upgrade), or at today's.
  const Rates current = rates_of(m_cfg);
  std::map<int64_t, Rates> run_rates;
  if (!done)
    for (const auto& [r, text] : m_store.run_rates()) run_rates.emplace(r, parse_rates(r, text));
  auto charged_rates = [&](int64_t r) -> const Rates& {
    auto it = run_rates.lower_bound(r);
    return it != run_rates.end() ? it->second : current;
  };
  int64_t rates_run = -1;
  const Rates* then = &current;
  bool wrote = false;  // a charge was written: the run's rates are recorded
  if (!done) m_store.scan_charges(begin, end, organizations.size() == 1 ? organizations[0] : std::string(), [&](const ChargeRow& row) {
    if (m_progress && ++read % 65536 == 0) m_progress(read);
    const std::string_view org = row.organization;
    if (!st || org != last_org) {
      last_org = org;
      auto it = by_org.find(org);
      st = it != by_org.end() ? it->second : all ? open(org, true) : nullptr;
    }
    if (!st || st->replayed) return;
    DeductResult& res = st->res;
    // A charged record is unchanged when it costs what it was charged at its run's rates.
    if (row.charged) {
      if (row.charged_run != rates_run) {
        rates_run = row.charged_run;
        then = &charged_rates(rates_run);
      }
      if (auto was = credits_at(row, *then); was && *was == *row.charged) {
        ++st->unchanged;
        return;
      }
    }
    const std::optional<Decimal> now = credits_at(row, current);
    if (!now) {
      if (row.meter.empty() && row.priced)
        throw DataError("usage record '" + std::string(row.id) + "' costs " + std::string(row.currency) + ", credits are bought in " +
                        current.currency + " (set [credits] currency)");
      ++res.skipped_records;
      if (!row.meter.empty() && std::find(res.skipped_meters.begin(), res.skipped_meters.end(), row.meter) == res.skipped_meters.end())
        res.skipped_meters.emplace_back(row.meter);
      return;
    }
    const Decimal& c = *now;
    const std::string_view type = row.meter.empty() ? std::string_view("llm_tokens") : row.meter;
    if (!row.charged) {
      st->fresh += c;
      add_type(st->by_type, type, c);
      ++res.charged_records;
    } else {
      // Revised by an import since: charged anew, at today's rates, for the difference.
      st->delta += c - *row.charged;
      add_type(st->corr_by_type, type, c - *row.charged);
      ++res.corrected_records;
    }
    wrote = true;
    m_store.put_charge(row, c, run);
  });
  if (wrote) m_store.put_run_rates(run, rates_json(current));
  // Over every organization: one whose records all moved to another organization (or are gone)
  // is not met in the records, and still has their charges to get back.
  if (all && !done)
    for (const auto& org : m_store.orphan_organizations(begin, end, run))
      if (!by_org.count(org)) open(org, true);

  std::sort(met.begin(), met.end(), [](const State* a, const State* b) { return a->req.organization < b->req.organization; });
  for (State* s : met) s->res.outcome.entries = expire_locked(s->req).entries;
  std::vector<State*> order;  // as opened, those met in the records in name order
  for (auto& state : states)
    if (std::find(met.begin(), met.end(), &state) == met.end()) order.push_back(&state);
  order.insert(order.end(), met.begin(), met.end());
  for (State* s : order) {
    State& state = *s;
    if (state.replayed || done) continue;
    const Request& r = state.req;
    DeductResult& res = state.res;
    Outcome& out = res.outcome;
    // Charges of the period whose record is gone, moved to another organization or to another
    // time (a later import replaced it) come back; the record, where it is now, is charged as
    // new.
    const std::vector<Charge> stale = m_store.orphaned_charges(r.organization, begin, end, run, state.unchanged);
    for (const Charge& c : stale) {
      state.delta -= c.credits;
      add_type(state.corr_by_type, "replaced", -c.credits);
      ++res.corrected_records;
    }
    // The usage entry, then the correction entry; the request's key goes on the first one made.
    std::string key = r.idempotency_key;
    auto entry = [&](const char* kind, const Decimal& credits, std::string reason, int64_t records, const TypeSums& types) {
      Entry e = new_entry(r, kind, -credits);
      e.reference = r.reference.empty() ? "usage " + period_label : r.reference;
      e.reason = std::move(reason);
      Json d{{"period", period_label}, {"records", records}, {"by_type", types_json(types)}, {"run", run}};
      if (key.empty() && !r.idempotency_key.empty()) d["request_key"] = r.idempotency_key;
      e.idempotency_key = std::exchange(key, std::string());
      e.detail = d.dump();
      out.entries.push_back(append(std::move(e)));
      return out.entries.back().seq;
    };
    const int64_t usage_seq = res.charged_records ? entry("usage", state.fresh, r.reason, res.charged_records, state.by_type) : 0;
    const int64_t corr_seq = res.corrected_records ? entry("correction", state.delta, "usage records replaced by a later import",
                                                           res.corrected_records, state.corr_by_type)
                                                   : 0;
    for (const Charge& c : stale) m_store.delete_charge(r.organization, c.ts, c.usage_id);
    if (usage_seq || corr_seq) run_topups(r, out);
  }
  // Remembered only when every organization was charged (a replayed one was not).
  if (!done && !scope.empty() && std::none_of(states.begin(), states.end(), [](const State& s) { return s.replayed; })) {
    std::map<std::string, Skipped> charged;
    for (const auto& state : states) charged[state.req.organization] = {state.res.skipped_records, state.res.skipped_meters};
    m_store.record_charged(begin, end, scope, version, charged);
  }
  std::vector<DeductResult> results;
  for (auto& state : states) {
    state.res.balance = balance(state.req.organization);
    results.push_back(std::move(state.res));
  }
  t->commit();
  std::sort(results.begin(), results.end(), [](const DeductResult& a, const DeductResult& b) { return a.organization < b.organization; });
  return results;
}

void Ledger::run_topups(const Request& r, Outcome& out) {
  std::optional<TopupRule> rule;
  for (auto& t : m_store.topup_rules())
    if (t.organization == r.organization) rule = std::move(t);
  if (!rule) return;
  const Decimal threshold = rule->threshold;
  const std::string package = rule->package;
  const int64_t max = rule->max_per_month;
  const Package* p = m_cfg.find_package(package);
  if (!p) throw DataError("the auto-topup rule of '" + r.organization + "' buys package '" + package + "', which is not configured");
  util::Seconds mb, me;
  month_of(r.now, mb, me);
  LedgerFilter f;
  f.organization = r.organization;
  f.kind = "topup";
  f.period = util::Period{mb, me, "", util::Period::Kind::month};
  int64_t done = int64_t(m_store.entries(f).size());
  while (balance(r.organization) < threshold && done < max) {
    Request tr = r;
    tr.reference = "auto-topup";
    tr.reason = "balance below " + threshold.to_string();
    Entry e = purchase_entry(tr, *p, Kind::topup);
    if (!r.idempotency_key.empty()) {
      Json d = Json::parse(e.detail);
      d["request_key"] = r.idempotency_key;
      e.detail = d.dump();
    }
    out.entries.push_back(append(std::move(e)));
    ++done;
  }
}

std::vector<Entry> Ledger::entries(const LedgerFilter& f) { return m_store.entries(f); }

VerifyResult Ledger::verify() {
  VerifyResult v;
  std::string prev = k_genesis;
  int64_t expected = 1;
  auto fail = [&](int64_t seq, std::string problem) {
    v.ok = false;
    v.bad_seq = seq;
    v.problem = std::move(problem);
  };
  // The raw entries: a tampered one may not even parse.
  m_store.scan_entries([&](const RawEntry& raw) {
    const Entry& e = raw.entry;
    const int64_t seq = e.seq;
    ++v.entries;
    if (seq != expected) {
      fail(seq, seq > expected ? "entry #" + std::to_string(expected) + " is missing (the next stored entry is #" + std::to_string(seq) + ")"
                               : "entry #" + std::to_string(seq) + " is out of sequence");
      return false;
    }
    if (!raw.amounts_parse) {
      fail(seq, "entry #" + std::to_string(seq) + " holds a malformed amount");
      return false;
    }
    if (e.prev_hash != prev) {
      fail(seq, "entry #" + std::to_string(seq) + " does not follow entry #" + std::to_string(seq - 1) +
                    " (its previous hash differs: an entry was removed, inserted or reordered)");
      return false;
    }
    if (entry_hash(e) != e.hash) {
      fail(seq, "entry #" + std::to_string(seq) + " was altered (its hash does not match its content)");
      return false;
    }
    Decimal& bal = v.balances[e.organization];
    bal += e.credits;
    if (!(bal == e.balance)) {
      fail(seq, "entry #" + std::to_string(seq) + " records a balance of " + e.balance.to_string() + " for '" + e.organization +
                    "', the entries sum to " + bal.to_string());
      return false;
    }
    prev = e.hash;
    ++expected;
    return true;
  });
  if (!v.ok) return v;
  v.head = v.entries ? prev : std::string();
  const std::string recorded = m_store.recorded_head();
  const std::string actual = v.entries ? std::to_string(expected - 1) + " " + prev : std::string();
  if (recorded != actual) {
    int64_t rec = 0;
    if (!recorded.empty() && !util::parse_u63(recorded.substr(0, recorded.find(' ')), rec)) rec = -1;
    const int64_t last = v.entries ? expected - 1 : 0;
    if (rec >= 0 && rec < last)
      fail(rec + 1, "entry #" + std::to_string(rec + 1) + " lies beyond the recorded head (#" + std::to_string(rec) +
                        "): it was appended without billctl, which moves the head with every entry" +
                        (last > rec + 1 ? " (as were the entries after it, up to #" + std::to_string(last) + ")" : ""));
    else if (rec > last)
      fail(last + 1, "the ledger ends at entry #" + std::to_string(last) + " but the recorded head is #" + std::to_string(rec) +
                         ": entries #" + std::to_string(last + 1) + " and later were removed from the end");
    else
      fail(last, "entry #" + std::to_string(last) + " differs from the recorded head (the last entry was replaced, or the head edited)");
  }
  return v;
}

std::vector<TopupRule> Ledger::topup_rules() { return m_store.topup_rules(); }

void Ledger::set_topup_rule(const TopupRule& rule, util::Seconds now) {
  if (!m_cfg.find_package(rule.package)) throw UsageError("unknown package '" + rule.package + "'; see 'billctl credits packages'");
  if (rule.max_per_month < 1) throw UsageError("invalid --max-per-month '" + std::to_string(rule.max_per_month) + "': at least 1");
  m_store.put_topup_rule(rule, now);
}

bool Ledger::remove_topup_rule(const std::string& organization) { return m_store.remove_topup_rule(organization); }

}  // namespace billctl::credits
