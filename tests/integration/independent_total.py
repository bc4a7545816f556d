"""Prices a canonical usage CSV with Python's decimal module and checks billctl's reports."""
import csv
import glob
import json
import os
import sys
from decimal import Decimal, ROUND_HALF_EVEN

usage_csv, price_dir, *reports = sys.argv[1:]
M = Decimal(1_000_000)

catalog = {}
for path in glob.glob(os.path.join(price_dir, "price-*.json")):
    for e in json.load(open(path))["models"]:
        catalog.setdefault(e["model"], []).append(e)


def rates(obj):
    r = {k: Decimal(obj[k]) / M for k in ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output") if k in obj}
    r.setdefault("cached_input", r["input"])
    r.setdefault("cache_write_5m", r["input"])
    r.setdefault("cache_write_1h", r["cache_write_5m"])
    return r


def price(row):
    entries = sorted(catalog[row["model"]], key=lambda e: e["effective_from"])
    day = row["timestamp"][:10]
    entry = [e for e in entries if e["effective_from"] <= day][-1]
    tier = row["service_tier"] or "standard"
    tin = sum(int(row[k]) for k in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens"))
    lc = entry.get("long_context")
    long = lc is not None and tin > int(lc["threshold"]) * int(row["requests"])
    if tier == "standard":
        r = rates(lc if long else entry)
    else:
        t = entry[tier]
        r = rates(t["long_context"] if long else t)
    return (int(row["input_tokens"]) * r["input"] + int(row["cached_input_tokens"]) * r["cached_input"]
            + int(row["cache_write_tokens"]) * r["cache_write_5m"] + int(row["cache_write_1h_tokens"]) * r["cache_write_1h"]
            + int(row["output_tokens"]) * r["output"])


total = Decimal(0)
by_dept = {}
for row in csv.DictReader(open(usage_csv, newline="")):
    c = price(row)
    total += c
    by_dept[row["department"]] = by_dept.get(row["department"], Decimal(0)) + c

for path in reports:
    rep = json.load(open(path))
    got = Decimal(rep["totals"]["cost_exact"])
    assert got == total, f"{path}: billctl {got} != independent {total}"
    rounded = total.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert Decimal(rep["totals"]["cost"]["amount"]) == rounded, (path, rep["totals"]["cost"], rounded)
    depts = {r["department"]: Decimal(r["cost"]["amount"]) for r in rep["breakdowns"]["department"]}
    assert sum(depts.values()) == rounded, f"{path}: departments sum to {sum(depts.values())}, total {rounded}"
    for d, v in by_dept.items():
        assert abs(depts[d] - v) < Decimal("0.01"), (d, depts[d], v)
print(f"ok: {total} (rounded {total.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}) in {len(reports)} reports")
