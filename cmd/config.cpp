// billctl config path | list | get KEY | set KEY VALUE: the config file, read and edited in place
// (comments, order and the other lines kept). Secrets are never printed; one is written only into a
// file others cannot read.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <toml++/toml.h>

#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"
#include "billctl/util/toml_guard.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

// Is a key's value a secret (shown as "********", refused in a file others can read)? *_env keys
// name variables, which are not secrets.
bool is_secret(std::string_view leaf) {
  if (leaf.size() > 4 && leaf.substr(leaf.size() - 4) == "_env") return false;
  for (std::string_view w : {"password", "token", "secret", "admin_key", "routing_key", "auth_token"})
    if (leaf.find(w) != std::string_view::npos) return true;
  return leaf == "url" || leaf == "smtp_url";  // webhook URLs carry their credential
}

std::string leaf_of(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

toml::table load(const std::string& path, const std::string& text) {
  std::string why;
  const std::string ascii = util::toml_ascii(text, why);
  if (!why.empty()) throw DataError(path + ":" + why);
  try {
    return toml::parse(ascii, path);
  } catch (const toml::parse_error& e) {
    throw DataError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
}

std::string value_text(const toml::node& n) {
  std::ostringstream s;
  if (auto v = n.value<std::string>()) return *v;
  if (n.is_table()) return "(table)";
  s << toml::toml_formatter{n};
  return s.str();
}

// Every leaf as "dotted.key = value", sorted by key.
void flatten(const toml::table& t, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [k, v] : t) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = v.as_table()) flatten(*sub, key, out);
    else out.push_back({key, is_secret(k.str()) ? "********" : value_text(v)});
  }
}

// A KEY: dotted words of letters, digits, '_' and '-'.
bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

// VALUE as TOML: as written when it is a TOML value (100, 0.5, true, "x", [..]), else a string.
std::string toml_value(const std::string& v) {
  try {
    const toml::table t = toml::parse("v = " + v);
    if (t.contains("v")) return v;
  } catch (const toml::parse_error&) {
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_header(const std::string& line) {
  const std::string t(util::trim(line));
  return !t.empty() && t[0] == '[';
}

// The text with KEY set to VALUE: its line replaced when the key is there, else added at the end of
// its table (made at the end of the file when missing).
std::string edited(const std::string& text, const std::string& key, const std::string& value) {
  const auto dot = key.rfind('.');
  const std::string table = dot == std::string::npos ? "" : key.substr(0, dot);
  const std::string leaf = leaf_of(key);
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  const std::string entry = leaf + " = " + value;
  // The table's first line (after its header) and end.
  size_t begin = 0, end = lines.size();
  bool found = table.empty();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!is_header(lines[i])) continue;
    if (found) {
      end = i;
      break;
    }
    const std::string h(util::trim(lines[i]));
    const auto close = h.find(']');
    if (h.rfind("[[", 0) != 0 && close != std::string::npos && util::trim(h.substr(1, close - 1)) == table) {
      found = true;
      begin = i + 1;
    }
  }
  if (!found) {
    std::string out = text;
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (!out.empty()) out += '\n';
    return out + "[" + table + "]\n" + entry + "\n";
  }
  for (size_t i = begin; i < end; ++i) {
    const std::string t(util::trim(lines[i]));
    if (t.rfind(leaf, 0) == 0 && util::trim(t.substr(leaf.size())).rfind("=", 0) == 0) {
      lines[i] = entry;
      std::string out;
      for (size_t k = 0; k < lines.size(); ++k) out += lines[k] + (k + 1 < lines.size() || text.back() == '\n' ? "\n" : "");
      return out;
    }
  }
  size_t at = end;  // after the table's last line that is not blank
  while (at > begin && util::trim(lines[at - 1]).empty()) --at;
  lines.insert(lines.begin() + long(at), entry);
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) out += lines[k] + (k + 1 < lines.size() ? "\n" : "");
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

std::string read_if_there(const std::string& path, bool& exists, unsigned& mode) {
  struct stat st{};
  exists = !path.empty() && ::stat(path.c_str(), &st) == 0;
  mode = exists ? unsigned(st.st_mode & 0777) : 0600;
  return exists ? util::read_file(path) : std::string();
}

