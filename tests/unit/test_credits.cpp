#include <catch2/catch.hpp>

#include <random>

#include "billctl/credits/ledger.hpp"
#include "billctl/ingest/ingestor.hpp"
#include "billctl/store/sqlite/store.hpp"
#include "fakes.hpp"
#include "helpers.hpp"

using namespace billctl;
using credits::Decimal;

namespace {

using test::dec;

void import_csv(store::SqliteStore& st, const test::TempDir& dir, const std::string& name, const std::string& csv) {
  const pricing::Catalog c = pricing::Catalog::builtin();
  auto txn = st.imports().begin_import(c.info(), 1'800'000'000);
  const ingest::IngestOptions options;  // the ingestor keeps a reference
  ingest::Ingestor ing(c, options, *txn);
  const auto& s = ing.read(dir.file(name, csv));
  txn->log_source(s);
  ing.finish();
  txn->commit();
}

credits::Request req(const std::string& org, util::Seconds now, std::string key = {}) {
  credits::Request r;
  r.organization = org;
  r.actor = "test";
  r.reference = "ref";
  r.reason = "because";
  r.idempotency_key = std::move(key);
  r.now = now;
  r.new_org = true;         // these tests open ledgers of organizations without usage
  r.allow_negative = true;  // and take balances below zero on purpose
  return r;
}

Decimal ledger_sum(credits::Ledger& l, const std::string& org) {
  Decimal s;
  for (const auto& e : l.entries({org, std::nullopt, "", "", {}, 0})) s += e.credits;
  return s;
}

// Usage cost of an organization (all time) in credits at 100 per USD: exact, no rounding.
Decimal usage_credits(store::SqliteStore& st, const std::string& org) {
  auto res = st.usage().aggregate({{0, INT64_MAX, {{usage::Dim::organization, {org}}}, {}}});
  return res[0].total().cost_decimal().mul_int(100);
}

Decimal charged(credits::Ledger& l, const std::string& org) {
  Decimal s;
  for (const auto& e : l.entries({org, std::nullopt, "", "", {}, 0}))
    if (e.kind == "usage" || e.kind == "correction") s -= e.credits;
  return s;
}

const util::Seconds k_now = 1'793'606'400;  // 2026-11-02T08:00:00Z

}  // namespace

TEST_CASE("packages show their effective cost per credit", "[credits]") {
  const auto cfg = credits::default_config();
  const auto* growth = cfg.find_package("growth");
  REQUIRE(growth);
  CHECK(growth->total() == Decimal::from_int(5500));
  // 45 / 5500 = 0.00818181...
  CHECK(growth->cost_per_credit().round(6) == dec("0.008182"));
}

TEST_CASE("buy, deduct, refund and adjust keep balance, chain and ledger sum in step", "[credits]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  import_csv(st, dir, "u.csv",
             "id,timestamp,organization,model,input_tokens,output_tokens\n"
             "u1,2026-10-01T00:00:00Z,acme,gpt-4o,1000000,0\n"      // 2.50 USD
             "u2,2026-10-02T00:00:00Z,acme,gpt-4o-mini,1000000,0\n"  // 0.15 USD
             "u3,2026-10-02T00:00:00Z,globex,gpt-4o,1000000,0\n");
  credits::Ledger l(st.ledger(), credits::default_config());
  auto bought = l.buy(req("acme", k_now, "k-buy"), "growth");
  REQUIRE(bought.entries.size() == 1);
  CHECK(bought.entries[0].balance == Decimal::from_int(5500));

  auto d = l.deduct(req("acme", k_now), 0, INT64_MAX, "all");
  CHECK(d.charged_records == 2);
  CHECK(d.balance == dec("5235"));  // 5500 - 265
  // Again: nothing new to charge, no entry.
  auto again = l.deduct(req("acme", k_now), 0, INT64_MAX, "all");
  CHECK(again.charged_records == 0);
  CHECK(again.outcome.entries.empty());

  // A provider revises u1 (same id): the next deduction corrects it with a compensating entry.
  import_csv(st, dir, "u2.csv",
             "id,timestamp,organization,model,input_tokens,output_tokens\n"
             "u1,2026-10-01T00:00:00Z,acme,gpt-4o,2000000,0\n");
  auto corr = l.deduct(req("acme", k_now), 0, INT64_MAX, "all");
  CHECK(corr.corrected_records == 1);
  REQUIRE(corr.outcome.entries.size() == 1);
  CHECK(corr.outcome.entries[0].kind == "correction");
  CHECK(corr.outcome.entries[0].credits == dec("-250"));
  CHECK(charged(l, "acme") == usage_credits(st, "acme"));

