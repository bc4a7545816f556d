#include "billctl/providers/pages.hpp"

#include <simdjson.h>

#include <algorithm>
#include <unordered_map>

#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::providers {

namespace od = simdjson::ondemand;

namespace {
std::string to_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return s;
}
}  // namespace

std::string_view provider_name(Provider p) { return p == Provider::openai ? "openai" : "anthropic"; }

std::optional<Provider> parse_provider(std::string_view s) {
  if (s == "openai") return Provider::openai;
  if (s == "anthropic") return Provider::anthropic;
  return std::nullopt;
}

namespace {

void overlay(Attribution& a, const Attribution& b) {
  if (!b.organization.empty()) a.organization = b.organization;
  if (!b.department.empty()) a.department = b.department;
  if (!b.user.empty()) a.user = b.user;
  if (!b.feature.empty()) a.feature = b.feature;
  if (!b.project.empty()) a.project = b.project;
}

}  // namespace

Attribution Mapping::resolve(std::string_view project_id, std::string_view api_key_id, std::string_view user_id) const {
  Attribution a;
  a.organization = organization;
  a.project = std::string(project_id);
  a.user = std::string(user_id);
  if (auto it = projects.find(project_id); it != projects.end()) overlay(a, it->second);
  if (auto it = api_keys.find(api_key_id); !api_key_id.empty() && it != api_keys.end()) overlay(a, it->second);
  if (auto it = users.find(user_id); !user_id.empty() && it != users.end()) overlay(a, it->second);
  return a;
}

usage::UsageRecord PulledRecord::view() const {
  usage::UsageRecord r;
  r.id = id;
  r.timestamp = timestamp;
  r.provider = provider;
  r.model = model;
  r.organization = organization;
  r.department = department;
  r.user = user;
  r.feature = feature;
  r.project = project;
  r.input_tokens = input_tokens;
  r.cached_input_tokens = cached_input_tokens;
  r.cache_write_tokens = cache_write_tokens;
  r.cache_write_1h_tokens = cache_write_1h_tokens;
  r.output_tokens = output_tokens;
  r.requests = requests;
  r.tier = tier;
  r.context = context;
  r.meter = meter;
  r.unit = unit;
  r.quantity = quantity;
  return r;
}

namespace {

// A scalar of a result object: nested objects are flattened to dotted keys
// ("cache_creation.ephemeral_5m_input_tokens", "amount.value").
struct Scalar {
  od::json_type type = od::json_type::null;
  std::string text;  // string value unescaped, number as written, "true"/"false"
};
using Fields = std::unordered_map<std::string, Scalar>;

class PageParser {
 public:
  PageParser(Provider p, std::string_view text, const Mapping& m, const std::string& origin)
      : m_provider(p), m_text(text), m_map(m), m_origin(origin) {}

