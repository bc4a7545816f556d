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

# Every table billctl prints, at 80, 120 and 200 columns: no line wider than the terminal.
billctl budgets set team --limit "10 USD" >/dev/null
billctl budgets set eng --scope department:engineering --limit "2 USD" --period daily >/dev/null
billctl credits buy starter --org acme --reference PO-1 >/dev/null
billctl credits deduct --all --period 2026-10 >/dev/null
billctl invoices plans assign acme starter --since 2026-10 >/dev/null
billctl invoices plans assign globex professional --since 2026-10 >/dev/null
billctl invoices generate --period 2026-10 >/dev/null
billctl report save monthly --quiet
commands=(
  "usage summary --period 2026-10 --by department,model"
  "usage top --period 2026-10"
  "usage log"
  "usage anomalies --period 2026-10"
  "usage patterns --period 2026-10"
  "budgets list"
  "budgets status"
  "budgets check"
  "credits balance"
  "credits packages"
  "credits ledger"
  "credits ledger --summary"
  "invoices plans"
  "invoices plans usage --period 2026-10"
  "invoices list"
  "invoices show INV-2026-000001"
  "report --period 2026-10 --all"
  "report recommendations --period 2026-10"
  "report reconcile --period 2026-10"
  "report list"
  "forecast --period 2026-10 --by department"
  "prices list"
  "prices show gpt-4o"
  "doctor"
)
for cols in 80 120 200; do
  for c in "${commands[@]}"; do
    out=$(COLUMNS=$cols on_tty "billctl --no-pager $c" || true)
    [ -n "$out" ] || fail "'billctl $c' printed nothing"
    w=$(widest <<<"$out")
    [ "$w" -le $cols ] || fail "'billctl $c' is $w columns wide at $cols: $out"
  done
done
echo "ok: tables fit the terminal"