  // Refunds: partial, then never more than was bought.
  l.refund(req("acme", k_now), 1, Decimal::from_int(1000));
  CHECK_THROWS_WITH(l.refund(req("acme", k_now), 1, Decimal::from_int(4001)), Catch::Contains("4000 are left"));
  CHECK_THROWS_AS(l.refund(req("acme", k_now), 2, std::nullopt), UsageError);  // not a purchase
  CHECK_THROWS_AS(l.adjust(req("acme", k_now), Decimal()), UsageError);
  auto r0 = req("acme", k_now);
  r0.reason.clear();
  CHECK_THROWS_AS(l.adjust(r0, Decimal::from_int(5)), UsageError);

  const auto v = l.verify();
  CHECK(v.ok);
  CHECK(v.balances.at("acme") == l.balance("acme"));
  CHECK(l.balance("acme") == ledger_sum(l, "acme"));
}

TEST_CASE("an idempotency key returns the original entry and changes nothing", "[credits]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger l(st.ledger(), credits::default_config());
  auto a = l.buy(req("acme", k_now, "pay-42"), "starter");
  auto b = l.buy(req("acme", k_now + 60, "pay-42"), "starter");
  CHECK(b.replayed);
  REQUIRE(b.entries.size() == 1);
  CHECK(b.entries[0].seq == a.entries[0].seq);
  CHECK(b.entries[0].hash == a.entries[0].hash);
  CHECK(l.entries({}).size() == 1);
  // The same key for another kind of request is refused.
  CHECK_THROWS_AS(l.adjust(req("acme", k_now, "pay-42"), Decimal::from_int(5)), UsageError);
}

TEST_CASE("bonus credits expire unless spent, auto-topup buys at most N times a month", "[credits]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  auto cfg = credits::default_config();
  for (auto& p : cfg.packages)
    if (p.name == "growth") p.bonus_expires_days = 30;
  credits::Ledger l(st.ledger(), cfg);
  l.buy(req("acme", k_now), "growth");  // 5000 + 500 bonus
  l.adjust(req("acme", k_now + 10), Decimal::from_int(-200));  // spent 200: the bonus first
  auto ex = l.expire(req("acme", k_now + 31 * 86400));
  REQUIRE(ex.entries.size() == 1);
  CHECK(ex.entries[0].credits == Decimal::from_int(-300));
  CHECK(l.expire(req("acme", k_now + 32 * 86400)).entries.empty());  // once
  CHECK(l.balance("acme") == Decimal::from_int(5000));

  import_csv(st, dir, "u.csv",
             "id,timestamp,organization,model,input_tokens,output_tokens\n"
             "u1,2026-11-01T00:00:00Z,small,gpt-4o,4000000,0\n");  // 10 USD = 1000 credits
  l.set_topup_rule({"small", Decimal::from_int(500), "starter", 2}, k_now);
  l.buy(req("small", k_now), "starter");  // 1000
  auto d = l.deduct(req("small", k_now), 0, INT64_MAX, "all");
  // 1000 - 1000 = 0 < 500: one topup brings it to 1000, above the threshold.
  REQUIRE(d.outcome.entries.size() == 2);
  CHECK(d.outcome.entries[1].kind == "topup");
  CHECK(d.balance == Decimal::from_int(1000));
  CHECK(l.verify().ok);
}

