"""Search relevance measured (issue #19 point 9): a labelled set built from a seeded synthetic register, and a
runner that puts every labelled query through the search use case and scores what comes back.

**The labelled set.** The people are the generator's own (`PersonFactory`, the same seed as the register), so
the distractors are realistic: Faker's surnames repeat, birth years cluster, deliberate duplicates carry a
misspelt surname. For each kind of fragment an investigator gives, targets are picked (seeded) among the
people the searcher may see, and a query is written from what is known of the target, degraded the way
witnesses and paperwork degrade it: a surname with one edit, a phonetic spelling (Thompson/Tomson), a nickname
(Bill for William), another transliteration (Mohammed/Muhammad), "J. Smith", a prefix ("Smi*"), a date of
birth with day and month swapped or a year out, an approximate age, part of a registration mark from either
end, a telephone number typed with spaces or +44, a postcode sector or district, and combinations.

**Truth.** A query's relevant people are every person who genuinely fits its fragments under the query's own
documented meaning (docs/investigator-search.md), worked out here from the generator's plaintext people, never
by the search code under test: a one-edit surname is relevant for everyone whose name has a word within the
edit distance Elasticsearch's AUTO allows for the word typed (0 for 1-2 letters, 1 for 3-5, 2 beyond; a
transposition is one edit), so the other Smiths and Smyths of a fuzzy "Smiht" are relevant too, and precision
measures what a search returns that fits nothing. The target (the person the fragments were written from) is
always one of them, and its rank is measured on its own: "the right person first or near it". Each name word
rule reads the same way as the search's: all the words of a name criterion are found in one name (the primary
name or a current alias), a whole word anywhere, an initial a forename's. Two definitions are shared with the
search rather than rewritten, because they are the meaning itself, not an algorithm: the Metaphone key
(`jellyfish`) and the table of nicknames and spellings (`search.matching.name_variants`, the `nicknames`
package and `name_variants.yaml`). Everything the searcher may not see takes no part: archived records (a
search leaves them out unless asked) and other areas' restricted records (the investigator here is in Kent).

**Scores.** Per query, over the first page of 10 in relevance order: precision@10 = relevant hits / hits shown
(at most 10; no hit at all scores 0), recall@10 = relevant hits / min(relevant, 10) (what a page of 10 can
hold: a surname shared by 40 people is fully recalled by 10 of them), and the target's rank (1 = first; none
beyond 10). Per kind and overall: their means, the share of queries with the target first and within the top
3, and the mean reciprocal rank (0 beyond 10).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, cast

import jellyfish
import yaml
from nicknames import NickNamer

from .. import search
from ..access.policy import Policy
from ..domain.actors import Principal
from ..domain.enums import Agency, Area, ContactKind, Role
from ..domain.record import Address, Alias, Contact, Section, Vehicle
from ..domain.values import name_tokens
from ..search import service as search_service
from ..search.backend import SearchBackend
from ..search.matching import name_variants
from ..search.query import SearchRequest
from ..store.store import Store
from .people import Person, PersonFactory

PAGE = 10
INVESTIGATOR = Principal(
    "relevance.investigator", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Relevance"
)
PURPOSE = "RELEVANCE"


@dataclass(frozen=True)
class Name:
    forenames: tuple[str, ...]
    surname: tuple[str, ...]

    @property
    def words(self) -> tuple[str, ...]:
        return self.forenames + self.surname


@dataclass(frozen=True)
class Known:
    """What the labelled set knows of one person: the plaintext the generator wrote."""

    id: uuid.UUID
    index: int
    dob: dt.date | None  # the primary name's (the generator always gives one)
    names: tuple[Name, ...]
    dobs: frozenset[dt.date]
    vrms: tuple[str, ...]
    phones: tuple[str, ...]
    postcodes: tuple[str, ...]
    visible: bool  # active, and not another area's restricted record

    @property
    def primary(self) -> Name:
        return self.names[0]


def known(person: Person, index: int, area: Area) -> Known:
    ident = person.new.identity
    names = [Name(tuple(name_tokens(ident.forenames)), tuple(name_tokens(ident.surname)))]
    dobs = {ident.date_of_birth} if ident.date_of_birth else set()
    vrms, phones, postcodes = [], [], []
    for item in person.items:
        if item.section == Section.ALIASES:
            alias = cast(Alias, item)
            names.append(Name(tuple(name_tokens(alias.forenames)), tuple(name_tokens(alias.surname))))
            if alias.date_of_birth:
                dobs.add(alias.date_of_birth)
        elif item.section == Section.VEHICLES:
            vrms.append(re.sub(r"[^A-Z0-9]", "", cast(Vehicle, item).vrm.upper()))
        elif item.section == Section.CONTACTS and cast(Contact, item).kind == ContactKind.PHONE:
            phones.append(re.sub(r"\D", "", cast(Contact, item).value.replace("+44", "0")))
        elif item.section == Section.ADDRESSES and cast(Address, item).postcode:
            postcodes.append(str(cast(Address, item).postcode))
    header = person.new
    return Known(
        id=person.id,
        index=index,
        dob=ident.date_of_birth,
        names=tuple(names),
        dobs=frozenset(dobs),
        vrms=tuple(vrms),
        phones=tuple(phones),
        postcodes=tuple(postcodes),
        visible=person.archived is None and (not header.restricted or header.area == area),
    )


# --- the meaning of each fragment, written from docs/investigator-search.md ---


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def allowed_edits(word: str) -> int:
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


WordTest = Callable[[str], bool]


def _one_name(p: Known, tests: list[tuple[str, WordTest]]) -> bool:
    """Every test is met by a word of one name; each test is (part: forenames, surname or any, test)."""

    def words(n: Name, part: str) -> tuple[str, ...]:
        return n.forenames if part == "forenames" else n.surname if part == "surname" else n.words

    return any(all(any(t(w) for w in words(n, part)) for part, t in tests) for n in p.names)


def exact(word: str) -> WordTest:
    return lambda w: w == word


def starts(text: str) -> WordTest:
    return lambda w: w.startswith(text)


def fuzzy(word: str) -> WordTest:
    limit = allowed_edits(word)
    return lambda w: abs(len(w) - len(word)) <= limit and edits(word, w) <= limit


@cache
def metaphone(word: str) -> str:
    return str(jellyfish.metaphone(word))


def sounds(word: str) -> WordTest:
    key = metaphone(word)
    return lambda w: metaphone(w) == key


def variant(word: str) -> WordTest:
    forms = name_variants(word)
    return lambda w: w in forms


def born_between(p: Known, earliest: dt.date, latest: dt.date) -> bool:
    return any(earliest <= d <= latest for d in p.dobs)


def age_range(at: dt.date, about: int, give_or_take: int = 2) -> tuple[dt.date, dt.date]:
    """Aged about ± give_or_take at `at`: born after the day `at` minus (max + 1) years, on or before `at`
    minus min years."""
    lo, hi = max(0, about - give_or_take), about + give_or_take

    def back(years: int) -> dt.date:
        try:
            return at.replace(year=at.year - years)
        except ValueError:
            return at.replace(year=at.year - years, day=28)

    return back(hi + 1) + dt.timedelta(days=1), back(lo)


def swap(d: dt.date) -> dt.date | None:
    try:
        return dt.date(d.year, d.day, d.month) if d.day <= 12 and d.day != d.month else None
    except ValueError:
        return None


def year_shift(d: dt.date, years: int) -> dt.date | None:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return None


def age_on(dob: dt.date, at: dt.date) -> int:
    return at.year - dob.year - ((at.month, at.day) < (dob.month, dob.day))


# --- degrading what is known of a target, as a witness or a form would ---


def one_edit(word: str, rng: random.Random) -> str | None:
    """The word with one slip: a letter dropped, two neighbours swapped or one letter wrong (never the
    first)."""
    if len(word) < 5:
        return None
    i = rng.randrange(1, len(word) - 1)
    options = [
        word[:i] + word[i + 1 :],
        word[:i] + word[i + 1] + word[i] + word[i + 2 :],
        word[:i] + rng.choice([c for c in "aeioulnrst" if c != word[i]]) + word[i + 1 :],
    ]
    options = [o for o in options if o != word]
    return rng.choice(options) if options else None


SOUND_ALIKE = [
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("y", "i"),
    ("i", "y"),
    ("ie", "y"),
    ("ey", "y"),
    ("ll", "l"),
    ("tt", "t"),
    ("nn", "n"),
    ("mm", "m"),
    ("ss", "s"),
    ("rr", "r"),
    ("l", "ll"),
    ("t", "tt"),
    ("ou", "ow"),
    ("son", "sen"),
    ("man", "mann"),
    ("ie", "ei"),
    ("e", "a"),
    ("a", "e"),
    ("o", "u"),
]


def sound_alike(word: str, rng: random.Random) -> str | None:
    """Another spelling with the same Metaphone key, as one hears a name and writes it (Davies/Davis,
    Phillips/Filips, Smith/Smyth), or None."""
    key, found = jellyfish.metaphone(word), []
    for old, new in SOUND_ALIKE:
        for at in (m.start() for m in re.finditer(old, word[1:])):
            respelt = word[: at + 1] + new + word[at + 1 + len(old) :]
            if respelt != word and jellyfish.metaphone(respelt) == key and len(respelt) >= 3:
                found.append(respelt)
    return rng.choice(sorted(set(found))) if found else None


def nickname_of(word: str, rng: random.Random) -> str | None:
    """A nickname of a formal forename from the `nicknames` package (Bill for William, Peggy for Margaret)."""
    found = sorted(n for n in _nicknamer().nicknames_of(word) if len(n) >= 3 and n != word and n.isalpha())
    return rng.choice(found) if found else None


def spelling_of(word: str, rng: random.Random) -> str | None:
    """Another transliteration of the name from the variant table (Muhammad for Mohammed)."""
    found = sorted({n for group in _spellings() if word in group for n in group} - {word})
    return rng.choice(found) if found else None


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _spellings() -> list[list[str]]:
    """The search's table of other spellings (transliterations), read as data."""
    return cast(
        list[list[str]],
        yaml.safe_load(resources.files(search).joinpath("name_variants.yaml").read_text("utf-8")),
    )


