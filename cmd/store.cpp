// billctl store migrate: copies the embedded store's usage to ClickHouse and verifies the copy.
#include <memory>

#include "billctl/render/json.hpp"
#include "billctl/store/migrate.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Kind;
using render::Value;

struct MigrateOptions {
  std::string to;
  std::string format = "table";
  std::string output;
};

void run_migrate(const MigrateOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  if (!store::ch::is_url(o.to))
    throw UsageError("invalid --to '" + o.to + "': expected clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE");
  if (env.usage_in_clickhouse())
    throw UsageError("store migrate copies the embedded store's usage: give --db the SQLite file (or --state), not a ClickHouse address");
  auto target = env.open_clickhouse(o.to, "--to");
  target->set_lock_path(env.db_path() + ".clickhouse-import.lock");
  const std::string to = store::ch::display(target->client().config());
  auto bar = env.progress("copying usage");
  bar->set_units(false, "", "records");
  const store::MigrateResult r = store::migrate_usage(env.sqlite(), *target, [&](uint64_t n) { bar->update(n, 0); });
  bar->clear();

  render::Table t;
  t.id = "months";
  t.title = "Usage per month in " + env.db_path() + " and " + to;
  t.columns = {{"month", "month", Kind::text},
               {"records_sqlite", "records (sqlite)", Kind::integer},
               {"records_clickhouse", "records (clickhouse)", Kind::integer},
               {"tokens_sqlite", "tokens (sqlite)", Kind::integer},
               {"tokens_clickhouse", "tokens (clickhouse)", Kind::integer},
               {"cost_sqlite", "cost (sqlite)", Kind::decimal},
               {"cost_clickhouse", "cost (clickhouse)", Kind::decimal},
               {"equal", "equal", Kind::text}};
  for (const auto& m : r.months)
    t.rows.push_back({Value::of_text(m.month), Value::of_int(m.from.records), Value::of_int(m.to.records),
                      Value::of_int(m.from.tokens()), Value::of_int(m.to.tokens()),
                      Value::of_money(m.from.cost_decimal(), 12), Value::of_money(m.to.cost_decimal(), 12),
                      Value::of_text(m.equal() ? "yes" : "NO")});
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.store.migrate";
    j["to"] = to;
    j["imports_copied"] = r.imports;
    j["imports_copied_before"] = r.already;
    j["records_copied"] = r.records;
    j["verified"] = r.verified();
    j["months"] = render::rows_json(t);
    out = render::dump(j);
  } else if (f == Format::csv) {
    out = table_output(t, f, env, "", "", "");
  } else {
    out = "Copied " + util::group_thousands(int64_t(r.records)) + " records of " + std::to_string(r.imports) + " imports to " + to +
          (r.already ? " (" + std::to_string(r.already) + " imports were copied before)" : "") + "\n\n" +
          table_output(t, f, env, "", "", "no usage in either store\n") + "\n" +
          (r.verified() ? "verified: every month has the same records, tokens and cost in both stores\n"
                        : "NOT verified: the stores differ (see the months marked NO)\n");
  }
  env.emit(out, o.output);
  if (!r.verified())
    throw DataError("the copy in " + to + " differs from " + env.db_path() +
                    " (ClickHouse holds other usage, or records changed meanwhile); run store migrate again to resume");
}

}  // namespace

void add_store(CLI::App& root, CommandTable& table) {
  CLI::App* st = root.add_subcommand("store", "Store maintenance: copy usage to ClickHouse");
  st->require_subcommand(1);
  auto mo = std::make_shared<MigrateOptions>();
  CLI::App* mig = st->add_subcommand("migrate", "Copy the embedded store's usage to ClickHouse, resumably, and verify it");
  mig->add_option("--to", mo->to, "clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE")->required()->type_name("URL");
  add_output_options(mig, mo->format, mo->output);
  table.push_back({mig, [mo](Env& env) { run_migrate(*mo, env); }});
}

}  // namespace billctl::cmd
