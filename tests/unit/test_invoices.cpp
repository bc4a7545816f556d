#include <catch2/catch.hpp>

#include <cstdio>

#include "billctl/billing/invoice.hpp"
#include "billctl/render/pdf_doc.hpp"
#include "billctl/render/pdf_invoice.hpp"
#include "billctl/store/sqlite/store.hpp"
#include "helpers.hpp"

using namespace billctl;
using billing::Metric;
using money::Decimal;

namespace {

using test::dec;
const util::Seconds k_now = 1'793'606'400;  // 2026-11-02T08:00:00Z

billing::GenerateOptions options(const char* period = "2026-10") {
  billing::GenerateOptions o;
  o.period = util::parse_period(period, k_now).value_or_throw();
  o.period_label = o.period.label;
  o.actor = "test";
  o.now = k_now;
  o.issuer = {"Issuer GmbH", {"Street 1"}, "", ""};
  return o;
}

billing::OrgUsage org_usage(const std::string& org, std::initializer_list<std::pair<Metric, const char*>> used) {
  billing::OrgUsage u;
  u.organization = org;
  for (const auto& [m, v] : used) u.used[m] = dec(v);
  return u;
}

// Lines, credits, tax and total agree exactly and every amount is in minor units.
void check_sums(const billing::Invoice& inv) {
  Decimal sum;
  for (const auto& l : inv.lines) {
    CHECK(l.amount.round(inv.currency.minor_units) == l.amount);
    sum += l.amount;
  }
  CHECK(sum == inv.subtotal);
  CHECK(inv.subtotal - inv.credits_applied + inv.tax == inv.total);
  CHECK(inv.total.round(inv.currency.minor_units) == inv.total);
}

const billing::Line* line(const billing::Invoice& inv, const std::string& prefix) {
  for (const auto& l : inv.lines)
    if (l.description.rfind(prefix, 0) == 0) return &l;
  return nullptr;
}

toml::table parse_toml(const char* text) { return toml::parse(text); }

}  // namespace

TEST_CASE("starter: base fee, overage per metric, credits and tax in USD", "[invoices]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger ledger(st.ledger(), credits::default_config());
  credits::Request r;
  r.organization = "acme";
  r.actor = "test";
  r.reference = "pay";
  r.now = k_now;
  ledger.buy(r, "starter");  // 1000 credits = 10.00 USD
  billing::Invoices inv(st.invoices(), ledger);
  billing::OrgDirectory dir_;
  dir_.plan["acme"] = "starter";
  auto o = options();
  o.tax_rate = "19";
  const auto res = inv.generate(o, billing::default_plans(), dir_,
                                {org_usage("acme", {{Metric::llm_tokens, "1250000"},  // 750K over: 0.75 x 20.00 = 15.00
                                                {Metric::sql_queries, "12345"},   // 2,345 over: 2.345 x 0.50 = 1.1725 -> 1.17
                                                {Metric::storage_gb, "10.5"},     // 0.5 x 0.25 = 0.125 -> 0.12
                                                {Metric::users, "7"}})});         // 2 x 15.00 = 30.00
  REQUIRE(res.created.size() == 1);
  const auto& i = res.created[0];
  CHECK(i.number == "INV-2026-000001");
  CHECK(i.status == "draft");
  CHECK(line(i, "Starter plan")->amount == dec("99.00"));
  CHECK(line(i, "LLM tokens")->amount == dec("15.00"));
  CHECK(line(i, "SQL queries")->amount == dec("1.17"));
  CHECK(line(i, "Storage")->amount == dec("0.12"));
  CHECK(line(i, "Users")->amount == dec("30.00"));
  CHECK(line(i, "Compute") == nullptr);  // within the plan
  CHECK(i.subtotal == dec("145.29"));
  CHECK(i.credits_applied == dec("10.00"));
  CHECK(i.credits_used == dec("1000"));
  CHECK(i.tax == dec("25.71"));  // 19 % of 135.29 = 25.7051
  CHECK(i.total == dec("161.00"));
  check_sums(i);
  CHECK(ledger.balance("acme") == Decimal());
  CHECK(ledger.verify().ok);
}

