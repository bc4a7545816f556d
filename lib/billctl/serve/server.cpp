#define CPPHTTPLIB_OPENSSL_SUPPORT
#include "billctl/serve/server.hpp"

#include <httplib.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <mutex>

#include "billctl/util/error.hpp"
#include "billctl/util/time.hpp"

namespace billctl::serve {

namespace {

util::Seconds wall_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void json_reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

}  // namespace

struct Server::Impl {
  Services& services;
  Authority& authority;
  ServerOptions options;
  std::ostream& log;
  std::unique_ptr<graphql::Schema> schema;
  std::unique_ptr<httplib::Server> http;
  std::mutex store_mutex;  // one request at a time on the store
  std::mutex log_mutex;
  std::atomic<bool> stopping{false};
  std::atomic<int> streams{0};

  Impl(Services& s, Authority& a, const ServerOptions& o, std::ostream& l)
      : services(s), authority(a), options(o), log(l), schema(billing_schema(s)) {}

  // One line per request: time, peer, method, path, status, milliseconds, who. Never a token,
  // secret or body.
  void access_log(const httplib::Request& req, int status, const std::string& who, std::chrono::steady_clock::time_point t0) {
    auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count() / 1000.0;
    graphql::Json j;
    j["time"] = util::format_rfc3339(wall_now());
    j["peer"] = req.remote_addr;
    j["method"] = req.method;
    j["path"] = req.path;
    j["status"] = status;
    j["ms"] = ms;
    if (!who.empty()) j["subject"] = who;
    std::lock_guard<std::mutex> lock(log_mutex);
    log << j.dump() << "\n" << std::flush;
  }

  // A subscription over Server-Sent Events: an event "next" per tick until the client goes or the
  // server stops ("complete"). Streams hold a worker each, so at most half the workers stream.
  void subscribe(const httplib::Request& req, httplib::Response& res, std::shared_ptr<graphql::Prepared> prepared,
                 const Caller& caller, std::chrono::steady_clock::time_point t0) {
    if (req.get_header_value("Accept").find("text/event-stream") == std::string::npos) {
      graphql::Json body;
      body["errors"] = graphql::Json::array(
          {graphql::error_entry("a subscription is served as Server-Sent Events: send Accept: text/event-stream", {}, "BAD_REQUEST")});
      json_reply(res, 400, body.dump());
      access_log(req, 400, caller.subject, t0);
      return;
    }
    if (streams.fetch_add(1) >= std::max(1, options.threads / 2)) {
      streams.fetch_sub(1);
      graphql::Json body;
      body["errors"] = graphql::Json::array({graphql::error_entry("too many open subscriptions; try again later", {}, "UNAVAILABLE")});
      res.set_header("Retry-After", "10");
      json_reply(res, 503, body.dump());
      access_log(req, 503, caller.subject, t0);
      return;
    }
    graphql::Json args = prepared->root_arguments();
    int64_t interval = args.contains("interval") && args["interval"].is_number_integer() ? args["interval"].get<int64_t>() : 5;
    if (interval < 1 || interval > 3600) {
      streams.fetch_sub(1);
      graphql::Json body;
      body["errors"] = graphql::Json::array({graphql::error_entry("interval must be 1 to 3600 seconds", {}, "BAD_USER_INPUT")});
      json_reply(res, 400, body.dump());
      access_log(req, 400, caller.subject, t0);
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // a reverse proxy must not hold the events back
    access_log(req, 200, caller.subject, t0);
    auto next_at = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, prepared, caller, interval, next_at](size_t, httplib::DataSink& sink) {
          while (std::chrono::steady_clock::now() < *next_at) {
            if (stopping) {
              const std::string done = "event: complete\ndata:\n\n";
              sink.write(done.data(), done.size());
              sink.done();
              return true;
            }
            if (!sink.is_writable()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          graphql::Json tick;
          {
            std::lock_guard<std::mutex> lock(store_mutex);
            tick = prepared->run(const_cast<Caller*>(&caller));
          }
          const std::string event = "event: next\ndata: " + tick.dump() + "\n\n";
          *next_at += std::chrono::seconds(interval);
          return sink.write(event.data(), event.size());
        },
        [this](bool) { streams.fetch_sub(1); });
  }

  void routes() {
    http->Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      res.set_content("ok\n", "text/plain");
      access_log(req, 200, "", t0);
    });
    http->Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      try {
        std::lock_guard<std::mutex> lock(store_mutex);
        services.access->list_clients();
        res.set_content("ready\n", "text/plain");
      } catch (const std::exception& e) {
        res.status = 503;
        res.set_content(std::string("not ready: ") + e.what() + "\n", "text/plain");
      }
      access_log(req, res.status, "", t0);
    });
    http->Get("/.well-known/jwks.json", [this](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      json_reply(res, 200, authority.jwks().dump());
      access_log(req, 200, "", t0);
    });
    http->Post("/oauth/token", [this](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      TokenReply r;
      {
        std::lock_guard<std::mutex> lock(store_mutex);
        r = authority.token(req.body, req.get_header_value("Authorization"), services.now());
      }
      if (!r.www_authenticate.empty()) res.set_header("WWW-Authenticate", r.www_authenticate);
      res.set_header("Pragma", "no-cache");
      json_reply(res, r.status, r.body.dump());
      access_log(req, r.status, r.client, t0);
    });
    http->Post("/graphql", [this](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      Caller caller;
      try {
        caller = authority.authenticate(req.get_header_value("Authorization"), services.now());
      } catch (const TokenError& e) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"billctl\", error=\"invalid_token\"");
        graphql::Json body;
        body["errors"] = graphql::Json::array({graphql::error_entry(std::string("unauthenticated: ") + e.what(), {}, "UNAUTHENTICATED")});
        json_reply(res, 401, body.dump());
        access_log(req, 401, "", t0);
        return;
      }
      graphql::Json body;
      int status = 200;
      try {
        graphql::Request r = graphql::request_from_json(req.body);
        // Parsing, validation and limits need no store: only running the operation takes turns.
        std::shared_ptr<graphql::Prepared> prepared;
        try {
          prepared = std::make_shared<graphql::Prepared>(*schema, r, options.limits);
        } catch (const graphql::RequestError&) {
          body = graphql::execute(*schema, r, options.limits, &caller);  // the same errors, all of them
        }
        if (prepared && prepared->kind() == graphql::Operation::Kind::subscription) {
          subscribe(req, res, prepared, caller, t0);
          return;
        }
        if (prepared) {
          std::lock_guard<std::mutex> lock(store_mutex);
          body = prepared->run(&caller);
        }
      } catch (const graphql::RequestError& e) {
        status = 400;
        body["errors"] = graphql::Json::array({graphql::error_entry(e.what(), e.locations, e.code)});
      } catch (const std::exception& e) {
        status = 500;
        body["errors"] = graphql::Json::array({graphql::error_entry("internal error", {}, "INTERNAL_SERVER_ERROR")});
        std::lock_guard<std::mutex> lock(log_mutex);
        log << "billctl serve: error: " << e.what() << "\n";
      }
      json_reply(res, status, body.dump());
      access_log(req, status, caller.subject, t0);
    });
    http->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      auto t0 = std::chrono::steady_clock::now();
      graphql::Json body;
      std::string why = res.status == 413 ? "the request body is larger than the limit" : res.status == 404 ? "no such path" : "bad request";
      body["errors"] = graphql::Json::array({graphql::error_entry(why, {}, res.status == 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST")});
      res.set_content(body.dump(), "application/json");
      access_log(req, res.status, "", t0);
    });
  }
};

