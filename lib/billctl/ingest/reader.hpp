// Reads usage exports: canonical CSV, canonical JSON Lines and Claude Code session logs,
// auto-detected. Each record goes to a RecordHandler as it is parsed (streaming, bounded memory);
// bad rows go to the handler's on_reject with the reason, and the handler decides whether to go on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "billctl/ingest/fields.hpp"
#include "billctl/usage/record.hpp"

namespace billctl::ingest {

enum class Format { auto_detect, csv, jsonl, claude_code };

std::string_view format_name(Format f);
// "auto", "csv", "jsonl" (also "json", "ndjson"), "claude-code".
bool parse_format(std::string_view s, Format& out);

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
};

struct SourceResult {
  Format format = Format::csv;
  std::string digest;  // sha256 of the bytes read
  uint64_t bytes = 0;
  uint64_t rows = 0;     // records and rejected rows
  uint64_t ignored = 0;  // lines that carry no usage (Claude Code messages without usage)
};

// What a reader computes beyond the records themselves.
struct ReadOptions {
  bool digest = true;      // SHA-256 of the input, for the import log
  bool derive_ids = true;  // ids for rows without one (a store needs them; an aggregation does not)
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
