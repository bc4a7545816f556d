#include "billctl/ingest/gateways.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>

#include "billctl/ingest/buffer.hpp"
#include "billctl/ingest/csv.hpp"
#include "billctl/ingest/fields.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::ingest {

namespace od = simdjson::ondemand;

namespace {

std::string key_of(std::string_view k) {
  std::string s(util::trim(k));
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

void flatten(od::value v, const std::string& prefix, FlatRow& out) {
  switch (v.type()) {
    case od::json_type::object:
      for (auto f : v.get_object()) {
        const std::string k = key_of(std::string_view(f.unescaped_key()));
        flatten(f.value(), prefix.empty() ? k : prefix + "_" + k, out);
      }
      break;
    case od::json_type::array: {
      size_t i = 0;
      for (auto e : v.get_array()) flatten(e.value(), prefix + "_" + std::to_string(i++), out);
      break;
    }
    case od::json_type::string: out.add(prefix, std::string(std::string_view(v.get_string()))); break;
    case od::json_type::number: {
      std::string_view t = v.raw_json_token();
      while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t')) t.remove_suffix(1);
      out.add(prefix, std::string(t));
      break;
    }
    case od::json_type::boolean: out.add(prefix, bool(v.get_bool()) ? "true" : "false"); break;
    case od::json_type::null: break;
  }
}

// "2026-10-05 12:00:00.123", "2026-10-05 12:00:00 UTC", "2026-10-05T12:00:00.123+00": RFC 3339.
std::string rfc3339_of(std::string_view t) {
  std::string s(util::trim(t));
  if (util::ends_with(s, " UTC")) s = s.substr(0, s.size() - 4) + "Z";
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  if (s.size() >= 19) {
    const std::string_view rest = std::string_view(s).substr(19);
    const size_t zone = rest.find_first_of("Z+-");
    if (zone == std::string_view::npos) s += 'Z';
    else if (rest.size() - zone == 3 && rest[zone] != 'Z') s += ":00";  // +00 -> +00:00
  }
  return s;
}

std::string set_count_of(const FlatRow& row, std::string_view key, int64_t& dst) {
  const std::string_view v = row.text(key);
  if (v.empty()) return {};
  if (!util::parse_u63(v, dst)) {
    // 1234.0 as JSON writes a whole count
    auto d = money::Decimal::parse(v);
    if (!d || d->negative() || d->units() % money::Decimal::k_one != 0 ||
        d->units() / money::Decimal::k_one > INT64_MAX)
      return "invalid " + std::string(key) + " '" + std::string(v.substr(0, 64)) + "': expected a count";
    dst = int64_t(d->units() / money::Decimal::k_one);
  }
  return {};
}

std::string_view first_of(const FlatRow& row, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys)
    if (std::string_view v = row.text(k); !v.empty()) return v;
  return {};
}

}  // namespace

void FlatRow::add(std::string key, std::string value) { m_kv.emplace_back(std::move(key), std::move(value)); }

bool FlatRow::add_json(std::string_view json, const std::string& prefix) {
  try {
    simdjson::padded_string p(json);
    od::parser parser;
    od::document doc = parser.iterate(p);
    od::value v = doc.get_value();
    flatten(v, prefix, *this);
    return true;
  } catch (const simdjson::simdjson_error&) {
    return false;
  }
}

const std::string* FlatRow::get(std::string_view key) const {
  for (const auto& [k, v] : m_kv)
    if (k == key) return &v;
  return nullptr;
}

// ---- LiteLLM spend logs ------------------------------------------------------------------------

