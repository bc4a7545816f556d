// billctl usage pull openai|anthropic
#include <memory>
#include <ostream>

#include "billctl/providers/config.hpp"
#include "billctl/providers/pull.hpp"
#include "billctl/render/json.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

struct PullFlags {
  std::string provider;
  std::string period;
  std::string since;
  std::string bucket = "1d";
  int settle_days = -1;
  std::string base_url;
  bool dry_run = false;
  std::string format = "table";
  std::string output;
};

// https anywhere; plain http only to this machine (a key must never cross a network in clear).
void check_base_url(const std::string& url, const std::string& flag) {
  const bool https = util::starts_with(url, "https://");
  const bool http = util::starts_with(url, "http://");
  if (!https && !http) throw UsageError("invalid " + flag + " '" + url + "': expected an https:// URL");
  if (http) {
    std::string host = url.substr(7);
    host = host.substr(0, host.find_first_of("/?#"));
    if (host.front() == '[') host = host.substr(0, host.find(']') + 1);
    else host = host.substr(0, host.find(':'));
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]")
      throw UsageError("invalid " + flag + " '" + url + "': plain http is allowed only to 127.0.0.1, localhost or [::1]; use https");
  }
  if (url.back() == '/') throw UsageError("invalid " + flag + " '" + url + "': drop the trailing '/'");
}

util::Seconds day_start(util::Seconds t) { return t - ((t % 86400) + 86400) % 86400; }

