#!/usr/bin/env bash
# On a terminal, a long import shows a progress line rewritten in place: each rewrite erases
# what a longer line before it left (no stray "TA 0 s"), and the line ends with a newline.
source "$(dirname "$0")/lib.sh"
"$GEN_USAGE" --records 300000 --seed 5 >"$WORK/u.csv"
# script(1) gives billctl a pseudo-terminal; its output is what the terminal receives.
script -qec "$BILLCTL_BIN --db $WORK/s.db usage import $WORK/u.csv >/dev/null" /dev/null >"$WORK/tty.txt" ||
  fail "import under a pty failed: $(cat "$WORK/tty.txt")"
python3 - "$WORK/tty.txt" <<'PY' || fail "progress line: $(cat -v "$WORK/tty.txt" | head -c 2000)"
import sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
assert "rows" in raw, "no progress line"
# Replay the terminal: \r returns to column 0, ESC[K erases to the end, \n ends a line.
lines, cur, col, i = [], [], 0, 0
while i < len(raw):
    c = raw[i]
    if raw.startswith("\x1b[K", i):
        del cur[col:]; i += 3; continue
    if c == "\r": col = 0
    elif c == "\n": lines.append("".join(cur)); cur, col = [], 0
    else:
        if col < len(cur): cur[col] = c
        else: cur.append(c)
        col += 1
    i += 1
lines.append("".join(cur))
shown = [l for l in lines if "rows" in l]
assert shown, lines
final = shown[-1]
assert final.startswith("300,000 rows"), final
assert "left" not in final and "TA" not in final, "stray characters: " + repr(final)
PY
echo ok
