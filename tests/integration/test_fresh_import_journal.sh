#!/usr/bin/env bash
# An import into an empty store writes the database once, under a rollback journal instead of the
# WAL: a command started meanwhile sees all of it or none (it waits for the switch back); a kill -9
# leaves an empty, intact store; with another connection open the import keeps the WAL; the store is
# back in WAL mode after each.
source "$(dirname "$0")/lib.sh"
db="$WORK/store.db"
"$GEN_USAGE" --records 200000 --seed 21 >"$WORK/a.csv"
expected=$(billctl report --period 2026-10 --format json --input "$WORK/a.csv" | exact_total)
mode() { sqlite3 "$db" 'PRAGMA journal_mode'; }
# The journal mode the file's header says (bytes 18 and 19: 2 for WAL, 1 for a rollback journal).
header_mode() { python3 -c 'import sys; h = open(sys.argv[1], "rb").read(20); print("wal" if len(h) == 20 and h[18] == 2 else "rollback" if len(h) == 20 else "")' "$db" 2>/dev/null || true; }
# Waits while the import running as $1 runs: 0 as soon as the file is in rollback-journal mode, 1
# when the import ends without that.
rollback_seen() {
  while kill -0 "$1" 2>/dev/null; do
    [ "$(header_mode)" == rollback ] && return 0
    sleep 0.02
  done
  return 1
}

# 1. A report started while the import runs sees all of it or nothing, never a part.
billctl --db "$db" usage import --quiet "$WORK/a.csv" & imp=$!
rollback_seen $imp || fail "the import into an empty store kept the WAL"
got=$(billctl --db "$db" report --period 2026-10 --format json)
wait $imp || fail "the import failed"
case "$(echo "$got" | records_total)" in
  0) ;;
  200000) assert_eq "$(echo "$got" | exact_total)" "$expected" "total seen by a report started during the import" ;;
  *) fail "a report during the import saw $(echo "$got" | records_total) records" ;;
esac
assert_eq "$(mode)" "wal" "journal mode after the import"
assert_eq "$(billctl --db "$db" report --period 2026-10 --format json | exact_total)" "$expected" "total after the import"
[ ! -e "$db-journal" ] || fail "a journal was left behind"
# A second import into the same (now not empty) store keeps the WAL.
billctl --db "$db" usage import --quiet "$WORK/a.csv" & imp=$!
if rollback_seen $imp; then fail "an import into a store with records left the WAL"; fi
wait $imp || fail "the second import failed"

# The import itself puts the file back in WAL mode (no other command opened it since).
rm -f "$db" "$db-wal" "$db-shm"
billctl --db "$db" usage import --quiet "$WORK/a.csv"
assert_eq "$(header_mode)" "wal" "journal mode the import left"

# 2. kill -9 once the import has spilled pages into the file (more records than its page cache
# holds): the next command rolls the hot journal back and finds an empty, intact store.
"$GEN_USAGE" --records 1000000 --seed 22 >"$WORK/big.csv"
rm -f "$db" "$db-wal" "$db-shm"
"$BILLCTL_BIN" --db "$db" usage import --quiet "$WORK/big.csv" & imp=$!  # not the function: kill -9 must reach billctl
while kill -0 $imp 2>/dev/null && [ ! -e "$db-journal" ]; do sleep 0.02; done
[ -e "$db-journal" ] || fail "the import into an empty store ended without writing a rollback journal"
kill -9 $imp
wait $imp 2>/dev/null || true
assert_eq "$(billctl --db "$db" report --period 2026-10 --format json | records_total)" "0" "records after kill -9"
[ ! -e "$db-journal" ] || fail "the hot journal is still there"
assert_eq "$(mode)" "wal" "journal mode after kill -9"
assert_eq "$(sqlite3 "$db" 'PRAGMA integrity_check')" "ok" "integrity after kill -9"

# 3. Another connection has the store open: the import keeps the WAL (SQLite refuses the switch).
python3 - "$db" "$WORK/holding" <<'PY' & holder=$!
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM meta").fetchall()
open(sys.argv[2], "w").close()
time.sleep(120)
PY
PIDS+=($holder)
for _ in $(seq 200); do [ -e "$WORK/holding" ] && break; sleep 0.05; done
[ -e "$WORK/holding" ] || fail "the other connection did not open"
billctl --db "$db" usage import --quiet "$WORK/a.csv" & imp=$!
if rollback_seen $imp; then fail "the import switched journals while another connection had the store open"; fi
wait $imp || fail "the import beside another connection failed"
assert_eq "$(billctl --db "$db" report --period 2026-10 --format json | exact_total)" "$expected" "total beside another connection"
assert_eq "$(mode)" "wal" "journal mode beside another connection"
echo "ok: an import into an empty store writes it once and stays atomic"
