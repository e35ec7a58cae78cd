#!/usr/bin/env python3
"""Validate weekends.csv and holidays.csv (working-day calendars); stdlib only.

Usage: python3 check_calendars.py          (run from any directory)
Exit status 0 when every check passes, 1 otherwise.

Checks:
  * both files have exactly their columns;
  * every iso3 is in states.csv, and every state of states.csv has weekend rows;
  * weekends.csv: valid_from and valid_until are dates within 2020-01-01..2035-12-31, in order;
    each state's periods follow one another without gap or overlap and cover the whole range;
    weekend is one to three distinct day names (Mon..Sun) in week order; confidence is stated or
    default, and a default row says so in its note; a source on every row;
  * holidays.csv: dates valid and within the range; kind is holiday or working_weekend; a name
    and a source on every row; no duplicate (iso3, date); a working_weekend falls on a weekend day
    of its state.
"""
import csv
import datetime as dt
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST, LAST = dt.date(2020, 1, 1), dt.date(2035, 12, 31)
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKEND_COLUMNS = ["iso3", "valid_from", "valid_until", "weekend", "source", "confidence", "note"]
HOLIDAY_COLUMNS = ["iso3", "date", "kind", "name", "source"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def date(file, line, column, given):
    try:
        d = dt.date.fromisoformat(given)
    except ValueError:
        fail(f"{file}, line {line}: {column} '{given}' is not a date (YYYY-MM-DD)")
        return None
    if not FIRST <= d <= LAST:
        fail(f"{file}, line {line}: {column} {given} is outside {FIRST}..{LAST}")
        return None
    return d


def read(name, columns):
    with open(os.path.join(HERE, name), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            fail(f"{name}: columns are {reader.fieldnames}, expected {columns}")
            return []
        # Line numbers as an editor shows them: the header is line 1.
        return [(i + 2, row) for i, row in enumerate(reader)]


with open(os.path.join(HERE, "states.csv"), newline="", encoding="utf-8") as f:
    iso3s = {r["iso3"] for r in csv.DictReader(f)}

periods = defaultdict(list)
for line, r in read("weekends.csv", WEEKEND_COLUMNS):
    where = f"weekends.csv, line {line}"
    if r["iso3"] not in iso3s:
        fail(f"{where}: iso3 '{r['iso3']}' is not in states.csv")
    start = date("weekends.csv", line, "valid_from", r["valid_from"])
    end = date("weekends.csv", line, "valid_until", r["valid_until"])
    if start and end and end < start:
        fail(f"{where}: valid_until {end} is before valid_from {start}")
    names = r["weekend"].split()
    if not 1 <= len(names) <= 3 or any(n not in DAYS for n in names):
        fail(f"{where}: weekend '{r['weekend']}' must be one to three of {' '.join(DAYS)}")
        names = []
    elif len(set(names)) != len(names) or names != sorted(names, key=DAYS.index):
        fail(f"{where}: weekend '{r['weekend']}' must name each day once, in week order")
    if not r["source"].strip():
        fail(f"{where}: source is empty")
    if r["confidence"] not in ("stated", "default"):
        fail(f"{where}: confidence '{r['confidence']}' must be stated or default")
    if r["confidence"] == "default" and not r["note"].strip():
        fail(f"{where}: a default weekend needs a note saying why")
    if start and end:
        periods[r["iso3"]].append((start, end, {DAYS.index(n) for n in names}, line))

for iso3 in sorted(iso3s):
    ps = sorted(periods.get(iso3, []))
    if not ps:
        fail(f"weekends.csv: {iso3} (in states.csv) has no weekend row")
        continue
    if ps[0][0] != FIRST or ps[-1][1] != LAST:
        fail(f"weekends.csv: {iso3}'s periods must run from {FIRST} to {LAST}")
    for a, b in zip(ps, ps[1:]):
        if b[0] != a[1] + dt.timedelta(1):
            fail(f"weekends.csv, line {b[3]}: {iso3}'s period from {b[0]} does not follow the one "
                 f"ending {a[1]} (a gap or an overlap)")

seen = {}
count = 0
for line, r in read("holidays.csv", HOLIDAY_COLUMNS):
    count += 1
    where = f"holidays.csv, line {line}"
    if r["iso3"] not in iso3s:
        fail(f"{where}: iso3 '{r['iso3']}' is not in states.csv")
    d = date("holidays.csv", line, "date", r["date"])
    if r["kind"] not in ("holiday", "working_weekend"):
        fail(f"{where}: kind '{r['kind']}' must be holiday or working_weekend")
    if not r["name"].strip():
        fail(f"{where}: name is empty")
    if not r["source"].strip():
        fail(f"{where}: source is empty")
    key = (r["iso3"], r["date"])
    if key in seen:
        fail(f"{where}: {r['iso3']} {r['date']} appears twice (also line {seen[key]})")
    seen[key] = line
    if d and r["kind"] == "working_weekend":
        weekend = next((p[2] for p in periods.get(r["iso3"], []) if p[0] <= d <= p[1]), set())
        if d.weekday() not in weekend:
            fail(f"{where}: a working_weekend on {DAYS[d.weekday()]} {d}, not a weekend day of {r['iso3']}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print(f"weekends.csv: {sum(len(p) for p in periods.values())} periods for {len(periods)} states; "
      f"holidays.csv: {count} days; all checks passed")
