"""Records for tests, built from plain data through the domain's own validation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.record import NewNominal, Section
from register.domain.rules import parse_item
from register.nominals import service
from register.store.uow import UnitOfWork

OFFICER = Principal("kent.om1", Agency.POLICE, Area.KENT, frozenset({Role.OFFENDER_MANAGER}), "DC Test")
SUPERVISOR = Principal("kent.sup1", Agency.POLICE, Area.KENT, frozenset({Role.SUPERVISOR}), "DS Test")


def new_nominal(**overrides: Any) -> NewNominal:
    data: dict[str, Any] = {
        "nominal_type": "rso",
        "area": "kent",
        "managing_unit": "Unit A",
        "lead_agency": "police",
        "mappa_category": 1,
        "mappa_level": 1,
        "identity": {
            "forenames": "Quentin",
            "surname": "Zabrowski",
            "date_of_birth": "1971-02-03",
            "gender": "male",
        },
    }
    data.update(overrides)
    return NewNominal.model_validate(data)


def create(uow: UnitOfWork, actor: Principal = OFFICER, **overrides: Any) -> uuid.UUID:
    return service.create_nominal(uow, actor, new_nominal(**overrides))


def add(
    uow: UnitOfWork,
    nominal_id: uuid.UUID,
    section: Section,
    payload: dict[str, Any],
    version: int,
    actor: Principal = OFFICER,
) -> tuple[uuid.UUID, int]:
    return service.add_item(
        uow, actor, nominal_id, parse_item(section, payload, dt.date(2026, 1, 1)), expected_version=version
    )
