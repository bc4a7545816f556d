// billctl serve without a network or database: JWT signing and verification (with the usual
// attacks), the permission matrix cell by cell, the token endpoint, and the billing schema's tenant
// boundary against in-memory stores.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "billctl/graphql/execute.hpp"
#include "billctl/serve/api.hpp"
#include "billctl/serve/auth.hpp"
#include "billctl/util/strings.hpp"
#include "fakes.hpp"
#include "helpers.hpp"

using namespace billctl;
using serve::Json;

namespace {

const util::Seconds k_now = 1'795'176'000;  // 2026-11-20T12:00:00Z
const util::Seconds k_nov = 1'793'491'200;  // 2026-11-01T00:00:00Z

class FakeAccess : public serve::AccessStore {
 public:
  std::map<std::string, serve::Client> clients;
  std::vector<serve::MutationRecord> log;
  std::vector<serve::PlanRequest> requests;
  bool add_client(const serve::Client& c) override { return clients.emplace(c.name, c).second; }
  std::optional<serve::Client> find_client(const std::string& name) override {
    auto it = clients.find(name);
    return it == clients.end() ? std::nullopt : std::optional<serve::Client>(it->second);
  }
  std::vector<serve::Client> list_clients() override {
    std::vector<serve::Client> out;
    for (const auto& [k, c] : clients) out.push_back(c);
    return out;
  }
  bool remove_client(const std::string& name) override { return clients.erase(name) > 0; }
  std::optional<serve::MutationRecord> find_mutation(const std::string& actor, const std::string& key) override {
    for (const auto& m : log)
      if (m.actor == actor && m.idempotency_key == key) return m;
    return std::nullopt;
  }
  void record_mutation(const serve::MutationRecord& m) override { log.push_back(m); }
  std::vector<serve::MutationRecord> mutations(size_t) override { return log; }
  int64_t add_plan_request(const serve::PlanRequest& r) override {
    requests.push_back(r);
    requests.back().id = int64_t(requests.size());
    return requests.back().id;
  }
  std::vector<serve::PlanRequest> plan_requests() override { return requests; }
};

const serve::RsaKey& test_key() {
  static const serve::RsaKey k = serve::RsaKey::generate();
  return k;
}
const serve::RsaKey& other_key() {
  static const serve::RsaKey k = serve::RsaKey::generate();
  return k;
}

Json claims(util::Seconds now = k_now) {
  return Json{{"iss", "billctl"}, {"aud", "billctl"}, {"sub", "c1"}, {"iat", now}, {"exp", now + 3600}, {"org", "acme"}, {"role", "tenant-admin"}};
}

serve::Issuer issuer() {
  serve::Issuer i;
  i.name = "billctl";
  i.iss = "billctl";
  i.audience = "billctl";
  i.keys[test_key().kid()] = serve::TrustedKey{&test_key(), 0};
  return i;
}

std::string token_with(const Json& header, const Json& body, const std::string& signature) {
  return serve::base64url_encode(header.dump()) + "." + serve::base64url_encode(body.dump()) + "." + serve::base64url_encode(signature);
}

std::string verify_error(const std::string& token, util::Seconds now = k_now) {
  serve::Issuer i = issuer();
  try {
    serve::verify_token(token, {&i}, now);
  } catch (const serve::TokenError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("serve: base64url", "[serve]") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)})
    CHECK(serve::base64url_decode(serve::base64url_encode(s)) == s);
  CHECK(serve::base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(serve::base64url_decode("ab+c"));
  CHECK_FALSE(serve::base64url_decode("a"));
  CHECK_FALSE(serve::base64url_decode("-_9"));  // non-zero leftover bits
}

