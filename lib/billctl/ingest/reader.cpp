#include "billctl/ingest/reader.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "billctl/ingest/buffer.hpp"
#include "billctl/ingest/claude_line.hpp"
#include "billctl/ingest/csv.hpp"
#include "billctl/ingest/flat_json.hpp"
#include "billctl/ingest/gateways.hpp"
#include "billctl/providers/pages.hpp"
#include "billctl/util/simd.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::ingest {

namespace od = simdjson::ondemand;

std::string_view format_name(Format f) {
  switch (f) {
    case Format::auto_detect: return "auto";
    case Format::csv: return "csv";
    case Format::jsonl: return "jsonl";
    case Format::claude_code: return "claude-code";
    case Format::openai_api: return "openai-api";
    case Format::anthropic_api: return "anthropic-api";
    case Format::litellm: return "litellm";
    case Format::gcp_billing: return "gcp-billing";
  }
  return "auto";
}

bool parse_format(std::string_view s, Format& out) {
  if (s == "auto") out = Format::auto_detect;
  else if (s == "csv") out = Format::csv;
  else if (s == "jsonl" || s == "json" || s == "ndjson") out = Format::jsonl;
  else if (s == "claude-code") out = Format::claude_code;
  else if (s == "openai-api") out = Format::openai_api;
  else if (s == "anthropic-api") out = Format::anthropic_api;
  else if (s == "litellm") out = Format::litellm;
  else if (s == "gcp-billing") out = Format::gcp_billing;
  else return false;
  return true;
}

namespace {

constexpr uint64_t k_progress_every = 1 << 16;

// Derives a record id from its position and bytes: re-reading the same file gives the same ids,
// two identical rows in one file get different ones.
class IdDeriver {
 public:
  std::string_view derive(uint64_t ordinal, std::string_view raw) {
    util::Sha256 h;
    unsigned char ord[8];
    for (int i = 0; i < 8; ++i) ord[i] = static_cast<unsigned char>(ordinal >> (8 * i));
    h.update(ord, 8);
    h.update(raw.data(), raw.size());
    unsigned char md[32];
    h.digest(md);
    static constexpr char k_hex[] = "0123456789abcdef";
    m_buf[0] = 'r';
    m_buf[1] = ':';
    for (int i = 0; i < 16; ++i) {
      m_buf[2 + 2 * i] = k_hex[md[i] >> 4];
      m_buf[3 + 2 * i] = k_hex[md[i] & 15];
    }
    return std::string_view(m_buf.data(), 34);
  }

