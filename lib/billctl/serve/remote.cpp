#include "billctl/serve/remote.hpp"

#include <fmt/format.h>

#include "billctl/billing/invoice.hpp"
#include "billctl/budgets/budget.hpp"
#include "billctl/util/error.hpp"

namespace billctl::serve {

using nlohmann::json;

namespace {

constexpr const char* k_totals = "records requests errorRequests inputTokens cachedInputTokens cacheWriteTokens "
                                 "cacheWrite1hTokens outputTokens unpricedRecords costUnits";

money::i128 parse_units(const std::string& text) {
  money::i128 v = 0;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) throw DataError("the server sent a cost that is not a number: '" + text + "'");
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') throw DataError("the server sent a cost that is not a number: '" + text + "'");
    v = v * 10 + (text[i] - '0');
  }
  return text[0] == '-' ? -v : v;
}

money::Decimal decimal(const json& v) {
  auto d = money::Decimal::parse(v.get<std::string>());
  if (!d) throw DataError("the server sent a quantity that is not a decimal: " + v.dump());
  return d.value_or_throw();
}

std::string limit_text(const budgets::Budget& b) {
  return b.in_tokens ? b.limit.to_string() + " tokens" : b.limit.to_string() + " " + std::string(b.currency.name());
}

}  // namespace

std::string remote_root(const std::string& url, const std::string& what) {
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    throw UsageError("invalid " + what + " '" + url + "': expected https://HOST:PORT (the billctl serve address)");
  std::string root = url;
  const size_t scheme = root.find("://") + 3;
  if (size_t slash = root.find('/', scheme); slash != std::string::npos) root.erase(slash);
  if (root.size() == scheme) throw UsageError("invalid " + what + " '" + url + "': no host");
  if (root.find('@') != std::string::npos)
    throw UsageError("invalid " + what + ": credentials do not go in the address; set BILLCTL_CLIENT_ID and BILLCTL_CLIENT_SECRET");
  return root;
}

RemoteClient::RemoteClient(net::HttpClient& http, RemoteConfig config) : m_http(http), m_config(std::move(config)) {}

void RemoteClient::fetch_token() {
  if (m_config.client_id.empty() || m_config.client_secret.empty())
    throw Error(ExitCode::auth, "no client credentials for " + m_config.url +
                                    ": set BILLCTL_CLIENT_ID and BILLCTL_CLIENT_SECRET (see 'billctl serve clients add')");
  net::HttpRequest r;
  r.url = m_config.url + "/oauth/token";
  r.body = net::form_encode({{"grant_type", "client_credentials"}});
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  r.basic_user = m_config.client_id;
  r.basic_password = m_config.client_secret;
  r.timeout_ms = m_config.timeout_ms;
  r.ca_file = m_config.ca_file;
  net::HttpResponse res = m_http.post(r);
  if (!res.error.empty()) throw DataError("cannot reach " + m_config.url + ": " + res.error);
  json body = json::parse(res.body, nullptr, false);
  if (res.status == 401 || res.status == 400)
    throw Error(ExitCode::auth, m_config.url + " refused client '" + m_config.client_id + "': " +
                                    (body.is_object() ? body.value("error_description", body.value("error", "")) : res.body));
  if (!res.ok() || !body.is_object() || !body.contains("access_token"))
    throw DataError(fmt::format("{} answered the token request with HTTP {}", m_config.url, res.status));
  m_token = body["access_token"].get<std::string>();
}