TEST_CASE("serve: RS256 tokens verify, and the usual attacks do not", "[serve]") {
  const std::string good = serve::sign_token(test_key(), claims());
  serve::Issuer i = issuer();
  CHECK(serve::verify_token(good, {&i}, k_now)["org"] == "acme");
  const std::string header = good.substr(0, good.find('.'));
  const std::string input = good.substr(0, good.rfind('.'));

  SECTION("alg none") {
    CHECK(verify_error(token_with({{"alg", "none"}, {"typ", "JWT"}}, claims(), "")) == "alg \"none\" is not accepted (RS256 only)");
  }
  SECTION("HS256 signed with the public key as the secret") {
    Json h{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", test_key().kid()}};
    std::string in = serve::base64url_encode(h.dump()) + "." + serve::base64url_encode(claims().dump());
    std::string secret = test_key().public_jwk().dump();
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret.data(), int(secret.size()), reinterpret_cast<const unsigned char*>(in.data()), in.size(), mac, &n);
    CHECK(verify_error(in + "." + serve::base64url_encode(std::string(reinterpret_cast<char*>(mac), n))) ==
          "alg \"HS256\" is not accepted (RS256 only)");
  }
  SECTION("unknown key id, or signed by another key under our kid") {
    CHECK(verify_error(serve::sign_token(other_key(), claims())) == "the token's key id is unknown to issuer billctl");
    Json h{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", test_key().kid()}};
    std::string in = serve::base64url_encode(h.dump()) + "." + serve::base64url_encode(claims().dump());
    CHECK(verify_error(in + "." + serve::base64url_encode(other_key().sign(in))) == "the token's signature does not verify");
  }
  SECTION("tampered payload") {
    Json c = claims();
    c["org"] = "globex";
    std::string forged = header + "." + serve::base64url_encode(c.dump()) + good.substr(good.rfind('.'));
    CHECK(verify_error(forged) == "the token's signature does not verify");
    CHECK(verify_error(input + ".") == "the token's signature does not verify");
    CHECK(verify_error(good + ".x") == "the token is not a compact JWS (three parts)");
  }
  SECTION("time, issuer and audience") {
    CHECK(verify_error(good, k_now + 3600 + 61) == "the token has expired");
    CHECK(verify_error(good, k_now + 3600 + 59) == "");
    Json c = claims();
    c["nbf"] = k_now + 600;
    CHECK(verify_error(serve::sign_token(test_key(), c)) == "the token is not valid yet (nbf)");
    c = claims();
    c.erase("exp");
    CHECK(verify_error(serve::sign_token(test_key(), c)) == "the token has no expiry (exp)");
    c = claims();
    c["aud"] = "someone-else";
    CHECK(verify_error(serve::sign_token(test_key(), c)) == "the token is for another audience (aud)");
    c["aud"] = Json::array({"x", "billctl"});
    CHECK(verify_error(serve::sign_token(test_key(), c)) == "");
    c = claims();
    c["iss"] = "evil";
    CHECK(verify_error(serve::sign_token(test_key(), c)) == "the token's issuer is not trusted");
  }
  SECTION("a retired key verifies its tokens only until they can have expired") {
    serve::Issuer r = issuer();
    r.keys[test_key().kid()].valid_until = k_now + 100;
    CHECK_NOTHROW(serve::verify_token(good, {&r}, k_now + 50));
    CHECK_THROWS_WITH(serve::verify_token(good, {&r}, k_now + 200), "the token was signed with a key retired since");
  }
  SECTION("a key goes through PEM and JWK unchanged") {
    serve::RsaKey again = serve::RsaKey::from_pem(test_key().private_pem(), "pem");
    CHECK(again.kid() == test_key().kid());
    serve::RsaKey pub = serve::RsaKey::from_jwk(test_key().public_jwk(), "jwk");
    CHECK_FALSE(pub.has_private());
    CHECK(pub.verify(input, *serve::base64url_decode(good.substr(good.rfind('.') + 1))));
  }
}

TEST_CASE("serve: client secrets are stored hashed and checked", "[serve]") {
  const std::string h = serve::hash_secret("s3cret");
  CHECK(h.rfind("pbkdf2-sha256$20000$", 0) == 0);
  CHECK(h.find("s3cret") == std::string::npos);
  CHECK(serve::check_secret("s3cret", h));
  CHECK_FALSE(serve::check_secret("s3cret ", h));
  CHECK_FALSE(serve::check_secret("s3cret", "plain"));
  CHECK(serve::hash_secret("s3cret") != h);  // salted
}

TEST_CASE("serve: the permission matrix, cell by cell", "[serve]") {
  using serve::Action;
  using serve::Grant;
  using serve::Role;
  struct Cell {
    Role role;
    Action action;
    Grant grant;
  };
  // Seed 002: view usage all/own/own; view invoices all/own/own; update plan yes/request/no;
  // manage payment and set budget alerts yes/yes/yes (own tenant); adjusting credits: platform only.
  const Cell cells[] = {
      {Role::platform_admin, Action::view_usage, Grant::all},       {Role::tenant_admin, Action::view_usage, Grant::own},
      {Role::billing_contact, Action::view_usage, Grant::own},      {Role::platform_admin, Action::view_invoices, Grant::all},
      {Role::tenant_admin, Action::view_invoices, Grant::own},      {Role::billing_contact, Action::view_invoices, Grant::own},
      {Role::platform_admin, Action::update_plan, Grant::all},      {Role::tenant_admin, Action::update_plan, Grant::request},
      {Role::billing_contact, Action::update_plan, Grant::none},    {Role::platform_admin, Action::manage_payment, Grant::all},
      {Role::tenant_admin, Action::manage_payment, Grant::own},     {Role::billing_contact, Action::manage_payment, Grant::own},
      {Role::platform_admin, Action::set_budget_alerts, Grant::all}, {Role::tenant_admin, Action::set_budget_alerts, Grant::own},
      {Role::billing_contact, Action::set_budget_alerts, Grant::own}, {Role::platform_admin, Action::adjust_credits, Grant::all},
      {Role::tenant_admin, Action::adjust_credits, Grant::none},    {Role::billing_contact, Action::adjust_credits, Grant::none},
  };
  for (const Cell& c : cells) {
    INFO(serve::role_name(c.role) << " / " << serve::action_name(c.action));
    CHECK(serve::grant(c.role, c.action) == c.grant);
    serve::Caller who;
    who.organization = "acme";
    who.role = c.role;
    const bool own = c.grant == Grant::all || c.grant == Grant::own;
    CHECK(serve::denied(who, c.action, "acme").has_value() == !own);
    CHECK(serve::denied(who, c.action, "globex").has_value() == (c.grant != Grant::all));
    CHECK(serve::denied(who, c.action, "").has_value() == (c.grant != Grant::all));
  }
}

TEST_CASE("serve: the token endpoint (client credentials)", "[serve]") {
  FakeAccess access;
  serve::Client c;
  c.name = "acme-app";
  c.organization = "acme";
  c.role = serve::Role::billing_contact;
  c.secret_hash = serve::hash_secret("pw");
  access.add_client(c);
  test::TempDir dir;
  serve::KeyRing keys = serve::KeyRing::open(dir.path("keys"), k_now);
  serve::Authority auth(access, keys, "billctl", "billctl", 600);

  serve::TokenReply r = auth.token("grant_type=client_credentials&client_id=acme-app&client_secret=pw", "", k_now);
  REQUIRE(r.status == 200);
  CHECK(r.body["token_type"] == "Bearer");
  CHECK(r.body["expires_in"] == 600);
  serve::Caller who = auth.authenticate("Bearer " + r.body["access_token"].get<std::string>(), k_now);
  CHECK(who.subject == "acme-app");
  CHECK(who.organization == "acme");
  CHECK(who.role == serve::Role::billing_contact);
  CHECK((who.can_read && who.can_write));
  CHECK_THROWS_AS(auth.authenticate("Bearer " + r.body["access_token"].get<std::string>(), k_now + 700), serve::TokenError);

  // HTTP Basic (RFC 6749 2.3.1), and a narrower scope on request.
  r = auth.token("grant_type=client_credentials&scope=billing%3Aread", "Basic " + util::base64("acme-app:pw"), k_now);
  REQUIRE(r.status == 200);
  who = auth.authenticate("Bearer " + r.body["access_token"].get<std::string>(), k_now);
  CHECK((who.can_read && !who.can_write));

  CHECK(auth.token("grant_type=client_credentials&client_id=acme-app&client_secret=no", "", k_now).body["error"] == "invalid_client");
  CHECK(auth.token("grant_type=client_credentials&client_id=nobody&client_secret=pw", "", k_now).body["error"] == "invalid_client");
  CHECK(auth.token("grant_type=client_credentials&client_id=acme-app&client_secret=no", "", k_now).status == 401);
  CHECK(auth.token("grant_type=password&username=a&password=b", "", k_now).body["error"] == "unsupported_grant_type");
  CHECK(auth.token("client_id=acme-app&client_secret=pw", "", k_now).body["error"] == "invalid_request");
  CHECK(auth.token("grant_type=client_credentials&grant_type=client_credentials&client_id=acme-app&client_secret=pw", "", k_now)
            .body["error"] == "invalid_request");
  CHECK(auth.token("grant_type=client_credentials&client_id=acme-app&client_secret=pw&scope=admin", "", k_now).body["error"] ==
        "invalid_scope");
  CHECK(auth.token("grant_type=client_credentials&client_id=acme-app&client_secret=%zz", "", k_now).body["error"] == "invalid_request");

  // Rotation: the old key's tokens verify until they can have expired; the JWKS lists both keys.
  const std::string old = r.body["access_token"].get<std::string>();
  keys.rotate(k_now);
  CHECK(keys.jwks()["keys"].size() == 2);
  CHECK_NOTHROW(auth.authenticate("Bearer " + old, k_now + 10));
  CHECK_THROWS_AS(auth.authenticate("Bearer " + old, k_now + 700), serve::TokenError);
  serve::KeyRing reloaded = serve::KeyRing::open(keys.dir(), k_now);
  CHECK(reloaded.current().kid() == keys.current().kid());
  CHECK(reloaded.previous()->kid() != keys.current().kid());
}

TEST_CASE("serve: tokens of a trusted identity provider, from its JWKS file and with its claim names", "[serve]") {
  FakeAccess access;
  test::TempDir dir;
  serve::KeyRing keys = serve::KeyRing::open(dir.path("keys"), k_now);
  serve::Authority auth(access, keys, "billctl", "billctl", 600);
  Json jwk = other_key().public_jwk();
  jwk["kid"] = "idp-1";
  serve::ExternalIssuer e;
  e.name = "idp";
  e.iss = "https://idp.example/";
  e.audience = "billing";
  e.jwks_file = dir.file("jwks.json", Json{{"keys", Json::array({jwk})}}.dump());
  e.org_claim = "tenant";
  e.role_claim = "grp";
  auth.trust(e);
  Json c{{"iss", "https://idp.example/"}, {"aud", "billing"}, {"sub", "jane"}, {"exp", k_now + 60}, {"tenant", "acme"}, {"grp", "tenant-admin"}};
  Json h{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "idp-1"}};
  std::string in = serve::base64url_encode(h.dump()) + "." + serve::base64url_encode(c.dump());
  serve::Caller who = auth.authenticate("Bearer " + in + "." + serve::base64url_encode(other_key().sign(in)), k_now);
  CHECK(who.organization == "acme");
  CHECK(who.role == serve::Role::tenant_admin);
  CHECK_FALSE(who.can_read);  // no scope claim: no scopes
  CHECK_THROWS_AS(auth.authenticate("Bearer " + in + "." + serve::base64url_encode(test_key().sign(in)), k_now), serve::TokenError);
  e.jwks_file = dir.file("empty.json", R"({"keys": []})");
  CHECK_THROWS_WITH(auth.trust(e), Catch::Contains("no RSA signing keys"));
}

