"""What each criterion means, evaluated against an index document (`documents.document`).

This is the reference semantics: the embedded SQL backend applies it to decrypted candidates, and the
Elasticsearch translation (`elastic.py`) must agree with it (the conformance suite checks both). Text criteria
match when every word of the query appears as a word of the field (lower-cased), as Elasticsearch's standard
analyzer with `operator: and` does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import jellyfish
import yaml
from nicknames import NickNamer

from ..domain import values
from . import query as q
from .documents import sounds

Doc = dict[str, Any]


def words(text: str | None) -> set[str]:
    return set(re.findall(r"\w+", (text or "").lower()))


def has_words(field: str | None, wanted: str | None) -> bool:
    return wanted is None or words(wanted) <= words(field)


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _spellings() -> dict[str, frozenset[str]]:
    """The variant table (`name_variants.yaml`): each name with every name of the groups it is in."""
    groups = yaml.safe_load(resources.files(__package__).joinpath("name_variants.yaml").read_text("utf-8"))
    out: dict[str, set[str]] = {}
    for group in groups:
        for name in group:
            out.setdefault(name, set()).update(group)
    return {k: frozenset(v) for k, v in out.items()}


def name_variants(token: str) -> set[str]:
    """A name with its nicknames and formal forms, both ways ("danny" <-> "daniel", "dan"; the `nicknames`
    package), and its other spellings (transliterations, `name_variants.yaml`)."""
    nn = _nicknamer()
    out = {token} | nn.nicknames_of(token) | nn.canonicals_of(token)
    for canonical in nn.canonicals_of(token):
        out |= nn.nicknames_of(canonical)
    for name in list(out):
        out |= _spellings().get(values.fold(name), frozenset())
    return {values.fold(v) for v in out}


def sounds_like(token: str, algorithm: str) -> dict[str, list[str]]:
    """The phonetic keys a word must share with `token` (per algorithm; `any`: one of them)."""
    keys = sounds(token)
    return {a: keys[a] for a in (q.PHONETIC if algorithm == "any" else (algorithm,))}


def fuzziness(term: str) -> int:
    """Elasticsearch's AUTO: exact up to 2 characters, one edit up to 5, two beyond."""
    return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _overlaps(item: Doc, window: q.Window) -> bool:
    start, end = _date(item.get("date_from")), _date(item.get("date_to"))
    return (window.until is None or start is None or start <= window.until) and (
        window.since is None or end is None or end >= window.since
    )


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def parts(c: q.Name, term: q.Term) -> tuple[str, ...]:
    """The parts of a name a term may be in: an initial is a forename's unless surnames are asked for."""
    if c.part == "surname":
        return ("surname",)
    if c.part == "forenames" or term.kind == "initial":
        return ("forenames",)
    return ("forenames", "surname")


def _term(word: Doc, c: q.Name, term: q.Term) -> bool:
    if word["part"] not in parts(c, term):
        return False
    have, t = word["word"], term.text
    if term.kind != "word":  # an initial or a prefix
        return bool(have.startswith(t))
    if c.mode == "exact":
        return bool(have == t)
    if c.mode == "phonetic":
        return any(set(codes) & set(word[a]) for a, codes in sounds_like(t, c.algorithm).items())
    if c.mode == "nickname":
        return have in name_variants(t)
    return jellyfish.damerau_levenshtein_distance(t, have) <= fuzziness(t)


def _name_entry(entry: Doc, c: q.Name) -> bool:
    """Every term of the criterion is a word of this one name (primary or alias), in any order."""
    return all(any(_term(w, c, t) for w in entry["words"]) for t in c.terms())


