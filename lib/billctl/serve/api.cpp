// Resolvers of the billing schema. Every one starts by asking the permission matrix about the
// caller and the organization it touches; a tenant's usage queries get its organization as a
// filter whatever `where` says, and naming another organization is FORBIDDEN, not empty.
#include "billctl/serve/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "billctl/forecast/forecast.hpp"
#include "billctl/report/live.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/render/table.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/tz.hpp"

namespace billctl::serve {

using graphql::FieldError;
using graphql::Json;
using graphql::ResolveInfo;

namespace {

const std::string k_sdl = R"sdl(schema {
  query: Query
  mutation: Mutation
  subscription: Subscription
}

"A whole number beyond GraphQL's 32-bit Int (token counts), as a JSON number."
scalar Long

"An exact amount: decimal text (never a float) and its ISO 4217 currency."
type Money {
  amount: String!
  currency: String!
}

"A half-open interval of time [start, end), RFC 3339 in UTC, and the text that named it."
type Period {
  label: String!
  start: String!
  end: String!
}

"Sums over usage records. Cost is exact, in the currency of the usage."
type Totals {
  records: Long!
  requests: Long!
  errorRequests: Long!
  inputTokens: Long!
  cachedInputTokens: Long!
  cacheWriteTokens: Long!
  outputTokens: Long!
  tokens: Long!
  unpricedRecords: Long!
  cost: Money!
}

type UsageGroup {
  "One value per dimension of `by`, in that order."
  keys: [String!]!
  totals: Totals!
}

type Usage {
  period: Period!
  by: [String!]!
  total: Totals!
  "Groups sorted by their keys."
  groups(limit: Int): [UsageGroup!]!
}

"Usage whose dimension has one of the values (as --where DIMENSION=VALUE)."
input Filter {
  dimension: String!
  values: [String!]!
}

"A table of the monthly report (by provider, model, department, user, feature, project; top users; daily)."
type Breakdown {
  name: String!
  columns: [String!]!
  "Cells as the CSV and JSON outputs write them; null for an empty cell."
  rows(limit: Int): [[String]!]!
}

"The monthly report (SPEC 9), the same as billctl report --format json."
type Report {
  period: Period!
  previous: Period!
  currency: String!
  cost: Money!
  previousCost: Money!
  "Change of cost against the previous period in percent, null without a previous cost."
  changePercent: String
  activeUsers: Int!
  costPerRequest: Money
  costPerActiveUser: Money
  failedPercent: String!
  totals: Totals!
  unpricedModels: [String!]!
  breakdowns: [Breakdown!]!
}

type BudgetWindow {
  label: String!
  start: String!
  end: String!
  timeZone: String!
}

"A budget evaluated now."
type BudgetStatus {
  window: BudgetWindow!
  spent: String
  remaining: String
  usedPercent: String
  "The highest alert stage reached, 0 for none."
  stage: Int!
  projected: String
  projectedPercent: String
  "Why the budget could not be evaluated (the others still are)."
  error: String
}

type Budget {
  name: String!
  "Scope terms, all of which must match: organization:NAME, department:NAME, user:NAME, ..."
  scope: [String!]!
  "monthly or daily"
  period: String!
  limit: String!
  "The limit's currency, or tokens."
  unit: String!
  "soft (alerts) or hard (quota checks deny)"
  mode: String!
  stages: [Int!]!
  timeZone: String!
  channels: [String!]!
  "Managed by budgets apply -f (a budgets-as-code file)."
  fromFile: Boolean!
  status: BudgetStatus!
}

input BudgetInput {
  name: String!
  "A tenant's budget always includes organization:ITS_ORGANIZATION."
  scope: [String!] = []
  "5000 USD, 5000 (USD), or 2500000 tokens"
  limit: String!
  period: String = "monthly"
  mode: String = "soft"
  stages: [Int!] = [50, 80, 95, 100]
  "An IANA time zone; the server's configured one when absent."
  timeZone: String
  channels: [String!] = []
  "Managed by budgets apply -f (as billctl --remote budgets apply sets it)."
  fromFile: Boolean = false
}

type LedgerEntry {
  seq: Long!
  at: String!
  organization: String!
  kind: String!
  "Signed: debits are negative."
  credits: String!
  balance: String!
  actor: String!
  reference: String!
  reason: String!
}

type Credits {
  organization: String!
  balance: String!
  "The newest entries first."
  ledger(limit: Int = 50, kind: String): [LedgerEntry!]!
}

type InvoiceLine {
  kind: String!
  description: String!
  quantity: String!
  unitPrice: String!
  amount: Money!
}

type Invoice {
  number: String!
  organization: String!
  period: String!
  plan: String!
  "draft, pending, overdue, paid or void"
  status: String!
  issuedAt: String
  dueDate: String
  paidAt: String
  subtotal: Money!
  creditsApplied: Money!
  tax: Money!
  total: Money!
  lines: [InvoiceLine!]!
}

type Allowance {
  metric: String!
  "A quantity, or unlimited."
  included: String!
  rate: String!
  per: String!
}

type Plan {
  name: String!
  title: String!
  "null: a custom price."
  baseFee: Money
  allowances: [Allowance!]!
}

type PlanChangeRequest {
  id: Long!
  organization: String!
  plan: String!
  actor: String!
  note: String!
  at: String!
}

"""
One aggregation as billctl's usage stores answer it (what billctl --remote reads through): times
in seconds since the epoch, [start, end).
"""
input AggregateQuery {
  start: Long!
  end: Long!
  where: [Filter!] = []
  "Up to nine dimensions: provider, model, organization, department, user, feature, project, status, service_tier, session, day, week, month, hour."
  by: [String!] = []
  "Also the meter records' billed quantities."
  meters: Boolean = false
  "Leave meter records out."
  tokensOnly: Boolean = false
  "Only records with more input per request than this (0: no bound)."
  inputAbove: Long = 0
  inputUpto: Long = 0
}

"Totals with every count, the cost in 1e-12 units of the currency (integer text)."
type RawTotals {
  records: Long!
  requests: Long!
  errorRequests: Long!
  inputTokens: Long!
  cachedInputTokens: Long!
  cacheWriteTokens: Long!
  cacheWrite1hTokens: Long!
  outputTokens: Long!
  unpricedRecords: Long!
  costUnits: String!
}

type AggregateGroup {
  keys: [String!]!
  totals: RawTotals!
}

type MeterLevel {
  day: Long!
  series: String!
  quantity: String!
}

"A meter's state for one organization: sums, and the daily levels of storage."
type MeterPart {
  organization: String!
  meter: String!
  unit: String!
  sum: String!
  records: Long!
  levels: [MeterLevel!]!
}

type AggregateResult {
  currency: String!
  groups: [AggregateGroup!]!
  meters: [MeterPart!]!
}

type CatalogUsed {
  name: String!
  hash: String!
  asOf: String!
  models: Int!
}

"A prediction interval of a total: the level in percent and its bounds."
type Band {
  level: Int!
  lower: Money!
  upper: Money!
}

"One series' outlook for the period: the total, or one group of `by`."
type Outlook {
  keys: [String!]!
  actualToDate: Money!
  "Actual to date plus the projected rest."
  mean: Money!
  intervals: [Band!]!
}

type ForecastDay {
  date: String!
  "null for days after now."
  actual: Money
  mean: Money!
  bands: [Band!]!
}

"Where spend will land (billctl forecast): weekday-seasonal robust trend, rolling-origin log-error intervals."
type Forecast {
  period: Period!
  asOf: String!
  currency: String!
  total: Outlook!
  "Largest mean first."
  groups(limit: Int): [Outlook!]!
  daily: [ForecastDay!]!
  historyDays: Int!
  insufficientHistory: Boolean!
  "False when the period is over: everything is actual."
  projected: Boolean!
}

"A ledger entry as stored (what billctl --remote reads the ledger through)."
type LedgerRecord {
  seq: Long!
  at: Long!
  organization: String!
  kind: String!
  credits: String!
  balance: String!
  actor: String!
  reference: String!
  reason: String!
  idempotencyKey: String!
  "A JSON object."
  detail: String!
  prevHash: String!
  hash: String!
}

type OrganizationBalance {
  organization: String!
  balance: String!
}

type PlanAssignment {
  organization: String!
  plan: String!
  "Billing on the plan starts here (seconds since the epoch)."
  start: Long!
}

"An invoice in its stored form: id and the document (JSON) as billctl keeps it."
type InvoiceDocument {
  id: Long!
  document: String!
}

"The authenticated caller."
type Caller {
  subject: String!
  organization: String!
  role: String!
  scopes: [String!]!
}

"Root fields are nullable where they can fail (a period that does not parse, another organization): one failing field does not take the others' data with it."
type Query {
  me: Caller!
  "Usage of a period (2026-10, this-month, 2026-10-01..2026-10-15, ...) grouped by up to four dimensions."
  usage(period: String!, by: [String!] = [], where: [Filter!] = []): Usage
  report(period: String!): Report
  "The period's forecast (default this month), by up to four dimensions, with 80 and 95 % intervals."
  forecast(period: String = "this-month", by: [String!] = []): Forecast
  "The budgets the caller may see, evaluated now."
  budgets: [Budget!]!
  budget(name: String!): Budget
  "An organization's credits (the caller's own when absent)."
  credits(organization: String): Credits
  invoices(status: String, period: String, organization: String): [Invoice!]
  invoice(number: String!): Invoice
  plans: [Plan!]!
  "Plan change requests (a platform admin sees all, a tenant its own)."
  planChangeRequests: [PlanChangeRequest!]!
  "Aggregations in one round trip, answered as the store answers the CLI (a tenant's with its organization's filter)."
  aggregate(queries: [AggregateQuery!]!): [AggregateResult!]
  "The catalogs that priced the usage of [start, end), newest first."
  catalogsUsed(start: Long!, end: Long!): [CatalogUsed!]!
  "Might a record of [start, end) name a session?"
  mayHaveSessions(start: Long!, end: Long!): Boolean!
  "Ledger entries as stored, oldest first: the caller's organization unless it may see all (organization empty: all it may see)."
  ledgerRecords(organization: String = "", kind: String = "", kinds: [String!] = [], actor: String = "", start: Long, end: Long, afterSeq: Long = 0): [LedgerRecord!]
  "Every organization with ledger entries that the caller may see, with its balance."
  balances: [OrganizationBalance!]!
  "Stored invoices (number or id), as billctl --remote reads them."
  invoiceDocuments(period: String = "", organization: String = "", ref: String = ""): [InvoiceDocument!]
  planAssignments: [PlanAssignment!]!
}

"A budget's burn in a tick."
type BudgetBurn {
  name: String!
  spent: String
  usedPercent: String
  stage: Int!
}

type TopSpender {
  value: String!
  cost: Money!
}

"Right now, as billctl usage watch shows it: a tenant's figures are its organization's."
type UsageTick {
  at: String!
  "Today (UTC) up to now."
  today: Money!
  todayRequests: Long!
  "The last hour."
  lastHour: Money!
  lastHourRequests: Long!
  month: String!
  monthToDate: Money!
  "Last month from its start to the same point."
  lastMonthSamePoint: Money!
  budgets: [BudgetBurn!]!
  "The last hour's largest users, at most 5."
  topUsers: [TopSpender!]!
}

"""
Over Server-Sent Events: POST /graphql with Accept: text/event-stream; each tick is an event
"next" whose data is {"data": {...}}, the stream ends with an event "complete" when the server stops.
"""
type Subscription {
  "Today's spend, the last hour's rate and the budgets' burn, every `interval` seconds (1 to 3600)."
  usageTicks(interval: Int = 5): UsageTick!
}

"""
Every mutation is recorded with the caller as actor. With an idempotencyKey, a retry with the
same arguments returns the first result instead of doing it again; other arguments under the
same key are refused (IDEMPOTENCY_CONFLICT).
"""
type Mutation {
  setBudget(budget: BudgetInput!, idempotencyKey: String): Budget!
  removeBudget(name: String!, idempotencyKey: String): Boolean!
  "Records a paid purchase of a credit package; reference names the payment."
  buyCredits(organization: String, package: String!, reference: String!, idempotencyKey: String!): Credits!
  adjustCredits(organization: String!, credits: String!, reason: String!, idempotencyKey: String!): Credits!
  "Puts an organization on a plan (platform admins; a tenant admin may requestPlanChange)."
  assignPlan(organization: String!, plan: String!, idempotencyKey: String): Plan!
  requestPlanChange(plan: String!, note: String = "", idempotencyKey: String): PlanChangeRequest!
  markInvoicePaid(number: String!, reference: String = "", idempotencyKey: String): Invoice!
}
)sdl";

