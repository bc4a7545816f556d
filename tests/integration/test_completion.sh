#!/usr/bin/env bash
# Shell completion: `billctl __complete` offers subcommands, flags and values (fixed choices from
# the help text, periods, dimensions and their stored values, budgets, invoices, templates,
# organizations, plans, packages, channels); every flag of every command is pinned in
# expected/completion-values.txt (UPDATE=1 rewrites it). Then the generated scripts complete for
# real in bash, zsh and fish inside tmux: a --where value from the store, a budget name, a file.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_NOW=2026-11-15T12:00:00Z
billctl_on_path
mkdir -p "$XDG_CONFIG_HOME/billctl"
cat >"$XDG_CONFIG_HOME/billctl/config.toml" <<'TOML'
[notify.channels.finance-mail]
type = "email"
smtp_url = "smtp://127.0.0.1:2525"
from = "billctl@example.com"
to = ["finance@example.com"]
require_tls = false
TOML
chmod 600 "$XDG_CONFIG_HOME/billctl/config.toml"
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"
billctl budgets set team-eng --limit "10 USD" >/dev/null
billctl budgets set ops --limit "10 USD" >/dev/null
billctl report save monthly-finance --quiet
billctl invoices plans assign acme starter --since 2026-10 >/dev/null
billctl invoices generate --period 2026-10 --org acme --quiet >/dev/null

complete_words() { billctl __complete "$@" | cut -f1 | tr '\n' ' ' | sed 's/ $//'; }
check() {  # check "EXPECTED" WORD...
  local want=$1; shift
  assert_eq "$(complete_words "$@")" "$want" "completing '$*'"
}
check "usage" us
check "summary" usage su
check "--where --wide" usage summary --w
check "department=engineering" usage summary --where department=eng
check "department=" usage summary --where dep
check "user,model user,month" usage summary --by user,m
check "--format=csv" report --format=c
check "csv" report --format c
check "team-eng" budgets rm t
check "ops team-eng" budgets status ops ""
check "monthly-finance" report run m
check "INV-2026-000001" invoices show INV
check "starter" invoices plans assign acme st
check "acme" invoices plans assign a
check "finance-mail" report send monthly-finance --to f
check "gpt-4o gpt-4o-mini" prices show gpt-4o
check "department:engineering" budgets set x --scope department:e
check "monthly daily" budgets set x --period ""
check "2026-Q4 2026-Q3 2026 2026-11 2026-10 2026-09 2026-08 2026-07 2026-06 2026-05 2026-04 2026-03 2026-02 2026-01" report --period 2026
check ":files" usage import ""
check ":files" --db ""
check "bash" completion b
check "tz" config get t
# A store given on the command line is the one read; a missing store gives no values and no error.
check "" --db "$WORK/none.db" budgets rm ""
[ ! -e "$WORK/none.db" ] || fail "completion created a store"
# Nothing on stderr, exit 0, even for words that make no sense.
billctl __complete --period --where =x "" 2>"$WORK/err" >/dev/null || fail "__complete failed"
[ ! -s "$WORK/err" ] || fail "__complete wrote to stderr: $(cat "$WORK/err")"

# Every flag of every command, pinned: what TAB offers after it.
expected="$SOURCE_DIR/tests/integration/expected/completion-values.txt"
billctl __flags | while IFS=$'\t' read -r path flag; do
  [ -n "$flag" ] || continue
  words=(${path#billctl})
  printf '%s %s: %s\n' "$path" "$flag" "$(complete_words "${words[@]}" "$flag" "")"
done >"$WORK/values.txt"
if [ "${UPDATE:-}" == 1 ]; then cp "$WORK/values.txt" "$expected"; fi
diff -u "$expected" "$WORK/values.txt" || fail "completion values changed (UPDATE=1 to accept)"
# Every option with fixed choices offers at least two.
for f in --format --color --sensitivity --granularity --mode --on-error --status --metric --bucket --kind --fail-on; do
  grep -- " $f: " "$WORK/values.txt" | grep -v ': [^ ]* [^ ]' && fail "$f offers fewer than two choices"
done

# The scripts in a real shell (tmux): TAB completes a stored value, a budget name and a file.
command -v tmux >/dev/null || fail "tmux is needed (scripts/deps installs it)"
sock="$WORK/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; cleanup' EXIT
screen() { tmux -S "$sock" capture-pane -p; }
wait_for() {  # wait_for PATTERN WHAT: up to 5 s
  for _ in $(seq 50); do screen | grep -q -- "$1" && return 0; sleep 0.1; done
  fail "$2: $(screen)"
}
touch "$WORK/october-usage.csv"
try_shell() {  # try_shell NAME COMMAND SETUP
  local name=$1 cmd=$2 setup=$3
  command -v "$name" >/dev/null || fail "$name is needed (scripts/deps installs it)"
  tmux -S "$sock" kill-server 2>/dev/null || true
  tmux -S "$sock" new-session -d -x 150 -y 30 -c "$WORK" "$cmd"
  sleep 0.5
  tmux -S "$sock" send-keys "$setup" Enter
  tmux -S "$sock" send-keys "clear" Enter
  tmux -S "$sock" send-keys "billctl usage summary --where department=eng" Tab
  wait_for "department=engineering" "$name: no stored --where value"
  tmux -S "$sock" send-keys C-u "billctl budgets rm te" Tab
  wait_for "rm team-eng" "$name: no budget name"
  tmux -S "$sock" send-keys C-u "billctl usage import octo" Tab
  wait_for "import october-usage.csv" "$name: no file name"
  tmux -S "$sock" kill-server
}
dir="$SOURCE_DIR/completions"
try_shell bash "env -i HOME=$HOME TERM=xterm PATH=$PATH BILLCTL_DB=$BILLCTL_DB BILLCTL_NOW=$BILLCTL_NOW bash --norc --noprofile" \
  "source $dir/billctl.bash"
try_shell zsh "env -i HOME=$HOME TERM=xterm PATH=$PATH BILLCTL_DB=$BILLCTL_DB BILLCTL_NOW=$BILLCTL_NOW zsh -f" \
  "autoload -U compinit && compinit -u && source $dir/_billctl"
try_shell fish "env -i HOME=$HOME TERM=xterm PATH=$PATH BILLCTL_DB=$BILLCTL_DB BILLCTL_NOW=$BILLCTL_NOW fish --no-config" \
  "source $dir/billctl.fish"
echo "ok: completion"