 private:
  std::array<char, 34> m_buf{};
};

Format sniff(const std::string& path, ReadBuffer& buf) {
  const std::string lower = util::to_lower(path);
  size_t shift;
  if (buf.end() == 0) buf.refill(shift);
  std::string_view head(buf.data() + buf.begin(), std::min<size_t>(buf.end() - buf.begin(), 4096));
  // Gateway and cloud exports, by their header or first object.
  if (auto g = sniff_gateway(head)) return *g;
  if (util::ends_with(lower, ".csv")) return Format::csv;
  while (!head.empty() && (head.front() == ' ' || head.front() == '\n' || head.front() == '\r' || head.front() == '\t'))
    head.remove_prefix(1);
  if (!head.empty() && (head.front() == '{' || head.front() == '[')) {
    // Provider API pages (a page, an array of pages, pages one per line) carry buckets of results.
    if (auto p = providers::sniff_page(head))
      return *p == providers::Provider::openai ? Format::openai_api : Format::anthropic_api;
  }
  if (!head.empty() && head.front() == '{') {
    // Claude Code logs may start with a summary line; any line of the head naming a session will do.
    if (head.find("\"sessionId\"") != std::string_view::npos) return Format::claude_code;
    return Format::jsonl;
  }
  if (util::ends_with(lower, ".jsonl") || util::ends_with(lower, ".ndjson")) return Format::jsonl;
  return Format::csv;
}

void report_progress(const ProgressFn& progress, const ReadBuffer& buf, uint64_t total, uint64_t rows) {
  if (progress && rows % k_progress_every == 0) progress(buf.bytes_read(), total, rows);
}

// ---- CSV -----------------------------------------------------------------------------------

// Reads and checks the header row.
Columns parse_header(CsvReader& csv, const std::string& path, bool& empty) {
  CsvReader::Result r = csv.next();
  empty = r == CsvReader::Result::end;
  if (empty) return {};
  if (r == CsvReader::Result::error)
    throw DataError(path + ":" + std::to_string(csv.line()) + ": cannot read the header: " + csv.error());
  Columns columns;
  bool has_ts = false, has_model = false, has_meter = false;
  std::array<bool, k_field_count> seen{};
  for (std::string_view name : csv.fields()) {
    const std::string key = util::to_lower(util::trim(name));
    auto f = find_field(key);
    if (f) {
      if (seen[size_t(*f)])
        throw DataError(path + ":" + std::to_string(csv.line()) + ": column '" + key + "' appears twice in the header");
      seen[size_t(*f)] = true;
      has_ts = has_ts || *f == Field::timestamp;
      has_model = has_model || *f == Field::model;
      has_meter = has_meter || *f == Field::meter;
    }
    columns.push_back(f);
  }
  if (!has_ts)
    throw DataError(path + ":" + std::to_string(csv.line()) +
                    ": the header has no 'timestamp' column (is this a billctl usage CSV? see billctl-usage(1))");
  if (!has_model && !has_meter)
    throw DataError(path + ":" + std::to_string(csv.line()) + ": the header has neither a 'model' nor a 'meter' column");
  return columns;
}

void read_csv(const std::string& path, ReadBuffer& buf, const Defaults& defaults, const ReadOptions& ro, RecordHandler& handler,
              SourceResult& res, const ProgressFn& progress, uint64_t total) {
  CsvReader csv(buf);
  csv.set_limit(ro.end);
  csv.set_line(ro.first_line);
  Columns own;
  const Columns* cols = ro.columns;
  if (!cols) {
    bool empty = false;
    own = parse_header(csv, path, empty);
    if (empty) return;  // empty file: nothing to import
    cols = &own;
  }
  const Columns& columns = *cols;
  struct Finish {
    CsvReader& csv;
    SourceResult& res;
    ~Finish() {
      res.stop_offset = csv.stop_offset();
      res.next_line = csv.next_line();
    }
  } finish{csv, res};
  CsvReader::Result r;
  IdDeriver ids;
  uint64_t ordinal = 0;
  for (;;) {
    r = csv.next();
    if (r == CsvReader::Result::end) break;
    ++res.rows;
    ++ordinal;
    Row row{path, csv.line(), csv.raw()};
    if (r == CsvReader::Result::error) {
      handler.on_reject(row, csv.error());
      continue;
    }
    const auto& fields = csv.fields();
    if (fields.size() != columns.size()) {
      handler.on_reject(row, "expected " + std::to_string(columns.size()) + " fields, found " +
                                 std::to_string(fields.size()));
      continue;
    }
    usage::UsageRecord rec;
    std::string why;
    bool ts_set = false;
    const bool plain = csv.plain_text();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!columns[i]) continue;
      if (!set_field(rec, *columns[i], fields[i], plain, why)) break;
      ts_set = ts_set || *columns[i] == Field::timestamp;
    }
    if (why.empty()) why = validate(rec, ts_set && !fields.empty());
    if (!why.empty()) {
      handler.on_reject(row, why);
      continue;
    }
    if (rec.id.empty() && ro.derive_ids) rec.id = ids.derive(ordinal, csv.raw());
    defaults.apply(rec);
    handler.on_record(rec, row);
    report_progress(progress, buf, total, res.rows);
  }
}

// ---- JSON Lines ------------------------------------------------------------------------------