  Page run() {
    // Top-level values one after another (a page, an array of pages, or pages one per line).
    size_t i = 0;
    bool any = false;
    while (true) {
      while (i < m_text.size() && is_space(m_text[i])) ++i;
      if (i >= m_text.size()) break;
      const size_t end = value_end(i);
      parse_document(i, end);
      any = true;
      i = end;
    }
    if (!any) fail(1, "no API page in the file");
    return std::move(m_page);
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  uint64_t line_at(size_t offset) const {
    return 1 + uint64_t(std::count(m_text.begin(), m_text.begin() + std::min(offset, m_text.size()), '\n'));
  }
  [[noreturn]] void fail(uint64_t line, const std::string& why) const {
    throw DataError(m_origin + ":" + std::to_string(line) + ": " + why);
  }

  // The end of the JSON value starting at `i` (matching brackets outside strings).
  size_t value_end(size_t i) const {
    if (m_text[i] != '{' && m_text[i] != '[') fail(line_at(i), "expected a JSON object (an API page)");
    int depth = 0;
    bool in_str = false;
    for (size_t j = i; j < m_text.size(); ++j) {
      const char c = m_text[j];
      if (in_str) {
        if (c == '\\') ++j;
        else if (c == '"') in_str = false;
        continue;
      }
      if (c == '"') in_str = true;
      else if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return j + 1;
    }
    fail(line_at(i), "invalid JSON: the page is not closed");
  }

  void parse_document(size_t begin, size_t end) {
    m_base = begin;
    simdjson::padded_string doc_text(m_text.substr(begin, end - begin));
    od::parser parser;
    try {
      od::document doc = parser.iterate(doc_text);
      m_doc_start = doc_text.data();
      if (doc.type() == od::json_type::array) {
        for (auto v : doc.get_array()) page(v.get_object());
      } else {
        page(doc.get_object());
      }
    } catch (const simdjson::simdjson_error& e) {
      fail(line_at(begin), std::string("invalid JSON: ") + simdjson::error_message(e.error()));
    }
  }

  uint64_t line_of(const char* p) const { return line_at(m_base + size_t(p - m_doc_start)); }

  void page(od::object obj) {
    bool saw_data = false;
    for (auto field : obj) {
      const std::string_view key = field.unescaped_key();
      od::value v = field.value();
      if (key == "data") {
        saw_data = true;
        for (auto b : v.get_array()) {
          od::value bv = b.value();
          m_line = line_of(bv.raw_json_token().data());
          bucket(bv.get_object());
        }
      } else if (key == "has_more") {
        m_page.has_more = v.type() == od::json_type::boolean && bool(v.get_bool());
      } else if (key == "next_page") {
        if (v.type() == od::json_type::string) m_page.next_page = std::string(std::string_view(v.get_string()));
        else m_page.next_page.clear();
      } else if (key == "error" && v.type() == od::json_type::object) {
        od::object eo = v.get_object();
        std::string_view raw = eo.raw_json();
        fail(m_line, "the page is an API error, not usage: " + std::string(raw.substr(0, 300)));
      }
    }
    if (!saw_data) fail(m_line, "not a " + std::string(provider_name(m_provider)) + " API page: no \"data\" array");
  }

  util::Seconds bucket_time(od::value v, const char* name) {
    if (m_provider == Provider::openai) {
      int64_t t = 0;
      if (v.type() != od::json_type::number || v.get_int64().get(t) != simdjson::SUCCESS)
        fail(m_line, std::string("invalid ") + name + ": expected Unix seconds");
      return t;
    }
    std::string_view s;
    if (v.type() != od::json_type::string || v.get_string().get(s) != simdjson::SUCCESS)
      fail(m_line, std::string("invalid ") + name + ": expected an RFC 3339 time");
    auto t = util::parse_rfc3339(s);
    if (!t) fail(m_line, std::string("invalid ") + name + " '" + std::string(s) + "': " + t.error());
    return *t;
  }

  void bucket(od::object obj) {
    const bool oa = m_provider == Provider::openai;
    util::Seconds start = INT64_MIN, end = INT64_MIN;
    std::vector<std::pair<Fields, uint64_t>> results;
    for (auto field : obj) {
      const std::string_view key = field.unescaped_key();
      od::value v = field.value();
      if (key == (oa ? "start_time" : "starting_at")) start = bucket_time(v, oa ? "start_time" : "starting_at");
      else if (key == (oa ? "end_time" : "ending_at")) end = bucket_time(v, oa ? "end_time" : "ending_at");
      else if (key == "results" || key == "result") {
        for (auto r : v.get_array()) {
          od::value rv = r.value();
          const uint64_t line = line_of(rv.raw_json_token().data());
          od::object ro = rv.get_object();
          Fields f;
          flatten(ro, "", f);
          results.emplace_back(std::move(f), line);
        }
      }
    }
    if (start == INT64_MIN) fail(m_line, oa ? "bucket without start_time" : "bucket without starting_at");
    if (end == INT64_MIN) end = start + 86400;
    if (end <= start) fail(m_line, "bucket ends before it starts");
    m_page.min_start = std::min(m_page.min_start, start);
    m_page.max_end = std::max(m_page.max_end, end);
    for (auto& [f, line] : results) {
      m_line = line;
      if (oa) openai_result(f, start, end);
      else anthropic_result(f, start, end);
    }
  }

  void flatten(od::object obj, const std::string& prefix, Fields& out) {
    for (auto field : obj) {
      const std::string key = prefix + std::string(std::string_view(field.unescaped_key()));
      od::value v = field.value();
      Scalar s;
      s.type = v.type();
      switch (s.type) {
        case od::json_type::object: flatten(v.get_object(), key + ".", out); continue;
        case od::json_type::array: continue;  // no array carries usage
        case od::json_type::string: s.text = std::string(std::string_view(v.get_string())); break;
        case od::json_type::number: {
          std::string_view t = v.raw_json_token();
          while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
          s.text = std::string(t);
          break;
        }
        case od::json_type::boolean: s.text = bool(v.get_bool()) ? "true" : "false"; break;
        case od::json_type::null: break;
      }
      out[key] = std::move(s);
    }
  }

  // ---- field access ----

  static std::string text(const Fields& f, const std::string& k) {
    auto it = f.find(k);
    return it == f.end() || it->second.type == od::json_type::null ? std::string() : it->second.text;
  }
  static bool has(const Fields& f, const std::string& k) {
    auto it = f.find(k);
    return it != f.end() && it->second.type != od::json_type::null;
  }
  int64_t count(const Fields& f, const std::string& k) const {
    auto it = f.find(k);
    if (it == f.end() || it->second.type == od::json_type::null) return 0;
    const std::string& t = it->second.text;
    int64_t n = 0;
    if (it->second.type != od::json_type::number || !util::parse_u63(t, n))
      fail(m_line, "invalid " + k + " '" + t + "': expected a count");
    return n;
  }
  money::Decimal decimal(const Fields& f, const std::string& k) const {
    const std::string t = text(f, k);
    auto d = money::Decimal::parse(t);
    if (!d) fail(m_line, "invalid " + k + " '" + t + "': " + d.error());
    return *d;
  }

  static std::string group_key(std::initializer_list<std::string> parts) {
    std::string k;
    for (const auto& p : parts) {
      if (!k.empty()) k += '|';
      k += p;
    }
    return k;
  }

  PulledRecord& new_record(const std::string& kind, util::Seconds start, util::Seconds end, const std::string& group,
                           const Attribution& a) {
    PulledRecord& r = m_page.records.emplace_back();
    r.id = std::string(provider_name(m_provider));
    r.id += '/';
    r.id += kind;
    r.id += '/';
    r.id += util::format_rfc3339(start);
    r.id += '/';
    r.id += util::format_rfc3339(end);
    r.id += '/';
    r.id += group;
    r.provider = std::string(provider_name(m_provider));
    r.timestamp = start;
    r.organization = a.organization;
    r.department = a.department;
    r.user = a.user;
    r.feature = a.feature;
    r.project = a.project;
    r.line = m_line;
    return r;
  }

  // ---- OpenAI ----

  void openai_result(const Fields& f, util::Seconds start, util::Seconds end) {
    std::string object = text(f, "object");
    if (object == "organization.costs.result") return openai_cost(f, start);
    const std::string prefix = "organization.usage.";
    if (object.rfind(prefix, 0) != 0 || object.size() < prefix.size() + 8 || !util::ends_with(object, ".result"))
      fail(m_line, "unknown result object '" + object + "'");
    const std::string kind = object.substr(prefix.size(), object.size() - prefix.size() - 7);
    const std::string project = text(f, "project_id"), user = text(f, "user_id"), key = text(f, "api_key_id");
    const std::string model = text(f, "model"), batch = text(f, "batch"), tier = text(f, "service_tier");
    const Attribution a = m_map.resolve(project, key, user);
    std::string group = group_key({project, user, key, model, batch, tier, text(f, "source"), text(f, "size"),
                                   text(f, "vector_store_id"), text(f, "context_level")});
    const int64_t model_requests = count(f, "num_model_requests");
    if (kind == "completions" || kind == "embeddings" || kind == "moderations") {
      const int64_t input = count(f, "input_tokens"), cached = count(f, "input_cached_tokens");
      const int64_t written = count(f, "input_cache_write_tokens"), output = count(f, "output_tokens");
      if (input == 0 && output == 0 && model_requests == 0) return;
      if (model.empty()) fail(m_line, "a " + kind + " result without a model (pull with group_by=model)");
      PulledRecord& r = new_record(kind, start, end, group, a);
      r.model = model;
      // input_tokens includes cached and cache-write tokens (REFERENCE A3).
      int64_t uncached = 0;
      if (has(f, "input_uncached_tokens")) uncached = count(f, "input_uncached_tokens");
      else uncached = input - cached - written;
      if (uncached < 0)
        fail(m_line, "input_tokens " + std::to_string(input) + " is less than its cached and cache-write parts");
      r.input_tokens = uncached;
      r.cached_input_tokens = cached;
      r.cache_write_tokens = written;
      r.output_tokens = output;
      r.requests = model_requests;
      r.tier = batch == "true" ? usage::Tier::batch : tier == "flex" ? usage::Tier::flex
                               : tier == "priority"                 ? usage::Tier::priority
                                                                    : usage::Tier::standard;
      return;
    }
    struct MeterOf {
      const char* kind;
      const char* field;
      const char* meter;
      const char* unit;
    };
    static constexpr MeterOf k_meters[] = {
        {"images", "images", "images", "images"},
        {"audio_speeches", "characters", "audio_characters", "characters"},
        {"audio_transcriptions", "seconds", "audio_seconds", "seconds"},
        {"vector_stores", "usage_bytes", "vector_store_bytes", "bytes"},
        {"code_interpreter_sessions", "num_sessions", "code_interpreter_sessions", "sessions"},
        {"file_searches", "num_requests", "file_search_calls", "calls"},
        {"web_searches", "num_requests", "web_search_calls", "calls"},
    };
    for (const MeterOf& m : k_meters) {
      if (kind != m.kind) continue;
      const int64_t q = count(f, m.field);
      if (q == 0 && model_requests == 0) return;
      PulledRecord& r = new_record(kind, start, end, group, a);
      r.model = model;
      r.meter = m.meter;
      r.unit = m.unit;
      r.quantity = money::Decimal::from_int(q);
      r.requests = model_requests;
      return;
    }
    fail(m_line, "unknown usage kind '" + kind + "'");
  }

  void openai_cost(const Fields& f, util::Seconds start) {
    const std::string project = text(f, "project_id"), item = text(f, "line_item"), key = text(f, "api_key_id");
    BilledLine b;
    b.provider = "openai";
    b.day = start - start % 86400;
    b.key = group_key({project, item, key});
    b.project = m_map.resolve(project, key, "").project;
    b.line_item = item;
    // "gpt-5-mini-2025-08-07, input": a model and a token class, when the line item says so.
    if (const size_t comma = item.find(", "); comma != std::string::npos) {
      b.model = item.substr(0, comma);
      b.token_type = token_class(util::to_lower(item.substr(comma + 2)));
    }
    b.amount = decimal(f, "amount.value");
    std::string cur = to_upper(text(f, "amount.currency"));
    if (cur.empty()) cur = "USD";
    auto c = money::find_currency(cur);
    if (!c) fail(m_line, "invalid amount.currency '" + cur + "': " + c.error());
    b.currency = *c;
    b.line = m_line;
    m_page.billed.push_back(std::move(b));
  }

  static std::string token_class(const std::string& s) {
    if (s == "input" || s == "input tokens" || s == "uncached_input_tokens") return "input";
    if (s == "cached input" || s == "cached_input" || s == "cache_read_input_tokens" || s == "input_cached_tokens")
      return "cached_input";
    if (s == "cache write" || s == "cache_creation.ephemeral_5m_input_tokens") return "cache_write_5m";
    if (s == "cache_creation.ephemeral_1h_input_tokens") return "cache_write_1h";
    if (s == "output" || s == "output tokens" || s == "output_tokens") return "output";
    return s;
  }

  // ---- Anthropic ----

  void anthropic_result(const Fields& f, util::Seconds start, util::Seconds end) {
    if (has(f, "amount")) return anthropic_cost(f, start);
    std::string workspace = text(f, "workspace_id");
    if (workspace.empty()) workspace = "default";  // null: the organization's default workspace
    const std::string key = text(f, "api_key_id"), model = text(f, "model"), tier = text(f, "service_tier");
    const std::string ctx = text(f, "context_window"), geo = text(f, "inference_geo"), speed = text(f, "speed");
    const Attribution a = m_map.resolve(workspace, key, "");
    const std::string group = group_key({workspace, key, model, tier, ctx, geo, speed});
    const int64_t input = count(f, "uncached_input_tokens"), read = count(f, "cache_read_input_tokens");
    const int64_t w5 = count(f, "cache_creation.ephemeral_5m_input_tokens");
    const int64_t w1 = count(f, "cache_creation.ephemeral_1h_input_tokens"), output = count(f, "output_tokens");
    const int64_t searches = count(f, "server_tool_use.web_search_requests");
    if (input || read || w5 || w1 || output) {
      if (model.empty()) fail(m_line, "a usage result without a model (pull with group_by[]=model)");
      PulledRecord& r = new_record("messages", start, end, group, a);
      r.model = model;
      r.input_tokens = input;
      r.cached_input_tokens = read;
      r.cache_write_tokens = w5;
      r.cache_write_1h_tokens = w1;
      r.output_tokens = output;
      r.requests = 0;  // the usage report has no request counts
      r.tier = tier == "batch" ? usage::Tier::batch
               : (tier == "priority" || tier == "priority_on_demand") ? usage::Tier::priority
               : (tier == "flex" || tier == "flex_discount")          ? usage::Tier::flex
                                                                      : usage::Tier::standard;
      // A bucket has no per-request figures: the context window group says which rates apply.
      r.context = ctx == "200k-1M" ? usage::Context::long_context : usage::Context::standard;
    }
    if (searches) {
      PulledRecord& r = new_record("web_search", start, end, group, a);
      r.model = model;
      r.meter = "web_search_requests";
      r.unit = "requests";
      r.quantity = money::Decimal::from_int(searches);
    }
  }

  void anthropic_cost(const Fields& f, util::Seconds start) {
    std::string workspace = text(f, "workspace_id");
    if (workspace.empty()) workspace = "default";
    BilledLine b;
    b.provider = "anthropic";
    b.day = start - start % 86400;
    b.model = text(f, "model");
    b.line_item = text(f, "description");
    const std::string type = text(f, "token_type"), cost_type = text(f, "cost_type");
    b.token_type = type.empty() ? cost_type : token_class(type);
    b.key = group_key({workspace, b.line_item, b.model, text(f, "service_tier"), text(f, "context_window"), type,
                       cost_type, text(f, "inference_geo")});
    b.project = m_map.resolve(workspace, "", "").project;
    // A decimal string in the currency's lowest units: "123.45" USD is $1.2345.
    b.amount = decimal(f, "amount").div_int(100);
    std::string cur = to_upper(text(f, "currency"));
    if (cur.empty()) cur = "USD";
    auto c = money::find_currency(cur);
    if (!c) fail(m_line, "invalid currency '" + cur + "': " + c.error());
    b.currency = *c;
    b.line = m_line;
    m_page.billed.push_back(std::move(b));
  }

  Provider m_provider;
  std::string_view m_text;
  const Mapping& m_map;
  const std::string& m_origin;
  Page m_page;
  size_t m_base = 0;
  const char* m_doc_start = nullptr;
  uint64_t m_line = 1;
};

}  // namespace

Page parse_page(Provider p, std::string_view json, const Mapping& mapping, const std::string& origin) {
  return PageParser(p, json, mapping, origin).run();
}

std::optional<Provider> sniff_page(std::string_view head) {
  if (head.find("\"results\"") == std::string_view::npos && head.find("\"data\"") == std::string_view::npos)
    return std::nullopt;
  const size_t oa = std::min(head.find("\"start_time\""), head.find("\"object\": \"page\""));
  const size_t an = head.find("\"starting_at\"");
  if (oa == std::string_view::npos && an == std::string_view::npos) {
    if (head.find("\"object\":\"page\"") != std::string_view::npos) return Provider::openai;
    return std::nullopt;
  }
  return oa < an ? Provider::openai : Provider::anthropic;
}

}  // namespace billctl::providers
