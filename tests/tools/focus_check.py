#!/usr/bin/env python3
"""Checks a FOCUS 1.2 cost-and-usage CSV against the column rules of the specification that apply
to billctl's output (specification/columns/*.md at tag v1.2): presence of the mandatory columns,
column-name format, null rules, decimal and date-time formats, allowed values, unit format, JSON
columns, period containment, and ListCost = ListUnitPrice x PricingQuantity. With --total AMOUNT,
BilledCost must add up to it exactly. Prints every violation (at most 20) and exits 1 on any.
    focus_check.py FILE.csv [--total AMOUNT]
"""
import csv
import json
import re
import sys
from decimal import Decimal

MANDATORY = ["BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
             "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
             "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
             "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName"]
NOT_NULL = ["BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
            "BillingPeriodStart", "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
            "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory",
            "ServiceName"]
DECIMALS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity", "ConsumedQuantity",
            "ListUnitPrice", "ContractedUnitPrice"]
DATETIMES = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"", "Correction"},
    "ChargeFrequency": {"", "One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"", "Standard", "Dynamic", "Committed", "Other"},
    "ServiceCategory": {"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                        "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                        "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                        "Storage", "Web", "Other"},
}
CURRENCIES = {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "INR", "BRL", "SEK", "NOK", "DKK", "PLN", "BHD"}
DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
DATETIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
COLUMN_RE = re.compile(r"^([A-Z][A-Za-z0-9]*|x_[A-Za-z0-9_]+)$")
UNIT_RE = re.compile(r"^([0-9]+ )?[A-Za-z][A-Za-z -]*(/[A-Za-z ]+)?$")


def main(args):
    path = args[0]
    total = Decimal(args[args.index("--total") + 1]) if "--total" in args else None
    errors = []

    def err(msg):
        errors.append(msg)

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        for c in MANDATORY:
            if c not in cols:
                err(f"column {c} is mandatory and missing")
        for c in cols:
            if not COLUMN_RE.match(c) or len(c) > 50:
                err(f"column name '{c}' is not PascalCase (or x_ for a custom column) of at most 50 characters")
        billed = Decimal(0)
        n = 0
        for line, row in enumerate(reader, start=2):
            n += 1
            for c in NOT_NULL:
                if c in row and row[c] == "":
                    err(f"line {line}: {c} must not be null")
            for c in DECIMALS:
                if row.get(c, "") != "" and not DECIMAL_RE.match(row[c]):
                    err(f"line {line}: {c} '{row[c]}' is not a decimal")
            for c in DATETIMES:
                if not DATETIME_RE.match(row.get(c, "")):
                    err(f"line {line}: {c} '{row.get(c)}' is not YYYY-MM-DDTHH:mm:ssZ")
            for c, allowed in ALLOWED.items():
                if c in row and row[c] not in allowed:
                    err(f"line {line}: {c} '{row[c]}' is not an allowed value")
            if row.get("BillingCurrency") not in CURRENCIES:
                err(f"line {line}: BillingCurrency '{row.get('BillingCurrency')}' is not an ISO 4217 code")
            if not (row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]):
                err(f"line {line}: the charge period is not inside the billing period")
            if row["ChargeCategory"] in ("Usage", "Purchase") and row["PricingQuantity"] == "":
                err(f"line {line}: PricingQuantity must not be null for {row['ChargeCategory']}")
            if row["PricingQuantity"] != "" and row["PricingUnit"] == "":
                err(f"line {line}: PricingUnit must not be null when PricingQuantity is not")
            if row["ChargeCategory"] == "Usage" and row["ChargeClass"] != "Correction" and row.get("ConsumedQuantity", "") == "":
                err(f"line {line}: ConsumedQuantity must not be null for usage")
            if row["ChargeCategory"] != "Usage" and row.get("ConsumedQuantity", "") != "":
                err(f"line {line}: ConsumedQuantity must be null for {row['ChargeCategory']}")
            if row.get("ConsumedQuantity", "") != "" and row.get("ConsumedUnit", "") == "":
                err(f"line {line}: ConsumedUnit must not be null when ConsumedQuantity is not")
            for c in ("PricingUnit", "ConsumedUnit"):
                if row.get(c, "") and not UNIT_RE.match(row[c]):
                    err(f"line {line}: {c} '{row[c]}' does not follow the unit format")
            if row.get("SkuPriceId", "") and not row.get("SkuId", ""):
                err(f"line {line}: SkuId must not be null when SkuPriceId is not")
            for c in ("Tags", "SkuPriceDetails"):
                if row.get(c, ""):
                    try:
                        obj = json.loads(row[c])
                        if not isinstance(obj, dict) or not all(isinstance(v, (str, int, float, bool)) for v in obj.values()):
                            err(f"line {line}: {c} is not a flat JSON object")
                        if c == "SkuPriceDetails" and any(not k.startswith("x_") for k in obj):
                            err(f"line {line}: SkuPriceDetails keys that are not FOCUS-defined need the x_ prefix")
                    except ValueError:
                        err(f"line {line}: {c} is not JSON")
            if row.get("ListUnitPrice", "") and row["PricingQuantity"] and row["ListCost"]:
                if Decimal(row["ListUnitPrice"]) * Decimal(row["PricingQuantity"]) != Decimal(row["ListCost"]):
                    err(f"line {line}: ListCost {row['ListCost']} is not ListUnitPrice x PricingQuantity")
            if row["BilledCost"] and DECIMAL_RE.match(row["BilledCost"]):
                billed += Decimal(row["BilledCost"])
    if total is not None and billed != total:
        err(f"BilledCost adds up to {billed}, not {total}")
    for e in errors[:20]:
        print("focus_check: " + e)
    if errors:
        print(f"focus_check: {len(errors)} violations")
        return 1
    print(f"focus_check: {n} rows, {len(cols)} columns, BilledCost total {billed}: FOCUS 1.2 rules hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