void run_config(const std::string& verb, const std::vector<std::string>& args, Env& env) {
  const std::string& path = env.config_path();
  if (path.empty()) throw DataError("no config file: set --config, BILLCTL_CONFIG, XDG_CONFIG_HOME or HOME");
  if (verb == "path") {
    env.emit(path + "\n", "");
    return;
  }
  bool exists = false;
  unsigned mode = 0;
  const std::string text = read_if_there(path, exists, mode);
  if (verb == "list") {
    if (!exists) return;
    std::vector<std::pair<std::string, std::string>> all;
    flatten(load(path, text), "", all);
    std::string out;
    for (const auto& [k, v] : all) out += k + " = " + util::escape_controls(v) + "\n";
    env.emit(out, "");
    return;
  }
  const std::string& key = args.at(0);
  if (!valid_key(key)) throw UsageError("invalid KEY '" + key + "': expected dotted words such as tz or notify.default_channels");
  if (verb == "get") {
    const toml::table t = exists ? load(path, text) : toml::table{};
    const toml::node_view<const toml::node> n = t.at_path(key);
    if (!n) throw DataError("'" + key + "' is not set in " + path);
    if (is_secret(leaf_of(key))) throw DataError("'" + key + "' holds a secret; billctl does not print secrets");
    env.emit(util::escape_controls(value_text(*n.node())) + "\n", "");
    return;
  }
  // set: only keys billctl knows at the top (a typo would stop every command).
  const std::string top = key.substr(0, key.find('.'));
  if (std::find(config_keys().begin(), config_keys().end(), top) == config_keys().end()) {
    const std::string near = util::did_you_mean(top, config_keys());
    throw UsageError("unknown config key '" + top + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                     "; known: " + known_config_keys());
  }
  const std::string value = toml_value(args.at(1));
  if (is_secret(leaf_of(key)) && (mode & 077) != 0)
    throw DataError(path + " can be read by others (mode " + std::to_string(mode >> 6) + std::to_string((mode >> 3) & 7) +
                    std::to_string(mode & 7) + "): chmod 600 it before writing a secret into it, or set " + key +
                    "_env to the name of an environment variable");
  const std::string next = edited(text, key, value);
  // The edited file must load, hold the value at KEY, and pass the checks every command makes.
  const toml::table t = load(path, next);
  if (!t.at_path(key)) throw DataError("cannot set '" + key + "' in place in " + path + ": edit it by hand");
  const auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) util::make_dirs(path.substr(0, slash));
  util::write_file_atomic(path, next, exists ? mode : 0600);
  if (!env.quiet()) env.err << "set " << key << " in " << path << "\n";
}

}  // namespace

void add_config(CLI::App& root, CommandTable& table) {
  CLI::App* config = root.add_subcommand("config", "The config file: path, list, get KEY, set KEY VALUE");
  config->require_subcommand(1);
  struct Args {
    std::vector<std::string> words;
  };
  auto add = [&](const char* name, const char* help, std::vector<std::pair<const char*, const char*>> positionals) {
    auto a = std::make_shared<Args>();
    a->words.resize(positionals.size());
    CLI::App* c = config->add_subcommand(name, help);
    for (size_t i = 0; i < positionals.size(); ++i)
      c->add_option(positionals[i].first, a->words[i], positionals[i].second)->required();
    const std::string verb = name;
    // Runs when the config does not load (a missing --config file is what set creates).
    table.push_back({c, [a, verb](Env& env) { run_config(verb, a->words, env); }, true});
  };
  add("path", "Print where the config file is (whether or not it exists)", {});
  add("list", "Every key and value (secrets shown as ********)", {});
  add("get", "The value of KEY (dotted: credits.rate); secrets are not printed", {{"key", "KEY, dotted"}});
  add("set", "Set KEY to VALUE in place, keeping comments and order; the file is created 0600 when missing",
      {{"key", "KEY, dotted"}, {"value", "VALUE: a TOML value (100, true, [\"a\"]) or text"}});
}

}  // namespace billctl::cmd
