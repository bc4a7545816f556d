// Reads usage exports: canonical CSV, canonical JSON Lines and Claude Code session logs,
// auto-detected. Each record goes to a RecordHandler as it is parsed (streaming, bounded memory);
// bad rows go to the handler's on_reject with the reason, and the handler decides whether to go on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "billctl/ingest/fields.hpp"
#include "billctl/providers/pull_store.hpp"
#include "billctl/usage/record.hpp"

namespace billctl::ingest {

enum class Format { auto_detect, csv, jsonl, claude_code, openai_api, anthropic_api, litellm, gcp_billing };

std::string_view format_name(Format f);
// "auto", "csv", "jsonl" (also "json", "ndjson"), "claude-code", "openai-api", "anthropic-api",
// "litellm", "gcp-billing".
bool parse_format(std::string_view s, Format& out);

using Columns = std::vector<std::optional<Field>>;

struct Row {
  std::string_view source;  // file name as given, "-" for stdin
  uint64_t line = 0;        // 1-based line where the row starts
  std::string_view raw;     // the row as read
};

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  // A parsed, validated record. Views in it are valid during the call only.
  virtual void on_record(usage::UsageRecord& r, const Row& row) = 0;
  // A row that could not be read; throw to stop reading.
  virtual void on_reject(const Row& row, const std::string& reason) = 0;
  // A line of a provider's billed cost (cost API pages).
  virtual void on_billed(const providers::BilledLine& b, const Row& row) = 0;
};

struct SourceResult {
  Format format = Format::csv;
  std::string digest;  // sha256 of the bytes read
  uint64_t bytes = 0;
  uint64_t rows = 0;     // records and rejected rows
  uint64_t ignored = 0;  // lines that carry no usage (Claude Code messages without usage)
  uint64_t stop_offset = 0;  // absolute offset of the first record not read
  uint64_t next_line = 0;    // line number (within the range) of that record
  // API pages: the bucket bounds they cover.
  util::Seconds min_start = INT64_MAX, max_end = INT64_MIN;
};

// The format of a file, as auto-detection sees it.
Format detect_format(const std::string& path);

// A CSV file's header: its columns, and where the data starts.
struct CsvLayout {
  Columns columns;
  uint64_t data_offset = 0;
  uint64_t data_line = 2;
};
// Reads and checks the header of a CSV file. Throws DataError like read_source.
CsvLayout read_csv_layout(const std::string& path);

// What a reader computes beyond the records themselves, and which part of the input it reads.
struct ReadOptions {
  bool digest = true;      // SHA-256 of the input, for the import log
  bool derive_ids = true;  // ids for rows without one (a store needs them; an aggregation does not)
  // A byte range of a regular file: records starting in [begin, end). With begin > 0 the format
  // must be given, and for CSV the header's columns (the range holds no header).
  uint64_t begin = 0;
  uint64_t end = UINT64_MAX;
  const Columns* columns = nullptr;
  uint64_t first_line = 1;  // the line number at `begin`
  const providers::Mappings* mappings = nullptr;  // attribution of provider API pages
};

// Called now and then with bytes read so far and the size when known (0 otherwise).
using ProgressFn = std::function<void(uint64_t bytes, uint64_t total, uint64_t rows)>;

// Reads one file ("-" is stdin) to the end. Throws DataError for problems with the file as a
// whole (cannot open, missing header columns).
SourceResult read_source(const std::string& path, Format format, const Defaults& defaults, RecordHandler& handler,
                         const ProgressFn& progress = {}, const ReadOptions& options = {});

// Files a path stands for: the path itself, or for a directory every *.jsonl below it, sorted.
std::vector<std::string> expand_inputs(const std::vector<std::string>& paths);

}  // namespace billctl::ingest