# Grades: how well a criterion matched, the best way it did. Each is exactly representable in float32 (as are
# their sums and the weights' products), so Elasticsearch's float32 scores equal these (decision 47).
EXACT = 1.0
VARIANT = 0.875  # a nickname, formal form or other spelling (`name_variants`)
PHONETIC = 0.75  # a word with the same phonetic key
ONE_EDIT = 0.625  # a fuzzy word one edit away
TWO_EDITS = 0.5  # a fuzzy word two edits away
SLIP = 0.25  # what each documented slip of a date of birth costs: day and month swapped, a year out
PARTIAL = 0.75  # a registration found by a pattern or its beginning or end; part of a contact
# How much a criterion weighs (its grade times this): identifiers nearly name one person, a telephone number
# or a registration points at few; a name weighs one per word (each word's grade); everything else 1
WEIGHTS = {"identifier": 4.0, "contact": 2.0, "vehicle": 2.0}


def word_grade(c: q.Name, term: q.Term, have: str) -> float:
    """How well a word that meets a term does: an initial, a prefix or the word itself is exact; otherwise
    the mode's own grade (a fuzzy word by its edit distance)."""
    if term.kind != "word" or have == term.text:
        return EXACT
    if c.mode == "nickname":
        return VARIANT
    if c.mode == "phonetic":
        return PHONETIC
    return ONE_EDIT if jellyfish.damerau_levenshtein_distance(term.text, have) <= 1 else TWO_EDITS


def best_word(entry: Doc, c: q.Name, term: q.Term) -> Doc | None:
    """The word of a name that meets a term best (the first of those that do equally well)."""
    found = [w for w in entry["words"] if _term(w, c, term)]
    return max(found, key=lambda w: word_grade(c, term, w["word"])) if found else None


def dob_grade(c: q.DateOfBirth, found: dt.date) -> float:
    """A date of birth found for an exact one: 1, less a slip for day and month swapped and for a year out."""
    assert c.exact is not None
    slips = ((found.month, found.day) != (c.exact.month, c.exact.day)) + (found.year != c.exact.year)
    return EXACT - SLIP * slips


def item_grade(c: q.Leaf, item: Doc) -> float:
    """How well one nested item (a name, a vehicle, a contact) meets a criterion it meets."""
    if isinstance(c, q.Name):
        total = 0.0
        for t in c.terms():
            word = best_word(item, c, t)
            total += word_grade(c, t, word["word"]) if word is not None else 0.0
        return total
    if isinstance(c, q.Vehicle) and c.vrm:
        return EXACT if item["vrm"] == c.vrm else PARTIAL
    if isinstance(c, q.Contact):
        return EXACT if item["value"] in c.forms else PARTIAL
    return EXACT


NESTED = {
    "name": "names",
    "person": "descriptions",
    "mark": "marks",
    "identifier": "identifiers",
    "address": "addresses",
    "vehicle": "vehicles",
    "contact": "contacts",
    "offence": "offences",
    "text": "narrative",
}

# How "why it matched" names the piece of narrative free text was found in
SOURCE_LABELS = {
    "chronology": "chronology entry",
    "intelligence": "intelligence",
    "risk": "risk assessment",
    "plans": "risk management plan",
    "modus_operandi": "modus operandi",
    "marks": "mark description",
    "employment": "employment",
}


def label(path: str, item: Doc) -> str:
    """How a matched item is named in "why it matched" (the same for both backends)."""
    if path == "names":
        return f"{item['kind']} name {item['full']}"
    if path == "addresses":
        return f"{item['kind']} address {item.get('postcode') or item.get('town') or ''}".strip()
    if path == "vehicles":
        return f"vehicle {item['vrm']}"
    if path == "marks":
        return f"{item['kind']} on {item['location']}"
    if path == "identifiers":
        return f"{item['kind']} identifier"
    if path == "contacts":
        return f"{item['kind']} {item['value']}"
    if path == "offences":
        return f"offence {item['offence']}"
    if path == "narrative":
        return f"words in {SOURCE_LABELS[item['source']]}"
    return f"description of {item.get('observed_on')}"


