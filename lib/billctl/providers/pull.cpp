#include "billctl/providers/pull.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "billctl/ingest/ingestor.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::providers {

std::string default_base_url(Provider p) {
  return p == Provider::openai ? "https://api.openai.com/v1" : "https://api.anthropic.com/v1";
}

namespace {

struct Endpoint {
  const char* path;
  std::vector<const char*> group_by;
  bool cost;  // daily buckets only
};

// The OpenAI organization usage endpoints and the costs endpoint (REFERENCE A1).
const std::vector<Endpoint>& openai_endpoints() {
  static const std::vector<Endpoint> k = {
      {"/organization/usage/completions", {"project_id", "user_id", "api_key_id", "model", "batch", "service_tier"}, false},
      {"/organization/usage/embeddings", {"project_id", "user_id", "api_key_id", "model"}, false},
      {"/organization/usage/moderations", {"project_id", "user_id", "api_key_id", "model"}, false},
      {"/organization/usage/images", {"project_id", "user_id", "api_key_id", "model", "source", "size"}, false},
      {"/organization/usage/audio_speeches", {"project_id", "user_id", "api_key_id", "model"}, false},
      {"/organization/usage/audio_transcriptions", {"project_id", "user_id", "api_key_id", "model"}, false},
      {"/organization/usage/vector_stores", {"project_id"}, false},
      {"/organization/usage/code_interpreter_sessions", {"project_id"}, false},
      {"/organization/usage/file_search_calls", {"project_id"}, false},
      {"/organization/usage/web_search_calls", {"project_id", "user_id", "api_key_id", "model", "context_level"}, false},
      {"/organization/costs", {"project_id", "line_item"}, true},
  };
  return k;
}

// The Anthropic Admin API usage and cost reports (REFERENCE B2, B3).
const std::vector<Endpoint>& anthropic_endpoints() {
  static const std::vector<Endpoint> k = {
      {"/organizations/usage_report/messages", {"api_key_id", "workspace_id", "model", "service_tier", "context_window"}, false},
      {"/organizations/cost_report", {"workspace_id", "description"}, true},
  };
  return k;
}

// The message of a provider's error body ({"error": {"message": ...}}), else the body's start.
std::string provider_message(const std::string& body) {
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.contains("error") && j["error"].is_object() && j["error"].contains("message") && j["error"]["message"].is_string())
      return j["error"]["message"].get<std::string>();
  } catch (const std::exception&) {
  }
  std::string s = body.substr(0, 200);
  return util::escape_controls(s);
}

bool retryable(const net::HttpResponse& r) {
  return !r.error.empty() || r.status == 408 || r.status == 409 || r.status == 429 || r.status >= 500;
}

std::string url_for(const PullOptions& o, const Endpoint& e, const std::string& page) {
  const bool oa = o.provider == Provider::openai;
  const std::string width = e.cost ? "1d" : o.bucket;
  const int limit = e.cost ? (oa ? 180 : 31) : (width == "1h" ? 168 : 31);
  std::string u = o.base_url + e.path + "?";
  if (oa) {
    u += "start_time=" + std::to_string(o.begin) + "&end_time=" + std::to_string(o.end);
  } else {
    u += "starting_at=" + net::url_encode(util::format_rfc3339(o.begin)) +
         "&ending_at=" + net::url_encode(util::format_rfc3339(o.end));
  }
  if (!(oa && e.cost)) u += "&bucket_width=" + width;
  u += "&limit=" + std::to_string(limit);
  for (const char* g : e.group_by) u += std::string(oa ? "&group_by=" : "&group_by%5B%5D=") + g;
  if (!page.empty()) u += "&page=" + net::url_encode(page);
  return u;
}

