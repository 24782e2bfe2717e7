"""MAPPA meetings through the API (issue #22): a Level 2 person's meeting scheduled, minuted by the four
pillars, agreed and locked; the record's plan is the one it agreed; its actions reach their owners and are
completed; referral and screening set the level through the level history; minutes restricted to the agencies
present; corrections as new versions; bad input answered with the field and the rule, nothing written."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from register.domain.enums import Agency, Role
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import PERSON, Minter, audit_tags, auth, create

LEVEL_2 = {**PERSON, "mappa_level": 2}
TODAY = dt.date.today()
PILLARS = {
    "supervision": ("Weekly appointments with probation", "probation"),
    "monitoring_and_control": ("Unannounced home visits", "police"),
    "interventions_and_treatment": ("Horizon programme", "probation"),
    "victim_safety_planning": ("Exclusion zone checks around the school", "police"),
}


def _minutes(held_on: dt.date, **overrides: Any) -> dict[str, Any]:
    return {
        "held_on": held_on.isoformat(),
        "agencies_present": ["police", "probation", "children's social care"],
        "risk_discussed": "OASys: high risk of serious harm to children",
        "agreed_level": 2,
        "plan": [{"pillar": p, "description": d, "owner": o} for p, (d, o) in PILLARS.items()],
        "disclosures": [
            {
                "recipient": "partner",
                "what": "convictions for offences against children",
                "why": "she has two children living with her",
                "authorised_by": "DI Ruth Okafor",
            }
        ],
        "actions": [
            {
                "description": "Verify the new address with a home visit",
                "owner_name": "Sam Reed",
                "owner_user_id": "kent.om.reed",
                "owner_agency": "police",
                "due_on": (held_on + dt.timedelta(days=7)).isoformat(),
            },
            {
                "description": "Refer to the Horizon programme",
                "owner_name": "Jo Patel",
                "owner_user_id": "kent.om.patel",
                "owner_agency": "probation",
                "due_on": (TODAY + dt.timedelta(days=30)).isoformat(),
            },
        ],
        **overrides,
    }


def _call(client: TestClient, token: str, method: str, url: str, etag: str, body: Any = None) -> Any:
    r = client.request(method, url, json=body, headers=auth(token, **{"If-Match": etag}))
    return r


def _schedule(client: TestClient, token: str, nid: str, etag: str, held_on: dt.date) -> tuple[str, str]:
    r = _call(client, token, "POST", f"/v1/nominals/{nid}/meetings/scheduled", etag, {
        "held_on": held_on.isoformat(), "level": 2, "chair": "DI Ruth Okafor", "chair_user_id": "kent.chair",
        "agencies_invited": ["police", "probation", "children's social care"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json" and set(r.json()) == {"id", "version"}
    assert r.headers["etag"] == f'"{r.json()["version"]}"'  # what it made and the new version
    return r.json()["id"], r.headers["etag"]


def _overview(client: TestClient, token: str, nid: str) -> dict[str, Any]:
    r = client.get(f"/v1/nominals/{nid}/meetings/overview", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_level_2_meeting_is_scheduled_minuted_agreed_and_its_actions_done(
    client: TestClient, token: Minter, store: Store
) -> None:
    officer = token(user="kent.om.reed")
    nid, etag = create(client, officer, **LEVEL_2)
    held_on = TODAY - dt.timedelta(days=10)
    meeting, etag = _schedule(client, officer, nid, etag, held_on)
    assert _overview(client, officer, nid)["meetings"][0]["meeting"]["status"] == "scheduled"

    r = _call(
        client, officer, "PUT", f"/v1/nominals/{nid}/meetings/{meeting}/minutes", etag, _minutes(held_on)
    )
    assert r.status_code == 200, r.text
    minutes_id, etag = r.json()["id"], r.headers["etag"]
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/{meeting}/minutes/agree", etag)
    assert r.status_code == 200, r.text
    etag = r.headers["etag"]

    view = _overview(client, officer, nid)
    agreed = view["meetings"][0]
    assert agreed["meeting"]["status"] == "agreed"
    assert [(x["id"], x["data"]["status"], x["data"]["version"]) for x in agreed["minutes"]] == [
        (minutes_id, "agreed", 1)
    ]
    # The record's plan is the one the meeting agreed, naming the meeting, with each pillar's agency.
    plan = view["plans"][0]["data"]
    assert plan["meeting_id"] == meeting
    assert {a["pillar"]: (a["description"], a["owner"]) for a in plan["actions"]} == PILLARS
    plans = client.get(f"/v1/nominals/{nid}/risk_plans", headers=auth(officer)).json()["items"]
    assert [p["data"]["meeting_id"] for p in plans] == [meeting]
    # The disclosure is a disclosure item and a disclosure in the audit log.
    disclosures = client.get(f"/v1/nominals/{nid}/disclosures", headers=auth(officer)).json()["items"]
    assert [(d["data"]["recipient"], d["data"]["decided_by"]) for d in disclosures] == [
        ("partner", "DI Ruth Okafor")
    ]
    with store.session_factory() as s:
        disclosed = s.execute(
            select(m.AuditEvent.action, m.AuditEvent.item_id).where(
                m.AuditEvent.tag == "meeting:disclosure:decide"
            )
        ).all()
    assert [(a, str(i)) for a, i in disclosed] == [("disclosure", disclosures[0]["id"])]
    tags = [t for t, o, _ in audit_tags(store, nid) if o == "success"]
    expected = ("meeting:meeting:schedule", "meeting:minutes:save", "meeting:minutes:agree")
    expected += ("nominal:risk_plans:add", "nominal:disclosures:add", "nominal:chronology:append")
    assert set(expected) <= set(tags)

    # Agreed minutes are locked.
    r = _call(
        client, officer, "PUT", f"/v1/nominals/{nid}/meetings/{meeting}/minutes", etag, _minutes(held_on)
    )
    assert r.status_code == 409 and r.json()["rule"] == "minutes_locked"

    # The actions reach their owners; the first is overdue.
    mine = client.get("/v1/meetings/actions/mine", headers=auth(officer)).json()
    assert [(a["action"]["description"], a["overdue"]) for a in mine] == [
        ("Verify the new address with a home visit", True)
    ]
    probation = token(user="kent.om.patel", agency=Agency.PROBATION)
    assert [
        a["action"]["owner_name"]
        for a in client.get("/v1/meetings/actions/mine", headers=auth(probation)).json()
    ] == ["Jo Patel"]
    desk = client.get("/v1/meetings", headers=auth(token(role=Role.SUPERVISOR))).json()
    assert [a["action_id"] for a in desk["overdue_actions"]] == [mine[0]["action_id"]]
    assert all(r["nominal_id"] != nid for r in desk["reviews"])  # reviewed 10 days ago: next in 16 weeks

    # Completing an action records the evidence and a chronology entry.
    action = mine[0]["action_id"]
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/actions/{action}/complete", etag,
              {"evidence": "Visited: address verified", "completed_on": TODAY.isoformat()})  # fmt: skip
    assert r.status_code == 200, r.text
    assert client.get("/v1/meetings/actions/mine", headers=auth(officer)).json() == []
    done = [a for a in _overview(client, officer, nid)["meetings"][0]["actions"] if a["id"] == action][0]
    assert (done["data"]["status"], done["data"]["evidence"]) == ("completed", "Visited: address verified")
    chronology = client.get(f"/v1/nominals/{nid}/chronology", headers=auth(officer)).json()["entries"]
    summaries = [e["data"]["summary"] for e in chronology]
    assert "MAPPA action completed: Verify the new address with a home visit" in summaries
    assert any(s.startswith("MAPPA meeting: minutes agreed") for s in summaries)
    assert ("meeting:action:complete", "success", None) in audit_tags(store, nid)


@pytest.mark.sqlite_only  # the journey above runs on both engines
def test_a_correction_is_a_new_version_and_the_plan_follows_it(client: TestClient, token: Minter) -> None:
    officer = token()
    nid, etag = create(client, officer, **LEVEL_2)
    meeting, etag = _schedule(client, officer, nid, etag, TODAY)
    base = f"/v1/nominals/{nid}/meetings/{meeting}/minutes"
    etag = _call(client, officer, "PUT", base, etag, _minutes(TODAY)).headers["etag"]
    etag = _call(client, officer, "POST", f"{base}/agree", etag).headers["etag"]
    r = _call(client, officer, "POST", f"{base}/corrections", etag)
    assert r.status_code == 201, r.text
    changed = _minutes(TODAY, plan_summary="Corrected: curfew added")
    changed["plan"].append(
        {"pillar": "monitoring_and_control", "description": "Curfew 9pm", "owner": "police"}
    )
    etag = _call(client, officer, "PUT", base, r.headers["etag"], changed).headers["etag"]
    assert _call(client, officer, "POST", f"{base}/agree", etag).status_code == 200
    view = _overview(client, officer, nid)
    assert [(x["data"]["version"], x["data"]["status"]) for x in view["meetings"][0]["minutes"]] == [
        (1, "agreed"), (2, "agreed")
    ]  # fmt: skip
    assert [(p["data"]["version"], p["data"]["meeting_id"]) for p in view["plans"]] == [
        (2, meeting),
        (1, meeting),
    ]
    assert "Curfew 9pm" in [a["description"] for a in view["plans"][0]["data"]["actions"]]
    assert len(view["meetings"][0]["actions"]) == 2  # the correction set no new action


@pytest.mark.sqlite_only  # the journey above runs on both engines
def test_a_referral_is_screened_and_the_agreed_level_goes_through_the_level_history(
    client: TestClient, token: Minter, store: Store
) -> None:
    officer = token()
    nid, etag = create(client, officer)  # Level 1
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/referrals", etag, {
        "referred_on": TODAY.isoformat(), "referred_by": "Sam Reed", "referrer_agency": "police",
        "reason": "New partner with children", "level_sought": 2,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    referral, etag = r.json()["id"], r.headers["etag"]
    # Not yet screened: it cannot be scheduled.
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/scheduled", etag, {
        "held_on": TODAY.isoformat(), "level": 2, "chair": "DI Okafor", "referral_id": referral})  # fmt: skip
    assert r.status_code == 409 and r.json()["rule"] == "referral_not_accepted"
    decision = {"accepted": True, "decided_on": TODAY.isoformat(), "reason": "meets the criteria"}
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/{referral}/screening", etag, decision)
    assert r.status_code == 200, r.text
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/scheduled", r.headers["etag"], {
        "held_on": TODAY.isoformat(), "level": 2, "chair": "DI Okafor", "referral_id": referral})  # fmt: skip
    assert r.status_code == 201 and r.json()["id"] == referral
    base = f"/v1/nominals/{nid}/meetings/{referral}/minutes"
    etag = _call(client, officer, "PUT", base, r.headers["etag"], _minutes(TODAY)).headers["etag"]
    assert _call(client, officer, "POST", f"{base}/agree", etag).status_code == 200
    record = client.get(f"/v1/nominals/{nid}", headers=auth(officer)).json()
    assert record["header"]["mappa_level"] == 2
    levels = client.get(f"/v1/nominals/{nid}/mappa_levels", headers=auth(officer)).json()["items"]
    assert [(x["data"]["level"], x["data"]["effective_from"]) for x in levels] == [(2, TODAY.isoformat())]
    meeting = _overview(client, officer, nid)["meetings"][0]["meeting"]
    assert meeting["referral"]["accepted"] is True and meeting["status"] == "agreed"
    assert ("nominal:mappa_levels:add", "success", None) in audit_tags(store, nid)
    # The annual statistics read the level the meeting set (issue #22, point 5): in the year in progress the
    # person is managed at Level 2.
    year = TODAY.year + 1 if dt.date(TODAY.year, 3, 31) < TODAY else TODAY.year
    figures = client.get("/v1/statistics", params={"year": year}, headers=auth(token(Role.SUPERVISOR)))
    assert figures.status_code == 200, figures.text
    assert figures.json()["tables"]["level_2_3_during_year"] == {str(PERSON["mappa_category"]): {"2": 1}}


@pytest.mark.sqlite_only  # the journey above runs on both engines
def test_minutes_restricted_to_the_agencies_present_are_absent_for_the_others(
    client: TestClient, token: Minter
) -> None:
    officer = token()
    nid, etag = create(client, officer, **LEVEL_2)
    meeting, etag = _schedule(client, officer, nid, etag, TODAY)
    body = _minutes(TODAY, agencies_present=["police", "probation"], restricted=True)
    r = _call(client, officer, "PUT", f"/v1/nominals/{nid}/meetings/{meeting}/minutes", etag, body)
    assert r.status_code == 200, r.text
    prison = token(agency=Agency.PRISON)
    seen = client.get(f"/v1/nominals/{nid}/meetings/overview", headers=auth(prison))
    assert seen.status_code == 200
    assert seen.json()["meetings"][0]["minutes"] == [] and "OASys" not in seen.text
    assert len(_overview(client, token(agency=Agency.PROBATION), nid)["meetings"][0]["minutes"]) == 1
    # An agency not present cannot restrict the minutes to those present (it would lose them itself).
    r = _call(
        client, prison, "PUT", f"/v1/nominals/{nid}/meetings/{meeting}/minutes", r.headers["etag"], body
    )
    assert r.status_code in (403, 409)


@pytest.mark.sqlite_only  # the journey above runs on both engines
def test_bad_input_names_the_field_and_the_rule_and_writes_nothing(
    client: TestClient, token: Minter, store: Store
) -> None:
    officer = token()
    nid, etag = create(client, officer, **LEVEL_2)
    meeting, etag = _schedule(client, officer, nid, etag, TODAY)
    url = f"/v1/nominals/{nid}/meetings/{meeting}/minutes"
    r = _call(client, officer, "PUT", url, etag,
              _minutes(TODAY, review_on=(TODAY - dt.timedelta(days=1)).isoformat()))  # fmt: skip
    assert r.status_code == 422, r.text
    assert "review_on" in json.dumps(r.json()["errors"]) and r.headers["content-type"].startswith(
        "application/problem+json"
    )
    # Agreeing without a draft, or a draft without a plan, is refused by the rule.
    r = _call(client, officer, "POST", f"{url}/agree", etag)
    assert r.status_code == 409 and r.json()["rule"] == "no_draft_minutes"
    etag = _call(client, officer, "PUT", url, etag, _minutes(TODAY, plan=[])).headers["etag"]
    r = _call(client, officer, "POST", f"{url}/agree", etag)
    assert r.status_code == 409 and r.json()["rule"] == "plan_required"
    assert r.json()["errors"][0]["field"] == "plan"
    view = _overview(client, officer, nid)
    assert view["plans"] == [] and view["meetings"][0]["meeting"]["status"] == "scheduled"
    r = _call(client, officer, "POST", f"/v1/nominals/{nid}/meetings/{uuid.uuid4()}/minutes/agree", etag)
    assert r.status_code == 404 and r.json()["rule"] == "meeting_not_found"
    assert ("meeting:minutes:agree", "denied", None) in audit_tags(store, nid)
