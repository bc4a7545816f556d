#!/usr/bin/env bash
# Saved report templates and their delivery: save / list / show / run / rm; a template from the
# config; `report send` mails the report as an attachment (local SMTP sink) and posts the summary
# to Slack and a webhook (local HTTP receiver), once per template and period (a daily cron line is
# safe) unless --force; a failing channel exits 5 without stopping the others.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db" BILLCTL_CONFIG="$WORK/config.toml"
start_receiver recv
start_smtp
base="http://127.0.0.1:$recv_PORT"
cat >"$WORK/config.toml" <<TOML
[notify]
attempts = 1
timeout_ms = 2000

[notify.channels.finance]
type = "email"
smtp_url = "smtp://127.0.0.1:$SMTP_PORT"
require_tls = false
from = "billing@example.test"
to = ["finance@example.test"]

[notify.channels.slack]
type = "slack"
url = "$base/slack"

[notify.channels.hook]
type = "webhook"
url = "$base/hook"

[notify.channels.broken]
type = "webhook"
url = "http://127.0.0.1:9/nothing-listens-here"

[reports.eng-monthly]
description = "Engineering's monthly AI spend"
where = ["department=engineering"]
format = "json"
TOML
chmod 600 "$WORK/config.toml"
billctl usage import --quiet "$SOURCE_DIR/tests/fixtures/small.csv"

# save, list, show, run, rm
billctl report save finance-pack --description "Monthly pack for finance" --period last-month --format csv
billctl report list --format json > "$WORK/list.json"
python3 - "$WORK/list.json" <<'EOF' || fail "list"
import json, sys
d = json.load(open(sys.argv[1]))
names = [t["name"] for t in d["templates"]]
assert names == ["eng-monthly", "finance-pack"], names
assert d["templates"][1]["origin"] == "store" and d["templates"][0]["origin"].endswith(":24"), d
EOF
billctl report run finance-pack > "$WORK/run.csv"
billctl report --period last-month --format csv > "$WORK/direct.csv"
diff -u "$WORK/direct.csv" "$WORK/run.csv" || fail "report run differs from the report with the same flags"
billctl report run eng-monthly --period 2026-10 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["filters"], d' \
  || fail "config template filters"
if billctl report save finance-pack --format pdfx 2>"$WORK/err"; then fail "a bad format was saved"; fi
grep -q "invalid --format 'pdfx'" "$WORK/err" || fail "bad format message: $(cat "$WORK/err")"
if billctl report rm eng-monthly 2>"$WORK/err"; then fail "a config template was removed"; fi
grep -q "defined in the config file" "$WORK/err" || fail "rm of a config template: $(cat "$WORK/err")"

# send: e-mail with the CSV attached, Slack and webhook with the summary; once per period.
billctl report send finance-pack --to finance --to slack --to hook --period 2026-10 --format json > "$WORK/send1.json"
validate_schema billctl.report.send < "$WORK/send1.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["result"] for x in d["deliveries"]]==["sent"]*3, d' "$WORK/send1.json" \
  || fail "first send: $(cat "$WORK/send1.json")"
mails=$(ls "$WORK/mail/new" | wc -l)
assert_eq "$mails" 1 "mails after the first send"
python3 - "$WORK/mail/new" "$WORK/direct.csv" <<'EOF' || fail "the mailed report"
import email, os, sys
d = sys.argv[1]
msg = email.message_from_bytes(open(os.path.join(d, os.listdir(d)[0]), "rb").read())
assert msg["Subject"].startswith("AI spend report 'finance-pack' 2026-10: "), msg["Subject"]
parts = [p for p in msg.walk() if p.get_content_maintype() != "multipart"]
assert parts[0].get_content_type() == "text/plain" and "Total: " in parts[0].get_payload(decode=True).decode()
att = parts[1]
assert att.get_filename() == "billctl-report-finance-pack-2026-10.csv", att.get_filename()
assert att.get_content_type() == "text/csv"
body = att.get_payload(decode=True)
assert body.startswith(b"section,key,"), body[:40]
EOF
billctl report send finance-pack --to finance --to slack --to hook --period 2026-10 > "$WORK/send2.txt"
grep -c "already sent" "$WORK/send2.txt" | grep -qx 3 || fail "second send: $(cat "$WORK/send2.txt")"
assert_eq "$(ls "$WORK/mail/new" | wc -l)" 1 "mails after the second send"
assert_eq "$(count_requests "$recv_LOG" /slack)" 1 "slack posts"
requests_to "$recv_LOG" /hook | python3 -c '
import json, sys, base64
r = json.loads(sys.stdin.readline()); b = json.loads(r["body"])
assert b["kind"] == "billctl.report.delivery" and b["template"] == "finance-pack" and b["period"] == "2026-10", b
assert base64.b64decode(b["content_base64"]).startswith(b"section,key,")' || fail "webhook payload"
billctl report send finance-pack --to slack --period 2026-10 --force > /dev/null
assert_eq "$(count_requests "$recv_LOG" /slack)" 2 "slack posts after --force"

# A broken channel fails (exit 5) without stopping the others.
set +e
billctl report send eng-monthly --to broken --to slack --period 2026-10 > "$WORK/send3.txt" 2>"$WORK/err3"
rc=$?
set -e
assert_eq "$rc" 5 "exit code with a failing channel"
grep -q "failed" "$WORK/send3.txt" || fail "failed delivery not shown: $(cat "$WORK/send3.txt")"
assert_eq "$(count_requests "$recv_LOG" /slack)" 3 "the other channel still sent"

# An Excel template: the workbook is attached as it is written to a file.
billctl report save finance-xlsx --format xlsx --period 2026-10
billctl report send finance-xlsx --to finance > /dev/null
billctl report run finance-xlsx -o "$WORK/pack.xlsx"
python3 - "$WORK/mail/new" "$WORK/pack.xlsx" <<'EOF2' || fail "the mailed workbook"
import email, os, sys
d = sys.argv[1]
msgs = [email.message_from_bytes(open(os.path.join(d, f), "rb").read()) for f in sorted(os.listdir(d))]
m = [m for m in msgs if "finance-xlsx" in m["Subject"]][0]
att = [p for p in m.walk() if p.get_filename()][0]
assert att.get_filename() == "billctl-report-finance-xlsx-2026-10.xlsx", att.get_filename()
assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
assert att.get_payload(decode=True) == open(sys.argv[2], "rb").read(), "attachment differs from report run -o"
EOF2

billctl report rm finance-pack
billctl report list | grep -q finance-pack && fail "removed template still listed"
echo ok
