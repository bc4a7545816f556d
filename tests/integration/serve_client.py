# The checks test_serve.sh runs against a live billctl serve: serve_client.py URL WORKDIR SOURCE_DIR.
import base64, hashlib, hmac, json, re, ssl, subprocess, sys, urllib.error, urllib.request

url, work, source = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=f"{work}/tls.crt")
secrets = dict(line.split() for line in open(f"{work}/clients.txt"))


def http(path, data=None, headers=None, method=None):
    req = urllib.request.Request(url + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def token(client, scope=None):
    body = f"grant_type=client_credentials&client_id={client}&client_secret={secrets[client]}"
    if scope:
        body += "&scope=" + urllib.parse.quote(scope)
    status, _, out = http("/oauth/token", body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, (client, status, out)
    return json.loads(out)["access_token"]


tokens = {c: token(c) for c in secrets}


def gql(who, query, variables=None, raw_token=None, status=200):
    tok = raw_token if raw_token is not None else tokens[who]
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    st, headers, out = http("/graphql", body, {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    assert st == status, (who, query, st, out)
    return json.loads(out) if out else None


def codes(resp):
    return [e["extensions"]["code"] for e in resp.get("errors", [])]


def allowed(resp, field):
    if "FORBIDDEN" in codes(resp):
        return False
    assert not resp.get("errors"), resp
    assert resp["data"][field] is not None, resp
    return True


# --- OAuth: token endpoint errors (RFC 6749 5.2)
st, h, out = http("/oauth/token", b"grant_type=client_credentials&client_id=acme-admin&client_secret=wrong")
assert st == 401 and json.loads(out)["error"] == "invalid_client" and "Basic" in h.get("WWW-Authenticate", ""), (st, out)
st, _, out = http("/oauth/token", b"grant_type=authorization_code&code=x")
assert st == 400 and json.loads(out)["error"] == "unsupported_grant_type", out
basic = base64.b64encode(f"acme-admin:{secrets['acme-admin']}".encode()).decode()
st, _, out = http("/oauth/token", b"grant_type=client_credentials", {"Authorization": "Basic " + basic})
assert st == 200 and json.loads(out)["token_type"] == "Bearer", out
st, _, out = http("/oauth/token", f"grant_type=client_credentials&client_id=acme-reader&client_secret={secrets['acme-reader']}&scope=billing:write".encode())
assert st == 400 and json.loads(out)["error"] == "invalid_scope", out

# --- JWKS, and the claims of an issued token
st, _, out = http("/.well-known/jwks.json")
jwks = json.loads(out)
assert st == 200 and jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["alg"] == "RS256" and "d" not in jwks["keys"][0], jwks


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


hdr, payload, sig = tokens["acme-admin"].split(".")
claims = json.loads(unb64(payload))
assert json.loads(unb64(hdr)) == {"alg": "RS256", "kid": jwks["keys"][0]["kid"], "typ": "JWT"}, hdr
for c in ("iss", "aud", "sub", "exp", "iat", "jti", "org", "role", "scope"):
    assert c in claims, (c, claims)
assert claims["org"] == "acme" and claims["role"] == "tenant-admin" and claims["sub"] == "acme-admin", claims
assert claims["exp"] - claims["iat"] == 600, claims


# --- JWT attacks: every one is a 401 before any data
def sign_rs256(header, body, key=f"{work}/store.db.serve-keys/current.pem"):
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(body).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64(sig)


kid = jwks["keys"][0]["kid"]
good_header = {"alg": "RS256", "typ": "JWT", "kid": kid}
assert gql(None, "{ me { organization } }", raw_token=sign_rs256(good_header, claims))["data"]["me"]["organization"] == "acme"
attacks = {}
attacks["none"] = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + payload + "."
hs_input = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + payload
for secret_name, secret in (("jwk", json.dumps(jwks["keys"][0]).encode()), ("n", unb64(jwks["keys"][0]["n"]))):
    attacks["hs256-" + secret_name] = hs_input + "." + b64(hmac.new(secret, hs_input.encode(), hashlib.sha256).digest())
attacks["expired"] = sign_rs256(good_header, dict(claims, exp=claims["iat"] - 120))
attacks["not-yet"] = sign_rs256(good_header, dict(claims, nbf=claims["iat"] + 3600))
attacks["wrong-aud"] = sign_rs256(good_header, dict(claims, aud="another-api"))
attacks["wrong-iss"] = sign_rs256(good_header, dict(claims, iss="https://evil.example"))
attacks["unknown-kid"] = sign_rs256(dict(good_header, kid="not-a-key"), claims)
attacks["tampered"] = hdr + "." + b64(json.dumps(dict(claims, org="globex", role="platform-admin")).encode()) + "." + sig
attacks["no-org"] = sign_rs256(good_header, {k: v for k, v in claims.items() if k != "org"})
attacks["bad-role"] = sign_rs256(good_header, dict(claims, role="god"))
attacks["garbage"] = "not.a.token"
attacks["empty"] = ""
for name, t in attacks.items():
    r = gql(None, '{ usage(period: "2026-10") { total { records } } }', raw_token=t, status=401)
    assert codes(r) == ["UNAUTHENTICATED"] and "data" not in r, (name, r)
st, h, out = http("/graphql", json.dumps({"query": "{ me { role } }"}).encode(), {"Content-Type": "application/json"})
assert st == 401 and "Bearer" in h.get("WWW-Authenticate", ""), (st, h)

# --- Tokens of the trusted identity provider (config [serve.issuers.corp]) work with its claim names.
corp = {"iss": "https://login.corp.example/", "aud": ["billctl-api"], "sub": "jane@corp", "iat": claims["iat"], "exp": claims["iat"] + 300,
        "tenant": "acme", "billing_role": "billing-contact", "scope": "billing:read"}
corp_token = sign_rs256({"alg": "RS256", "typ": "JWT", "kid": "corp-1"}, corp, key=f"{work}/corp.pem")
me = gql(None, "{ me { subject organization role scopes } }", raw_token=corp_token)["data"]["me"]
assert me == {"subject": "jane@corp", "organization": "acme", "role": "billing-contact", "scopes": ["billing:read"]}, me
assert codes(gql(None, '{ credits(organization: "globex") { balance } }', raw_token=corp_token)) == ["FORBIDDEN"]
for name, bad in {"their key, our issuer": dict(corp, iss="billctl"), "our audience": dict(corp, aud="billctl"),
                  "no tenant claim": {k: v for k, v in corp.items() if k != "tenant"}}.items():
    t = sign_rs256({"alg": "RS256", "typ": "JWT", "kid": "corp-1"}, bad, key=f"{work}/corp.pem")
    assert codes(gql(None, "{ me { role } }", raw_token=t, status=401)) == ["UNAUTHENTICATED"], name
# our key under the provider's name is not the provider's
t = sign_rs256({"alg": "RS256", "typ": "JWT", "kid": "corp-1"}, corp)
assert codes(gql(None, "{ me { role } }", raw_token=t, status=401)) == ["UNAUTHENTICATED"]

# --- The permission matrix through the API: each role, each action, own and other organization.
plat = "platform"
cases = [
    # action, query for organization ORG, field
    ("view usage", 'query { usage(period: "2026-10", where: [{dimension: "organization", values: ["ORG"]}]) { total { records } } }', "usage"),
    ("view invoices", '{ invoices(organization: "ORG") { number } }', "invoices"),
    ("view credits", '{ credits(organization: "ORG") { balance } }', "credits"),
    ("set budget alerts", 'mutation { setBudget(budget: {name: "NAME", scope: ["organization:ORG"], limit: "50 USD"}) { name } }', "setBudget"),
    ("manage payment", 'mutation { buyCredits(organization: "ORG", package: "starter", reference: "pay-NAME", idempotencyKey: "NAME") { balance } }', "buyCredits"),
    ("update plan", 'mutation { assignPlan(organization: "ORG", plan: "professional") { name } }', "assignPlan"),
    ("adjust credits", 'mutation { adjustCredits(organization: "ORG", credits: "5", reason: "test", idempotencyKey: "adj-NAME") { balance } }', "adjustCredits"),
]
expect = {
    # role client: {action: (own allowed, other allowed)}
    "platform": {"view usage": (True, True), "view invoices": (True, True), "view credits": (True, True), "set budget alerts": (True, True),
                 "manage payment": (True, True), "update plan": (True, True), "adjust credits": (True, True)},
    "acme-admin": {"view usage": (True, False), "view invoices": (True, False), "view credits": (True, False), "set budget alerts": (True, False),
                   "manage payment": (True, False), "update plan": (False, False), "adjust credits": (False, False)},
    "acme-billing": {"view usage": (True, False), "view invoices": (True, False), "view credits": (True, False), "set budget alerts": (True, False),
                     "manage payment": (True, False), "update plan": (False, False), "adjust credits": (False, False)},
}
n = 0
for who, table in expect.items():
    for action, query, field in cases:
        for which, org in (("own", "acme"), ("other", "globex")):
            n += 1
            q = query.replace("ORG", org).replace("NAME", f"{who}-{n}")
            got = allowed(gql(who, q), field)
            want = table[action][0 if which == "own" else 1]
            assert got == want, (who, action, which, got)
# Plan changes: a tenant admin may request, a billing contact may not; the platform sees all requests.
assert gql("acme-admin", 'mutation { requestPlanChange(plan: "enterprise", note: "more seats") { organization plan } }')["data"]["requestPlanChange"] == {"organization": "acme", "plan": "enterprise"}
assert codes(gql("acme-billing", 'mutation { requestPlanChange(plan: "enterprise") { id } }')) == ["FORBIDDEN"]
assert [r["organization"] for r in gql("platform", "{ planChangeRequests { organization } }")["data"]["planChangeRequests"]] == ["acme"]
assert gql("globex-admin", "{ planChangeRequests { organization } }")["data"]["planChangeRequests"] == []
# A read-only token cannot change anything.
assert codes(gql("acme-reader", 'mutation { setBudget(budget: {name: "ro", limit: "1 USD"}) { name } }')) == ["FORBIDDEN"]

# --- Tenant isolation under crafted queries: aliases, fragments, variables, introspection.
acme_total = gql("acme-admin", '{ usage(period: "2026-10") { total { records cost { amount } } } }')["data"]["usage"]["total"]
plat_by_org = {g["keys"][0]: g["totals"] for g in gql(plat, '{ usage(period: "2026-10", by: ["organization"]) { groups { keys totals { records cost { amount } } } } }')["data"]["usage"]["groups"]}
assert acme_total == plat_by_org["acme"], (acme_total, plat_by_org)
by_org = gql("acme-admin", '{ usage(period: "2026-10", by: ["organization"]) { groups { keys } } }')["data"]["usage"]["groups"]
assert [g["keys"] for g in by_org] == [["acme"]], by_org
r = gql("acme-admin", '''query Q($org: String!, $w: [Filter!]) {
  a: usage(period: "2026-10") { ...T }
  b: usage(period: "2026-10", where: $w) { ...T }
  c: credits(organization: $org) { balance }
  d: invoices(organization: $org) { number }
  e: report(period: "2026-10") { cost { amount } breakdowns { name } }
} fragment T on Usage { total { records } }''', {"org": "globex", "w": [{"dimension": "organization", "values": ["globex"]}]})
assert r["data"]["a"]["total"]["records"] == acme_total["records"], r
assert r["data"]["b"] is None and r["data"]["c"] is None and r["data"]["d"] is None, r
assert r["data"]["e"]["cost"]["amount"] == re.sub(r"(\.\d\d)\d*$", r"\1", r["data"]["e"]["cost"]["amount"]), r
assert sorted(e["path"][0] for e in r["errors"]) == ["b", "c", "d"] and set(codes(r)) == {"FORBIDDEN"}, r["errors"]
# A forecast of a period that is over is its actual total; a tenant's is its organization's.
f = gql("acme-admin", '{ forecast(period: "2026-10", by: ["department"]) { projected total { mean { amount } } groups(limit: 1) { keys } } }')["data"]["forecast"]
from decimal import Decimal, ROUND_HALF_EVEN  # noqa: E402
assert f["projected"] is False and Decimal(f["total"]["mean"]["amount"]) == Decimal(acme_total["cost"]["amount"]).quantize(Decimal("0.01"), ROUND_HALF_EVEN), (f, acme_total)
assert len(f["groups"]) == 1, f
# Invoices: a tenant lists its own; another organization's invoice is null as if it did not exist.
own = gql("acme-admin", "{ invoices { number organization } }")["data"]["invoices"]
assert own and all(i["organization"] == "acme" for i in own), own
all_inv = gql(plat, "{ invoices { number organization } }")["data"]["invoices"]
other = next(i["number"] for i in all_inv if i["organization"] == "globex")
assert gql("acme-admin", f'{{ invoice(number: "{other}") {{ total {{ amount }} }} }}')["data"]["invoice"] is None
assert gql(plat, f'{{ invoice(number: "{other}") {{ organization }} }}')["data"]["invoice"]["organization"] == "globex"
# A budget a tenant sets is scoped to its organization; it sees only its budgets.
b = gql("globex-admin", 'mutation { setBudget(budget: {name: "globex-cap", limit: "10 USD"}) { scope status { spent } } }')["data"]["setBudget"]
assert b["scope"] == ["organization:globex"], b
names = [x["name"] for x in gql("acme-admin", "{ budgets { name scope } }")["data"]["budgets"]]
assert "globex-cap" not in names and names, names

# --- Idempotent mutations under retries; the same key with other arguments is refused.
q = 'mutation { buyCredits(package: "growth", reference: "wire-77", idempotencyKey: "retry-1") { balance ledger(limit: 1) { kind reference actor } } }'
first = gql("acme-billing", q)
again = gql("acme-billing", q)
assert first == again and not first.get("errors"), (first, again)
assert first["data"]["buyCredits"]["ledger"][0] == {"kind": "purchase", "reference": "wire-77", "actor": "acme-billing"}, first
purchases = [e for e in gql(plat, '{ credits(organization: "acme") { ledger(limit: 100, kind: "purchase") { reference } } }')["data"]["credits"]["ledger"] if e["reference"] == "wire-77"]
assert len(purchases) == 1, purchases
assert codes(gql("acme-billing", q.replace('"growth"', '"scale"'))) == ["IDEMPOTENCY_CONFLICT"]
inv = next(i["number"] for i in own)
pay = f'mutation {{ markInvoicePaid(number: "{inv}", reference: "wire-9", idempotencyKey: "pay-1") {{ status paidAt }} }}'
p1, p2 = gql("acme-billing", pay), gql("acme-billing", pay)
assert p1 == p2 and p1["data"]["markInvoicePaid"]["status"] == "paid", (p1, p2)

# --- Request errors: validation (all problems listed), depth, complexity, size, bad JSON.
r = gql("acme-admin", "{ usage(period: 5) { nope } budgets }")
assert "data" not in r and len(r["errors"]) >= 3 and set(codes(r)) == {"GRAPHQL_VALIDATION_FAILED"}, r
r = gql("acme-admin", '{ usage(period: "13-2026") { total { records } } }')
assert codes(r) == ["BAD_USER_INPUT"] and r["errors"][0]["path"] == ["usage"] and "13-2026" in r["errors"][0]["message"], r
r = gql("acme-admin", "{ __schema { types { " + "fields { type { " * 6 + "name" + " } }" * 6 + " } } }")
assert codes(r) == ["QUERY_TOO_DEEP"] and "data" not in r, r
r = gql("acme-admin", '{ usage(period: "2026-10") { groups(limit: 1000) { keys totals { records requests inputTokens outputTokens tokens cost { amount currency } } } } }')
assert codes(r) == ["QUERY_TOO_COMPLEX"], r
st, _, out = http("/graphql", json.dumps({"query": "{ me { role } }" + " " * 2_000_000}).encode(), {"Authorization": f"Bearer {tokens['acme-admin']}"})
assert st == 413, st
st, _, out = http("/graphql", b"{not json", {"Authorization": f"Bearer {tokens['acme-admin']}"})
assert st == 400 and json.loads(out)["errors"][0]["extensions"]["code"] == "BAD_REQUEST", out
r = gql("acme-admin", "query A { me { role } } query B { me { subject } }")
assert codes(r) == ["BAD_USER_INPUT"], r

# --- The schema: what introspection returns is the SDL billctl serve --schema prints (graphql-core).
from graphql import build_ast_schema, build_client_schema, introspection_query, parse, print_schema  # noqa: E402

intro = gql("acme-reader", introspection_query)
assert not intro.get("errors"), intro.get("errors")


def strip_descriptions(node):
    if isinstance(node, dict):
        return {k: (None if k == "description" else strip_descriptions(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


sdl = open(f"{work}/schema.graphql").read()
# graphql-core 2 reads no descriptions in SDL: take them out, compare the structure.
sdl_bare = re.sub(r'"""[\s\S]*?"""', "", sdl)
sdl_bare = re.sub(r'^\s*"(?:[^"\\]|\\.)*"\s*$', "", sdl_bare, flags=re.M)
from_sdl = print_schema(build_ast_schema(parse(sdl_bare)))
from_intro = print_schema(build_client_schema(strip_descriptions(intro["data"])))
assert from_sdl == from_intro, "\n".join(l for l in __import__("difflib").unified_diff(from_sdl.splitlines(), from_intro.splitlines(), lineterm=""))
# Descriptions: every one in the SDL is in the introspection result.
described = json.dumps(intro["data"])
for d in re.findall(r'^\s*"([^"\n]+)"\s*$', sdl, flags=re.M):
    assert json.dumps(d)[1:-1] in described, d
print(f"ok: {n} permission cells, {len(attacks)} token attacks")
