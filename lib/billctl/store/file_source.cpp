#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <atomic>
#include <optional>
#include <thread>
#include <utility>

#include "billctl/store/id_dedupe.hpp"
#include "billctl/store/file_source.hpp"
#include "billctl/util/io.hpp"

namespace billctl::store {

namespace {

// A record kept past its reader's call: its text copied into buffers that are reused, so holding
// one allocates nothing once the buffers are large enough.
class HeldRecord {
 public:
  void hold(const usage::PricedRecord& pr) {
    m_record = *pr.record;
    size_t i = 0;
    for (std::string_view* v : usage::text_fields(m_record)) {
      m_text[i].assign(*v);
      *v = m_text[i++];
    }
    m_priced = pr;
    m_priced.record = &m_record;
    m_held = true;
  }
  bool held() const { return m_held; }
  std::string_view id() const { return m_record.id; }
  const usage::PricedRecord& record() const { return m_priced; }
  void release() { m_held = false; }

 private:
  usage::UsageRecord m_record;
  usage::PricedRecord m_priced;
  std::array<std::string, usage::k_text_fields> m_text;
  bool m_held = false;
};

// Feeds records to the aggregator, numbering the records with an id as they are fed: a position
// is (file, part, ordinal among them), the same on every pass, and the id log's positions come in
// one stretch for each part of a file.
//
// A record followed by one with the same id (the lines Claude Code writes for each part of one
// message) is replaced by it at once: each record with an id is held until the next one shows
// whether it replaces it (until a file has gone 1,024 records without such a repeat).
// Replacements further apart are found by the id log of the first pass; the second pass (only
// when there are such) feeds only the records replaced (`only_replaced`), to be taken out of the
// first pass's totals, and `meter_replaced` says one of them was a meter record, whose totals
// cannot be taken out: then a third pass feeds all records but those.
class AggregatingSink : public ingest::RecordSink {
 public:
  AggregatingSink(usage::Aggregator& agg, DuplicateFinder* ids, const std::vector<uint64_t>* replaced, bool only_replaced)
      : m_agg(agg), m_ids(ids), m_replaced(replaced), m_only(only_replaced) {}
  void start(uint64_t file, uint64_t part) {
    finish();
    m_file = file;
    m_part = part;
    m_ordinal = 0;  // of the records with an id fed
    m_holding = true;
    m_since_merge = 0;
  }
  void put(const usage::PricedRecord& r) override {
    if (r.record->id.empty() || !m_holding) {
      finish();
      feed(r);
      return;
    }
    if (m_held.held() && m_held.id() == r.record->id) {
      ++merged;
      m_held.release();
      m_since_merge = 0;
    } else if (++m_since_merge > k_hold_window) {
      // No repeat next to another for a while (an export, not a log): feed records as they come,
      // leaving any later repeat to the id log, and copy nothing.
      m_holding = false;
      finish();
      feed(r);
      return;
    }
    finish();
    m_held.hold(r);
  }
  // Feeds the record held (at the end of each file and pass).
  void finish() {
    if (!m_held.held()) return;
    m_held.release();
    feed(m_held.record());
  }
  uint64_t merged = 0;  // records replaced by the next one
  bool meter_replaced = false;

 private:
  void feed(const usage::PricedRecord& r) {
    const bool has_id = !r.record->id.empty();
    const uint64_t pos = has_id ? record_position(m_file, m_part, m_ordinal++) : 0;
    if (m_replaced) {
      // Only records with an id are ever replaced.
      if ((has_id && std::binary_search(m_replaced->begin(), m_replaced->end(), pos)) != m_only) return;
      if (m_only && r.record->is_meter()) meter_replaced = true;
    }
    if (m_ids && has_id) m_ids->add(r.record->id, pos);
    m_agg.add(r);
  }

