#!/usr/bin/env bash
# The forecast's accuracy claims, measured: on generated 12-month histories (weekly seasonality,
# growth, level shifts, spikes, zero days; deterministic seeds) the backtest's intervals cover
# close to their level (80 % within 74..86, 95 % within 89..99.5, over all forecasts) and its error
# is below the naive run-rate's at every cutoff day from the 3rd on. billctl-forecast(1) quotes
# the figures.
source "$(dirname "$0")/lib.sh"
: "${GEN_HISTORY:?set by CTest}"
for seed in 1 2 3 4 5 6 7 8; do
  "$GEN_HISTORY" --seed $seed >"$WORK/h$seed.csv"
  billctl --db "$WORK/s$seed.db" usage import --quiet "$WORK/h$seed.csv"
  billctl --db "$WORK/s$seed.db" --now 2026-11-02T00:00:00Z forecast backtest --from 2025-11 --to 2026-10 --format json \
    >"$WORK/b$seed.json"
done
python3 - "$WORK" <<'PY' || fail "backtest targets missed (see above)"
import glob, json, os, sys
per_day, total = {}, [0, 0.0, 0.0, 0.0, 0.0]
for path in sorted(glob.glob(os.path.join(sys.argv[1], "b*.json"))):
    doc = json.load(open(path))
    assert doc["kind"] == "billctl.forecast.backtest"
    for c in doc["cutoffs"]:
        n = c["months"]
        a = per_day.setdefault(c["day"], [0, 0.0, 0.0])
        a[0] += n; a[1] += c["mape"] * n; a[2] += c["mape_run_rate"] * n
        total[0] += n; total[1] += c["mape"] * n; total[2] += c["mape_run_rate"] * n
        total[3] += c["coverage"]["80"] * n; total[4] += c["coverage"]["95"] * n
n = total[0]
cov80, cov95 = 100 * total[3] / n, 100 * total[4] / n
print(f"{n} forecasts: MAPE {total[1]/n:.2f} % vs run-rate {total[2]/n:.2f} %; coverage {cov80:.1f} % (80), {cov95:.1f} % (95)")
bad = [d for d, a in sorted(per_day.items()) if d >= 3 and a[1] >= a[2]]
ok = n >= 2000 and 74 <= cov80 <= 86 and 89 <= cov95 <= 99.5 and not bad
if bad:
    print("MAPE not below run-rate's at cutoff days", bad)
sys.exit(0 if ok else 1)
PY
echo ok
