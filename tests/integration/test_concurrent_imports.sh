#!/usr/bin/env bash
# Two imports started at the same time both end correctly: one waits for the other.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
"$GEN_USAGE" --records 40000 --seed 11 >"$WORK/a.csv"
"$GEN_USAGE" --records 40000 --seed 12 --format jsonl >"$WORK/b.jsonl"
billctl usage import --quiet "$WORK/a.csv" & pa=$!
billctl usage import --quiet "$WORK/b.jsonl" & pb=$!
wait $pa || fail "first import failed"
wait $pb || fail "second import failed"
both=$(billctl report --period 2026-10 --format json)
assert_eq "$(echo "$both" | records_total)" "80000" "records after concurrent imports"
expected=$(billctl report --period 2026-10 --format json --input "$WORK/a.csv" --input "$WORK/b.jsonl" | exact_total)
assert_eq "$(echo "$both" | exact_total)" "$expected" "total after concurrent imports"
assert_eq "$(sqlite3 "$BILLCTL_DB" 'PRAGMA integrity_check;')" "ok" "integrity"
echo ok
