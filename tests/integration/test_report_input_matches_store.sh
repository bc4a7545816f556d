#!/usr/bin/env bash
# report --input gives the same report as importing first, in every format.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
"$GEN_USAGE" --records 20000 --seed 21 --month 2026-09 --format jsonl >"$WORK/sep.jsonl"
"$GEN_USAGE" --records 25000 --seed 22 >"$WORK/oct.csv"
billctl usage import --quiet "$WORK/sep.jsonl" "$WORK/oct.csv"
for fmt in table csv json; do
  billctl report --period 2026-10 --format $fmt >"$WORK/store.$fmt"
  billctl report --period 2026-10 --format $fmt --input "$WORK/sep.jsonl" --input "$WORK/oct.csv" >"$WORK/input.$fmt"
  diff -u "$WORK/store.$fmt" "$WORK/input.$fmt" || fail "report --input differs from the store report ($fmt)"
done
# Byte-identical run to run.
billctl report --period 2026-10 --format json >"$WORK/again.json"
cmp "$WORK/store.json" "$WORK/again.json" || fail "report not reproducible"
# The CSV is valid RFC 4180 and its department rows sum to the total.
python3 - "$WORK/store.csv" <<'PY'
import csv, sys
from decimal import Decimal
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
total = Decimal(next(r["cost"] for r in rows if r["section"] == "total"))
for section in ("provider", "model", "department", "user", "feature", "project", "day"):
    s = sum(Decimal(r["cost"]) for r in rows if r["section"] == section)
    assert s == total, (section, s, total)
print("sections sum to", total)
PY
echo ok
