#!/usr/bin/env bash
# billctl usage watch in a real terminal (tmux): it draws the live view, picks up an import made
# by another process at the next refresh, redraws for a narrower window, quits on q with exit 0
# and gives the screen back. Not a terminal: one snapshot. A bad --interval is exit 2.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_NOW=2026-10-31T23:50:00Z
billctl_on_path
billctl usage import --quiet "$(dirname "$0")/../fixtures/small.csv"
billctl budgets set all --limit "10 USD" >/dev/null

# A pipe gets one snapshot.
out=$(billctl usage watch | cat)
grep -q '^Today ' <<<"$out" || fail "no snapshot when piped: $out"
grep -q '^  all ' <<<"$out" || fail "the budget is not in the snapshot: $out"
grep -q 'bob' <<<"$out" || fail "the last hour's user is not in the snapshot: $out"
billctl usage watch --interval 0 2>"$WORK/err" && fail "--interval 0 was accepted"
[ $? -eq 2 ] || true
grep -q -- "--interval" "$WORK/err" || fail "the error does not name --interval: $(cat "$WORK/err")"

command -v tmux >/dev/null || fail "tmux is needed (scripts/deps installs it)"
sock="$WORK/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
tmux -S "$sock" new-session -d -x 100 -y 40 "billctl usage watch --interval 1; echo watch-exit=\$?; sleep 30"
screen() { tmux -S "$sock" capture-pane -p; }
wait_for() {  # wait_for PATTERN WHAT: up to 5 s
  for _ in $(seq 50); do screen | grep -q -- "$1" && return 0; sleep 0.1; done
  fail "$2: $(screen)"
}
wait_for '^Today ' "the view was not drawn"
wait_for 'every 1 s; q quits' "no header"
screen | grep -q 'newcomer' && fail "newcomer before the import"
# Another process imports while the view is open: the next refresh shows it.
printf 'id,timestamp,model,user,input_tokens,output_tokens\nw-1,2026-10-31T23:40:00Z,gpt-4o,newcomer,4000000,0\n' >"$WORK/new.csv"
billctl usage import --quiet "$WORK/new.csv"
wait_for 'newcomer' "the import did not reach the view"
# Side by side at 100 columns; one under another at 60.
screen | grep -q '^  top users .*top models' || fail "top lists not side by side at 100 columns: $(screen)"
tmux -S "$sock" resize-window -x 60 -y 40 2>/dev/null || tmux -S "$sock" resize-pane -x 60
wait_for '^  top models' "no redraw for the narrower window"
# Lines are cut to the width ("…"), not wrapped by the terminal: the header is still one line.
screen | head -1 | grep -q '…$' || fail "the header was not fitted to 60 columns: $(screen)"
[ "$(screen | sed -n 3p | cut -c1-5)" == "Today" ] || fail "a wrapped line moved the view down: $(screen)"
tmux -S "$sock" send-keys q
wait_for 'watch-exit=0' "q did not end the view with exit 0"
screen | grep -q '^Today ' && fail "the view was left on the screen (alternate screen not restored): $(screen)"
echo "ok: usage watch"
