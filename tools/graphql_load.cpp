// A bounded load test for billctl serve (scripts/bench --serve): C concurrent clients send R
// GraphQL requests in all over keep-alive connections to a loopback server and report throughput
// and latency percentiles as one JSON line.
//   graphql-load --port P --token-file F --query Q [--clients 64] [--requests 20000]
// Debian builds libcpp-httplib with OpenSSL: the client classes must be declared as it built them.
#define CPPHTTPLIB_OPENSSL_SUPPORT
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int port = 0, clients = 64;
  long requests = 20000;
  std::string token_file, query;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--port") port = std::stoi(v);
    else if (a == "--token-file") token_file = v;
    else if (a == "--query") query = v;
    else if (a == "--clients") clients = std::stoi(v);
    else if (a == "--requests") requests = std::stol(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (!port || token_file.empty() || query.empty()) {
    std::fprintf(stderr, "usage: graphql-load --port P --token-file F --query Q [--clients N] [--requests N]\n");
    return 2;
  }
  std::string token;
  std::ifstream(token_file) >> token;
  const std::string body = nlohmann::json{{"query", query}}.dump();
  std::atomic<long> next{0}, errors{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(60, 0);
      httplib::Headers h{{"Authorization", "Bearer " + token}};
      while (next.fetch_add(1) < requests) {
        const auto s = std::chrono::steady_clock::now();
        auto res = cli.Post("/graphql", h, body, "application/json");
        // The server closes a keep-alive connection after some requests: a send that finds it
        // closed is sent again on a new one, as browsers and HTTP libraries do.
        if (!res) res = cli.Post("/graphql", h, body, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count();
        if (!res || res->status != 200 || res->body.find("\"errors\"") != std::string::npos) {
          if (errors.fetch_add(1) == 0)  // the first one, to say what went wrong
            std::fprintf(stderr, "graphql-load: %s\n",
                         res ? (std::to_string(res->status) + " " + res->body.substr(0, 300)).c_str() : httplib::to_string(res.error()).c_str());
        }
        latencies[size_t(c)].push_back(ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * double(all.size())))]; };
  nlohmann::json out{{"requests", all.size()}, {"clients", clients},   {"seconds", secs},        {"per_second", double(all.size()) / secs},
                     {"p50_ms", pct(0.50)},    {"p99_ms", pct(0.99)}, {"max_ms", all.empty() ? 0.0 : all.back()}, {"errors", errors.load()}};
  std::printf("%s\n", out.dump().c_str());
  return errors.load() ? 1 : 0;
}