namespace {

// The billing schema over in-memory stores.
struct ApiFixture {
  test::FakeStore store;
  FakeAccess access;
  credits::Ledger ledger{store, credits::default_config()};
  billing::Invoices invoices{store, ledger};
  serve::Services services;
  std::unique_ptr<graphql::Schema> schema;

  ApiFixture() {
    for (const char* org : {"acme", "globex"})
      for (int i = 0; i < 3; ++i) {
        test::FakeRecord r;
        r.id = std::string(org) + std::to_string(i);
        r.organization = org;
        r.department = i ? "eng" : "sales";
        r.ts = k_nov + 3600 * (i + 1);
        r.cost = test::dec(org == std::string("acme") ? "1.25" : "2.50");
        r.input = 100;
        store.put_record(r);
      }
    budgets::Budget b;
    b.name = "globex-cap";
    b.scope = {"organization:globex"};
    budgets::parse_limit(b, "10 USD", "test");
    budgets::validate(b, "test");
    store.put_budget(b, k_now);
    services.usage = &store;
    services.budgets = &store;
    services.ledger = &ledger;
    services.invoices = &invoices;
    services.invoice_store = &store;
    services.access = &access;
    services.plans = billing::default_plans();
    services.now = [] { return k_now; };
    services.usage_version = [this] { return store.usage_version(); };
    schema = serve::billing_schema(services);
  }