std::string map_litellm_row(const FlatRow& row, MappedRow& out) {
  usage::UsageRecord& r = out.record;
  r = usage::UsageRecord{};
  const std::string_view request_id = row.text("request_id");
  if (request_id.empty()) return "missing request_id";
  out.id = "litellm:";
  out.id += request_id;
  r.id = out.id;
  const std::string_view start = first_of(row, {"startTime", "start_time"});
  if (start.empty()) return "missing startTime";
  out.timestamp = rfc3339_of(start);
  if (std::string why = set_field(r, Field::timestamp, out.timestamp); !why.empty()) return why;
  if (std::string why = set_field(r, Field::model, first_of(row, {"model", "model_group"})); !why.empty()) return why;
  if (r.model.empty()) return "missing model";
  r.provider = row.text("custom_llm_provider");
  // LiteLLM reports usage in OpenAI's shape: prompt_tokens includes cache reads and writes.
  int64_t prompt = 0, cached = 0, written = 0;
  for (auto [key, dst] : {std::pair<std::string_view, int64_t*>{"prompt_tokens", &prompt},
                          {"completion_tokens", &r.output_tokens}}) {
    if (std::string why = set_count_of(row, key, *dst); !why.empty()) return why;
  }
  for (std::string_view k : {"metadata_usage_object_prompt_tokens_details_cached_tokens",
                             "metadata_usage_object_cache_read_input_tokens"}) {
    int64_t v = 0;
    if (std::string why = set_count_of(row, k, v); !why.empty()) return why;
    cached = std::max(cached, v);
  }
  if (std::string why = set_count_of(row, "metadata_usage_object_cache_creation_input_tokens", written); !why.empty())
    return why;
  if (prompt < cached + written)
    return "prompt_tokens " + std::to_string(prompt) + " is less than its cached (" + std::to_string(cached) +
           ") and cache-write (" + std::to_string(written) + ") parts";
  r.input_tokens = prompt - cached - written;
  r.cached_input_tokens = cached;
  r.cache_write_tokens = written;
  r.user = first_of(row, {"end_user", "user"});
  r.department = first_of(row, {"metadata_user_api_key_team_alias", "team_id"});
  r.project = first_of(row, {"metadata_user_api_key_alias"});
  r.organization = first_of(row, {"metadata_user_api_key_org_id"});
  const std::string_view status = row.text("status");
  r.status = status == "failure" || status == "error" ? usage::Status::error : usage::Status::ok;
  for (auto [k, v] : {std::pair<std::string_view, std::string_view>{"provider", r.provider}, {"user", r.user},
                      {"department", r.department}, {"project", r.project}})
    if (v.size() > k_max_text) return std::string(k) + " longer than " + std::to_string(k_max_text) + " bytes";
  return {};
}

// ---- Google Cloud Billing export (Gemini / Vertex AI) ------------------------------------------

namespace {

bool is_ai_service(std::string_view service) {
  const std::string s = util::to_lower(service);
  return s.find("gemini") != std::string::npos || s.find("vertex ai") != std::string::npos ||
         s.find("generative language") != std::string::npos;
}

struct SkuMeaning {
  std::string model;  // "gemini-2.5-pro"; empty when the SKU is not token usage
  enum class Class { input, cached, output, none } cls = Class::none;
  bool long_context = false;
};

// "Generate content cached input token count gemini 2.5 pro long input" -> gemini-2.5-pro, cached, long.
SkuMeaning sku_meaning(std::string_view description) {
  SkuMeaning m;
  const std::string d = util::to_lower(description);
  const size_t g = d.find("gemini");
  if (g == std::string::npos || d.find("token") == std::string::npos) return m;
  size_t i = g + 6;
  while (i < d.size() && (d[i] == ' ' || d[i] == '-')) ++i;
  size_t j = i;
  while (j < d.size() && ((d[j] >= '0' && d[j] <= '9') || d[j] == '.')) ++j;
  if (j == i) return m;
  m.model = "gemini-" + d.substr(i, j - i);
  const std::string after = d.substr(j);
  if (after.find("flash lite") != std::string::npos || after.find("flash-lite") != std::string::npos) m.model += "-flash-lite";
  else if (after.find("flash") != std::string::npos) m.model += "-flash";
  else if (after.find("pro") != std::string::npos) m.model += "-pro";
  if (d.find("cached") != std::string::npos || d.find("cache") != std::string::npos) m.cls = SkuMeaning::Class::cached;
  else if (d.find("output") != std::string::npos || d.find("candidates") != std::string::npos) m.cls = SkuMeaning::Class::output;
  else if (d.find("input") != std::string::npos || d.find("prompt") != std::string::npos) m.cls = SkuMeaning::Class::input;
  m.long_context = d.find("long") != std::string::npos;
  if (m.cls == SkuMeaning::Class::none) m.model.clear();
  return m;
}

}  // namespace

