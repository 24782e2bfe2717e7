"""Rules that span more than one item of a record. Pure functions: the services feed them what they read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .enums import NominalStatus
from .errors import RuleViolation
from .record import CATEGORY_FOR_TYPE, SECTION_MODELS, Header, LevelChange, Section, SectionItem

READ_ONLY_STATUSES = {
    NominalStatus.ARCHIVED: "archived",
    NominalStatus.MERGED: "merged into another record",
    NominalStatus.ERASED: "erased under the retention schedule",
}


def ensure_editable(status: NominalStatus) -> None:
    if status in READ_ONLY_STATUSES:
        raise RuleViolation(
            "record_read_only", f"the record is {READ_ONLY_STATUSES[status]} and cannot be changed"
        )


def parse_item(section: Section, payload: dict[str, Any], today: dt.date | None = None) -> SectionItem:
    """Validate a section item from plain data (raises pydantic.ValidationError naming field and rule)."""
    context = {"today": today} if today else None
    return SECTION_MODELS[section].model_validate(payload, context=context)


def check_level_change(header: Header, change: LevelChange) -> None:
    expected = CATEGORY_FOR_TYPE[header.nominal_type]
    if expected is None or change.category != expected:
        raise RuleViolation(
            "category_matches_type",
            f"a {header.nominal_type} nominal cannot be managed under category {int(change.category)}",
            "category",
        )


def current_level(header: Header, history: list[LevelChange], today: dt.date) -> Header:
    """The header as the level history says it is today: the latest change already in effect wins."""
    in_effect = [c for c in history if c.effective_from <= today]
    if not in_effect:
        return header
    latest = max(in_effect, key=lambda c: c.effective_from)
    return header.model_copy(update={"mappa_category": latest.category, "mappa_level": latest.level})
