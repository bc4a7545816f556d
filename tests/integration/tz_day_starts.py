#!/usr/bin/env python3
"""Prints "ZONE YYYY-MM-DD EPOCH" lines: the instant each local day starts, per Python's zoneinfo,
for every zone in the system's tzdata over 2000-2037: the first of every month (monthly budget
windows) and the days around every UTC-offset change (daily windows across DST), found by
sampling weekly and then daily. The instant is the first one whose local date is that day: local
midnight, its first occurrence when repeated, and the end of the gap when midnight is skipped."""
import datetime as dt
import sys
import zoneinfo

UTC = dt.timezone.utc
FIRST, LAST = dt.date(2000, 1, 1), dt.date(2037, 12, 31)


def offset(z, t):
    return dt.datetime.fromtimestamp(t, z).utcoffset()


def epoch(d):
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def day_start(z, d):
    naive = dt.datetime(d.year, d.month, d.day)
    cands = [int(naive.replace(tzinfo=z, fold=f).timestamp()) for f in (0, 1)]
    valid = [t for t in cands if dt.datetime.fromtimestamp(t, z).replace(tzinfo=None) == naive]
    if valid:
        return min(valid)
    lo, hi = min(cands), max(cands)  # skipped: the first instant with the later offset
    later = offset(z, hi)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if offset(z, mid) == later:
            hi = mid
        else:
            lo = mid
    return hi


def main():
    zones = sorted(z for z in zoneinfo.available_timezones() if not z.startswith(("posix/", "right/")) and z != "Factory")
    out = sys.stdout
    for name in zones:
        try:
            z = zoneinfo.ZoneInfo(name)
        except Exception:
            continue
        days = {dt.date(y, m, 1) for y in range(FIRST.year, LAST.year + 1) for m in range(1, 13)}
        week = dt.timedelta(days=7)
        d = FIRST - week
        prev = offset(z, epoch(d))
        while d <= LAST:
            n = d + week
            cur = offset(z, epoch(n))
            if cur != prev:
                e = d - dt.timedelta(days=1)
                p = offset(z, epoch(e))
                while e <= n + dt.timedelta(days=1):
                    nx = e + dt.timedelta(days=1)
                    o = offset(z, epoch(nx))
                    if o != p:
                        for k in (-1, 0, 1, 2):
                            days.add(e + dt.timedelta(days=k))
                    p = o
                    e = nx
            prev = cur
            d = n
        for day in sorted(x for x in days if FIRST <= x <= LAST):
            out.write(f"{name} {day.isoformat()} {day_start(z, day)}\n")


if __name__ == "__main__":
    main()
