#!/usr/bin/env bash
# The credit ledger in a real SQLite file: concurrent deductions charge each usage record once;
# entries reordered, inserted, edited or cut off behind billctl's back make verify exit 3 naming
# the first bad entry; an untouched copy verifies.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"
billctl credits buy growth --org acme --reference pay-1 --actor finance >/dev/null
billctl credits buy starter --org globex --reference pay-2 --actor finance >/dev/null

# Three deductions at once: SQLite serialises the writers; the usage is charged once.
for i in 1 2 3; do billctl --quiet credits deduct --all --period 2026-10 --actor "cron$i" >"$WORK/d$i.txt" 2>&1 & done
wait
usage_entries=$(billctl credits ledger --kind usage --format csv | tail -n +2 | wc -l | tr -d ' ')
assert_eq "$usage_entries" "2" "usage entries after three concurrent deductions (one per organization)"
billctl credits verify >/dev/null || fail "the untouched ledger does not verify"
billctl credits adjust --org acme --credits 10 --reason "goodwill" --actor support >/dev/null
billctl credits adjust --org globex --credits -3 --reason "fix" --actor support >/dev/null

tamper() {  # tamper NAME SQL EXPECTED_TEXT
  cp "$WORK/store.db" "$WORK/$1.db"
  sqlite3 "$WORK/$1.db" "DROP TRIGGER credit_ledger_no_update; DROP TRIGGER credit_ledger_no_delete; $2"
  set +e
  BILLCTL_DB="$WORK/$1.db" billctl credits verify >"$WORK/$1.out" 2>"$WORK/$1.err"
  local code=$?
  set -e
  assert_eq "$code" "3" "verify exit code after '$1'"
  grep -q -- "$3" "$WORK/$1.out" || fail "$1: expected '$3' in: $(cat "$WORK/$1.out")"
}
tamper edited "UPDATE credit_ledger SET reason = 'nothing to see' WHERE seq = 5" "entry #5 was altered"
tamper rebalanced "UPDATE credit_ledger SET credits = '100000', balance = '104999' WHERE seq = 1" "entry #1 was altered"
tamper deleted "DELETE FROM credit_ledger WHERE seq = 3" "entry #3 is missing"
tamper truncated "DELETE FROM credit_ledger WHERE seq = (SELECT MAX(seq) FROM credit_ledger)" "recorded head"
tamper reordered "UPDATE credit_ledger SET seq = -1 WHERE seq = 2; UPDATE credit_ledger SET seq = 2 WHERE seq = 3; UPDATE credit_ledger SET seq = 3 WHERE seq = -1" "FAILED at entry #2"
tamper inserted "INSERT INTO credit_ledger SELECT 100, at, organization, kind, credits, balance, actor, reference, reason, NULL, detail, prev_hash, hash FROM credit_ledger WHERE seq = 1" "entry #"
# The original still verifies, and the balance is the ledger sum.
billctl credits verify >"$WORK/ok.txt" || fail "original: $(cat "$WORK/ok.txt")"
sum=$(billctl credits ledger --org acme --format json | python3 -c '
import json, sys
from decimal import Decimal
print(sum((Decimal(e["credits"]) for e in json.load(sys.stdin)["entries"]), Decimal(0)))')
bal=$(billctl credits balance --org acme --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["balances"][0]["balance"])')
python3 -c "from decimal import Decimal as D; import sys; sys.exit(0 if D('$sum') == D('$bal') else 1)" || fail "balance $bal is not the ledger sum $sum"
echo ok
