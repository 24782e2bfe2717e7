"""The embedded search backend: no server, and no plaintext in the database.

Candidates are narrowed in SQL, then decrypted in batches (a few queries a batch, only the sections the
criteria read), turned into the same documents Elasticsearch indexes, and judged by the reference semantics
(`matching.py`): the narrowing decides only what is decrypted, never what matches, so it can never make a
count or a facet depend on something the viewer may not see.

Every criterion narrows (decision 53). The record's blind-index tokens narrow names, phonetic codes, dates of
birth and birth years, and contacts; an age is exact (birth-year tokens for the whole years of its range, date
tokens for the days at either end, the identity's and current aliases'); a criterion about one item (mark,
vehicle, offence, identifier, address) narrows to records with one current item meeting all of it at once, by
that item's plain columns (a mark's kind and location, an offence's sexual flag, from/to dates) and the tokens
it owns (a vehicle's make, model, colour, mark, its 3-grams and each character's position from either end; an
offence's words, code, year and victims; the word tokens of a mark's description, a modus operandi and
employment); MAPPA category, level, type and area are the record's plain columns. A narrowing that compares
everything the criterion compares is exact, and a NOT of an exact one narrows by its negation; an AND narrows
by every child that narrows, an OR when every branch does. Left un-narrowed: a query whose only criteria are a
person's gender, ethnicity, nationality or description (not indexed, decision 53), a partial contact, and a
NOT of an inexact criterion. Token kinds added by migration 0023 narrow only once every record has them
(`tokens_version`).

When the whole query is exact its candidates are its hits: the count and the facets come from their plain
columns, the relevance order from a score computed in SQL as `matching.evaluate` computes it, and only the
page is decrypted (and judged, falling back to judging every candidate if a record changed meanwhile). A
person's gender, ethnicity or nationality beside exact criteria is sifted on the candidates' own rows (their
identities, no items) before the same paging.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, not_, or_, select, true

from ..domain import values
from ..domain.enums import Agency
from ..domain.record import GEO_CELL_SIZES, SOURCE_SECTIONS, Section, text_words, vrm_ngrams
from ..store import models as m
from ..store.records import entry_visible_to, visible_to
from ..store.store import Store
from . import query as q
from .backend import FACETS, Hit, Results, Viewer, statuses
from .documents import document, sounds
from .matching import EXACT, WEIGHTS, evaluate, explain, name_variants

BATCH = 500


def _tokens(c: q.Leaf) -> list[tuple[str, list[str]]]:
    """(token kind, acceptable values) pairs a matching record must have, one pair per required token."""
    if isinstance(c, q.Name):
        # Whole words only (an initial or a prefix has no token), by the keys the register writes tokens for:
        # the word itself, its variants, its Metaphone or Soundex key (NYSIIS and Double Metaphone have none)
        words = [t.text for t in c.terms() if t.kind == "word"]
        if c.mode == "exact":
            return [("name", [w]) for w in words]
        if c.mode == "nickname":
            return [("name", sorted(name_variants(w))) for w in words]
        if c.mode == "phonetic" and c.algorithm in ("metaphone", "soundex"):
            return [(f"name_{c.algorithm}", sounds(w)[c.algorithm]) for w in words]
        return []
    if isinstance(c, q.Identifier):
        return [(f"id_{c.kind.value}", [c.value])]
    if isinstance(c, q.DateOfBirth):
        if c.exact is not None:
            return [("dob", [d.isoformat() for d in c.dates()])]
        if c.year is not None:
            return [("dob_year", [str(y) for y in c.years()])]
    if isinstance(c, q.Address):
        out: list[tuple[str, list[str]]] = []
        if c.postcode_level:
            kind = {"postcode": "postcode", "sector": "postcode_sector", "district": "postcode_district"}[
                c.postcode_level
            ]
            out.append((kind, [c.postcode]))  # type: ignore[list-item]  # a level is only set with a postcode
        if c.near:
            out.append(_cells(c.near))
        return out
    if isinstance(c, q.Vehicle) and c.vrm:
        if "?" not in c.vrm and "*" not in c.vrm and not c.partial:
            return [("vrm", [c.vrm])]
        runs = [r for r in re.split(r"[?*]", c.vrm) if len(r) >= 3]
        return [("vrm_3gram", [g]) for run in runs for g in vrm_ngrams(run)]
    if isinstance(c, q.Contact) and c.kind is not None and not c.partial:
        return [(f"contact_{c.kind.value}", c.forms)]
    return []


def _cells(near: q.Near) -> tuple[str, list[str]]:
    """The grid cells a circle's bounding box touches, at the finest size that needs at most 100 of them."""
    dlat = near.radius_km / 110.574
    dlon = near.radius_km / (111.320 * math.cos(math.radians(near.latitude)))
    for size in GEO_CELL_SIZES:
        step = float(size)
        lats = range(math.floor((near.latitude - dlat) / step), math.floor((near.latitude + dlat) / step) + 1)
        lons = range(
            math.floor((near.longitude - dlon) / step), math.floor((near.longitude + dlon) / step) + 1
        )
        if len(lats) * len(lons) <= 100 or size == GEO_CELL_SIZES[-1]:
            return f"geo_cell_{size}", [f"{a}:{o}" for a in lats for o in lons]
    raise AssertionError("unreachable")


