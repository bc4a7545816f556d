// billctl __complete WORD...: the candidates for the last word of a command line, for the shell
// completion scripts. One candidate per line, "VALUE<TAB>DESCRIPTION" (the description may be
// absent); a single line ":files" asks the shell to complete file names. Subcommands and flags come
// from the command tree, values from the option they belong to: fixed choices from the option's
// own help text, periods and months from "now", dimension values, organizations, budgets, invoices
// and templates from the store (read-only, never migrated or created), plans, packages and channels
// from the config. It never fails: anything it cannot read gives no candidates.
#include "complete.hpp"
#include "commands.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "billctl/billing/plans.hpp"
#include "billctl/credits/ledger.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/store/sqlite/names.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/time.hpp"

namespace billctl::cmd {

namespace {

constexpr size_t k_max_candidates = 200;

struct Candidate {
  std::string value;
  std::string help;
};
using Candidates = std::vector<Candidate>;

bool takes_value(const CLI::Option* o) { return !o->get_type_name().empty(); }
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

const CLI::App* find_subcommand(const CLI::App* app, const std::string& word) {
  for (const CLI::App* c : app->get_subcommands({}))
    if (!hidden_command(c) && c->check_name(word)) return c;
  return nullptr;
}

std::string key_of(const CLI::Option* o) {
  if (o->get_positional()) return o->get_name();
  return o->get_lnames().empty() ? o->get_snames().front() : o->get_lnames().front();
}

// Fixed choices: the words of the option's vocabulary that its help text names. The help text is
// what users read, so completions offer exactly the choices it promises (a test checks that every
// option with fixed choices offers some).
const std::vector<std::string>* vocabulary(const CLI::Option* o) {
  using Words = std::vector<std::string>;
  static const std::map<std::string, Words, std::less<>> by_type{
      {"FORMAT", {"table", "csv", "json", "pdf", "xlsx", "focus", "junit", "auto", "billctl", "litellm", "jsonl",
                  "claude-code", "openai-api", "anthropic-api", "gcp-billing"}},
      {"WHEN", {"auto", "always", "never"}},
      {"LEVEL", {"low", "medium", "high"}},
      {"G", {"day", "hour"}},
      {"MODE", {"soft", "hard"}},
      {"POLICY", {"fail", "skip"}},
      {"STATUS", {"draft", "pending", "overdue", "paid", "void"}},
      {"METRIC", {"cost", "tokens", "requests", "errors"}},
      {"WIDTH", {"1d", "1h"}},
      {"SHELL", {"bash", "zsh", "fish"}},
      {"PROVIDER", {"openai", "anthropic"}},
      {"ROLE", {"platform-admin", "tenant-admin", "billing-contact"}}};
  static const std::map<std::string, Words, std::less<>> by_key{
      {"kind", {"purchase", "usage", "correction", "refund", "adjustment", "expiry", "topup", "invoice"}},
      {"fail-on", {"warning", "critical", "exceeded", "forecast"}},
      {"input-format", by_type.at("FORMAT")},
      {"output-format", by_type.at("FORMAT")}};
  if (auto k = by_key.find(key_of(o)); k != by_key.end()) return &k->second;
  if (auto t = by_type.find(o->get_type_name()); t != by_type.end()) return &t->second;
  return nullptr;
}

bool enumerated(const CLI::Option* o) { return vocabulary(o) != nullptr; }

std::vector<std::string> choices_in_help(const CLI::Option* o) {
  std::vector<std::string> out;
  const std::vector<std::string>* words = vocabulary(o);
  if (!words) return out;
  const std::string& d = o->get_description();
  auto word_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  for (size_t i = 0; i < d.size();) {
    if (!word_char(d[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && word_char(d[j])) ++j;
    const std::string w = d.substr(i, j - i);
    if (std::find(words->begin(), words->end(), w) != words->end() && std::find(out.begin(), out.end(), w) == out.end())
      out.push_back(w);
    i = j;
  }
  return out;
}

struct Completer {
  Env& env;
  const std::string& cur;  // the word being completed (after any "--flag=" part)

  std::vector<std::string> stored(store::NameKind kind, std::string_view prefix, std::string_view dim = {}) {
    std::vector<std::string> out = store::stored_names(env.db_path(), kind, prefix, k_max_candidates, dim);
    // With usage in ClickHouse its values come from there (the state file has no usage).
    if (kind == store::NameKind::dimension || kind == store::NameKind::organization) {
      try {
        if (auto* ch = env.clickhouse()) {
          for (auto& v : ch->dimension_values(kind == store::NameKind::organization ? "organization" : dim, prefix, k_max_candidates))
            out.push_back(std::move(v));
          std::sort(out.begin(), out.end());
          out.erase(std::unique(out.begin(), out.end()), out.end());
          if (out.size() > k_max_candidates) out.resize(k_max_candidates);
        }
      } catch (const std::exception&) {
        // A server that is down or refuses: complete what the state file knows.
      }
    }
    return out;
  }

  static Candidates plain(const std::vector<std::string>& values) {
    Candidates c;
    for (const auto& v : values) c.push_back({v, ""});
    return c;
  }

  Candidates periods(bool months_only) {
    Candidates c;
    const int64_t today = util::day_of(env.now());
    const util::Date d = util::civil_from_days(today);
    if (!months_only) {
      c = {{"this-month", "the calendar month of today"},
           {"last-month", "the month before"},
           {"mtd", "this month up to today"},
           {"today", "today"},
           {"yesterday", "yesterday"},
           {"this-week", "the week of today"},
           {"last-week", "the week before"},
           {"7d", "the 7 days ending today"},
           {"30d", "the 30 days ending today"},
           {"ytd", "this year up to today"}};
      const int q = (d.month - 1) / 3 + 1;
      c.push_back({std::to_string(d.year) + "-Q" + std::to_string(q), "this quarter"});
      c.push_back({q == 1 ? std::to_string(d.year - 1) + "-Q4" : std::to_string(d.year) + "-Q" + std::to_string(q - 1),
                   "the quarter before"});
      c.push_back({std::to_string(d.year), "this year"});
    }
    int y = d.year, m = d.month;
    for (int i = 0; i < 12; ++i) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
      c.push_back({buf, i == 0 ? "this month" : ""});
      if (--m == 0) m = 12, --y;
    }
    return c;
  }

  // "provider,mo" -> "provider,model", ...: each dimension not named yet, after the ones typed.
  Candidates dimension_list(const std::vector<std::string>& dims) {
    const size_t comma = cur.rfind(',');
    const std::string head = comma == std::string::npos ? "" : cur.substr(0, comma + 1);
    Candidates c;
    for (const auto& d : dims) {
      if (("," + head).find("," + d + ",") != std::string::npos) continue;
      c.push_back({head + d, ""});
    }
    return c;
  }

  Candidates dimension_values(std::string_view dim, const std::string& before, std::string_view prefix) {
    Candidates c;
    if (dim == "status") {
      for (const char* s : {"ok", "error"}) c.push_back({before + s, ""});
      return c;
    }
    for (const auto& v : stored(store::NameKind::dimension, prefix, dim)) c.push_back({before + v, ""});
    return c;
  }

  // --where KEY=VALUE: the text dimensions, then the stored values of the one typed.
  Candidates where() {
    const size_t eq = cur.find('=');
    if (eq != std::string::npos) return dimension_values(cur.substr(0, eq), cur.substr(0, eq + 1), std::string_view(cur).substr(eq + 1));
    Candidates c;
    for (size_t i = 0; i < usage::k_text_dims; ++i) c.push_back({std::string(usage::dim_name(usage::Dim(i))) + "=", ""});
    return c;
  }

  // --scope organization | KIND:NAME.
  Candidates scope() {
    const size_t colon = cur.find(':');
    if (colon != std::string::npos)
      return dimension_values(cur.substr(0, colon), cur.substr(0, colon + 1), std::string_view(cur).substr(colon + 1));
    Candidates c{{"organization", "the whole organization"}};
    for (const char* k : {"department:", "user:", "feature:", "project:", "model:"}) c.push_back({k, ""});
    return c;
  }

  Candidates organizations() {
    std::vector<std::string> names = stored(store::NameKind::organization, cur);
    if (const toml::table* orgs = env.config_table("orgs"))
      for (const auto& [k, v] : *orgs) names.emplace_back(k.str());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return plain(names);
  }

  // Models or providers: those of the built-in catalog and those in the store.
  Candidates catalog_names(std::string pricing::PriceEntry::*field, std::string_view dim) {
    std::set<std::string> names;
    const pricing::Catalog builtin = pricing::Catalog::builtin();
    for (const auto& e : builtin.entries()) names.insert(e.*field);
    for (const auto& v : stored(store::NameKind::dimension, cur, dim)) names.insert(v);
    return plain(std::vector<std::string>(names.begin(), names.end()));
  }

  Candidates channels() {
    Candidates c;
    for (const auto& ch : env.notify_settings().channels) c.push_back({ch.name, std::string(notify::kind_name(ch.kind))});
    return c;
  }

  Candidates plans() {
    Candidates c;
    for (const auto& p : billing::parse_plans(env.config_table("plans"), env.config_path())) c.push_back({p.name, ""});
    return c;
  }

  Candidates packages() {
    Candidates c;
    for (const auto& p : credits::parse_config(env.config_table("credits"), env.config_path()).packages)
      c.push_back({p.name, p.total().to_string() + " credits"});
    return c;
  }

  // config get/set KEY: the top-level keys billctl knows and every dotted key the file has.
  Candidates config_keys_of_file() {
    std::set<std::string> keys(config_keys().begin(), config_keys().end());
    std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t, const std::string& at) {
      for (const auto& [k, v] : t) {
        const std::string key = at + std::string(k.str());
        if (const toml::table* sub = v.as_table()) walk(*sub, key + ".");
        else keys.insert(key);
      }
    };
    for (const auto& k : config_keys())
      if (const toml::table* t = env.config_table(k)) walk(*t, k + ".");
    return plain(std::vector<std::string>(keys.begin(), keys.end()));
  }

  Candidates values(const CLI::App* cmd, const CLI::Option* o) {
    const std::string path = verb_path(cmd);
    const std::string key = key_of(o);
    const std::string type = o->get_type_name();
    if (type == "FILE" || type == "PATH" || type == "PATH|URL") return {{":files", ""}};
    if (enumerated(o)) return plain(choices_in_help(o));
    if (key == "where") return where();
    if (key == "scope") return scope();
    if (type == "PERIOD") return path == "budgets set" ? Candidates{{"monthly", ""}, {"daily", ""}} : periods(false);
    if (type == "MONTH") return periods(true);
    if (type.rfind("DIM", 0) == 0) {
      if (path == "report reconcile") return dimension_list({"day", "model", "project"});
      std::vector<std::string> dims = usage::dim_names();
      // Forecasts and anomalies are daily series per key: attribution dimensions only.
      if (path == "forecast" || path == "usage anomalies") dims.resize(usage::k_text_dims);
      return dimension_list(dims);
    }
    if (type == "TIME" && (key == "since" || key == "until") && path != "usage pull") return periods(false);
    if (key == "org" || key == "organization" || type == "ORG") return organizations();
    if (key == "department" || key == "feature" || key == "project" || key == "user")
      return dimension_values(key, "", cur);
    if (key == "model") return catalog_names(&pricing::PriceEntry::model, "model");
    if (key == "provider")
      return path == "report reconcile" ? plain({"openai", "anthropic"}) : catalog_names(&pricing::PriceEntry::provider, "provider");
    if (key == "channel" || (key == "to" && path == "report send")) return channels();
    if (type == "PLAN") return plans();
    if (type == "PACKAGE") return packages();
    if (type == "INVOICE") return plain(stored(store::NameKind::invoice, cur));
    if (key == "key" && (path == "config get" || path == "config set")) return config_keys_of_file();
    if (type == "NAME" && o->get_positional()) {
      if (path.rfind("budgets ", 0) == 0) return plain(stored(store::NameKind::budget, cur));
      if (path.rfind("report ", 0) == 0) return plain(stored(store::NameKind::report_template, cur));
    }
    return {};
  }
};

// The flags a command takes: its own and those of the commands above it.
Candidates flags(const CLI::App* app) {
  Candidates c;
  std::set<std::string> seen;
  for (const CLI::App* a = app; a; a = a->get_parent())
    for (const CLI::Option* o : a->get_options({})) {
      if (o->get_positional()) continue;
      for (const auto& l : o->get_lnames()) {
        if (a != app && (l == "help" || l == "version")) continue;
        if (seen.insert(l).second) c.push_back({"--" + l, o->get_description()});
      }
    }
  return c;
}

}  // namespace

std::string complete(const CLI::App& root, Env& env, const std::vector<std::string>& words, GlobalOptions& g) {
  if (words.empty()) return {};
  const CLI::App* app = &root;
  const CLI::Option* pending = nullptr;  // the flag whose value the next word is
  size_t positional = 0;
  bool dashdash = false;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if (pending) {
      const std::string k = key_of(pending);
      if (k == "db") g.db = w;
      else if (k == "state") g.state = w;
      else if (k == "cluster") g.cluster = w;
      else if (k == "config") g.config = w;
      else if (k == "now") g.now = w;
      pending = nullptr;
      continue;
    }
    if (w == "--") {
      dashdash = true;
      continue;
    }
    if (!dashdash && w.size() > 1 && w[0] == '-') {
      const std::string name = w.substr(0, w.find('='));
      const CLI::Option* o = find_flag(app, name);
      if (o && takes_value(o) && w.find('=') == std::string::npos) pending = o;
      continue;
    }
    if (const CLI::App* sub = positional == 0 ? find_subcommand(app, w) : nullptr) {
      app = sub;
      continue;
    }
    ++positional;
  }
  try {
    env.configure(g);
  } catch (const std::exception&) {
    // A config that does not load: complete what does not need it.
  }

