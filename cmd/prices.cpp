// billctl prices list | show | import
#include <memory>

#include "billctl/render/json.hpp"
#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Kind;
using render::Value;

struct ListOptions {
  std::string provider;
  bool history = false;
  std::string format = "table";
  std::string output;
};

struct ShowOptions {
  std::string model;
  std::string at;
  std::string format = "table";
  std::string output;
};

struct ImportOptions {
  std::string file;
  std::string format = "auto";
  std::string name;
  std::string effective_from = "1970-01-01";
};

render::Table price_table(const std::vector<const pricing::PriceEntry*>& entries, const pricing::Catalog& catalog) {
  render::Table t;
  t.id = "prices";
  t.title = "Prices per 1M tokens, catalog " + catalog.info().name + " (as of " + catalog.info().as_of + ")";
  t.columns = {{"model", "model", Kind::text},
               {"provider", "provider", Kind::text},
               {"effective_from", "from", Kind::text},
               {"currency", "cur", Kind::text},
               {"input", "input", Kind::decimal},
               {"cached_input", "cached", Kind::decimal},
               {"cache_write_5m", "write 5m", Kind::decimal},
               {"cache_write_1h", "write 1h", Kind::decimal},
               {"output", "output", Kind::decimal},
               {"tiers", "tiers", Kind::text},
               {"long_context_above", "long ctx >", Kind::integer}};
  auto rate = [](bool has, const money::Decimal& d) {
    if (!has) return Value::none();
    Value v = Value::of_money(pricing::per_million(d), 0);
    // As many digits as the price needs, at least two.
    std::string s = pricing::per_million(d).to_string(2);
    const auto dot = s.find('.');
    v.decimal_digits = dot == std::string::npos ? 2 : int(s.size() - dot - 1);
    return v;
  };
  for (const auto* e : entries) {
    const auto& r = e->tiers[0];
    std::string tiers = "standard";
    for (size_t i = 1; i < 4; ++i)
      if (e->tier_available[i]) tiers += "," + std::string(usage::tier_name(usage::Tier(i)));
    t.rows.push_back({Value::of_text(e->model), Value::of_text(e->provider), Value::of_text(util::format_date(e->effective_day)),
                      Value::of_text(std::string(e->currency.name())), rate(true, r.input), rate(r.has_cached, r.cached_input),
                      rate(r.has_cache_write_5m, r.cache_write_5m), rate(r.has_cache_write_1h, r.cache_write_1h),
                      rate(true, r.output), Value::of_text(tiers),
                      e->long_context_threshold ? Value::of_int(e->long_context_threshold) : Value::none()});
  }
  return t;
}

void run_list(const ListOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const pricing::Catalog& c = env.catalog();
  const int64_t today = util::day_of(env.now());
  std::vector<const pricing::PriceEntry*> shown;
  for (const auto& e : c.entries()) {
    if (!o.provider.empty() && e.provider != o.provider) continue;
    if (!o.history) {
      // Only the entry in force today (or the first, for a model whose prices start later).
      const pricing::PriceEntry* cur = c.find(e.model, today);
      if (cur ? cur != &e : c.timeline(e.model).front() != &e) continue;
    }
    shown.push_back(&e);
  }
  render::Table t = price_table(shown, c);
  std::string out;
  if (f == Format::table) out = render::to_text(t, env.style());
  else if (f == Format::csv) out = render::to_csv(t);
  else {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.prices";
    j["catalog"] = {{"name", c.info().name}, {"sha256", c.info().hash}, {"as_of", c.info().as_of}};
    j["unit"] = "per 1M tokens";
    j["prices"] = render::rows_json(t);
    out = render::dump(j);
  }
  env.emit(out, o.output);
}