  Json run(const serve::Caller& who, const std::string& query, Json vars = Json::object()) {
    graphql::Request r;
    r.query = query;
    r.variables = std::move(vars);
    Json out = Json::parse(graphql::execute(*schema, r, graphql::Limits{}, const_cast<serve::Caller*>(&who)).dump());
    return out;
  }
};

serve::Caller caller(serve::Role role, const std::string& org = "acme") {
  serve::Caller c;
  c.subject = "tester";
  c.organization = org;
  c.role = role;
  c.can_read = c.can_write = true;
  return c;
}

std::string code(const Json& r) { return r["errors"][0]["extensions"]["code"].get<std::string>(); }

}  // namespace

TEST_CASE("serve: a tenant sees only its organization, however the query asks", "[serve]") {
  ApiFixture f;
  const serve::Caller acme = caller(serve::Role::tenant_admin);
  Json r = f.run(acme, R"({ usage(period: "2026-11", by: ["organization"]) { groups { keys totals { records cost { amount } } } } })");
  CHECK(r["data"]["usage"]["groups"] == Json::parse(R"([{"keys":["acme"],"totals":{"records":3,"cost":{"amount":"3.75"}}}])"));
  // Another organization named in a filter, through an alias, a fragment and a variable: refused.
  r = f.run(acme, R"({ mine: usage(period: "2026-11") { total { records } } theirs: usage(period: "2026-11", where: [{dimension: "organization", values: ["globex"]}]) { ...t } } fragment t on Usage { total { records } })");
  CHECK(r["data"]["mine"]["total"]["records"] == 3);
  CHECK(r["data"]["theirs"].is_null());
  CHECK(code(r) == "FORBIDDEN");
  r = f.run(acme, R"(query q($w: [Filter!]) { usage(period: "2026-11", where: $w) { total { records } } })",
            Json{{"w", Json::array({Json{{"dimension", "organization"}, {"values", Json::array({"acme", "globex"})}}})}});
  CHECK(code(r) == "FORBIDDEN");
  // The platform sees both; a billing contact of globex sees globex.
  r = f.run(caller(serve::Role::platform_admin, "platform"), R"({ usage(period: "2026-11") { total { records } } })");
  CHECK(r["data"]["usage"]["total"]["records"] == 6);
  r = f.run(caller(serve::Role::billing_contact, "globex"), R"({ report(period: "2026-11") { cost { amount } } })");
  CHECK(r["data"]["report"]["cost"]["amount"] == "7.50");
  // Budgets of another organization are not listed, nor found by name, nor removable.
  CHECK(f.run(acme, "{ budgets { name } }")["data"]["budgets"].empty());
  CHECK(f.run(acme, R"({ budget(name: "globex-cap") { name } })")["data"]["budget"].is_null());
  CHECK(code(f.run(acme, R"(mutation { removeBudget(name: "globex-cap") })")) == "FORBIDDEN");
  CHECK(code(f.run(acme, R"({ credits(organization: "globex") { balance } })")) == "FORBIDDEN");
  CHECK(code(f.run(acme, R"({ invoices(organization: "globex") { number } })")) == "FORBIDDEN");
}