// Calls fn(line_view, line_number, padded capacity) for each non-blank line.
template <typename Fn>
void for_each_line(ReadBuffer& buf, uint64_t limit, uint64_t first_line, SourceResult& res, Fn&& fn) {
  uint64_t line = first_line - 1;
  for (;;) {
    size_t start = buf.begin();
    res.stop_offset = buf.offset(start);
    res.next_line = line + 1;
    if (buf.offset(start) >= limit) return;
    const char* d = buf.data();
    const void* nl = start < buf.end() ? std::memchr(d + start, '\n', buf.end() - start) : nullptr;
    if (!nl && !buf.eof()) {
      size_t shift;
      buf.refill(shift);
      continue;
    }
    if (!nl && start >= buf.end()) return;
    const size_t stop = nl ? size_t(static_cast<const char*>(nl) - d) : buf.end();
    ++line;
    size_t e = stop;
    if (e > start && d[e - 1] == '\r') --e;
    buf.consume_to(nl ? stop + 1 : stop);
    std::string_view text(d + start, e - start);
    if (util::trim(text).empty()) continue;
    fn(text, line, buf.capacity_from(start), nl != nullptr);
  }
}

// Reads the value of a JSON field as the text set_field expects.
bool json_text(od::value v, std::string_view& out, std::string& why, std::string_view key) {
  switch (v.type()) {
    case od::json_type::string: out = v.get_string(); return true;
    case od::json_type::number: {
      std::string_view t = v.raw_json_token();
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n')) t.remove_suffix(1);
      out = t;
      return true;
    }
    case od::json_type::null: out = {}; return true;
    default:
      why = "invalid " + std::string(key) + ": expected a string or a number";
      return false;
  }
}

// The field of each key of a JSON record. Exports write their keys in one order on every line,
// so the key at each position is remembered with its field: one comparison per key, not a search.
class KeyCache {
 public:
  std::optional<Field> find(size_t position, std::string_view key) {
    if (position >= m_keys.size()) m_keys.resize(position + 1);
    auto& [text, field] = m_keys[position];
    if (key.size() != text.size() || !util::same_bytes(key.data(), text.data(), key.size())) {
      text.assign(key);
      field = find_field(key);
    }
    return field;
  }

 private:
  std::vector<std::pair<std::string, std::optional<Field>>> m_keys;
};

void read_jsonl(const std::string& path, ReadBuffer& buf, const Defaults& defaults, const ReadOptions& ro, RecordHandler& handler,
                SourceResult& res, const ProgressFn& progress, uint64_t total) {
  od::parser parser;
  KeyCache keys;
  FlatFields flat;
  IdDeriver ids;
  uint64_t ordinal = 0;
  for_each_line(buf, ro.end, ro.first_line, res, [&](std::string_view text, uint64_t line, size_t cap, bool) {
    ++res.rows;
    ++ordinal;
    Row row{path, line, text};
    usage::UsageRecord rec;
    std::string why;
    bool ts_set = false;
    // One field of the record, as the flat scan or simdjson found it; false stops the record.
    auto put = [&](Field f, std::string_view value, bool plain) {
      if (!set_field(rec, f, value, plain, why)) return false;
      ts_set = ts_set || (f == Field::timestamp && !value.empty());
      return true;
    };
    size_t count = 0;
    bool plain = false;  // every byte of the line is printable ASCII
    bool is_flat = scan_flat_object_fast(text, flat, count, plain);
    if (!is_flat && scan_flat_object(text, flat, count)) {
      is_flat = true;
      plain = util::printable_ascii(text);
    }
    if (is_flat) {
      for (size_t k = 0; k < count; ++k) {
        auto f = keys.find(k, flat[k].key);  // unknown keys are allowed in JSON records
        if (f && !put(*f, flat[k].value, plain)) break;
      }
    } else {
      try {
        od::document doc = parser.iterate(simdjson::padded_string_view(text.data(), text.size(), cap));
        od::object obj = doc.get_object();
        size_t k = 0;
        for (auto field : obj) {
          std::string_view key = field.unescaped_key();
          auto f = keys.find(k++, key);
          if (!f) continue;
          std::string_view value;
          if (!json_text(field.value(), value, why, key) || !put(*f, value, false)) break;
        }
      } catch (const simdjson::simdjson_error& e) {
        why = std::string("invalid JSON: ") + simdjson::error_message(e.error());
      }
    }
    if (why.empty()) why = validate(rec, ts_set);
    if (!why.empty()) {
      handler.on_reject(row, why);
      return;
    }
    if (rec.id.empty() && ro.derive_ids) rec.id = ids.derive(ordinal, text);
    defaults.apply(rec);
    handler.on_record(rec, row);
    report_progress(progress, buf, total, res.rows);
  });
}