  std::string cur = words.back();
  std::string before;  // "--format=" when completing the value of "--format=cs"
  const CLI::Option* target = pending;
  if (!target && !dashdash && starts_with(cur, "--") && cur.find('=') != std::string::npos) {
    const size_t eq = cur.find('=');
    if (const CLI::Option* o = find_flag(app, cur.substr(0, eq)); o && takes_value(o)) {
      target = o;
      before = cur.substr(0, eq + 1);
      cur = cur.substr(eq + 1);
    }
  }
  Candidates c;
  try {
    Completer comp{env, cur};
    if (target) {
      c = comp.values(app, target);
    } else if (!dashdash && starts_with(cur, "-")) {
      c = flags(app);
    } else {
      if (positional == 0)
        for (const CLI::App* sub : app->get_subcommands({}))
          if (!hidden_command(sub)) c.push_back({sub->get_name(), sub->get_description()});
      // The positional argument this word is (a vector one takes every word from its place on).
      size_t index = 0;
      for (const CLI::Option* o : app->get_options({})) {
        if (!o->get_positional()) continue;
        const bool many = o->get_items_expected_max() > 1;
        if (index == positional || (many && positional >= index)) {
          Candidates v = comp.values(app, o);
          c.insert(c.end(), v.begin(), v.end());
          break;
        }
        ++index;
      }
    }
  } catch (const std::exception&) {
    c.clear();
  }
  std::string out;
  size_t n = 0;
  for (const auto& cand : c) {
    if (cand.value == ":files") return ":files\n";
    if (!starts_with(cand.value, cur) || n == k_max_candidates) continue;
    ++n;
    out += before + cand.value;
    if (!cand.help.empty()) {
      std::string h = cand.help;
      std::replace(h.begin(), h.end(), '\t', ' ');
      std::replace(h.begin(), h.end(), '\n', ' ');
      out += "\t" + h;
    }
    out += "\n";
  }
  return out;
}

}  // namespace billctl::cmd
