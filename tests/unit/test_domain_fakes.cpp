// Domain logic against in-memory stores (fakes.hpp): the ledger, invoices, budgets and notify
// without a database file. The SQLite adapters are tested on real files elsewhere.
#include <catch2/catch.hpp>

#include "billctl/billing/invoice.hpp"
#include "billctl/budgets/budget.hpp"
#include "billctl/credits/ledger.hpp"
#include "billctl/notify/notifier.hpp"
#include "fakes.hpp"
#include "helpers.hpp"

using namespace billctl;
using money::Decimal;
using test::dec;
using test::FakeRecord;
using test::FakeStore;

namespace {

const util::Seconds k_oct = 1'790'812'800;  // 2026-10-01T00:00:00Z
const util::Seconds k_nov = 1'793'491'200;  // 2026-11-01T00:00:00Z
const util::Seconds k_now = 1'793'606'400;  // 2026-11-02T08:00:00Z

FakeRecord rec(std::string id, std::string org, util::Seconds ts, const char* cost) {
  FakeRecord r;
  r.id = std::move(id);
  r.organization = std::move(org);
  r.ts = ts;
  r.cost = dec(cost);
  r.input = 1000;
  return r;
}

credits::Request req(const std::string& org, std::string key = {}) {
  credits::Request r;
  r.organization = org;
  r.actor = "test";
  r.reference = "ref";
  r.reason = "because";
  r.idempotency_key = std::move(key);
  r.now = k_now;
  r.new_org = true;
  return r;
}

class RecordingHttp : public net::HttpClient {
 public:
  std::vector<net::HttpRequest> requests;
  long status = 200;
  net::HttpResponse post(const net::HttpRequest& r) override {
    requests.push_back(r);
    net::HttpResponse res;
    res.status = status;
    return res;
  }
  net::HttpResponse get(const net::HttpRequest& r) override { return post(r); }
};

class NoMail : public net::MailSender {
 public:
  std::string send(const net::MailMessage&) override { return "no mail in this test"; }
};

}  // namespace

TEST_CASE("ledger on fakes: deduct charges each record once and corrects replaced ones", "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  st.put_record(rec("a", "acme", k_oct + 10, "1.50"));
  st.put_record(rec("b", "acme", k_oct + 20, "0.25"));
  st.put_record(rec("c", "globex", k_oct + 30, "2"));
  st.put_record(rec("d", "acme", k_nov + 5, "9"));  // another period
  auto first = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  REQUIRE(first.size() == 2);
  CHECK(first[0].organization == "acme");
  CHECK(first[0].charged_records == 2);
  CHECK(first[0].balance == dec("-175"));  // 1.75 USD at 100 credits per USD
  CHECK(first[1].balance == dec("-200"));
  CHECK(st.transactions_committed == 1);

  // Again with nothing new: no entry, nothing charged.
  const size_t entries = st.state.ledger.size();
  auto again = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(again[0].charged_records == 0);
  CHECK(again[0].corrected_records == 0);
  CHECK(st.state.ledger.size() == entries);

  // A revision changes one cost and removes a record: one correction entry for both.
  st.put_record(rec("a", "acme", k_oct + 10, "2.00"));
  st.remove_record("b");
  auto fixed = l.deduct(req("acme"), {"acme"}, k_oct, k_nov, "2026-10");
  REQUIRE(fixed.size() == 1);
  CHECK(fixed[0].corrected_records == 2);
  CHECK(fixed[0].balance == dec("-200"));  // 2.00 USD charged in all
  CHECK(st.state.ledger.back().kind == "correction");
  CHECK(st.state.ledger.back().credits == dec("-25"));
  CHECK(st.state.charges.size() == 2);  // a and c; b's charge is gone
  CHECK(l.verify().ok);
}

