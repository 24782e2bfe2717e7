"""Rate limits (issue #17, F8): per user and per source address, from settings, 429 with Retry-After."""

from __future__ import annotations

import pydantic
import pytest
from fastapi.testclient import TestClient

from register.api.app import build_app
from register.config import Settings
from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import Minter, auth

pytestmark = pytest.mark.sqlite_only  # counted in memory, not in the database


def test_each_user_has_a_limit_of_their_own(settings: Settings, store: Store, token: Minter) -> None:
    limited = settings.model_copy(update={"rate_limit_per_user": "3/minute", "rate_limit_per_address": ""})
    with TestClient(build_app(limited, store)) as client:
        om, other = auth(token()), auth(token(Role.SUPERVISOR))
        assert [client.get("/v1/me", headers=om).status_code for _ in range(3)] == [200, 200, 200]
        r = client.get("/v1/me", headers=om)
        assert r.status_code == 429 and r.json()["rule"] == "rate_limited_user", r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert (
            r.headers["content-type"].startswith("application/problem+json")
            and r.headers["x-content-type-options"] == "nosniff"
        )
        assert client.get("/v1/me", headers=other).status_code == 200  # another user is not held up
        assert client.get("/health").status_code == 200


def test_each_source_address_has_a_limit_authenticated_or_not(
    settings: Settings, store: Store, token: Minter
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_user": "", "rate_limit_per_address": "2/minute"})
    with TestClient(build_app(limited, store)) as client:
        assert client.get("/v1/me").status_code == 401
        assert client.get("/v1/me", headers=auth(token())).status_code == 200
        r = client.get("/v1/me", headers=auth(token(Role.SUPERVISOR)))
        assert (
            r.status_code == 429
            and r.json()["rule"] == "rate_limited_address"
            and int(r.headers["retry-after"]) >= 1
        ), r.text
        assert (
            client.get("/health").status_code == 200 and client.get("/ready").status_code == 200
        )  # probes are never limited
    with TestClient(build_app(limited, store), client=("10.0.0.2", 50000)) as elsewhere:
        assert elsewhere.get("/v1/me", headers=auth(token())).status_code == 200


def test_limits_are_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTER_RATE_LIMIT_PER_USER", "100/minute;10/second")
    monkeypatch.setenv("REGISTER_RATE_LIMIT_PER_ADDRESS", "")
    s = Settings()
    assert s.rate_limit_per_user == "100/minute;10/second" and s.rate_limit_per_address == ""
    assert Settings.model_fields["rate_limit_per_user"].default == "600/minute"
    monkeypatch.setenv("REGISTER_RATE_LIMIT_PER_USER", "lots")
    with pytest.raises(pydantic.ValidationError):
        Settings()
