// billctl serve: the billing API (GraphQL over HTTP, OAuth 2.0 client credentials, RS256 JWTs)
// over the same store, and its administration: clients, signing keys, the schema.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "billctl/render/json.hpp"
#include "billctl/serve/server.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

using render::Kind;
using render::Value;

struct ServeOptions {
  std::string listen;
  std::string tls_cert, tls_key;
  std::string keys;
  int threads = 0;
  int64_t token_ttl = 0;
  std::string issuer, audience;
  int max_depth = 0;
  int64_t max_complexity = 0;
  bool schema = false;
};

struct ClientAddOptions {
  std::string name, org, role, scope = "billing:read billing:write";
  std::string format = "table";
};

struct ClientListOptions {
  std::string format = "table";
  std::string output;
};

struct ClientRemoveOptions {
  std::string name;
};

struct KeysOptions {
  std::string keys;
};

// [serve] of the config: the flags' defaults.
struct Settings {
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert, tls_key, keys, issuer = "billctl", audience = "billctl";
  int threads = 64;
  int64_t token_ttl = 3600;
  int max_depth = 15;
  int64_t max_complexity = 25000;
  std::vector<serve::ExternalIssuer> issuers;
};

std::string text_of(const toml::table& t, const char* key, const std::string& fallback, const std::string& origin) {
  const toml::node* n = t.get(key);
  if (!n) return fallback;
  if (!n->is_string()) throw UsageError(origin + ": [serve] " + key + " must be a string");
  return n->value<std::string>().value_or(fallback);
}

int64_t int_of(const toml::table& t, const char* key, int64_t fallback, int64_t lo, int64_t hi, const std::string& origin) {
  const toml::node* n = t.get(key);
  if (!n) return fallback;
  auto v = n->value<int64_t>();
  if (!n->is_integer() || !v || *v < lo || *v > hi)
    throw UsageError(origin + ": [serve] " + key + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return *v;
}

Settings settings(Env& env) {
  Settings s;
  const toml::table* t = env.config_table("serve");
  s.keys = env.db_path() + ".serve-keys";
  if (!t) return s;
  const std::string origin = env.config_path();
  for (const auto& [k, v] : *t) {
    static const std::vector<std::string> known{"listen", "tls_cert", "tls_key", "keys", "issuer", "audience", "threads",
                                                "token_ttl", "max_depth", "max_complexity", "issuers"};
    if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end())
      throw UsageError(origin + ": unknown key [serve] " + std::string(k.str()) + util::did_you_mean(k.str(), known));
  }
  s.listen = text_of(*t, "listen", s.listen, origin);
  s.tls_cert = text_of(*t, "tls_cert", s.tls_cert, origin);
  s.tls_key = text_of(*t, "tls_key", s.tls_key, origin);
  s.keys = text_of(*t, "keys", s.keys, origin);
  s.issuer = text_of(*t, "issuer", s.issuer, origin);
  s.audience = text_of(*t, "audience", s.audience, origin);
  s.threads = int(int_of(*t, "threads", s.threads, 1, 256, origin));
  s.token_ttl = int_of(*t, "token_ttl", s.token_ttl, 60, 86400, origin);
  s.max_depth = int(int_of(*t, "max_depth", s.max_depth, 2, 100, origin));
  s.max_complexity = int_of(*t, "max_complexity", s.max_complexity, 10, 100000000, origin);
  if (const toml::table* issuers = t->get_as<toml::table>("issuers")) {
    for (const auto& [name, node] : *issuers) {
      const toml::table* it = node.as_table();
      const std::string where = origin + ": [serve.issuers." + std::string(name.str()) + "]";
      if (!it) throw UsageError(where + " must be a table");
      serve::ExternalIssuer e;
      e.name = std::string(name.str());
      e.iss = text_of(*it, "iss", "", where);
      e.audience = text_of(*it, "audience", "", where);
      e.jwks_file = text_of(*it, "jwks_file", "", where);
      e.jwks_url = text_of(*it, "jwks_url", "", where);
      e.org_claim = text_of(*it, "org_claim", e.org_claim, where);
      e.role_claim = text_of(*it, "role_claim", e.role_claim, where);
      if (e.iss.empty() || e.audience.empty() || e.jwks_file.empty() == e.jwks_url.empty())
        throw UsageError(where + " needs iss, audience, and jwks_file or jwks_url");
      s.issuers.push_back(e);
    }
  }
  return s;
}