net::HttpResponse get_with_retries(const PullOptions& o, net::HttpClient& http, const std::string& url,
                                   const std::string& what) {
  net::HttpRequest req;
  req.url = url;
  req.timeout_ms = o.timeout_ms;
  if (o.provider == Provider::openai) {
    req.headers = {{"Authorization", "Bearer " + o.api_key}};
  } else {
    req.headers = {{"x-api-key", o.api_key}, {"anthropic-version", "2023-06-01"}};
  }
  req.headers.emplace_back("Accept", "application/json");
  const std::string name(provider_name(o.provider));
  net::HttpResponse res;
  int attempt = 1;
  for (;; ++attempt) {
    res = http.get(req);
    if (res.status == 401 || res.status == 403)
      throw Error(ExitCode::auth, name + " refused the admin key (HTTP " + std::to_string(res.status) + ": " +
                                      provider_message(res.body) + "); check " + o.key_name);
    if (res.ok()) return res;
    if (!retryable(res) || attempt >= o.max_attempts) break;
    // Retry-After when the provider gives one (capped), else exponential backoff from 1 s.
    long wait_s = res.retry_after_s >= 0 ? std::min(res.retry_after_s, 60L) : std::min(1L << (attempt - 1), 30L);
    std::this_thread::sleep_for(std::chrono::seconds(wait_s));
  }
  const std::string why = !res.error.empty() ? res.error
                                             : "HTTP " + std::to_string(res.status) + ": " + provider_message(res.body);
  throw DataError(name + ": GET " + what + " failed" +
                  (attempt > 1 ? " after " + std::to_string(attempt) + " attempts" : std::string()) + ": " + why +
                  "; nothing was stored");
}

void append(Page& into, Page&& p) {
  for (auto& r : p.records) into.records.push_back(std::move(r));
  for (auto& b : p.billed) into.billed.push_back(std::move(b));
  into.min_start = std::min(into.min_start, p.min_start);
  into.max_end = std::max(into.max_end, p.max_end);
}

}  // namespace

Page fetch(const PullOptions& o, net::HttpClient& http, int& pages) {
  Page all;
  int buckets = 0;
  const auto& endpoints = o.provider == Provider::openai ? openai_endpoints() : anthropic_endpoints();
  for (const Endpoint& e : endpoints) {
    std::string cursor;
    std::set<std::string> seen;  // a cursor that comes back would loop forever
    while (true) {
      const std::string url = url_for(o, e, cursor);
      const net::HttpResponse res = get_with_retries(o, http, url, e.path);
      Page p = parse_page(o.provider, res.body, o.mapping, std::string(provider_name(o.provider)) + " " + e.path);
      ++pages;
      if (p.max_end > p.min_start) buckets += int((p.max_end - p.min_start) / (e.cost || o.bucket == "1d" ? 86400 : 3600));
      const bool more = p.has_more && !p.next_page.empty();
      const std::string next = p.next_page;
      append(all, std::move(p));
      if (o.progress) o.progress(pages, buckets, all.records.size());
      if (!more) break;
      if (!seen.insert(next).second)
        throw DataError(std::string(provider_name(o.provider)) + ": GET " + e.path + " returned the page cursor '" + next +
                        "' twice; nothing was stored");
      cursor = next;
    }
  }
  return all;
}

namespace {

// Passes records on while adding up each day's price.
class DaySink : public ingest::RecordSink {
 public:
  explicit DaySink(ingest::RecordSink* inner) : m_inner(inner) {}
  void put(const usage::PricedRecord& r) override {
    DayChange& d = m_days[r.record->timestamp - r.record->timestamp % 86400];
    d.computed += r.cost;
    d.currency = r.record->currency;
    if (m_inner) m_inner->put(r);
  }
  void put_billed(const BilledLine& b) override {
    if (m_inner) m_inner->put_billed(b);
  }
  std::map<util::Seconds, DayChange>& days() { return m_days; }

 private:
  ingest::RecordSink* m_inner;
  std::map<util::Seconds, DayChange> m_days;
};

// A digest of everything pulled for one day: ids and values of records, keys and amounts of lines.
std::map<util::Seconds, std::string> day_digests(const Page& p) {
  std::map<util::Seconds, std::vector<std::string>> parts;
  for (const PulledRecord& r : p.records) {
    parts[r.timestamp - r.timestamp % 86400].push_back(
        r.id + '\x1f' + r.model + '\x1f' + r.organization + '\x1f' + r.department + '\x1f' + r.user + '\x1f' + r.feature +
        '\x1f' + r.project + '\x1f' + std::to_string(r.input_tokens) + ',' + std::to_string(r.cached_input_tokens) + ',' +
        std::to_string(r.cache_write_tokens) + ',' + std::to_string(r.cache_write_1h_tokens) + ',' +
        std::to_string(r.output_tokens) + ',' + std::to_string(r.requests) + ',' + r.quantity.to_string());
  }
  for (const BilledLine& b : p.billed)
    parts[b.day].push_back(b.key + '\x1f' + b.project + '\x1f' + b.amount.to_string() + b.currency.code);
  std::map<util::Seconds, std::string> out;
  for (auto& [day, v] : parts) {
    std::sort(v.begin(), v.end());
    std::string all;
    for (const auto& s : v) all += s + '\n';
    out[day] = util::sha256_hex(all);
  }
  return out;
}

}  // namespace

