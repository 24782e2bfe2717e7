"""Combining two records of one person: what the survivor gains and where the two disagree. Pure: the merge
service feeds it the two records it read and applies the plan.

Nothing is dropped. Every item and chronology entry of the merged record moves to the survivor with its
provenance; the merged record's primary name (with its date of birth) becomes an alias of the survivor unless
the survivor already carries that name and date. Where the two disagree (two dates of birth, two current
addresses, two PNC numbers, different MAPPA levels) the preview shows both; the survivor's header stays as it
is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

from . import values
from .enums import NameType, NominalStatus
from .errors import RuleViolation
from .record import Address, Alias, Identifier, OffenderManager, Record, Section, StoredItem

MERGEABLE = {NominalStatus.ACTIVE, NominalStatus.ARCHIVED}


@dataclass(frozen=True)
class Conflict:
    field: str
    survivor: str | None
    merged: str | None


@dataclass(frozen=True)
class MergePlan:
    aliases: list[Alias]
    conflicts: list[Conflict]
    moved_items: int
    moved_entries: int


def check_pair(
    survivor_id: uuid.UUID,
    survivor_status: str,
    survivor_area: str,
    survivor_absorbed_by: uuid.UUID | None,
    merged_id: uuid.UUID,
    merged_status: str,
    merged_area: str,
    merged_is_survivor: bool,
) -> None:
    """Refuse merges that would lose track of a person: self, chained or circular merges, tombstones, two
    areas."""
    if survivor_id == merged_id:
        raise RuleViolation("merge_self", "a record cannot be merged into itself", "merged_id")
    for which, status in (("survivor", survivor_status), ("merged record", merged_status)):
        if NominalStatus(status) not in MERGEABLE:
            raise RuleViolation(
                "merge_status", f"the {which} is {status}: only active or archived records are merged"
            )
    if survivor_absorbed_by is not None:
        raise RuleViolation("merge_chained", f"the survivor was itself merged into {survivor_absorbed_by}")
    if merged_is_survivor:
        raise RuleViolation(
            "merge_chained",
            "the record to merge has absorbed another record: unmerge that first, or merge the "
            "other way round",
            "merged_id",
        )
    if survivor_area != merged_area:
        raise RuleViolation(
            "merge_across_areas",
            f"the records are owned by {survivor_area} and {merged_area}: transfer one "
            "to the other's area first",
            "merged_id",
        )


def _current(items: list[StoredItem], today: dt.date) -> list[StoredItem]:
    out = []
    for i in items:
        ends = getattr(i.data, "date_to", None)
        if i.ended_at is None and (ends is None or ends >= today):
            out.append(i)
    return out


def _names(record: Record) -> set[tuple[str, str, dt.date | None]]:
    key = (
        values.fold(record.identity.forenames),
        values.fold(record.identity.surname),
        record.identity.date_of_birth,
    )
    names = {key}
    for item in record.items(Section.ALIASES):
        a = cast(Alias, item.data)  # the aliases section holds aliases only
        names.add((values.fold(a.forenames), values.fold(a.surname), a.date_of_birth))
    return names


def _address(a: Address) -> str:
    return ", ".join([*a.lines, a.town or "", a.postcode or ""]).strip(", ")


def plan(survivor: Record, merged: Record, today: dt.date) -> MergePlan:
    """What merging `merged` into `survivor` does, for the preview and for the merge itself."""
    s_id, m_id = survivor.identity, merged.identity
    aliases = []
    key = (values.fold(m_id.forenames), values.fold(m_id.surname), m_id.date_of_birth)
    if key not in _names(survivor):
        aliases.append(
            Alias(
                forenames=m_id.forenames,
                surname=m_id.surname,
                name_type=NameType.MERGED,
                date_of_birth=m_id.date_of_birth,
            )
        )

    conflicts: list[Conflict] = []

    def differ(field: str, a: object, b: object) -> None:
        if a is not None and b is not None and a != b:
            conflicts.append(Conflict(field, str(getattr(a, "value", a)), str(getattr(b, "value", b))))

    differ("identity.date_of_birth", s_id.date_of_birth, m_id.date_of_birth)
    differ("identity.gender", s_id.gender, m_id.gender)
    differ("identity.ethnicity", s_id.ethnicity, m_id.ethnicity)
    differ("identity.nationality", s_id.nationality, m_id.nationality)
    differ("identity.place_of_birth", s_id.place_of_birth, m_id.place_of_birth)
    for field in ("nominal_type", "managing_unit", "lead_agency", "mappa_category", "mappa_level"):
        differ(f"header.{field}", getattr(survivor.header, field), getattr(merged.header, field))

    def current_of(record: Record, section: Section) -> list[StoredItem]:
        return _current(record.items(section), today)

    s_addr = {
        _address(i.data) for i in current_of(survivor, Section.ADDRESSES) if isinstance(i.data, Address)
    }
    m_addr = {_address(i.data) for i in current_of(merged, Section.ADDRESSES) if isinstance(i.data, Address)}
    if s_addr and m_addr and s_addr != m_addr:
        conflicts.append(
            Conflict("addresses.current", " | ".join(sorted(s_addr)), " | ".join(sorted(m_addr)))
        )
    s_ids: dict[str, set[str]] = {}
    for i in current_of(survivor, Section.IDENTIFIERS):
        ident = cast(Identifier, i.data)  # the identifiers section holds identifiers only
        s_ids.setdefault(ident.kind.value, set()).add(ident.value)
    m_ids: dict[str, set[str]] = {}
    for i in current_of(merged, Section.IDENTIFIERS):
        ident = cast(Identifier, i.data)
        m_ids.setdefault(ident.kind.value, set()).add(ident.value)
    for kind in sorted(s_ids.keys() & m_ids.keys()):
        if s_ids[kind] != m_ids[kind]:
            conflicts.append(
                Conflict(
                    f"identifiers.{kind}", " | ".join(sorted(s_ids[kind])), " | ".join(sorted(m_ids[kind]))
                )
            )
    s_om = {
        i.data.name
        for i in current_of(survivor, Section.OFFENDER_MANAGERS)
        if isinstance(i.data, OffenderManager)
    }
    m_om = {
        i.data.name
        for i in current_of(merged, Section.OFFENDER_MANAGERS)
        if isinstance(i.data, OffenderManager)
    }
    if s_om and m_om and s_om != m_om:
        conflicts.append(
            Conflict("offender_managers.current", " | ".join(sorted(s_om)), " | ".join(sorted(m_om)))
        )
    moved = sum(len(v) for v in merged.sections.values())
    return MergePlan(
        aliases=aliases, conflicts=conflicts, moved_items=moved, moved_entries=len(merged.chronology)
    )
