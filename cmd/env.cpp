#include "env.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <ostream>
#include <toml++/toml.h>

#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"
#include "billctl/util/toml_guard.hpp"

namespace billctl::cmd {

const std::vector<std::string>& config_keys() {
  static const std::vector<std::string> k{"db", "tz", "week_start", "store", "prices", "notify", "credits",
                                          "plans", "orgs", "invoices", "providers", "reports", "serve", "remote"};
  return k;
}

std::string known_config_keys() {
  std::string out;
  for (const auto& k : config_keys()) {
    const bool table = k != "db" && k != "tz" && k != "week_start";
    out += (out.empty() ? "" : ", ") + (table ? "[" + k + "]" : k);
  }
  return out;
}

util::Period Env::period(const std::string& text, const std::string& flag) const {
  return util::parse_period(text, m_now, m_week_start).flag_value(flag, text);
}

Env::Env(std::ostream& o, std::ostream& e, bool otty, bool etty, GetEnv getenv, util::Seconds wall_clock)
    : out(o), err(e), out_tty(otty), err_tty(etty), m_getenv(std::move(getenv)), m_now(wall_clock) {}

Env::~Env() = default;

std::string Env::env(const std::string& name) const {
  auto v = m_getenv(name);
  return v ? *v : std::string();
}

void Env::configure(const GlobalOptions& g) {
  std::string now = g.now.empty() ? env("BILLCTL_NOW") : g.now;
  if (!now.empty()) {
    auto t = util::parse_rfc3339(now);
    if (!t) throw UsageError("invalid --now '" + now + "': " + t.error());
    m_now = *t;
    m_now_pinned = true;
  }
  m_quiet = g.quiet;
  m_no_pager = g.no_pager;
  m_wide = g.wide;
  if (g.color == "always") m_color = ColorMode::always;
  else if (g.color == "never") m_color = ColorMode::never;
  else if (g.color == "auto") m_color = ColorMode::auto_detect;
  else throw UsageError("invalid --color '" + g.color + "': expected auto, always or never");
  if (g.no_color) m_color = ColorMode::never;
  m_no_color_env = !env("NO_COLOR").empty();
  m_db_flag = g.db;
  m_state_flag = g.state;
  m_cluster_flag = g.cluster;
  m_ch_options.user = env("BILLCTL_CLICKHOUSE_USER");
  m_ch_options.password = env("BILLCTL_CLICKHOUSE_PASSWORD");
  parse_remote_table(nullptr, g);

  // Config: --config, $BILLCTL_CONFIG, $XDG_CONFIG_HOME/billctl/config.toml ($HOME/.config/...).
  m_config_path = !g.config.empty() ? g.config : env("BILLCTL_CONFIG");
  const bool explicit_config = !m_config_path.empty();
  if (m_config_path.empty()) {
    const std::string xdg = env("XDG_CONFIG_HOME");
    const std::string home = env("HOME");
    if (!xdg.empty()) m_config_path = xdg + "/billctl/config.toml";
    else if (!home.empty()) m_config_path = home + "/.config/billctl/config.toml";
  }
  struct stat st{};
  if (m_config_path.empty() || ::stat(m_config_path.c_str(), &st) != 0) {
    if (explicit_config) throw DataError("cannot read config '" + m_config_path + "': no such file");
    return;
  }
  toml::table cfg;
  try {
    const std::string text = util::read_file(m_config_path);
    std::string why;
    const std::string ascii = util::toml_ascii(text, why);
    if (!why.empty()) throw DataError(m_config_path + ":" + why);
    cfg = toml::parse(ascii, m_config_path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    throw DataError(m_config_path + ":" + std::to_string(src.begin.line) + ": " + std::string(e.description()));
  }
  for (const auto& [k, v] : cfg) {
    const std::string key(k.str());
    if (std::find(config_keys().begin(), config_keys().end(), key) == config_keys().end())
      throw DataError(m_config_path + ":" + std::to_string(k.source().begin.line) + ": unknown key '" + key + "' (known: " +
                      known_config_keys() + ")");
  }
  if (auto db = cfg["db"].value<std::string>()) m_config_db = *db;
  if (auto tz = cfg["tz"].value<std::string>()) m_tz = *tz;
  if (const toml::node* w = cfg.get("week_start")) {
    const auto day = w->value<std::string>();
    const auto n = day ? util::parse_weekday(*day) : std::nullopt;
    if (!n)
      throw DataError(m_config_path + ":" + std::to_string(w->source().begin.line) +
                      ": week_start must be a day name, monday to sunday (monday, the ISO 8601 week, is the default)");
    m_week_start = *n;
  }
  m_config_private = (st.st_mode & 077) == 0;
  if (const toml::node* n = cfg.get("store")) parse_store_table(n);
  if (const toml::node* n = cfg.get("remote")) parse_remote_table(n, g);
  // Moved, never copied: a copied toml++ node forgets its source position (errors would say line 0).
  m_config = std::make_unique<toml::table>(std::move(cfg));
  m_notify = (*m_config)["notify"].as_table();
  const toml::table& config = *m_config;
  if (auto* prices = config["prices"].as_table()) {
    for (const auto& [k, v] : *prices)
      if (k.str() != "file")
        throw DataError(m_config_path + ":" + std::to_string(k.source().begin.line) + ": unknown key 'prices." +
                        std::string(k.str()) + "' (known: prices.file)");
    if (auto f = (*prices)["file"].value<std::string>()) {
      m_config_prices = *f;
      // A relative path is relative to the config file, wherever billctl runs (cron's cwd is $HOME).
      const auto slash = m_config_path.find_last_of('/');
      if (!f->empty() && (*f)[0] != '/' && slash != std::string::npos)
        m_config_prices = m_config_path.substr(0, slash + 1) + *f;
    }
  }
}

const toml::table* Env::config_table(const std::string& key) const {
  if (!m_config) return nullptr;
  const toml::node* n = m_config->get(key);
  if (!n) return nullptr;
  if (!n->is_table()) throw DataError(m_config_path + ": '" + key + "' must be a table ([" + key + "])");
  return n->as_table();
}

std::string Env::actor(const std::string& flag) const {
  if (!flag.empty()) return flag;
  if (const toml::table* c = config_table("credits"))
    if (auto a = (*c)["actor"].value<std::string>(); a && !a->empty()) return *a;
  for (const char* v : {"USER", "LOGNAME"})
    if (std::string u = env(v); !u.empty()) return u;
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

notify::Settings Env::notify_settings() {
  if (!m_notify) return {};
  return notify::parse_settings(*m_notify, m_config_path, [this](const std::string& v) { return env(v); }, m_config_private);
}

namespace {
size_t screen_columns(const std::string& columns_env, int fd = 1);
}

render::TextStyle Env::style() const {
  render::TextStyle s;
  const bool terminal = m_color == ColorMode::always || (m_color == ColorMode::auto_detect && out_tty);
  s.bars = terminal;
  s.color = terminal && m_color != ColorMode::never && (m_color == ColorMode::always || !m_no_color_env);
  // Tables fit the terminal they are shown on ($COLUMNS, else the tty's width); piped, never cut.
  if (out_tty && !m_wide) s.width = screen_columns(env("COLUMNS"));
  return s;
}

// [store]: where usage lives and how to reach it (SPEC §11).
void Env::parse_store_table(const toml::node* n) {
  auto line = [&](const toml::node& x) { return m_config_path + ":" + std::to_string(x.source().begin.line) + ": "; };
  const toml::table* t = n->as_table();
  if (!t) throw DataError(line(*n) + "store must be a table ([store])");
  static const std::vector<std::string> known{"usage",    "state",   "cluster",  "shards", "user",
                                              "password_env", "password", "timeout", "compress"};
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw DataError(line(v) + "unknown key 'store." + key +
                      "' (known: usage, state, cluster, shards, user, password_env, password, timeout, compress)");
    const bool text = key != "timeout" && key != "compress" && key != "shards";
    if (text && !v.is_string()) throw DataError(line(v) + "store." + key + " must be a string");
  }
  auto text = [&](const char* key) { return (*t)[key].value<std::string>().value_or(""); };
  m_config_store_usage = text("usage");
  if (!m_config_store_usage.empty()) store::ch::parse_url(m_config_store_usage, line(*t->get("usage")) + "store.usage");
  m_config_state = text("state");
  m_config_cluster = text("cluster");
  if (const toml::node* x = t->get("shards")) {
    const toml::array* a = x->as_array();
    if (!a || a->empty()) throw DataError(line(*x) + "store.shards must be a list of \"HOST:PORT\" (the servers' HTTP addresses)");
    for (const auto& e : *a) {
      const auto hp = e.value<std::string>();
      if (!hp) throw DataError(line(*x) + "store.shards must be a list of \"HOST:PORT\" (the servers' HTTP addresses)");
      store::ch::parse_url("clickhouse://" + *hp + "/x", line(*x) + "store.shards");
      m_config_shards.push_back(*hp);
    }
  }
  const auto slash = m_config_path.find_last_of('/');
  if (!m_config_state.empty() && m_config_state[0] != '/' && slash != std::string::npos)
    m_config_state = m_config_path.substr(0, slash + 1) + m_config_state;
  if (m_ch_options.user.empty()) m_ch_options.user = text("user");
  if (m_ch_options.password.empty()) {
    if (const std::string var = text("password_env"); !var.empty()) {
      m_ch_options.password = env(var);
      if (m_ch_options.password.empty())
        throw DataError(line(*t->get("password_env")) + "store.password_env names " + var + ", which is not set");
    } else if (const toml::node* p = t->get("password")) {
      if (!m_config_private)
        throw DataError(line(*p) + "store.password is a secret: make the config private (chmod 600 " + m_config_path +
                        ") or use store.password_env");
      m_ch_options.password = text("password");
    }
  }
  if (const toml::node* x = t->get("timeout")) {
    const auto secs = x->value<int64_t>();
    if (!secs || *secs <= 0 || *secs > 86400) throw DataError(line(*x) + "store.timeout must be whole seconds, 1 to 86400");
    m_ch_options.timeout_ms = long(*secs * 1000);
  }
  if (const toml::node* x = t->get("compress")) {
    const auto on = x->value<bool>();
    if (!on) throw DataError(line(*x) + "store.compress must be true or false");
    m_ch_options.compress = *on;
    m_ch_compress_set = true;
  }
}

std::string Env::usage_setting() const {
  if (!m_db_flag.empty()) return m_db_flag;
  if (const std::string e = env("BILLCTL_DB"); !e.empty()) return e;
  if (!m_config_db.empty()) return m_config_db;
  return m_config_store_usage;
}

bool Env::usage_in_clickhouse() { return store::ch::is_url(usage_setting()); }

// [remote] url, client_id, secret_env, ca_file, timeout; the flag and BILLCTL_REMOTE,
// BILLCTL_CLIENT_ID, BILLCTL_CLIENT_SECRET, BILLCTL_REMOTE_CA win over the file. Called once
// without the table (environment and flags), and again when the config has one.
void Env::parse_remote_table(const toml::node* n, const GlobalOptions& g) {
  std::string url, what;
  if (!g.remote.empty()) url = g.remote, what = "--remote";
  else if (!env("BILLCTL_REMOTE").empty()) url = env("BILLCTL_REMOTE"), what = "BILLCTL_REMOTE";
  std::string secret_env = "BILLCTL_CLIENT_SECRET";
  if (n) {
    const toml::table* t = n->as_table();
    const std::string where = m_config_path + ": [remote]";
    if (!t) throw DataError(where + " must be a table");
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      if (key != "url" && key != "client_id" && key != "secret_env" && key != "ca_file" && key != "timeout")
        throw DataError(m_config_path + ":" + std::to_string(k.source().begin.line) + ": unknown key 'remote." + key +
                        "' (known: url, client_id, secret_env, ca_file, timeout)");
      if (key != "timeout" && !v.is_string()) throw DataError(where + " " + key + " must be a string");
    }
    if (url.empty() && t->contains("url")) url = (*t)["url"].value<std::string>().value_or(""), what = "[remote] url";
    if (t->contains("client_id")) m_remote.client_id = (*t)["client_id"].value<std::string>().value_or("");
    if (t->contains("secret_env")) secret_env = (*t)["secret_env"].value<std::string>().value_or(secret_env);
    if (t->contains("ca_file")) m_remote.ca_file = (*t)["ca_file"].value<std::string>().value_or("");
    if (const toml::node* to = t->get("timeout")) {
      auto secs = to->value<int64_t>();
      if (!secs || *secs < 1 || *secs > 3600) throw DataError(where + " timeout must be 1 to 3600 seconds");
      m_remote.timeout_ms = *secs * 1000;
    }
  }
  if (url.empty()) return;
  m_remote.url = serve::remote_root(url, what);
  if (!env("BILLCTL_CLIENT_ID").empty()) m_remote.client_id = env("BILLCTL_CLIENT_ID");
  m_remote.client_secret = env(secret_env);
  if (!env("BILLCTL_REMOTE_CA").empty()) m_remote.ca_file = env("BILLCTL_REMOTE_CA");
}

serve::RemoteClient& Env::remote_client() {
  if (!m_remote_client) {
    m_remote_http = std::make_unique<net::CurlHttpClient>();
    m_remote_client = std::make_unique<serve::RemoteClient>(*m_remote_http, m_remote);
  }
  return *m_remote_client;
}

budgets::BudgetStore& Env::budgets() {
  if (!remote()) return store().budgets();
  if (!m_remote_budgets) m_remote_budgets = std::make_unique<serve::RemoteBudgets>(remote_client());
  return *m_remote_budgets;
}

usage::Source& Env::usage() {
  if (remote()) {
    if (!m_remote_usage) m_remote_usage = std::make_unique<serve::RemoteUsage>(remote_client());
    return *m_remote_usage;
  }
  if (!usage_in_clickhouse()) return store().usage();
  imports();
  return *m_clickhouse;
}

ingest::ImportStore& Env::imports() {
  const std::string where = usage_setting();
  if (!store::ch::is_url(where)) return store().imports();
  if (!m_clickhouse) {
    const char* what = !m_db_flag.empty() ? "--db" : !env("BILLCTL_DB").empty() ? "BILLCTL_DB" : !m_config_db.empty() ? "db" : "store.usage";
    m_clickhouse = open_clickhouse(where, what);
    // Imports into the same ClickHouse database through this state file wait for each other.
    const std::string& state = db_path();
    if (const auto slash = state.rfind('/'); slash != std::string::npos && slash > 0) util::make_dirs(state.substr(0, slash));
    m_clickhouse->set_lock_path(state + ".clickhouse-import.lock");
    m_clickhouse->want_combos(store().rollup_combos());
    m_clickhouse->set_state_store(&store().imports());
  }
  return *m_clickhouse;
}

std::unique_ptr<store::ch::ClickHouseUsage> Env::open_clickhouse(const std::string& url, const std::string& what) {
  const std::string& cluster_flag = m_cluster_flag;
  store::ch::Config c = store::ch::parse_url(url, what);
  if (!m_config_shards.empty() && what == "store.usage") c.shards = m_config_shards;
  c.cluster = cluster_flag.empty() ? m_config_cluster : cluster_flag;
  store::ch::check_cluster(c, cluster_flag.empty() ? "store.cluster" : "--cluster");
  c.user = m_ch_options.user.empty() ? "default" : m_ch_options.user;
  c.password = m_ch_options.password;
  c.timeout_ms = m_ch_options.timeout_ms;
  if (m_ch_compress_set) c.compress = m_ch_options.compress;
  return std::make_unique<store::ch::ClickHouseUsage>(std::move(c), std::make_unique<net::CurlHttpClient>());
}

billing::InvoiceStore& Env::invoice_store() {
  if (!remote()) return store().invoices();
  if (!m_remote_invoices) m_remote_invoices = std::make_unique<serve::RemoteInvoices>(remote_client());
  return *m_remote_invoices;
}

credits::LedgerStore& Env::ledger_store() {
  if (remote()) {
    if (!m_remote_ledger) m_remote_ledger = std::make_unique<serve::RemoteLedger>(remote_client());
    return *m_remote_ledger;
  }
  if (!usage_in_clickhouse()) return store().ledger();
  if (!m_ch_ledger) {
    imports();
    m_clickhouse->ensure_schema();
    m_ch_ledger = std::make_unique<store::ch::ClickHouseLedger>(store().ledger(), m_clickhouse->client());
  }
  return *m_ch_ledger;
}

std::string Env::usage_location() {
  if (remote()) return m_remote.url;
  const std::string where = usage_setting();
  if (store::ch::is_url(where)) {
    imports();
    return store::ch::display(m_clickhouse->client().config());
  }
  return db_path();
}

const std::string& Env::db_path() {
  if (m_db_path.empty())
  {
    std::string state = m_state_flag.empty() ? env("BILLCTL_STATE") : m_state_flag;
    if (state.empty()) state = m_config_state;
    const std::string where = usage_setting();
    // With usage in ClickHouse the embedded store is the state file; otherwise it holds both.
    if (state.empty() && !store::ch::is_url(where)) state = where;
    m_db_path = store::default_db_path(state, "", env("XDG_DATA_HOME"), env("HOME"));
  }
  return m_db_path;
}

store::SqliteStore& Env::store() {
  if (remote())
    throw UsageError("this command works on the local store, not through --remote " + m_remote.url +
                     " (which serves usage, report, forecast, anomalies, patterns, budgets, credit balances and the ledger, and invoices)");
  if (!m_store) m_store = std::make_unique<store::SqliteStore>(db_path(), [this](const std::string& text) { note("note: " + text); });
  return *m_store;
}

namespace {

std::vector<pricing::PriceEntry> file_prices(const std::string& file, util::Seconds now) {
  if (file.empty()) return {};
  return pricing::parse_price_file(util::read_file(file), file, "auto", 0, util::day_of(now)).entries;
}

// `over` wins for the models it prices.
void overlay(std::vector<pricing::PriceEntry>& base, std::vector<pricing::PriceEntry> over) {
  std::erase_if(base, [&](const pricing::PriceEntry& e) {
    return std::any_of(over.begin(), over.end(), [&](const auto& c) { return c.model == e.model; });
  });
  base.insert(base.end(), std::make_move_iterator(over.begin()), std::make_move_iterator(over.end()));
}

}  // namespace

const pricing::Catalog& Env::catalog() {
  if (m_catalog) return *m_catalog;
  if (remote()) return catalog_for_files();  // the server priced the usage; names normalise by the built-in catalog
  // Precedence, lowest first: built-in, the store's (prices import), config [prices] file, --prices.
  std::vector<pricing::PriceEntry> user = prices().user_prices();
  std::string name = user.empty() ? std::string() : prices().user_catalog_name();
  if (!user.empty() && name.empty()) name = "user";
  if (auto c = file_prices(m_config_prices, m_now); !c.empty()) {
    overlay(user, std::move(c));
    name += name.empty() ? "config" : "+config";
  }
  if (auto f = file_prices(m_prices_flag, m_now); !f.empty()) {
    overlay(user, std::move(f));
    name += name.empty() ? "prices-file" : "+prices-file";
  }
  if (user.empty()) m_catalog = std::make_unique<pricing::Catalog>(pricing::Catalog::builtin());
  else m_catalog = std::make_unique<pricing::Catalog>(pricing::Catalog::overlay(pricing::Catalog::builtin(), user, "builtin+" + name));
  return *m_catalog;
}

const pricing::Catalog& Env::catalog_for_files() {
  if (m_catalog) return *m_catalog;
  struct stat st{};
  if (!remote() && (m_store || ::stat(db_path().c_str(), &st) == 0)) return catalog();
  std::vector<pricing::PriceEntry> user;
  std::string name;
  if (auto c = file_prices(m_config_prices, m_now); !c.empty()) {
    overlay(user, std::move(c));
    name = "config";
  }
  if (auto f = file_prices(m_prices_flag, m_now); !f.empty()) {
    overlay(user, std::move(f));
    name += name.empty() ? "prices-file" : "+prices-file";
  }
  if (user.empty()) m_catalog = std::make_unique<pricing::Catalog>(pricing::Catalog::builtin());
  else m_catalog = std::make_unique<pricing::Catalog>(pricing::Catalog::overlay(pricing::Catalog::builtin(), user, "builtin+" + name));
  return *m_catalog;
}

namespace {

// Writes all of `s` to `fd`; false with errno set on failure (EPIPE: the reader left).

// The terminal's width: $COLUMNS, else that of the tty on `fd`, else 80.
size_t screen_columns(const std::string& columns_env, int fd) {
  int64_t n = 0;
  if (!columns_env.empty() && util::parse_u63(columns_env, n) && n > 0) return size_t(n);
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// The terminal's height: $LINES, else the tty's, else 24.
size_t screen_rows(const std::string& lines_env) {
  if (!lines_env.empty()) {
    int64_t n = 0;
    if (util::parse_u63(lines_env, n) && n > 0) return size_t(n);
  }
  winsize ws{};
  if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  return 24;
}

// Runs `command` through sh with `content` on its standard input and waits for it. Returns the
// pager's exit status (127: it could not be run), or -1 when it could not be started at all.
int page(const std::string& command, std::string_view content) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(fds[0], 0);
    ::close(fds[0]);
    ::close(fds[1]);
    ::setenv("LESS", "FRX", 0);  // as git does: quit if one screen, keep colours, no init
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  // A reader that quits early (q in less) closes the pipe: no signal, no error.
  struct sigaction ignore{}, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  util::write_all(fds[1], content);
  ::close(fds[1]);
  ::sigaction(SIGPIPE, &old, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 0;
}

}  // namespace

void Env::emit(const std::string& content, const std::string& path) {
  if (path.empty() || path == "-") {
    if (&out != &std::cout) {  // a test's stream
      out << content;
      out.flush();
      return;
    }
    // The real stdout: written with write(2) so that a failure (ENOSPC, EPIPE) keeps its reason.
    out.flush();
    if (out_tty && !m_no_pager) {
      // $BILLCTL_PAGER, else $PAGER, else less; set to "" (or cat) means no pager.
      const bool own = m_getenv("BILLCTL_PAGER").has_value(), general = m_getenv("PAGER").has_value();
      const std::string pager = own ? env("BILLCTL_PAGER") : general ? env("PAGER") : "less -FRX";
      const size_t lines = size_t(std::count(content.begin(), content.end(), '\n'));
      if (!util::trim(pager).empty() && util::trim(pager) != "cat" && lines >= screen_rows(env("LINES"))) {
        const int status = page(pager, content);
        if (status >= 0 && status != 126 && status != 127) return;
        // No pager after all (less is not installed everywhere): the terminal gets the output.
        if (own || general) note("note: the pager '" + pager + "' could not be run; writing to the terminal");
      }
    }
    if (!util::write_all(1, content)) throw DataError(std::string("cannot write to standard output: ") + std::strerror(errno));
    return;
  }
  util::write_file_atomic(path, content);
}

std::unique_ptr<render::Progress> Env::progress(const std::string& label) {
  return std::make_unique<render::Progress>(err, err_tty && !m_quiet, screen_columns(env("COLUMNS"), 2), label);
}

void Env::note(const std::string& text) {
  if (!m_quiet) err << util::escape_controls(text, true) << "\n";  // names from data never drive the terminal
}

}  // namespace billctl::cmd
