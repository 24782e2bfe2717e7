"""The nominal: header, new record, stored items and the assembled record."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import jellyfish
from pydantic import (
    Field,
    model_validator,
)

from .. import values
from ..enums import (
    Area,
    LeadAgency,
    MappaCategory,
    MappaLevel,
    NominalStatus,
    NominalType,
)
from ..errors import InvalidValue
from .base import Model, Section, SectionItem, ShortText, Token
from .chronology import ChronologyEntry
from .identity import Alias, Identity
from .management import CATEGORY_FOR_TYPE
from .places import Contact

# ---------------------------------------------------------------- the nominal


class Header(Model):
    """Operational metadata of the record, kept plain: it drives caseloads, checks and statistics."""

    nominal_type: NominalType
    area: Area
    managing_unit: ShortText
    lead_agency: LeadAgency
    mappa_category: MappaCategory | None = None
    mappa_level: MappaLevel | None = None
    restricted: bool = Field(
        default=False, description="outside the owning area the record shows only as a stub"
    )

    @model_validator(mode="after")
    def _category_fits_type(self) -> Header:
        expected = CATEGORY_FOR_TYPE[self.nominal_type]
        if self.mappa_category is not None and self.mappa_category != expected:
            want = f"category {int(expected)}" if expected else "no MAPPA category"
            raise InvalidValue(
                "category_matches_type", f"a {self.nominal_type} nominal has {want}", "mappa_category"
            )
        if self.mappa_level is not None and self.mappa_category is None:
            raise InvalidValue("level_needs_category", "a MAPPA level needs a MAPPA category", "mappa_level")
        return self


class NewNominal(Header):
    identity: Identity


@dataclass
class StoredItem:
    """A section item as read back: the item plus who entered it, for which agency, and when."""

    id: uuid.UUID
    section: Section
    data: SectionItem
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_reason: str | None = None
    merged_from: uuid.UUID | None = None  # the duplicate record it came from in a merge


@dataclass
class StoredEntry:
    id: uuid.UUID
    data: ChronologyEntry
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    merged_from: uuid.UUID | None = None
    audience: str | None = None  # comma-separated agencies that may see the entry; None: everyone


@dataclass
class Record:
    """A whole record as read back from the store."""

    id: uuid.UUID
    version: int
    status: NominalStatus
    header: Header
    identity: Identity
    created_at: dt.datetime
    updated_at: dt.datetime
    merged_into: uuid.UUID | None = None
    sections: dict[Section, list[StoredItem]] = field(default_factory=dict)
    chronology: list[StoredEntry] = field(default_factory=list)

    def items(self, section: Section) -> list[StoredItem]:
        return self.sections.get(section, [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "status": self.status.value,
            "header": self.header.model_dump(mode="json"),
            "identity": self.identity.model_dump(mode="json"),
            "sections": {
                s.value: [
                    {
                        "id": str(i.id),
                        "recorded_by": i.recorded_by,
                        "recorded_agency": i.recorded_agency,
                        **i.data.model_dump(mode="json"),
                    }
                    for i in items
                ]
                for s, items in self.sections.items()
            },
            "chronology": [{"id": str(e.id), **e.data.model_dump(mode="json")} for e in self.chronology],
        }


def record_tokens(identity: Identity, aliases: list[Alias], contacts: list[Contact]) -> list[Token]:
    """Tokens of the whole record for the duplicate cascade: every date of birth, and every phone, email or
    online identity, each combined with the sound of every name word the record carries (aliases included).
    Two records sharing one of these share a date of birth (or contact) and a name that sounds alike, found
    with one index lookup instead of pairing everyone born on the same day first."""
    names: list[Identity | Alias] = [identity, *aliases]
    words = {jellyfish.metaphone(w) for a in names for w in values.name_tokens(a.forenames, a.surname)}
    dobs = {d for d in (identity.date_of_birth, *(a.date_of_birth for a in aliases)) if d is not None}
    out: list[Token] = [("dob_sound", f"{d.isoformat()}|{w}") for d in sorted(dobs) for w in sorted(words)]
    out += [
        ("contact_sound", f"{c.kind}:{values.fold(c.value)}|{w}") for c in contacts for w in sorted(words)
    ]
    return out
