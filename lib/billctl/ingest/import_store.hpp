// Where imports go: the store side of `usage import`. An import is one atomic unit (all its files
// or none), logged with what it accepted, rejected and replaced.
#pragma once

#include <functional>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "billctl/ingest/ingestor.hpp"
#include "billctl/ingest/read_ahead.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::ingest {

// One atomic import: records put() are visible to others only after commit(); destroying it
// without commit() rolls everything back.
class ImportTxn : public RecordSink {
 public:
  // The part of storing a record that needs nothing of the store, which a caller may do on its
  // reading thread (read_ahead): called for every record, in order, each before its put(), or for
  // none (put() then does it).
  virtual void ahead(const usage::PricedRecord&) {}
  // Records the source in the import log, with the records it replaced.
  virtual void log_source(const SourceStats& s) = 0;
  // Records replaced (an id seen before) by each source logged so far, in order; final only after
  // commit() (an import into an empty store settles repeated ids when it builds its indexes).
  virtual std::vector<uint64_t> source_replaced() const = 0;
  virtual void commit() = 0;
  // Told what commit() is doing when it takes long ("building index 2 of 4"), for a progress line.
  void on_step(std::function<void(const std::string&)> fn) { m_step = std::move(fn); }

  // Provider data (usage pull, saved API pages); put_billed (RecordSink) stores billed lines.
  // Takes out what an earlier pull of `provider` stored for [begin, end): its billed lines, and
  // its records (ids "PROVIDER/...") except those in `keep` (sorted), which the new pull brings
  // again. Returns the records taken out.
  virtual uint64_t remove_pulled(std::string_view provider, util::Seconds begin, util::Seconds end,
                                 const std::vector<std::string>& keep) = 0;
  virtual void put_pull_day(const providers::PullDay& d) = 0;
  virtual void set_pull_cursor(std::string_view provider, util::Seconds until) = 0;

 protected:
  void step(const std::string& what) const {
    if (m_step) m_step(what);
  }

 private:
  std::function<void(const std::string&)> m_step;
};

// read_ahead's writing side for an import: everything goes to the transaction, each input's end
// to its import log.
class ToImport : public ReadConsumer {
 public:
  explicit ToImport(ImportTxn& txn) : m_txn(txn) {}
  void ahead(const usage::PricedRecord& r) override { m_txn.ahead(r); }
  void put(const usage::PricedRecord& r) override { m_txn.put(r); }
  void put_billed(const providers::BilledLine& b) override { m_txn.put_billed(b); }
  void source_done(const SourceStats& s) override { m_txn.log_source(s); }

 private:
  ImportTxn& m_txn;
};

struct ImportLogRow {
  int64_t id = 0;
  std::string at, source, digest, format, catalog;
  int64_t accepted = 0, rejected = 0, replaced = 0, unpriced = 0;
};

// An import as a store logged it, with the catalog that priced it (copying a store elsewhere).
struct LoggedImport {
  ImportLogRow log;
  int64_t bytes = 0;
  util::Seconds min_ts = 0, max_ts = -1;  // max < min: no records
  usage::CatalogInfo catalog;
};

class ImportStore {
 public:
  virtual ~ImportStore() = default;
  // Starts an atomic import priced by `catalog` at time `now`; waits while another writer works.
  virtual std::unique_ptr<ImportTxn> begin_import(const usage::CatalogInfo& catalog, util::Seconds now) = 0;
  // The newest `limit` imports, newest first.
  virtual std::vector<ImportLogRow> import_log(size_t limit) = 0;
  // The currencies the stored usage costs are in.
  virtual std::vector<std::string> usage_currencies() = 0;
};

}  // namespace billctl::ingest
