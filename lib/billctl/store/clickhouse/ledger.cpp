#include "billctl/store/clickhouse/ledger.hpp"

#include "billctl/store/clickhouse/schema.hpp"

#include <algorithm>
#include <deque>
#include <tuple>

#include "billctl/util/error.hpp"

namespace billctl::store::ch {

namespace {

constexpr size_t k_page = 8192;

int64_t number(std::string_view s, std::string_view what) { return to_number(s, what); }

// -1, 0, 1 as (organization, ts, id) of a charge compares with a record's.
int compare(const credits::StoredCharge& c, std::string_view org, util::Seconds ts, std::string_view id) {
  if (int o = std::string_view(c.organization).compare(org)) return o < 0 ? -1 : 1;
  if (c.ts != ts) return c.ts < ts ? -1 : 1;
  if (int i = std::string_view(c.usage_id).compare(id)) return i < 0 ? -1 : 1;
  return 0;
}

}  // namespace

bool ClickHouseLedger::organization_known(const std::string& organization) {
  if (m_state.organization_known(organization)) return true;
  return !m_client.column("SELECT organization FROM usage WHERE " + std::string(k_visible) + " AND organization = " + quote(organization) +
                         " LIMIT 1").empty();
}

int64_t ClickHouseLedger::usage_version() {
  // Every import adds rows to the import log: their number and their transactions change with it.
  const std::string body = m_client.query("SELECT count(), sum(txn) FROM imports FORMAT TabSeparated");
  return int64_t(std::hash<std::string>{}(body) & 0x7fffffffffffffffull);
}

void ClickHouseLedger::put_charge(const credits::ChargeRow& record, const money::Decimal& credits, int64_t run) {
  m_run = run;
  m_state.put_charge(record, credits, run);  // no row key: the state keeps it by (organization, ts, id)
}

void ClickHouseLedger::scan_charges(util::Seconds begin, util::Seconds end, const std::string& organization,
                                    const std::function<void(const credits::ChargeRow&)>& fn) {
  m_orphans.clear();
  m_scan_begin = begin;
  m_scan_end = end;
  // Stored charges, a page at a time; those this run writes meanwhile are not merged again.
  std::deque<credits::StoredCharge> page;
  std::optional<credits::StoredCharge> last;
  bool exhausted = false;
  auto head = [&]() -> const credits::StoredCharge* {
    while (true) {
      while (!page.empty() && m_run >= 0 && page.front().run == m_run) page.pop_front();
      if (!page.empty()) return &page.front();
      if (exhausted) return nullptr;
      auto more = m_state.stored_charges(begin, end, organization, last ? &*last : nullptr, k_page);
      exhausted = more.size() < k_page;
      if (!more.empty()) last = more.back();
      page.assign(std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
  };
  std::string where = std::string(k_visible) + " AND ts >= " + std::to_string(begin) + " AND ts < " + std::to_string(end) +
                      " AND organization != ''";
  if (!organization.empty()) where += " AND organization = " + quote(organization);
  // The live version of each record: its row whose version no cancelling row of the period names
  // (the cancelling copy has the record's time and organization, so the period bounds it too).
  const bool cancelled = m_client.scalar("SELECT count() FROM usage WHERE " + where + " AND sign < 0") > 0;
  std::string sql = "SELECT organization, ts, id, meter, quantity, cost_micro, cost_pico, currency, cost_source FROM usage WHERE " +
                    where + " AND sign = 1";
  if (cancelled) sql += " AND (vtxn, vseq) GLOBAL NOT IN (SELECT vtxn, vseq FROM usage WHERE " + where + " AND sign = -1)";
  sql += " ORDER BY organization, ts, id FORMAT TabSeparated";
  credits::ChargeRow row;
  m_client.query_rows(sql, [&](const std::vector<std::string_view>& f) {
    if (f.size() != 9) throw DataError("ClickHouse returned a usage row of " + std::to_string(f.size()) + " columns");
    row.organization = f[0];
    row.ts = number(f[1], "a timestamp");
    row.id = f[2];
    row.meter = f[3];
    row.quantity = f[4];
    row.cost = money::Decimal::from_units(money::i128(number(f[5], "a cost")) * 1'000'000 + number(f[6], "a cost"));
    row.currency = f[7];
    row.priced = number(f[8], "a cost source") != 0;
    row.charged.reset();
    while (const credits::StoredCharge* c = head()) {
      const int cmp = compare(*c, row.organization, row.ts, row.id);
      if (cmp > 0) break;
      if (cmp == 0) {
        row.charged = c->credits;
        row.charged_run = c->run;
      } else {
        m_orphans[c->organization].push_back(*c);  // its record is gone, or moved
      }
      page.pop_front();
      if (cmp == 0) break;
    }
    fn(row);
  });
  while (const credits::StoredCharge* c = head()) {
    m_orphans[c->organization].push_back(*c);
    page.pop_front();
  }
}

std::vector<std::string> ClickHouseLedger::orphan_organizations(util::Seconds begin, util::Seconds end, int64_t run) {
  std::vector<std::string> out;
  for (const auto& [org, charges] : m_orphans)
    if (std::any_of(charges.begin(), charges.end(), [&](const credits::StoredCharge& c) { return c.run < run && c.ts >= begin && c.ts < end; }))
      out.push_back(org);
  return out;
}

std::vector<credits::Charge> ClickHouseLedger::orphaned_charges(const std::string& organization, util::Seconds begin,
                                                                util::Seconds end, int64_t run, int64_t) {
  std::vector<credits::Charge> out;
  auto it = m_orphans.find(organization);
  if (it == m_orphans.end()) return out;
  for (const auto& c : it->second)
    if (c.run < run && c.ts >= begin && c.ts < end) out.push_back({c.ts, c.usage_id, c.credits});
  return out;
}

}  // namespace billctl::store::ch