TEST_CASE("serve: mutations follow the matrix and are idempotent by key", "[serve]") {
  ApiFixture f;
  const serve::Caller acme = caller(serve::Role::tenant_admin);
  // A tenant's budget is scoped to its organization even when the input does not say so.
  Json r = f.run(acme, R"(mutation { setBudget(budget: {name: "acme-cap", limit: "5 USD"}) { scope status { spent } } })");
  CHECK(r["data"]["setBudget"]["scope"] == Json::array({"organization:acme"}));
  CHECK(r["data"]["setBudget"]["status"]["spent"] == "3.75");
  CHECK(code(f.run(acme, R"(mutation { setBudget(budget: {name: "x", scope: ["organization:globex"], limit: "5 USD"}) { name } })")) == "FORBIDDEN");
  CHECK(code(f.run(acme, R"(mutation { setBudget(budget: {name: "globex-cap", limit: "5 USD"}) { name } })")) == "FORBIDDEN");
  // Money: a purchase with a key happens once; the same key with other arguments is refused.
  const char* buy = R"(mutation { buyCredits(package: "starter", reference: "pay-1", idempotencyKey: "k1") { balance } })";
  Json first = f.run(acme, buy);
  REQUIRE_FALSE(first.contains("errors"));
  CHECK(f.run(acme, buy) == first);
  CHECK(f.ledger.entries({}).size() == 1);
  CHECK(code(f.run(acme, R"(mutation { buyCredits(package: "growth", reference: "pay-1", idempotencyKey: "k1") { balance } })")) ==
        "IDEMPOTENCY_CONFLICT");
  CHECK(f.access.log.size() == 2);  // setBudget and buyCredits; the replay and the refusals are not new mutations
  CHECK(f.access.log.back().actor == "tester");
  // Adjustments are the platform's; plan changes: platform assigns, tenant admin requests, billing contact neither.
  CHECK(code(f.run(acme, R"(mutation { adjustCredits(organization: "acme", credits: "100", reason: "gift", idempotencyKey: "a") { balance } })")) == "FORBIDDEN");
  CHECK(code(f.run(acme, R"(mutation { assignPlan(organization: "acme", plan: "enterprise") { name } })")) == "FORBIDDEN");
  r = f.run(acme, R"(mutation { requestPlanChange(plan: "professional", note: "growing") { id organization plan } })");
  CHECK(r["data"]["requestPlanChange"] == Json::parse(R"({"id":1,"organization":"acme","plan":"professional"})"));
  CHECK(code(f.run(caller(serve::Role::billing_contact), R"(mutation { requestPlanChange(plan: "professional") { id } })")) == "FORBIDDEN");
  r = f.run(caller(serve::Role::platform_admin, "platform"), R"(mutation { assignPlan(organization: "acme", plan: "professional") { name } })");
  CHECK(r["data"]["assignPlan"]["name"] == "professional");
  // A read-only token cannot mutate.
  serve::Caller ro = acme;
  ro.can_write = false;
  CHECK(code(f.run(ro, R"(mutation { requestPlanChange(plan: "starter") { id } })")) == "FORBIDDEN");
}