// ---- Claude Code session logs ------------------------------------------------------------------

void read_claude_code(const std::string& path, ReadBuffer& buf, const Defaults& defaults, const ReadOptions& ro, RecordHandler& handler,
                      SourceResult& res, const ProgressFn& progress, uint64_t total) {
  od::parser parser;
  IdDeriver ids;
  std::string id;
  std::string project_dir;
  {
    // ~/.claude/projects/<encoded cwd>/<session>.jsonl: the directory names the project.
    std::filesystem::path p(path);
    project_dir = p.parent_path().filename().string();
  }
  uint64_t ordinal = 0;
  ClaudeLine cl;
  for_each_line(buf, ro.end, ro.first_line, res, [&](std::string_view text, uint64_t line, size_t cap, bool ended) {
    ++ordinal;
    Row row{path, line, text};
    // Lines without usage (user messages, tool results: most of the bytes) bill nothing: not read.
    if (!mentions_usage(text)) {
      ++res.ignored;
      return;
    }
    // The scanner reads the lines Claude Code writes; simdjson the rest, and says what is wrong.
    if (!scan_claude_line(text, cl)) {
      std::string why = parse_claude_line(parser, text, cap, cl);
      if (!why.empty()) {
        // A last line without its line end that is not JSON yet is one Claude Code is still
        // writing (the session is running): it is read next time, not refused now.
        if (!ended) {
          ++res.ignored;
          return;
        }
        ++res.rows;
        handler.on_reject(row, why);
        return;
      }
    }
    // Only assistant messages carry usage; synthetic messages cost nothing (as ccusage counts).
    if (cl.type != "assistant" || !cl.has_usage || cl.model.empty() || cl.model == "<synthetic>") {
      ++res.ignored;
      return;
    }
    ++res.rows;
    usage::UsageRecord rec;
    rec.input_tokens = cl.input;
    rec.output_tokens = cl.output;
    rec.cached_input_tokens = cl.cache_read;
    if (cl.has_split) {
      rec.cache_write_tokens = cl.cache_write_5m;
      rec.cache_write_1h_tokens = cl.cache_write_1h;
    } else {
      rec.cache_write_tokens = cl.cache_write;
    }
    std::string why = set_field(rec, Field::timestamp, cl.timestamp);
    if (why.empty()) why = set_field(rec, Field::model, cl.model);
    if (why.empty() && !cl.session.empty()) why = set_field(rec, Field::session, cl.session);
    if (why.empty() && !cl.tier.empty()) {
      usage::Tier t;
      if (usage::parse_tier(cl.tier, t)) rec.tier = t;
    }
    if (!why.empty()) {
      handler.on_reject(row, why);
      return;
    }
    rec.provider = "anthropic";
    rec.feature = "claude-code";
    if (!cl.cwd.empty()) {
      const auto slash = cl.cwd.find_last_of('/');
      rec.project = slash == std::string_view::npos ? cl.cwd : cl.cwd.substr(slash + 1);
    } else {
      rec.project = project_dir;
    }
    // The same message is written to several lines and files; message id + request id names it once.
    if (!cl.msg_id.empty() && !cl.request_id.empty()) {
      id.assign("cc:");
      id.append(cl.msg_id);
      id.push_back(':');
      id.append(cl.request_id);
      rec.id = id;
    } else if (ro.derive_ids) {
      rec.id = ids.derive(ordinal, text);
    }
    defaults.apply(rec);
    handler.on_record(rec, row);
    report_progress(progress, buf, total, res.rows);
  });
}