def spaced_phone(digits: str, rng: random.Random) -> str:
    return rng.choice(
        [
            f"{digits[:5]} {digits[5:8]} {digits[8:]}",
            f"{digits[:5]}-{digits[5:]}",
            f"{digits[:3]} {digits[3:]}",
        ]
    )


def international_phone(digits: str, rng: random.Random) -> str:
    rest = digits[1:]
    return rng.choice([f"+44 {rest[:4]} {rest[4:]}", f"+44 (0){rest[:4]} {rest[4:]}", f"0044{rest}"])


# --- the labelled set ---


@dataclass(frozen=True)
class Labelled:
    kind: str
    says: str  # the fragments as the investigator gave them
    query: dict[str, Any]
    target: uuid.UUID
    relevant: frozenset[uuid.UUID]


def _group(*criteria: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "op": "and", "criteria": list(criteria)}


Writer = Callable[[Known, random.Random, dt.date], tuple[str, dict[str, Any], Callable[[Known], bool]] | None]


def _surname_one_edit(p: Known, rng: random.Random, at: dt.date) -> Any:
    first, surname = p.primary.forenames[0], p.primary.surname[-1]
    slip = one_edit(surname, rng)
    if slip is None or slip == surname:
        return None
    text = f"{first.capitalize()} {slip.capitalize()}"
    return (
        f'"{text}" (fuzzy)',
        _group({"type": "name", "value": text, "mode": "fuzzy"}),
        lambda k: _one_name(k, [("any", fuzzy(first)), ("any", fuzzy(slip))]),
    )


