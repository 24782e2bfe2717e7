"""Request examples for the API documentation: one realistic payload per section, taken from the demo register."""

from __future__ import annotations

from typing import Any

from ..demo import PEOPLE
from ..domain.record import Section


def section_examples() -> dict[Section, dict[str, Any]]:
    examples: dict[Section, dict[str, Any]] = {}
    for person in PEOPLE:
        for section, payload in person["items"]:
            examples.setdefault(section, payload)
    return examples


NEW_NOMINAL: dict[str, Any] = {**PEOPLE[0]["header"], "identity": PEOPLE[0]["identity"]}
CHRONOLOGY_ENTRY: dict[str, Any] = {"occurred_at": "2025-09-12T14:30:00Z", "kind": "home_visit", "summary": "Home visit: address verified"}
AMENDMENT: dict[str, Any] = {"occurred_at": "2025-09-12T14:30:00Z", "kind": "amendment", "summary": "Visit was at 15:30, not 14:30",
                             "amends": "6f1c2a8e-0d1b-4c55-9a55-0b7d2a51e9a1"}