PullResult pull(const PullOptions& o, net::HttpClient& http, ingest::ImportStore& store, PullLog& log,
                const pricing::Catalog& catalog, util::Seconds now, bool dry_run) {
  PullResult out;
  out.begin = o.begin;
  out.end = o.end;
  const std::string name(provider_name(o.provider));
  Page page = fetch(o, http, out.pages);
  // Buckets outside the asked range (a provider snapping to its own boundaries) are not ours to replace.
  std::erase_if(page.records, [&](const PulledRecord& r) { return r.timestamp < o.begin || r.timestamp >= o.end; });
  std::erase_if(page.billed, [&](const BilledLine& b) { return b.day < o.begin || b.day >= o.end; });

  // Each day: what was pulled before, whether it changed, whether the provider may still revise it.
  std::map<util::Seconds, PullDay> before;
  for (PullDay& d : log.pull_days(name, o.begin, o.end)) before[d.day] = std::move(d);
  const auto digests = day_digests(page);
  const util::Seconds today = now - (now % 86400);
  const util::Seconds settle_from = today - util::Seconds(o.settle_days) * 86400;

  ingest::IngestOptions io;
  io.allow_unpriced = true;  // a model without a price is kept and reported, as reconcile shows it
  std::unique_ptr<ingest::ImportTxn> txn;
  if (!dry_run) txn = store.begin_import(catalog.info(), now);
  DaySink sink(txn.get());
  std::vector<std::string> keep;
  for (const PulledRecord& r : page.records) keep.push_back(r.id);
  std::sort(keep.begin(), keep.end());
  if (txn) out.removed = txn->remove_pulled(name, o.begin, o.end, keep);
  ingest::Ingestor ingestor(catalog, io, sink);
  const std::string source = name + " API " + util::format_date(util::day_of(o.begin)) + ".." +
                             util::format_date(util::day_of(o.end - 1)) + " (" + o.bucket + ")";
  const ingest::SourceStats& stats =
      ingestor.read_page(source, o.provider == Provider::openai ? ingest::Format::openai_api : ingest::Format::anthropic_api, page);
  out.records = stats.accepted;
  out.billed_lines = stats.billed;
  out.unpriced = stats.unpriced;
  std::set<std::string> unpriced;
  for (const PulledRecord& r : page.records)
    if (r.meter.empty() && !catalog.find(r.model, util::day_of(r.timestamp))) unpriced.insert(r.model);
  out.unpriced_models.assign(unpriced.begin(), unpriced.end());

  for (util::Seconds day = o.begin; day < o.end; day += 86400) {
    DayChange d = sink.days()[day];
    d.day = day;
    d.state = day >= settle_from ? "provisional" : "settled";
    for (const PulledRecord& r : page.records) d.records += r.timestamp - r.timestamp % 86400 == day;
    for (const BilledLine& b : page.billed)
      if (b.day == day) {
        ++d.billed_lines;
        d.billed += b.amount;
        d.currency = b.currency;
      }
    auto dg = digests.find(day);
    const std::string digest = dg == digests.end() ? util::sha256_hex("") : dg->second;
    auto prev = before.find(day);
    if (prev == before.end()) d.change = "new";
    else if (prev->second.digest == digest) d.change = "unchanged";
    else d.change = prev->second.state == "settled" ? "revised" : "updated";
    if (txn) txn->put_pull_day({name, day, d.state, digest, d.records, d.billed_lines, ""});
    out.days.push_back(std::move(d));
  }
  if (txn) {
    txn->log_source(stats);
    txn->set_pull_cursor(name, std::min(o.end, now));
    txn->commit();
    out.stored = true;
  }
  return out;
}

}  // namespace billctl::providers
