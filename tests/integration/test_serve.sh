# billctl serve end to end over HTTPS on loopback: OAuth client credentials, every cell of the
# permission matrix through the API, tenant isolation under crafted queries, JWT attacks, limits,
# idempotent retries, the schema against introspection (Debian python3-graphql-core), key
# rotation, and a graceful stop with a request in flight.
. "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_NOW=2026-11-20T12:00:00Z
"$GEN_USAGE" --records 3000 --month 2026-10 --seed 3 > "$WORK/oct.csv"
"$GEN_USAGE" --records 2000 --month 2026-11 --seed 4 > "$WORK/nov.csv"
billctl usage import "$WORK/oct.csv" "$WORK/nov.csv" > /dev/null 2>&1
mkdir -p "$XDG_CONFIG_HOME/billctl"
printf '[invoices]\ndefault_plan = "starter"\n' > "$XDG_CONFIG_HOME/billctl/config.toml"
billctl invoices generate --period 2026-10 --issue --actor finance > /dev/null 2>&1

add_client() {  # add_client NAME ORG ROLE [SCOPE]: prints the secret
  billctl serve clients add "$1" --org "$2" --role "$3" ${4:+--scope "$4"} --format json 2> /dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])'
}
{
  echo "platform $(add_client platform ops platform-admin)"
  echo "acme-admin $(add_client acme-admin acme tenant-admin)"
  echo "acme-billing $(add_client acme-billing acme billing-contact)"
  echo "globex-admin $(add_client globex-admin globex tenant-admin)"
  echo "acme-reader $(add_client acme-reader acme tenant-admin billing:read)"
} > "$WORK/clients.txt"
# Secrets are shown once and stored hashed: the store holds none of them.
while read -r _ secret; do
  ! grep -q "$secret" "$BILLCTL_DB" || fail "a client secret is stored in clear"
done < "$WORK/clients.txt"
billctl serve clients list | grep -q "acme-billing  acme          billing-contact" || fail "clients list: $(billctl serve clients list)"
billctl serve clients list --format json | grep -q secret && fail "clients list shows secrets"
billctl serve clients add acme-admin --org acme --role tenant-admin 2> "$WORK/dup.err" && fail "duplicate client added"
grep -q "a client named 'acme-admin' exists" "$WORK/dup.err" || fail "duplicate client: $(cat "$WORK/dup.err")"
rc=0; billctl serve clients add x --org acme --role owner 2> "$WORK/role.err" || rc=$?
assert_eq "$rc" 2 "bad role exit code"
grep -q "invalid --role 'owner'" "$WORK/role.err" || fail "bad role: $(cat "$WORK/role.err")"

# The schema printed is the one checked in.
billctl serve --schema > "$WORK/schema.graphql"
diff -u "$SOURCE_DIR/docs/schema.graphql" "$WORK/schema.graphql" || fail "docs/schema.graphql differs from billctl serve --schema"

# Another identity provider the server trusts: its key, its JWKS file, its claim names.
openssl genrsa -out "$WORK/corp.pem" 2048 2> /dev/null
/usr/bin/python3 - "$WORK" <<'PY'
import base64, json, subprocess, sys
work = sys.argv[1]
mod = subprocess.run(["openssl", "rsa", "-in", f"{work}/corp.pem", "-noout", "-modulus"], capture_output=True, text=True, check=True).stdout
n = bytes.fromhex(mod.strip().split("=")[1])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
json.dump({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "corp-1", "n": b64(n), "e": b64((65537).to_bytes(3, "big"))}]},
          open(f"{work}/corp-jwks.json", "w"))
PY
# ... published over HTTP (fetched when the server starts).
mkdir -p "$WORK/idp"
cp "$WORK/corp-jwks.json" "$WORK/idp/jwks.json"
IDP_PORT=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$WORK/idp" "$IDP_PORT" > /dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$IDP_PORT/jwks.json" > /dev/null 2>&1 && break; sleep 0.05; done
cat >> "$XDG_CONFIG_HOME/billctl/config.toml" <<EOF
[serve.issuers.corp]
iss = "https://login.corp.example/"
audience = "billctl-api"
jwks_url = "http://127.0.0.1:$IDP_PORT/jwks.json"
org_claim = "tenant"
role_claim = "billing_role"
EOF

