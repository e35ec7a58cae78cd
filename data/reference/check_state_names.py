#!/usr/bin/env python3
"""Validate state_names.csv against states.csv (Python 3 standard library only).

Checks: the header; one row for each of the states in states.csv (beside this
file, column iso3) and no other; every name form filled in; the French and
Spanish forms with a preposition are the contractions of the name with its
article ("le Mexique" -> "du Mexique", "au Mexique"; "les États-Unis" ->
"des États-Unis", "aux États-Unis"; "Haïti" -> "d'Haïti"; "el Ecuador" ->
"del Ecuador", "al Ecuador"); English articles are lower case; languages is a
'|'-separated list of en, fr, es without repeats; http(s) sources; confidence
in {high, medium}. Prints counts and "all checks passed", or the errors and
exit status 1. `python3 check_state_names.py FILE` checks another copy.
"""
import csv
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["iso3", "en", "fr", "fr_de", "fr_a", "es", "es_de", "es_a",
           "names_source", "names_confidence", "languages", "languages_basis",
           "languages_source", "languages_confidence", "note"]
LANGUAGES = {"en", "fr", "es"}
CONFIDENCE = {"high", "medium"}
# French elides "de" before a vowel or a mute h; no state without an article
# starts with an aspirated h.
VOWELS = tuple("AEIOUYÀÂÉÈÊËÎÏÔÖÛÜH")


def fr_de(fr: str) -> str:
    """'de' + the French name: du, des, de la, de l', d', de."""
    if fr.startswith("le "):
        return "du " + fr[3:]
    if fr.startswith("les "):
        return "des " + fr[4:]
    if fr.startswith("la ") or fr.startswith("l'"):
        return "de " + fr
    if fr.startswith(VOWELS):
        return "d'" + fr
    return "de " + fr


def fr_a(fr: str) -> str:
    """'à' + the French name: au, aux, à la, à l', à."""
    if fr.startswith("le "):
        return "au " + fr[3:]
    if fr.startswith("les "):
        return "aux " + fr[4:]
    return "à " + fr


def es_de(es: str) -> str:
    """'de' + the Spanish name: del before the lower-case article el ('de El Salvador')."""
    return "del " + es[3:] if es.startswith("el ") else "de " + es


def es_a(es: str) -> str:
    """'a' + the Spanish name: al before the lower-case article el."""
    return "al " + es[3:] if es.startswith("el ") else "a " + es


def check(path: Path) -> list:
    with open(HERE / "states.csv", newline="", encoding="utf-8") as f:
        known = {row["iso3"] for row in csv.DictReader(f)}
    errors = []
    seen = set()
    first = Counter()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            return [f"header is {reader.fieldnames}, expected {COLUMNS}"]
        for n, row in enumerate(reader, start=2):
            iso3 = row["iso3"]
            where = f"line {n} ({iso3})"
            if iso3 not in known:
                errors.append(f"{where}: iso3 is not in states.csv")
            if iso3 in seen:
                errors.append(f"{where}: appears twice")
            seen.add(iso3)
            for col in ("en", "fr", "es", "languages_basis"):
                if not row[col].strip() or row[col] != row[col].strip():
                    errors.append(f"{where}: {col} is empty or has spaces around it")
            if row["en"][:4].lower() == "the " and not row["en"].startswith("the "):
                errors.append(f"{where}: en: write the article in lower case ('the ...')")
            for col, fn, base in (("fr_de", fr_de, "fr"), ("fr_a", fr_a, "fr"),
                                  ("es_de", es_de, "es"), ("es_a", es_a, "es")):
                want = fn(row[base])
                if row[col] != want:
                    errors.append(f"{where}: {col} is {row[col]!r}; from {base} "
                                  f"{row[base]!r} it must be {want!r}")
            langs = row["languages"].split("|")
            if not langs or any(l not in LANGUAGES for l in langs) or len(set(langs)) != len(langs):
                errors.append(f"{where}: languages {row['languages']!r} must be a '|'-separated "
                              "list of en, fr, es without repeats")
            else:
                first[langs[0]] += 1
            for col in ("names_source", "languages_source"):
                src = row[col].strip()
                if not (src.startswith("http://") or src.startswith("https://")) or len(src) < 12:
                    errors.append(f"{where}: {col} is not an http(s) address: {src!r}")
            for col in ("names_confidence", "languages_confidence"):
                if row[col] not in CONFIDENCE:
                    errors.append(f"{where}: {col} {row[col]!r} must be high or medium")
    for iso3 in sorted(known - seen):
        errors.append(f"{iso3}: a state of states.csv has no row")
    print(f"{len(seen)} states; letters by office in " +
          ", ".join(f"{l}: {c}" for l, c in sorted(first.items())))
    return errors


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "state_names.csv"
    errors = check(path)
    if errors:
        print("\n".join(errors))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
