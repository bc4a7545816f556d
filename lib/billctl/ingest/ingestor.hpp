// The import pipeline above the readers: prices each record with the catalog (or keeps the
// provider-reported cost), applies the bad-row policy of SPEC §3.2, writes rejects, and hands
// accepted records to a sink: the store's import transaction or an in-memory aggregator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "billctl/ingest/reader.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/util/io.hpp"

namespace billctl::ingest {

enum class OnError { fail, skip };

// A bad row that stopped a read (--on-error fail), with its place so it can be re-based when a
// file is read in parts.
class RowError : public DataError {
 public:
  RowError(std::string source, uint64_t line, std::string reason)
      : DataError(source + ":" + std::to_string(line) + ": " + reason),
        m_source(std::move(source)),
        m_line(line),
        m_reason(std::move(reason)) {}
  const std::string& source() const { return m_source; }
  uint64_t line() const { return m_line; }
  const std::string& reason() const { return m_reason; }

 private:
  std::string m_source;
  uint64_t m_line;
  std::string m_reason;
};

struct IngestOptions {
  Format format = Format::auto_detect;
  OnError on_error = OnError::fail;
  bool allow_unpriced = false;
  std::string rejects_path;  // empty: rejected rows are only counted
  Defaults defaults;
  ReadOptions read;
};

// Receives accepted, priced records.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void put(const usage::PricedRecord& r) = 0;
  // A line of what a provider billed (its cost pages); replaces the line with the same provider,
  // day and key. Sinks that only aggregate usage ignore them.
  virtual void put_billed(const providers::BilledLine&) {}
};

struct SourceStats {
  std::string path;
  SourceResult read;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t unpriced = 0;
  uint64_t billed = 0;  // billed cost lines (provider cost pages)
};

class Ingestor : private RecordHandler {
 public:
  Ingestor(const pricing::Catalog& catalog, const IngestOptions& options, RecordSink& sink);
  ~Ingestor() override;

  // Reads one input (file or "-"); throws DataError at the first bad row unless skipping.
  const SourceStats& read(const std::string& path, const ProgressFn& progress = {});
  // Reads part of a regular file (see ReadOptions) in a known format.
  const SourceStats& read_range(const std::string& path, Format format, const ReadOptions& range,
                                const ProgressFn& progress = {});
  // Prices and hands on what a provider pull fetched, as one source named `name`.
  const SourceStats& read_page(const std::string& name, Format format, const providers::Page& page);
  // Writes the rejects file (atomically) when one was asked for.
  void finish();

  const std::vector<SourceStats>& sources() const { return m_sources; }
  uint64_t total_accepted() const;
  uint64_t total_rejected() const;
  uint64_t total_unpriced() const;

 private:
  void on_record(usage::UsageRecord& r, const Row& row) override;
  void on_reject(const Row& row, const std::string& reason) override;
  void on_billed(const providers::BilledLine& b, const Row& row) override;

  const pricing::Catalog& m_catalog;
  const IngestOptions& m_options;
  RecordSink& m_sink;
  std::vector<SourceStats> m_sources;
  std::unique_ptr<util::AtomicFile> m_rejects;
  std::string m_line;  // scratch for one rejects row
};

// "gpt-4o" is not in the catalog ... : the reason a record could not be priced.
std::string unpriced_reason(pricing::PriceOutcome o, const usage::UsageRecord& r, const pricing::Catalog& c);

}  // namespace billctl::ingest