def best_item(c: q.Leaf, doc: Doc, today: dt.date) -> Doc | None:
    """The item of a nested criterion's section that meets it best on its own (the first of those that do
    equally well): the one Elasticsearch's inner hit returns, ordered by score."""
    path = NESTED.get(c.type)
    if path is None:
        return None
    found = [item for item in doc[path] if _leaf(c, {**doc, path: [item]}, today)]
    return max(found, key=lambda item: item_grade(c, item)) if found else None


def _dob_found(c: q.DateOfBirth, doc: Doc) -> dt.date | None:
    """The date of birth on the record an exact one found best (the first of those that do equally well)."""
    dobs = {dt.date.fromisoformat(d) for d in doc["dates_of_birth"]}
    found = [d for d in c.dates() if d in dobs]
    return max(found, key=lambda d: dob_grade(c, d)) if found else None


def leaf_score(c: q.Leaf, doc: Doc, today: dt.date) -> float:
    """What a criterion the document meets adds to its score: its weight times the grade of the best way it
    matched (a name: the sum of its words' grades in its best name)."""
    weight = WEIGHTS.get(c.type, 1.0)
    if isinstance(c, q.DateOfBirth):
        if c.exact is not None:
            found = _dob_found(c, doc)
            return weight * (dob_grade(c, found) if found is not None else 0.0)
        if c.year is not None and c.year not in doc["dob_years"]:
            return weight * (EXACT - SLIP)
        return weight * EXACT
    item = best_item(c, doc, today)
    return weight * (item_grade(c, item) if item is not None else EXACT)


def which(c: q.Leaf, doc: Doc, today: dt.date) -> str | None:
    """The item of a nested criterion's section that meets it best on its own, named for "why it matched"."""
    item = best_item(c, doc, today)
    return label(NESTED[c.type], item) if item is not None else None


def _how_name(c: q.Name, entry: Doc) -> str:
    out = []
    for t in c.terms():
        word = best_word(entry, c, t)
        if word is None:
            continue
        have = word["word"]
        if t.kind == "initial":
            out.append(f"initial {t.text} of {have}")
        elif t.kind == "prefix":
            out.append(f"prefix {t.text}* of {have}")
        elif have == t.text:
            out.append(f"exact {have}")
        elif c.mode == "phonetic":
            agreed = [a for a, codes in sounds_like(t.text, c.algorithm).items() if set(codes) & set(word[a])]
            out.append(f"{have} sounds like {t.text} ({', '.join(agreed)})")
        elif c.mode == "nickname":
            out.append(f"{have} a variant of {t.text}")
        else:
            edits = jellyfish.damerau_levenshtein_distance(t.text, have)
            out.append(f"{have} fuzzy for {t.text}, {edits} edit{'s' if edits > 1 else ''}")
    return "; ".join(out)


def _how_dob(c: q.DateOfBirth, doc: Doc) -> str | None:
    dobs = {dt.date.fromisoformat(d) for d in doc["dates_of_birth"]}
    if c.exact is not None:
        found = _dob_found(c, doc)
        if found is None:
            return None
        how = []
        if (found.month, found.day) != (c.exact.month, c.exact.day):
            how.append("day and month swapped")
        if found.year != c.exact.year:
            how.append(f"year {found.year - c.exact.year:+d}")
        return ", ".join(how) or "exact"
    if c.year is not None:
        years = {d.year for d in dobs}
        if c.year in years:
            return "exact"
        near = next((y for y in c.years() if y in years), None)
        return f"year {near - c.year:+d}" if near is not None else None
    return None