const Caller& caller(const ResolveInfo& i) { return *static_cast<const Caller*>(i.context); }

[[noreturn]] void forbid(const std::string& why) { throw FieldError(why, "FORBIDDEN"); }

void allow(const Caller& c, Action a, const std::string& org) {
  if (auto why = denied(c, a, org)) forbid(*why);
}

std::string text_arg(const ResolveInfo& i, const char* name) {
  return i.args.contains(name) && i.args[name].is_string() ? i.args[name].get<std::string>() : std::string();
}

// The organization a request is about: the argument, else the caller's own.
std::string org_arg(const ResolveInfo& i, const char* name = "organization") {
  std::string org = text_arg(i, name);
  return org.empty() ? caller(i).organization : org;
}

Json money(const money::Decimal& d, const money::Currency& c, int digits) {
  return Json{{"amount", d.to_string(digits)}, {"currency", std::string(c.name())}};
}

// Rounded once to the currency's minor unit (half even), as the tables show it.
Json rounded(const money::Decimal& d, const money::Currency& c) { return money(d.round(c.minor_units), c, c.minor_units); }

Json period_json(const util::Period& p) {
  return Json{{"label", p.label}, {"start", util::format_rfc3339(p.begin)}, {"end", util::format_rfc3339(p.end)}};
}

