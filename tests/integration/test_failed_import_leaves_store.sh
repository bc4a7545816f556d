#!/usr/bin/env bash
# A malformed row anywhere in an import leaves the store byte-for-byte as it was.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
"$GEN_USAGE" --records 5000 --seed 7 >"$WORK/good.csv"
billctl usage import --quiet "$WORK/good.csv"
# Checkpoint and close so the main file holds everything.
sqlite3 "$BILLCTL_DB" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
before=$(sha256sum "$BILLCTL_DB" | cut -d' ' -f1)
dump_before=$(sqlite3 "$BILLCTL_DB" .dump | sha256sum)

# 30000 good rows, then a bad one near the end: thousands of rows were written before it.
"$GEN_USAGE" --records 30000 --seed 8 >"$WORK/bad.csv"
echo 'bad-1,2026-10-05T10:00:00Z,openai,gpt-4o,acme,eng,alice,chat,atlas,12,0,0,0,not-a-number,1,standard,ok' >>"$WORK/bad.csv"
set +e
billctl usage import "$WORK/good.csv" "$WORK/bad.csv" 2>"$WORK/err"
code=$?
set -e
assert_eq "$code" "1" "exit code"
grep -q "bad.csv:30002: invalid output_tokens 'not-a-number'" "$WORK/err" || fail "message: $(cat "$WORK/err")"
sqlite3 "$BILLCTL_DB" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
after=$(sha256sum "$BILLCTL_DB" | cut -d' ' -f1)
assert_eq "$after" "$before" "store file digest"
assert_eq "$(sqlite3 "$BILLCTL_DB" .dump | sha256sum)" "$dump_before" "store content"

# An unknown model and a truncated file behave the same way.
printf 'id,timestamp,model,input_tokens\nx,2026-10-01T00:00:00Z,no-such-model,5\n' >"$WORK/unknown.csv"
printf 'id,timestamp,model,input_tokens\ny,2026-10-01T00:00:00Z,gpt-4o,"5\n' >"$WORK/truncated.csv"
for f in unknown truncated; do
  if billctl usage import --quiet "$WORK/$f.csv" 2>/dev/null; then fail "$f.csv was accepted"; fi
done
sqlite3 "$BILLCTL_DB" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
assert_eq "$(sha256sum "$BILLCTL_DB" | cut -d' ' -f1)" "$before" "store file digest after refused files"
echo ok
