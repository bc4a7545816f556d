#!/usr/bin/env bash
# Tables fit the terminal they are shown on ($COLUMNS, else the tty's width): no line is wider,
# hidden columns are named with "--wide shows all"; --wide and piped output are never cut.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
billctl_on_path
billctl usage import --quiet "$(dirname "$0")/../fixtures/small.csv"
on_tty() { script -qec "$1" /dev/null | tr -d '\r'; }
widest() { python3 -c 'import sys, unicodedata
w = 0
for line in sys.stdin.read().splitlines():
    w = max(w, sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in line))
print(w)'; }
for cols in 60 80; do
  out=$(COLUMNS=$cols on_tty "billctl --no-pager usage summary --period 2026-10 --by user,model")
  [ "$(widest <<<"$out")" -le $cols ] || fail "a line is wider than $cols columns: $out"
  grep -q -- '--wide shows all' <<<"$out" || fail "no note on hidden columns at $cols: $out"
  grep -q 'cost (USD)' <<<"$out" || fail "the cost column is gone at $cols: $out"
done
out=$(COLUMNS=60 on_tty "billctl --no-pager --wide usage summary --period 2026-10 --by user,model")
grep -q 'writes 1h' <<<"$out" || fail "--wide hid a column: $out"
grep -q -- '--wide shows all' <<<"$out" && fail "--wide still says columns are hidden: $out"
out=$(COLUMNS=60 billctl usage summary --period 2026-10 --by user,model)
grep -q 'writes 1h' <<<"$out" || fail "piped output was cut: $out"
[ "$(widest <<<"$out")" -gt 60 ] || fail "piped output was fitted to COLUMNS"
echo "ok: tables fit the terminal"
