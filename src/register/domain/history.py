"""Effective-dated history of what the annual statistics count: pure rules, no I/O (docs/statistics.md).

A record's area, MAPPA category, level, status and custody each have a history. A change known by a date (a
level change from a date, a prison address from a date, a notification revoked on a date, a death) takes
effect at the start of that day in UK local time (Europe/London); a change made by an act in the register
(a transfer accepted, an archive) takes effect when it was made."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

ACTIVE = "active"
DIED = "died"
NOTIFICATION_ENDED = "notification_ended"
REVOKED = "revoked"
ARCHIVED = "archived"
COMMUNITY = "community"
IN_CUSTODY = "in_custody"
DETAINED_IN_HOSPITAL = "detained_in_hospital"


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in UK local time, in UTC (23:00 the day before during BST)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


def local_day(at: dt.datetime) -> dt.date:
    """The UK calendar day an instant falls on."""
    return at.astimezone(LONDON).date()


@dataclass(frozen=True)
class Change:
    """From `effective_at`, the values it sets (None: unchanged by this row)."""

    effective_at: dt.datetime
    area: str | None = None
    managing_unit: str | None = None
    category: int | None = None
    level: int | None = None
    status: str | None = None
    custody: str | None = None


# The chronology's kinds that only narrate: no annual figure reads their entries, and appending one writes
# nothing a figure reads (decision 91). The figures read breaches and recalls (statistics.service.
# _latest_versions); breaches, recalls and releases move the custody history (store.history.from_entry); a
# notification entry re-derives the notification dates (nominals.service.refresh_derived); a transfer or an
# archive entry is written by the use cases that move the record's area or status. Listed, not inferred, so
# that a kind added later moves the figures until someone shows it cannot.
NARRATIVE_KINDS = frozenset(
    {
        "contact",
        "home_visit",
        "arrest",
        "charge",
        "conviction",
        "caution",
        "address_change",
        "level_change",
        "meeting",
        "disclosure",
        "risk_assessment",
        "intelligence",
        "other",
    }
)


def entry_moves_figures(kind: str, corrects: bool) -> bool:
    """Whether appending a chronology entry can move any annual figure or the people behind one (decision 91):
    a correction of an earlier entry (an amendment or a withdrawal) always may; a new entry may unless its
    kind only narrates (`NARRATIVE_KINDS`: a contact, a home visit, a meeting, intelligence)."""
    return corrects or kind not in NARRATIVE_KINDS


# The record's sections no annual figure reads, and whose items write nothing a figure reads (decision 91).
# The figures read orders (statistics.service._orders) and the history, which levels, custodial addresses and
# ended notification requirements write (`from_item` below); offences, orders and addresses re-derive the
# notification dates (nominals.service.NOTIFICATION_INPUTS), which end a person's history on the register.
# Listed, not inferred: a section added later moves the figures until someone shows it cannot.
NARRATIVE_SECTIONS = frozenset(
    {
        "aliases",
        "identifiers",
        "descriptions",
        "marks",
        "photographs",
        "contacts",
        "vehicles",
        "employment",
        "associates",
        "offender_managers",
        "meetings",
        "meeting_minutes",
        "meeting_actions",
        "risk_assessments",
        "risk_plans",
        "intelligence",
        "disclosures",
        "victim_safety",
    }
)


def item_moves_figures(section: str) -> bool:
    """Whether adding, correcting or ending an item of `section` can move any annual figure (decision 91)."""
    return section not in NARRATIVE_SECTIONS


CUSTODY_ADDRESS = {"prison": IN_CUSTODY, "hospital": DETAINED_IN_HOSPITAL}
ENDED_NOTIFICATION = {"revoked": REVOKED, "expired": NOTIFICATION_ENDED, "discharged": NOTIFICATION_ENDED}


def from_item(
    section: str,
    kind: str | None,
    status: str | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    category: int | None,
    level: int | None,
) -> list[Change]:
    """The history an item in force says (its plain columns): a level change; a spell in prison or hospital
    (detained from its first day; living in the community again from the day it ends: on release day the
    person sleeps outside); a notification requirement revoked or ended on its end date."""
    if section == "mappa_levels" and starts_on is not None and level is not None:
        return [Change(start_of_day(starts_on), category=category, level=level)]
    if section == "addresses" and kind in CUSTODY_ADDRESS and starts_on is not None:
        changes = [Change(start_of_day(starts_on), custody=CUSTODY_ADDRESS[kind])]
        if ends_on is not None:
            changes.append(Change(start_of_day(ends_on), custody=COMMUNITY))
        return changes
    if (
        section == "orders"
        and kind == "notification_requirement"
        and status in ENDED_NOTIFICATION
        and ends_on is not None
    ):
        return [Change(start_of_day(ends_on), status=ENDED_NOTIFICATION[status])]
    return []