  usage::Aggregator& m_agg;
  DuplicateFinder* m_ids;
  const std::vector<uint64_t>* m_replaced;
  bool m_only;
  static constexpr uint64_t k_hold_window = 1024;
  uint64_t m_file = 0, m_part = 0, m_ordinal = 0;
  HeldRecord m_held;
  bool m_holding = true;       // per file, decided by the same records on every pass
  uint64_t m_since_merge = 0;
};

// Does file `file` hold one of these positions?
bool holds_position(const std::vector<uint64_t>& positions, size_t file) {
  auto it = std::lower_bound(positions.begin(), positions.end(), record_position(file, 0, 0));
  return it != positions.end() && *it < record_position(file + 1, 0, 0);
}

uint64_t regular_file_size(const std::string& path) {
  struct stat st{};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return uint64_t(st.st_size);
}

// The offset just after the first '\n' at or after `from`, or the file size.
uint64_t next_line_start(const std::string& path, uint64_t from, uint64_t size) {
  util::FileSource src(path);
  src.seek(from);
  char buf[65536];
  uint64_t at = from;
  for (;;) {
    const size_t n = src.read(buf, sizeof buf);
    if (n == 0) return size;
    if (const void* nl = std::memchr(buf, '\n', n)) return at + uint64_t(static_cast<const char*>(nl) - buf) + 1;
    at += n;
  }
}

// What one reading thread holds (half of a large file, or its share of many files): its own catalog
// (lookups memoise), aggregator, id log and ingestor.
struct FileWorker {
  FileWorker(const pricing::Catalog& c, const std::vector<usage::AggQuery>& queries, bool log_ids,
             const std::vector<uint64_t>* replaced, bool only_replaced, const ingest::IngestOptions& o)
      : catalog(c), agg(queries), sink(agg, log_ids ? &ids : nullptr, replaced, only_replaced), options(o),
        ingestor(catalog, options, sink) {}
  pricing::Catalog catalog;
  usage::Aggregator agg;
  DuplicateFinder ids;
  AggregatingSink sink;
  ingest::IngestOptions options;
  ingest::Ingestor ingestor;
  std::exception_ptr error;  // what stopped this worker, and in which file
  size_t error_file = SIZE_MAX;
};

}  // namespace

FileUsageSource::FileUsageSource(std::vector<std::string> paths, const pricing::Catalog& catalog,
                                 ingest::IngestOptions options, ingest::ProgressFn progress)
    : m_paths(ingest::expand_inputs(paths)), m_catalog(catalog), m_options(std::move(options)), m_progress(std::move(progress)) {
  // An aggregation needs neither the file digest nor ids for rows without one.
  m_options.read.digest = false;
  m_options.read.derive_ids = false;
}

// Reads a large CSV or JSON Lines file in two halves on two threads. The second half starts at a
// line start; if a quoted CSV field with line breaks spans that point, the first thread notices
// (its last record ends elsewhere) and the second half is read again by the first thread.
bool FileUsageSource::read_parallel(size_t file_index, const std::string& path, const std::vector<usage::AggQuery>& queries,
                                    ingest::Ingestor& main, std::vector<std::vector<usage::AggResult>>& extra,
                                    DuplicateFinder* ids, const std::vector<uint64_t>* replaced,
                                    const ingest::ProgressFn& progress) {
  if (m_threads < 2) return false;
  const uint64_t size = regular_file_size(path);
  if (size < m_parallel_min || size == 0) return false;
  const ingest::Format format = m_options.format == ingest::Format::auto_detect ? ingest::detect_format(path) : m_options.format;
  if (format != ingest::Format::csv && format != ingest::Format::jsonl) return false;

  ingest::ReadOptions first = m_options.read;
  ingest::CsvLayout layout;
  if (format == ingest::Format::csv) {
    layout = ingest::read_csv_layout(path);
    first.begin = layout.data_offset;
    first.first_line = layout.data_line;
    first.columns = &layout.columns;
  }
  const uint64_t split = next_line_start(path, first.begin + (size - first.begin) / 2, size);
  if (split >= size || split <= first.begin) return false;
  first.end = split;

  // The second half, on its own thread with its own catalog (lookups memoise) and aggregator.
  FileWorker second(m_catalog, queries, ids != nullptr, replaced, m_only_replaced, m_options);
  second.sink.start(file_index, 1);
  ingest::ReadOptions range2 = m_options.read;
  range2.begin = split;
  range2.columns = &layout.columns;
  // The worker's counts reach the line through the main thread, which alone draws it.
  std::atomic<uint64_t> bytes2{0}, rows2{0};
  ingest::ProgressFn progress2, progress1;
  if (progress) {
    progress2 = [&](uint64_t bytes, uint64_t, uint64_t rows) {
      bytes2.store(bytes, std::memory_order_relaxed);
      rows2.store(rows, std::memory_order_relaxed);
    };
    progress1 = [&](uint64_t bytes, uint64_t total, uint64_t rows) {
      progress(bytes + bytes2.load(std::memory_order_relaxed), total, rows + rows2.load(std::memory_order_relaxed));
    };
  }
  std::exception_ptr error2;
  std::thread worker([&] {
    try {
      second.ingestor.read_range(path, format, range2, progress2);
    } catch (...) {
      error2 = std::current_exception();
    }
  });
  std::exception_ptr error1;
  ingest::SourceResult r1;
  try {
    r1 = main.read_range(path, format, first, progress1).read;
  } catch (...) {
    error1 = std::current_exception();
  }
  worker.join();
  if (error1) std::rethrow_exception(error1);
  if (progress && !error2) {
    const ingest::SourceResult& r2 = second.ingestor.sources().back().read;
    progress(r1.bytes + r2.bytes, 0, r1.rows + r2.rows);
  }
  if (r1.stop_offset != split) {
    // Misaligned: a record spans the split. Read the rest here, in order.
    ingest::ReadOptions rest = first;
    rest.begin = r1.stop_offset;
    rest.end = UINT64_MAX;
    rest.first_line = r1.next_line;
    main.read_range(path, format, rest);
    return true;  // what the second thread logged is dropped with it
  }
  if (error2) {
    try {
      std::rethrow_exception(error2);
    } catch (const ingest::RowError& e) {
      throw ingest::RowError(e.source(), e.line() + r1.next_line - 1, e.reason());
    }
  }
  second.sink.finish();
  m_rejected += second.ingestor.total_rejected();
  m_unpriced += second.ingestor.total_unpriced();
  m_merged += second.sink.merged;
  m_meter_replaced = m_meter_replaced || second.sink.meter_replaced;
  extra.push_back(second.agg.results());
  if (ids) ids->absorb(second.ids);
  return true;
}

std::vector<usage::AggResult> FileUsageSource::aggregate(const std::vector<usage::AggQuery>& queries) {
  // Pass one aggregates everything and logs the ids. Only when some id repeats (a provider's
  // revised bucket, a log that repeats a message) is there a second pass, over the files that
  // hold a record a later one with the same id replaces: those records are aggregated alone and
  // taken out of pass one's totals, so the result is what importing first gives.
  m_replaced = 0;
  DuplicateFinder ids;
  auto results = aggregate_pass(queries, &ids, nullptr);
  m_replaced = m_merged;
  if (ids.logged() < 2) return results;
  const std::vector<uint64_t> replaced = ids.superseded();
  if (replaced.empty()) return results;
  if (std::find(m_paths.begin(), m_paths.end(), "-") != m_paths.end())
    throw DataError("standard input repeats an id on records that are not consecutive (" + std::to_string(replaced.size()) +
                    " replaced), and it cannot be read twice to leave the replaced ones out; save it to a file and give that to --input");
  m_replaced += replaced.size();
  const uint64_t rejected = m_rejected, unpriced = m_unpriced;  // of every row read, as pass one counted them
  // Rows rejected were rejected in pass one (and written to the rejects file then).
  const std::string rejects_path = std::exchange(m_options.rejects_path, {});
  m_only_replaced = true;
  m_meter_replaced = false;
  auto removed = aggregate_pass(queries, nullptr, &replaced);
  m_only_replaced = false;
  m_options.rejects_path = rejects_path;
  m_rejected = rejected;
  m_unpriced = unpriced;
  if (m_meter_replaced) {
    // A meter's billed quantity keeps its peak day, which cannot be taken out: aggregate all
    // over again, leaving the replaced records out.
    return aggregate_pass(queries, nullptr, &replaced);
  }
  usage::subtract_results(results, removed);
  return results;
}

bool FileUsageSource::wanted(const std::vector<uint64_t>* replaced, size_t i) const {
  return !m_only_replaced || !replaced || holds_position(*replaced, i);
}

// Many small files (a directory of Claude Code logs): two threads take whole files in turn. Every
// record keeps the position it has in file order (the id log needs no more), the results are
// merged, and a bad row stops the read with the error of the first file, in file order, that has
// one, exactly as reading them one by one would. Not with a rejects file (its rows are in order),
// standard input, or a file large enough to be split in halves itself.
std::optional<std::vector<usage::AggResult>> FileUsageSource::read_files_parallel(const std::vector<usage::AggQuery>& queries,
                                                                                  DuplicateFinder* ids,
                                                                                  const std::vector<uint64_t>* replaced) {
  if (m_threads < 2 || m_paths.size() < 2 || !m_options.rejects_path.empty()) return std::nullopt;
  uint64_t total = 0;
  for (size_t i = 0; i < m_paths.size(); ++i) {
    if (m_paths[i] == "-") return std::nullopt;
    const uint64_t size = regular_file_size(m_paths[i]);
    if (size >= m_parallel_min) return std::nullopt;
    if (wanted(replaced, i)) total += size;
  }
  std::vector<std::unique_ptr<FileWorker>> workers;
  for (unsigned t = 0; t < m_threads; ++t)
    workers.push_back(std::make_unique<FileWorker>(m_catalog, queries, ids != nullptr, replaced, m_only_replaced, m_options));
  std::atomic<size_t> next{0}, failed{SIZE_MAX};
  std::atomic<uint64_t> done_bytes{0}, done_rows{0};
  auto work = [&](FileWorker& w, bool draws) {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= m_paths.size() || i > failed.load()) return;
      if (!wanted(replaced, i)) continue;
      w.sink.start(i, 0);
      try {
        const ingest::SourceStats& s = w.ingestor.read(m_paths[i]);
        done_bytes += s.read.bytes;
        done_rows += s.read.rows;
      } catch (...) {
        w.error = std::current_exception();
        w.error_file = i;
        for (size_t f = failed.load(); i < f && !failed.compare_exchange_weak(f, i);) {
        }
        return;
      }
      if (draws && m_progress) m_progress(done_bytes.load(), total, done_rows.load());  // one thread draws
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers.size(); ++t) threads.emplace_back(work, std::ref(*workers[t]), false);
  work(*workers[0], true);
  for (auto& t : threads) t.join();
  for (auto& w : workers)
    if (w->error && w->error_file == failed.load()) std::rethrow_exception(w->error);
  std::vector<std::vector<usage::AggResult>> parts;
  for (auto& w : workers) {
    w->ingestor.finish();
    w->sink.finish();
    m_merged += w->sink.merged;
    m_rejected += w->ingestor.total_rejected();
    m_unpriced += w->ingestor.total_unpriced();
    parts.push_back(w->agg.results());
    if (ids) ids->absorb(w->ids);
    m_meter_replaced = m_meter_replaced || w->sink.meter_replaced;
  }
  if (m_progress) m_progress(done_bytes.load(), total, done_rows.load());
  return usage::merge_results(std::move(parts));
}