void run_pull(const PullFlags& f, Env& env) {
  const Format fmt = parse_output_format(f.format);
  auto provider = providers::parse_provider(f.provider);
  if (!provider) throw UsageError("invalid provider '" + f.provider + "': expected openai or anthropic");
  if (f.bucket != "1d" && f.bucket != "1h") throw UsageError("invalid --bucket '" + f.bucket + "': expected 1d or 1h");
  if (!f.period.empty() && !f.since.empty()) throw UsageError("--period and --since cannot be used together");
  const std::string name(providers::provider_name(*provider));
  providers::ProviderConfig cfg = providers::read_provider_config(
      *provider, env.config_table("providers"), env.config_path(), [&env](const std::string& v) { return env.env(v); },
      env.config_private());

  providers::PullOptions o;
  o.provider = *provider;
  o.bucket = f.bucket;
  o.settle_days = f.settle_days >= 0 ? f.settle_days : cfg.settle_days;
  o.mapping = cfg.mapping;
  o.base_url = !f.base_url.empty() ? f.base_url : !cfg.base_url.empty() ? cfg.base_url : providers::default_base_url(*provider);
  check_base_url(o.base_url, !f.base_url.empty() ? "--base-url" : "providers." + name + ".base_url");

  // The range: --period, --since, or from the cursor (re-pulling the settle window), else this month.
  const util::Seconds now = env.now();
  const util::Seconds tomorrow = day_start(now) + 86400;
  if (!f.period.empty()) {
    const util::Period p = env.period(f.period, "--period");
    o.begin = day_start(p.begin);
    o.end = std::min(day_start(p.end + 86399), tomorrow);
  } else if (!f.since.empty()) {
    auto t = util::parse_rfc3339(f.since);
    util::Seconds since = 0;
    if (t) since = *t;
    else since = util::parse_date(f.since).flag_value("--since", f.since) * 86400;
    o.begin = day_start(since);
    o.end = tomorrow;
  } else {
    const util::Seconds settle_from = day_start(now) - util::Seconds(o.settle_days) * 86400;
    if (auto cursor = env.pulls().pull_cursor(name)) o.begin = std::min(day_start(*cursor), settle_from);
    else o.begin = util::parse_period("this-month", now).value_or_throw().begin;
    o.end = tomorrow;
  }
  if (o.begin >= o.end) throw UsageError("nothing to pull: the range starts after today (" + util::format_rfc3339(now) + ")");

  o.api_key = cfg.admin_key;
  o.key_name = cfg.key_name;
  if (o.api_key.empty())
    throw Error(ExitCode::auth, "no admin key for " + name + ": set " + cfg.key_name + " (an organization admin key, " +
                                    (name == "openai" ? "sk-admin-..." : "sk-ant-admin...") + ")");
  // Pages come until the API says there are no more: counts and rate, no bar.
  auto progress = env.progress("pulling " + name);
  progress->set_units(false, "records", "pages");
  o.progress = [&progress](int pages, int, size_t records) { progress->update(uint64_t(pages), 0, records); };
  net::CurlHttpClient http;
  const pricing::Catalog& catalog = env.catalog();
  const providers::PullResult r =
      providers::pull(o, http, env.imports(), env.pulls(), catalog, now, f.dry_run);
  progress->clear();

  for (const auto& d : r.days)
    if (d.change == "revised")
      env.err << "billctl: warning: " << name << " revised " << util::format_date(util::day_of(d.day))
              << ", a settled day; its stored usage and billed cost were replaced\n";
  for (const auto& m : r.unpriced_models)
    env.note("note: " + name + " model '" + m + "' has no price in the catalog; its usage is kept as unpriced "
             "(add it with 'billctl prices import')");

  render::Table t;
  t.id = "days";
  t.title = name + " " + util::format_date(util::day_of(r.begin)) + ".." + util::format_date(util::day_of(r.end - 1)) +
            (f.dry_run ? " (dry run, nothing stored)" : "");
  t.columns = {{"day", "day", render::Kind::text},          {"state", "state", render::Kind::text},
               {"change", "change", render::Kind::text},    {"records", "records", render::Kind::integer},
               {"billed_lines", "billed lines", render::Kind::integer},
               {"computed", "computed", render::Kind::money}, {"billed", "billed", render::Kind::money}};
  for (const auto& d : r.days) {
    t.currency = d.currency;
    const int digits = d.currency.minor_units;
    t.rows.push_back({render::Value::of_text(util::format_date(util::day_of(d.day))), render::Value::of_text(d.state),
                      render::Value::of_text(d.change), render::Value::of_int(d.records), render::Value::of_int(d.billed_lines),
                      render::Value::of_money(d.computed.round(digits), digits),
                      render::Value::of_money(d.billed.round(digits), digits)});
  }
  size_t changed = 0, revised = 0;
  for (const auto& d : r.days) {
    changed += d.change != "unchanged";
    revised += d.change == "revised";
  }
  std::string out;
  if (fmt == Format::table) {
    out = render::to_text(t, env.style());
    out += (f.dry_run ? "would store " : "stored ") + util::group_thousands(int64_t(r.records)) + " records and " +
           util::group_thousands(int64_t(r.billed_lines)) + " billed lines from " + std::to_string(r.pages) + " pages; " +
           std::to_string(changed) + " of " + std::to_string(r.days.size()) + " days new or changed" +
           (revised ? " (" + std::to_string(revised) + " settled day" + (revised > 1 ? "s" : "") + " revised)" : "") +
           (r.removed ? ", " + util::group_thousands(int64_t(r.removed)) + " records of the earlier pull gone" : "") + "\n";
  } else if (fmt == Format::csv) {
    out = render::to_csv(t);
  } else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.usage.pull";
    j["provider"] = name;
    j["from"] = util::format_rfc3339(r.begin);
    j["to"] = util::format_rfc3339(r.end);
    j["bucket"] = o.bucket;
    j["dry_run"] = f.dry_run;
    j["pages"] = r.pages;
    j["records"] = r.records;
    j["billed_lines"] = r.billed_lines;
    j["removed"] = r.removed;
    j["unpriced"] = r.unpriced;
    j["unpriced_models"] = r.unpriced_models;
    j["days"] = render::rows_json(t);
    out = render::dump(j);
  }
  env.emit(out, f.output);
}

}  // namespace

void add_usage_pull(CLI::App* usage, CommandTable& table) {
  auto f = std::make_shared<PullFlags>();
  CLI::App* c = usage->add_subcommand("pull", "Pull usage and billed cost from a provider's admin API (openai, anthropic)");
  c->add_option("provider", f->provider, "openai or anthropic")->required()->type_name("PROVIDER");
  c->add_option("--period", f->period, "Pull this period: 2026-10, 2026-10-05, FROM..TO, this-month, last-month")
      ->type_name("PERIOD");
  c->add_option("--since", f->since, "Pull from this day (YYYY-MM-DD or RFC 3339) to today")->type_name("TIME");
  c->add_option("--bucket", f->bucket, "Bucket width of usage: 1d (default) or 1h; costs are always daily")->type_name("WIDTH");
  c->add_option("--settle-days", f->settle_days, "Days the provider may still revise (default 3, or providers.NAME.settle_days)")
      ->type_name("N")
      ->check(whole_number(0, 31));
  c->add_option("--base-url", f->base_url, "The API's base URL (default the provider's; http only to loopback)")->type_name("URL");
  c->add_flag("--dry-run", f->dry_run, "Fetch and show what would change; store nothing");
  add_output_options(c, f->format, f->output);
  table.push_back({c, [f](Env& env) { run_pull(*f, env); }});
}

}  // namespace billctl::cmd
