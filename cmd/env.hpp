// Env: everything a command touches outside its own arguments — output streams, terminal flags,
// the environment, the pinned clock, the store and the catalog — so that tests can substitute them.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "billctl/notify/channels.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/render/progress.hpp"
#include "billctl/render/table.hpp"
#include "billctl/serve/remote.hpp"
#include "billctl/store/clickhouse/ledger.hpp"
#include "billctl/store/clickhouse/usage.hpp"
#include "billctl/store/sqlite/store.hpp"
#include "billctl/util/time.hpp"

namespace billctl::cmd {

enum class ColorMode { auto_detect, always, never };

struct GlobalOptions {
  std::string db;
  std::string state;
  std::string cluster;
  std::string remote;
  std::string config;
  std::string now;
  std::string color = "auto";
  bool no_color = false;
  bool quiet = false;
  bool no_pager = false;
  bool wide = false;
};

// The config file's top-level keys and tables, in the order errors list them.
const std::vector<std::string>& config_keys();
// The same as text for errors: "db, tz, week_start, [prices], ..." (tables in brackets).
std::string known_config_keys();

class Env {
 public:
  using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
  Env(std::ostream& out, std::ostream& err, bool out_tty, bool err_tty, GetEnv getenv, util::Seconds wall_clock);
  ~Env();

  std::ostream& out;
  std::ostream& err;
  bool out_tty;
  bool err_tty;

  // Applies the global options (after parsing): --now / BILLCTL_NOW, colour, config.
  void configure(const GlobalOptions& g);
  std::string env(const std::string& name) const;
  util::Seconds now() const { return m_now; }
  // Was "now" pinned (--now, BILLCTL_NOW)? A live view then stays at that instant.
  bool now_pinned() const { return m_now_pinned; }
  bool quiet() const { return m_quiet; }
  render::TextStyle style() const;
  // The [notify] settings of the config file (channels and their secrets).
  notify::Settings notify_settings();
  // A top-level table of the config file ([credits], [plans], [orgs], [invoices]); nullptr when absent.
  const toml::table* config_table(const std::string& key) const;
  const std::string& config_path() const { return m_config_path; }
  // Why the config did not load (doctor runs anyway); empty when it loaded or there is none.
  const std::string& config_error() const { return m_config_error; }
  void set_config_error(std::string why) { m_config_error = std::move(why); }
  // Is the config file private (mode 0600)? Secrets in it are refused otherwise.
  bool config_private() const { return m_config_private; }
  // Who is acting: the flag, else config [credits] actor, else $USER / the OS account.
  std::string actor(const std::string& flag) const;
  // The configured time zone for calendar periods (config key tz), default UTC.
  const std::string& tz() const { return m_tz; }
  // The first day of a week for this-week and last-week: config week_start, 0 Monday (ISO) .. 6 Sunday.
  int week_start() const { return m_week_start; }
  // A period typed for `flag` (--period, --from, ...), relative to now and the week start; a bad one
  // is a UsageError naming the flag, the value and the accepted forms.
  util::Period period(const std::string& text, const std::string& flag) const;