# A self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2> /dev/null
chmod 600 "$WORK/tls.key"
PORT=$(free_port)
start_server() {
  "$BILLCTL_BIN" serve --listen "127.0.0.1:$PORT" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --threads 4 \
    --max-depth 13 --max-complexity 5000 --token-ttl 600 2>> "$WORK/serve.log" &
  SERVER=$!  # the binary itself (a shell function would put a subshell between)
  PIDS+=($SERVER)
  for _ in $(seq 200); do
    curl -sf --cacert "$WORK/tls.crt" "https://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "server did not start: $(cat "$WORK/serve.log")"
}
start_server
[ "$(stat -c %a "$BILLCTL_DB.serve-keys")" = 700 ] || fail "keys directory is not 0700"
[ "$(stat -c %a "$BILLCTL_DB.serve-keys/current.pem")" = 600 ] || fail "signing key is not 0600"
curl -sf --cacert "$WORK/tls.crt" "https://127.0.0.1:$PORT/readyz" | grep -q ready || fail "readyz"
curl -s "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && fail "plain HTTP answered on the TLS port"

/usr/bin/python3 "$SOURCE_DIR/tests/integration/serve_client.py" "https://127.0.0.1:$PORT" "$WORK" "$SOURCE_DIR" ||
  fail "serve client checks (server log: $(tail -5 "$WORK/serve.log"))"

# billctl --remote: every read command prints through the server what it prints locally.
export BILLCTL_REMOTE_CA="$WORK/tls.crt"
secret_of() { awk -v c="$1" '$1 == c { print $2 }' "$WORK/clients.txt"; }
remote() {  # remote CLIENT ARGS...: billctl --remote as that client
  local c=$1; shift
  BILLCTL_CLIENT_ID=$c BILLCTL_CLIENT_SECRET=$(secret_of "$c") "$BILLCTL_BIN" --remote "https://127.0.0.1:$PORT" "$@"
}
while IFS= read -r cmd; do
  rc_l=0; rc_r=0
  billctl $cmd > "$WORK/l.out" 2> "$WORK/l.err" || rc_l=$?
  remote platform $cmd > "$WORK/r.out" 2> "$WORK/r.err" || rc_r=$?
  [ "$rc_l" = "$rc_r" ] || fail "--remote $cmd: exit $rc_r, locally $rc_l ($(cat "$WORK/r.err"))"
  cmp -s "$WORK/l.out" "$WORK/r.out" || fail "--remote $cmd differs: $(diff "$WORK/l.out" "$WORK/r.out" | head -5)"
  cmp -s "$WORK/l.err" "$WORK/r.err" || fail "--remote $cmd stderr differs: $(diff "$WORK/l.err" "$WORK/r.err" | head -5)"
done <<'CMDS'
report --period 2026-10
report --period 2026-10 --format json
report --period 2026-10 --format csv
report --period 2026-11 --where department=engineering
usage summary --period 2026-10 --by department,model
usage summary --since 2026-10-05T06:30:00Z --until 2026-10-09 --by day
usage summary --period 2026-10 --by hour --format csv
usage top --by user --period 2026-10
usage anomalies --period 2026-10
usage patterns --period 2026-10
usage watch --once
forecast
forecast --by department --format json
budgets list
budgets status
budgets status --format json
budgets check --user alice.1 --department engineering
credits balance
credits balance --format json
credits ledger
credits ledger --kind purchase --format json
credits ledger --summary
invoices list
invoices list --period 2026-10 --format json
invoices plans
invoices show INV-2026-000001
invoices show 2 --format json
CMDS
remote platform invoices pdf INV-2026-000002 -o "$WORK/remote.pdf" 2> /dev/null || fail "invoices pdf through --remote"
billctl invoices pdf INV-2026-000002 -o "$WORK/local.pdf" 2> /dev/null
cmp -s "$WORK/local.pdf" "$WORK/remote.pdf" || fail "invoices pdf through --remote differs"
# A tenant's ledger and invoices are its organization's; another's invoice is not found.
remote acme-billing invoices list --format csv 2> /dev/null | tail -n +2 | cut -d, -f2 | sort -u | tr '\n' ' ' | grep -qx "acme " ||
  fail "tenant --remote invoices list: $(remote acme-billing invoices list --format csv 2>&1)"