std::vector<usage::AggResult> FileUsageSource::aggregate_pass(const std::vector<usage::AggQuery>& queries,
                                                              DuplicateFinder* ids, const std::vector<uint64_t>* replaced) {
  m_rejected = 0;
  m_unpriced = 0;
  m_merged = 0;
  if (auto r = read_files_parallel(queries, ids, replaced)) return std::move(*r);
  usage::Aggregator agg(queries);
  AggregatingSink sink(agg, ids, replaced, m_only_replaced);
  ingest::Ingestor ingestor(m_catalog, m_options, sink);
  std::vector<std::vector<usage::AggResult>> parts;
  // Progress over every file's bytes (unknown with standard input or a pipe).
  uint64_t total = 0, before_bytes = 0, before_rows = 0;
  if (m_progress)
    for (size_t i = 0; i < m_paths.size(); ++i) {
      if (!wanted(replaced, i)) continue;
      const uint64_t size = m_paths[i] == "-" ? 0 : regular_file_size(m_paths[i]);
      if (size == 0) {
        total = 0;
        break;
      }
      total += size;
    }
  uint64_t file_bytes = 0, file_rows = 0;  // of the file being read, as last reported
  ingest::ProgressFn file_progress;
  if (m_progress)
    file_progress = [&](uint64_t bytes, uint64_t, uint64_t rows) {
      file_bytes = bytes;
      file_rows = rows;
      m_progress(before_bytes + bytes, total, before_rows + rows);
    };
  for (size_t i = 0; i < m_paths.size(); ++i) {
    if (!wanted(replaced, i)) continue;
    sink.start(i, 0);
    file_bytes = file_rows = 0;
    const size_t sources = ingestor.sources().size();
    if (!read_parallel(i, m_paths[i], queries, ingestor, parts, ids, replaced, file_progress)) {
      ingestor.read(m_paths[i], file_progress);
      file_bytes = file_rows = 0;
      for (size_t s = sources; s < ingestor.sources().size(); ++s) {
        file_bytes += ingestor.sources()[s].read.bytes;
        file_rows += ingestor.sources()[s].read.rows;
      }
    }
    before_bytes += file_bytes;
    before_rows += file_rows;
    if (m_progress) m_progress(before_bytes, total, before_rows);
  }
  ingestor.finish();
  sink.finish();
  m_rejected += ingestor.total_rejected();
  m_unpriced += ingestor.total_unpriced();
  m_merged += sink.merged;
  m_meter_replaced = m_meter_replaced || sink.meter_replaced;
  if (parts.empty()) return agg.results();
  parts.insert(parts.begin(), agg.results());
  return usage::merge_results(std::move(parts));
}

std::vector<usage::CatalogInfo> FileUsageSource::catalogs_used(util::Seconds, util::Seconds) {
  return {m_catalog.info()};
}

}  // namespace billctl::store