  // The store's interfaces; the store is opened (and migrated) on first use. Usage comes from
  // ClickHouse when --db (BILLCTL_DB, config db or [store] usage) is a clickhouse:// address.
  usage::Source& usage();
  ingest::ImportStore& imports();
  pricing::PriceStore& prices() { return store().prices(); }
  budgets::BudgetStore& budgets();
  notify::AlertLog& alerts() { return store().alerts(); }
  credits::LedgerStore& ledger_store();
  billing::InvoiceStore& invoice_store();
  providers::PullLog& pulls() { return store().pulls(); }
  report::TemplateStore& templates() { return store().templates(); }
  serve::AccessStore& access() { return store().access(); }
  // Is this run a client of billctl serve (--remote, BILLCTL_REMOTE, [remote] url)? Usage and
  // budgets are then read from the server; commands that need the local store refuse.
  bool remote() const { return !m_remote.url.empty(); }
  // The embedded store's file (with ClickHouse: --state, BILLCTL_STATE, [store] state or the default).
  const std::string& db_path();
  // Where usage lives, for messages: the embedded store's path or the ClickHouse address.
  std::string usage_location();
  // Is usage in ClickHouse? Commands that read records one by one from the embedded store refuse it.
  bool usage_in_clickhouse();
  // A ClickHouse usage store at `url` (`what` names where the address came from, for errors), with
  // the credentials and options of the environment and config, and --cluster / [store] cluster.
  std::unique_ptr<store::ch::ClickHouseUsage> open_clickhouse(const std::string& url, const std::string& what);
  // The ClickHouse usage store when usage is there (opened, not yet contacted), else nullptr.
  store::ch::ClickHouseUsage* clickhouse() {
    if (!usage_in_clickhouse()) return nullptr;
    imports();
    return m_clickhouse.get();
  }
  // The embedded store itself (store migrate copies from it).
  store::SqliteStore& sqlite() { return store(); }
  // The built-in catalog overlaid with the user's prices from the store and config.
  const pricing::Catalog& catalog();
  // The catalog for pricing export files (report --input): the same as catalog() when the store
  // exists, else the built-in catalog with config and --prices prices (no store is created).
  const pricing::Catalog& catalog_for_files();
  // A price file (billctl or LiteLLM format) given with --prices: its prices win over all others.
  void set_prices_file(const std::string& path) { m_prices_flag = path; }

  // Writes `content` to stdout, or atomically to `path` when it is not empty. On a terminal,
  // output taller than the screen goes through the pager ($BILLCTL_PAGER, $PAGER, less -FRX)
  // unless --no-pager or the pager is "" or "cat"; a reader that quits early is no error.
  void emit(const std::string& content, const std::string& path);
  // A progress line on stderr for long work: drawn only on a terminal and without --quiet.
  std::unique_ptr<render::Progress> progress(const std::string& label);
  // A note on stderr unless --quiet.
  void note(const std::string& text);

 private:
  GetEnv m_getenv;
  util::Seconds m_now;
  bool m_now_pinned = false;
  bool m_quiet = false;
  bool m_no_pager = false;
  bool m_wide = false;
  ColorMode m_color = ColorMode::auto_detect;
  bool m_no_color_env = false;
  std::string m_db_flag;
  std::string m_db_path;
  std::string m_config_error;
  std::string m_config_path;
  std::string m_config_db;
  std::string m_config_prices;
  std::string m_prices_flag;
  std::string m_tz = "UTC";
  int m_week_start = 0;
  const toml::table* m_notify = nullptr;  // the [notify] table of m_config, when the config has one
  std::unique_ptr<toml::table> m_config;  // the whole config file
  bool m_config_private = true;           // mode 0600 (no group or other bits)
  store::SqliteStore& store();
  // The usage location: --db, BILLCTL_DB, config db, [store] usage (the first set).
  std::string usage_setting() const;
  void parse_store_table(const toml::node* n);
  std::unique_ptr<store::SqliteStore> m_store;
  std::unique_ptr<store::ch::ClickHouseUsage> m_clickhouse;
  std::unique_ptr<store::ch::ClickHouseLedger> m_ch_ledger;
  std::string m_state_flag, m_cluster_flag, m_config_cluster;
  std::vector<std::string> m_config_shards;
  std::string m_config_store_usage, m_config_state;
  store::ch::Config m_ch_options;  // [store] user, password, timeout, compress (the address comes later)
  bool m_ch_compress_set = false;
  std::unique_ptr<pricing::Catalog> m_catalog;
  serve::RemoteConfig m_remote;
  std::unique_ptr<net::HttpClient> m_remote_http;
  std::unique_ptr<serve::RemoteClient> m_remote_client;
  std::unique_ptr<serve::RemoteUsage> m_remote_usage;
  std::unique_ptr<serve::RemoteBudgets> m_remote_budgets;
  std::unique_ptr<serve::RemoteLedger> m_remote_ledger;
  std::unique_ptr<serve::RemoteInvoices> m_remote_invoices;
  serve::RemoteClient& remote_client();
  void parse_remote_table(const toml::node* n, const GlobalOptions& g);
};

}  // namespace billctl::cmd
