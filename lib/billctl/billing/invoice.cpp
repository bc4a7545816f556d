#include "billctl/billing/invoice.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "billctl/util/strings.hpp"

namespace billctl::billing {

namespace {

using Json = nlohmann::ordered_json;

std::string amount_text(const Decimal& d, const money::Currency& c) { return d.to_string(c.minor_units); }

Decimal json_decimal(const Json& j, const char* key, const std::string& origin) {
  auto d = Decimal::parse(j.value(key, "0"));
  if (!d) throw DataError(origin + ": " + key + ": " + d.error());
  return *d;
}

Json party_json(const Party& p) {
  return Json{{"name", p.name}, {"address", p.address}, {"email", p.email}, {"tax_id", p.tax_id}};
}

Party party_from(const Json& j) {
  Party p;
  p.name = j.value("name", "");
  p.address = j.value("address", std::vector<std::string>{});
  p.email = j.value("email", "");
  p.tax_id = j.value("tax_id", "");
  return p;
}

std::string decimal_text(const Decimal& d, int digits) { return d.round(digits).format(digits); }

}  // namespace

std::string Invoice::status_at(util::Seconds now) const {
  if (status == "pending" && now >= due_at) return "overdue";
  return status;
}

std::string Invoice::due_text() const {
  if (status == "draft") return "-";
  return due_date.empty() ? util::format_date(util::day_of(due_at)) : due_date;
}

std::string Invoice::issue_text() const { return status == "draft" ? "-" : util::format_date(util::day_of(issued_at)); }

void Invoices::set_due(Invoice& inv, util::Seconds now) const {
  // Due means the end of the due date in the issuer's time zone: payable all day long.
  inv.issued_at = now;
  const int64_t due_day = m_tz.local_day(now) + inv.net_days;
  inv.due_date = util::format_date(due_day);
  inv.due_at = m_tz.day_start(due_day + 1);
}

std::string to_json(const Invoice& inv) {
  const money::Currency& c = inv.currency;
  Json j;
  j["number"] = inv.number;
  j["organization"] = inv.organization;
  j["period"] = inv.period;
  j["plan"] = inv.plan;
  j["plan_title"] = inv.plan_title;
  j["status"] = inv.status;
  j["currency"] = std::string(c.name());
  j["created_at"] = inv.created_at;
  j["issued_at"] = inv.issued_at;
  j["due_at"] = inv.due_at;
  j["paid_at"] = inv.paid_at;
  j["net_days"] = inv.net_days;
  if (!inv.due_date.empty()) j["due_date"] = inv.due_date;
  if (inv.partial) j["partial"] = true;
  Json lines = Json::array();
  for (const auto& l : inv.lines)
    lines.push_back({{"kind", l.kind},
                     {"description", l.description},
                     {"quantity", l.quantity},
                     {"unit_price", l.unit_price},
                     {"amount", amount_text(l.amount, c)}});
  j["lines"] = lines;
  j["subtotal"] = amount_text(inv.subtotal, c);
  j["credits_applied"] = amount_text(inv.credits_applied, c);
  j["credits_used"] = inv.credits_used.to_string();
  j["tax_rate"] = inv.tax_rate;
  j["tax_name"] = inv.tax_name;
  j["tax"] = amount_text(inv.tax, c);
  j["total"] = amount_text(inv.total, c);
  j["issuer"] = party_json(inv.issuer);
  j["bill_to"] = party_json(inv.bill_to);
  j["payment_reference"] = inv.payment_reference;
  Json use = Json::array();
  for (const auto& u : inv.usage) {
    Json x{{"metric", std::string(info(u.metric).id)}, {"used", u.used.to_string()}};
    x["limit"] = u.limit ? Json(u.limit->to_string()) : Json(nullptr);
    x["tenths"] = u.tenths ? Json(*u.tenths) : Json(nullptr);
    x["overage"] = u.overage.to_string();
    x["overage_amount"] = u.overage_amount.to_string();
    use.push_back(x);
  }
  j["usage"] = use;
  Json hist = Json::array();
  for (const auto& e : inv.history) hist.push_back({{"at", e.at}, {"status", e.status}, {"actor", e.actor}, {"note", e.note}});
  j["history"] = hist;
  return j.dump();
}

Invoice from_json(const std::string& doc, const std::string& origin) {
  Invoice inv;
  try {
    const Json j = Json::parse(doc);
    inv.number = j.at("number");
    inv.organization = j.at("organization");
    inv.period = j.at("period");
    inv.plan = j.at("plan");
    inv.plan_title = j.value("plan_title", inv.plan);
    inv.status = j.at("status");
    inv.currency = money::currency(j.value("currency", "USD"));
    inv.created_at = j.value("created_at", int64_t(0));
    inv.issued_at = j.value("issued_at", int64_t(0));
    inv.due_at = j.value("due_at", int64_t(0));
    inv.paid_at = j.value("paid_at", int64_t(0));
    inv.net_days = j.value("net_days", 30);
    inv.due_date = j.value("due_date", "");
    inv.partial = j.value("partial", false);
    for (const auto& l : j.at("lines"))
      inv.lines.push_back({l.value("kind", ""), l.value("description", ""), l.value("quantity", ""), l.value("unit_price", ""),
                           json_decimal(l, "amount", origin)});
    inv.subtotal = json_decimal(j, "subtotal", origin);
    inv.credits_applied = json_decimal(j, "credits_applied", origin);
    inv.credits_used = json_decimal(j, "credits_used", origin);
    inv.tax_rate = j.value("tax_rate", "");
    inv.tax_name = j.value("tax_name", "Tax");
    inv.tax = json_decimal(j, "tax", origin);
    inv.total = json_decimal(j, "total", origin);
    inv.issuer = party_from(j.value("issuer", Json::object()));
    inv.bill_to = party_from(j.value("bill_to", Json::object()));
    inv.payment_reference = j.value("payment_reference", "");
    for (const auto& u : j.value("usage", Json::array())) {
      MetricUse m;
      const std::string id = u.value("metric", "");
      for (const auto& mi : metrics())
        if (mi.id == id) m.metric = mi.metric;
      m.used = json_decimal(u, "used", origin);
      if (!u["limit"].is_null()) m.limit = json_decimal(u, "limit", origin);
      if (!u["tenths"].is_null()) m.tenths = u["tenths"].get<int64_t>();
      m.overage = json_decimal(u, "overage", origin);
      m.overage_amount = json_decimal(u, "overage_amount", origin);
      inv.usage.push_back(m);
    }
    for (const auto& e : j.value("history", Json::array()))
      inv.history.push_back({e.value("at", int64_t(0)), e.value("status", ""), e.value("actor", ""), e.value("note", "")});
  } catch (const nlohmann::json::exception& e) {
    throw DataError(origin + ": " + e.what());
  }
  return inv;
}

Invoices::Invoices(InvoiceStore& store, credits::Ledger& ledger) : m_store(store), m_ledger(ledger) {}

std::map<std::string, std::string> Invoices::assignments() { return m_store.assignments(); }

void Invoices::assign(const std::string& organization, const std::string& plan, util::Seconds now,
                      std::optional<util::Seconds> since) {
  // The start of billing on a plan: the first assignment, unless backdated.
  m_store.assign(organization, plan, since ? *since : now, since.has_value());
}

void check_directory(const std::vector<Plan>& plans, const OrgDirectory& dir) {
  std::vector<std::string> problems;
  auto check = [&](const std::string& name, const std::string& who) {
    const Plan* p = find_plan(plans, name);
    if (!p) problems.push_back(who + " is on plan '" + name + "', which is not defined (see 'billctl invoices plans')");
    else if (!p->base_fee)
      problems.push_back("plan '" + name + "' (" + who + ") has a custom price: set [plans." + name +
                         "] price = \"AMOUNT CUR\" in the config");
  };
  if (!dir.default_plan.empty()) check(dir.default_plan, "[invoices] default_plan");
  for (const auto& [org, plan] : dir.plan) check(plan, "organization '" + org + "'");
  if (problems.empty()) return;
  std::string msg = "cannot generate invoices: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  throw DataError(msg);
}

GenerateResult Invoices::generate(const GenerateOptions& o, const std::vector<Plan>& plans, const OrgDirectory& dir,
                                  const std::vector<OrgUsage>& usage) {
  if (o.period.end > o.now && !o.partial)
    throw UsageError("invalid --period '" + o.period_label + "': the month has not ended (it ends " +
                     util::format_rfc3339(o.period.end) + "); pass --partial for an interim invoice");
  // Which organizations, on which plan: all checked before anything is written.
  std::set<std::string> orgs;
  if (!o.organizations.empty()) {
    orgs.insert(o.organizations.begin(), o.organizations.end());
  } else {
    for (const auto& u : usage) orgs.insert(u.organization);
    for (const auto& [org, plan] : dir.plan) orgs.insert(org);
  }
  std::map<std::string, const Plan*> plan_of;
  for (const auto& org : orgs) {
    auto it = dir.plan.find(org);
    const std::string name = it != dir.plan.end() ? it->second : dir.default_plan;
    if (name.empty())
      throw DataError("organization '" + org + "' has no plan: run 'billctl invoices plans assign " + org +
                      " PLAN' or set [invoices] default_plan");
    const Plan* p = find_plan(plans, name);
    if (!p) throw DataError("organization '" + org + "' is on plan '" + name + "', which is not defined (see 'billctl invoices plans')");
    if (!p->base_fee)
      throw DataError("plan '" + name + "' (organization '" + org + "') has a custom price: set [plans." + name +
                      "] price = \"AMOUNT CUR\" in the config");
    plan_of[org] = p;
  }
  // A month that ended before the organization's plan was first assigned is not billed on it.
  const std::map<std::string, util::Seconds> since = m_store.assignment_starts();
  std::optional<Decimal> tax_pct;
  if (o.tax_rate) {
    auto d = Decimal::parse(*o.tax_rate);
    if (!d || d->negative() || *d > Decimal::from_int(100)) throw UsageError("invalid --tax-rate '" + *o.tax_rate + "': expected a percent, e.g. 19 or 8.25");
    tax_pct = *d;
  }

  GenerateResult res;
  auto t = m_store.transaction();
  for (const auto& org : orgs) {
    if (auto open = m_store.open_invoice(org, o.period_label)) {
      res.skipped.emplace_back(org, open->first + " exists (" + open->second + ")");
      continue;
    }
    if (auto it = since.find(org); it != since.end()) {
      const util::Date d = util::civil_from_days(util::day_of(it->second));
      if (o.period.end <= util::days_from_civil({d.year, d.month, 1}) * 86400) {
        res.skipped.emplace_back(org, "its plan was assigned on " + util::format_date(util::day_of(it->second)) + ", after " +
                                          o.period_label + " (backdate it with 'billctl invoices plans assign " + org +
                                          " PLAN --since " + o.period_label + "')");
        continue;
      }
    }
    const Plan& plan = *plan_of[org];
    const money::Currency& cur = plan.currency;
    const int digits = cur.minor_units;
    Invoice inv;
    inv.organization = org;
    inv.period = o.period_label;
    inv.plan = plan.name;
    inv.plan_title = plan.title;
    inv.currency = cur;
    inv.created_at = inv.issued_at = o.now;
    inv.net_days = o.net_days;
    inv.partial = o.partial;
    set_due(inv, o.now);  // provisional for a draft (not shown); fixed when issued
    inv.issuer = o.issuer;
    auto party = dir.party.find(org);
    inv.bill_to = party != dir.party.end() ? party->second : Party{org, {}, {}, {}};
    if (inv.bill_to.name.empty()) inv.bill_to.name = org;

    OrgUsage used;
    used.organization = org;
    for (const auto& u : usage)
      if (u.organization == org) used = u;
    inv.usage = usage_metrics(plan, used);

    inv.lines.push_back({"base", plan.title + " plan, " + o.period_label, "1", decimal_text(*plan.base_fee, digits),
                         plan.base_fee->round(digits)});
    for (const auto& m : inv.usage) {
      if (m.overage.is_zero()) continue;
      const MetricInfo& mi = info(m.metric);
      const Allowance& a = plan.allowances.at(m.metric);
      inv.lines.push_back({"overage", std::string(mi.title) + " over the " + quantity_with_unit(*m.limit, m.metric) + " included",
                           quantity_with_unit(m.overage, m.metric),
                           a.rate.to_string(digits) + " / " + std::string(mi.per_text), m.overage_amount.round(digits)});
    }
    for (const auto& l : inv.lines) inv.subtotal += l.amount;

    // Number: gapless per year of issue.
    const int year = util::civil_from_days(util::day_of(o.now)).year;
    {
      char buf[32];
      std::snprintf(buf, sizeof buf, "INV-%04d-%06lld", year, static_cast<long long>(m_store.next_number(year)));
      inv.number = buf;
    }

    if (o.apply_credits && inv.subtotal > Decimal()) {
      const auto& cc = m_ledger.config();
      const Decimal bal = m_ledger.balance(org);
      if (bal > Decimal() && cc.currency == cur) {
        // The balance's value, rounded down to the minor unit, up to the subtotal.
        Decimal value = Decimal::from_units(money::div_round(bal.units() * Decimal::k_one, cc.rate.units(), money::Rounding::down))
                            .round(digits, money::Rounding::down);
        inv.credits_applied = std::min(value, inv.subtotal);
        inv.credits_used = inv.credits_applied.mul(cc.rate);
        if (!inv.credits_used.is_zero()) {
          credits::Request r;
          r.organization = org;
          r.actor = o.actor;
          r.now = o.now;
          r.reason = "applied to invoice " + inv.number;
          m_ledger.apply_to_invoice(r, inv.credits_used, inv.number);
        }
      }
    }
    if (tax_pct) {
      inv.tax_rate = *o.tax_rate;
      inv.tax_name = o.tax_name;
      inv.tax = Decimal::from_units(money::div_round((inv.subtotal - inv.credits_applied).mul(*tax_pct).units(), 100,
                                                     money::Rounding::half_even))
                    .round(digits);
    }
    inv.total = inv.subtotal - inv.credits_applied + inv.tax;
    inv.status = o.issue ? "pending" : "draft";
    inv.history.push_back({o.now, "draft", o.actor, "generated"});
    if (o.issue) inv.history.push_back({o.now, "pending", o.actor, "issued"});

    inv.id = m_store.insert(inv);
    res.created.push_back(std::move(inv));
  }
  t->commit();
  return res;
}

std::vector<Invoice> Invoices::list(const std::string& period, const std::string& organization) {
  return m_store.list(period, organization);
}

Invoice Invoices::get(const std::string& ref) {
  int64_t id = 0;
  std::optional<Invoice> inv = util::parse_u63(ref, id) ? m_store.find_by_id(id) : m_store.find_by_number(ref);
  if (!inv) throw DataError("no invoice '" + ref + "'; see 'billctl invoices list'");
  return std::move(*inv);
}

Invoice Invoices::issue(const std::string& ref, const std::string& actor, util::Seconds now) {
  auto t = m_store.transaction();
  Invoice inv = get(ref);
  if (inv.status != "draft") throw DataError("invoice " + inv.number + " is " + inv.status_at(now) + ", only a draft can be issued");
  inv.status = "pending";
  set_due(inv, now);
  inv.history.push_back({now, "pending", actor, "issued"});
  m_store.update(inv);
  t->commit();
  return inv;
}

Invoice Invoices::mark_paid(const std::string& ref, const std::string& actor, const std::string& reference, util::Seconds now) {
  auto t = m_store.transaction();
  Invoice inv = get(ref);
  if (inv.status == "draft") throw DataError("invoice " + inv.number + " is a draft: issue it first ('billctl invoices issue " + inv.number + "')");
  if (inv.status != "pending") throw DataError("invoice " + inv.number + " is " + inv.status + ", only a pending or overdue invoice can be paid");
  inv.status = "paid";
  inv.paid_at = now;
  inv.payment_reference = reference;
  inv.history.push_back({now, "paid", actor, reference.empty() ? "paid" : "paid, reference " + reference});
  m_store.update(inv);
  t->commit();
  return inv;
}

Invoice Invoices::void_invoice(const std::string& ref, const std::string& actor, const std::string& reason, util::Seconds now) {
  if (reason.empty()) throw UsageError("invoices void needs --reason");
  auto t = m_store.transaction();
  Invoice inv = get(ref);
  if (inv.status == "paid") throw DataError("invoice " + inv.number + " is paid and cannot be voided (refund it instead)");
  if (inv.status == "void") throw DataError("invoice " + inv.number + " is void already");
  inv.status = "void";
  inv.history.push_back({now, "void", actor, reason});
  if (!inv.credits_used.is_zero()) {
    credits::Request r;
    r.organization = inv.organization;
    r.actor = actor;
    r.now = now;
    r.reason = "invoice " + inv.number + " voided: " + reason;
    m_ledger.apply_to_invoice(r, -inv.credits_used, inv.number);
  }
  m_store.update(inv);
  t->commit();
  return inv;
}

}  // namespace billctl::billing
