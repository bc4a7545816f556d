// Usage in ClickHouse (SPEC §11): records in a MergeTree table partitioned by month, every
// aggregation pushed down as SQL. The embedded SQLite store keeps everything else.
//
// Imports are atomic and replace records by id without waiting for merges: every row carries the
// import transaction that wrote it (txn) and is visible only once that transaction's rows are in
// the import log (one INSERT, the commit point). A replaced record is cancelled by a copy with
// sign -1 written by the replacing transaction, so every total is sum(sign * value), exact at any
// time; a version of a record is (vtxn, vseq), the transaction and position that first wrote it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "billctl/ingest/import_store.hpp"
#include "billctl/store/clickhouse/client.hpp"
#include "billctl/store/clickhouse/schema.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::store::ch {

inline constexpr int k_schema_version = 1;

class ClickHouseUsage : public usage::Source, public ingest::ImportStore {
 public:
  // Connects lazily: the first call creates the database and tables when missing.
  ClickHouseUsage(Config config, std::unique_ptr<net::HttpClient> http);
  ~ClickHouseUsage() override;

  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override;
  std::unique_ptr<ingest::ImportTxn> begin_import(const usage::CatalogInfo& catalog, util::Seconds now) override;
  std::vector<ingest::ImportLogRow> import_log(size_t limit) override;
  std::vector<std::string> usage_currencies() override;

  Client& client() { return m_client; }
  // Imports through this billctl wait for each other on an exclusive lock of this file (the
  // replacement of stored records assumes one writer at a time; see billctl(1), STORE).
  void set_lock_path(std::string path) { m_lock_path = std::move(path); }
  // Where imports keep provider data (billed lines, pulled days, cursors): the embedded store.
  void set_state_store(ingest::ImportStore* state) { m_state = state; }
  // Copies an import of another store: `fill` puts its records, and its log row is kept as it was,
  // tagged with `origin`. Atomic like any import.
  void copy_import(const ingest::LoggedImport& from, const std::string& origin,
                   const std::function<void(ingest::RecordSink&)>& fill);
  // The origins of copied imports that start with `prefix`.
  std::vector<std::string> origins(const std::string& prefix);
  // What doctor shows: the server's version, the schema and the visible records.
  struct Facts {
    std::string server_version;
    int64_t schema = 0;
    int64_t records = 0;
  };
  Facts facts();
  // Creates the database and tables when missing; refuses a schema newer than this billctl.
  void ensure_schema();
  // Pairs and triples of dimensions that should have a rollup of their own (the embedded store's
  // list: organization,user and the pairs budget scopes combine). The first aggregation registers
  // those missing, filling their rollup from the stored records (one scan each).
  void want_combos(std::vector<Combo> combos) { m_wanted = std::move(combos); }
  // Stored values of a text dimension that start with `prefix`, sorted, at most `limit` (shell
  // completion: one quick query with a short timeout; creates nothing).
  std::vector<std::string> dimension_values(std::string_view dim, std::string_view prefix, size_t limit);
  // Registers the wanted combos that have no rollup yet; returns how many.
  size_t register_combos();

 private:
  // The rollup rows that answer a query's whole hours: their dim, and the combo when it is one.
  struct RollupPlan {
    std::string dim;
    std::optional<Combo> combo;
    std::optional<usage::Dim> one;  // the dimension, when it is one
  };
  std::optional<RollupPlan> rollup_plan(const usage::AggQuery& q) const;
  // Hours [h0, h1) of a query the rollup answers with `plan`.
  struct RolledPart {
    size_t query;
    RollupPlan plan;
    int64_t h0, h1;
  };
  std::vector<usage::AggResult> rollup_hours(const std::vector<usage::AggQuery>& queries, const std::vector<RolledPart>& parts);
  void ensure_rollup();
  std::vector<usage::AggResult> scan_together(const std::vector<usage::AggQuery>& queries, const std::vector<size_t>& members);
  std::string records_sql(const usage::AggQuery& q);
  usage::AggResult fold(const usage::AggQuery& q, const std::string& sql);
  void add_meters(const std::vector<usage::AggQuery>& queries, std::vector<usage::AggResult>& out);
  std::unique_ptr<net::HttpClient> m_http;
  Client m_client;
  bool m_ready = false;
  std::string m_lock_path;
  ingest::ImportStore* m_state = nullptr;
  std::vector<RolledCombo> m_combos;  // registered
  std::vector<Combo> m_wanted;        // to register
};

}  // namespace billctl::store::ch
