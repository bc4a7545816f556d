#!/usr/bin/env bash
# billctl's local day and month boundaries equal Python's zoneinfo for every zone in tzdata over
# 2000-2037 (month starts and the days around every offset change), including zones whose DST
# starts at midnight (America/Santiago, Havana, Asuncion; Africa/Cairo; Asia/Beirut).
source "$(dirname "$0")/lib.sh"
python3 "$SOURCE_DIR/tests/integration/tz_day_starts.py" >"$WORK/days.txt"
n=$(wc -l <"$WORK/days.txt")
[ "$n" -gt 100000 ] || fail "only $n day starts generated"
grep -q '^America/Santiago ' "$WORK/days.txt" || fail "no America/Santiago in tzdata"
billctl __tz-check <"$WORK/days.txt" >"$WORK/out.txt" || fail "day starts differ from zoneinfo:
$(cat "$WORK/out.txt")"
tail -n 1 "$WORK/out.txt"
