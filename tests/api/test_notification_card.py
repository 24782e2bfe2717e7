"""A record's notification dates and their reasons (issue #18 point 13), on the overview's card and in the
API, only for a user whose agency may read the offences, orders, addresses and chronology the dates come
from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from register.config import Settings
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.record import Section
from register.store.store import Store
from register.web.sessions import COOKIE
from tests.api.conftest import Minter, auth
from tests.api.helpers import section_for_police_only
from tests.factories import OFFICER, add, create

PROBATION = Principal("kent.po1", Agency.PROBATION, Area.KENT, frozenset({Role.OFFENDER_MANAGER}), "PO Test")
OFFENCE = {
    "offence": "Sexual assault",
    "conviction_date": "2019-06-03",
    "sexual": True,
    "disposal": {"kind": "referral_order"},
}


@pytest.fixture
def police_only_offences(store: Store, settings: Settings) -> Iterator[TestClient]:
    """The app under a policy where only the police may read offences (as some forces might choose)."""
    with section_for_police_only(store, settings, "offences") as c:
        yield c


def overview(client: TestClient, principal: Principal, nominal_id: object) -> str:
    session = client.app.state.sessions.create()  # type: ignore[attr-defined]
    session.principal, session.issuer = principal, "development"
    client.cookies.set(COOKIE, session.id)
    r = client.get(f"/records/{nominal_id}", follow_redirects=False)
    assert r.status_code == 200, r.text[:500]
    return r.text


def test_the_dates_are_for_readers_of_the_offences_only(
    store: Store, police_only_offences: TestClient, token: Minter
) -> None:
    with store.unit_of_work() as uow:
        nominal_id = create(uow, identity={"forenames": "A", "surname": "B", "date_of_birth": "2003-02-01"})
        add(uow, nominal_id, Section.OFFENCES, OFFENCE, 1)
    police = overview(police_only_offences, OFFICER, nominal_id)
    assert 'data-qa="card-notification"' in police
    # a referral order at 16: "any other description", 5 years halved (s.82(2))
    assert "Law: SOA 2003 s.82(1) table; s.82(2)" in police and "3 December 2021" in police
    assert "Date of birth 2003-02-01: aged 16 on 2019-06-03 (Family Law Reform Act 1969 s.9)" in police
    probation = overview(police_only_offences, PROBATION, nominal_id)
    assert 'data-qa="card-notification"' not in probation and "s.82" not in probation
    assert "Notification requirement" not in probation
    # the API says the same: reasons for the police, no notification for probation (not a false "not subject")
    police_api = police_only_offences.get(f"/v1/nominals/{nominal_id}", headers=auth(token())).json()
    assert police_api["notification"]["ends_on"] == "2021-12-03"
    assert police_api["notification"]["reasons"]["ends_on"]["statute"] == "SOA 2003 s.82(1) table; s.82(2)"
    probation_api = police_only_offences.get(
        f"/v1/nominals/{nominal_id}", headers=auth(token(agency="probation"))
    ).json()
    assert probation_api["notification"] is None and "offences" not in probation_api["sections"]
