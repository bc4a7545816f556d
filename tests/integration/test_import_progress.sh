#!/usr/bin/env bash
# On a terminal, a long import shows a progress line rewritten in place: each rewrite erases
# what a longer line before it left (no stray "TA 0 s"), and at the end the line is erased
# completely, so the terminal holds nothing of it.
source "$(dirname "$0")/lib.sh"
# Large enough that reading lasts well past the quiet first second and the half second the rate
# needs (" left"), also on a fast machine under ASan.
"$GEN_USAGE" --records 1000000 --seed 5 >"$WORK/u.csv"
# script(1) gives billctl a pseudo-terminal; its output is what the terminal receives.
script -qec "$BILLCTL_BIN --db $WORK/s.db usage import $WORK/u.csv >/dev/null" /dev/null >"$WORK/tty.txt" ||
  fail "import under a pty failed: $(cat "$WORK/tty.txt")"
python3 - "$WORK/tty.txt" <<'PY' || fail "progress line: $(cat -v "$WORK/tty.txt" | head -c 2000)"
import sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
assert "records" in raw and " left" in raw, "no progress line"
# Replay the terminal: \r returns to column 0, ESC[K erases to the end, \n ends a line.
lines, cur, col, i = [], [], 0, 0
while i < len(raw):
    c = raw[i]
    if raw.startswith("\x1b[K", i):
        del cur[col:]; i += 3; continue
    if raw.startswith("\x1b[2K", i):
        cur = [" "] * len(cur); i += 4; continue
    if c == "\r": col = 0
    elif c == "\n": lines.append("".join(cur)); cur, col = [], 0
    else:
        if col < len(cur): cur[col] = c
        else: cur.append(c)
        col += 1
    i += 1
lines.append("".join(cur))
# Every line the terminal shows in the end is blank: the progress line was erased.
assert all(l.strip() == "" for l in lines), "left on the terminal: " + repr(lines)
# Each rewrite left nothing of a longer one before it: replaying up to each \r, no line ends
# with the tail of another ("...0:03 left" then "...0:00 left" must not read "0:00 leftt").
frames = [f for f in raw.replace("\x1b[2K", "").split("\r") if f]
for f in frames:
    assert f.endswith("\x1b[K") or f.endswith("\n"), "a rewrite does not erase the rest of the line: " + repr(f)
PY
echo ok
