#!/usr/bin/env python3
"""Generate weekends.csv and holidays.csv (working-day calendars, 2020-2035) from python-holidays.

Usage (from the repository's root; the venv is not committed):

    python3 -m venv .venv-gen
    .venv-gen/bin/pip install holidays==0.109
    .venv-gen/bin/python data/reference/generate_calendars.py

Then check the result with `python3 data/reference/check_calendars.py` (standard library only).

Source: the `holidays` package (https://github.com/vacanza/holidays, PyPI `holidays`), version
pinned below; the script refuses to run with another, so a regenerated file says which version
it came from. For each of the 197 states of states.csv (matched by ISO 3166-1 alpha-2):

* weekends.csv: the state's weekend days, one row per period in which they do not change
  (`_get_weekend(date)`, which the package's country classes override where a weekend changed
  over time). `confidence` is `stated` when the country's class (or a parent other than the
  package's base class) sets its weekend, `default` when the package only applies its own
  default (Saturday and Sunday) and says nothing for that country.
* holidays.csv: the national public holidays (the package's default category, `public`; no
  subdivision, so regional holidays are absent) with their English name where the package has
  an English translation, and the weekend days the package records as working days
  (`weekend_workdays`, days moved to a weekend to make a bridge holiday), as kind
  `working_weekend`. Several holidays on one day are one row, their names joined with "; ".
"""
import csv
import datetime as dt
import os
import sys

import holidays
from holidays.holiday_base import HolidayBase

VERSION = "0.109"
FIRST, LAST = dt.date(2020, 1, 1), dt.date(2035, 12, 31)
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = f"python-holidays {VERSION}"


def stated_weekend(cls):
    """Whether the class sets its weekend (attribute or method) rather than inheriting the base's."""
    for c in cls.__mro__:
        if c is HolidayBase:
            return False
        if "weekend" in c.__dict__ or "_get_weekend" in c.__dict__:
            return True
    return False


def main():
    if holidays.__version__ != VERSION:
        sys.exit(f"holidays {holidays.__version__} is installed; this script is pinned to {VERSION}")
    with open(os.path.join(HERE, "states.csv"), newline="", encoding="utf-8") as f:
        states = list(csv.DictReader(f))
    supported = holidays.list_supported_countries()
    weekends, days = [], []
    years = range(FIRST.year, LAST.year + 1)
    for s in sorted(states, key=lambda r: r["iso3"]):
        iso2, iso3 = s["iso2"], s["iso3"]
        if iso2 not in supported:
            # None today; kept so a state the package drops is still present and flagged.
            weekends.append([iso3, FIRST, LAST, "Sat Sun", "none: not in " + SOURCE, "default",
                             "not covered by python-holidays; Saturday-Sunday assumed, no holidays"])
            continue
        cls = type(holidays.country_holidays(iso2))
        languages = getattr(cls, "supported_languages", ()) or ()
        language = "en_US" if "en_US" in languages else None
        cal = holidays.country_holidays(iso2, years=years, language=language)
        confidence = "stated" if stated_weekend(cls) else "default"
        note = "" if confidence == "stated" else "python-holidays states no weekend for this country; its default Saturday-Sunday"
        # Weekend periods.
        start, current, d = FIRST, None, FIRST
        while d <= LAST:
            w = sorted(cal._get_weekend(d))
            if current is None:
                current = w
            elif w != current:
                weekends.append([iso3, start, d - dt.timedelta(1), " ".join(DAYS[i] for i in current),
                                 SOURCE, confidence, note])
                start, current = d, w
            d += dt.timedelta(1)
        weekends.append([iso3, start, LAST, " ".join(DAYS[i] for i in current), SOURCE, confidence, note])
        for day, name in sorted(cal.items()):
            if FIRST <= day <= LAST:
                days.append([iso3, day, "holiday", name, SOURCE])
        for day in sorted(cal.weekend_workdays):
            if FIRST <= day <= LAST and day not in cal:
                days.append([iso3, day, "working_weekend", "working day moved to a weekend", SOURCE])
    days.sort(key=lambda r: (r[0], r[1]))
    with open(os.path.join(HERE, "weekends.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3", "valid_from", "valid_until", "weekend", "source", "confidence", "note"])
        w.writerows(weekends)
    with open(os.path.join(HERE, "holidays.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3", "date", "kind", "name", "source"])
        w.writerows(days)
    print(f"weekends.csv: {len(weekends)} rows; holidays.csv: {len(days)} rows ({SOURCE})")


if __name__ == "__main__":
    main()
