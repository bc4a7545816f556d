// A local stand-in for the providers' billing APIs (tests only): serves the OpenAI organization
// Usage and Costs endpoints and the Anthropic Admin usage and cost reports from dataset files
// (tests/fixtures/providers/*.json, written by provider_fixtures.py), with their pagination and
// their faults. Listens on 127.0.0.1 (a free port, written to --port-file); logs every request as
// one JSON line to --log. The dataset files are re-read on every request, so a test can swap in a
// revised dataset between two pulls.
//   mock_provider --port-file F --log F --openai FILE --anthropic FILE [--page-size N]
//                 [--openai-key K] [--anthropic-key K] [--faults N:KIND,...] [--always KIND]
// KIND: 429 (with Retry-After: 1), 500, 401, drop (the connection closes mid-body).
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

using nlohmann::ordered_json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t unix_of(const std::string& rfc3339) {
  // 2026-10-25T00:00:00Z only (what billctl sends).
  std::tm tm{};
  if (sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t(timegm(&tm));
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file, log_file, openai_file, anthropic_file, openai_key, anthropic_key, always;
  std::map<int, std::string> faults;
  size_t page_size = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--port-file") port_file = v;
    else if (a == "--log") log_file = v;
    else if (a == "--openai") openai_file = v;
    else if (a == "--anthropic") anthropic_file = v;
    else if (a == "--openai-key") openai_key = v;
    else if (a == "--anthropic-key") anthropic_key = v;
    else if (a == "--page-size") page_size = size_t(std::stoul(v));
    else if (a == "--always") always = v;
    else if (a == "--faults") {
      std::stringstream ss(v);
      std::string item;
      while (std::getline(ss, item, ',')) {
        const auto colon = item.find(':');
        if (colon != std::string::npos) faults[std::stoi(item.substr(0, colon))] = item.substr(colon + 1);
      }
    } else {
      std::fprintf(stderr, "mock_provider: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (port_file.empty() || log_file.empty()) {
    std::fprintf(stderr, "usage: mock_provider --port-file F --log F --openai FILE --anthropic FILE ...\n");
    return 2;
  }
  httplib::Server svr;
  std::mutex mu;
  std::atomic<int> seen{0};

  auto handle = [&](const httplib::Request& req, httplib::Response& res, bool openai) {
    const int n = ++seen;
    {
      ordered_json j;
      j["n"] = n;
      j["path"] = req.path;
      ordered_json params = ordered_json::object();
      for (const auto& [k, v] : req.params) params[k].push_back(v);
      j["params"] = params;
      j["authorized"] = openai ? req.get_header_value("Authorization") == "Bearer " + openai_key
                               : req.get_header_value("x-api-key") == anthropic_key;
      j["anthropic_version"] = req.get_header_value("anthropic-version");
      std::lock_guard<std::mutex> lock(mu);
      std::ofstream(log_file, std::ios::app) << j.dump() << "\n";
    }
    std::string fault = always;
    if (auto it = faults.find(n); it != faults.end()) fault = it->second;
    const bool authorized = openai ? req.get_header_value("Authorization") == "Bearer " + openai_key
                                   : req.get_header_value("x-api-key") == anthropic_key;
    if (fault == "401" || !authorized) {
      res.status = 401;
      res.set_content(openai ? R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}})"
                             : R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})",
                      "application/json");
      return;
    }
    if (fault == "429") {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(openai ? R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})"
                             : R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}})",
                      "application/json");
      return;
    }
    if (fault == "500") {
      res.status = 500;
      res.set_header("Retry-After", "0");
      res.set_content(openai ? R"({"error":{"message":"The server had an error while processing your request.","type":"server_error"}})"
                             : R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})",
                      "application/json");
      return;
    }
    // The dataset key: the last path segment (completions, costs, messages, cost_report).
    std::string kind = req.path.substr(req.path.rfind('/') + 1);
    const ordered_json data = ordered_json::parse(read_file(openai ? openai_file : anthropic_file));
    const int64_t start = openai ? std::stoll(req.get_param_value("start_time"))
                                 : unix_of(req.get_param_value("starting_at"));
    const std::string end_text = req.get_param_value(openai ? "end_time" : "ending_at");
    const int64_t end = end_text.empty() ? INT64_MAX : openai ? std::stoll(end_text) : unix_of(end_text);
    std::vector<ordered_json> buckets;
    // Endpoints without a dataset have no usage: empty pages.
    for (const auto& b : data.contains(kind) ? data[kind] : ordered_json::array()) {
      const int64_t t = openai ? b["start_time"].get<int64_t>() : unix_of(b["starting_at"].get<std::string>());
      if (t >= start && t < end) buckets.push_back(b);
    }
    size_t limit = req.has_param("limit") ? size_t(std::stoul(req.get_param_value("limit"))) : 7;
    if (page_size) limit = page_size;
    size_t from = 0;
    if (req.has_param("page")) from = size_t(std::stoul(req.get_param_value("page").substr(5)));
    ordered_json page;
    if (openai) page["object"] = "page";
    page["data"] = ordered_json::array();
    for (size_t i = from; i < buckets.size() && i < from + limit; ++i) page["data"].push_back(buckets[i]);
    const bool more = from + limit < buckets.size();
    page["has_more"] = more;
    page["next_page"] = more ? ordered_json("page_" + std::to_string(from + limit)) : ordered_json(nullptr);
    const std::string body = page.dump(1);
    if (fault == "drop") {
      // Promise the whole body, send half of it, and close the connection. A server that always
      // drops asks for immediate retries (so that tests do not wait through the backoff).
      if (!always.empty()) res.set_header("Retry-After", "0");
      res.set_content_provider(body.size(), "application/json", [body](size_t offset, size_t, httplib::DataSink& sink) {
        if (offset == 0) sink.write(body.data(), body.size() / 2);
        return false;
      });
      return;
    }
    res.status = 200;
    res.set_content(body, "application/json");
  };
  svr.Get(R"(/v1/organization/.*)", [&](const httplib::Request& q, httplib::Response& r) { handle(q, r, true); });
  svr.Get(R"(/v1/organizations/.*)", [&](const httplib::Request& q, httplib::Response& r) { handle(q, r, false); });

  const int port = svr.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "mock_provider: cannot bind\n");
    return 1;
  }
  {
    std::ofstream(port_file + ".tmp") << port << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  svr.listen_after_bind();
  return 0;
}
