#include "billctl/store/clickhouse/client.hpp"

#include <zlib.h>

#include <cstdio>

#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::store::ch {

namespace {

constexpr std::string_view k_scheme = "clickhouse://";

// The server's message without its framing: "Code: 60, e.displayText() = DB::Exception: Table
// x.y doesn't exist., e.what() = DB::Exception" -> "Table x.y doesn't exist. (code 60)".
std::string server_message(std::string_view body, int* code) {
  std::string_view b = util::trim(body);
  *code = 0;
  if (b.substr(0, 6) == "Code: ") {
    size_t i = 6;
    while (i < b.size() && b[i] >= '0' && b[i] <= '9') *code = *code * 10 + (b[i++] - '0');
  }
  std::string_view text = b;
  if (auto p = b.find("DB::Exception: "); p != std::string_view::npos) text = b.substr(p + 15);
  if (auto p = text.find(", e.what() = "); p != std::string_view::npos) text = text.substr(0, p);
  if (auto p = text.find('\n'); p != std::string_view::npos) text = text.substr(0, p);
  if (text.size() > 300) text = text.substr(0, 300);
  std::string out(text);
  if (*code) out += " (code " + std::to_string(*code) + ")";
  return out;
}

std::string gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw DataError("cannot start gzip");
  std::string out(deflateBound(&z, uLong(in.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw DataError("cannot gzip an insert batch");
  return out;
}

bool loopback(std::string_view host_port) {
  const std::string_view host = host_port.substr(0, host_port.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.substr(0, 4) == "127.";
}

}  // namespace

void check_cluster(Config& c, std::string_view what) {
  for (char ch : c.cluster)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'))
      throw UsageError("invalid " + std::string(what) + " '" + c.cluster + "': a cluster name is letters, digits and '_'");
  if (c.shards.size() > 1 && c.cluster.empty())
    throw UsageError("several ClickHouse servers in " + display(c) +
                     " need the cluster that joins them: --cluster NAME or [store] cluster (its name in the servers' remote_servers)");
}

bool is_url(std::string_view text) { return text.substr(0, k_scheme.size()) == k_scheme; }

Config parse_url(std::string_view text, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return UsageError("invalid " + std::string(what) + " '" + std::string(text) + "': " + why +
                      " (expected clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE)");
  };
  if (!is_url(text)) throw bad("not a clickhouse:// address");
  std::string_view rest = text.substr(k_scheme.size());
  if (rest.find('@') != std::string_view::npos || rest.find('?') != std::string_view::npos)
    throw UsageError("invalid " + std::string(what) +
                     ": credentials do not belong in the address; set BILLCTL_CLICKHOUSE_USER and "
                     "BILLCTL_CLICKHOUSE_PASSWORD, or [store] user and password_env in the config");
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) throw bad("no database");
  Config c;
  c.database = std::string(rest.substr(slash + 1));
  if (c.database.empty()) throw bad("no database");
  for (char ch : c.database)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) throw bad("a database name is letters, digits and '_'");
  for (std::string_view hp : util::split(rest.substr(0, slash), ',')) {
    hp = util::trim(hp);
    const size_t colon = hp.rfind(':');
    if (hp.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == hp.size())
      throw bad("'" + std::string(hp) + "' is not HOST:PORT");
    for (char ch : hp.substr(colon + 1))
      if (ch < '0' || ch > '9') throw bad("'" + std::string(hp) + "' is not HOST:PORT");
    c.shards.emplace_back(hp);
  }
  c.compress = !loopback(c.shards.front());
  return c;
}

std::string display(const Config& c) {
  std::string s(k_scheme);
  for (size_t i = 0; i < c.shards.size(); ++i) s += (i ? "," : "") + c.shards[i];
  return s + "/" + c.database;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (unsigned char ch : s) {
    if (ch == '\'' || ch == '\\') {
      out += '\\';
      out += char(ch);
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", ch);
      out += buf;
    } else {
      out += char(ch);
    }
  }
  return out + "'";
}

std::string quote_list(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quote(values[i]);
  return out;
}

bool TsvReader::next(std::vector<std::string_view>& fields) {
  fields.clear();
  m_unescaped.clear();
  if (m_pos >= m_text.size()) return false;
  size_t end = m_text.find('\n', m_pos);
  if (end == std::string_view::npos) end = m_text.size();
  const std::string_view line = m_text.substr(m_pos, end - m_pos);
  m_pos = end + 1;
  // Fields with escapes are unescaped into m_unescaped; reserve so views into it stay put.
  size_t tabs = 1;
  for (char c : line) tabs += c == '\t';
  m_unescaped.reserve(tabs);
  size_t start = 0;
  while (true) {
    size_t t = line.find('\t', start);
    const std::string_view f = line.substr(start, t == std::string_view::npos ? std::string_view::npos : t - start);
    if (f.find('\\') == std::string_view::npos) {
      fields.push_back(f);
    } else {
      std::string u;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '\\' || i + 1 == f.size()) {
          u += f[i];
          continue;
        }
        const char e = f[++i];
        switch (e) {
          case 'n': u += '\n'; break;
          case 't': u += '\t'; break;
          case 'r': u += '\r'; break;
          case 'b': u += '\b'; break;
          case 'f': u += '\f'; break;
          case '0': u += '\0'; break;
          default: u += e;  // \\ \' and anything else stand for themselves
        }
      }
      m_unescaped.push_back(std::move(u));
      fields.push_back(m_unescaped.back());
    }
    if (t == std::string_view::npos) break;
    start = t + 1;
  }
  return true;
}

