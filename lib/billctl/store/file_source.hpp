// Export files read as a usage source (report --input): every aggregate() reads them once, with
// records of the same id counted once (the last wins, as an import replaces them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "billctl/ingest/ingestor.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::store {

class DuplicateFinder;

class FileUsageSource : public usage::Source {
 public:
  FileUsageSource(std::vector<std::string> paths, const pricing::Catalog& catalog, ingest::IngestOptions options,
                  ingest::ProgressFn progress = {});
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;
  // Rows rejected by the last aggregate() (with --on-error skip).
  uint64_t rejected() const { return m_rejected; }
  uint64_t unpriced() const { return m_unpriced; }
  // Records left out because a later record had the same id (as an import replaces them).
  uint64_t replaced() const { return m_replaced; }
  // Threads for reading one large file (1 or 2); default: 2 when the machine has them.
  void set_threads(unsigned n) { m_threads = n; }
  // Files smaller than this are read by one thread (tests lower it).
  void set_parallel_min_bytes(uint64_t n) { m_parallel_min = n; }

 private:
  // `progress` (may be empty) is told the bytes and rows both halves have read.
  bool read_parallel(size_t file_index, const std::string& path, const std::vector<usage::AggQuery>& queries,
                     ingest::Ingestor& main, std::vector<std::vector<usage::AggResult>>& extra, DuplicateFinder* ids,
                     const std::vector<uint64_t>* replaced, const ingest::ProgressFn& progress);
  std::optional<std::vector<usage::AggResult>> read_files_parallel(const std::vector<usage::AggQuery>& queries,
                                                                   DuplicateFinder* ids, const std::vector<uint64_t>* replaced);
  // Is file `i` read by this pass? (A pass over the replaced records reads the files holding one.)
  bool wanted(const std::vector<uint64_t>* replaced, size_t i) const;
  std::vector<usage::AggResult> aggregate_pass(const std::vector<usage::AggQuery>& queries, DuplicateFinder* ids,
                                               const std::vector<uint64_t>* replaced);
  std::vector<std::string> m_paths;
  const pricing::Catalog& m_catalog;
  ingest::IngestOptions m_options;
  ingest::ProgressFn m_progress;
  uint64_t m_rejected = 0;
  uint64_t m_unpriced = 0;
  uint64_t m_replaced = 0;
  uint64_t m_merged = 0;          // records replaced by the next one, found by the last pass
  bool m_only_replaced = false;   // the pass reads only the replaced records (of the files holding one)
  bool m_meter_replaced = false;  // such a pass met a meter record
  unsigned m_threads = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  uint64_t m_parallel_min = uint64_t(32) << 20;  // below this, splitting costs more than it saves
};

}  // namespace billctl::store
