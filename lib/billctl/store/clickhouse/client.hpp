// ClickHouse over its HTTP interface (SPEC §11): the only place billctl builds a request to a
// ClickHouse server. Queries return TabSeparated text; inserts send RowBinary bodies. Written for
// ClickHouse 18.16 (Debian bookworm's package), the oldest server billctl supports.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/net/http.hpp"

namespace billctl::store::ch {

// Where usage lives: clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE plus credentials and options.
struct Config {
  std::vector<std::string> shards;  // HTTP addresses "host:port"; queries and DDL go to the first
  std::string database;
  std::string cluster;              // the servers' remote_servers name, for a Distributed table
  std::string user = "default";
  std::string password;
  long timeout_ms = 600000;
  bool compress = false;            // gzip request bodies (on by default for non-loopback servers)
};

// Is this --db / [store] usage value a ClickHouse address?
bool is_url(std::string_view text);
// Parses clickhouse://H:P[,H:P...]/DB; a malformed address is a UsageError naming `what` (the flag
// or config key). Credentials never belong in the address: one with "user@" or "?password" is refused.
Config parse_url(std::string_view text, std::string_view what);
// Checks the cluster name (used in SQL) and that several servers come with one; UsageError naming `what`.
void check_cluster(Config& c, std::string_view what);
// The address without credentials, for messages: clickhouse://H:P,H:P/DB.
std::string display(const Config& c);

// A string literal for SQL: quotes, backslashes and control bytes escaped.
std::string quote(std::string_view s);
// A comma-separated list of quoted literals.
std::string quote_list(const std::vector<std::string>& values);

// Splits TabSeparated output into rows of unescaped fields; `fields` views stay valid until the
// next call.
class TsvReader {
 public:
  explicit TsvReader(std::string_view text) : m_text(text) {}
  bool next(std::vector<std::string_view>& fields);

 private:
  std::string_view m_text;
  size_t m_pos = 0;
  std::vector<std::string> m_unescaped;  // fields that held escapes
};

class Client {
 public:
  Client(Config config, net::HttpClient& http) : m_config(std::move(config)), m_http(http) {}
  const Config& config() const { return m_config; }

  // Runs a statement on the first server (or `shard`); returns the body (TabSeparated rows).
  std::string query(const std::string& sql, size_t shard = 0);
  // INSERT with a body: `sql` is "INSERT INTO t (...) FORMAT RowBinary".
  // The body is lent to the request and given back unchanged.
  void insert(const std::string& sql, std::string& body, size_t shard = 0);
  // Runs a query whose TabSeparated rows are handed to `row` as they arrive (bounded memory for
  // results of any size); an error the server sends after the first rows is thrown.
  void query_rows(const std::string& sql, const std::function<void(const std::vector<std::string_view>&)>& row,
                  size_t shard = 0);
  // The first column of every row.
  std::vector<std::string> column(const std::string& sql, size_t shard = 0);
  // One integer (count(), max(...)): 0 when the result is empty.
  int64_t scalar(const std::string& sql, size_t shard = 0);

 private:
  net::HttpResponse send(const std::string& url, std::string& body, bool gzip, size_t shard,
                         const std::function<void(std::string_view)>* stream = nullptr);
  std::string base_url(size_t shard) const;
  [[noreturn]] void fail(const net::HttpResponse& res, size_t shard);
  Config m_config;
  net::HttpClient& m_http;
};

}  // namespace billctl::store::ch