net::HttpResponse Client::send(const std::string& url, std::string& body, bool gz, size_t shard,
                               const std::function<void(std::string_view)>* stream) {
  net::HttpRequest r;
  r.url = url;
  r.timeout_ms = m_config.timeout_ms;
  r.basic_user = m_config.user;
  r.basic_password = m_config.password;
  if (gz) {
    r.body = gzip(body);
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    r.body.swap(body);  // lent for the request, given back below
  }
  net::HttpResponse res = stream ? m_http.post_stream(r, *stream) : m_http.post(r);
  if (!gz) r.body.swap(body);
  if (!res.ok()) fail(res, shard);
  return res;
}

void Client::fail(const net::HttpResponse& res, size_t shard) {
  const std::string where = "ClickHouse at " + m_config.shards[shard];
  if (!res.error.empty()) throw DataError("cannot reach " + where + ": " + res.error);
  int code = 0;
  const std::string msg = server_message(res.body, &code);
  // 192 unknown user, 193 wrong password, 194 password required, 195 IP not allowed, 516 (newer
  // servers) authentication failed.
  if (res.status == 401 || res.status == 403 || code == 192 || code == 193 || code == 194 || code == 195 || code == 516)
    throw Error(ExitCode::auth, where + " refused user '" + m_config.user + "': " + msg);
  throw DataError(where + ": " + (msg.empty() ? "HTTP " + std::to_string(res.status) : msg));
}

void Client::query_rows(const std::string& sql, const std::function<void(const std::vector<std::string_view>&)>& row,
                        size_t shard) {
  const std::string url = base_url(shard);
  std::string carry;  // a line not yet complete
  std::vector<std::string_view> fields;
  auto lines = [&](std::string_view text) {
    TsvReader rows(text);
    while (rows.next(fields)) {
      // A failure after the first rows arrives as the server's message in place of a row.
      if (fields.size() == 1 && fields[0].substr(0, 6) == "Code: " && fields[0].find("DB::Exception") != std::string_view::npos) {
        net::HttpResponse res;
        res.status = 500;
        res.body = std::string(fields[0]);
        fail(res, shard);
      }
      row(fields);
    }
  };
  const std::function<void(std::string_view)> on_body = [&](std::string_view chunk) {
    const size_t last = chunk.rfind('\n');
    if (last == std::string_view::npos) {
      carry.append(chunk);
      return;
    }
    if (!carry.empty()) {
      carry.append(chunk.substr(0, last + 1));
      lines(carry);
      carry.clear();
    } else {
      lines(chunk.substr(0, last + 1));
    }
    carry.append(chunk.substr(last + 1));
  };
  std::string body = sql;
  send(url, body, false, shard, &on_body);
  if (!carry.empty()) lines(carry);
}

std::string Client::base_url(size_t shard) const {
  std::string url = "http://" + m_config.shards[shard] + "/?database=" + net::url_encode(m_config.database);
  // Over a cluster, an INSERT ... SELECT into the Distributed table has reached every shard when
  // it returns (so an import's commit never makes rows visible that are still on their way).
  if (!m_config.cluster.empty()) url += "&insert_distributed_sync=1";
  return url;
}

std::string Client::query(const std::string& sql, size_t shard) {
  std::string body = sql;
  return send(base_url(shard), body, false, shard).body;
}

void Client::insert(const std::string& sql, std::string& body, size_t shard) {
  const std::string url = base_url(shard) + "&query=" + net::url_encode(sql);
  send(url, body, m_config.compress, shard);
}

std::vector<std::string> Client::column(const std::string& sql, size_t shard) {
  const std::string body = query(sql, shard);
  TsvReader rows(body);
  std::vector<std::string_view> f;
  std::vector<std::string> out;
  while (rows.next(f)) out.emplace_back(f.empty() ? std::string_view() : f[0]);
  return out;
}

int64_t Client::scalar(const std::string& sql, size_t shard) {
  const auto c = column(sql, shard);
  if (c.empty() || c[0].empty()) return 0;
  try {
    return std::stoll(c[0]);
  } catch (const std::exception&) {
    throw DataError("ClickHouse at " + m_config.shards[shard] + ": expected a number, got '" + c[0] + "'");
  }
}

}  // namespace billctl::store::ch