TEST_CASE("property: random ledger operations keep every invariant", "[credits][property]") {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    credits::Ledger l(st.ledger(), credits::default_config());
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    const std::vector<std::string> orgs = {"acme", "globex", "initech"};
    const std::vector<std::string> packages = {"starter", "growth", "scale"};
    std::vector<std::pair<std::string, size_t>> keys;  // used keys and the ledger size after their request
    int next_record = 0;
    util::Seconds now = k_now;
    for (int step = 0; step < 50; ++step) {
      now += 3600;
      const std::string org = orgs[size_t(pick(3))];
      const size_t before = l.entries({}).size();
      const int op = pick(6);
      try {
        if (op == 0) {
          const std::string key = "k" + std::to_string(step);
          l.buy(req(org, now, key), packages[size_t(pick(3))]);
          keys.emplace_back(key, l.entries({}).size());
        } else if (op == 1 && !keys.empty()) {
          // Repeat a key: nothing changes.
          const auto& [key, size] = keys[size_t(pick(int(keys.size())))];
          const auto first = l.entries({}).size();
          auto e0 = l.entries({});
          std::string owner;
          for (const auto& e : e0)
            if (e.idempotency_key == key) owner = e.organization;
          auto out = l.buy(req(owner, now, key), "starter");
          CHECK(out.replayed);
          CHECK(l.entries({}).size() == first);
          (void)size;
        } else if (op == 2) {
          l.adjust(req(org, now), Decimal::from_int(pick(400) - 200 == 0 ? 1 : pick(400) - 200));
        } else if (op == 3) {
          auto purchases = l.entries({"", std::nullopt, "purchase", "", {}, 0});
          if (!purchases.empty()) {
            const auto& p = purchases[size_t(pick(int(purchases.size())))];
            l.refund(req(p.organization, now), p.seq, Decimal::from_int(1 + pick(3000)));
          }
        } else {
          // New usage and sometimes a revision of an earlier record, then a deduction.
          std::string csv = "id,timestamp,organization,model,input_tokens,output_tokens\n";
          for (int i = 0; i < 3; ++i) {
            const int id = next_record > 0 && pick(3) == 0 ? pick(next_record) : next_record++;
            csv += "r" + std::to_string(id) + ",2026-10-0" + std::to_string(1 + pick(9)) + "T00:00:00Z," + org + "," +
                   (pick(2) ? "gpt-4o" : "gpt-4o-mini") + "," + std::to_string(1 + pick(500000)) + "," + std::to_string(pick(90000)) + "\n";
          }
          import_csv(st, dir, "u" + std::to_string(step) + ".csv", csv);
          l.deduct(req(org, now), 0, INT64_MAX, "all");
          // Every record of the organization is charged exactly once, revisions and moves corrected.
          CHECK(charged(l, org) == usage_credits(st, org));
        }
      } catch (const Error&) {
        // A refused operation (refund too large, balance too low) leaves the ledger as it was.
        CHECK(l.entries({}).size() == before);
      }
      // Invariants after every step.
      const auto v = l.verify();
      REQUIRE(v.ok);
      for (const auto& o : orgs) CHECK(l.balance(o) == ledger_sum(l, o));
      for (const auto& p : l.entries({"", std::nullopt, "purchase", "", {}, 0})) {
        Decimal refunded;
        for (const auto& r : l.entries({p.organization, std::nullopt, "refund", "", {}, 0}))
          if (r.detail.find("\"refund_of\":" + std::to_string(p.seq) + ",") != std::string::npos)
            refunded -= r.credits;
        CHECK(refunded <= p.credits);
      }
    }
    // After a final deduction every usage record is charged exactly once.
    for (const auto& o : orgs) {
      l.deduct(req(o, now + 60), 0, INT64_MAX, "all");
      CHECK(charged(l, o) == usage_credits(st, o));
    }
  }
}