other=$(billctl invoices list --org globex --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoices"][0]["number"])')
rc=0; remote acme-billing invoices show "$other" > /dev/null 2> "$WORK/i.err" || rc=$?
assert_eq "$rc" 1 "tenant --remote invoices show of another organization"
grep -q "no invoice '$other'" "$WORK/i.err" || fail "tenant invoice show: $(cat "$WORK/i.err")"
rc=0; remote acme-billing credits deduct --all > /dev/null 2> "$WORK/d.err" || rc=$?
assert_eq "$rc" 2 "credits deduct through --remote"
grep -q "is done on the server" "$WORK/d.err" || fail "deduct refusal: $(cat "$WORK/d.err")"
# A tenant sees its organization only, and is refused another's (exit 4), as the API refuses it.
remote acme-admin usage summary --period 2026-10 --by organization --format csv 2> "$WORK/t.err" | cut -d, -f1 | sort -u | tr '\n' ' ' |
  grep -qx "acme organization " || fail "tenant --remote sees other organizations"
rc=0; remote acme-admin usage summary --period 2026-10 --where organization=globex > /dev/null 2> "$WORK/t.err" || rc=$?
assert_eq "$rc" 4 "tenant --remote naming another organization"
grep -q "may not view usage of 'globex'" "$WORK/t.err" || fail "tenant refusal: $(cat "$WORK/t.err")"
# Budgets set through the server, with the tenant's scope forced; local-only commands refuse (exit 2).
remote acme-admin budgets set acme-remote --limit "7 USD" --period daily 2> "$WORK/b.err" || fail "remote budgets set: $(cat "$WORK/b.err")"
billctl budgets list --format json | grep -q '"organization:acme"' || fail "remote budgets set"
remote acme-admin budgets rm acme-remote 2> "$WORK/b.err" || fail "remote budgets remove: $(cat "$WORK/b.err")"
! billctl budgets list | grep -q acme-remote || fail "remote budgets remove"
rc=0; remote platform usage log > /dev/null 2> "$WORK/c.err" || rc=$?
assert_eq "$rc" 2 "usage log through --remote"
grep -q "works on the local store, not through --remote" "$WORK/c.err" || fail "local-only refusal: $(cat "$WORK/c.err")"
rc=0; BILLCTL_CLIENT_ID=platform BILLCTL_CLIENT_SECRET=not-the-secret-42 "$BILLCTL_BIN" --remote "https://127.0.0.1:$PORT" report > /dev/null 2> "$WORK/a.err" || rc=$?
assert_eq "$rc" 4 "--remote with a wrong secret"
grep -q "refused client 'platform'" "$WORK/a.err" || fail "wrong secret: $(cat "$WORK/a.err")"
! grep -q not-the-secret-42 "$WORK/a.err" || fail "the secret is printed"
rc=0; "$BILLCTL_BIN" --remote "ftp://x" report 2> "$WORK/u.err" || rc=$?
assert_eq "$rc" 2 "bad --remote"
grep -q "invalid --remote 'ftp://x'" "$WORK/u.err" || fail "bad --remote: $(cat "$WORK/u.err")"
unset BILLCTL_REMOTE_CA

# A subscription over Server-Sent Events gets a tick that shows an import made after it began.
PYTHONPATH="$SOURCE_DIR/tests/integration" /usr/bin/python3 - "$PORT" "$WORK" "$BILLCTL_BIN" <<'PY' || fail "subscription"
import json, socket, subprocess, sys, time
from serve_token import tls, token as get_token
port, work, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = tls(work)
token = get_token(port, work, "acme-admin")
body = json.dumps({"query": "subscription { usageTicks(interval: 1) { at today { amount } todayRequests budgets { name } } }"}).encode()
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
s.settimeout(10)
s.sendall(f"POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
buf = b""
def next_tick():
    global buf
    while True:
        m = buf.find(b"data: {")
        end = buf.find(b"\n", m) if m >= 0 else -1
        if m >= 0 and end >= 0:
            line, buf = buf[m + 6:end], buf[end:]
            return json.loads(line)["data"]["usageTicks"]
        chunk = s.recv(65536)
        assert chunk, "stream ended"
        buf += chunk
first = next_tick()
assert first["at"] == "2026-11-20T12:00:00Z" and first["todayRequests"] > 0, first
assert buf.find(b"text/event-stream") < 0  # headers consumed before
with open(f"{work}/today.csv", "w") as f:
    f.write("id,timestamp,provider,model,organization,user,input_tokens,output_tokens,requests\n")
    f.write("sse-1,2026-11-20T11:30:00Z,openai,gpt-4o,acme,zoe,1000000,0,7\n")
subprocess.run([binary, "usage", "import", f"{work}/today.csv"], check=True, capture_output=True)
deadline = time.time() + 8
while time.time() < deadline:
    t = next_tick()
    if t["todayRequests"] == first["todayRequests"] + 7:
        assert float(t["today"]["amount"]) > float(first["today"]["amount"]), (first, t)
        break
else:
    raise SystemExit(f"no tick showed the import: {first} -> {t}")
PY

# The access log names who asked, never a token or a secret.
grep -q '"subject":"acme-admin"' "$WORK/serve.log" || fail "access log lacks subjects"
while read -r _ secret; do ! grep -q "$secret" "$WORK/serve.log" || fail "a secret is in the log"; done < "$WORK/clients.txt"
! grep -q "eyJ" "$WORK/serve.log" || fail "a token is in the log"
# Mutations are recorded with the caller as actor.
sqlite3 "$BILLCTL_DB" "SELECT actor, mutation FROM serve_mutations ORDER BY seq LIMIT 1" | grep -q "|" || fail "no mutation recorded"

# Graceful stop: a request whose body is still arriving when SIGTERM comes is answered, then exit 0.
PYTHONPATH="$SOURCE_DIR/tests/integration" /usr/bin/python3 - "$PORT" "$WORK" "$SERVER" <<'PY' || fail "graceful stop"
import json, os, signal, socket, sys, time
from serve_token import tls, token as get_token
port, work, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = tls(work)
token = get_token(port, work, "platform")
body = json.dumps({"query": '{ report(period: "2026-10") { cost { amount } } }'}).encode()
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
s.sendall(f"POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body[:10])
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
s.sendall(body[10:])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200"), head
assert json.loads(rest)["data"]["report"]["cost"]["amount"], rest
PY
rc=0; wait "$SERVER" || rc=$?
assert_eq "$rc" 0 "exit code after SIGTERM"
grep -q "billctl serve: stopped" "$WORK/serve.log" || fail "no stop message"

# Key rotation: tokens of the old key keep working until they expire; the JWKS lists both.
start_server
PYTHONPATH="$SOURCE_DIR/tests/integration" /usr/bin/python3 -c 'import sys; from serve_token import token; print(token(int(sys.argv[1]), sys.argv[2], "acme-admin"))' \
  "$PORT" "$WORK" > "$WORK/old.token" || fail "token before rotation"
kill -TERM "$SERVER"; wait "$SERVER" || true
billctl serve keys rotate | grep -q "^rotated: new key" || fail "keys rotate"
[ "$(billctl serve keys jwks | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')" = 2 ] || fail "jwks after rotation"
start_server
curl -sf --cacert "$WORK/tls.crt" -H "Authorization: Bearer $(cat "$WORK/old.token")" -d '{"query":"{ me { organization } }"}' \
  "https://127.0.0.1:$PORT/graphql" | grep -q '"organization":"acme"' || fail "old token after rotation"
# ... until the old token can have expired (600 s lifetime): then it is refused.
kill -TERM "$SERVER"; wait "$SERVER" || true
BILLCTL_NOW=2026-11-20T12:12:00Z start_server
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/tls.crt" -H "Authorization: Bearer $(cat "$WORK/old.token")" \
  -d '{"query":"{ me { organization } }"}' "https://127.0.0.1:$PORT/graphql")
assert_eq "$code" 401 "old token after its lifetime"
kill -TERM "$SERVER"; wait "$SERVER" || true

# Bad flags are exit 2 naming the flag.
rc=0; billctl serve --listen nowhere 2> "$WORK/listen.err" || rc=$?
assert_eq "$rc" 2 "bad --listen"
grep -q "invalid --listen 'nowhere'" "$WORK/listen.err" || fail "bad --listen: $(cat "$WORK/listen.err")"
rc=0; billctl serve --listen "127.0.0.1:$PORT" --tls-cert "$WORK/tls.crt" 2> "$WORK/tls.err" || rc=$?
assert_eq "$rc" 2 "--tls-cert alone"
grep -q "tls-cert and --tls-key go together" "$WORK/tls.err" || fail "--tls-cert alone: $(cat "$WORK/tls.err")"
echo ok
