"""Listing records: an area's records or a caseload, a page at a time, with their names opened in one pass.

The record repository (records.py) reads and writes whole records; this is the part that shows many at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ..domain.enums import Area, MappaCategory, MappaLevel, NominalStatus, NominalType
from ..domain.record import Identity, Section
from . import models as m
from .cipher import RecordCipher

# Stored payloads were validated when written; reading them back must not re-apply
# rules measured against today (an age that was plausible then stays readable).
TRUSTED = {"trusted": True}


def with_keys(statement: Select[Any]) -> Select[Any]:
    """`statement`, selecting records, with each record's data key (its KEK version and wrapped key) joined
    on: for `RecordListing._with_keys`."""
    keys = m.DataKey.__table__.c
    return statement.add_columns(keys.kek_version, keys.wrapped).outerjoin(
        m.DataKey.__table__, keys.id == m.Nominal.data_key_id
    )


# the records named by the parameter `ids` (a search's page of hits), with their data keys: built once
_SUMMARIES = with_keys(select(m.Nominal).where(m.Nominal.id.in_(bindparam("ids", expanding=True))))


@dataclass(frozen=True)
class ListFilters:
    area: Area
    today: dt.date
    caseload_user: str | None = None
    status: NominalStatus | None = NominalStatus.ACTIVE
    category: MappaCategory | None = None
    level: MappaLevel | None = None
    nominal_type: NominalType | None = None
    review_due_before: dt.date | None = None


@dataclass(frozen=True)
class Summary:
    id: uuid.UUID
    version: int
    status: NominalStatus
    nominal_type: str
    area: str
    mappa_category: int | None
    mappa_level: int | None
    restricted: bool
    managing_unit: str
    forenames: str
    surname: str
    date_of_birth: dt.date | None
    updated_at: dt.datetime


class RecordListing:
    """Pages and summaries of records; the record repository is one (it shares the session and the cipher)."""

    session: Session
    cipher: RecordCipher

    def page(self, filters: ListFilters, *, limit: int, offset: int) -> tuple[list[Summary], int]:
        """One page of an area's records (or a caseload), newest change first, with total: three queries."""
        conditions = [m.Nominal.area == filters.area.value]
        if filters.status is not None:
            conditions.append(m.Nominal.status == filters.status.value)
        if filters.category is not None:
            conditions.append(m.Nominal.mappa_category == int(filters.category))
        if filters.level is not None:
            conditions.append(m.Nominal.mappa_level == int(filters.level))
        if filters.nominal_type is not None:
            conditions.append(m.Nominal.nominal_type == filters.nominal_type.value)
        if filters.caseload_user is not None:
            conditions.append(
                select(m.Item.id)
                .where(
                    m.Item.nominal_id == m.Nominal.id,
                    m.Item.section == Section.OFFENDER_MANAGERS.value,
                    m.Item.ref == filters.caseload_user,
                    m.Item.ended_at.is_(None),
                    or_(m.Item.ends_on.is_(None), m.Item.ends_on >= filters.today),
                )
                .exists()
            )
        if filters.review_due_before is not None:
            conditions.append(
                select(m.Item.id)
                .where(
                    m.Item.nominal_id == m.Nominal.id,
                    m.Item.section.in_([Section.RISK_ASSESSMENTS.value, Section.RISK_PLANS.value]),
                    m.Item.ended_at.is_(None),
                    m.Item.due_on <= filters.review_due_before,
                )
                .exists()
            )
        total = self.session.execute(
            select(func.count()).select_from(m.Nominal).where(*conditions)
        ).scalar_one()
        rows = self._with_keys(
            with_keys(select(m.Nominal))
            .where(*conditions)
            .order_by(m.Nominal.updated_at.desc(), m.Nominal.id)
            .limit(limit)
            .offset(offset)
        )
        return self._summaries(rows), total

    def summaries(self, nominal_ids: list[uuid.UUID]) -> dict[uuid.UUID, Summary]:
        """Summaries (with decrypted names) of the given records, in one query."""
        rows = self._with_keys(_SUMMARIES, {"ids": nominal_ids}) if nominal_ids else []
        return {s.id: s for s in self._summaries(rows)}

    def _with_keys(
        self, statement: Select[Any], params: dict[str, Any] | None = None, *, unwrap: bool = True
    ) -> list[m.Nominal]:
        """The records `statement` selects (built by `with_keys`), with their data keys read in the same
        query: no second round trip for the keys (a tenth of an investigator's search through the API, py-spy
        at 100,000 people). Unwrapped at once (a listing opens every name), or with `unwrap=False` kept
        wrapped until a value under them is opened or sealed (a record's header: the request may open
        nothing)."""
        rows = self.session.execute(statement, params).all()
        found = ((r[0].data_key_id, r.kek_version, r.wrapped) for r in rows if r.wrapped is not None)
        if unwrap:
            self.cipher.accept(found)
        else:
            self.cipher.offer(found)
        return [r[0] for r in rows]

    def _summaries(self, rows: Sequence[m.Nominal]) -> list[Summary]:
        self.cipher.load({r.data_key_id for r in rows})
        out = []
        for r in rows:
            if r.status == NominalStatus.ERASED.value:
                out.append(
                    Summary(
                        r.id,
                        r.version,
                        NominalStatus.ERASED,
                        r.nominal_type,
                        r.area,
                        r.mappa_category,
                        r.mappa_level,
                        r.restricted,
                        r.managing_unit,
                        "",
                        "(erased)",
                        None,
                        r.updated_at,
                    )
                )
                continue
            identity = Identity.model_validate_json(
                self.cipher.open(r.data_key_id, "nominal", "identity_sealed", r.id, r.identity_sealed),
                context=TRUSTED,
            )
            out.append(
                Summary(
                    r.id,
                    r.version,
                    NominalStatus(r.status),
                    r.nominal_type,
                    r.area,
                    r.mappa_category,
                    r.mappa_level,
                    r.restricted,
                    r.managing_unit,
                    identity.forenames,
                    identity.surname,
                    identity.date_of_birth,
                    r.updated_at,
                )
            )
        return out
