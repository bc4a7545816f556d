// billctl doctor: one line per finding about the store, the config, notification channels, the
// time zone, the price catalog and provider keys. Reads; never creates, migrates or prints secrets.
#include <sys/stat.h>

#include "billctl/notify/channels.hpp"
#include "billctl/providers/config.hpp"
#include "billctl/render/json.hpp"
#include "billctl/store/sqlite/inspect.hpp"
#include "billctl/store/sqlite/schema.hpp"
#include "billctl/util/strings.hpp"
#include "billctl/util/tz.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

// ok: as it should be; info: worth knowing; warn: works, but look at it; fail: something will not work.
enum class Level { ok, info, warn, fail };
const char* level_name(Level l) { return l == Level::ok ? "ok" : l == Level::info ? "info" : l == Level::warn ? "warn" : "fail"; }

struct Finding {
  Level level;
  std::string area;  // store, config, channel, tz, catalog, provider
  std::string text;
};

std::string mebibytes(int64_t bytes) {
  const int64_t tenths = (bytes * 10 + (1 << 19)) >> 20;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MB";
}

void check_store(Env& env, std::vector<Finding>& out) {
  const std::string& path = env.db_path();
  const store::StoreFacts f = store::inspect_store(path);
  if (!f.exists) {
    out.push_back({Level::info, "store", path + ": no store yet (the first command that writes creates it)"});
    return;
  }
  if (!f.error.empty() || (f.integrity != "ok" && !f.integrity.empty())) {
    out.push_back({Level::fail, "store", path + ": " + (f.error.empty() ? "integrity check: " + f.integrity : f.error)});
    return;
  }
  std::string text = path + ": schema " + std::to_string(f.schema);
  if (f.schema > store::k_schema_version) {
    out.push_back({Level::fail, "store", text + ", newer than this billctl understands (" + std::to_string(store::k_schema_version) +
                                             "); upgrade billctl"});
    return;
  }
  Level level = Level::ok;
  if (f.schema < store::k_schema_version) {
    level = Level::info;
    text += " (migrated to " + std::to_string(store::k_schema_version) + " when next opened)";
  }
  text += ", " + util::group_thousands(f.records) + " records";
  if (f.first_ts && f.last_ts)
    text += " from " + util::format_rfc3339(*f.first_ts) + " to " + util::format_rfc3339(*f.last_ts);
  text += ", " + mebibytes(f.file_bytes) + ", integrity ok";
  out.push_back({level, "store", text});
  // A WAL that keeps growing means checkpoints cannot finish: a reader holds an old snapshot.
  if (f.wal_bytes > (int64_t(256) << 20))
    out.push_back({Level::warn, "store", path + "-wal is " + mebibytes(f.wal_bytes) +
                                             ": a long-running reader may be keeping checkpoints from finishing"});
}

// With usage in ClickHouse: can the server be reached, with these credentials, at a schema this
// billctl understands?
void check_clickhouse(Env& env, std::vector<Finding>& out) {
  store::ch::ClickHouseUsage* ch = env.clickhouse();
  if (!ch) return;
  const std::string where = store::ch::display(ch->client().config());
  try {
    const auto f = ch->facts();
    out.push_back({Level::ok, "usage", where + ": ClickHouse " + f.server_version + ", schema " + std::to_string(f.schema) + ", " +
                                           util::group_thousands(f.records) + " records"});
  } catch (const Error& e) {
    out.push_back({Level::fail, "usage", e.what()});
  }
}

void check_config(Env& env, const std::string& config_error, std::vector<Finding>& out) {
  const std::string& path = env.config_path();
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    out.push_back({config_error.empty() ? Level::info : Level::fail, "config",
                   config_error.empty() ? (path.empty() ? std::string("no config file (HOME is not set)") : path + ": no config file (defaults apply)")
                                        : config_error});
    return;
  }
  if (!config_error.empty()) {
    out.push_back({Level::fail, "config", config_error});
    return;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  if (env.config_private())
    out.push_back({Level::ok, "config", path + " (mode " + mode + ")"});
  else
    out.push_back({Level::info, "config", path + " (mode " + mode + "; readable by others: secrets in it are refused, use *_env keys or chmod 600)"});
}

void check_channels(Env& env, std::vector<Finding>& out) {
  notify::Settings s;
  try {
    s = env.notify_settings();
  } catch (const Error& e) {
    out.push_back({Level::fail, "channel", e.what()});
    return;
  }
  if (s.channels.empty()) {
    out.push_back({Level::info, "channel", "no notification channels configured ([notify.channels])"});
    return;
  }
  for (const auto& c : s.channels) {
    if (!c.unresolved.empty()) out.push_back({Level::fail, "channel", c.name + ": " + c.unresolved});
    else out.push_back({Level::ok, "channel", c.name + " (" + std::string(notify::kind_name(c.kind)) + ")"});
  }
  for (const auto& d : s.default_channels)
    if (!s.find(d)) out.push_back({Level::fail, "channel", "default channel '" + d + "' is not defined"});
}