def how(c: q.Leaf, item: Doc | None, doc: Doc) -> str | None:
    """How a criterion that matched did so: exact, an initial, a prefix, the phonetic algorithms that agreed,
    a variant, a fuzzy word and its edit distance, a date with day and month swapped or a year out, a
    registration's beginning or end, part of a contact. `item` is the nested item that met it (as "why it
    matched" names it), `doc` the record's document (its dates of birth suffice); None: nothing to say."""
    if isinstance(c, q.Name) and item is not None:
        return _how_name(c, item) or None
    if isinstance(c, q.DateOfBirth):
        return _how_dob(c, doc)
    if isinstance(c, q.Vehicle) and item is not None and c.vrm:
        if item["vrm"] == c.vrm:
            return "exact"
        core = q.Vehicle(vrm=c.vrm).vrm_regex()
        if c.partial and re.fullmatch(f"({core}).*", item["vrm"]):
            return f"begins with {c.vrm}"
        if c.partial and re.fullmatch(f".*({core})", item["vrm"]):
            return f"ends with {c.vrm}"
        return "pattern"
    if isinstance(c, q.Contact) and item is not None:
        return "exact" if item["value"] in c.forms else "part"
    if isinstance(c, q.FreeText) and item is not None:
        return "free text"
    return None


def explain(group: q.Group, doc: Doc, today: dt.date, matched: list[str]) -> dict[str, str]:
    """`how` for each criterion that matched (named as in `matched`)."""
    names = {m.split(" ", 1)[0] for m in matched}
    out = {}
    for name, c in q.leaves(group):
        if name in names and (text := how(c, best_item(c, doc, today), doc)):
            out[name] = text
    return out


def _leaf(c: q.Leaf, doc: Doc, today: dt.date) -> bool:
    if isinstance(c, q.Name):
        return any(_name_entry(n, c) for n in doc["names"])
    if isinstance(c, q.DateOfBirth):
        dobs = [dt.date.fromisoformat(d) for d in doc["dates_of_birth"]]
        if c.exact is not None:
            return bool(set(c.dates()) & set(dobs))
        if c.year is not None:
            return bool(set(c.years()) & set(doc["dob_years"]))
        lo, hi = c.bounds()
        return any((lo is None or d >= lo) and (hi is None or d <= hi) for d in dobs)
    if isinstance(c, q.Age):
        lo, hi = c.dob_range(today)
        return any(lo <= dt.date.fromisoformat(d) <= hi for d in doc["dates_of_birth"])
    if isinstance(c, q.Person):
        if (
            c.gender
            and doc["gender"] != c.gender.value
            or c.ethnicity
            and doc["ethnicity"] != c.ethnicity.value
        ):
            return False
        if c.nationality and doc["nationality"] != c.nationality:
            return False
        if any(v is not None for v in (c.height_min, c.height_max, c.build, c.hair, c.eyes)):
            return any(
                (c.height_min is None or (d["height_cm"] is not None and d["height_cm"] >= c.height_min))
                and (c.height_max is None or (d["height_cm"] is not None and d["height_cm"] <= c.height_max))
                and (c.build is None or d["build"] == c.build.value)
                and has_words(d["hair"], c.hair)
                and has_words(d["eyes"], c.eyes)
                for d in doc["descriptions"]
            )
        return True
    if isinstance(c, q.Mark):
        return any(
            (c.kind is None or m["kind"] == c.kind.value)
            and (c.location is None or m["location"] == c.location.value)
            and has_words(m["description"], c.text)
            for m in doc["marks"]
        )
    if isinstance(c, q.Identifier):
        return any(i["kind"] == c.kind.value and i["value"] == c.value for i in doc["identifiers"])
    if isinstance(c, q.Address):
        level = c.postcode_level
        return any(
            (c.kind is None or a["kind"] == c.kind.value)
            and (level is None or a[level] == c.postcode)
            and (
                c.near is None
                or (
                    a["location"] is not None
                    and _haversine_km(
                        c.near.latitude, c.near.longitude, a["location"]["lat"], a["location"]["lon"]
                    )
                    <= c.near.radius_km
                )
            )
            and _overlaps(a, c)
            for a in doc["addresses"]
        )
    if isinstance(c, q.Vehicle):
        pattern = re.compile(c.vrm_regex()) if c.vrm else None
        return any(
            (pattern is None or pattern.fullmatch(v["vrm"]) is not None)
            and all(
                want is None or v[f] == values.fold(want)
                for f, want in (("make", c.make), ("model", c.model), ("colour", c.colour))
            )
            and _overlaps(v, c)
            for v in doc["vehicles"]
        )
    if isinstance(c, q.Contact):
        return any(
            (c.kind is None or k["kind"] == c.kind.value)
            and any(k["value"] == f or (c.partial and f in k["value"]) for f in c.forms)
            for k in doc["contacts"]
        )
    if isinstance(c, q.Offence):
        return any(
            has_words(o["offence"], c.text)
            and (c.code is None or o["offence_code"] == c.code)
            and (
                c.date_from is None
                or ((offence_date := _date(o["offence_date"])) is not None and offence_date >= c.date_from)
            )
            and (
                c.date_to is None
                or ((offence_date := _date(o["offence_date"])) is not None and offence_date <= c.date_to)
            )
            and (c.sexual is None or o["sexual"] == c.sexual)
            and (c.victim_age_band is None or c.victim_age_band.value in o["victim_age_bands"])
            and (c.victim_gender is None or c.victim_gender.value in o["victim_genders"])
            and (c.victim_relationship is None or c.victim_relationship.value in o["victim_relationships"])
            and has_words(o["modus_operandi"], c.modus_operandi)
            for o in doc["offences"]
        )
    if isinstance(c, q.Employment):
        return has_words(doc["employment"], c.text)
    if isinstance(c, q.FreeText):
        # Every word in one piece, among the sources asked for; `doc` holds only what the searcher may read
        # (`Viewer.readable`), so a piece they may not read can neither match nor be named
        wanted = set(c.words())
        return any(p["source"] in c.sources and wanted <= set(p["words"]) for p in doc["narrative"])
    if isinstance(c, q.Management):
        return (
            (c.mappa_category is None or doc["mappa_category"] == int(c.mappa_category))
            and (c.mappa_level is None or doc["mappa_level"] == int(c.mappa_level))
            and (c.risk_level is None or doc["risk_level"] == c.risk_level.value)
            and (c.nominal_type is None or doc["nominal_type"] == c.nominal_type.value)
            and (c.area is None or doc["area"] == c.area.value)
        )
    raise TypeError(f"no semantics for {type(c).__name__}")