json RemoteClient::run(const std::string& query, const json& variables) {
  if (m_token.empty()) fetch_token();
  for (int attempt = 0;; ++attempt) {
    net::HttpRequest r;
    r.url = m_config.url + "/graphql";
    r.body = json{{"query", query}, {"variables", variables}}.dump();
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + m_token}};
    r.timeout_ms = m_config.timeout_ms;
    r.ca_file = m_config.ca_file;
    net::HttpResponse res = m_http.post(r);
    if (!res.error.empty()) throw DataError("cannot reach " + m_config.url + ": " + res.error);
    if (res.status == 401 && attempt == 0) {  // the token expired meanwhile: one new one
      fetch_token();
      continue;
    }
    json body = json::parse(res.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      throw DataError(fmt::format("{} answered with HTTP {} and no GraphQL response", m_config.url, res.status));
    if (body.contains("errors") && !body["errors"].empty()) {
      const json& e = body["errors"][0];
      const std::string message = e.value("message", "error");
      const std::string code = e.contains("extensions") ? e["extensions"].value("code", "") : "";
      if (code == "FORBIDDEN" || code == "UNAUTHENTICATED") throw Error(ExitCode::auth, m_config.url + ": " + message);
      if (code == "BAD_USER_INPUT") throw UsageError(message);
      throw DataError(m_config.url + ": " + message);
    }
    if (!res.ok()) throw DataError(fmt::format("{} answered with HTTP {}", m_config.url, res.status));
    return body["data"];
  }
}