Json totals_json(const usage::Totals& t, const money::Currency& c) {
  Json j;
  j["records"] = t.records;
  j["requests"] = t.requests;
  j["errorRequests"] = t.error_requests;
  j["inputTokens"] = t.input_tokens;
  j["cachedInputTokens"] = t.cached_input_tokens;
  j["cacheWriteTokens"] = t.cache_write_tokens + t.cache_write_1h_tokens;
  j["outputTokens"] = t.output_tokens;
  j["tokens"] = t.tokens();
  j["unpricedRecords"] = t.unpriced_records;
  j["cost"] = money(t.cost_decimal(), c, c.minor_units);
  return j;
}

Json table_json(const render::Table& t) {
  Json j;
  j["name"] = t.id;
  j["columns"] = Json::array();
  for (const auto& c : t.columns) j["columns"].push_back(c.id);
  j["rows"] = Json::array();
  for (const auto& row : t.rows) {
    Json r = Json::array();
    for (size_t k = 0; k < row.size() && k < t.columns.size(); ++k)
      r.push_back(row[k].null ? Json(nullptr) : Json(render::plain(t.columns[k], row[k])));
    j["rows"].push_back(r);
  }
  return j;
}

Json limited(const Json& list, const Json& args) {
  if (!args.contains("limit") || args["limit"].is_null()) return list;
  int64_t n = args["limit"].get<int64_t>();
  if (n < 0) throw FieldError("limit must not be negative", "BAD_USER_INPUT");
  Json out = Json::array();
  for (size_t k = 0; k < list.size() && int64_t(k) < n; ++k) out.push_back(list[k]);
  return out;
}

// The organization a budget belongs to: its organization:NAME scope term, or "" (platform-wide).
std::string budget_org(const budgets::Budget& b) {
  for (const auto& t : b.scope)
    if (t.rfind("organization:", 0) == 0) return t.substr(13);
  return {};
}

Json budget_json(const budgets::Status& s) {
  const budgets::Budget& b = s.budget;
  auto amount = [&](const money::Decimal& d) {
    return b.in_tokens ? d.to_string() : d.round(b.currency.minor_units).to_string(b.currency.minor_units);
  };
  Json j;
  j["name"] = b.name;
  j["scope"] = b.scope;
  j["period"] = std::string(budgets::period_name(b.period));
  j["limit"] = amount(b.limit);
  j["unit"] = b.in_tokens ? std::string("tokens") : std::string(b.currency.name());
  j["mode"] = std::string(budgets::mode_name(b.mode));
  j["stages"] = b.stages;
  j["timeZone"] = b.tz;
  j["channels"] = b.channels;
  j["fromFile"] = b.from_file;
  Json st;
  st["window"] = Json{{"label", s.window.label},
                      {"start", util::format_rfc3339(s.window.begin)},
                      {"end", util::format_rfc3339(s.window.end)},
                      {"timeZone", b.tz}};
  const bool ok = s.error.empty();
  st["spent"] = ok ? Json(amount(s.spent)) : Json(nullptr);
  st["remaining"] = ok ? Json(amount(s.remaining)) : Json(nullptr);
  st["usedPercent"] = ok ? Json(render::percent_text(s.used_tenths)) : Json(nullptr);
  st["stage"] = s.stage;
  st["projected"] = ok ? Json(amount(s.projected)) : Json(nullptr);
  st["projectedPercent"] = ok ? Json(render::percent_text(s.projected_tenths)) : Json(nullptr);
  st["error"] = ok ? Json(nullptr) : Json(s.error);
  j["status"] = st;
  return j;
}

Json entry_json(const credits::Entry& e) {
  Json j;
  j["seq"] = e.seq;
  j["at"] = util::format_rfc3339(e.at);
  j["organization"] = e.organization;
  j["kind"] = e.kind;
  j["credits"] = e.credits.to_string();
  j["balance"] = e.balance.to_string();
  j["actor"] = e.actor;
  j["reference"] = e.reference;
  j["reason"] = e.reason;
  return j;
}

Json invoice_json(const billing::Invoice& inv, util::Seconds now) {
  const auto& c = inv.currency;
  Json j;
  j["number"] = inv.number;
  j["organization"] = inv.organization;
  j["period"] = inv.period;
  j["plan"] = inv.plan;
  j["status"] = inv.status_at(now);
  j["issuedAt"] = inv.issued_at ? Json(util::format_rfc3339(inv.issued_at)) : Json(nullptr);
  j["dueDate"] = inv.due_date.empty() ? Json(nullptr) : Json(inv.due_date);
  j["paidAt"] = inv.paid_at ? Json(util::format_rfc3339(inv.paid_at)) : Json(nullptr);
  j["subtotal"] = money(inv.subtotal, c, c.minor_units);
  j["creditsApplied"] = money(inv.credits_applied, c, c.minor_units);
  j["tax"] = money(inv.tax, c, c.minor_units);
  j["total"] = money(inv.total, c, c.minor_units);
  j["lines"] = Json::array();
  for (const auto& l : inv.lines)
    j["lines"].push_back(Json{{"kind", l.kind},
                              {"description", l.description},
                              {"quantity", l.quantity},
                              {"unitPrice", l.unit_price},
                              {"amount", money(l.amount, c, c.minor_units)}});
  return j;
}