TEST_CASE("verify finds edits, deletions, insertions and reordering", "[credits][tamper]") {
  auto make = [](const test::TempDir& dir) {
    auto st = std::make_unique<store::SqliteStore>(dir.path("s.db"));
    credits::Ledger l(st->ledger(), credits::default_config());
    l.buy(req("acme", k_now), "growth");
    l.adjust(req("acme", k_now + 1), Decimal::from_int(-10));
    l.buy(req("globex", k_now + 2), "starter");
    l.adjust(req("acme", k_now + 3), Decimal::from_int(25));
    REQUIRE(l.verify().ok);
    store::Db(st->path()).exec("DROP TRIGGER credit_ledger_no_update; DROP TRIGGER credit_ledger_no_delete;");
    return st;
  };
  struct Case {
    const char* name;
    const char* sql;
    int64_t bad;
  };
  const Case cases[] = {
      {"an edited amount", "UPDATE credit_ledger SET credits = '-1' WHERE seq = 2", 2},
      {"an edited actor", "UPDATE credit_ledger SET actor = 'mallory' WHERE seq = 3", 3},
      {"a deleted entry", "DELETE FROM credit_ledger WHERE seq = 2", 3},
      {"the last entry deleted", "DELETE FROM credit_ledger WHERE seq = 4", 4},
      {"two entries swapped",
       "UPDATE credit_ledger SET seq = 100 WHERE seq = 2; UPDATE credit_ledger SET seq = 2 WHERE seq = 3;"
       " UPDATE credit_ledger SET seq = 3 WHERE seq = 100",
       2},
      {"an inserted entry",
       "UPDATE credit_ledger SET seq = seq + 1000 WHERE seq >= 3; UPDATE credit_ledger SET seq = seq - 999 WHERE seq >= 1000;"
       " INSERT INTO credit_ledger SELECT 3, at, organization, kind, '1000', balance, actor, reference, reason, NULL, detail,"
       " prev_hash, hash FROM credit_ledger WHERE seq = 2",
       3},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      test::TempDir dir;
      auto st = make(dir);
      store::Db(st->path()).exec(c.sql);
      credits::Ledger l(st->ledger(), credits::default_config());
      const auto v = l.verify();
      CHECK_FALSE(v.ok);
      CHECK(v.bad_seq == c.bad);
    }
  }
  SECTION("the append-only triggers refuse updates and deletes") {
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    credits::Ledger l(st.ledger(), credits::default_config());
    l.buy(req("acme", k_now), "starter");
    CHECK_THROWS_WITH(store::Db(st.path()).exec("UPDATE credit_ledger SET credits = '1'"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(store::Db(st.path()).exec("DELETE FROM credit_ledger"), Catch::Contains("append-only"));
  }
}

TEST_CASE("adjust refuses unknown organizations and negative balances unless told", "[credits]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger l(st.ledger(), credits::default_config());
  credits::Request r = req("acme", k_now);
  r.new_org = false;
  r.allow_negative = false;
  CHECK_THROWS_WITH(l.adjust(r, Decimal::from_int(5)), Catch::Contains("unknown organization 'acme'"));
  r.new_org = true;
  l.adjust(r, Decimal::from_int(5));
  r.new_org = false;  // known now: it has a ledger entry
  CHECK_THROWS_WITH(l.adjust(r, Decimal::from_int(-6)), Catch::Contains("to -1.00 credits"));
  r.allow_negative = true;
  CHECK(l.adjust(r, Decimal::from_int(-6)).entries.back().balance == Decimal::from_int(-1));
}

TEST_CASE("an idempotency key used with other parameters is refused", "[credits]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger l(st.ledger(), credits::default_config());
  l.adjust(req("acme", k_now, "k1"), Decimal::parse("-12.5").value_or_throw());
  CHECK(l.adjust(req("acme", k_now + 1, "k1"), Decimal::parse("-12.5").value_or_throw()).replayed);
  CHECK_THROWS_WITH(l.adjust(req("acme", k_now + 2, "k1"), Decimal::from_int(999)),
                    Catch::Contains("was used for a different request") && Catch::Contains("credits -12.5 then, 999 now"));
  l.buy(req("acme", k_now, "k2"), "starter");
  CHECK_THROWS_WITH(l.buy(req("acme", k_now, "k2"), "growth"), Catch::Contains("package starter then, growth now"));
}

TEST_CASE("a charge follows its record: moved in time or organization, deleted, its rowid reused", "[credits][charges]") {
  test::TempDir dir;
  store::SqliteStore st(dir.path("s.db"));
  credits::Ledger l(st.ledger(), credits::default_config());
  const util::Seconds oct = 1'790'812'800, nov = 1'793'491'200, dec = 1'796'083'200;  // month starts, UTC
  const std::vector<std::string> orgs = {"acme", "globex"};
  // Every organization over every month (October first, or November first), then each must have
  // been charged exactly its usage.
  auto deduct_all = [&](bool november_first) {
    const std::vector<std::pair<util::Seconds, util::Seconds>> months =
        november_first ? std::vector<std::pair<util::Seconds, util::Seconds>>{{nov, dec}, {oct, nov}}
                       : std::vector<std::pair<util::Seconds, util::Seconds>>{{oct, nov}, {nov, dec}};
    for (const auto& [b, e] : months)
      for (const auto& o : orgs) l.deduct(req(o, k_now), b, e, "m");
    for (const auto& o : orgs) CHECK(charged(l, o) == usage_credits(st, o));
  };
  const std::string head = "id,timestamp,organization,model,input_tokens,output_tokens\n";
  import_csv(st, dir, "a.csv", head +
                                   "r1,2026-10-05T00:00:00Z,acme,gpt-4o,100000,1000\n"
                                   "r2,2026-10-06T00:00:00Z,acme,gpt-4o,200000,2000\n"
                                   "r3,2026-10-07T00:00:00Z,globex,gpt-4o,300000,3000\n"
                                   "r4,2026-11-03T00:00:00Z,acme,gpt-4o,400000,4000\n");
  deduct_all(false);
  // r1 moves to November, r2 to globex, r3 costs more; November is charged before October, so r1's
  // October charge must wait for October's deduct to be refunded.
  import_csv(st, dir, "b.csv", head +
                                   "r1,2026-11-10T00:00:00Z,acme,gpt-4o,100000,1000\n"
                                   "r2,2026-10-06T00:00:00Z,globex,gpt-4o,200000,2000\n"
                                   "r3,2026-10-07T00:00:00Z,globex,gpt-4o,333000,3000\n");
  auto r = l.deduct(req("acme", k_now), nov, dec, "2026-11");
  CHECK(r.charged_records == 1);  // r1 where it is now
  CHECK(r.corrected_records == 0);
  deduct_all(true);
  // A deleted record is refunded; a record that takes its rowid is charged as new.
  store::Db(st.path()).exec("DELETE FROM usage WHERE id = 'r4'");
  import_csv(st, dir, "c.csv", head + "r5,2026-11-04T00:00:00Z,acme,gpt-4o-mini,500000,5000\n");
  r = l.deduct(req("acme", k_now), nov, dec, "2026-11");
  CHECK(r.charged_records == 1);    // r5
  CHECK(r.corrected_records == 1);  // r4's charge back
  deduct_all(false);
  // An admin's VACUUM keeps the rowids the charges are kept by (SQLite copies the table as it is,
  // gaps included; a table without INTEGER PRIMARY KEY is not promised that): nothing changes.
  store::Db(st.path()).exec("DELETE FROM usage WHERE id = 'r2'; VACUUM");
  r = l.deduct(req("globex", k_now), oct, nov, "2026-10");
  CHECK(r.charged_records == 0);
  CHECK(r.corrected_records == 1);  // r2's charge back
  deduct_all(false);
  // The charges kept by key (as for usage in ClickHouse, with an orphan among them: r5 deleted) and
  // back by record: nothing is charged again, r5's charge comes back.
  store::Db(st.path()).exec("DELETE FROM usage WHERE id = 'r5'");
  CHECK(st.ledger().stored_charges(oct, dec, "", nullptr, 100).size() == 3);  // r1, r3, r5's
  int64_t charged_again = 0, corrected = 0;
  for (const auto& o : orgs)
    for (const auto& [b, e] : {std::pair{oct, nov}, std::pair{nov, dec}}) {
      r = l.deduct(req(o, k_now), b, e, "m");
      charged_again += r.charged_records;
      corrected += r.corrected_records;
    }
  CHECK(charged_again == 0);
  CHECK(corrected == 1);
  deduct_all(false);
}

TEST_CASE("property: charges by record stay exact through random moves, deletes and deducts", "[credits][charges][property]") {
  const util::Seconds oct = 1'790'812'800, nov = 1'793'491'200, dec = 1'796'083'200;
  const std::vector<std::string> orgs = {"acme", "globex", "initech"};
  const std::vector<std::pair<util::Seconds, util::Seconds>> months = {{oct, nov}, {nov, dec}};
  for (unsigned seed = 1; seed <= 8; ++seed) {
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    credits::Ledger l(st.ledger(), credits::default_config());
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    int next = 0;
    for (int step = 0; step < 40; ++step) {
      const int op = pick(5);
      if (op <= 1) {  // new records, and earlier ids again: another organization, day or size
        std::string csv = "id,timestamp,organization,model,input_tokens,output_tokens\n";
        for (int i = 0; i < 4; ++i) {
          const int id = next > 0 && pick(2) == 0 ? pick(next) : next++;
          const int month = 10 + pick(2), day = 1 + pick(28);
          csv += "r" + std::to_string(id) + ",2026-" + std::to_string(month) + "-" + (day < 10 ? "0" : "") + std::to_string(day) +
                 "T00:00:00Z," + orgs[size_t(pick(3))] + ",gpt-4o," + std::to_string(1 + pick(300000)) + "," +
                 std::to_string(pick(9000)) + "\n";
        }
        import_csv(st, dir, "u" + std::to_string(step) + ".csv", csv);
      } else if (op == 2 && next > 0) {  // a record deleted (as a provider pull drops one)
        store::Db(st.path()).exec(("DELETE FROM usage WHERE id = 'r" + std::to_string(pick(next)) + "'").c_str());
      } else {  // one organization's month
        const auto& [b, e] = months[size_t(pick(2))];
        l.deduct(req(orgs[size_t(pick(3))], k_now), b, e, "m");
      }
      // Every kept charge stands on its record.
      store::Db db(st.path());
      store::Stmt lost(db, "SELECT COUNT(*) FROM credit_charge c WHERE NOT EXISTS (SELECT 1 FROM usage u WHERE u.rowid = c.usage_row)");
      lost.step();
      REQUIRE(lost.int64(0) == 0);
    }
    for (const auto& [b, e] : months)
      for (const auto& o : orgs) l.deduct(req(o, k_now), b, e, "m");
    for (const auto& o : orgs) CHECK(charged(l, o) == usage_credits(st, o));
    REQUIRE(l.verify().ok);
    // Nothing left to charge or refund.
    for (const auto& [b, e] : months)
      for (const auto& o : orgs) {
        const auto r = l.deduct(req(o, k_now), b, e, "m");
        CHECK(r.charged_records + r.corrected_records == 0);
      }
  }
}

TEST_CASE("property: charges kept by record charge exactly what charges kept by key charged", "[credits][charges][property]") {
  // The reference is the in-memory store, which keeps charges by (organization, ts, id) as the
  // SQLite store did before schema 14: both see the same records after every step, and every
  // deduct must give the same counts and the same ledger entries.
  const util::Seconds oct = 1'790'812'800, nov = 1'793'491'200, dec = 1'796'083'200;
  const std::vector<std::string> orgs = {"acme", "globex"};
  const std::vector<std::pair<util::Seconds, util::Seconds>> months = {{oct, nov}, {nov, dec}};
  for (unsigned seed = 1; seed <= 10; ++seed) {
    test::TempDir dir;
    store::SqliteStore st(dir.path("s.db"));
    test::FakeStore fake;
    credits::Ledger l(st.ledger(), credits::default_config()), ref(fake, credits::default_config());
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    auto mirror = [&] {  // the fake's records: the SQLite store's, as they are now
      fake.state.usage.clear();
      store::Db db(st.path());
      store::Stmt s(db, "SELECT id, ts, organization, cost_micro, cost_pico, cost_source, currency FROM usage ORDER BY rowid");
      while (s.step()) {
        test::FakeRecord r;
        r.id = s.text(0);
        r.ts = s.int64(1);
        r.organization = s.text(2);
        r.cost = Decimal::from_units(money::i128(s.int64(3)) * 1'000'000 + s.int64(4));
        r.priced = s.int64(5) != 0;
        r.currency = s.text(6);
        fake.state.usage.push_back(r);
      }
      ++fake.state.usage_version;
    };
    int next = 0;
    for (int step = 0; step < 40; ++step) {
      const int op = pick(5);
      if (op <= 1) {  // new records, and earlier ids again, sometimes back where they were
        std::string csv = "id,timestamp,organization,model,input_tokens,output_tokens\n";
        for (int i = 0; i < 3; ++i) {
          const int id = next > 0 && pick(2) == 0 ? pick(next) : next++;
          csv += "r" + std::to_string(id) + ",2026-" + std::to_string(10 + pick(2)) + "-0" + std::to_string(1 + pick(3)) +
                 "T00:00:00Z," + orgs[size_t(pick(2))] + ",gpt-4o," + std::to_string(1000 * (1 + pick(3))) + ",10\n";
        }
        import_csv(st, dir, "u" + std::to_string(step) + ".csv", csv);
      } else if (op == 2 && next > 0) {
        store::Db(st.path()).exec(("DELETE FROM usage WHERE id = 'r" + std::to_string(pick(next)) + "'").c_str());
      } else {
        mirror();
        const auto& [b, e] = months[size_t(pick(2))];
        const std::string org = orgs[size_t(pick(2))];
        const auto got = l.deduct(req(org, k_now), b, e, "m");
        const auto want = ref.deduct(req(org, k_now), b, e, "m");
        INFO("seed " << seed << " step " << step << " " << org);
        CHECK(got.charged_records == want.charged_records);
        CHECK(got.corrected_records == want.corrected_records);
        REQUIRE(got.outcome.entries.size() == want.outcome.entries.size());
        for (size_t k = 0; k < got.outcome.entries.size(); ++k) {
          CHECK(got.outcome.entries[k].kind == want.outcome.entries[k].kind);
          CHECK(got.outcome.entries[k].credits == want.outcome.entries[k].credits);
          CHECK(got.outcome.entries[k].detail == want.outcome.entries[k].detail);
        }
      }
    }
  }
}
