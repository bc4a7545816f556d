#!/usr/bin/env bash
# Long output on a terminal goes through the pager ($BILLCTL_PAGER, $PAGER, default less -FRX);
# never when piped, with --no-pager, or when it fits the screen; a reader that quits early is no
# error; a pager that cannot run leaves the output on the terminal with a note. The terminal is a
# pty from script(1); the real less runs in tmux and is quit with q.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
billctl_on_path
billctl usage import --quiet "$(dirname "$0")/../fixtures/small.csv"
on_tty() { script -qec "$1" /dev/null | tr -d '\r'; }
cmd="billctl usage summary --period 2026-10 --by user"

out=$(BILLCTL_PAGER='sed s/^/paged:/' LINES=5 on_tty "$cmd")
[ "$(grep -c '^paged:' <<<"$out")" -ge 10 ] || fail "long output on a terminal was not paged: $out"
out=$(BILLCTL_PAGER='sed s/^/paged:/' LINES=5 on_tty "billctl --no-pager usage summary --period 2026-10 --by user")
grep -q '^paged:' <<<"$out" && fail "--no-pager paged"
grep -q 'Usage summary 2026-10' <<<"$out" || fail "--no-pager lost the output"
out=$(BILLCTL_PAGER='sed s/^/paged:/' LINES=100 on_tty "$cmd")
grep -q '^paged:' <<<"$out" && fail "output that fits the screen was paged"
out=$(BILLCTL_PAGER='sed s/^/paged:/' LINES=5 $cmd)
grep -q '^paged:' <<<"$out" && fail "piped output was paged"
out=$(unset BILLCTL_PAGER; PAGER='sed s/^/general:/' LINES=5 on_tty "$cmd")
grep -q '^general:' <<<"$out" || fail "\$PAGER was not used"
out=$(BILLCTL_PAGER='' PAGER='sed s/^/general:/' LINES=5 on_tty "$cmd")
grep -q '^general:' <<<"$out" && fail "an empty BILLCTL_PAGER did not turn paging off"
# The reader quits after one line: exit 0, no error.
out=$(BILLCTL_PAGER='head -1' LINES=5 on_tty "$cmd; echo exit=\$?")
grep -q 'exit=0' <<<"$out" || fail "a pager that quits early made billctl fail: $out"
grep -qi 'error\|broken pipe' <<<"$out" && fail "a pager that quits early printed an error: $out"
# A pager that cannot run: a note, and the output on the terminal.
out=$(BILLCTL_PAGER='no-such-pager-x' LINES=5 on_tty "$cmd")
grep -q "the pager 'no-such-pager-x' could not be run" <<<"$out" || fail "no note for a missing pager: $out"
grep -q 'Usage summary 2026-10' <<<"$out" || fail "a missing pager lost the output"

# The default pager, less -FRX, in a real terminal: it shows the first screen and quits on q.
if command -v tmux >/dev/null && command -v less >/dev/null; then
  sock="$WORK/tmux.sock"
  tmux -S "$sock" new-session -d -x 120 -y 8 "env -u BILLCTL_PAGER -u PAGER -u LINES $cmd; echo billctl-exit=\$?; sleep 30"
  trap 'tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
  for _ in $(seq 50); do tmux -S "$sock" capture-pane -p | grep -q 'Usage summary' && break; sleep 0.1; done
  screen=$(tmux -S "$sock" capture-pane -p)
  grep -q 'Usage summary 2026-10' <<<"$screen" || fail "less did not show the output: $screen"
  grep -q 'billctl-exit=' <<<"$screen" && fail "billctl did not wait for the pager"
  tmux -S "$sock" send-keys q
  for _ in $(seq 50); do tmux -S "$sock" capture-pane -p | grep -q 'billctl-exit=' && break; sleep 0.1; done
  tmux -S "$sock" capture-pane -p | grep -q 'billctl-exit=0' || fail "quitting less did not end billctl with 0: $(tmux -S "$sock" capture-pane -p)"
else
  fail "tmux and less are needed (scripts/deps installs them)"
fi
echo "ok"
