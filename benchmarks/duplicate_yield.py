"""What each rule of the duplicate cascade finds in a generated register, against the duplicates the generator
made on purpose (docs/benchmarks.md, analysis: "The duplicate cascade's rules, weighed").

    REGISTER_DATABASE_URL=... REGISTER_VAR_DIR=... python benchmarks/duplicate_yield.py 100000 --seed 1 --today 2026-12-01

The register must have been generated with the same number of people, seed and day (`register generate
--nominals N --seed S`, on that day): the same seed gives the same people and ids, so the generator's deliberate
duplicates (`Person.duplicate_of`) are rebuilt here without reading any personal data, and each kept pair
(`duplicate_pair`: two record ids and the rule that paired them) is counted as one of them or not. Prints JSON:
for each rule, its pairs and how many of them are deliberate duplicates; and the deliberate duplicates no rule
found. The generator's duplicates keep the original's identifiers and date of birth with a misspelt surname, so
the figures say what the weaker rules add on such data, not what they would find among real duplicates that lack
identifiers."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from sqlalchemy import select

from register.cli.base import open_store
from register.config import Settings
from register.store import models as m
from register.store.duplicates import RULES
from register.synthetic.people import PersonFactory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nominals", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    factory = PersonFactory(args.seed, args.today)
    started = time.perf_counter()
    ids, made = {}, []
    for index in range(args.nominals):
        person = factory.person(index)
        ids[index] = person.id
        if person.duplicate_of is not None:
            made.append((index, person.duplicate_of))
    deliberate = {frozenset((ids[a], ids[b])) for a, b in made}
    print(f"rebuilt {args.nominals} people in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    P = m.DuplicatePair
    with open_store(Settings(), whole_register=True) as store, store.session_factory() as session:
        kept = session.execute(select(P.first_id, P.second_id, P.rank)).all()
    by_rule: dict[str, dict[str, int]] = {rule: {"pairs": 0, "deliberate": 0} for rule in RULES}
    found = set()
    for first, second, rank in kept:
        pair = frozenset((first, second))
        by_rule[RULES[rank]]["pairs"] += 1
        if pair in deliberate:
            by_rule[RULES[rank]]["deliberate"] += 1
            found.add(pair)
    print(json.dumps({"deliberate": len(deliberate), "rules": by_rule, "missed": len(deliberate - found)}, indent=2))


if __name__ == "__main__":
    main()