TEST_CASE("ledger on fakes: a failed deduct leaves the ledger and the charges as they were", "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  st.put_record(rec("a", "acme", k_oct + 10, "1"));
  auto eur = rec("b", "acme", k_oct + 20, "1");
  eur.currency = "EUR";
  st.put_record(eur);
  const auto before = st.state.charges.size();
  CHECK_THROWS_WITH(l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10"), Catch::Contains("costs EUR"));
  CHECK(st.state.ledger.empty());
  CHECK(st.state.charges.size() == before);
  CHECK(st.transactions_rolled_back == 1);
}

TEST_CASE("ledger on fakes: idempotency keys replay, and a different request with the same key is refused",
          "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  auto one = l.buy(req("acme", "k1"), "growth");
  REQUIRE(one.entries.size() == 1);
  auto two = l.buy(req("acme", "k1"), "growth");
  CHECK(two.replayed);
  CHECK(two.entries[0].seq == one.entries[0].seq);
  CHECK(st.state.ledger.size() == 1);
  CHECK_THROWS_WITH(l.buy(req("acme", "k1"), "scale"), Catch::Contains("was used for a different request"));
  CHECK(l.balance("acme") == dec("5500"));
}

TEST_CASE("ledger on fakes: bonus credits expire once, net of what was spent", "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  auto r = req("acme");
  r.now = k_oct;
  l.buy(r, "growth");  // 5000 + 500 bonus, expiring after 365 days
  r.now = k_oct + 86400;
  l.adjust([&] {
    auto a = r;
    a.allow_negative = true;
    return a;
  }(), dec("-200"));
  r.now = k_oct + 366 * 86400;
  auto out = l.expire(r);
  REQUIRE(out.entries.size() == 1);
  CHECK(out.entries[0].credits == dec("-300"));  // the 200 spent used the bonus first
  CHECK(l.expire(r).entries.empty());           // once
  CHECK(l.balance("acme") == dec("5000"));
  CHECK(l.verify().ok);
}

TEST_CASE("ledger on fakes: verify names an entry altered behind the ledger's back", "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  l.buy(req("acme"), "starter");
  l.buy(req("globex"), "starter");
  REQUIRE(l.verify().ok);
  st.state.ledger[0].actor = "mallory";
  const auto v = l.verify();
  CHECK_FALSE(v.ok);
  CHECK(v.bad_seq == 1);
  st.state.ledger[0].actor = "test";
  st.state.head = "1 " + st.state.ledger[0].hash;  // the last entry appended without moving the head
  CHECK(l.verify().bad_seq == 2);
}

TEST_CASE("invoices on fakes: credits applied through the ledger, numbers gapless, void gives credits back",
          "[fakes][invoices]") {
  FakeStore st;
  credits::Ledger ledger(st, credits::default_config());
  ledger.buy(req("acme"), "starter");  // 1000 credits = 10.00 USD
  billing::Invoices inv(st, ledger);
  inv.assign("acme", "starter", k_oct);
  inv.assign("globex", "starter", k_oct);
  billing::OrgDirectory dir;
  dir.plan = inv.assignments();
  billing::GenerateOptions o;
  o.period_label = "2026-10";
  o.period = util::parse_period("2026-10", k_now).value_or_throw();
  o.now = k_now;
  o.actor = "test";
  o.issue = true;
  const auto res = inv.generate(o, billing::default_plans(), dir, {});
  REQUIRE(res.created.size() == 2);
  CHECK(res.created[0].number == "INV-2026-000001");
  CHECK(res.created[1].number == "INV-2026-000002");
  CHECK(res.created[0].credits_applied == dec("10.00"));
  CHECK(res.created[0].total == dec("89.00"));
  CHECK(ledger.balance("acme") == Decimal());
  // Generating again skips both: each exists.
  CHECK(inv.generate(o, billing::default_plans(), dir, {}).skipped.size() == 2);
  inv.void_invoice("INV-2026-000001", "test", "wrong plan", k_now + 60);
  CHECK(ledger.balance("acme") == dec("1000"));
  CHECK(inv.get("1").status == "void");
  CHECK(inv.list("2026-10", "").size() == 2);
  CHECK(ledger.verify().ok);
}

TEST_CASE("invoices on fakes: a plan assigned after the period is not billed; backdating moves the start",
          "[fakes][invoices]") {
  FakeStore st;
  credits::Ledger ledger(st, credits::default_config());
  billing::Invoices inv(st, ledger);
  inv.assign("acme", "starter", k_now);
  inv.assign("acme", "professional", k_now + 10);  // a change of plan keeps the start
  CHECK(st.state.plans["acme"].second == k_now);
  billing::OrgDirectory dir;
  dir.plan = inv.assignments();
  billing::GenerateOptions o;
  o.period_label = "2026-10";
  o.period = util::parse_period("2026-10", k_now).value_or_throw();
  o.now = k_now;
  auto res = inv.generate(o, billing::default_plans(), dir, {});
  CHECK(res.created.empty());
  REQUIRE(res.skipped.size() == 1);
  CHECK_THAT(res.skipped[0].second, Catch::Contains("assigned on 2026-11-02"));
  inv.assign("acme", "professional", k_oct, k_oct);
  res = inv.generate(o, billing::default_plans(), dir, {});
  CHECK(res.created.size() == 1);
}

TEST_CASE("budgets and notify on fakes: each stage is sent once per channel, lower stages are superseded",
          "[fakes][notify]") {
  FakeStore st;
  for (int i = 0; i < 9; ++i) st.put_record(rec("r" + std::to_string(i), "acme", k_nov + i * 60, "10"));
  budgets::Budget b;
  b.name = "team";
  b.scope = {"organization"};
  b.limit = dec("100");
  b.currency = money::k_usd;
  b.channels = {"hook"};
  budgets::validate(b, "test");
  const auto statuses = budgets::evaluate(st, {b}, k_now);
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].spent == dec("90"));
  CHECK(statuses[0].stage == 80);

  notify::Settings settings;
  notify::Channel hook;
  hook.name = "hook";
  hook.url = "http://127.0.0.1:9/hook";
  settings.channels.push_back(hook);
  settings.attempts = 1;
  RecordingHttp http;
  NoMail mail;
  notify::NotifyContext ctx{st, st, http, mail, settings, k_now, false};
  auto out = notify::run_notify({b}, ctx);
  REQUIRE(out.size() == 2);  // 80 % reached, and the run rate crosses the limit
  CHECK(out[0].stage == "80");
  CHECK(out[0].result == "sent");
  CHECK(out[1].stage == "forecast");
  CHECK(http.requests.size() == 2);
  CHECK(st.alert_sent({"team", "2026-11", "50", "hook"}));  // superseded by 80
  CHECK(notify::run_notify({b}, ctx).empty());               // once
  CHECK(http.requests.size() == 2);

  // A failed send is claimed again by the next run.
  st.put_record(rec("r9", "acme", k_nov + 600, "6"));  // 96 %: stage 95
  http.status = 500;
  out = notify::run_notify({b}, ctx);
  REQUIRE(out.size() == 1);
  CHECK(out[0].failed);
  http.status = 200;
  out = notify::run_notify({b}, ctx);
  REQUIRE(out.size() == 1);
  CHECK(out[0].stage == "95");
  CHECK(out[0].result == "sent");
}

