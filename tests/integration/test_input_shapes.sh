#!/usr/bin/env bash
# `report --input` reads exports of every shape users have exactly as an import into the store
# does: ids and no ids, millisecond and whole-second timestamps, columns in another order, a
# currency column and provider costs, CRLF, quoted fields with commas, UTF-8 names, JSON Lines.
# The fast scan (records without quotes or non-ASCII bytes) and the general one must agree, so
# the shapes mix both in one file.
source "$(dirname "$0")/lib.sh"
n=30000
i=0
for spec in "real csv" "real csv --no-ids" "real jsonl" "messy csv" "messy jsonl" "plain csv"; do
  set -- $spec
  shape=$1 fmt=$2; shift 2
  i=$((i + 1))
  f="$WORK/u$i.$fmt"
  "$GEN_USAGE" --records $n --seed $((40 + i)) --shape "$shape" --format "$fmt" "$@" >"$f"
  export BILLCTL_DB="$WORK/s$i.db"
  for out in json csv; do
    billctl report --period 2026-10 --input "$f" --format $out >"$WORK/input$i.$out"
  done
  billctl usage import --quiet "$f"
  for out in json csv; do
    billctl report --period 2026-10 --format $out >"$WORK/store$i.$out"
    cmp -s "$WORK/input$i.$out" "$WORK/store$i.$out" ||
      { diff "$WORK/input$i.$out" "$WORK/store$i.$out" | head -20 >&2; fail "$spec: report --input and the store differ ($out)"; }
  done
  assert_eq "$(records_total <"$WORK/input$i.json")" "$n" "$spec: records"
done
# The messy shape really has what it claims (so the test cannot pass by reading a plain file).
grep -q $'\r$' "$WORK/u4.csv" || fail "messy CSV has no CRLF"
grep -q '"sales, EMEA"' "$WORK/u4.csv" || fail "messy CSV has no quoted comma"
grep -q '営業' "$WORK/input4.csv" || fail "the UTF-8 department is not in the report"
echo ok
