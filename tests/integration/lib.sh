# Shared helpers for the integration tests: a temp dir removed on exit, and assertions.
set -euo pipefail
: "${BILLCTL_BIN:?set by CTest}"
: "${GEN_USAGE:?set by CTest}"
: "${SOURCE_DIR:?set by CTest}"
WORK=$(mktemp -d /tmp/billctl-it-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export TZ=UTC LC_ALL=C NO_COLOR=1 BILLCTL_NOW=2026-11-02T08:00:00Z
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data"
mkdir -p "$HOME"
billctl() { "$BILLCTL_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }
# The exact total cost of a report (JSON on stdin).
exact_total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["cost_exact"])'; }
records_total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["records"])'; }

# Starts the HTTP receiver on a free loopback port: start_receiver NAME [options]; sets
# ${NAME}_PORT and ${NAME}_LOG. It is stopped when the test exits.
start_receiver() {
  local name=$1; shift
  : "${HTTP_RECEIVER:?set by CTest}"
  "$HTTP_RECEIVER" --port-file "$WORK/$name.port" --log "$WORK/$name.log" "$@" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  [ -s "$WORK/$name.port" ] || fail "receiver $name did not start"
  touch "$WORK/$name.log"
  printf -v "${name}_PORT" '%s' "$(cat "$WORK/$name.port")"
  printf -v "${name}_LOG" '%s' "$WORK/$name.log"
}
# A free loopback port (for servers that cannot report theirs).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Starts a local SMTP sink (Debian python3-aiosmtpd) writing to the maildir $WORK/mail.
start_smtp() {
  SMTP_PORT=$(free_port)
  mkdir -p "$WORK/mail/tmp" "$WORK/mail/new" "$WORK/mail/cur"
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$WORK/mail" &
  PIDS+=($!)
  for _ in $(seq 100); do
    python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$SMTP_PORT)))" && return 0
    sleep 0.05
  done
  fail "SMTP sink did not start"
}
# Lines of a receiver log whose path is $2.
requests_to() { python3 -c 'import json,sys; [print(l.strip()) for l in open(sys.argv[1]) if json.loads(l)["path"]==sys.argv[2]]' "$1" "$2"; }
count_requests() { requests_to "$1" "$2" | wc -l | tr -d " "; }

# Validates the JSON document on stdin against schemas/KIND.schema.json (python3-jsonschema).
validate_schema() {
  /usr/bin/python3 -c '
import json, sys, jsonschema
kind, root = sys.argv[1], sys.argv[2]
doc = json.load(sys.stdin)
schema = json.load(open(f"{root}/schemas/{kind}.schema.json", encoding="utf-8"))
jsonschema.Draft202012Validator(schema).validate(doc)
' "$1" "$SOURCE_DIR"
}

# Puts billctl on PATH as "billctl" (for commands run through a shell, a pty or tmux).
billctl_on_path() {
  mkdir -p "$WORK/bin"
  ln -sf "$BILLCTL_BIN" "$WORK/bin/billctl"
  export PATH="$WORK/bin:$PATH"
}