TEST_CASE("professional and enterprise plans; re-running does not duplicate; numbers are gapless", "[invoices]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger ledger(st.ledger(), credits::default_config());
  credits::Request r;
  r.organization = "mid";
  r.actor = "test";
  r.reason = "welcome credit";
  r.now = k_now;
  r.new_org = true;
  ledger.adjust(r, dec("2500.75"));  // worth 25.0075 USD: 25.00 applied, 0.75 credits left
  billing::Invoices inv(st.invoices(), ledger);
  auto cfg = parse_toml(R"(
[enterprise]
price = "25000 USD"
)");
  const auto plans = billing::parse_plans(&cfg, "config.toml");
  billing::OrgDirectory d;
  d.plan = {{"big", "enterprise"}, {"mid", "professional"}};
  const std::vector<billing::OrgUsage> used = {
      org_usage("big", {{Metric::llm_tokens, "900000000"}, {Metric::storage_gb, "1200"}}),  // storage 200 GB over at 0.15
      org_usage("mid", {{Metric::llm_tokens, "5000001"}, {Metric::api_requests, "1000500"}})};
  auto res = inv.generate(options(), plans, d, used);
  REQUIRE(res.created.size() == 2);
  const auto& big = res.created[0];
  CHECK(big.number == "INV-2026-000001");
  CHECK(line(big, "Enterprise plan")->amount == dec("25000.00"));
  CHECK(line(big, "Storage")->amount == dec("30.00"));
  CHECK(line(big, "LLM tokens") == nullptr);  // unlimited
  CHECK(big.total == dec("25030.00"));
  check_sums(big);
  const auto& mid = res.created[1];
  CHECK(mid.number == "INV-2026-000002");
  CHECK(line(mid, "LLM tokens")->amount == dec("0.00"));  // 1 token over: 0.000015 rounds to 0.00
  CHECK(line(mid, "API requests")->amount == dec("0.04"));
  CHECK(mid.subtotal == dec("499.04"));
  CHECK(mid.credits_applied == dec("25.00"));
  CHECK(mid.total == dec("474.04"));
  CHECK(ledger.balance("mid") == dec("0.75"));
  check_sums(mid);

  // Again: nothing new.
  auto again = inv.generate(options(), plans, d, used);
  CHECK(again.created.empty());
  CHECK(again.skipped.size() == 2);
  // Voided, it can be made again, with the next number: no gaps, no reuse.
  inv.void_invoice("INV-2026-000002", "test", "wrong usage", k_now);
  auto redo = inv.generate(options(), plans, d, used);
  REQUIRE(redo.created.size() == 1);
  CHECK(redo.created[0].number == "INV-2026-000003");
  CHECK(inv.list("", "").size() == 3);

  // The default enterprise plan has a custom price: generating for it is refused, nothing stored.
  billing::OrgDirectory d2;
  d2.plan = {{"other", "enterprise"}};
  CHECK_THROWS_WITH(inv.generate(options("2026-09"), billing::default_plans(), d2, {}), Catch::Contains("custom price"));
  CHECK(inv.list("2026-09", "").empty());
  // An organization without a plan is an error naming it.
  CHECK_THROWS_WITH(inv.generate(options("2026-09"), plans, billing::OrgDirectory{}, {org_usage("nobody", {})}),
                    Catch::Contains("'nobody' has no plan"));
}