Json plan_json(const billing::Plan& p) {
  Json j;
  j["name"] = p.name;
  j["title"] = p.title;
  j["baseFee"] = p.base_fee ? money(*p.base_fee, p.currency, p.currency.minor_units) : Json(nullptr);
  j["allowances"] = Json::array();
  for (const auto& m : billing::metrics()) {
    const auto& a = p.allowances.at(m.metric);
    j["allowances"].push_back(Json{{"metric", std::string(m.id)},
                                   {"included", billing::quantity_text(a.included, m.metric)},
                                   {"rate", a.rate.to_string(p.currency.minor_units)},
                                   {"per", std::string(m.per_text)}});
  }
  return j;
}

Json request_json(const PlanRequest& r) {
  return Json{{"id", r.id},           {"organization", r.organization}, {"plan", r.plan},
              {"actor", r.actor},     {"note", r.note},                 {"at", util::format_rfc3339(r.at)}};
}

// A usage source that sees one organization: every query gets its filter.
class OrganizationSource : public usage::Source {
 public:
  OrganizationSource(usage::Source& inner, std::string org) : m_inner(inner), m_org(std::move(org)) {}
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override {
    std::vector<usage::AggQuery> own = queries;
    for (auto& q : own) q.where.push_back(usage::Filter{usage::Dim::organization, {m_org}});
    return m_inner.aggregate(own);
  }
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override {
    return m_inner.catalogs_used(begin, end);
  }
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override { return m_inner.may_have_sessions(begin, end); }

 private:
  usage::Source& m_inner;
  std::string m_org;
};

// Aggregations answered from memory while stored usage is unchanged: the same queries over the
// same records have the same answers, whoever asks (a tenant's carry its organization's filter, so
// they are other queries). Dropped whole when the usage version moves or it holds too many.
class CachedSource : public usage::Source {
 public:
  CachedSource(usage::Source& inner, std::function<int64_t()> version) : m_inner(inner), m_version(std::move(version)) {}
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override {
    if (!m_version) return m_inner.aggregate(queries);
    const int64_t v = m_version();
    if (v != m_at || m_results.size() >= k_max_entries) {
      m_results.clear();
      m_at = v;
    }
    std::string key;
    for (const auto& q : queries) {
      key += std::to_string(q.begin) + ',' + std::to_string(q.end) + ',' + std::to_string(q.meters) + std::to_string(q.tokens_only) + ',' +
             std::to_string(q.input_above) + ',' + std::to_string(q.input_upto) + ';';
      for (auto d : q.by) key += std::to_string(int(d)) + ',';
      for (const auto& f : q.where) {
        key += '|' + std::to_string(int(f.dim));
        for (const auto& val : f.values) key += '\x1f' + std::to_string(val.size()) + ':' + val;
      }
      key += '\n';
    }
    auto it = m_results.find(key);
    if (it == m_results.end()) it = m_results.emplace(key, m_inner.aggregate(queries)).first;
    return it->second;
  }
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override {
    return m_inner.catalogs_used(begin, end);
  }
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override { return m_inner.may_have_sessions(begin, end); }

 private:
  static constexpr size_t k_max_entries = 512;
  usage::Source& m_inner;
  std::function<int64_t()> m_version;
  int64_t m_at = -1;
  std::map<std::string, std::vector<usage::AggResult>> m_results;
};

class Api {
 public:
  explicit Api(Services& s) : m(s), m_cached(*s.usage, s.usage_version) { m.usage = &m_cached; }