def _surname_sounds(p: Known, rng: random.Random, at: dt.date) -> Any:
    first, surname = p.primary.forenames[0], p.primary.surname[-1]
    heard = sound_alike(surname, rng)
    if heard is None:
        return None
    text = f"{first.capitalize()} {heard.capitalize()}"
    return (
        f'"{text}" (sounds like)',
        _group({"type": "name", "value": text, "mode": "phonetic"}),
        lambda k: _one_name(k, [("any", sounds(first)), ("any", sounds(heard))]),
    )


def _nickname(p: Known, rng: random.Random, at: dt.date) -> Any:
    first, surname = p.primary.forenames[0], p.primary.surname[-1]
    nick = nickname_of(first, rng)
    if nick is None:
        return None
    text = f"{nick.capitalize()} {surname.capitalize()}"
    return (
        f'"{text}" (nicknames)',
        _group({"type": "name", "value": text, "mode": "nickname"}),
        lambda k: _one_name(k, [("any", variant(nick)), ("any", variant(surname))]),
    )


def _transliteration(p: Known, rng: random.Random, at: dt.date) -> Any:
    first, surname = p.primary.forenames[0], p.primary.surname[-1]
    other = spelling_of(first, rng)
    if other is None:
        return None
    text = f"{other.capitalize()} {surname.capitalize()}"
    return (
        f'"{text}" (nicknames and spellings)',
        _group({"type": "name", "value": text, "mode": "nickname"}),
        lambda k: _one_name(k, [("any", variant(other)), ("any", variant(surname))]),
    )


