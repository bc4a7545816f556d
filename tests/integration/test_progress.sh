#!/usr/bin/env bash
# The import's progress line in a real terminal (tmux): a bar with records, bytes, rate and the
# time left while the file is read, then what the store is doing; erased completely at the end,
# leaving only the summary. Piped or --quiet: no progress at all.
source "$(dirname "$0")/lib.sh"
export BILLCTL_DB="$WORK/store.db"
billctl_on_path
# Large enough that reading lasts well past the quiet first second and the half second the rate
# needs, also on a fast machine under ASan (200,000 records were read in under a second there).
"$GEN_USAGE" --records 1000000 --seed 3 --shape real >"$WORK/usage.csv"

# Not a terminal: nothing but the summary (a part of the file is enough to show it).
head -n 200001 "$WORK/usage.csv" >"$WORK/part.csv"
BILLCTL_DB="$WORK/piped.db" billctl usage import "$WORK/part.csv" >"$WORK/out" 2>"$WORK/err"
[ ! -s "$WORK/err" ] || fail "progress written when stderr is not a terminal: $(head -c 300 "$WORK/err")"

command -v tmux >/dev/null || fail "tmux is needed (scripts/deps installs it)"
sock="$WORK/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; cleanup' EXIT
tmux -S "$sock" new-session -d -x 120 -y 20 "billctl usage import $WORK/usage.csv; echo import-exit=\$?; sleep 60"
screen() { tmux -S "$sock" capture-pane -p; }
seen_bar=0 seen_store=0
for _ in $(seq 1200); do
  s=$(screen)
  grep -q '^reading .* %  [0-9,]* records  .* of .*MB  .*records/s  [0-9]*:[0-9][0-9] left' <<<"$s" && seen_bar=1
  grep -q '^writing the store' <<<"$s" && seen_store=1
  grep -q 'import-exit=' <<<"$s" && break
  sleep 0.1
done
s=$(screen)
grep -q 'import-exit=0' <<<"$s" || fail "the import did not finish with exit 0: $s"
[ $seen_bar == 1 ] || fail "no progress bar with records, bytes, rate and time left was seen"
[ $seen_store == 1 ] || fail "the store's step was not shown"
# Erased completely: the first line on the screen is the summary table's header, nothing before it.
first=$(grep -v '^$' <<<"$s" | head -1)
[[ "$first" == "  source "* ]] || fail "something was left before the summary: '$first'"
grep -q 'reading\|█\|░' <<<"$s" && fail "the progress line was left on the screen: $s"
grep -q '^imported 1,000,000 records' <<<"$s" || fail "no summary line: $s"
echo "ok: progress"