TEST_CASE("notify on fakes: the low-balance alert goes out once per organization and month", "[fakes][notify]") {
  FakeStore st;
  notify::Settings settings;
  RecordingHttp http;
  NoMail mail;
  notify::NotifyContext ctx{st, st, http, mail, settings, k_now, false};
  const auto a = notify::low_balance_alert("acme", dec("12.346"), dec("100"), "2026-11", k_now);
  CHECK(a.title == "Credit balance of 'acme' is low: 12.35 credits (alert below 100.00)");
  auto out = notify::send_low_balance(a, {}, ctx);
  REQUIRE(out.size() == 1);
  CHECK(out[0].channel == "stderr");
  CHECK(notify::send_low_balance(a, {}, ctx).empty());
  CHECK_THROWS_WITH(notify::send_low_balance(a, {"nowhere"}, ctx), Catch::Contains("'nowhere'"));
}

TEST_CASE("ledger on fakes: a deduct over records unchanged since the last run does not read them", "[fakes][credits]") {
  FakeStore st;
  credits::Config cfg = credits::default_config();
  st.put_record(rec("a", "acme", k_oct + 10, "1"));
  auto meter = rec("m", "acme", k_oct + 20, "0");
  meter.meter = "api_requests";
  meter.quantity = "5";
  st.put_record(meter);
  credits::Ledger l(st, cfg);
  auto first = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(first[0].charged_records == 1);
  CHECK(first[0].skipped_records == 1);
  CHECK(st.scans_skipped == 0);
  // Again, for all and for the one organization: nothing read, the same report.
  auto again = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  REQUIRE(again.size() == 1);
  CHECK(again[0].charged_records == 0);
  CHECK(again[0].skipped_records == 1);
  CHECK(again[0].skipped_meters == std::vector<std::string>{"api_requests"});
  CHECK(l.deduct(req("acme"), k_oct, k_nov, "2026-10").skipped_records == 1);
  CHECK(st.scans_skipped == 2);  // the second run, and the single one (covered by the run over all)
  // New usage: read again, charged once.
  st.put_record(rec("b", "acme", k_oct + 30, "2"));
  auto more = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(more[0].charged_records == 1);
  CHECK(l.balance("acme") == dec("-300"));
  // A run whose organization replays an earlier request charges nothing for it, and is not remembered.
  st.put_record(rec("c", "acme", k_oct + 40, "1"));
  l.deduct(req("acme", "key"), {}, k_oct, k_nov, "2026-10");
  st.put_record(rec("d", "acme", k_oct + 50, "1"));
  auto replayed = l.deduct(req("acme", "key"), {}, k_oct, k_nov, "2026-10");
  CHECK(replayed[0].outcome.replayed);
  auto after = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(after[0].charged_records == 1);  // d, which the replayed run did not charge
  CHECK(l.balance("acme") == dec("-500"));
}