def _initial(p: Known, rng: random.Random, at: dt.date) -> Any:
    initial, surname = p.primary.forenames[0][0], p.primary.surname[-1]
    text = f"{initial.upper()}. {surname.capitalize()}"
    return (
        f'"{text}"',
        _group({"type": "name", "value": text}),
        lambda k: _one_name(k, [("forenames", starts(initial)), ("any", exact(surname))]),
    )


def _prefix(p: Known, rng: random.Random, at: dt.date) -> Any:
    first, surname = p.primary.forenames[0], p.primary.surname[-1]
    if len(surname) < 5:
        return None
    stem = surname[: rng.choice([3, 4])]
    text = f"{first.capitalize()} {stem.capitalize()}*"
    return (
        f'"{text}"',
        _group({"type": "name", "value": text}),
        lambda k: _one_name(k, [("any", exact(first)), ("any", starts(stem))]),
    )


def surname_of(p: Known) -> str:
    return p.primary.surname[-1].capitalize()


def _surname(p: Known) -> tuple[dict[str, Any], Callable[[Known], bool]]:
    surname = p.primary.surname[-1]
    return (
        {"type": "name", "value": surname.capitalize(), "part": "surname"},
        lambda k: _one_name(k, [("surname", exact(surname))]),
    )


def _dob_transposed(p: Known, rng: random.Random, at: dt.date) -> Any:
    dob = p.dob
    given = swap(dob) if dob else None
    if dob is None or given is None:
        return None
    name, named = _surname(p)
    dates = {given, dob}
    return (
        f"{surname_of(p)}, born {given.isoformat()} (day and month may be swapped)",
        _group(name, {"type": "date_of_birth", "exact": given.isoformat(), "transposed": True}),
        lambda k: named(k) and bool(dates & k.dobs),
    )


def _dob_year_out(p: Known, rng: random.Random, at: dt.date) -> Any:
    dob = p.dob
    given = year_shift(dob, rng.choice([-1, 1])) if dob else None
    if given is None:
        return None
    name, named = _surname(p)
    dates = {d for s in (-1, 0, 1) if (d := year_shift(given, s))}
    return (
        f"{surname_of(p)}, born {given.isoformat()} (a year either side)",
        _group(name, {"type": "date_of_birth", "exact": given.isoformat(), "year_either_side": True}),
        lambda k: named(k) and bool(dates & k.dobs),
    )


def _about(dob: dt.date, rng: random.Random, at: dt.date) -> tuple[int, tuple[dt.date, dt.date]]:
    about = age_on(dob, at) + rng.choice([-2, -1, 0, 1, 2])
    return about, age_range(at, about)


