"""Request examples for the API documentation: one realistic payload per section (examples.json, invented
people like the demo register's; tests/unit/test_examples.py checks that every one is valid)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..domain.record import Section

_EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "examples.json").read_text())


def section_examples() -> dict[Section, dict[str, Any]]:
    return {Section(section): payload for section, payload in _EXAMPLES["sections"].items()}


NEW_NOMINAL: dict[str, Any] = _EXAMPLES["new_nominal"]
CHRONOLOGY_ENTRY: dict[str, Any] = {
    "occurred_at": "2025-09-12T14:30:00Z",
    "kind": "home_visit",
    "summary": "Home visit: address verified",
}
AMENDMENT: dict[str, Any] = {
    "occurred_at": "2025-09-12T14:30:00Z",
    "kind": "amendment",
    "summary": "Visit was at 15:30, not 14:30",
    "amends": "6f1c2a8e-0d1b-4c55-9a55-0b7d2a51e9a1",
}


EXAMPLE_ID = "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869"
EXAMPLE_ITEM_ID = "40e1031d-5103-45e4-9e6d-b674860f7860"


def _item(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": EXAMPLE_ITEM_ID,
        "recorded_by": "kent.offender_manager",
        "recorded_agency": "police",
        "recorded_at": "2025-09-12T14:31:07Z",
        "updated_at": "2025-09-12T14:31:07Z",
        "ended_at": None,
        "ended_reason": None,
        "data": data,
    }


def section_response(section: Section) -> dict[str, Any]:
    from ..domain.record import SECTION_MODELS

    data = SECTION_MODELS[section].model_validate(section_examples()[section]).model_dump(mode="json")
    return {"nominal_id": EXAMPLE_ID, "version": 24, "section": section.value, "items": [_item(data)]}


CHANGED = {"id": EXAMPLE_ITEM_ID, "version": 25}
IDENTITY = {"nominal_id": EXAMPLE_ID, "version": 24, "identity": NEW_NOMINAL["identity"]}
CHRONOLOGY = {
    "nominal_id": EXAMPLE_ID,
    "version": 24,
    "entries": [
        {
            "id": EXAMPLE_ITEM_ID,
            "recorded_by": "kent.offender_manager",
            "recorded_agency": "police",
            "recorded_at": "2025-09-12T15:02:11Z",
            "data": {**CHRONOLOGY_ENTRY, "details": None, "amends": None},
        }
    ],
}
SUMMARY = {
    "id": EXAMPLE_ID,
    "version": 24,
    "status": "active",
    "nominal_type": "rso",
    "area": "kent",
    "mappa_category": 1,
    "mappa_level": 1,
    "restricted": False,
    "managing_unit": "Maidstone MOSOVO",
    "forenames": "Daniel James",
    "surname": "Hartley",
    "date_of_birth": "1984-03-17",
    "updated_at": "2025-09-12T15:02:11Z",
}
PAGE = {"items": [SUMMARY], "total": 1, "next": None}
RECORD = {
    "id": EXAMPLE_ID,
    "version": 24,
    "status": "active",
    "header": {k: v for k, v in NEW_NOMINAL.items() if k != "identity"} | {"restricted": False},
    "identity": NEW_NOMINAL["identity"],
    "merged_into": None,
    "created_at": "2025-01-10T09:00:00Z",
    "updated_at": "2025-09-12T15:02:11Z",
    "sections": {"marks": section_response(Section.MARKS)["items"]},
    "chronology": CHRONOLOGY["entries"],
}