TEST_CASE("ledger on fakes: a rate change applies to usage charged after it, not to charged records", "[fakes][credits][rates]") {
  FakeStore st;
  credits::Config cfg = credits::default_config();  // 100 credits per USD
  cfg.meter_rates["api_requests"] = dec("2");
  st.put_record(rec("a", "acme", k_oct + 10, "1.50"));
  st.put_record(rec("b", "acme", k_oct + 20, "0.25"));
  auto meter = rec("m", "acme", k_oct + 30, "0");
  meter.meter = "api_requests";
  meter.quantity = "5";
  st.put_record(meter);
  auto first = credits::Ledger(st, cfg).deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(first[0].charged_records == 3);
  CHECK(first[0].balance == dec("-185"));  // 175 + 5 x 2
  REQUIRE(st.state.run_rates.size() == 1);

  // The rates double; an import stores a record again unchanged (the records are read again).
  cfg.rate = dec("200");
  cfg.meter_rates["api_requests"] = dec("4");
  credits::Ledger l(st, cfg);
  st.put_record(rec("b", "acme", k_oct + 20, "0.25"));
  const size_t entries = st.state.ledger.size();
  auto again = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(st.scans_skipped == 0);
  CHECK(again[0].charged_records == 0);
  CHECK(again[0].corrected_records == 0);
  CHECK(st.state.ledger.size() == entries);
  CHECK(again[0].balance == dec("-185"));

  // New usage is charged at the new rates; a revised record is charged anew at them, for the
  // difference; an unchanged one stays as it was.
  st.put_record(rec("c", "acme", k_oct + 40, "1"));
  st.put_record(rec("a", "acme", k_oct + 10, "2"));
  auto later = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(later[0].charged_records == 1);
  CHECK(later[0].corrected_records == 1);
  CHECK(st.state.ledger[st.state.ledger.size() - 2].credits == dec("-200"));  // c: 1 USD at 200
  CHECK(st.state.ledger.back().credits == dec("-250"));                       // a: 400 now, 150 before
  CHECK(later[0].balance == dec("-635"));
  // The meter's own rate change does not re-charge it either; its revision does.
  meter.quantity = "6";
  st.put_record(meter);
  auto metered = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(metered[0].corrected_records == 1);
  CHECK(st.state.ledger.back().credits == dec("-14"));  // 6 x 4 now, 5 x 2 before
  CHECK(l.verify().ok);

  // And back to the old rates: nothing charged moves.
  st.put_record(rec("c", "acme", k_oct + 40, "1"));
  auto back = credits::Ledger(st, credits::default_config()).deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(back[0].corrected_records == 0);
  CHECK(back[0].skipped_records == 0);  // the meter has no rate now, but it was charged and is unchanged
  CHECK(back[0].balance == dec("-649"));
}

TEST_CASE("ledger on fakes: charges from before runs kept their rates are taken at the first recorded run's", "[fakes][credits][rates]") {
  FakeStore st;
  credits::Config cfg = credits::default_config();
  st.put_record(rec("a", "acme", k_oct + 10, "1"));
  credits::Ledger(st, cfg).deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  st.state.run_rates.clear();  // as a store charged by an earlier billctl
  // The first run after the upgrade compares them with its own rates (as that billctl did) ...
  st.put_record(rec("b", "acme", k_oct + 20, "1"));
  auto upgraded = credits::Ledger(st, cfg).deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(upgraded[0].charged_records == 1);
  CHECK(upgraded[0].corrected_records == 0);
  REQUIRE(st.state.run_rates.size() == 1);
  // ... and later runs take them at that run's rates, whatever the config says by then.
  cfg.rate = dec("300");
  st.put_record(rec("b", "acme", k_oct + 20, "1"));
  auto later = credits::Ledger(st, cfg).deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  CHECK(later[0].corrected_records == 0);
  CHECK(later[0].balance == dec("-200"));
}

TEST_CASE("ledger on fakes: a run over every organization refunds one whose records all moved away", "[fakes][credits]") {
  FakeStore st;
  credits::Ledger l(st, credits::default_config());
  st.put_record(rec("x", "solo", k_oct + 10, "1"));
  st.put_record(rec("a", "acme", k_oct + 20, "1"));
  l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  st.put_record(rec("x", "acme", k_oct + 10, "1"));  // solo's only record, now acme's
  auto moved = l.deduct(req("acme"), {}, k_oct, k_nov, "2026-10");
  REQUIRE(moved.size() == 2);
  CHECK(moved[1].organization == "solo");
  CHECK(moved[1].corrected_records == 1);
  CHECK(l.balance("solo") == dec("0"));
  CHECK(l.balance("acme") == dec("-200"));
  CHECK(st.state.charges.size() == 2);
  CHECK(l.verify().ok);
}