def _approximate_age(p: Known, rng: random.Random, at: dt.date) -> Any:
    if p.dob is None:
        return None
    name, named = _surname(p)
    about, (lo, hi) = _about(p.dob, rng, at)
    return (
        f"{surname_of(p)}, aged about {about}",
        _group(name, {"type": "age", "about": about, "at": at.isoformat()}),
        lambda k: named(k) and born_between(k, lo, hi),
    )


def _misspelt_and_age(p: Known, rng: random.Random, at: dt.date) -> Any:
    surname = p.primary.surname[-1]
    slip = one_edit(surname, rng)
    if slip is None or p.dob is None:
        return None
    about, (lo, hi) = _about(p.dob, rng, at)
    return (
        f'surname "{slip}" (fuzzy), aged about {about}',
        _group(
            {"type": "name", "value": slip.capitalize(), "mode": "fuzzy", "part": "surname"},
            {"type": "age", "about": about, "at": at.isoformat()},
        ),
        lambda k: _one_name(k, [("surname", fuzzy(slip))]) and born_between(k, lo, hi),
    )


def _vrm_start(p: Known, rng: random.Random, at: dt.date) -> Any:
    if not p.vrms:
        return None
    part = p.vrms[0][:4]
    return (
        f"registration beginning {part}",
        _group({"type": "vehicle", "vrm": part, "partial": True}),
        lambda k: any(v.startswith(part) or v.endswith(part) for v in k.vrms),
    )


def _vrm_end(p: Known, rng: random.Random, at: dt.date) -> Any:
    if not p.vrms:
        return None
    part = p.vrms[0][-3:]
    return (
        f"registration ending {part}",
        _group({"type": "vehicle", "vrm": part, "partial": True}),
        lambda k: any(v.startswith(part) or v.endswith(part) for v in k.vrms),
    )


def _phone(typed: Callable[[str, random.Random], str]) -> Writer:
    def write(p: Known, rng: random.Random, at: dt.date) -> Any:
        if not p.phones:
            return None
        digits = p.phones[0]
        text = typed(digits, rng)
        return (
            f"telephone {text}",
            _group({"type": "contact", "kind": "phone", "value": text}),
            lambda k: digits in k.phones,
        )

    return write


def _postcode(level: str) -> Writer:
    def write(p: Known, rng: random.Random, at: dt.date) -> Any:
        if not p.postcodes:
            return None
        outward, inward = rng.choice(p.postcodes).split(" ")
        given = f"{outward} {inward[0]}" if level == "sector" else outward
        name, named = _surname(p)

        def fits(k: Known) -> bool:
            return named(k) and any(
                (pc.split(" ")[0] + " " + pc.split(" ")[1][0] if level == "sector" else pc.split(" ")[0])
                == given
                for pc in k.postcodes
            )

        return (
            f"{surname_of(p)}, lived in {given}",
            _group(name, {"type": "address", "postcode": given}),
            fits,
        )

    return write


KINDS: dict[str, Writer] = {
    "surname one edit, with forename": _surname_one_edit,
    "surname as it sounds, with forename": _surname_sounds,
    "nickname and surname": _nickname,
    "another transliteration and surname": _transliteration,
    "initial and surname": _initial,
    "forename and surname prefix": _prefix,
    "surname, date of birth day and month swapped": _dob_transposed,
    "surname, date of birth a year out": _dob_year_out,
    "surname, approximate age": _approximate_age,
    "misspelt surname, approximate age": _misspelt_and_age,
    "registration, first four characters": _vrm_start,
    "registration, last three characters": _vrm_end,
    "telephone typed with spaces": _phone(spaced_phone),
    "telephone with +44": _phone(international_phone),
    "surname, postcode sector": _postcode("sector"),
    "surname, postcode district": _postcode("district"),
}


def people(factory: PersonFactory, nominals: int, area: Area = INVESTIGATOR.area) -> list[Known]:
    return [known(factory.person(i), i, area) for i in range(nominals)]