// "127.0.0.1:8443", "[::1]:8443", "localhost:0".
std::pair<std::string, int> parse_listen(const std::string& text, const std::string& flag) {
  auto bad = [&](const std::string& why) -> std::pair<std::string, int> {
    throw UsageError("invalid " + flag + " '" + text + "': " + why + " (expected HOST:PORT, e.g. 127.0.0.1:8443)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no port");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad("the port is not a number");
  int p = std::stoi(port);
  if (p > 65535) return bad("the port is above 65535");
  return {host, p};
}

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

util::Seconds wall_clock() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void run_serve(const ServeOptions& o, Env& env) {
  if (o.schema) {
    env.emit(serve::billing_sdl(), "");
    return;
  }
  Settings s = settings(env);
  const std::string listen = o.listen.empty() ? s.listen : o.listen;
  auto [host, port] = parse_listen(listen, o.listen.empty() ? "[serve] listen" : "--listen");
  serve::ServerOptions so;
  so.host = host;
  so.port = port;
  so.tls_cert = o.tls_cert.empty() ? s.tls_cert : o.tls_cert;
  so.tls_key = o.tls_key.empty() ? s.tls_key : o.tls_key;
  so.threads = o.threads ? o.threads : s.threads;
  so.limits.max_depth = o.max_depth ? o.max_depth : s.max_depth;
  so.limits.max_complexity = o.max_complexity ? o.max_complexity : s.max_complexity;
  const int64_t ttl = o.token_ttl ? o.token_ttl : s.token_ttl;

  // The domain, as the commands use it; requests take turns on it.
  credits::Ledger ledger(env.ledger_store(), credits::parse_config(env.config_table("credits"), env.config_path()));
  billing::Invoices invoices(env.invoice_store(), ledger);
  serve::Services services;
  services.usage = &env.usage();
  services.budgets = &env.budgets();
  services.ledger = &ledger;
  services.invoices = &invoices;
  services.invoice_store = &env.invoice_store();
  services.access = &env.access();
  services.plans = billing::parse_plans(env.config_table("plans"), env.config_path());
  const bool pinned = env.now_pinned();
  const util::Seconds pinned_now = env.now();
  services.now = [pinned, pinned_now] { return pinned ? pinned_now : wall_clock(); };
  services.usage_version = [&env] { return env.ledger_store().usage_version(); };
  services.tz = env.tz();
  services.week_start = env.week_start();

  serve::KeyRing keys = serve::KeyRing::open(o.keys.empty() ? s.keys : o.keys, services.now());
  serve::Authority authority(env.access(), keys, o.issuer.empty() ? s.issuer : o.issuer,
                             o.audience.empty() ? s.audience : o.audience, ttl);
  net::CurlHttpClient http;
  for (const auto& e : s.issuers) authority.trust(e, &http);
  serve::Server server(services, authority, so, env.err);
  const int bound = server.bind();
  env.note("billctl serve: listening on " + std::string(server.tls() ? "https" : "http") + "://" +
           (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound) +
           " (store " + env.usage_location() + ")");

  // SIGTERM / SIGINT: stop accepting, let in-flight requests finish, exit 0.
  g_stop = false;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_term {}, old_int {};
  ::sigaction(SIGTERM, &sa, &old_term);
  ::sigaction(SIGINT, &sa, &old_int);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (g_stop) {
        server.stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  server.run();
  done = true;
  watcher.join();
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  env.note("billctl serve: stopped");
}

void run_clients_add(const ClientAddOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  auto role = serve::find_role(o.role);
  if (!role) throw UsageError("invalid --role '" + o.role + "': expected platform-admin, tenant-admin or billing-contact");
  if (o.name.empty() || o.name.find_first_of(" :\t\n") != std::string::npos)
    throw UsageError("invalid client name '" + o.name + "': no spaces or colons");
  if (o.org.empty()) throw UsageError("invalid --org '': name the client's organization");
  for (const auto w : util::split(o.scope, ' '))
    if (!w.empty() && w != "billing:read" && w != "billing:write")
      throw UsageError("invalid --scope '" + o.scope + "': expected billing:read and/or billing:write, space-separated");
  serve::Client c;
  c.name = o.name;
  c.organization = o.org;
  c.role = *role;
  c.scope = o.scope;
  c.created_at = env.now();
  const std::string secret = serve::random_hex(24);
  c.secret_hash = serve::hash_secret(secret);
  if (!env.access().add_client(c)) throw UsageError("a client named '" + o.name + "' exists; remove it first to issue a new secret");
  std::string out;
  if (f == Format::json) {
    render::Json j;
    j["schema_version"] = 1;
    j["kind"] = "billctl.serve.client";
    j["client_id"] = c.name;
    j["client_secret"] = secret;
    j["organization"] = c.organization;
    j["role"] = std::string(serve::role_name(c.role));
    j["scope"] = c.scope;
    out = render::dump(j);
  } else {
    out = "client_id:     " + c.name + "\nclient_secret: " + secret + "\n";
  }
  env.emit(out, "");
  env.note("added client '" + c.name + "' (" + std::string(serve::role_name(c.role)) + " of " + c.organization +
           "); the secret is shown this once and stored hashed");
}

void run_clients_list(const ClientListOptions& o, Env& env) {
  const Format f = parse_output_format(o.format);
  render::Table t;
  t.id = "clients";
  t.title = "Clients";
  t.columns = {{"client_id", "client_id", Kind::text}, {"organization", "organization", Kind::text},
               {"role", "role", Kind::text},           {"scope", "scope", Kind::text},
               {"created", "created", Kind::text}};
  for (const auto& c : env.access().list_clients())
    t.rows.push_back({Value::of_text(c.name), Value::of_text(c.organization), Value::of_text(std::string(serve::role_name(c.role))),
                      Value::of_text(c.scope), Value::of_text(util::format_rfc3339(c.created_at))});
  env.emit(table_output(t, f, env, "billctl.serve.clients", "clients", "no clients; add one with 'billctl serve clients add'\n"),
           o.output);
}

void run_clients_remove(const ClientRemoveOptions& o, Env& env) {
  if (!env.access().remove_client(o.name)) throw UsageError("no client named '" + o.name + "'");
  env.note("removed client '" + o.name + "'; its tokens stop working when they expire");
}

void run_keys_rotate(const KeysOptions& o, Env& env) {
  Settings s = settings(env);
  serve::KeyRing keys = serve::KeyRing::open(o.keys.empty() ? s.keys : o.keys, env.now());
  const std::string old_kid = keys.current().kid();
  keys.rotate(env.now());
  env.emit("rotated: new key " + keys.current().kid() + "; " + old_kid + " verifies the tokens it signed until they expire\n", "");
}

void run_keys_jwks(const KeysOptions& o, Env& env) {
  Settings s = settings(env);
  serve::KeyRing keys = serve::KeyRing::open(o.keys.empty() ? s.keys : o.keys, env.now());
  env.emit(keys.jwks().dump(2) + "\n", "");
}

}  // namespace

void add_serve(CLI::App& root, CommandTable& table) {
  auto so = std::make_shared<ServeOptions>();
  CLI::App* sv = root.add_subcommand("serve", "Serve the billing API (GraphQL, OAuth 2.0, JWT) over the store");
  sv->add_option("--listen", so->listen, "Address to listen on (default 127.0.0.1:8443, config [serve] listen)")->type_name("HOST:PORT");
  sv->add_option("--tls-cert", so->tls_cert, "PEM certificate: serve HTTPS (with --tls-key)")->type_name("FILE");
  sv->add_option("--tls-key", so->tls_key, "PEM private key of --tls-cert")->type_name("FILE");
  sv->add_option("--keys", so->keys, "Directory of the token signing keys (default: beside the store, STORE.serve-keys)")->type_name("DIR");
  sv->add_option("--threads", so->threads, "Worker threads: connections served at once (default 64)")->type_name("N")->check(whole_number(1, 256));
  sv->add_option("--token-ttl", so->token_ttl, "Lifetime of issued tokens in seconds (default 3600)")->type_name("SECONDS")->check(whole_number(60, 86400));
  sv->add_option("--issuer", so->issuer, "The iss claim of issued tokens (default billctl)")->type_name("TEXT");
  sv->add_option("--audience", so->audience, "The aud claim tokens must carry (default billctl)")->type_name("TEXT");
  sv->add_option("--max-depth", so->max_depth, "Deepest query nesting accepted (default 15)")->type_name("N")->check(whole_number(2, 100));
  sv->add_option("--max-complexity", so->max_complexity, "Largest query cost accepted (default 25000)")->type_name("N")->check(whole_number(10, 100000000));
  sv->add_flag("--schema", so->schema, "Print the GraphQL schema (SDL) and exit");

  CLI::App* clients = sv->add_subcommand("clients", "OAuth clients of the billing API");
  clients->require_subcommand(1);
  auto ca = std::make_shared<ClientAddOptions>();
  CLI::App* add = clients->add_subcommand("add", "Register a client; prints its secret once");
  add->add_option("name", ca->name, "The client_id")->required();
  add->add_option("--org", ca->org, "The organization it acts for")->required()->type_name("ORG");
  add->add_option("--role", ca->role, "platform-admin, tenant-admin or billing-contact")->required()->type_name("ROLE");
  add->add_option("--scope", ca->scope, "Granted scopes (default \"billing:read billing:write\")")->type_name("SCOPES");
  add->add_option("--format", ca->format, "Output format: table or json")->type_name("FORMAT");
  table.push_back({add, [ca](Env& env) { run_clients_add(*ca, env); }});
  auto cl = std::make_shared<ClientListOptions>();
  CLI::App* list = clients->add_subcommand("list", "List the clients (never their secrets)");
  add_output_options(list, cl->format, cl->output);
  table.push_back({list, [cl](Env& env) { run_clients_list(*cl, env); }});
  auto cr = std::make_shared<ClientRemoveOptions>();
  CLI::App* rm = clients->add_subcommand("remove", "Remove a client: it gets no new tokens");
  rm->add_option("name", cr->name, "The client_id")->required();
  table.push_back({rm, [cr](Env& env) { run_clients_remove(*cr, env); }});

  CLI::App* keys = sv->add_subcommand("keys", "The token signing keys");
  keys->require_subcommand(1);
  auto kr = std::make_shared<KeysOptions>();
  CLI::App* rotate = keys->add_subcommand("rotate", "Make a new signing key; the old one verifies its tokens until they expire");
  rotate->add_option("--keys", kr->keys, "Directory of the keys (default: beside the store)")->type_name("DIR");
  table.push_back({rotate, [kr](Env& env) { run_keys_rotate(*kr, env); }});
  auto kj = std::make_shared<KeysOptions>();
  CLI::App* jwks = keys->add_subcommand("jwks", "Print the public keys as JWKS (what /.well-known/jwks.json serves)");
  jwks->add_option("--keys", kj->keys, "Directory of the keys (default: beside the store)")->type_name("DIR");
  table.push_back({jwks, [kj](Env& env) { run_keys_jwks(*kj, env); }});
  // After its verbs: the first parsed command of the table runs, and "serve clients add" parses serve too.
  table.push_back({sv, [so](Env& env) { run_serve(*so, env); }});
}

}  // namespace billctl::cmd