  void bind(graphql::Schema& schema) {
    query(schema, "Query.me", [](const ResolveInfo& i) {
      const Caller& c = caller(i);
      Json scopes = Json::array();
      if (c.can_read) scopes.push_back("billing:read");
      if (c.can_write) scopes.push_back("billing:write");
      return Json{{"subject", c.subject}, {"organization", c.organization}, {"role", std::string(role_name(c.role))}, {"scopes", scopes}};
    });
    query(schema, "Query.usage", [this](const ResolveInfo& i) { return usage(i); });
    query(schema, "Query.report", [this](const ResolveInfo& i) { return report(i); });
    schema.resolve("Usage.groups", [](const ResolveInfo& i) { return limited(i.parent["groups"], i.args); });
    schema.resolve("Breakdown.rows", [](const ResolveInfo& i) { return limited(i.parent["rows"], i.args); });
    query(schema, "Query.budgets", [this](const ResolveInfo& i) { return budget_list(i, ""); });
    query(schema, "Query.budget", [this](const ResolveInfo& i) {
      Json list = budget_list(i, text_arg(i, "name"));
      return list.empty() ? Json(nullptr) : list[0];
    });
    query(schema, "Query.credits", [this](const ResolveInfo& i) {
      std::string org = org_arg(i);
      allow(caller(i), Action::view_invoices, org);
      return credits(org);
    });
    query(schema, "Credits.ledger", [this](const ResolveInfo& i) {
      credits::LedgerFilter f;
      f.organization = i.parent["organization"].get<std::string>();
      f.kind = text_arg(i, "kind");
      auto entries = m.ledger->entries(f);
      Json out = Json::array();
      int64_t n = i.args["limit"].get<int64_t>();
      for (auto it = entries.rbegin(); it != entries.rend() && int64_t(out.size()) < n; ++it) out.push_back(entry_json(*it));
      return out;
    });
    query(schema, "Query.invoices", [this](const ResolveInfo& i) {
      const Caller& c = caller(i);
      std::string org = text_arg(i, "organization");
      if (grant(c.role, Action::view_invoices) != Grant::all && org.empty()) org = c.organization;
      allow(c, Action::view_invoices, org);
      std::string status = text_arg(i, "status");
      Json out = Json::array();
      for (const auto& inv : m.invoices->list(text_arg(i, "period"), org)) {
        Json j = invoice_json(inv, m.now());
        if (status.empty() || j["status"] == status) out.push_back(j);
      }
      return out;
    });
    query(schema, "Query.invoice", [this](const ResolveInfo& i) -> Json {
      billing::Invoice inv;
      try {
        inv = m.invoices->get(text_arg(i, "number"));
      } catch (const billctl::Error&) {
        return nullptr;
      }
      // Another organization's invoice is null for a tenant, as a number never issued is: the
      // answer does not tell that it exists.
      if (denied(caller(i), Action::view_invoices, inv.organization)) return nullptr;
      return invoice_json(inv, m.now());
    });
    query(schema, "Query.plans", [this](const ResolveInfo&) {
      Json out = Json::array();
      for (const auto& p : m.plans) out.push_back(plan_json(p));
      return out;
    });
    query(schema, "Query.planChangeRequests", [this](const ResolveInfo& i) {
      const Caller& c = caller(i);
      Json out = Json::array();
      for (const auto& r : m.access->plan_requests())
        if (c.role == Role::platform_admin || r.organization == c.organization) out.push_back(request_json(r));
      return out;
    });

    query(schema, "Query.forecast", [this](const ResolveInfo& i) { return forecast(i); });
    query(schema, "Query.ledgerRecords", [this](const ResolveInfo& i) { return ledger_records(i); });
    query(schema, "Query.balances", [this](const ResolveInfo& i) {
      const Caller& c = caller(i);
      Json out = Json::array();
      for (const auto& [org, b] : m.ledger->balances())
        if (!denied(c, Action::view_invoices, org)) out.push_back(Json{{"organization", org}, {"balance", b.to_string()}});
      return out;
    });
    query(schema, "Query.invoiceDocuments", [this](const ResolveInfo& i) { return invoice_documents(i); });
    query(schema, "Query.planAssignments", [this](const ResolveInfo& i) {
      const Caller& c = caller(i);
      Json out = Json::array();
      auto starts = m.invoice_store->assignment_starts();
      for (const auto& [org, plan] : m.invoice_store->assignments())
        if (!denied(c, Action::view_invoices, org))
          out.push_back(Json{{"organization", org}, {"plan", plan}, {"start", starts.count(org) ? starts[org] : 0}});
      return out;
    });
    schema.resolve("Forecast.groups", [](const ResolveInfo& i) { return limited(i.parent["groups"], i.args); });
    query(schema, "Query.aggregate", [this](const ResolveInfo& i) { return aggregate(i); });
    query(schema, "Query.catalogsUsed", [this](const ResolveInfo& i) {
      Json out = Json::array();
      for (const auto& c : m.usage->catalogs_used(i.args["start"].get<int64_t>(), i.args["end"].get<int64_t>()))
        out.push_back(Json{{"name", c.name}, {"hash", c.hash}, {"asOf", c.as_of}, {"models", int64_t(c.models)}});
      return out;
    });
    query(schema, "Query.mayHaveSessions", [this](const ResolveInfo& i) {
      return Json(m.usage->may_have_sessions(i.args["start"].get<int64_t>(), i.args["end"].get<int64_t>()));
    });
    schema.resolve("Subscription.usageTicks", [this](const ResolveInfo& i) {
      if (!caller(i).can_read) forbid("the token's scope lacks billing:read");
      return guarded([this](const ResolveInfo& r) { return tick(r); }, i);
    });

    mutation(schema, "setBudget", [this](const ResolveInfo& i, std::string& org) { return set_budget(i, org); });
    mutation(schema, "removeBudget", [this](const ResolveInfo& i, std::string& org) {
      std::string name = text_arg(i, "name");
      auto list = m.budgets->list_budgets();
      auto it = std::find_if(list.begin(), list.end(), [&](const budgets::Budget& b) { return b.name == name; });
      if (it == list.end()) throw FieldError("no budget named '" + name + "'", "NOT_FOUND");
      org = budget_org(*it);
      allow(caller(i), Action::set_budget_alerts, org);
      m.budgets->remove_budgets({name});
      return Json(true);
    });
    mutation(schema, "buyCredits", [this](const ResolveInfo& i, std::string& org) {
      org = org_arg(i);
      allow(caller(i), Action::manage_payment, org);
      credits::Request r = request(i, org);
      r.reference = text_arg(i, "reference");
      if (r.reference.empty()) throw FieldError("reference must name the payment the purchase records", "BAD_USER_INPUT");
      r.known_org = true;
      m.ledger->buy(r, text_arg(i, "package"));
      return credits(org);
    });
    mutation(schema, "adjustCredits", [this](const ResolveInfo& i, std::string& org) {
      org = text_arg(i, "organization");
      allow(caller(i), Action::adjust_credits, org);
      auto amount = money::Decimal::parse(text_arg(i, "credits"));
      if (!amount) throw FieldError("invalid credits '" + text_arg(i, "credits") + "': " + amount.error(), "BAD_USER_INPUT");
      credits::Request r = request(i, org);
      r.reason = text_arg(i, "reason");
      r.known_org = true;
      m.ledger->adjust(r, amount.value_or_throw());
      return credits(org);
    });
    mutation(schema, "assignPlan", [this](const ResolveInfo& i, std::string& org) {
      org = text_arg(i, "organization");
      allow(caller(i), Action::update_plan, org);
      const billing::Plan* p = billing::find_plan(m.plans, text_arg(i, "plan"));
      if (!p) throw FieldError("no plan named '" + text_arg(i, "plan") + "'", "BAD_USER_INPUT");
      m.invoices->assign(org, p->name, m.now());
      return plan_json(*p);
    });
    mutation(schema, "requestPlanChange", [this](const ResolveInfo& i, std::string& org) {
      const Caller& c = caller(i);
      org = c.organization;
      if (grant(c.role, Action::update_plan) == Grant::none) forbid(*denied(c, Action::update_plan, org));
      const billing::Plan* p = billing::find_plan(m.plans, text_arg(i, "plan"));
      if (!p) throw FieldError("no plan named '" + text_arg(i, "plan") + "'", "BAD_USER_INPUT");
      PlanRequest r;
      r.organization = org;
      r.plan = p->name;
      r.actor = c.actor();
      r.note = text_arg(i, "note");
      r.at = m.now();
      r.id = m.access->add_plan_request(r);
      return request_json(r);
    });
    mutation(schema, "markInvoicePaid", [this](const ResolveInfo& i, std::string& org) {
      billing::Invoice inv = m.invoices->get(text_arg(i, "number"));
      org = inv.organization;
      allow(caller(i), Action::manage_payment, org);
      if (inv.status != "paid") inv = m.invoices->mark_paid(inv.number, caller(i).actor(), text_arg(i, "reference"), m.now());
      return invoice_json(inv, m.now());
    });
  }

 private:
  using Fn = std::function<Json(const ResolveInfo&)>;
  using MutationFn = std::function<Json(const ResolveInfo&, std::string& organization)>;

