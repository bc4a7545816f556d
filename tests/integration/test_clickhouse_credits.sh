#!/usr/bin/env bash
# credits deduct with usage in ClickHouse charges exactly what it charges from the embedded store:
# first run, a run with nothing new, corrections after a revised import (a record with other
# counts, one moved to another time, one moved to another organization), and the ledger after.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse.sh"
F="$SOURCE_DIR/tests/fixtures"
start_clickhouse ch
S=(--config "$F/billing.toml" --db "$WORK/s.db")
C=(--config "$F/billing.toml" --db "clickhouse://127.0.0.1:$ch_HTTP/credits" --state "$WORK/state.db")
"$GEN_USAGE" --records 5000 --month 2026-10 --shape real >"$WORK/real.csv"
# The revision: 40 records again, with other tokens, another hour or another organization.
python3 - "$WORK/real.csv" "$WORK/revised.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
out = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=rows[0].keys())
out.writeheader()
for i, r in enumerate(rows[:40]):
    if i % 3 == 0: r["input_tokens"] = str(int(r["input_tokens"]) + 1000)
    elif i % 3 == 1: r["timestamp"] = r["timestamp"].replace("T0", "T1", 1) if "T0" in r["timestamp"] else r["timestamp"].replace("T1", "T0", 1)
    else: r["organization"] = "globex" if r.get("organization") != "globex" else "acme"
    out.writerow(r)
PY
SAME_OK=1 SAME_EMPTY_OK=1
same usage import --quiet "$WORK/real.csv" "$F/small.csv" "$F/meters.csv"
for org in acme globex initech; do same credits buy team --org "$org" --actor finance --reference "PO-$org" --idempotency-key "buy-$org"; done
same credits deduct --all --period 2026-10 --actor cron --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=sum(o["charged"] for o in d["organizations"]); sys.exit(0 if n > 4000 else f"charged only {n}")' "$WORK/b.out"
same credits deduct --all --period 2026-10 --actor cron --format json
same usage import --quiet "$WORK/revised.csv" "$F/small-revised.csv"
same credits deduct --all --period 2026-10 --actor cron --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=sum(o["corrected"] for o in d["organizations"]); sys.exit(0 if n >= 30 else f"corrected only {n}")' "$WORK/b.out"
same credits deduct --org acme --period 2026-10 --actor cron
# A rate change applies to usage charged after it: the revision stored again, unchanged, and
# deducted at twice the rate charges and corrects nothing; a new record is charged at the new rate.
sed 's/^rate = .*/rate = "200"/' "$F/billing.toml" >"$WORK/double.toml"
S[1]="$WORK/double.toml" C[1]="$WORK/double.toml"
head -2 "$F/small.csv" | sed 's/^\([^,]*\),/\1-new,/; 1s/^id-new,/id,/' >"$WORK/new.csv"
same usage import --quiet "$WORK/revised.csv" "$WORK/new.csv"
same credits deduct --all --period 2026-10 --actor cron --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["organizations"]; n=(sum(x["charged"] for x in o), sum(x["corrected"] for x in o)); sys.exit(0 if n == (1, 0) else f"charged, corrected {n} after a rate change")' "$WORK/b.out"
same credits balance --format json
same credits ledger --format json
grep -q '"kind": "correction"' "$WORK/b.out" || fail "no correction entry after the revised import"
same credits verify
echo "ok: credits deduct from ClickHouse matches the embedded store"