TEST_CASE("JPY invoices round every line to whole yen and still sum exactly", "[invoices]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  auto ccfg = credits::default_config();
  ccfg.currency = money::currency("JPY");
  ccfg.rate = Decimal::from_int(1);  // 1 credit per yen
  credits::Ledger ledger(st.ledger(), ccfg);
  auto cfg = parse_toml(R"(
[tokyo]
title = "Tokyo Standard"
price = "15000 JPY"
[tokyo.included]
llm_tokens = 1000000
sql_queries = 10000
storage_gb = 10
users = "unlimited"
[tokyo.overage]
llm_tokens = "2500"
sql_queries = "75"
storage_gb = "37.5"
)");
  const auto plans = billing::parse_plans(&cfg, "config.toml");
  const auto* tokyo = billing::find_plan(plans, "tokyo");
  REQUIRE(tokyo);
  CHECK(tokyo->currency.name() == "JPY");
  // Grant 1,234.5 credits: worth 1,234 yen (whole yen, rounded down).
  credits::Request r;
  r.organization = "kk";
  r.actor = "test";
  r.reason = "welcome";
  r.now = k_now;
  r.new_org = true;
  ledger.adjust(r, dec("1234.5"));
  billing::Invoices inv(st.invoices(), ledger);
  billing::OrgDirectory d;
  d.plan["kk"] = "tokyo";
  auto o = options();
  o.tax_rate = "10";
  const auto res = inv.generate(o, plans, d,
                                {org_usage("kk", {{Metric::llm_tokens, "1333333"},   // 0.333333 x 2500 = 833.3325 -> 833
                                              {Metric::sql_queries, "10507"},    // 0.507 x 75 = 38.025 -> 38
                                              {Metric::storage_gb, "10.9"}})});  // 0.9 x 37.5 = 33.75 -> 34
  REQUIRE(res.created.size() == 1);
  const auto& i = res.created[0];
  CHECK(i.currency.name() == "JPY");
  CHECK(line(i, "LLM tokens")->amount == dec("833"));
  CHECK(line(i, "SQL queries")->amount == dec("38"));
  CHECK(line(i, "Storage")->amount == dec("34"));
  CHECK(i.subtotal == dec("15905"));
  CHECK(i.credits_applied == dec("1234"));
  CHECK(i.tax == dec("1467"));  // 10 % of 14,671 = 1,467.1
  CHECK(i.total == dec("16138"));
  check_sums(i);
  CHECK(ledger.balance("kk") == dec("0.5"));
}

TEST_CASE("invoice lifecycle: draft, pending, overdue, paid, void", "[invoices]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger ledger(st.ledger(), credits::default_config());
  ledger.buy({"acme", "test", "pay", "", "", k_now}, "starter");
  billing::Invoices inv(st.invoices(), ledger);
  billing::OrgDirectory d;
  d.plan["acme"] = "starter";
  inv.generate(options(), billing::default_plans(), d, {org_usage("acme", {})});
  CHECK_THROWS_WITH(inv.mark_paid("INV-2026-000001", "test", "wire", k_now), Catch::Contains("draft"));
  auto issued = inv.issue("INV-2026-000001", "test", k_now + 86400);
  CHECK(issued.status == "pending");
  // Issued on 3 Nov, net 30: due on 3 Dec, payable until the end of that day (UTC here).
  const util::Seconds end_of_due_day = (util::day_of(k_now) + 32) * 86400;
  CHECK(issued.due_date == "2026-12-03");
  CHECK(issued.due_at == end_of_due_day);
  CHECK(issued.status_at(k_now + 31 * 86400) == "pending");  // 3 Dec 08:00: the due date itself
  CHECK(issued.status_at(end_of_due_day - 1) == "pending");
  CHECK(issued.status_at(end_of_due_day) == "overdue");
  {
    // In the issuer's time zone: issued on 3 Nov in Tokyo, due until the end of 3 Dec there (15:00Z).
    billing::Invoices tokyo(st.invoices(), ledger);
    tokyo.set_time_zone(util::TimeZone::load("Asia/Tokyo"));
    auto draft = tokyo.generate(options("2026-08"), billing::default_plans(), d, {org_usage("acme", {})}).created.at(0);
    auto t = tokyo.issue(draft.number, "test", k_now + 86400);
    CHECK(t.due_date == "2026-12-03");
    CHECK(t.due_at == end_of_due_day - 9 * 3600);
  }
  auto paid = inv.mark_paid("1", "finance", "wire-7", k_now + 40 * 86400);  // by id, overdue

  CHECK(paid.status == "paid");
  CHECK(paid.history.size() == 3);
  CHECK_THROWS_WITH(inv.void_invoice("INV-2026-000001", "test", "oops", k_now), Catch::Contains("paid"));
  CHECK_THROWS_WITH(inv.get("INV-2026-999999"), Catch::Contains("no invoice"));

  // Voiding an unpaid invoice returns the credits it used.
  inv.generate(options("2026-09"), billing::default_plans(), d, {org_usage("acme", {})});
  const Decimal before = ledger.balance("acme");
  CHECK(before == Decimal());  // 10.00 USD of credits went to the first invoice
  auto list = inv.list("2026-09", "acme");
  REQUIRE(list.size() == 1);
  CHECK(list[0].credits_used.is_zero());
  CHECK(ledger.verify().ok);
}

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// A pending October invoice issued at k_now, for the PDF tests.
billing::Invoice pending_invoice(const std::string& number, const std::string& org, const std::string& plan_title) {
  billing::Invoice inv;
  inv.number = number;
  inv.organization = org;
  inv.period = "2026-10";
  inv.plan_title = plan_title;
  inv.status = "pending";
  inv.issued_at = k_now;
  inv.due_at = k_now + 30 * 86400;
  return inv;
}

}  // namespace