  // Domain errors become field errors: bad input, or a state that does not allow it.
  static Json guarded(const Fn& fn, const ResolveInfo& i) {
    try {
      return fn(i);
    } catch (const UsageError& e) {
      throw FieldError(e.what(), "BAD_USER_INPUT");
    } catch (const CheckFailed& e) {
      throw FieldError(e.what(), "FAILED_PRECONDITION");
    } catch (const billctl::Error& e) {
      throw FieldError(e.what(), "FAILED_PRECONDITION");
    }
  }

  void query(graphql::Schema& schema, const std::string& field, Fn fn) {
    schema.resolve(field, [fn = std::move(fn)](const ResolveInfo& i) {
      if (!caller(i).can_read) forbid("the token's scope lacks billing:read");
      return guarded(fn, i);
    });
  }

  // A mutation: write scope, the idempotency key, and a record of what was done by whom.
  void mutation(graphql::Schema& schema, const std::string& name, MutationFn fn) {
    schema.resolve("Mutation." + name, [this, name, fn = std::move(fn)](const ResolveInfo& i) {
      const Caller& c = caller(i);
      if (!c.can_write) forbid("the token's scope lacks billing:write");
      std::string key = text_arg(i, "idempotencyKey");
      Json args = i.args;
      args.erase("idempotencyKey");
      const std::string request = args.dump();
      if (!key.empty()) {
        if (auto earlier = m.access->find_mutation(c.actor(), key)) {
          if (earlier->mutation != name || earlier->request != request)
            throw FieldError("idempotency key '" + key + "' was used for another request (" + earlier->mutation + " " +
                                 earlier->request + ")",
                             "IDEMPOTENCY_CONFLICT");
          return Json::parse(earlier->result);
        }
      }
      std::string org;
      Json result = guarded([&](const ResolveInfo& r) { return fn(r, org); }, i);
      MutationRecord rec;
      rec.idempotency_key = key;
      rec.at = m.now();
      rec.actor = c.actor();
      rec.organization = org;
      rec.mutation = name;
      rec.request = request;
      rec.result = result.dump();
      m.access->record_mutation(rec);
      return result;
    });
  }

  credits::Request request(const ResolveInfo& i, const std::string& org) const {
    credits::Request r;
    r.organization = org;
    r.actor = caller(i).actor();
    r.idempotency_key = text_arg(i, "idempotencyKey");
    r.now = m.now();
    return r;
  }

  Json credits(const std::string& org) {
    return Json{{"organization", org}, {"balance", m.ledger->balance(org).to_string()}};
  }

  util::Period period(const ResolveInfo& i) const {
    std::string text = text_arg(i, "period");
    auto p = util::parse_period(text, m.now(), m.week_start);
    if (!p) throw FieldError("invalid period '" + text + "': " + p.error(), "BAD_USER_INPUT");
    return p.value_or_throw();
  }

  // The filters of `where`, with a tenant's organization forced.
  std::vector<usage::Filter> filters(const ResolveInfo& i) const {
    const Caller& c = caller(i);
    std::vector<std::string> items;
    if (i.args.contains("where") && i.args["where"].is_array()) {
      for (const auto& f : i.args["where"]) {
        std::string dim = f["dimension"].get<std::string>();
        for (const auto& v : f["values"]) items.push_back(dim + "=" + v.get<std::string>());
      }
    }
    std::vector<usage::Filter> where;
    try {
      where = usage::parse_filters(items);
    } catch (const billctl::Error& e) {
      throw FieldError(e.what(), "BAD_USER_INPUT");
    }
    if (grant(c.role, Action::view_usage) == Grant::all) return where;
    for (auto& f : where) {
      if (f.dim != usage::Dim::organization) continue;
      for (const auto& v : f.values)
        if (v != c.organization) allow(c, Action::view_usage, v);
    }
    where.push_back(usage::Filter{usage::Dim::organization, {c.organization}});
    return where;
  }

  Json aggregate(const ResolveInfo& i) {
    const Caller& c = caller(i);
    const bool all = grant(c.role, Action::view_usage) == Grant::all;
    std::vector<usage::AggQuery> queries;
    for (const auto& in : i.args["queries"]) {
      usage::AggQuery q;
      q.begin = in["start"].get<int64_t>();
      q.end = in["end"].get<int64_t>();
      for (const auto& b : in["by"]) {
        auto d = usage::find_dim(b.get<std::string>());
        if (!d) throw FieldError("unknown dimension '" + b.get<std::string>() + "'", "BAD_USER_INPUT");
        q.by.push_back(*d);
      }
      if (q.by.size() > usage::k_max_query_dims) throw FieldError("a query groups by nine dimensions at most", "BAD_USER_INPUT");
      for (const auto& f : in["where"]) {
        auto d = usage::find_dim(f["dimension"].get<std::string>());
        if (!d || size_t(*d) >= usage::k_text_dims)
          throw FieldError("unknown dimension '" + f["dimension"].get<std::string>() + "'", "BAD_USER_INPUT");
        usage::Filter filter{*d, {}};
        for (const auto& v : f["values"]) filter.values.push_back(v.get<std::string>());
        if (!all && *d == usage::Dim::organization)
          for (const auto& v : filter.values) allow(c, Action::view_usage, v);
        q.where.push_back(std::move(filter));
      }
      q.meters = in["meters"].get<bool>();
      q.tokens_only = in["tokensOnly"].get<bool>();
      q.input_above = in["inputAbove"].get<int64_t>();
      q.input_upto = in["inputUpto"].get<int64_t>();
      queries.push_back(std::move(q));
    }
    OrganizationSource own(*m.usage, c.organization);
    usage::Source& src = all ? *m.usage : own;
    Json out = Json::array();
    for (const auto& r : src.aggregate(queries)) {
      Json j;
      j["currency"] = std::string(r.currency.name());
      j["groups"] = Json::array();
      for (const auto& g : r.groups) {
        const usage::Totals& t = g.totals;
        j["groups"].push_back(Json{{"keys", g.keys},
                                   {"totals",
                                    {{"records", t.records},
                                     {"requests", t.requests},
                                     {"errorRequests", t.error_requests},
                                     {"inputTokens", t.input_tokens},
                                     {"cachedInputTokens", t.cached_input_tokens},
                                     {"cacheWriteTokens", t.cache_write_tokens},
                                     {"cacheWrite1hTokens", t.cache_write_1h_tokens},
                                     {"outputTokens", t.output_tokens},
                                     {"unpricedRecords", t.unpriced_records},
                                     {"costUnits", money::to_string(t.cost)}}}});
      }
      j["meters"] = Json::array();
      for (const auto& p : r.meters.parts()) {
        Json levels = Json::array();
        for (const auto& l : p.levels) levels.push_back(Json{{"day", l.day}, {"series", l.series}, {"quantity", l.quantity.to_string()}});
        j["meters"].push_back(Json{{"organization", p.organization},
                                   {"meter", p.meter},
                                   {"unit", p.unit},
                                   {"sum", p.sum.to_string()},
                                   {"records", p.records},
                                   {"levels", levels}});
      }
      out.push_back(j);
    }
    return out;
  }

