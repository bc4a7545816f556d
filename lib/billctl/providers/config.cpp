#include "billctl/providers/config.hpp"

#include "billctl/util/error.hpp"

namespace billctl::providers {

namespace {

std::string at(const toml::node& n, const std::string& origin) { return origin + ":" + std::to_string(n.source().begin.line); }
[[noreturn]] void bad(const std::string& where, const std::string& what) { throw DataError(where + ": " + what); }

std::string text(const toml::node& v, const std::string& key, const std::string& origin) {
  auto s = v.value<std::string>();
  if (!s) bad(at(v, origin), key + " must be a string");
  return *s;
}

// [providers.NAME.projects.ID] department = "...": a table of attributions keyed by provider id.
void read_attributions(const toml::node& n, const std::string& key, const std::string& origin,
                       std::map<std::string, Attribution, std::less<>>& out) {
  const toml::table* t = n.as_table();
  if (!t) bad(at(n, origin), key + " must be a table of [" + key + ".ID]");
  for (const auto& [id, v] : *t) {
    const std::string k = key + "." + std::string(id.str());
    const toml::table* e = v.as_table();
    if (!e) bad(at(v, origin), k + " must be a table (organization, department, user, feature, project)");
    Attribution a;
    for (const auto& [f, fv] : *e) {
      const std::string name(f.str());
      std::string* dst = name == "organization" ? &a.organization
                         : name == "department" ? &a.department
                         : name == "user"       ? &a.user
                         : name == "feature"    ? &a.feature
                         : name == "project"    ? &a.project
                                                : nullptr;
      if (!dst)
        bad(at(fv, origin), "unknown key '" + k + "." + name + "' (known: organization, department, user, feature, project)");
      *dst = text(fv, k + "." + name, origin);
    }
    out[std::string(id.str())] = std::move(a);
  }
}

}  // namespace

ProviderConfig read_provider_config(Provider p, const toml::table* providers, const std::string& origin,
                                    const GetEnv& getenv, bool file_private) {
  ProviderConfig c;
  const std::string name(provider_name(p));
  const std::string default_env = p == Provider::openai ? "OPENAI_ADMIN_KEY" : "ANTHROPIC_ADMIN_KEY";
  c.key_name = default_env;
  std::string key_env = default_env;
  std::string file_key;
  const toml::node* file_key_node = nullptr;
  if (providers) {
    for (const auto& [k, v] : *providers)
      if (!parse_provider(k.str()))
        bad(at(v, origin), "unknown provider 'providers." + std::string(k.str()) + "' (known: openai, anthropic)");
    if (const toml::node* n = providers->get(name)) {
      const toml::table* t = n->as_table();
      if (!t) bad(at(*n, origin), "providers." + name + " must be a table");
      const std::string ids = p == Provider::openai ? "projects" : "workspaces";
      for (const auto& [k, v] : *t) {
        const std::string key(k.str());
        const std::string full = "providers." + name + "." + key;
        if (key == "admin_key") {
          file_key = text(v, full, origin);
          file_key_node = &v;
        } else if (key == "admin_key_env") {
          key_env = text(v, full, origin);
        } else if (key == "base_url") {
          c.base_url = text(v, full, origin);
        } else if (key == "organization") {
          c.mapping.organization = text(v, full, origin);
        } else if (key == "settle_days") {
          auto d = v.value<int64_t>();
          if (!d || *d < 0 || *d > 31) bad(at(v, origin), full + " must be a whole number of days, 0..31");
          c.settle_days = int(*d);
        } else if (key == ids) {
          read_attributions(v, full, origin, c.mapping.projects);
        } else if (key == "api_keys") {
          read_attributions(v, full, origin, c.mapping.api_keys);
        } else if (key == "users") {
          read_attributions(v, full, origin, c.mapping.users);
        } else {
          bad(at(v, origin), "unknown key '" + full + "' (known: admin_key, admin_key_env, base_url, organization, settle_days, " +
                                 ids + ", api_keys, users)");
        }
      }
    }
  }
  if (file_key_node) {
    if (!file_private)
      bad(at(*file_key_node, origin), "providers." + name + ".admin_key is a secret, and the config file is readable by "
                                      "others; chmod 600 it, or use admin_key_env = \"VARIABLE\"");
    c.admin_key = file_key;
    c.key_name = "providers." + name + ".admin_key in " + origin;
  } else {
    c.admin_key = getenv(key_env);
    c.key_name = key_env;
  }
  return c;
}

Mappings read_mappings(const toml::table* providers, const std::string& origin) {
  Mappings m;
  const GetEnv none = [](const std::string&) { return std::string(); };
  m.openai = read_provider_config(Provider::openai, providers, origin, none, true).mapping;
  m.anthropic = read_provider_config(Provider::anthropic, providers, origin, none, true).mapping;
  return m;
}

}  // namespace billctl::providers