std::string map_gcp_billing_row(const FlatRow& row, uint64_t occurrence, MappedRow& out) {
  usage::UsageRecord& r = out.record;
  r = usage::UsageRecord{};
  out.skip = false;
  const std::string_view service = first_of(row, {"service_description", "service"});
  const std::string_view cost_type = row.text("cost_type");
  if (!is_ai_service(service)) {
    out.skip = true;
    return {};
  }
  const std::string_view start = row.text("usage_start_time");
  if (start.empty()) return "missing usage_start_time";
  out.timestamp = rfc3339_of(start);
  if (std::string why = set_field(r, Field::timestamp, out.timestamp); !why.empty()) return why;
  // The net cost: cost plus credits (credits are negative).
  auto cost = money::Decimal::parse(row.text("cost"));
  if (!cost) return "invalid cost '" + std::string(row.text("cost").substr(0, 64)) + "': " + cost.error();
  money::Decimal net = *cost;
  for (size_t i = 0;; ++i) {
    const std::string* a = row.get("credits_" + std::to_string(i) + "_amount");
    if (!a) break;
    auto d = money::Decimal::parse(*a);
    if (!d) return "invalid credits amount '" + a->substr(0, 64) + "': " + d.error();
    net += *d;
  }
  if (std::string why = set_field(r, Field::currency, first_of(row, {"currency"})); !why.empty()) return why;
  r.has_cost = true;
  r.cost = net;
  r.provider = "google";
  r.project = first_of(row, {"project_id", "project_name"});
  // Labels as attribution: department (or team), feature, user, organization.
  for (size_t i = 0;; ++i) {
    const std::string p = "labels_" + std::to_string(i) + "_";
    const std::string* k = row.get(p + "key");
    const std::string* v = row.get(p + "value");
    if (!k || !v) break;
    if (*k == "department" || *k == "team") r.department = *v;
    else if (*k == "feature") r.feature = *v;
    else if (*k == "user") r.user = *v;
    else if (*k == "organization") r.organization = *v;
  }
  const std::string_view sku = first_of(row, {"sku_description", "sku"});
  const SkuMeaning m = sku_meaning(sku);
  if (!m.model.empty() && (cost_type.empty() || cost_type == "regular")) {
    // A token SKU: usage.amount counts tokens.
    int64_t tokens = 0;
    if (std::string why = set_count_of(row, row.get("usage_amount") ? "usage_amount" : "usage_amount_in_pricing_units", tokens);
        !why.empty())
      return why;
    out.model = m.model;
    r.model = out.model;
    (m.cls == SkuMeaning::Class::cached ? r.cached_input_tokens
     : m.cls == SkuMeaning::Class::output ? r.output_tokens
                                          : r.input_tokens) = tokens;
    r.context = m.long_context ? usage::Context::long_context : usage::Context::standard;
    r.requests = 0;  // the export has no request counts
  } else {
    // Grounding, storage, tax, adjustments: a record named by its SKU (or cost type) that carries
    // its billed cost, so report totals are the bill (meter records are counted apart from money).
    out.model = cost_type.empty() || cost_type == "regular" ? std::string(sku) : std::string(cost_type);
    if (out.model.empty()) out.model = "other";
    if (out.model.size() > k_max_text) out.model.resize(k_max_text);
    r.model = out.model;
    const std::string_view unit = row.text("usage_unit");
    if (unit == "requests" || unit == "request") {
      int64_t n = 0;
      if (std::string why = set_count_of(row, "usage_amount", n); !why.empty()) return why;
      r.requests = n;
    } else {
      r.requests = 0;
    }
  }
  // The export has no row ids: one is made of the row's content (export_time aside, as a
  // re-export writes it anew) and its occurrence, so re-importing replaces and identical rows count.
  std::string content;
  for (const auto& [k, v] : row.fields())
    if (k != "export_time") content += k + '\x1f' + v + '\x1e';
  content += std::to_string(occurrence);
  out.id = "gcp:" + util::sha256_hex(content).substr(0, 32);
  r.id = out.id;
  return {};
}

// ---- reading ----------------------------------------------------------------------------------