void check_tz(Env& env, std::vector<Finding>& out) {
  const std::string& tz = env.tz();
  if (tz.empty() || tz == "UTC") {
    out.push_back({Level::ok, "tz", "calendar periods in UTC (config key tz)"});
    return;
  }
  try {
    util::TimeZone::load(tz);
    out.push_back({Level::ok, "tz", "calendar periods in " + tz + " (time-zone data in /usr/share/zoneinfo)"});
  } catch (const Error& e) {
    out.push_back({Level::fail, "tz", e.what()});
  }
}

void check_catalog(Env& env, std::vector<Finding>& out) {
  const pricing::Catalog builtin = pricing::Catalog::builtin();
  const std::string& as_of = builtin.info().as_of;
  const auto day = util::parse_date(as_of);
  const int64_t age = day ? util::day_of(env.now()) - *day : 0;
  const std::string text = "built-in prices as of " + as_of + " (" + std::to_string(builtin.info().models) + " models)";
  if (age > 183)
    out.push_back({Level::warn, "catalog", text + ", more than 6 months old: check the providers' prices and add yours with 'billctl prices import'"});
  else
    out.push_back({Level::ok, "catalog", text});
}

void check_providers(Env& env, std::vector<Finding>& out) {
  for (providers::Provider p : {providers::Provider::openai, providers::Provider::anthropic}) {
    const std::string name(providers::provider_name(p));
    try {
      const auto c = providers::read_provider_config(p, env.config_table("providers"), env.config_path(),
                                                     [&env](const std::string& v) { return env.env(v); }, env.config_private());
      // Whether a key is there, never its value.
      if (c.admin_key.empty())
        out.push_back({Level::info, "provider", name + ": no admin key in " + c.key_name + " (needed only by 'usage pull " + name + "')"});
      else
        out.push_back({Level::ok, "provider", name + ": admin key set in " + c.key_name});
    } catch (const Error& e) {
      out.push_back({Level::fail, "provider", e.what()});
    }
  }
}

void run_doctor(const std::string& format, Env& env) {
  const Format f = parse_output_format(format);
  std::vector<Finding> found;
  check_store(env, found);
  check_clickhouse(env, found);
  check_config(env, env.config_error(), found);
  check_channels(env, found);
  check_tz(env, found);
  check_catalog(env, found);
  check_providers(env, found);
  size_t failed = 0, warned = 0;
  for (const auto& x : found) {
    failed += x.level == Level::fail;
    warned += x.level == Level::warn;
  }
  // The findings for machines (the terminal wraps each under its text, below).
  render::Table t;
  t.id = "findings";
  t.columns = {{"level", "level", render::Kind::text}, {"area", "area", render::Kind::text}, {"text", "text", render::Kind::text}};
  for (const auto& x : found)
    t.rows.push_back({render::Value::of_text(level_name(x.level)), render::Value::of_text(x.area), render::Value::of_text(x.text)});
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.doctor";
    j["findings"] = render::rows_json(t);
    j["failed"] = failed;
    j["warnings"] = warned;
    out = render::dump(j);
  } else if (f == Format::csv) {
    out = render::to_csv(t);
  } else {
    // On a terminal a long finding wraps under its text, never past the edge.
    const size_t width = env.style().width;
    for (const auto& x : found) {
      std::string lvl = level_name(x.level);
      lvl.resize(5, ' ');
      std::string area = x.area;
      area.resize(9, ' ');
      const std::string text = util::escape_controls(x.text);
      if (width <= 14 + 20 || 14 + util::display_width(text) <= width) {
        out += lvl + area + text + "\n";
        continue;
      }
      const std::vector<std::string> lines = util::wrap_words(text, width - 14);
      for (size_t i = 0; i < lines.size(); ++i) out += (i == 0 ? lvl + area : std::string(14, ' ')) + lines[i] + "\n";
    }
  }
  env.emit(out, "");
  if (failed) throw DataError(std::to_string(failed) + (failed == 1 ? " problem" : " problems") + " found");
}

}  // namespace

void add_doctor(CLI::App& root, CommandTable& table) {
  auto format = std::make_shared<std::string>("table");
  CLI::App* app = root.add_subcommand("doctor", "Check the store, config, channels, time zone, prices and provider keys");
  app->add_option("--format", *format, "Output format: table, csv or json")->type_name("FORMAT");
  table.push_back({app, [format](Env& env) { run_doctor(*format, env); }, true});
}

}  // namespace billctl::cmd
