// The end of every --help: the global options the command also takes, then two or three examples.
// One table for every command, so that a new command without examples fails a test
// (tests/integration/test_help_examples.sh checks that each command has some, and each example's
// flags against the command's).
#include "commands.hpp"

#include <map>

namespace billctl::cmd {

namespace {

using Examples = std::vector<const char*>;

const std::map<std::string, Examples>& table() {
  static const std::map<std::string, Examples> t{
      {"", {"billctl usage import exports/*.csv", "billctl report --period last-month", "billctl budgets check"}},
      {"usage",
       {"billctl usage import exports/2026-10.csv", "billctl usage summary --period last-month --by department,model",
        "billctl usage watch"}},
      {"usage import",
       {"billctl usage import exports/*.csv", "billctl usage import ~/.claude/projects --set user=$USER",
        "billctl usage import export.csv --on-error skip --rejects rejects.csv"}},
      {"usage summary",
       {"billctl usage summary --period last-month --by department,model",
        "billctl usage summary --since 7d --by day --where user=alice",
        "billctl usage summary --period 2026-Q3 --by month --format csv -o q3.csv",
        "billctl usage summary --by day --input ~/.claude/projects"}},
      {"usage top",
       {"billctl usage top", "billctl usage top --by model --period last-week --limit 5",
        "billctl usage top --by feature --where department=eng --format json",
        "billctl usage top --period last-month --input export.csv"}},
      {"usage log", {"billctl usage log", "billctl usage log --limit 5 --format json"}},
      {"usage anomalies",
       {"billctl usage anomalies --period last-month", "billctl usage anomalies --by user --sensitivity high",
        "billctl usage anomalies --notify --channel ops-slack"}},
      {"usage patterns", {"billctl usage patterns", "billctl usage patterns --period 2026-Q3 --format json"}},
      {"usage pull",
       {"billctl usage pull openai --period last-month", "billctl usage pull anthropic --since 2026-10-01 --dry-run",
        "billctl usage pull openai --bucket 1h --period yesterday"}},
      {"usage watch", {"billctl usage watch", "billctl usage watch --interval 30", "billctl usage watch --once"}},
      {"budgets",
       {"billctl budgets set eng --scope department:eng --limit \"5000 USD\"", "billctl budgets status",
        "billctl budgets check --fail-on critical"}},
      {"budgets set",
       {"billctl budgets set eng --scope department:eng --limit \"5000 USD\"",
        "billctl budgets set alice-daily --scope user:alice --period daily --limit \"2500000 tokens\" --mode hard",
        "billctl budgets set all --limit \"20000 USD\" --stages 50,80,100 --channel finance-mail"}},
      {"budgets list", {"billctl budgets list", "billctl budgets list --format json"}},
      {"budgets rm", {"billctl budgets rm eng", "billctl budgets rm eng alice-daily"}},
      {"budgets status",
       {"billctl budgets status", "billctl budgets status eng --format json", "billctl --now 2026-10-31T12:00:00Z budgets status"}},
      {"budgets apply", {"billctl budgets apply -f budgets.toml --dry-run", "billctl budgets apply -f budgets.toml --prune"}},
      {"budgets check",
       {"billctl budgets check", "billctl budgets check --fail-on warning --format junit -o budgets.xml",
        "billctl budgets check --user alice --model gpt-4o"}},
      {"budgets notify", {"billctl budgets notify", "billctl budgets notify --dry-run"}},
      {"credits",
       {"billctl credits buy starter --org acme --reference PO-1042", "billctl credits deduct --all --period last-month",
        "billctl credits balance"}},
      {"credits balance", {"billctl credits balance", "billctl credits balance --org acme --format json"}},
      {"credits packages", {"billctl credits packages", "billctl credits packages --format csv"}},
      {"credits buy",
       {"billctl credits buy starter --org acme --reference PO-1042",
        "billctl credits buy growth --org acme --reference PO-1043 --idempotency-key po-1043"}},
      {"credits deduct",
       {"billctl credits deduct --all --period last-month", "billctl credits deduct --org acme --period 2026-10"}},
      {"credits refund",
       {"billctl credits refund 12 --reference RF-7 --reason \"duplicate purchase\"",
        "billctl credits refund 12 --credits 500 --reference RF-8 --reason \"partial refund\""}},
      {"credits adjust",
       {"billctl credits adjust --org acme --credits 250 --reason \"goodwill\"",
        "billctl credits adjust --org acme --credits -100 --reason \"correction\" --reference TICKET-9"}},
      {"credits ledger",
       {"billctl credits ledger --org acme", "billctl credits ledger --period 2026-10 --kind usage",
        "billctl credits ledger --summary --format csv"}},
      {"credits verify", {"billctl credits verify", "billctl credits verify --format json"}},
      {"credits topup",
       {"billctl credits topup --org acme --below 1000 --package growth", "billctl credits topup --org acme --off"}},
      {"invoices",
       {"billctl invoices plans assign acme professional", "billctl invoices generate --period last-month --issue",
        "billctl invoices pdf INV-2026-000001 -o inv.pdf"}},
      {"invoices plans", {"billctl invoices plans", "billctl invoices plans --format json"}},
      {"invoices plans assign",
       {"billctl invoices plans assign acme professional", "billctl invoices plans assign acme starter --since 2026-10"}},
      {"invoices plans usage", {"billctl invoices plans usage", "billctl invoices plans usage --org acme --period last-month"}},
      {"invoices generate",
       {"billctl invoices generate --period last-month", "billctl invoices generate --period 2026-10 --org acme --issue",
        "billctl invoices generate --partial --tax-rate 19"}},
      {"invoices list",
       {"billctl invoices list", "billctl invoices list --status overdue", "billctl invoices list --org acme --format csv"}},
      {"invoices show", {"billctl invoices show INV-2026-000001", "billctl invoices show INV-2026-000001 --format json"}},
      {"invoices pdf", {"billctl invoices pdf INV-2026-000001 -o inv.pdf"}},
      {"invoices issue", {"billctl invoices issue INV-2026-000001"}},
      {"invoices mark-paid", {"billctl invoices mark-paid INV-2026-000001 --reference WIRE-5521"}},
      {"invoices void", {"billctl invoices void INV-2026-000001 --reason \"issued to the wrong organization\""}},
      {"report",
       {"billctl report --period last-month", "billctl report --period 2026-10 --format pdf -o oct.pdf",
        "billctl report --input export.csv --format json"}},
      {"report recommendations",
       {"billctl report recommendations", "billctl report recommendations --period 2026-Q3 --min-saving 50"}},
      {"report save",
       {"billctl report save finance-monthly --format pdf --description \"For finance, each month\"",
        "billctl report save eng --where department=eng --recommendations"}},
      {"report run", {"billctl report run finance-monthly -o oct.pdf", "billctl report run eng --period 2026-09"}},
      {"report list", {"billctl report list", "billctl report list --format json"}},
      {"report show", {"billctl report show finance-monthly", "billctl report show finance-monthly --format json"}},
      {"report rm", {"billctl report rm eng"}},
      {"report send",
       {"billctl report send finance-monthly --to finance-mail", "billctl report send finance-monthly --to finance-mail --dry-run"}},
      {"report reconcile",
       {"billctl report reconcile --period last-month", "billctl report reconcile --provider openai --by day --fail-above 2"}},
      {"forecast",
       {"billctl forecast", "billctl forecast --by department --levels 80,95",
        "billctl forecast --fail-above budget:all --probability 80"}},
      {"forecast backtest", {"billctl forecast backtest --from 2026-01 --to 2026-10"}},
      {"prices", {"billctl prices list --provider anthropic", "billctl prices show gpt-4o"}},
      {"prices list", {"billctl prices list", "billctl prices list --provider openai --history"}},
      {"prices show", {"billctl prices show claude-sonnet-4-5", "billctl prices show gpt-4o --at 2025-01-01"}},
      {"prices import",
       {"billctl prices import model_prices_and_context_window.json",
        "billctl prices import negotiated.json --name negotiated --effective-from 2026-01-01"}},
      {"completion",
       {"billctl completion bash > /etc/bash_completion.d/billctl", "source <(billctl completion zsh)",
        "billctl completion fish > ~/.config/fish/completions/billctl.fish"}},
      {"store", {"billctl --db usage.db store migrate --to clickhouse://127.0.0.1:8123/billing"}},
      {"serve",
       {"billctl serve --listen 127.0.0.1:8443 --tls-cert cert.pem --tls-key key.pem", "billctl serve --schema > schema.graphql",
        "billctl serve clients add acme-finance --org acme --role billing-contact"}},
      {"serve clients", {"billctl serve clients list", "billctl serve clients add ci --org ops --role platform-admin --scope billing:read"}},
      {"serve clients add",
       {"billctl serve clients add acme-finance --org acme --role billing-contact",
        "billctl serve clients add acme-admin --org acme --role tenant-admin --format json"}},
      {"serve clients list", {"billctl serve clients list", "billctl serve clients list --format json"}},
      {"serve clients remove", {"billctl serve clients remove acme-finance"}},
      {"serve keys", {"billctl serve keys rotate", "billctl serve keys jwks"}},
      {"serve keys rotate", {"billctl serve keys rotate", "billctl serve keys rotate --keys /var/lib/billctl/keys"}},
      {"serve keys jwks", {"billctl serve keys jwks > jwks.json"}},
      {"store migrate",
       {"billctl --db usage.db store migrate --to clickhouse://127.0.0.1:8123/billing",
        "billctl --db usage.db --cluster billing store migrate --to clickhouse://ch1:8123,ch2:8123/billing --format json"}},
      {"doctor", {"billctl doctor", "billctl doctor --format json | jq '.findings[] | select(.level != \"ok\")'"}},
      {"config", {"billctl config path", "billctl config set tz Europe/Berlin", "billctl config get notify.default_channels"}},
      {"config path", {"billctl config path", "billctl --config ./team.toml config path"}},
      {"config list", {"billctl config list"}},
      {"config get", {"billctl config get tz", "billctl config get invoices.net_days"}},
      {"config set", {"billctl config set tz Europe/Berlin", "billctl config set invoices.tax_rate 19"}},
  };
  return t;
}

void visit(CLI::App* app, const std::string& globals) {
  const std::string path = verb_path(app);
  std::string footer;
  if (!path.empty()) footer = globals + "\n\n";
  else footer = "Also: 'billctl help [COMMAND]' (the same as --help) and 'billctl version'. See billctl(1).\n\n";
  if (auto e = table().find(path); e != table().end()) {
    footer += "Examples:";
    for (const char* line : e->second) footer += std::string("\n  ") + line;
  }
  app->footer(footer);
  for (CLI::App* c : app->get_subcommands({}))
    if (c->get_name().rfind("__", 0) != 0) visit(c, globals);
}

}  // namespace

void add_help_footers(CLI::App& root) {
  std::string globals = "Global options (see billctl --help):";
  size_t line = globals.size();
  for (const CLI::Option* o : root.get_options({})) {
    if (o->get_positional()) continue;
    std::string name;
    for (const auto& l : o->get_lnames()) name = "--" + l;
    if (name == "--help" || name == "--version") continue;
    if (!o->get_type_name().empty()) name += " " + o->get_type_name();
    if (line + name.size() + 2 > 78) {
      globals += "\n ";
      line = 1;
    }
    globals += " " + name + ",";
    line += name.size() + 2;
  }
  globals.pop_back();
  visit(&root, globals);
}

void add_examples(CLI::App& root, CommandTable& commands) {
  // Hidden: "PATH<TAB>EXAMPLE" for every example ("-" for the top level), for the test.
  CLI::App* c = root.add_subcommand("__examples", "");
  c->group("");
  commands.push_back({c, [](Env& env) {
                        for (const auto& [path, lines] : table())
                          for (const char* l : lines) env.out << (path.empty() ? "-" : path) << "\t" << l << "\n";
                      }});
}

}  // namespace billctl::cmd