def evaluate(group: q.Group, doc: Doc, today: dt.date) -> tuple[bool, list[str], float]:
    """Whether the document matches, which positive leaves matched (the "why", each with the item that met it
    for criteria on aliases, addresses, vehicles and the like), and its score.

    The score follows Elasticsearch's arithmetic for the translated query: each leaf met scores its weight
    times the grade of the best way it matched (`leaf_score`); an AND group scores the sum of its children
    when all match, an OR group the sum of those that match, a NOT group nothing.
    """
    matched: list[str] = []

    def walk(g: q.Group, prefix: str, positive: bool) -> tuple[bool, float]:
        results: list[tuple[bool, float]] = []
        for i, c in enumerate(g.criteria):
            path = f"{prefix}{i}"
            if isinstance(c, q.Group):
                results.append(walk(c, f"{path}.", positive and g.op != "not"))
            else:
                ok = _leaf(c, doc, today)
                if ok and positive and g.op != "not":
                    item = which(c, doc, today)
                    matched.append(f"{path}:{c.type}" + (f" ({item})" if item else ""))
                results.append((ok, leaf_score(c, doc, today) if ok else 0.0))
        if g.op == "and":
            ok = all(r for r, _ in results)
            return ok, sum(s for _, s in results) if ok else 0.0
        if g.op == "or":
            return any(r for r, _ in results), sum(s for r, s in results if r)
        return not results[0][0], 0.0

    ok, score = walk(group, "", True)
    return ok, (matched if ok else []), (score if ok else 0.0)
