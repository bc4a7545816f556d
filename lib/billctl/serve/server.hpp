// billctl serve's HTTP side (cpp-httplib, TLS through OpenSSL): POST /graphql, POST /oauth/token,
// GET /.well-known/jwks.json, /healthz and /readyz, on a bounded pool of workers, with request size
// and time limits, an access log without secrets, and a graceful stop (in-flight requests finish).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "billctl/graphql/execute.hpp"
#include "billctl/serve/api.hpp"
#include "billctl/serve/auth.hpp"

namespace billctl::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;  // 0: any free port (tests)
  std::string tls_cert, tls_key;  // both or neither
  int threads = 64;
  size_t max_body = 1024 * 1024;
  int timeout_seconds = 30;  // reading and writing one request
  graphql::Limits limits;
};

class Server {
 public:
  // `services` are used by one request at a time (the store is one SQLite connection).
  Server(Services& services, Authority& authority, const ServerOptions& options, std::ostream& log);
  ~Server();
  // Binds the address; throws DataError naming it when that fails. Returns the port.
  int bind();
  // Serves until stop() (from a signal watcher or another thread); returns when every in-flight
  // request has been answered.
  void run();
  void stop();
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace billctl::serve
