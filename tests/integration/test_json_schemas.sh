#!/usr/bin/env bash
# Every JSON document the golden tests expect validates against the schema of its `kind` in
# schemas/ (JSON Schema 2020-12), and every kind has one. Debian's python3-jsonschema.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 - "$SOURCE_DIR" <<'PY' || fail "JSON output does not match schemas/"
import glob, json, os, sys
import jsonschema
root = sys.argv[1]
schemas, checked, bad = {}, 0, 0
for path in glob.glob(os.path.join(root, "schemas", "*.schema.json")):
    s = json.load(open(path, encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(s)
    schemas[os.path.basename(path)[: -len(".schema.json")]] = jsonschema.Draft202012Validator(s)
for case in sorted(glob.glob(os.path.join(root, "tests", "cli", "cases", "*.test"))):
    text = open(case, encoding="utf-8").read()
    if ">>> stdout\n" not in text:
        continue
    out = text.split(">>> stdout\n", 1)[1].split(">>> stderr", 1)[0]
    if not out.startswith("{"):
        continue
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        continue
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if not isinstance(kind, str) or not kind.startswith("billctl."):
        continue
    if doc.get("schema_version") != 1:
        print(f"{os.path.basename(case)}: schema_version is {doc.get('schema_version')!r}"); bad += 1; continue
    if kind not in schemas:
        print(f"{os.path.basename(case)}: no schemas/{kind}.schema.json"); bad += 1; continue
    errors = sorted(schemas[kind].iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:5]:
        print(f"{os.path.basename(case)}: {kind}: {'/'.join(map(str, e.path))}: {e.message}")
    bad += bool(errors)
    checked += 1
print(f"{checked} JSON outputs checked against {len(schemas)} schemas, {bad} bad")
sys.exit(1 if bad or checked < 20 else 0)
PY