  Json usage(const ResolveInfo& i) {
    util::Period p = period(i);
    std::vector<std::string> names;
    for (const auto& b : i.args["by"]) names.push_back(b.get<std::string>());
    std::vector<usage::Dim> by = dims(i);
    usage::AggQuery q;
    q.begin = p.begin;
    q.end = p.end;
    q.where = filters(i);
    q.by = by;
    auto result = m.usage->aggregate({q}).front();
    Json j;
    j["period"] = period_json(p);
    j["by"] = names;
    j["total"] = totals_json(result.total(), result.currency);
    Json groups = Json::array();
    for (const auto& g : result.groups) groups.push_back(Json{{"keys", g.keys}, {"totals", totals_json(g.totals, result.currency)}});
    j["groups"] = groups;
    return j;
  }

  Json ledger_records(const ResolveInfo& i) {
    const Caller& c = caller(i);
    credits::LedgerFilter f;
    f.organization = text_arg(i, "organization");
    if (f.organization.empty() && grant(c.role, Action::view_invoices) != Grant::all) f.organization = c.organization;
    allow(c, Action::view_invoices, f.organization);
    f.kind = text_arg(i, "kind");
    for (const auto& k : i.args["kinds"]) f.kinds.push_back(k.get<std::string>());
    f.actor = text_arg(i, "actor");
    f.after_seq = i.args["afterSeq"].get<int64_t>();
    if (i.args.contains("start") && !i.args["start"].is_null() && i.args.contains("end") && !i.args["end"].is_null())
      f.period = util::Period{i.args["start"].get<int64_t>(), i.args["end"].get<int64_t>(), "", util::Period::Kind::range};
    Json out = Json::array();
    for (const auto& e : m.ledger->entries(f))
      out.push_back(Json{{"seq", e.seq},
                         {"at", e.at},
                         {"organization", e.organization},
                         {"kind", e.kind},
                         {"credits", e.credits.to_string()},
                         {"balance", e.balance.to_string()},
                         {"actor", e.actor},
                         {"reference", e.reference},
                         {"reason", e.reason},
                         {"idempotencyKey", e.idempotency_key},
                         {"detail", e.detail},
                         {"prevHash", e.prev_hash},
                         {"hash", e.hash}});
    return out;
  }

  Json invoice_documents(const ResolveInfo& i) {
    const Caller& c = caller(i);
    std::vector<billing::Invoice> list;
    if (std::string ref = text_arg(i, "ref"); !ref.empty()) {
      try {
        list.push_back(m.invoices->get(ref));
      } catch (const billctl::Error&) {
      }
      // Another organization's invoice is not there for a tenant, as with invoice(number).
      std::erase_if(list, [&](const billing::Invoice& inv) { return denied(c, Action::view_invoices, inv.organization).has_value(); });
    } else {
      std::string org = text_arg(i, "organization");
      if (org.empty() && grant(c.role, Action::view_invoices) != Grant::all) org = c.organization;
      allow(c, Action::view_invoices, org);
      list = m.invoices->list(text_arg(i, "period"), org);
    }
    Json out = Json::array();
    for (const auto& inv : list) out.push_back(Json{{"id", inv.id}, {"document", billing::to_json(inv)}});
    return out;
  }

  Json forecast(const ResolveInfo& i) {
    forecast::Options o;
    o.period = period(i);
    o.now = m.now();
    o.where = filters(i);
    o.by = dims(i);
    forecast::Forecast f = forecast::make_forecast(*m.usage, o);
    const auto& c = f.currency;
    auto bands = [&](const std::vector<forecast::Band>& list) {
      Json out = Json::array();
      for (const auto& b : list) out.push_back(Json{{"level", b.level}, {"lower", rounded(b.lower, c)}, {"upper", rounded(b.upper, c)}});
      return out;
    };
    auto outlook = [&](const forecast::Outlook& ol) {
      return Json{{"keys", ol.key},
                  {"actualToDate", rounded(ol.actual_to_date, c)},
                  {"mean", rounded(ol.mean, c)},
                  {"intervals", bands(ol.intervals)}};
    };
    Json j;
    j["period"] = period_json(f.period);
    j["asOf"] = util::format_rfc3339(f.as_of);
    j["currency"] = std::string(c.name());
    j["total"] = outlook(f.total);
    j["groups"] = Json::array();
    for (const auto& g : f.groups) j["groups"].push_back(outlook(g));
    j["daily"] = Json::array();
    for (const auto& d : f.daily)
      j["daily"].push_back(Json{{"date", d.date},
                                {"actual", d.actual ? rounded(*d.actual, c) : Json(nullptr)},
                                {"mean", rounded(d.mean, c)},
                                {"bands", bands(d.bands)}});
    j["historyDays"] = f.history_days;
    j["insufficientHistory"] = f.insufficient_history;
    j["projected"] = f.projected;
    return j;
  }

  std::vector<usage::Dim> dims(const ResolveInfo& i) const {
    std::string joined;
    for (const auto& b : i.args["by"]) joined += (joined.empty() ? "" : ",") + b.get<std::string>();
    if (joined.empty()) return {};
    try {
      return usage::parse_dims(joined, "by");
    } catch (const billctl::Error& e) {
      throw FieldError(e.what(), "BAD_USER_INPUT");
    }
  }

