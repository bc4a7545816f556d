#!/usr/bin/env bash
# Totals are exact to the last digit against an independent computation in Python's decimal
# module, from the raw file and the catalog billctl prints.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
"$GEN_USAGE" --records 30000 --seed 31 >"$WORK/u.csv"
for m in $(cut -d, -f4 "$WORK/u.csv" | tail -n +2 | sort -u); do
  billctl prices show "$m" --format json >"$WORK/price-$m.json"
done
billctl report --period 2026-10 --input "$WORK/u.csv" --format json >"$WORK/input.json"
billctl usage import --quiet "$WORK/u.csv"
billctl report --period 2026-10 --format json >"$WORK/store.json"
python3 "$SOURCE_DIR/tests/integration/independent_total.py" "$WORK/u.csv" "$WORK" "$WORK/input.json" "$WORK/store.json"
