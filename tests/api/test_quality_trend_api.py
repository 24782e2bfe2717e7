"""The quality API's dashboard carries the trend over the last runs (the web dashboard's chart and table), of
what the caller's agency may see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from register.domain.enums import Role
from tests.api.helpers import Minter, auth, create


def test_the_dashboard_has_the_trend_of_the_last_runs_oldest_first(client: TestClient, token: Minter) -> None:
    om, supervisor = token(), token(Role.SUPERVISOR)
    create(client, om)
    assert client.post("/v1/quality/runs", headers=auth(supervisor)).status_code == 201
    create(client, om)
    create(client, om)
    board = client.post("/v1/quality/runs", headers=auth(supervisor)).json()
    trend = board["trend"]
    assert [p["id"] for p in trend][-1] == board["run"]["id"] and len(trend) == 2
    assert [p["counts"]["MISSING-PHOTO"] for p in trend] == [1, 3]
    assert all(p["total"] == sum(p["counts"].values()) for p in trend)
    assert client.get("/v1/quality/dashboard", headers=auth(om)).json()["trend"] == trend
