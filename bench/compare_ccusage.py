#!/usr/bin/env python3
"""Compares the daily totals of `billctl report --input LOGS --format json` (or of
`billctl usage summary --by day --input LOGS --format json`) with
`ccusage daily --json -z UTC`: every token class exactly, and the cost to the cent: ccusage's is a
sum of floating-point dollars; billctl's daily amounts are the exact costs in cents allocated so
that the days add up exactly to the month's total (largest remainder), so a day may show one cent
more or less than its own rounding.

    compare_ccusage.py BILLCTL.json CCUSAGE.json    -> "N days identical" or the differences (exit 1)
"""
import json
import sys
from decimal import Decimal

doc = json.load(open(sys.argv[1]))
billctl = {d["day"]: d for d in doc.get("daily", doc.get("rows", []))}
ccusage = {d.get("period") or d.get("date"): d for d in json.load(open(sys.argv[2]))["daily"]}
bad = []
for day in sorted(set(billctl) | set(ccusage)):
    b, c = billctl.get(day), ccusage.get(day)
    if not b or not c:
        bad.append(f"{day}: only in {'billctl' if b else 'ccusage'}")
        continue
    pairs = [("input", b["input_tokens"], c["inputTokens"]), ("output", b["output_tokens"], c["outputTokens"]),
             ("cache read", b["cached_input_tokens"], c["cacheReadTokens"]),
             ("cache write", b["cache_write_tokens"] + b["cache_write_1h_tokens"], c["cacheCreationTokens"])]
    bad += [f"{day}: {name} billctl {x} ccusage {y}" for name, x, y in pairs if x != y]
    cost_b, cost_c = Decimal(b["cost"]["amount"]), Decimal(repr(c["totalCost"]))
    if abs(cost_b - cost_c) > Decimal("0.010000001"):
        bad.append(f"{day}: cost billctl {cost_b} ccusage {cost_c}")
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
print(f"{len(billctl)} days identical")