std::vector<usage::AggResult> RemoteUsage::aggregate(const std::vector<usage::AggQuery>& queries) {
  if (queries.empty()) return {};
  json list = json::array();
  for (const auto& q : queries) {
    json j;
    j["start"] = q.begin;
    j["end"] = q.end;
    j["by"] = json::array();
    for (auto d : q.by) j["by"].push_back(std::string(usage::dim_name(d)));
    j["where"] = json::array();
    for (const auto& f : q.where) j["where"].push_back(json{{"dimension", std::string(usage::dim_name(f.dim))}, {"values", f.values}});
    j["meters"] = q.meters;
    j["tokensOnly"] = q.tokens_only;
    j["inputAbove"] = q.input_above;
    j["inputUpto"] = q.input_upto;
    list.push_back(j);
  }
  const std::string query = std::string("query($q: [AggregateQuery!]!) { aggregate(queries: $q) { currency groups { keys totals { ") +
                            k_totals + " } } meters { organization meter unit sum records levels { day series quantity } } } }";
  json data = m_client.run(query, json{{"q", list}});
  const json& results = data["aggregate"];
  if (!results.is_array() || results.size() != queries.size())
    throw DataError(m_client.config().url + " answered " + std::to_string(results.size()) + " aggregations for " +
                    std::to_string(queries.size()));
  std::vector<usage::AggResult> out;
  for (const auto& r : results) {
    usage::AggResult a;
    auto c = money::find_currency(r["currency"].get<std::string>());
    if (!c) throw DataError(m_client.config().url + " sent an unknown currency " + r["currency"].dump());
    a.currency = c.value_or_throw();
    for (const auto& g : r["groups"]) {
      usage::Group group;
      group.keys = g["keys"].get<std::vector<std::string>>();
      const json& t = g["totals"];
      group.totals.records = t["records"].get<int64_t>();
      group.totals.requests = t["requests"].get<int64_t>();
      group.totals.error_requests = t["errorRequests"].get<int64_t>();
      group.totals.input_tokens = t["inputTokens"].get<int64_t>();
      group.totals.cached_input_tokens = t["cachedInputTokens"].get<int64_t>();
      group.totals.cache_write_tokens = t["cacheWriteTokens"].get<int64_t>();
      group.totals.cache_write_1h_tokens = t["cacheWrite1hTokens"].get<int64_t>();
      group.totals.output_tokens = t["outputTokens"].get<int64_t>();
      group.totals.unpriced_records = t["unpricedRecords"].get<int64_t>();
      group.totals.cost = parse_units(t["costUnits"].get<std::string>());
      a.groups.push_back(std::move(group));
    }
    for (const auto& m : r["meters"]) {
      usage::MeterTotals::Part p;
      p.organization = m["organization"].get<std::string>();
      p.meter = m["meter"].get<std::string>();
      p.unit = m["unit"].get<std::string>();
      p.sum = decimal(m["sum"]);
      p.records = m["records"].get<int64_t>();
      for (const auto& l : m["levels"]) p.levels.push_back({l["day"].get<int64_t>(), l["series"].get<std::string>(), decimal(l["quantity"])});
      a.meters.add_part(p);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<usage::CatalogInfo> RemoteUsage::catalogs_used(util::Seconds begin, util::Seconds end) {
  json data = m_client.run("query($s: Long!, $e: Long!) { catalogsUsed(start: $s, end: $e) { name hash asOf models } }",
                           json{{"s", begin}, {"e", end}});
  std::vector<usage::CatalogInfo> out;
  for (const auto& c : data["catalogsUsed"])
    out.push_back({c["name"].get<std::string>(), c["hash"].get<std::string>(), c["asOf"].get<std::string>(), c["models"].get<size_t>()});
  return out;
}

bool RemoteUsage::may_have_sessions(util::Seconds begin, util::Seconds end) {
  json data = m_client.run("query($s: Long!, $e: Long!) { mayHaveSessions(start: $s, end: $e) }", json{{"s", begin}, {"e", end}});
  return data["mayHaveSessions"].get<bool>();
}

std::vector<budgets::Budget> RemoteBudgets::list_budgets() {
  json data = m_client.run("{ budgets { name scope period limit unit mode stages timeZone channels fromFile } }");
  std::vector<budgets::Budget> out;
  for (const auto& j : data["budgets"]) {
    budgets::Budget b;
    const std::string origin = m_client.config().url + " budget '" + j["name"].get<std::string>() + "'";
    b.name = j["name"].get<std::string>();
    b.scope = j["scope"].get<std::vector<std::string>>();
    b.period = j["period"] == "daily" ? budgets::Period::daily : budgets::Period::monthly;
    budgets::parse_limit(b, j["limit"].get<std::string>() + " " + j["unit"].get<std::string>(), origin);
    b.mode = j["mode"] == "hard" ? budgets::Mode::hard : budgets::Mode::soft;
    b.stages = j["stages"].get<std::vector<int>>();
    b.tz = j["timeZone"].get<std::string>();
    b.channels = j["channels"].get<std::vector<std::string>>();
    b.from_file = j["fromFile"].get<bool>();
    out.push_back(std::move(b));
  }
  return out;
}

void RemoteBudgets::put_budget(const budgets::Budget& b, util::Seconds) {
  json in;
  in["name"] = b.name;
  in["scope"] = b.scope;
  in["limit"] = limit_text(b);
  in["period"] = std::string(budgets::period_name(b.period));
  in["mode"] = std::string(budgets::mode_name(b.mode));
  in["stages"] = b.stages;
  in["timeZone"] = b.tz;
  in["channels"] = b.channels;
  in["fromFile"] = b.from_file;
  m_client.run("mutation($b: BudgetInput!) { setBudget(budget: $b) { name } }", json{{"b", in}});
}

std::vector<std::string> RemoteBudgets::remove_budgets(const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  std::vector<budgets::Budget> current = list_budgets();
  for (const auto& n : names)
    if (std::none_of(current.begin(), current.end(), [&](const budgets::Budget& b) { return b.name == n; })) missing.push_back(n);
  if (!missing.empty()) return missing;  // all or none, as the local store does
  for (const auto& n : names) m_client.run("mutation($n: String!) { removeBudget(name: $n) }", json{{"n", n}});
  return {};
}

void RemoteBudgets::apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove, util::Seconds now) {
  for (const auto& b : put) put_budget(b, now);
  for (const auto& n : remove) m_client.run("mutation($n: String!) { removeBudget(name: $n) }", json{{"n", n}});
}

namespace {

[[noreturn]] void not_remote(const char* what) {
  throw UsageError(std::string(what) + " is done on the server (its mutations, or billctl there), not through --remote");
}

// Reads only: nothing to commit or roll back.
class NoTxn : public util::Txn {
 public:
  void commit() override {}
};

constexpr const char* k_record_fields = "seq at organization kind credits balance actor reference reason idempotencyKey detail prevHash hash";

credits::Entry entry_of(const json& j) {
  credits::Entry e;
  e.seq = j["seq"].get<int64_t>();
  e.at = j["at"].get<int64_t>();
  e.organization = j["organization"].get<std::string>();
  e.kind = j["kind"].get<std::string>();
  e.credits = decimal(j["credits"]);
  e.balance = decimal(j["balance"]);
  e.actor = j["actor"].get<std::string>();
  e.reference = j["reference"].get<std::string>();
  e.reason = j["reason"].get<std::string>();
  e.idempotency_key = j["idempotencyKey"].get<std::string>();
  e.detail = j["detail"].get<std::string>();
  e.prev_hash = j["prevHash"].get<std::string>();
  e.hash = j["hash"].get<std::string>();
  return e;
}

}  // namespace

std::unique_ptr<util::Txn> RemoteLedger::transaction() { return std::make_unique<NoTxn>(); }

std::vector<credits::Entry> RemoteLedger::entries(const credits::LedgerFilter& f) {
  json vars{{"org", f.organization}, {"kind", f.kind}, {"kinds", f.kinds}, {"actor", f.actor}, {"after", f.after_seq}};
  vars["start"] = f.period ? json(f.period->begin) : json(nullptr);
  vars["end"] = f.period ? json(f.period->end) : json(nullptr);
  json data = m_client.run(std::string("query($org: String, $kind: String, $kinds: [String!], $actor: String, $start: Long, $end: Long, "
                                       "$after: Long) { ledgerRecords(organization: $org, kind: $kind, kinds: $kinds, actor: $actor, "
                                       "start: $start, end: $end, afterSeq: $after) { ") +
                               k_record_fields + " } }",
                           vars);
  std::vector<credits::Entry> out;
  for (const auto& j : data["ledgerRecords"]) out.push_back(entry_of(j));
  return out;
}

std::optional<credits::Entry> RemoteLedger::last_entry() {
  auto all = entries({});
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::map<std::string, money::Decimal> RemoteLedger::balances() {
  json data = m_client.run("{ balances { organization balance } }");
  std::map<std::string, money::Decimal> out;
  for (const auto& b : data["balances"]) out[b["organization"].get<std::string>()] = decimal(b["balance"]);
  return out;
}

std::optional<money::Decimal> RemoteLedger::balance(const std::string& organization) {
  auto all = balances();
  auto it = all.find(organization);
  if (it == all.end()) return std::nullopt;
  return it->second;
}

std::optional<credits::Entry> RemoteLedger::entry(int64_t seq) {
  credits::LedgerFilter f;
  f.after_seq = seq - 1;
  for (auto& e : entries(f))
    if (e.seq == seq) return e;
  return std::nullopt;
}

std::vector<credits::Entry> RemoteLedger::request_entries(const std::string&) { return {}; }
void RemoteLedger::scan_entries(const std::function<bool(const credits::RawEntry&)>&) { not_remote("Verifying the ledger"); }
void RemoteLedger::append(const credits::Entry&) { not_remote("Changing the credit ledger"); }
std::string RemoteLedger::recorded_head() { not_remote("Verifying the ledger"); }
bool RemoteLedger::organization_known(const std::string& organization) { return balances().count(organization) > 0; }
std::vector<std::string> RemoteLedger::organization_names() {
  std::vector<std::string> out;
  for (const auto& [org, b] : balances()) out.push_back(org);
  return out;
}
void RemoteLedger::put_topup_rule(const credits::TopupRule&, util::Seconds) { not_remote("Setting an auto-topup rule"); }
bool RemoteLedger::remove_topup_rule(const std::string&) { not_remote("Removing an auto-topup rule"); }
void RemoteLedger::scan_charges(util::Seconds, util::Seconds, const std::string&, const std::function<void(const credits::ChargeRow&)>&) {
  not_remote("Deducting usage");
}
void RemoteLedger::put_charge(const credits::ChargeRow&, const money::Decimal&, int64_t) { not_remote("Deducting usage"); }
std::vector<credits::Charge> RemoteLedger::orphaned_charges(const std::string&, util::Seconds, util::Seconds, int64_t, int64_t) {
  not_remote("Deducting usage");
}
void RemoteLedger::delete_charge(const std::string&, util::Seconds, const std::string&) { not_remote("Deducting usage"); }
std::vector<std::string> RemoteLedger::orphan_organizations(util::Seconds, util::Seconds, int64_t) { not_remote("Deducting usage"); }
std::vector<credits::StoredCharge> RemoteLedger::stored_charges(util::Seconds, util::Seconds, const std::string&,
                                                                const credits::StoredCharge*, size_t) {
  not_remote("Deducting usage");
}
std::map<int64_t, std::string> RemoteLedger::run_rates() { not_remote("Deducting usage"); }
void RemoteLedger::put_run_rates(int64_t, const std::string&) { not_remote("Deducting usage"); }
int64_t RemoteLedger::usage_version() { not_remote("Deducting usage"); }
std::optional<std::map<std::string, credits::Skipped>> RemoteLedger::charged_at(util::Seconds, util::Seconds, const std::string&, int64_t) {
  not_remote("Deducting usage");
}
void RemoteLedger::record_charged(util::Seconds, util::Seconds, const std::string&, int64_t,
                                  const std::map<std::string, credits::Skipped>&) {
  not_remote("Deducting usage");
}

std::unique_ptr<util::Txn> RemoteInvoices::transaction() { return std::make_unique<NoTxn>(); }

std::map<std::string, std::string> RemoteInvoices::assignments() {
  std::map<std::string, std::string> out;
  const json data = m_client.run("{ planAssignments { organization plan start } }");  // outlives the loop
  for (const auto& a : data["planAssignments"]) out[a["organization"].get<std::string>()] = a["plan"].get<std::string>();
  return out;
}

std::map<std::string, util::Seconds> RemoteInvoices::assignment_starts() {
  std::map<std::string, util::Seconds> out;
  const json data = m_client.run("{ planAssignments { organization plan start } }");
  for (const auto& a : data["planAssignments"]) out[a["organization"].get<std::string>()] = a["start"].get<int64_t>();
  return out;
}

void RemoteInvoices::assign(const std::string&, const std::string&, util::Seconds, bool) { not_remote("Assigning a plan"); }
std::optional<std::pair<std::string, std::string>> RemoteInvoices::open_invoice(const std::string&, const std::string&) {
  not_remote("Generating invoices");
}
int64_t RemoteInvoices::next_number(int) { not_remote("Generating invoices"); }
int64_t RemoteInvoices::insert(const billing::Invoice&) { not_remote("Generating invoices"); }
void RemoteInvoices::update(const billing::Invoice&) { not_remote("Changing an invoice"); }

std::vector<billing::Invoice> RemoteInvoices::documents(const json& variables) {
  json data = m_client.run("query($p: String, $o: String, $r: String) { invoiceDocuments(period: $p, organization: $o, ref: $r) { id document } }",
                           variables);
  std::vector<billing::Invoice> out;
  for (const auto& d : data["invoiceDocuments"]) {
    billing::Invoice inv = billing::from_json(d["document"].get<std::string>(), m_client.config().url + " invoice");
    inv.id = d["id"].get<int64_t>();
    out.push_back(std::move(inv));
  }
  return out;
}

std::optional<billing::Invoice> RemoteInvoices::find_by_id(int64_t id) {
  auto list = documents(json{{"p", ""}, {"o", ""}, {"r", std::to_string(id)}});
  if (list.empty()) return std::nullopt;
  return list.front();
}

std::optional<billing::Invoice> RemoteInvoices::find_by_number(const std::string& number) {
  auto list = documents(json{{"p", ""}, {"o", ""}, {"r", number}});
  if (list.empty()) return std::nullopt;
  return list.front();
}

std::vector<billing::Invoice> RemoteInvoices::list(const std::string& period, const std::string& organization) {
  return documents(json{{"p", period}, {"o", organization}, {"r", ""}});
}

}  // namespace billctl::serve