TEST_CASE("serve: aggregations come from the cache until stored usage changes", "[serve]") {
  ApiFixture f;
  const serve::Caller root = caller(serve::Role::platform_admin, "platform");
  const char* q = R"({ usage(period: "2026-11") { total { records } } })";
  CHECK(f.run(root, q)["data"]["usage"]["total"]["records"] == 6);
  // A change that does not move the version is not seen (this is what the cache saves)...
  f.store.state.usage.pop_back();
  CHECK(f.run(root, q)["data"]["usage"]["total"]["records"] == 6);
  // ... an import moves it, and the next answer is fresh.
  test::FakeRecord r;
  r.id = "new";
  r.organization = "acme";
  r.ts = k_nov + 60;
  r.cost = test::dec("1");
  f.store.put_record(r);
  CHECK(f.run(root, q)["data"]["usage"]["total"]["records"] == 6);
  CHECK(f.run(caller(serve::Role::tenant_admin), q)["data"]["usage"]["total"]["records"] == 4);
}

TEST_CASE("serve: the schema has a resolver for every root field and prints as it parses", "[serve]") {
  ApiFixture f;
  CHECK(f.schema->unresolved().empty());
  graphql::Schema again(serve::billing_sdl());
  CHECK(again.sdl() == f.schema->sdl());
}