def labelled_set(everyone: list[Known], *, per_kind: int, seed: int, at: dt.date) -> list[Labelled]:
    """Up to `per_kind` labelled queries of each kind, targets drawn (seeded) from the people the searcher may
    see; each query's relevant people computed over everyone visible."""
    visible = [p for p in everyone if p.visible]
    out: list[Labelled] = []
    for n, (kind, write) in enumerate(KINDS.items()):
        rng = random.Random(seed * 7919 + n)
        order = visible[:]
        rng.shuffle(order)
        made = 0
        for target in order:
            if made == per_kind:
                break
            written = write(target, rng, at)
            if written is None:
                continue
            says, query, fits = written
            relevant = frozenset(k.id for k in visible if fits(k))
            if target.id not in relevant:  # the builder's own slip: a labelled query must fit its target
                raise AssertionError(f"{kind}: {says} does not fit the person it was written from")
            out.append(Labelled(kind, says, query, target.id, relevant))
            made += 1
    return out


# --- running and scoring ---


@dataclass
class Outcome:
    labelled: Labelled
    shown: list[uuid.UUID]
    total: int
    matched: list[str] = field(default_factory=list)  # the reasons given for the target, if it was shown
    how: dict[str, str] = field(default_factory=dict)  # and how each of them matched

    @property
    def precision(self) -> float:
        return sum(i in self.labelled.relevant for i in self.shown) / len(self.shown) if self.shown else 0.0

    @property
    def recall(self) -> float:
        found = sum(i in self.labelled.relevant for i in self.shown)
        return found / min(len(self.labelled.relevant), PAGE)

    @property
    def rank(self) -> int | None:
        return self.shown.index(self.labelled.target) + 1 if self.labelled.target in self.shown else None


def run(
    store: Store, policy: Policy, backend: SearchBackend, backend_name: str, labelled: Iterable[Labelled]
) -> list[Outcome]:
    """Each labelled query through the search use case, as a Kent investigator, first page of 10 by
    relevance."""
    out = []
    for item in labelled:
        request = SearchRequest.model_validate({"query": item.query, "page_size": PAGE, "sort": "relevance"})
        with store.unit_of_work(for_caller=True) as uow:
            results = search_service.search(
                uow, INVESTIGATOR, policy, backend, backend_name, request, purpose=PURPOSE, request_id=None
            )
        shown = [h.id for h in results.hits]
        target = next((h for h in results.hits if h.id == item.target), None)
        out.append(
            Outcome(
                item,
                shown,
                results.total,
                [str(m) for m in target.matched] if target else [],
                dict(target.how) if target else {},
            )
        )
    return out


def _scores(outcomes: list[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    ranks = [o.rank for o in outcomes]
    return {
        "queries": n,
        "precision_at_10": round(sum(o.precision for o in outcomes) / n, 3),
        "recall_at_10": round(sum(o.recall for o in outcomes) / n, 3),
        "target_first": round(sum(r == 1 for r in ranks) / n, 3),
        "target_top_3": round(sum(r is not None and r <= 3 for r in ranks) / n, 3),
        "target_top_10": round(sum(r is not None for r in ranks) / n, 3),
        "mrr_at_10": round(sum(1 / r for r in ranks if r) / n, 3),
        "mean_relevant": round(sum(len(o.labelled.relevant) for o in outcomes) / n, 1),
    }


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Scores per kind (in the order of KINDS) and overall."""
    kinds: dict[str, list[Outcome]] = {}
    for o in outcomes:
        kinds.setdefault(o.labelled.kind, []).append(o)
    return {"kinds": {k: _scores(v) for k, v in kinds.items()}, "overall": _scores(outcomes)}


def misses(outcomes: list[Outcome]) -> list[str]:
    """Every query whose first page holds someone who fits nothing, or leaves out someone who fits and for
    whom there was room: what to read when a score falls."""
    out = []
    for o in outcomes:
        wrong = [i for i in o.shown if i not in o.labelled.relevant]
        room = min(len(o.labelled.relevant), PAGE)
        found = sum(i in o.labelled.relevant for i in o.shown)
        if wrong or found < room:
            out.append(
                f"{o.labelled.kind}: {o.labelled.says}: {len(wrong)} shown that fit nothing, {found} of "
                f"{room} that fit (total {o.total}, relevant {len(o.labelled.relevant)}, "
                f"target rank {o.rank})"
            )
    return out