  Json report(const ResolveInfo& i) {
    util::Period p = period(i);
    auto r = report::build_monthly_report(*m.usage, p, filters(i), m.now());
    const auto& c = r.currency;
    Json j;
    j["period"] = period_json(r.period);
    j["previous"] = period_json(r.previous);
    j["currency"] = std::string(c.name());
    j["cost"] = money(r.cost, c, c.minor_units);
    j["previousCost"] = money(r.previous_cost, c, c.minor_units);
    j["changePercent"] = r.change_tenths ? Json(report::percent_text(*r.change_tenths, true)) : Json(nullptr);
    j["activeUsers"] = r.active_users;
    j["costPerRequest"] = r.cost_per_request ? money(*r.cost_per_request, c, 4) : Json(nullptr);
    j["costPerActiveUser"] = r.cost_per_active_user ? money(*r.cost_per_active_user, c, c.minor_units) : Json(nullptr);
    j["failedPercent"] = render::percent_text(r.failed_tenths);
    j["totals"] = totals_json(r.total, c);
    j["unpricedModels"] = r.unpriced_models;
    Json tables = Json::array();
    for (const auto& t : r.breakdowns) tables.push_back(table_json(t));
    tables.push_back(table_json(r.top_users));
    tables.push_back(table_json(r.daily));
    if (!r.meters.rows.empty()) tables.push_back(table_json(r.meters));
    j["breakdowns"] = tables;
    return j;
  }

  // The budgets the caller may see (one, with `name`).
  std::vector<budgets::Budget> visible_budgets(const Caller& c, const std::string& name = {}) {
    std::vector<budgets::Budget> visible;
    for (auto& b : m.budgets->list_budgets()) {
      if (!name.empty() && b.name != name) continue;
      if (grant(c.role, Action::view_usage) != Grant::all && budget_org(b) != c.organization) continue;
      visible.push_back(std::move(b));
    }
    return visible;
  }

  Json tick(const ResolveInfo& i) {
    const Caller& c = caller(i);
    const bool all = grant(c.role, Action::view_usage) == Grant::all;
    OrganizationSource own(*m.usage, c.organization);
    usage::Source& src = all ? *m.usage : own;
    const util::Seconds now = m.now();
    report::LiveView v = report::build_live(src, visible_budgets(c), now);
    const auto& cur = v.currency;
    Json j;
    j["at"] = util::format_rfc3339(now);
    j["today"] = rounded(v.today, cur);
    j["todayRequests"] = v.today_requests;
    j["lastHour"] = rounded(v.last_hour, cur);
    j["lastHourRequests"] = v.last_hour_requests;
    j["month"] = v.month;
    j["monthToDate"] = rounded(v.month_to_date, cur);
    j["lastMonthSamePoint"] = rounded(v.last_month_same_point, cur);
    j["budgets"] = Json::array();
    for (const auto& s : v.budgets) {
      Json bj = budget_json(s);
      j["budgets"].push_back(Json{{"name", bj["name"]},
                                  {"spent", bj["status"]["spent"]},
                                  {"usedPercent", bj["status"]["usedPercent"]},
                                  {"stage", bj["status"]["stage"]}});
    }
    j["topUsers"] = Json::array();
    for (const auto& t : v.top_users) j["topUsers"].push_back(Json{{"value", t.value}, {"cost", rounded(t.cost, cur)}});
    return j;
  }

  // Budgets the caller may see (one, with `name`), evaluated in one aggregation.
  Json budget_list(const ResolveInfo& i, const std::string& name) {
    std::vector<budgets::Budget> visible = visible_budgets(caller(i), name);
    Json out = Json::array();
    for (const auto& s : budgets::evaluate(*m.usage, visible, m.now())) out.push_back(budget_json(s));
    return out;
  }

  Json set_budget(const ResolveInfo& i, std::string& org) {
    const Caller& c = caller(i);
    const Json& in = i.args["budget"];
    budgets::Budget b;
    const std::string origin = "setBudget";
    b.name = in["name"].get<std::string>();
    for (const auto& s : in["scope"]) b.scope.push_back(s.get<std::string>());
    b.tz = in.contains("timeZone") && in["timeZone"].is_string() ? in["timeZone"].get<std::string>() : m.tz;
    try {
      util::TimeZone::load(b.tz);
    } catch (const billctl::Error&) {
      throw FieldError("invalid timeZone '" + b.tz + "': not a known IANA time zone", "BAD_USER_INPUT");
    }
    const std::string period = in["period"].get<std::string>(), mode = in["mode"].get<std::string>();
    if (period == "monthly") b.period = budgets::Period::monthly;
    else if (period == "daily") b.period = budgets::Period::daily;
    else throw FieldError("invalid period '" + period + "': expected monthly or daily", "BAD_USER_INPUT");
    if (mode == "soft") b.mode = budgets::Mode::soft;
    else if (mode == "hard") b.mode = budgets::Mode::hard;
    else throw FieldError("invalid mode '" + mode + "': expected soft or hard", "BAD_USER_INPUT");
    budgets::parse_limit(b, in["limit"].get<std::string>(), "limit");
    b.stages.clear();
    for (const auto& s : in["stages"]) b.stages.push_back(int(s.get<int64_t>()));
    for (const auto& ch : in["channels"]) b.channels.push_back(ch.get<std::string>());
    b.from_file = in["fromFile"].get<bool>();
    // A tenant's budget is its organization's: the scope names it, and no other.
    std::set<std::string> orgs;
    for (const auto& t : b.scope)
      if (t.rfind("organization:", 0) == 0) orgs.insert(t.substr(13));
    if (orgs.size() > 1) throw FieldError("a budget's scope names one organization at most", "BAD_USER_INPUT");
    org = orgs.empty() ? std::string() : *orgs.begin();
    if (org.empty() && grant(c.role, Action::set_budget_alerts) != Grant::all) {
      // "organization" alone means all usage; a tenant's all is its organization's.
      std::erase(b.scope, std::string("organization"));
      org = c.organization;
      b.scope.push_back("organization:" + org);
    }
    allow(c, Action::set_budget_alerts, org);
    budgets::validate(b, origin);
    for (const auto& existing : m.budgets->list_budgets())
      if (existing.name == b.name && budget_org(existing) != org)
        allow(c, Action::set_budget_alerts, budget_org(existing));  // taking over another's name
    m.budgets->put_budget(b, m.now());
    return budget_json(budgets::evaluate(*m.usage, {b}, m.now()).front());
  }

  Services m;  // a copy whose usage is the cache
  CachedSource m_cached;
};

}  // namespace

const std::string& billing_sdl() { return k_sdl; }

std::unique_ptr<graphql::Schema> billing_schema(Services& services) {
  auto schema = std::make_unique<graphql::Schema>(k_sdl);
  auto api = std::make_shared<Api>(services);
  api->bind(*schema);
  schema->keep(api);  // the resolvers point into it
  return schema;
}

}  // namespace billctl::serve
