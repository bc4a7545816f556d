#!/usr/bin/env bash
# usage anomalies on generated calm histories with planted anomalies (tools/gen_history.cpp):
# a user looping a premium model at night, an error storm, a feature launch. Every planted anomaly
# is found on its day (a launch: on its day or the next) with a planted driver ranked first, and quiet data raises no more than one
# false alarm a month. Precision and recall are printed (and quoted in billctl-usage(1)).
source "$(dirname "$0")/lib.sh"
: "${GEN_HISTORY:?set by CTest}"
for seed in 1 2 3 4; do
  "$GEN_HISTORY" --seed $seed --months 8 --no-spikes --no-shifts --no-zero-days \
    --plant-loop 2026-06-1$seed --plant-errors 2026-08-0$((seed + 2)) --plant-launch 2026-09-2$seed >"$WORK/h$seed.csv"
  billctl --db "$WORK/s$seed.db" usage import --quiet "$WORK/h$seed.csv"
  billctl --db "$WORK/s$seed.db" --now 2026-11-01T00:00:00Z usage anomalies --period 2026-05-01..2026-10-31 --format json \
    >"$WORK/a$seed.json"
done
python3 - "$WORK" <<'PY' || fail "planted anomalies not found, or too many false alarms (see above)"
import json, os, sys
loop = {("user", "mallory"), ("feature", "agent"), ("model", "claude-opus-4-1")}
storm = {("user", "svc-batch"), ("feature", "batch"), ("model", "gpt-4o"), ("department", "operations")}
launch = {("feature", "launch-x"), ("model", "gpt-4o")}
planted = found = true = total = false = 0
ok = True
for seed in (1, 2, 3, 4):
    doc = json.load(open(os.path.join(sys.argv[1], f"a{seed}.json")))
    assert doc["kind"] == "billctl.usage.anomalies"
    days = {"loop": f"2026-06-1{seed}", "storm": f"2026-08-0{seed + 2}", "launch": f"2026-09-2{seed}"}
    first = lambda a: (a["drivers"][0]["dimension"], a["drivers"][0]["value"]) if a["drivers"] else None
    want = {"loop": ("cost", loop), "storm": ("errors", storm), "launch": ("cost", launch)}
    for name, (metric, drivers) in want.items():
        planted += 1
        # A launch ramps up: found on its day or the day after.
        on = {days[name]} if name != "launch" else {days[name], days[name][:8] + str(int(days[name][8:]) + 1)}
        hit = [a for a in doc["anomalies"] if a["start"][:10] in on and a["metric"] == metric and first(a) in drivers]
        if hit:
            found += 1
        else:
            ok = False
            print(f"seed {seed}: planted {name} on {days[name]} not found with its driver first")
    for a in doc["anomalies"]:
        total += 1
        d = a["start"][:10]
        if (d == days["loop"] and first(a) in loop) or (d == days["storm"] and first(a) in storm) or \
           (d >= days["launch"] and first(a) in launch):
            true += 1
        else:
            false += 1
print(f"recall {found}/{planted}, precision {true}/{total}, false alarms {false} in 24 months of quiet data")
sys.exit(0 if ok and false <= 24 else 1)
PY
echo ok