TEST_CASE("the PDF carries the invoice text, non-ASCII names included, over several pages", "[invoices][pdf]") {
  test::TempDir dir;
  billing::Invoice inv = pending_invoice("INV-2026-000042", "zurich", "Professional");
  inv.issuer = {"Nordlicht KI GmbH", {"Torstraße 42", "10119 Berlin"}, "billing@example.com", "DE123"};
  inv.bill_to = {"Åsa Ødegård — Zürich AG", {"Bahnhofstrasse 1"}, "", ""};
  for (int k = 1; k <= 90; ++k)
    inv.lines.push_back({"overage", "Line item number " + std::to_string(k), "1", "1.00", Decimal::from_int(1)});
  inv.subtotal = Decimal::from_int(90);
  inv.total = inv.subtotal;
  const std::string bytes = render::invoice_pdf(inv, {}, k_now);
  REQUIRE(bytes.rfind("%PDF-", 0) == 0);
  const std::string path = dir.file("inv.pdf", bytes);
  const std::string info = run("pdfinfo '" + path + "' 2>/dev/null");
  CHECK_THAT(info, Catch::Matches("[\\s\\S]*\nPages: +3\n[\\s\\S]*"));
  const std::string text = run("pdftotext -layout '" + path + "' - 2>/dev/null");
  CHECK_THAT(text, Catch::Contains("INV-2026-000042"));
  CHECK_THAT(text, Catch::Contains("Åsa Ødegård — Zürich AG"));
  CHECK_THAT(text, Catch::Contains("Torstraße 42"));
  CHECK_THAT(text, Catch::Contains("Line item number 1 "));
  CHECK_THAT(text, Catch::Contains("Line item number 90"));
  CHECK_THAT(text, Catch::Contains("Page 3 of 3"));
  CHECK_THAT(text, Catch::Contains("(continued)"));
  CHECK_THAT(text, Catch::Contains("90.00"));
  CHECK_THAT(text, Catch::Contains("Payment terms: net 30 days"));
  // Byte-identical run to run.
  CHECK(render::invoice_pdf(inv, {}, k_now) == bytes);
}

TEST_CASE("a 200-line issuer address continues on the next pages, never over the footer", "[invoices][pdf]") {
  test::TempDir dir;
  billing::Invoice inv = pending_invoice("INV-2026-000043", "acme", "Starter");
  inv.issuer.name = "Long Address Ltd";
  for (int k = 1; k <= 200; ++k) inv.issuer.address.push_back("Address line " + std::to_string(k));
  inv.bill_to = {"Acme", {"1 Main Street"}, "", ""};
  inv.lines.push_back({"base", "Starter plan, 2026-10", "1", "99.00", Decimal::from_int(99)});
  inv.subtotal = inv.total = Decimal::from_int(99);
  const std::string path = dir.file("long.pdf", render::invoice_pdf(inv, {}, k_now));
  const std::string text = run("pdftotext -layout '" + path + "' - 2>/dev/null");
  // Every line is there once, and no page has text below its footer rule: each page's last
  // text line is the footer ("Page i of N").
  for (int k : {1, 10, 11, 150, 200}) CHECK_THAT(text, Catch::Contains("Address line " + std::to_string(k) + "\n"));
  CHECK_THAT(text, Catch::Contains("From (continued)"));
  const std::string bbox = run("pdftotext -bbox '" + path + "' - 2>/dev/null");
  // Words above the footer rule (y > 58 pt from the bottom, yMin < 842 - 58 = 784 from the top)
  // or footer words (yMin >= 784): nothing in between 784 and 798 but the footer itself.
  size_t at = 0;
  int bad = 0;
  while ((at = bbox.find("<word ", at)) != std::string::npos) {
    const size_t ymin = bbox.find("yMin=\"", at);
    const double y = std::stod(bbox.substr(ymin + 6));
    const size_t gt = bbox.find('>', at), lt = bbox.find('<', gt);
    const std::string word = bbox.substr(gt + 1, lt - gt - 1);
    if (y > 842 - 80 && y < 842 - 58 && word.rfind("Address", 0) == 0) ++bad;  // an address line in the footer band
    at = lt;
  }
  CHECK(bad == 0);
}