# What each criterion reads of a record (the search document is built from these sections only, besides the
# record's own row: its identity, header and names' primary); free text reads its sources' sections
SECTIONS: dict[str, set[Section]] = {
    "name": {Section.ALIASES},
    "date_of_birth": {Section.ALIASES},
    "age": {Section.ALIASES},
    "person": {
        Section.DESCRIPTIONS
    },  # only for a description's fields: gender and the rest are the identity's
    "mark": {Section.MARKS},
    "identifier": {Section.IDENTIFIERS},
    "address": {Section.ADDRESSES},
    "vehicle": {Section.VEHICLES},
    "contact": {Section.CONTACTS},
    "offence": {Section.OFFENCES},
    "employment": {Section.EMPLOYMENT},
    "management": {Section.RISK_ASSESSMENTS},
}


def phonetic(query: q.Group) -> bool:
    """Whether judging the query reads names' phonetic keys (a name criterion does)."""
    return any(isinstance(c, q.Name) for _, c in q.leaves(query))


def sections_read(query: q.Group) -> tuple[set[Section], bool]:
    """The sections a query's criteria read, and whether it reads the chronology (free text in it)."""
    out: set[Section] = set()
    timeline = False
    for _, c in q.leaves(query):
        if isinstance(c, q.FreeText):
            out |= {Section(SOURCE_SECTIONS[s]) for s in c.sources if s != "chronology"}
            timeline = timeline or "chronology" in c.sources
        elif isinstance(c, q.Person) and all(
            v is None for v in (c.height_min, c.height_max, c.build, c.hair, c.eyes)
        ):
            continue
        else:
            out |= SECTIONS[c.type]
    return out, timeline


def _identity_only(c: Any) -> bool:
    """A `person` criterion on the identity alone (gender, ethnicity, nationality): not indexed (decision 53),
    but read from the record's own row, without its items."""
    return isinstance(c, q.Person) and all(
        v is None for v in (c.height_min, c.height_max, c.build, c.hair, c.eyes)
    )


Narrowed = tuple[Any, bool]  # SQL on `nominal` every match satisfies (None: no narrowing), and whether exact
NONE: Narrowed = (None, False)


def _known(vrm: str) -> list[tuple[str, str]]:
    """The positional tokens a pattern's known characters stand for, read from its start up to the first `*`
    and from its end back to the last `*` (`?` skips a position)."""
    head, _, _ = vrm.partition("*")
    _, star, tail = vrm.rpartition("*")
    out = [("vrm_at", f"{i}:{c}") for i, c in enumerate(head) if c != "?"]
    if star:  # with no `*` the head is the whole mark and already says where every character is
        out += [("vrm_at_end", f"{i}:{c}") for i, c in enumerate(reversed(tail)) if c != "?"]
    return out


class SqlBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

    def tokens_version(self) -> int:
        """The token definitions every record follows (migration 0023): the new kinds narrow only at 2."""
        with self.store.session_factory() as session:
            return session.scalar(select(m.TokenVersion.version)) or 1

    def _free_text(self, c: q.FreeText, viewer: Viewer | None) -> Any:
        """Records with one item or chronology entry that holds a token of every word, in a source asked
        for, that the viewer may read: the owner's own audience column by the same rule a read applies
        (`visible_to`), its section among those the viewer's agency may read, a current item only."""
        tokens = [self.store.blind.token("text", w) for w in c.words()]
        agency = Agency(viewer.agency) if viewer is not None and viewer.agency is not None else None
        sources = [
            s
            for s in c.sources
            if viewer is None or viewer.sections is None or SOURCE_SECTIONS[s] in viewer.sections
        ]
        every = func.count(func.distinct(m.TextToken.token)) == len(tokens)
        in_items = (
            select(m.Item.nominal_id)
            .join(m.TextToken, m.TextToken.item_id == m.Item.id)
            .where(
                m.TextToken.token.in_(tokens),
                m.TextToken.source.in_(sources),
                m.Item.ended_at.is_(None),
                visible_to(agency),
            )
            .group_by(m.Item.id, m.Item.nominal_id)
            .having(every)
        )
        in_entries = (
            select(m.ChronologyEntry.nominal_id)
            .join(m.TextToken, m.TextToken.entry_id == m.ChronologyEntry.id)
            .where(m.TextToken.token.in_(tokens), m.TextToken.source.in_(sources), entry_visible_to(agency))
            .group_by(m.ChronologyEntry.id, m.ChronologyEntry.nominal_id)
            .having(every)
        )
        return or_(m.Nominal.id.in_(in_items), m.Nominal.id.in_(in_entries))

    def _has_token(self, kind: str, accepted: list[str]) -> Any:
        """Items holding a blind token of this kind with one of these values."""
        blind = self.store.blind
        return m.Item.id.in_(
            select(m.BlindToken.item_id).where(
                m.BlindToken.kind == kind, m.BlindToken.token.in_([blind.token(kind, v) for v in accepted])
            )
        )

    def _has_words(self, source: str, text: str | None) -> list[Any]:
        """Items whose narrative piece from this source holds each word of `text` (as `matching.has_words`
        reads it: text tokens are the same words), one condition a word."""
        return [
            m.Item.id.in_(
                select(m.TextToken.item_id).where(
                    m.TextToken.source == source, m.TextToken.token == self.store.blind.token("text", w)
                )
            )
            for w in text_words(text)
        ]

    @staticmethod
    def _item(section: Section, *conditions: Any, keys: list[Any] | tuple[Any, ...] = ()) -> Any:
        """Records with one current item of this section meeting every condition and holding every token in
        `keys`: a nested criterion's own item, as `matching` judges it (never pieces of different items).
        Each token kind belongs to one section's items, so with a token the section goes without saying;
        leaving it out lets the database go from the token to its items (SQLite, with no statistics, would
        otherwise walk every item of the section)."""
        section_of = [] if keys else [m.Item.section == section.value]
        return m.Nominal.id.in_(
            select(m.Item.nominal_id).where(*section_of, m.Item.ended_at.is_(None), *conditions, *keys)
        )

    @staticmethod
    def _window(c: q.Window) -> list[Any]:
        """An item's own from/to period (its plain `starts_on`/`ends_on`) overlapping the criterion's."""
        out = []
        if c.until is not None:
            out.append(or_(m.Item.starts_on.is_(None), m.Item.starts_on <= c.until))
        if c.since is not None:
            out.append(or_(m.Item.ends_on.is_(None), m.Item.ends_on >= c.since))
        return out

    def _nested(self, c: q.Leaf, today: dt.date) -> Narrowed | None:
        """A criterion on one item (mark, vehicle, offence, identifier, address) or on employment, narrowed
        by that item's plain columns and its own tokens: exact where every field it compares has one. None:
        the token definitions it needs are not yet every record's (`tokens_version`)."""
        if isinstance(c, q.Mark):  # kind and location are plain (`Mark.plain`), the words text tokens
            what = [m.Item.kind == c.kind.value] if c.kind else []
            where = [m.Item.status == c.location.value] if c.location else []
            return self._item(Section.MARKS, *what, *where, keys=self._has_words("marks", c.text)), True
        if isinstance(c, q.Employment):  # the words of every current employment, together
            found = [self._item(Section.EMPLOYMENT, keys=[w]) for w in self._has_words("employment", c.text)]
            return (and_(*found), True) if found else NONE
        if isinstance(c, q.Identifier):
            return self._item(
                Section.IDENTIFIERS, keys=[self._has_token(f"id_{c.kind.value}", [c.value])]
            ), True
        if isinstance(c, q.Address):
            conditions = self._window(c) + ([m.Item.kind == c.kind.value] if c.kind else [])
            keys = []
            if c.postcode_level:
                level = {"postcode": "postcode", "sector": "postcode_sector", "district": "postcode_district"}
                keys.append(self._has_token(level[c.postcode_level], [c.postcode or ""]))
            if c.near:
                keys.append(self._has_token(*_cells(c.near)))
            return self._item(Section.ADDRESSES, *conditions, keys=keys), c.near is None
        if isinstance(c, q.Vehicle):
            conditions = self._window(c)
            keys = []
            exact = True
            for kind, want in (
                ("vehicle_make", c.make),
                ("vehicle_model", c.model),
                ("vehicle_colour", c.colour),
            ):
                if want is not None:
                    keys.append(self._has_token(kind, [values.fold(want)]))
            if c.vrm and "?" not in c.vrm and "*" not in c.vrm and not c.partial:
                keys.append(self._has_token("vrm", [c.vrm]))
            elif c.vrm:
                exact = False
                runs = [r for r in re.split(r"[?*]", c.vrm) if len(r) >= 3]
                keys += [self._has_token("vrm_3gram", [g]) for run in runs for g in vrm_ngrams(run)]
                if c.partial:  # the pattern begins the mark or ends it
                    begins = [self._has_token(k, [v]) for k, v in _known(c.vrm + "*")]
                    ends = [self._has_token(k, [v]) for k, v in _known("*" + c.vrm)]
                    if begins and ends:
                        conditions.append(or_(and_(*begins), and_(*ends)))
                else:
                    keys += [self._has_token(k, [v]) for k, v in _known(c.vrm)]
            return self._item(Section.VEHICLES, *conditions, keys=keys), exact
        if isinstance(c, q.Offence):
            keys = [self._has_token("offence_word", [w]) for w in text_words(c.text)]
            keys += self._has_words("modus_operandi", c.modus_operandi)
            if c.code is not None:
                keys.append(self._has_token("offence_code", [c.code]))
            conditions = []
            if c.sexual is not None:  # plain: `Offence.plain`
                conditions.append(m.Item.status == "sexual" if c.sexual else m.Item.status.is_(None))
            for kind, want in (
                ("victim_age_band", c.victim_age_band),
                ("victim_gender", c.victim_gender),
                ("victim_relationship", c.victim_relationship),
            ):
                if want is not None:
                    keys.append(self._has_token(kind, [want.value]))
            dated = c.date_from is not None or c.date_to is not None
            if c.date_from is not None and c.date_to is not None and c.date_to.year - c.date_from.year <= 100:
                years = [str(y) for y in range(c.date_from.year, c.date_to.year + 1)]
                keys.append(self._has_token("offence_year", years))
            return self._item(Section.OFFENCES, *conditions, keys=keys), not dated
        return None

    def _age(self, c: q.Age, today: dt.date) -> Any:
        """Records with a date of birth in the age's range, their own or a current alias's (as the document
        counts them): a year wholly inside it by its birth-year token, a day of a year at either end by its
        date token. Exact."""
        earliest, latest = c.dob_range(today)
        first = earliest.year + ((earliest.month, earliest.day) != (1, 1))
        last = latest.year - ((latest.month, latest.day) != (12, 31))
        if first <= last:  # whole years, then the days before and after them (at most a year's each)
            years = [str(y) for y in range(first, last + 1)]
            ends = [
                (earliest, dt.date(first, 1, 1)),
                (dt.date(last + 1, 1, 1), latest + dt.timedelta(days=1)),
            ]
        else:  # no whole year: every day (at most two years' worth)
            years, ends = [], [(earliest, latest + dt.timedelta(days=1))]
        days = [
            (start + dt.timedelta(days=n)).isoformat()
            for start, stop in ends
            for n in range((stop - start).days)
        ]
        blind = self.store.blind
        # Per record (a correlated EXISTS, by the token's nominal index): an age is rarely the only criterion,
        # and the records the others narrow to have a few dozen tokens each, where the birth years of an age
        # range are the tokens of a fifth of the register. Dates of birth are the identity's tokens (no item)
        # and current aliases' (`dob` tokens belong to no other section).
        ended = m.Item.ended_at.is_not(None)
        return exists(
            select(m.BlindToken.id).where(
                m.BlindToken.nominal_id == m.Nominal.id,
                or_(
                    and_(
                        m.BlindToken.kind == "dob_year",
                        m.BlindToken.token.in_([blind.token("dob_year", y) for y in years]),
                    ),
                    and_(
                        m.BlindToken.kind == "dob",
                        m.BlindToken.token.in_([blind.token("dob", d) for d in days]),
                    ),
                ),
                or_(
                    m.BlindToken.item_id.is_(None),
                    ~exists(select(m.Item.id).where(m.Item.id == m.BlindToken.item_id, ended)),
                ),
            )
        )

    def _leaf(self, c: q.Leaf, today: dt.date, viewer: Viewer | None = None, version: int = 1) -> Narrowed:
        """SQL on `nominal` that every record matching the leaf satisfies (a superset), or None; and whether
        it is exact (a record satisfies it exactly when it matches: then a NOT of it narrows too). An exact
        condition is never NULL, so its negation is exact as well."""
        if isinstance(c, q.FreeText):
            return self._free_text(c, viewer), False
        if isinstance(c, q.Age):
            return self._age(c, today), True
        if version >= 2 and (nested := self._nested(c, today)) is not None:
            return nested
        blind = self.store.blind
        conditions: list[ColumnElement[bool]] = [
            m.Nominal.id.in_(
                select(m.BlindToken.nominal_id).where(
                    m.BlindToken.kind == kind,
                    m.BlindToken.token.in_([blind.token(kind, v) for v in accepted]),
                )
            )
            for kind, accepted in _tokens(c)
        ]
        exact = False
        if isinstance(c, q.Management):
            # Plain columns of the record itself (NULL-safe: a record with no level is "not Level 1"); the
            # risk level is the latest assessment's, so any current assessment at that level only narrows
            exact = c.risk_level is None
            for column, value in (
                (m.Nominal.mappa_category, c.mappa_category),
                (m.Nominal.mappa_level, c.mappa_level),
                (m.Nominal.nominal_type, c.nominal_type),
                (m.Nominal.area, c.area),
            ):
                if value is not None:
                    wanted = int(value) if isinstance(value, int) else value.value
                    conditions.append(and_(column.is_not(None), column == wanted))
            if c.risk_level is not None:
                conditions.append(self._item(Section.RISK_ASSESSMENTS, m.Item.status == c.risk_level.value))
            if not conditions:
                return true(), True
        return (and_(*conditions), exact) if conditions else NONE

    def _narrow(
        self, group: q.Group, today: dt.date, viewer: Viewer | None = None, version: int = 1
    ) -> Narrowed:
        """A superset of the group's matches in SQL, or None when it cannot be narrowed, and whether it is
        exact: an AND narrows by every child that can be narrowed (exact when all are), an OR only when every
        branch can, a NOT only when its criterion is exact (its negation, then exact too)."""
        parts = [
            self._narrow(c, today, viewer, version)
            if isinstance(c, q.Group)
            else self._leaf(c, today, viewer, version)
            for c in group.criteria
        ]
        if group.op == "not":
            sql, exact = parts[0]
            return (not_(sql), True) if sql is not None and exact else NONE
        exact = all(p[1] and p[0] is not None for p in parts)
        if group.op == "and":
            known = [p[0] for p in parts if p[0] is not None]
            return (and_(*known), exact) if known else NONE
        if all(p[0] is not None for p in parts):
            return or_(*[p[0] for p in parts]), exact
        return NONE

    def _statement(
        self, request: q.SearchRequest, viewer: Viewer | None, narrowed: Any, *columns: Any
    ) -> Select[Any]:
        """These columns (the id if none) of the candidates: the status asked for, without the viewer's
        stubs, within `narrowed`."""
        stmt = (
            select(*(columns or (m.Nominal.id,)))
            .where(m.Nominal.status.in_(statuses(request)))
            .order_by(m.Nominal.id)
        )
        if viewer is not None and viewer.restricted_stub:  # stubs for this viewer take no part (see Viewer)
            stmt = stmt.where(or_(m.Nominal.restricted.is_(False), m.Nominal.area == viewer.area))
        only = request.only()
        if only is not None:  # a watched search evaluated against the records just changed
            stmt = stmt.where(m.Nominal.id.in_([uuid.UUID(i) for i in only]))
        return stmt if narrowed is None else stmt.where(narrowed)

    def candidates(
        self, request: q.SearchRequest, today: dt.date | None = None, viewer: Viewer | None = None
    ) -> Select[Any]:
        narrowed, _ = self._narrow(request.query, today or dt.date.today(), viewer, self.tokens_version())
        return self._statement(request, viewer, narrowed)

    def _hit(
        self, request: q.SearchRequest, doc: dict[str, Any], today: dt.date, viewer: Viewer
    ) -> tuple[float, str, str, Hit] | None:
        """A decrypted candidate as a hit (score, surname, id, hit), or None if it does not match."""
        if viewer.hides(doc["area"], doc["restricted"]):  # changed since the candidates were read
            return None
        ok, matched, score = evaluate(request.query, doc, today)
        if not ok:
            return None
        surname = doc["names"][0]["surname"]
        key = [surname if request.sort == "surname" else score, doc["nominal_id"]]
        hit = Hit(
            uuid.UUID(doc["nominal_id"]), score, matched, key, explain(request.query, doc, today, matched)
        )
        return score, surname, doc["nominal_id"], hit

    def _score(
        self, group: q.Group, today: dt.date, viewer: Viewer | None, version: int, met: bool = False
    ) -> Any:
        """An exactly narrowed query's score in SQL, as `matching.evaluate` computes it: each criterion met
        scores its weight (an exact criterion's grade is always EXACT: names, dates of birth, contacts and
        registration patterns, which grade how they matched, are never exact), an AND the sum of its children
        when all are met, an OR the sum of those met, a NOT nothing. `met`: the group is known to be met (the
        query itself, for its candidates), and so is every child of it if it is an AND."""
        if group.op == "not":
            return literal(0.0)
        known = met and group.op == "and"
        parts: list[Any] = []
        for c in group.criteria:
            if isinstance(c, q.Group):
                parts.append(self._score(c, today, viewer, version, known))
                continue
            weight = WEIGHTS.get(c.type, 1.0) * EXACT
            if known:
                parts.append(literal(weight))
            else:
                sql, _ = self._leaf(c, today, viewer, version)
                parts.append(case((sql, weight), else_=0.0))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        if group.op == "and" and not met:
            sql, _ = self._narrow(group, today, viewer, version)
            return case((sql, total), else_=0.0)
        return total

    def _exact_page(
        self, request: q.SearchRequest, today: dt.date, viewer: Viewer, rows: list[Any]
    ) -> Results | None:
        """The page of an exactly narrowed query, decrypting the page alone: the candidates are the hits, so
        their count and their plain columns' facets are the answer's, and their scores (computed in SQL) give
        the relevance order. None (decrypt them all instead) when a record of the page changed since the
        candidates were read, or does not score what SQL said."""
        facets: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        for row in rows:
            for f, value in zip(FACETS, row[1:4], strict=True):
                if value is not None:
                    facets[f][str(value)] += 1
        ordered = sorted((-float(row[4]), str(row[0])) for row in rows)
        after = request.after()
        if after is None:
            first = (request.page - 1) * request.page_size
            chosen, more = (
                ordered[first : first + request.page_size],
                first + request.page_size < len(ordered),
            )
        else:
            rest = [k for k in ordered if k > (-float(after[0]), after[1])]
            chosen, more = rest[: request.page_size], len(rest) > request.page_size
        sections, timeline = sections_read(request.query)
        with self.store.unit_of_work() as uow:
            records = uow.nominals.load_many(
                [uuid.UUID(i) for _, i in chosen], sections=sections, chronology=timeline
            )
        hits = {
            str(r.id): self._hit(
                request, viewer.readable(document(r, phonetic=phonetic(request.query))), today, viewer
            )
            for r in records
        }
        page = [hits.get(i) for _, i in chosen]
        if any(h is None or -h[0] != key for h, (key, _) in zip(page, chosen, strict=True)):
            return None
        return Results(
            total=len(ordered),
            hits=[h[3] for h in page if h is not None],
            facets={f: dict(c) for f, c in facets.items()},
            more=more,
        )

    def _sift(self, rows: list[Any], people: q.Group, today: dt.date) -> list[Any]:
        """The candidates whose identity meets these `person` criteria: their own rows decrypted, no item."""
        out: list[Any] = []
        for start in range(0, len(rows), BATCH):
            batch = {row[0]: row for row in rows[start : start + BATCH]}
            with self.store.unit_of_work() as uow:
                records = uow.nominals.load_many(list(batch), sections=set(), chronology=False)
            out += [batch[r.id] for r in records if evaluate(people, document(r, phonetic=False), today)[0]]
        return out

    def search(self, request: q.SearchRequest, today: dt.date, viewer: Viewer) -> Results:
        version = self.tokens_version()
        narrowed, exact = self._narrow(request.query, today, viewer, version)
        # A person's gender, ethnicity or nationality beside exact criteria ("men aged 30-39 with a tattoo on
        # the neck"): the exact ones narrow, the identities alone are decrypted to sift them, then as exact
        people = [c for c in request.query.criteria if _identity_only(c)]
        others = [c for c in request.query.criteria if not _identity_only(c)]
        sift: q.Group | None = None
        if not exact and request.query.op == "and" and people and others and request.sort == "relevance":
            exact_part = q.Group.model_construct(type="group", op="and", criteria=others)
            part, part_exact = self._narrow(exact_part, today, viewer, version)
            if part_exact and part is not None:
                narrowed, exact = part, True
                sift = q.Group.model_construct(type="group", op="and", criteria=people)
        if exact and narrowed is not None and request.sort == "relevance":
            stmt = self._statement(
                request,
                viewer,
                narrowed,
                m.Nominal.id,
                m.Nominal.area,
                m.Nominal.mappa_category,
                m.Nominal.mappa_level,
                self._score(request.query, today, viewer, version, met=True).label("score"),
            )
            with self.store.session_factory() as session:
                rows = list(session.execute(stmt))
            if sift is not None:
                rows = self._sift(rows, sift, today)
            quick = self._exact_page(request, today, viewer, rows)
            if quick is not None:
                return quick
        with self.store.session_factory() as session:
            ids = list(session.scalars(self._statement(request, viewer, narrowed)))
        found: list[tuple[float, str, str, Hit]] = []
        facets: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        # Only the sections the criteria read, and the chronology only when free text reads it (a record's
        # timeline is its largest part): the rest of a record would be decrypted to be thrown away
        sections, timeline = sections_read(request.query)
        for start in range(0, len(ids), BATCH):
            with self.store.unit_of_work() as uow:
                records = uow.nominals.load_many(
                    ids[start : start + BATCH], sections=sections, chronology=timeline
                )
            for record in records:
                doc = viewer.readable(document(record, phonetic=phonetic(request.query)))
                hit = self._hit(request, doc, today, viewer)
                if hit is None:
                    continue
                found.append(hit)
                for f in FACETS:
                    if doc[f] is not None:
                        facets[f][str(doc[f])] += 1
        # The primary surname, then the id: a total order a cursor can resume from
        by_surname = request.sort == "surname"

        def order(t: tuple[float, str, str, Hit]) -> tuple[Any, str]:
            return (t[1], t[2]) if by_surname else (-t[0], t[2])

        found.sort(key=order)
        after = request.after()
        if after is None:
            first = (request.page - 1) * request.page_size
            page, more = found[first : first + request.page_size], first + request.page_size < len(found)
        else:
            resume = (after[0], after[1]) if request.sort == "surname" else (-float(after[0]), after[1])
            rest = [t for t in found if order(t) > resume]
            page, more = rest[: request.page_size], len(rest) > request.page_size
        return Results(
            total=len(found),
            hits=[t[3] for t in page],
            facets={f: dict(c) for f, c in facets.items()},
            more=more,
        )