Server::Server(Services& services, Authority& authority, const ServerOptions& options, std::ostream& log)
    : m(std::make_unique<Impl>(services, authority, options, log)) {
  if (options.tls_cert.empty() != options.tls_key.empty()) throw UsageError("--tls-cert and --tls-key go together");
  if (!options.tls_cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!ssl->is_valid()) throw DataError("cannot use the TLS certificate " + options.tls_cert + " with key " + options.tls_key);
    m->http = std::move(ssl);
  } else {
    m->http = std::make_unique<httplib::Server>();
  }
  const int threads = std::max(1, options.threads);
  m->http->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  m->http->set_payload_max_length(options.max_body);
  m->http->set_read_timeout(options.timeout_seconds, 0);
  m->http->set_write_timeout(options.timeout_seconds, 0);
  // A keep-alive connection holds its worker: after 20 requests (or 2 s idle) it yields to waiting ones.
  m->http->set_tcp_nodelay(true);  // small answers go out at once, not after the peer's delayed ACK
  m->http->set_keep_alive_max_count(20);
  m->http->set_keep_alive_timeout(2);
  m->routes();
}

Server::~Server() = default;

bool Server::tls() const { return !m->options.tls_cert.empty(); }

int Server::bind() {
  int port = m->options.port;
  if (port == 0) {
    port = m->http->bind_to_any_port(m->options.host);
    if (port < 0) throw DataError("cannot listen on " + m->options.host);
  } else if (!m->http->bind_to_port(m->options.host, port)) {
    throw DataError(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", m->options.host, port));
  }
  return port;
}

void Server::run() {
  m->http->listen_after_bind();
}

void Server::stop() {
  m->stopping = true;  // open streams end with "complete" before the workers are joined
  m->http->stop();
}

}  // namespace billctl::serve
