#!/usr/bin/env bash
# Opening a large store made by an earlier release says, once, that the upgrade reads every record
# (it takes seconds at millions); --quiet keeps it silent; small stores upgrade without a word.
source "$(dirname "$0")/lib.sh"
db="$WORK/store.db"
"$GEN_USAGE" --records 100000 --seed 31 >"$WORK/a.csv"
billctl --db "$db" usage import --quiet "$WORK/a.csv"
want=$(billctl --db "$db" report --period 2026-10 --format json)
# As schema 14 left it: no usage_user_monthly.
downgrade() { sqlite3 "$db" "DROP TRIGGER usage_user_monthly_delete; DROP TABLE usage_user_monthly; DROP TABLE credit_rates; PRAGMA user_version = 14"; }
downgrade
got=$(billctl --db "$db" report --period 2026-10 --format json 2>"$WORK/err")
assert_eq "$got" "$want" "the report after the upgrade"
grep -q "^note: upgrading the store '$db' from schema 14 to 16: one pass over its records, once" "$WORK/err" ||
  fail "no upgrade notice: $(cat "$WORK/err")"
assert_eq "$(sqlite3 "$db" "SELECT SUM(records) FROM usage_user_monthly WHERE dim = 'feature'")" \
  "$(sqlite3 "$db" "SELECT COUNT(*) FROM usage WHERE meter = ''")" "token records counted by feature"
billctl --db "$db" report --period 2026-10 --format json >/dev/null 2>"$WORK/err2"
[ ! -s "$WORK/err2" ] || fail "a second open said: $(cat "$WORK/err2")"
downgrade
billctl --quiet --db "$db" report --period 2026-10 --format json >/dev/null 2>"$WORK/err3"
[ ! -s "$WORK/err3" ] || fail "--quiet still said: $(cat "$WORK/err3")"
# A small store (under 100,000 records) upgrades silently.
small="$WORK/small.db"
head -1001 "$WORK/a.csv" >"$WORK/small.csv"
billctl --db "$small" usage import --quiet "$WORK/small.csv"
sqlite3 "$small" "DROP TRIGGER usage_user_monthly_delete; DROP TABLE usage_user_monthly; DROP TABLE credit_rates; PRAGMA user_version = 14"
billctl --db "$small" report --period 2026-10 --format json >/dev/null 2>"$WORK/err4"
[ ! -s "$WORK/err4" ] || fail "a small store's upgrade said: $(cat "$WORK/err4")"
echo "ok: the upgrade of a large store is announced once"
