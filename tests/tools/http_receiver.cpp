// A local HTTP receiver for notification tests: listens on 127.0.0.1 (a free port, written to
// --port-file), appends every request as one JSON line to --log, and can answer with errors or
// delays.
//   http_receiver --port-file F --log F [--fail-first N] [--status CODE] [--delay-ms MS] [--retry-after S]
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  std::string port_file, log_file;
  int fail_first = 0, status = 500, delay_ms = 0, retry_after = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--port-file") port_file = v;
    else if (a == "--log") log_file = v;
    else if (a == "--fail-first") fail_first = std::stoi(v);
    else if (a == "--status") status = std::stoi(v);
    else if (a == "--delay-ms") delay_ms = std::stoi(v);
    else if (a == "--retry-after") retry_after = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (port_file.empty() || log_file.empty()) {
    std::fprintf(stderr, "usage: http_receiver --port-file F --log F [--fail-first N] [--status C] [--delay-ms MS]\n");
    return 2;
  }
  httplib::Server svr;
  std::mutex mu;
  std::atomic<int> seen{0};
  svr.Post(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    const int n = ++seen;
    {
      nlohmann::ordered_json j;
      j["n"] = n;
      j["path"] = req.path;
      j["content_type"] = req.get_header_value("Content-Type");
      j["authorization"] = req.get_header_value("Authorization");
      j["body"] = req.body;
      std::lock_guard<std::mutex> lock(mu);
      std::ofstream(log_file, std::ios::app) << j.dump() << "\n";
    }
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    if (n <= fail_first) {
      res.status = status;
      if (retry_after >= 0) res.set_header("Retry-After", std::to_string(retry_after));
      res.set_content("{\"error\":\"failing on purpose\"}", "application/json");
      return;
    }
    res.status = 200;
    res.set_content("{\"ok\":true}", "application/json");
  });
  const int port = svr.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "cannot bind 127.0.0.1\n");
    return 1;
  }
  {
    std::ofstream tmp(port_file + ".tmp");
    tmp << port << "\n";
  }
  std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  svr.listen_after_bind();
  return 0;
}