TEST_CASE("a document not in libharu's shape keeps its bytes when its ToUnicode maps are mended", "[pdf]") {
  for (const std::string& doc : {std::string("not a pdf"), std::string("%PDF-1.4\n/ToUnicode 5 0 R\n"),
                                 std::string("%PDF-1.4\n1 0 obj\n<< /ToUnicode 5 0 R >>\nendobj\n5 0 obj\n<< /Length 12 >>\nstream\r\n"
                                             "abcdefghijkl\r\nendstream\nendobj\n"),
                                 std::string("%PDF-1.4\n5 0 obj\n<< /ToUnicode 5 0 R /Length 6 0 R >>\nstream\r\nabc\r\nendstream\n"
                                             "endobj\n6 0 obj\n99999\nendobj\n")})
    CHECK(render::with_unicode_maps(doc) == doc);
}

TEST_CASE("a ToUnicode map is mended only where the cross-reference table can follow", "[pdf]") {
  // A well-formed document in libharu's shape whose startxref points outside the file.
  const std::string doc =
      "%PDF-1.4\n1 0 obj\n<< /ToUnicode 2 0 R >>\nendobj\n2 0 obj\n<<\n/Length 3 0 R\n>>\nstream\r\nabc\r\nendstream\nendobj\n"
      "3 0 obj\n3\nendobj\nxref\n0 4\n0000000000 65535 f\r\n";
  CHECK(render::with_unicode_maps(doc + "startxref\n-7\n%%EOF\n") == doc + "startxref\n-7\n%%EOF\n");
  CHECK(render::with_unicode_maps(doc + "startxref\n99999\n%%EOF\n") == doc + "startxref\n99999\n%%EOF\n");
}

TEST_CASE("a mended document's cross-reference table points at every object again", "[pdf]") {
  // Objects 1-4 in libharu's shape: a font naming its ToUnicode stream (2), whose length is object 3.
  std::vector<std::string> objects = {"1 0 obj\n<<\n/Type /Font\n/ToUnicode 2 0 R\n>>\nendobj\n",
                                      "2 0 obj\n<<\n/Length 3 0 R\n>>\nstream\r\nbegincidrange\r\nendstream\nendobj\n",
                                      "3 0 obj\n13\nendobj\n", "4 0 obj\n(after)\nendobj\n"};
  std::string doc = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (const auto& o : objects) {
    offsets.push_back(doc.size());
    doc += o;
  }
  const size_t xref = doc.size();
  doc += "xref\n0 5\n0000000000 65535 f\r\n";
  for (size_t off : offsets) {
    char e[21];
    std::snprintf(e, sizeof e, "%010zu 00000 n\r\n", off);
    doc += e;
  }
  doc += "trailer\n<<\n/Size 5\n>>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  const std::string out = render::with_unicode_maps(doc);
  REQUIRE(out != doc);
  CHECK(out.find("begincidrange") == std::string::npos);
  const size_t sx = out.rfind("startxref\n");
  const size_t x = std::stoul(out.substr(sx + 10));
  REQUIRE(out.compare(x, 4, "xref") == 0);
  const size_t entries = out.find("0000000000 65535 f\r\n", x) + 20;
  for (size_t k = 0; k < objects.size(); ++k) {
    const size_t off = std::stoul(out.substr(entries + k * 20, 10));
    CHECK(out.compare(off, objects[k].find('\n'), std::to_string(k + 1) + " 0 obj") == 0);
  }
  // The stream's length object holds the new length, and the stream ends where it says.
  const size_t len_obj = out.find("3 0 obj\n") + 8;
  const size_t length = std::stoul(out.substr(len_obj));
  const size_t data = out.find("stream\r\n") + 8;
  CHECK(out.compare(data + length, 11, "\r\nendstream") == 0);
  CHECK(out.find("(after)") != std::string::npos);
}
