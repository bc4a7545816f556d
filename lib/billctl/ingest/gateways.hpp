// Exports of the gateways and clouds in front of the providers, mapped to canonical records:
// LiteLLM proxy spend logs (its LiteLLM_SpendLogs table as CSV, JSON or JSON Lines) and the
// Google Cloud Billing export for Gemini / Vertex AI (the BigQuery export's rows as CSV, JSON or
// JSON Lines). Both are read row by row into flat fields ("metadata_usage_object_..."), so the
// same mapping serves every container format.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billctl/ingest/buffer.hpp"
#include "billctl/ingest/reader.hpp"

namespace billctl::ingest {

// A row with nested values flattened: keys joined with '_' ('.' in CSV headers becomes '_'),
// array elements by index ("labels_0_key"); JSON text in a CSV cell is flattened under its column.
class FlatRow {
 public:
  void clear() { m_kv.clear(); }
  void add(std::string key, std::string value);
  // Adds a JSON value's scalars under `prefix`; false when the text is not JSON.
  bool add_json(std::string_view json, const std::string& prefix);
  const std::string* get(std::string_view key) const;
  std::string_view text(std::string_view key) const {
    const std::string* v = get(key);
    return v ? std::string_view(*v) : std::string_view();
  }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return m_kv; }

 private:
  std::vector<std::pair<std::string, std::string>> m_kv;
};

// Maps one row to a record (views into `row` and `scratch`). Returns the reason a row is refused,
// or empty; sets `skip` for rows that carry no AI usage (other cloud services).
struct MappedRow {
  usage::UsageRecord record;
  std::string id, timestamp, model;  // owned text the record views
  bool skip = false;
};
std::string map_litellm_row(const FlatRow& row, MappedRow& out);
std::string map_gcp_billing_row(const FlatRow& row, uint64_t occurrence, MappedRow& out);

// Reads a whole file in one of the two formats (CSV with a header, a JSON array, or JSON Lines).
void read_gateway_export(const std::string& path, Format format, ReadBuffer& buf, const Defaults& defaults,
                         RecordHandler& handler, SourceResult& res);

// The gateway format a CSV header or a first JSON object belongs to, if any.
std::optional<Format> sniff_gateway(std::string_view head);

}  // namespace billctl::ingest