// ---- provider API pages ------------------------------------------------------------------------

void read_api_pages(const std::string& path, providers::Provider p, ReadBuffer& buf, const Defaults& defaults,
                    const ReadOptions& ro, RecordHandler& handler, SourceResult& res) {
  size_t shift;
  while (buf.refill(shift)) {
  }
  const std::string_view text(buf.data() + buf.begin(), buf.end() - buf.begin());
  static const providers::Mappings k_none;
  const providers::Page page = providers::parse_page(p, text, ro.mappings ? ro.mappings->of(p) : k_none.of(p), path);
  buf.consume_to(buf.end());
  res.min_start = page.min_start;
  res.max_end = page.max_end;
  for (const providers::PulledRecord& pr : page.records) {
    ++res.rows;
    usage::UsageRecord rec = pr.view();
    defaults.apply(rec);
    handler.on_record(rec, Row{path, pr.line, {}});
  }
  for (const providers::BilledLine& b : page.billed) {
    ++res.rows;
    handler.on_billed(b, Row{path, b.line, {}});
  }
}

}  // namespace

SourceResult read_source(const std::string& path, Format format, const Defaults& defaults, RecordHandler& handler,
                         const ProgressFn& progress, const ReadOptions& options) {
  util::FileSource src(path);
  util::Sha256 digest;
  if (options.begin > 0 && (format == Format::auto_detect || (format == Format::csv && !options.columns)))
    throw std::logic_error("read_source: a byte range needs the format (and CSV columns)");
  ReadBuffer buf(src, options.digest ? &digest : nullptr, options.begin);
  SourceResult res;
  res.format = format == Format::auto_detect ? sniff(path, buf) : format;
  const uint64_t total = src.size();
  switch (res.format) {
    case Format::csv: read_csv(path, buf, defaults, options, handler, res, progress, total); break;
    case Format::jsonl: read_jsonl(path, buf, defaults, options, handler, res, progress, total); break;
    case Format::claude_code: read_claude_code(path, buf, defaults, options, handler, res, progress, total); break;
    case Format::openai_api: read_api_pages(path, providers::Provider::openai, buf, defaults, options, handler, res); break;
    case Format::anthropic_api: read_api_pages(path, providers::Provider::anthropic, buf, defaults, options, handler, res); break;
    case Format::litellm:
    case Format::gcp_billing: read_gateway_export(path, res.format, buf, defaults, handler, res); break;
    case Format::auto_detect: break;
  }
  // Drain what the parser did not need so that the digest covers the whole input.
  size_t shift;
  if (options.digest)
    while (buf.refill(shift)) buf.consume_to(buf.end());
  res.bytes = buf.bytes_read();
  if (options.digest) res.digest = digest.hex_digest();
  if (progress) progress(res.bytes, total, res.rows);
  return res;
}

Format detect_format(const std::string& path) {
  util::FileSource src(path);
  ReadBuffer buf(src, nullptr);
  return sniff(path, buf);
}

CsvLayout read_csv_layout(const std::string& path) {
  util::FileSource src(path);
  ReadBuffer buf(src, nullptr);
  CsvReader csv(buf);
  CsvLayout layout;
  bool empty = false;
  layout.columns = parse_header(csv, path, empty);
  layout.data_offset = buf.offset(buf.begin());
  layout.data_line = csv.next_line();
  return layout;
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p != "-" && util::is_directory(p)) {
      std::vector<std::string> found;
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(p, ec); !ec && it != std::filesystem::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".jsonl") found.push_back(it->path().string());
      }
      if (ec) throw DataError("cannot read directory '" + p + "': " + ec.message());
      if (found.empty())  // the same rule for import and report --input: an empty input is a mistake
        throw DataError("no usage files found in directory '" + p + "' (a directory is read for Claude Code logs, *.jsonl)");
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace billctl::ingest