void run_show(const ShowOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  const pricing::Catalog& c = env.catalog();
  auto tl = c.timeline(o.model);
  if (tl.empty()) {
    std::vector<std::string> names;
    for (const auto& e : c.entries()) names.push_back(e.model);
    const std::string hint = util::did_you_mean(o.model, names);
    throw DataError("unknown model '" + o.model + "' in catalog " + c.info().name +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  int64_t day = util::day_of(env.now());
  if (!o.at.empty()) day = util::parse_date(o.at).flag_value("--at", o.at);
  const pricing::PriceEntry* cur = c.find(o.model, day);
  if (f == Format::json) {
    std::vector<pricing::PriceEntry> copy;
    for (const auto* e : tl) copy.push_back(*e);
    render::Json j = render::Json::parse(pricing::to_catalog_json(copy, c.info().name));
    j["schema_version"] = 1;
    j["kind"] = "billctl.prices.show";
    j["in_force"] = cur ? render::Json(util::format_date(cur->effective_day)) : render::Json(nullptr);
    env.emit(render::dump(j), o.output);
    return;
  }
  render::Table t = price_table(tl, c);
  if (f == Format::csv) {
    env.emit(render::to_csv(t), o.output);
    return;
  }
  std::string out = render::to_text(t, env.style());
  const pricing::PriceEntry* e = cur ? cur : tl.front();
  out += "\nin force on " + util::format_date(day) + ": " +
         (!cur ? std::string("none")
               : cur->effective_day == 0 ? std::string("always (no start date)") : "from " + util::format_date(cur->effective_day)) +
         "\n";
  out += "source: " + e->source + " (as of " + e->as_of + ")\n";
  if (!e->aliases.empty()) {
    out += "aliases:";
    for (const auto& a : e->aliases) out += " " + a;
    out += "\n";
  }
  for (size_t i = 1; i < 4; ++i) {
    if (!e->tier_available[i]) continue;
    const auto& r = e->tiers[i];
    out += std::string(usage::tier_name(usage::Tier(i))) + ": input " + pricing::per_million(r.input).to_string(2) +
           ", output " + pricing::per_million(r.output).to_string(2) + "\n";
  }
  if (e->long_context_threshold > 0) {
    const auto& r = e->long_tiers[0];
    out += "above " + util::group_thousands(e->long_context_threshold) + " input tokens per request the whole request costs: input " +
           pricing::per_million(r.input).to_string(2) + ", output " + pricing::per_million(r.output).to_string(2) + "\n";
  }
  env.emit(out, o.output);
}

void run_import(const ImportOptions& o, Env& env) {
  if (o.format != "auto" && o.format != "billctl" && o.format != "litellm")
    throw UsageError("invalid --format '" + o.format + "': expected auto, billctl or litellm");
  const int64_t eff = util::parse_date(o.effective_from).flag_value("--effective-from", o.effective_from);
  const pricing::PriceFile pf = pricing::parse_price_file(util::read_file(o.file), o.file, o.format, eff, util::day_of(env.now()));
  const auto& entries = pf.entries;
  const std::string& format = pf.format;
  const size_t skipped = pf.skipped;
  std::string name = o.name;
  if (name.empty()) {
    const auto slash = o.file.find_last_of('/');
    name = slash == std::string::npos ? o.file : o.file.substr(slash + 1);
    if (const auto dot = name.rfind('.'); dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  }
  const size_t models = env.prices().save_user_prices(entries, name, env.now());
  std::string out = "imported " + std::to_string(entries.size()) + " prices for " + std::to_string(models) +
                    " models from " + o.file + " (" + format + " format)";
  if (skipped) out += "; skipped " + std::to_string(skipped) + " entries without token prices";
  if (!env.quiet()) env.emit(out + "\n", "");
}

}  // namespace

void add_prices(CLI::App& root, CommandTable& table) {
  CLI::App* prices = root.add_subcommand("prices", "The price catalog");
  prices->require_subcommand(1);

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = prices->add_subcommand("list", "Prices in force now, per 1M tokens");
  list->add_option("--provider", lo->provider, "Only this provider (openai, anthropic, google, ...)")->type_name("NAME");
  list->add_flag("--history", lo->history, "Every effective-dated entry, not only those in force");
  add_output_options(list, lo->format, lo->output);
  table.push_back({list, [lo](Env& env) { run_list(*lo, env); }});

  auto so = std::make_shared<ShowOptions>();
  CLI::App* show = prices->add_subcommand("show", "Every price of one model, with tiers and sources");
  show->add_option("model", so->model, "Model name (provider prefixes and date suffixes are understood)")
      ->required()
      ->type_name("MODEL");
  show->add_option("--at", so->at, "Which entry is in force on DATE (default today)")->type_name("DATE");
  add_output_options(show, so->format, so->output);
  table.push_back({show, [so](Env& env) { run_show(*so, env); }});

  auto io = std::make_shared<ImportOptions>();
  CLI::App* imp = prices->add_subcommand("import", "Import a price catalog into the store (it overrides built-in prices per model)");
  imp->add_option("file", io->file, "billctl catalog JSON or LiteLLM model_prices_and_context_window.json")
      ->required()
      ->type_name("FILE");
  imp->add_option("--format", io->format, "auto, billctl or litellm")->type_name("FORMAT");
  imp->add_option("--name", io->name, "Name of the catalog in reports (default: the file name)")->type_name("NAME");
  imp->add_option("--effective-from", io->effective_from, "LiteLLM prices are in force from DATE (default 1970-01-01)")
      ->type_name("DATE");
  table.push_back({imp, [io](Env& env) { run_import(*io, env); }});
}

}  // namespace billctl::cmd
