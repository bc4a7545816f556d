#!/usr/bin/env bash
# Importing the same file twice, and overlapping files, leaves every total unchanged.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
"$GEN_USAGE" --records 20000 --seed 5 >"$WORK/all.csv"
billctl usage import --quiet "$WORK/all.csv"
once=$(billctl report --period 2026-10 --format json)
billctl usage import --quiet "$WORK/all.csv"
twice=$(billctl report --period 2026-10 --format json)
[ "$once" == "$twice" ] || fail "a second import of the same file changed the report"

# Two overlapping slices (rows 1-12000 and 8001-20000) into a fresh store give the same totals.
export BILLCTL_DB="$WORK/store2.db"
head -n 12001 "$WORK/all.csv" >"$WORK/a.csv"
{ head -n 1 "$WORK/all.csv"; tail -n +8002 "$WORK/all.csv"; } >"$WORK/b.csv"
billctl usage import --quiet "$WORK/a.csv" "$WORK/b.csv"
billctl usage import --quiet "$WORK/b.csv"
overlap=$(billctl report --period 2026-10 --format json)
assert_eq "$(echo "$overlap" | exact_total)" "$(echo "$once" | exact_total)" "total after overlapping imports"
assert_eq "$(echo "$overlap" | records_total)" "$(echo "$once" | records_total)" "records after overlapping imports"
assert_eq "$(echo "$once" | records_total)" "20000" "records"

# Without ids (derived from the rows), re-imports are still no-ops.
export BILLCTL_DB="$WORK/store3.db"
"$GEN_USAGE" --records 3000 --seed 6 --no-ids >"$WORK/noids.csv"
billctl usage import --quiet "$WORK/noids.csv"
first=$(billctl report --period 2026-10 --format json | exact_total)
billctl usage import --quiet "$WORK/noids.csv"
assert_eq "$(billctl report --period 2026-10 --format json | exact_total)" "$first" "total after re-import without ids"
echo ok
