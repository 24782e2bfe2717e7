"""The API on the store fixture (SQLite and PostgreSQL), with tokens signed by the development key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from register.access.tokens import ensure_dev_signing_key, mint
from register.api.app import build_app
from register.bootstrap import Store
from register.config import Settings
from register.domain.enums import Agency, Area, Role

Minter = Callable[..., str]


@pytest.fixture
def app(store: Store, settings: Settings):  # type: ignore[no-untyped-def]
    return build_app(settings, store)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def token(settings: Settings) -> Minter:
    key = ensure_dev_signing_key(settings.resolved_key_dir)

    def make(role: Role | str = Role.OFFENDER_MANAGER, agency: Agency | str = Agency.POLICE, area: Area | str = Area.KENT,
             user: str | None = None, **overrides: Any) -> str:
        role, agency, area = Role(role), Agency(agency), Area(area)
        return mint(key, user=user or f"{area.value}.{role.value}.{agency.value}", agency=agency, area=area, roles=[role],
                    issuer=settings.token_issuer, audience=settings.token_audience, **overrides)

    return make


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}
