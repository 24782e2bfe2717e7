"""The embedded search backend: no server, and no plaintext in the database.

Candidates are narrowed in SQL with the blind-index tokens (names, phonetic codes, dates of birth and birth
years, identifiers, postcodes, registration marks and their 3-grams, contacts) and the plain operational
columns: an AND by every criterion that has them, an OR when all its branches do (nested groups alike), a NOT
never; the candidates are then decrypted in batches (four queries a batch), turned into the same documents
Elasticsearch indexes, and judged by the reference semantics (`matching.py`). Queries with no indexable
criterion decrypt every record in the status filter: fine for the embedded default, and the reason a force
runs Elasticsearch at scale.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from ..domain.enums import Agency
from ..domain.record import GEO_CELL_SIZES, SOURCE_SECTIONS, vrm_ngrams
from ..store import models as m
from ..store.records import entry_visible_to, visible_to
from ..store.store import Store
from . import query as q
from .backend import FACETS, Hit, Results, Viewer, statuses
from .documents import document, sounds
from .matching import evaluate, explain, name_variants

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


class SqlBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

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

    def _leaf(self, c: q.Leaf, today: dt.date, viewer: Viewer | None = None) -> Any:
        """SQL on `nominal` that every record matching the leaf satisfies (a superset), or None."""
        if isinstance(c, q.FreeText):
            return self._free_text(c, viewer)
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
        if isinstance(c, q.Age):
            earliest, latest = c.dob_range(today)
            # A birth year token among those years (aliases' dates count too)
            if latest.year - earliest.year <= 40:
                years = [str(y) for y in range(earliest.year, latest.year + 1)]
                conditions.append(
                    m.Nominal.id.in_(
                        select(m.BlindToken.nominal_id).where(
                            m.BlindToken.kind == "dob_year",
                            m.BlindToken.token.in_([blind.token("dob_year", y) for y in years]),
                        )
                    )
                )
        if isinstance(c, q.Management):
            for column, value in (
                (m.Nominal.mappa_category, c.mappa_category),
                (m.Nominal.mappa_level, c.mappa_level),
                (m.Nominal.nominal_type, c.nominal_type),
                (m.Nominal.area, c.area),
            ):
                if value is not None:
                    conditions.append(column == (int(value) if isinstance(value, int) else value.value))
        return and_(*conditions) if conditions else None

    def _narrow(self, group: q.Group, today: dt.date, viewer: Viewer | None = None) -> Any:
        """A superset of the group's matches in SQL, or None when it cannot be narrowed: an AND narrows by
        every child that can be narrowed, an OR only when every branch can, a NOT never."""
        if group.op == "not":
            return None
        parts = [
            self._narrow(c, today, viewer) if isinstance(c, q.Group) else self._leaf(c, today, viewer)
            for c in group.criteria
        ]
        if group.op == "and":
            known = [p for p in parts if p is not None]
            return and_(*known) if known else None
        return or_(*parts) if all(p is not None for p in parts) else None

    def candidates(
        self, request: q.SearchRequest, today: dt.date | None = None, viewer: Viewer | None = None
    ) -> Select[Any]:
        stmt = select(m.Nominal.id).where(m.Nominal.status.in_(statuses(request))).order_by(m.Nominal.id)
        if viewer is not None and viewer.restricted_stub:  # stubs for this viewer take no part (see Viewer)
            stmt = stmt.where(or_(m.Nominal.restricted.is_(False), m.Nominal.area == viewer.area))
        only = request.only()
        if only is not None:  # a watched search evaluated against the records just changed
            stmt = stmt.where(m.Nominal.id.in_([uuid.UUID(i) for i in only]))
        narrowed = self._narrow(request.query, today or dt.date.today(), viewer)
        return stmt if narrowed is None else stmt.where(narrowed)

    def search(self, request: q.SearchRequest, today: dt.date, viewer: Viewer) -> Results:
        with self.store.session_factory() as session:
            ids = list(session.scalars(self.candidates(request, today, viewer)))
        found: list[tuple[float, str, str, Hit]] = []
        facets: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        # The chronology only when free text reads it (a record's timeline is its largest part)
        timeline = any(
            isinstance(c, q.FreeText) and "chronology" in c.sources for _, c in q.leaves(request.query)
        )
        for start in range(0, len(ids), BATCH):
            with self.store.unit_of_work() as uow:
                records = uow.nominals.load_many(ids[start : start + BATCH], chronology=timeline)
            for record in records:
                doc = viewer.readable(document(record))
                if viewer.hides(doc["area"], doc["restricted"]):  # changed since the candidates were read
                    continue
                ok, matched, score = evaluate(request.query, doc, today)
                if not ok:
                    continue
                surname = doc["names"][0]["surname"]
                key = [surname if request.sort == "surname" else score, doc["nominal_id"]]
                found.append(
                    (
                        score,
                        surname,
                        doc["nominal_id"],
                        Hit(
                            uuid.UUID(doc["nominal_id"]),
                            score,
                            matched,
                            key,
                            explain(request.query, doc, today, matched),
                        ),
                    )
                )
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