namespace {

void emit(Format format, const FlatRow& row, const std::string& path, uint64_t line, std::string_view raw,
          const Defaults& defaults, RecordHandler& handler, SourceResult& res, std::map<std::string, uint64_t>& seen) {
  ++res.rows;
  MappedRow m;
  std::string why;
  if (format == Format::litellm) {
    why = map_litellm_row(row, m);
  } else {
    std::string key;
    for (const auto& [k, v] : row.fields())
      if (k != "export_time") key += k + '\x1f' + v + '\x1e';
    why = map_gcp_billing_row(row, seen[util::sha256_hex(key)]++, m);
  }
  Row r{path, line, raw};
  if (!why.empty()) return handler.on_reject(r, why);
  if (m.skip) {
    --res.rows;
    ++res.ignored;
    return;
  }
  if (std::string v = validate(m.record, true); !v.empty()) return handler.on_reject(r, v);
  defaults.apply(m.record);
  handler.on_record(m.record, r);
}

uint64_t line_at(std::string_view text, size_t offset) {
  return 1 + uint64_t(std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

}  // namespace

void read_gateway_export(const std::string& path, Format format, ReadBuffer& buf, const Defaults& defaults,
                         RecordHandler& handler, SourceResult& res) {
  size_t shift;
  if (buf.end() == 0) buf.refill(shift);
  std::string_view head(buf.data() + buf.begin(), buf.end() - buf.begin());
  while (!head.empty() && (head.front() == ' ' || head.front() == '\n' || head.front() == '\r' || head.front() == '\t' ||
                           head.front() == '\xef' || head.front() == '\xbb' || head.front() == '\xbf'))
    head.remove_prefix(1);
  std::map<std::string, uint64_t> seen;
  FlatRow row;
  if (!head.empty() && (head.front() == '{' || head.front() == '[')) {
    // JSON: an array of rows, or rows one per line. The whole file is read (exports of a month).
    while (buf.refill(shift)) {
    }
    const std::string_view text(buf.data() + buf.begin(), buf.end() - buf.begin());
    const size_t first = text.find_first_of("{[");
    simdjson::padded_string p(text);
    od::parser parser;
    auto one = [&](od::value v, size_t offset) {
      row.clear();
      if (v.type() != od::json_type::object) {
        ++res.rows;
        return handler.on_reject(Row{path, line_at(text, offset), {}}, "expected a JSON object per row");
      }
      flatten(v, "", row);
      emit(format, row, path, line_at(text, offset), {}, defaults, handler, res, seen);
    };
    try {
      if (text[first] == '[') {
        od::document doc = parser.iterate(p);
        for (auto e : doc.get_array()) {
          od::value v = e.value();
          const size_t off = size_t(v.raw_json_token().data() - p.data());
          one(v, off);
        }
      } else {
        size_t pos = 0;
        while (pos < text.size()) {
          size_t nl = text.find('\n', pos);
          if (nl == std::string_view::npos) nl = text.size();
          const std::string_view line = util::trim(text.substr(pos, nl - pos));
          if (!line.empty()) {
            simdjson::padded_string lp(line);
            try {
              od::document doc = parser.iterate(lp);
              one(doc.get_value(), pos);
            } catch (const simdjson::simdjson_error& e) {
              ++res.rows;
              handler.on_reject(Row{path, line_at(text, pos), line}, std::string("invalid JSON: ") + simdjson::error_message(e.error()));
            }
          }
          pos = nl + 1;
        }
      }
    } catch (const simdjson::simdjson_error& e) {
      throw DataError(path + ": invalid JSON: " + simdjson::error_message(e.error()));
    }
    buf.consume_to(buf.end());
    return;
  }
  // CSV with a header; JSON text in a cell (metadata, labels, credits) is flattened under its column.
  CsvReader csv(buf);
  if (csv.next() != CsvReader::Result::record) return;
  std::vector<std::string> header;
  for (std::string_view h : csv.fields()) header.push_back(key_of(h));
  for (;;) {
    const CsvReader::Result r = csv.next();
    if (r == CsvReader::Result::end) break;
    if (r == CsvReader::Result::error) {
      ++res.rows;
      handler.on_reject(Row{path, csv.line(), csv.raw()}, csv.error());
      continue;
    }
    const auto& f = csv.fields();
    if (f.size() != header.size()) {
      ++res.rows;
      handler.on_reject(Row{path, csv.line(), csv.raw()},
                        "expected " + std::to_string(header.size()) + " fields, found " + std::to_string(f.size()));
      continue;
    }
    row.clear();
    for (size_t i = 0; i < f.size(); ++i) {
      const std::string_view v = util::trim(f[i]);
      if (!v.empty() && (v.front() == '{' || v.front() == '[') && row.add_json(v, header[i])) continue;
      row.add(header[i], std::string(f[i]));
    }
    emit(format, row, path, csv.line(), csv.raw(), defaults, handler, res, seen);
  }
}

std::optional<Format> sniff_gateway(std::string_view head) {
  const bool litellm = head.find("request_id") != std::string_view::npos &&
                       head.find("startTime") != std::string_view::npos && head.find("spend") != std::string_view::npos;
  if (litellm) return Format::litellm;
  const bool gcp = head.find("usage_start_time") != std::string_view::npos && head.find("sku") != std::string_view::npos;
  if (gcp) return Format::gcp_billing;
  return std::nullopt;
}

}  // namespace billctl::ingest
