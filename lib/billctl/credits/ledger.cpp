#include "billctl/credits/ledger.hpp"
#include "billctl/util/toml_guard.hpp"

#include <algorithm>
#include <deque>
#include <utility>
#include <nlohmann/json.hpp>

#include "billctl/money/config.hpp"
#include "billctl/store/sqlite_store.hpp"
#include "billctl/usage/meters.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::credits {

namespace {

using Json = nlohmann::ordered_json;
using store::Stmt;

const std::string k_genesis(64, '0');

Decimal parse_decimal(std::string_view text, const std::string& what) {
  auto d = Decimal::parse(text);
  if (!d) throw DataError(what + ": " + d.error());
  return *d;
}

Decimal stored(std::string_view text, int64_t seq) {
  return parse_decimal(text, "credit ledger entry #" + std::to_string(seq));
}

void month_of(util::Seconds t, util::Seconds& begin, util::Seconds& end) {
  const util::Date d = util::civil_from_days(util::day_of(t));
  begin = util::days_from_civil({d.year, d.month, 1}) * 86400;
  end = begin + int64_t(util::days_in_month(d.year, d.month)) * 86400;
}

Entry read_entry(const Stmt& s) {
  Entry e;
  e.seq = s.int64(0);
  e.at = s.int64(1);
  e.organization = s.text(2);
  e.kind = s.text(3);
  e.credits = stored(s.text(4), e.seq);
  e.balance = stored(s.text(5), e.seq);
  e.actor = s.text(6);
  e.reference = s.text(7);
  e.reason = s.text(8);
  e.idempotency_key = s.is_null(9) ? std::string() : std::string(s.text(9));
  e.detail = s.text(10);
  e.prev_hash = s.text(11);
  e.hash = s.text(12);
  return e;
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

constexpr const char* k_columns =
    "seq, at, organization, kind, credits, balance, actor, reference, reason, idempotency_key, detail, prev_hash, hash";

void hash_field(util::Sha256& h, std::string_view v) {
  const std::string len = std::to_string(v.size()) + ":";
  h.update(len.data(), len.size());
  h.update(v.data(), v.size());
  h.update(";", 1);
}


}  // namespace

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

Ledger::Ledger(store::Db& db, Config cfg) : m_db(db), m_cfg(std::move(cfg)) {}

Decimal Ledger::balance(const std::string& organization) {
  Stmt s(m_db, "SELECT seq, balance FROM credit_ledger WHERE organization = ?1 ORDER BY seq DESC LIMIT 1");
  s.bind(1, organization);
  return s.step() ? stored(s.text(1), s.int64(0)) : Decimal();
}

std::map<std::string, Decimal> Ledger::balances() {
  std::map<std::string, Decimal> out;
  Stmt s(m_db,
         "SELECT l.seq, l.organization, l.balance FROM credit_ledger l"
         " JOIN (SELECT organization, MAX(seq) AS seq FROM credit_ledger GROUP BY organization) m ON m.seq = l.seq");
  while (s.step()) out[std::string(s.text(1))] = stored(s.text(2), s.int64(0));
  return out;
}

std::optional<Entry> Ledger::entry(int64_t seq) {
  Stmt s(m_db, (std::string("SELECT ") + k_columns + " FROM credit_ledger WHERE seq = ?1").c_str());
  s.bind(1, seq);
  if (!s.step()) return std::nullopt;
  return read_entry(s);
}

std::optional<Outcome> Ledger::replay(const Request& r, std::string_view kind, const Mismatch& mismatch) {
  if (r.idempotency_key.empty()) return std::nullopt;
  Stmt s(m_db, (std::string("SELECT ") + k_columns + " FROM credit_ledger WHERE idempotency_key = ?1").c_str());
  s.bind(1, r.idempotency_key);
  if (!s.step()) return std::nullopt;
  Entry first = read_entry(s);
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
  // Entries a request made after its first one carry the key in their detail ("request_key").
  Stmt more(m_db, (std::string("SELECT ") + k_columns +
                   " FROM credit_ledger WHERE seq > ?1 AND json_extract(detail, '$.request_key') = ?2 ORDER BY seq").c_str());
  more.bind(1, first.seq).bind(2, r.idempotency_key);
  out.entries.push_back(std::move(first));
  while (more.step()) out.entries.push_back(read_entry(more));
  return out;
}

Entry Ledger::append(Entry e) {
  Stmt last(m_db, "SELECT seq, hash FROM credit_ledger ORDER BY seq DESC LIMIT 1");
  if (last.step()) {
    e.seq = last.int64(0) + 1;
    e.prev_hash = last.text(1);
  } else {
    e.seq = 1;
    e.prev_hash = k_genesis;
  }
  e.balance = balance(e.organization) + e.credits;
  e.hash = entry_hash(e);
  Stmt ins(m_db,
           "INSERT INTO credit_ledger(seq, at, organization, kind, credits, balance, actor, reference, reason, idempotency_key,"
           " detail, prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  const std::string credits = e.credits.to_string(), bal = e.balance.to_string();
  ins.bind(1, e.seq).bind(2, e.at).bind(3, e.organization).bind(4, e.kind).bind(5, credits).bind(6, bal);
  ins.bind(7, e.actor).bind(8, e.reference).bind(9, e.reason);
  if (e.idempotency_key.empty()) ins.bind_null(10);
  else ins.bind(10, e.idempotency_key);
  ins.bind(11, e.detail).bind(12, e.prev_hash).bind(13, e.hash);
  ins.step();
  // The head, so that entries removed from the end are noticed too.
  Stmt head(m_db, "INSERT OR REPLACE INTO meta(key, value) VALUES('credit_ledger_head', ?1)");
  const std::string h = std::to_string(e.seq) + " " + e.hash;
  head.bind(1, h);
  head.step();
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

bool Ledger::knows(const std::string& org) {
  for (const char* sql : {"SELECT 1 FROM credit_ledger WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM credit_usage WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM plan_assignments WHERE organization = ?1",
                          "SELECT 1 FROM invoices WHERE organization = ?1 LIMIT 1",
                          "SELECT 1 FROM usage WHERE organization = ?1 LIMIT 1"}) {  // the last one scans: only for a new name
    Stmt s(m_db, sql);
    s.bind(1, org);
    if (s.step()) return true;
  }
  return false;
}

void Ledger::require_known(const Request& r) {
  if (r.new_org || r.known_org || knows(r.organization)) return;
  std::vector<std::string> names;
  Stmt s(m_db, "SELECT DISTINCT organization FROM credit_ledger UNION SELECT organization FROM plan_assignments");
  while (s.step()) names.emplace_back(s.text(0));
  const std::string hint = util::did_you_mean(r.organization, names);
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
  store::Transaction t(m_db);
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
  t.commit();
  return out;
}

Outcome Ledger::refund(const Request& req, int64_t purchase_seq, std::optional<Decimal> credits) {
  store::Transaction t(m_db);
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
  Stmt s(m_db, "SELECT seq, detail FROM credit_ledger WHERE kind = 'refund' AND json_extract(detail, '$.refund_of') = ?1");
  s.bind(1, purchase_seq);
  while (s.step()) refunded += parse_decimal(Json::parse(std::string(s.text(1))).value("credits", "0"), "refund detail");
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
  t.commit();
  return out;
}

Outcome Ledger::adjust(const Request& r, Decimal credits) {
  if (r.reason.empty()) throw UsageError("credits adjust needs --reason (why the balance changes)");
  if (credits.is_zero()) throw UsageError("invalid --credits '0': an adjustment changes the balance");
  store::Transaction t(m_db);
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
  t.commit();
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
  store::Transaction t(m_db);
  Outcome out = expire_locked(r);
  t.commit();
  return out;
}

Outcome Ledger::expire_locked(const Request& r) {
  Outcome out;
  // Purchases of this organization with a bonus that expired and no expiry entry yet.
  Stmt s(m_db,
         "SELECT p.seq, p.detail FROM credit_ledger p WHERE p.organization = ?1 AND p.kind IN ('purchase', 'topup')"
         " AND json_extract(p.detail, '$.bonus_expires') <= ?2 AND NOT EXISTS (SELECT 1 FROM credit_ledger x"
         " WHERE x.kind = 'expiry' AND json_extract(x.detail, '$.expires_of') = p.seq) ORDER BY p.seq");
  const std::string now = util::format_rfc3339(r.now);
  s.bind(1, r.organization).bind(2, now);
  std::vector<std::pair<int64_t, Json>> due;
  while (s.step()) due.emplace_back(s.int64(0), Json::parse(std::string(s.text(1))));
  for (const auto& [seq, d] : due) {
    // Credits are spent oldest-bonus first: what was spent since the purchase used the bonus up first.
    Decimal spent;
    Stmt sp(m_db, "SELECT seq, credits FROM credit_ledger WHERE organization = ?1 AND seq > ?2 AND kind IN"
                  " ('usage', 'correction', 'invoice', 'adjustment', 'expiry')");
    sp.bind(1, r.organization).bind(2, seq);
    while (sp.step()) {
      const Decimal c = stored(sp.text(1), sp.int64(0));
      spent -= c;  // debits are negative
    }
    Decimal unused = parse_decimal(d.value("bonus", "0"), "purchase detail") - std::max(spent, Decimal());
    // A refund took its share of the bonus back already.
    Stmt rf(m_db, "SELECT detail FROM credit_ledger WHERE kind = 'refund' AND json_extract(detail, '$.refund_of') = ?1");
    rf.bind(1, seq);
    while (rf.step()) unused -= parse_decimal(Json::parse(std::string(rf.text(0))).value("bonus", "0"), "refund detail");
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


}  // namespace

std::vector<DeductResult> Ledger::deduct(const Request& base, const std::vector<std::string>& organizations, util::Seconds begin,
                                         util::Seconds end, const std::string& period_label) {
  struct State {
    DeductResult res;
    Request req;
    bool replayed = false;
    Decimal fresh, delta;
    TypeSums by_type, corr_by_type;
    int64_t unchanged = 0;  // records found charged with the same amount
  };
  const bool all = organizations.empty();
  const bool suffix_keys = all || organizations.size() > 1;
  std::deque<State> states;  // stable addresses
  std::map<std::string, State*, std::less<>> by_org;
  store::Transaction t(m_db);
  int64_t run = 0;
  {
    Stmt last(m_db, "SELECT COALESCE(MAX(seq), 0) FROM credit_ledger");
    last.step();
    run = last.int64(0);
  }
  // An organization's state: its replay (when its key was used before) and due expiries first.
  auto open = [&](std::string_view org) -> State* {
    State& st = states.emplace_back();
    st.req = base;
    st.req.organization = std::string(org);
    if (suffix_keys && !base.idempotency_key.empty()) st.req.idempotency_key = base.idempotency_key + ":" + st.req.organization;
    st.res.organization = st.req.organization;
    if (auto again = replay(st.req, "usage")) {
      st.res.outcome = *again;
      st.replayed = true;
    } else {
      st.res.outcome.entries = expire_locked(st.req).entries;
    }
    by_org.emplace(st.req.organization, &st);
    return &st;
  };
  for (const auto& org : organizations)
    if (!by_org.count(org)) open(org);

  // One pass over the period's records, each joined with what it was charged before. Charges are
  // written as they are found, tagged with this run (the ledger position it began at, which its
  // entries record), so memory stays bounded whatever the number of records.
  std::string sql =
      "SELECT u.organization, u.id, u.meter, u.quantity, u.cost_micro, u.cost_pico, u.currency, u.cost_source, c.credits, u.ts"
      " FROM usage u";
  if (store::scan_whole_table(m_db, begin, end)) sql += " NOT INDEXED";
  sql += " LEFT JOIN credit_usage c ON c.organization = u.organization AND c.ts = u.ts AND c.usage_id = u.id"
         " WHERE u.ts >= ?1 AND u.ts < ?2 AND u.organization != ''";
  if (organizations.size() == 1) sql += " AND u.organization = ?3";
  Stmt s(m_db, sql.c_str());
  s.bind(1, begin).bind(2, end);
  if (organizations.size() == 1) s.bind(3, organizations[0]);
  Stmt up(m_db, "INSERT OR REPLACE INTO credit_usage(organization, ts, usage_id, credits, run) VALUES(?1, ?2, ?3, ?4, ?5)");
  std::string last_org, amount;
  State* st = nullptr;
  while (s.step()) {
    const std::string_view org = s.text(0);
    if (!st || org != last_org) {
      last_org = org;
      auto it = by_org.find(org);
      st = it != by_org.end() ? it->second : all ? open(org) : nullptr;
    }
    if (!st || st->replayed) continue;
    DeductResult& res = st->res;
    const std::string_view meter = s.text(2);
    Decimal c;
    std::string_view type;
    if (meter.empty()) {
      if (s.int64(7) == 0) {  // unpriced: no cost to convert
        ++res.skipped_records;
        continue;
      }
      if (s.text(6) != m_cfg.currency.name())
        throw DataError("usage record '" + std::string(s.text(1)) + "' costs " + std::string(s.text(6)) + ", credits are bought in " +
                        std::string(m_cfg.currency.name()) + " (set [credits] currency)");
      c = store::stored_cost(s.int64(4), s.int64(5)).mul(m_cfg.rate);
      type = "llm_tokens";
    } else {
      auto rate = m_cfg.meter_rates.find(meter);
      if (rate == m_cfg.meter_rates.end()) {
        ++res.skipped_records;
        if (std::find(res.skipped_meters.begin(), res.skipped_meters.end(), meter) == res.skipped_meters.end())
          res.skipped_meters.emplace_back(meter);
        continue;
      }
      auto q = Decimal::parse(s.text(3));
      if (!q) throw DataError("usage record '" + std::string(s.text(1)) + "': stored quantity: " + q.error());
      const usage::MeterKind* k = usage::find_meter_kind(meter);
      // Rate first, then the unit conversion (minutes -> hours): one rounding, at the end, so that
      // 100 minutes at 45 credits an hour are exactly 75 credits.
      c = q->mul(rate->second);
      if (k && k->divisor != 1) c = c.div_int(k->divisor);
      type = meter;
    }
    if (s.is_null(8)) {
      st->fresh += c;
      add_type(st->by_type, type, c);
      ++res.charged_records;
    } else {
      auto before = Decimal::parse(s.text(8));
      if (!before) throw DataError("credit_usage of '" + std::string(s.text(1)) + "': " + before.error());
      if (*before == c) {
        ++st->unchanged;
        continue;
      }
      st->delta += c - *before;
      add_type(st->corr_by_type, type, c - *before);
      ++res.corrected_records;
    }
    amount = c.to_string();
    up.bind(1, org).bind(2, s.int64(9)).bind(3, s.text(1)).bind(4, amount).bind(5, run);
    up.step();
    up.reset();
  }

  for (auto& state : states) {
    if (state.replayed) continue;
    const Request& r = state.req;
    DeductResult& res = state.res;
    Outcome& out = res.outcome;
    // Charges of the period whose record is gone, moved to another organization or to another
    // time (a later import replaced it) come back; the record, where it is now, is charged as
    // new. Counting first spares the lookups when nothing is stale, the usual case.
    std::vector<std::pair<util::Seconds, std::string>> stale;
    Stmt n(m_db, "SELECT COUNT(*) FROM credit_usage WHERE organization = ?1 AND ts >= ?2 AND ts < ?3 AND run < ?4");
    n.bind(1, r.organization).bind(2, begin).bind(3, end).bind(4, run);
    n.step();
    if (n.int64(0) != state.unchanged) {
      Stmt m(m_db,
             "SELECT c.ts, c.usage_id, c.credits FROM credit_usage c WHERE c.organization = ?1 AND c.ts >= ?2 AND c.ts < ?3"
             " AND c.run < ?4 AND NOT EXISTS (SELECT 1 FROM usage u WHERE u.id = c.usage_id AND u.organization = c.organization"
             " AND u.ts = c.ts)");
      m.bind(1, r.organization).bind(2, begin).bind(3, end).bind(4, run);
      while (m.step()) {
        auto before = Decimal::parse(m.text(2));
        if (!before) throw DataError("credit_usage of '" + std::string(m.text(1)) + "': " + before.error());
        state.delta -= *before;
        add_type(state.corr_by_type, "replaced", -*before);
        ++res.corrected_records;
        stale.emplace_back(m.int64(0), m.text(1));
      }
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
    Stmt del(m_db, "DELETE FROM credit_usage WHERE organization = ?1 AND ts = ?2 AND usage_id = ?3");
    for (const auto& [ts, id] : stale) {
      del.bind(1, r.organization).bind(2, ts).bind(3, id);
      del.step();
      del.reset();
    }
    if (usage_seq || corr_seq) run_topups(r, out);
  }
  std::vector<DeductResult> results;
  for (auto& state : states) {
    state.res.balance = balance(state.req.organization);
    results.push_back(std::move(state.res));
  }
  t.commit();
  std::sort(results.begin(), results.end(), [](const DeductResult& a, const DeductResult& b) { return a.organization < b.organization; });
  return results;
}

void Ledger::run_topups(const Request& r, Outcome& out) {
  Stmt s(m_db, "SELECT threshold, package, max_per_month FROM credit_topup WHERE organization = ?1");
  s.bind(1, r.organization);
  if (!s.step()) return;
  const Decimal threshold = parse_decimal(s.text(0), "auto-topup threshold");
  const std::string package(s.text(1));
  const int64_t max = s.int64(2);
  const Package* p = m_cfg.find_package(package);
  if (!p) throw DataError("the auto-topup rule of '" + r.organization + "' buys package '" + package + "', which is not configured");
  util::Seconds mb, me;
  month_of(r.now, mb, me);
  Stmt n(m_db, "SELECT COUNT(*) FROM credit_ledger WHERE organization = ?1 AND kind = 'topup' AND at >= ?2 AND at < ?3");
  n.bind(1, r.organization).bind(2, mb).bind(3, me);
  n.step();
  int64_t done = n.int64(0);
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

std::vector<Entry> Ledger::entries(const LedgerFilter& f) {
  std::string sql = std::string("SELECT ") + k_columns + " FROM credit_ledger WHERE 1";
  if (!f.organization.empty()) sql += " AND organization = ?1";
  if (f.period) sql += " AND at >= ?2 AND at < ?3";
  if (!f.kind.empty()) sql += " AND kind = ?4";
  if (!f.actor.empty()) sql += " AND actor = ?5";
  sql += " ORDER BY seq";
  Stmt s(m_db, sql.c_str());
  if (!f.organization.empty()) s.bind(1, f.organization);
  if (f.period) s.bind(2, f.period->begin).bind(3, f.period->end);
  if (!f.kind.empty()) s.bind(4, f.kind);
  if (!f.actor.empty()) s.bind(5, f.actor);
  std::vector<Entry> out;
  while (s.step()) out.push_back(read_entry(s));
  return out;
}

VerifyResult Ledger::verify() {
  VerifyResult v;
  // Read the raw text: a tampered row may not even parse.
  Stmt s(m_db, (std::string("SELECT ") + k_columns + " FROM credit_ledger ORDER BY seq").c_str());
  std::string prev = k_genesis;
  int64_t expected = 1;
  auto fail = [&](int64_t seq, std::string problem) {
    v.ok = false;
    v.bad_seq = seq;
    v.problem = std::move(problem);
  };
  while (s.step()) {
    const int64_t seq = s.int64(0);
    ++v.entries;
    if (seq != expected) {
      fail(seq, seq > expected ? "entry #" + std::to_string(expected) + " is missing (the next stored entry is #" + std::to_string(seq) + ")"
                               : "entry #" + std::to_string(seq) + " is out of sequence");
      return v;
    }
    Entry e;
    auto c = Decimal::parse(s.text(4));
    auto b = Decimal::parse(s.text(5));
    if (!c || !b) {
      fail(seq, "entry #" + std::to_string(seq) + " holds a malformed amount");
      return v;
    }
    e = read_entry(s);
    if (e.prev_hash != prev) {
      fail(seq, "entry #" + std::to_string(seq) + " does not follow entry #" + std::to_string(seq - 1) +
                    " (its previous hash differs: an entry was removed, inserted or reordered)");
      return v;
    }
    if (entry_hash(e) != e.hash) {
      fail(seq, "entry #" + std::to_string(seq) + " was altered (its hash does not match its content)");
      return v;
    }
    Decimal& bal = v.balances[e.organization];
    bal += e.credits;
    if (!(bal == e.balance)) {
      fail(seq, "entry #" + std::to_string(seq) + " records a balance of " + e.balance.to_string() + " for '" + e.organization +
                    "', the entries sum to " + bal.to_string());
      return v;
    }
    prev = e.hash;
    ++expected;
  }
  v.head = v.entries ? prev : std::string();
  Stmt h(m_db, "SELECT value FROM meta WHERE key = 'credit_ledger_head'");
  const std::string recorded = h.step() ? std::string(h.text(0)) : std::string();
  const std::string actual = v.entries ? std::to_string(expected - 1) + " " + prev : std::string();
  if (recorded != actual) {
    const int64_t rec = recorded.empty() ? 0 : std::stoll(recorded.substr(0, recorded.find(' ')));
    const int64_t last = v.entries ? expected - 1 : 0;
    if (rec < last)
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

std::vector<TopupRule> Ledger::topup_rules() {
  std::vector<TopupRule> out;
  Stmt s(m_db, "SELECT organization, threshold, package, max_per_month FROM credit_topup ORDER BY organization");
  while (s.step())
    out.push_back({std::string(s.text(0)), parse_decimal(s.text(1), "auto-topup threshold"), std::string(s.text(2)), s.int64(3)});
  return out;
}

void Ledger::set_topup_rule(const TopupRule& rule, util::Seconds now) {
  if (!m_cfg.find_package(rule.package)) throw UsageError("unknown package '" + rule.package + "'; see 'billctl credits packages'");
  if (rule.max_per_month < 1) throw UsageError("invalid --max-per-month '" + std::to_string(rule.max_per_month) + "': at least 1");
  Stmt s(m_db, "INSERT OR REPLACE INTO credit_topup(organization, threshold, package, max_per_month, updated_at) VALUES(?1, ?2, ?3, ?4, ?5)");
  const std::string th = rule.threshold.to_string(), at = util::format_rfc3339(now);
  s.bind(1, rule.organization).bind(2, th).bind(3, rule.package).bind(4, rule.max_per_month).bind(5, at);
  s.step();
}

bool Ledger::remove_topup_rule(const std::string& organization) {
  Stmt s(m_db, "DELETE FROM credit_topup WHERE organization = ?1");
  s.bind(1, organization);
  s.step();
  return m_db.changes() > 0;
}

}  // namespace billctl::credits
