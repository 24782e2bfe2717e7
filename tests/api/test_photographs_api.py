"""Photographs through the API, on both engines: uploads judged by content and re-encoded without metadata,
stored sealed, every view audited, and the photographs section's policy (areas, purposes, restricted stubs,
agencies)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update

from register.config import Settings
from register.domain.actors import SystemActor
from register.domain.enums import Role
from register.keys import service as keys_service
from register.store import models as m
from register.store.store import Store
from tests.api.conftest import Minter, auth
from tests.api.helpers import section_for_police_only, version
from tests.api.test_records_api import create
from tests.unit.test_imaging import GPS_IFD, forged_png, jpeg, png

MiB = 1024 * 1024


def upload(
    client: TestClient,
    token: str,
    nid: str,
    etag: str,
    data: bytes,
    *,
    name: str = "photo.jpg",
    declared: str = "image/jpeg",
    **fields: str,
) -> Any:
    return client.post(
        f"/v1/nominals/{nid}/photographs",
        files={"file": (name, data, declared)},
        data=fields,
        headers=auth(token, **{"If-Match": etag}),
    )


def uploaded(
    client: TestClient, token: str, nid: str, etag: str, data: bytes, **fields: str
) -> tuple[str, str]:
    r = upload(client, token, nid, etag, data, **fields)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["etag"]


def events(store: Store, nid: str) -> list[tuple[str, str, str | None, str | None]]:
    """(tag, action, purpose, details) of the record's audit events, in order."""
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.tag, m.AuditEvent.action, m.AuditEvent.purpose, m.AuditEvent.details)
            .where(m.AuditEvent.nominal_id == uuid.UUID(nid))
            .order_by(m.AuditEvent.seq)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def photo_rows(store: Store) -> list[Any]:
    with store.session_factory() as s:
        return list(s.execute(select(m.Photo)).scalars())


def version_of(client: TestClient, token: str, nid: str) -> int:
    return version(client.get(f"/v1/nominals/{nid}", headers=auth(token)).headers["etag"])


# ------------------------------------------------------------------ uploading


def test_a_jpeg_and_a_png_are_uploaded_listed_and_returned(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om)
    first, etag = uploaded(
        client, om, nid, etag, jpeg((600, 800)), taken_on="2024-02-01", description="custody"
    )
    r = upload(client, om, nid, etag, png((300, 300), mode="RGBA"), name="photo.png", declared="image/png")
    assert r.status_code == 201 and r.headers["etag"] == '"3"'
    assert r.headers["content-type"] == "application/json" and r.json().keys() == {"id", "version"}
    assert r.headers["location"] == f"/v1/nominals/{nid}/photographs/{r.json()['id']}"
    second = r.json()["id"]

    listing = client.get(f"/v1/nominals/{nid}/photographs", headers=auth(om))
    assert listing.status_code == 200 and version(listing.headers["etag"]) == 3
    body = listing.json()
    assert [p["id"] for p in body["photographs"]] == [second, first]  # newest first
    assert body["current"] == second
    newest, oldest = body["photographs"]
    assert newest["status"] == "current" and oldest["status"] == "superseded"
    assert oldest["taken_on"] == "2024-02-01" and oldest["description"] == "custody"
    assert oldest["uploaded_by"] == "kent.offender_manager.police" and oldest["uploaded_agency"] == "police"
    assert oldest["full"]["content_type"] == "image/jpeg" and (
        oldest["full"]["width"],
        oldest["full"]["height"],
    ) == (
        600,
        800,
    )
    assert newest["full"]["content_type"] == "image/png" and newest["thumbnail"]["width"] == 120

    full = client.get(f"/v1/nominals/{nid}/photographs/{first}", headers=auth(om))
    assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.headers["cache-control"] == "no-store" and full.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(full.content)).size == (600, 800)
    thumb = client.get(oldest["thumbnail"]["href"], headers=auth(om))
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (90, 120)
    current = client.get(f"/v1/nominals/{nid}/photographs/current?variant=thumbnail", headers=auth(om))
    assert current.headers["content-type"] == "image/png" and Image.open(
        io.BytesIO(current.content)
    ).size == (
        120,
        120,
    )

    # the photographs are the section's items: the whole record shows them, pointing at the stored images
    record = client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()
    items = record["sections"]["photographs"]
    assert {i["id"] for i in items} == {first, second}
    assert {i["data"]["reference"] for i in items} == {f"photo:{first}", f"photo:{second}"}
    assert len(photo_rows(store)) == 4  # two variants each


def test_the_content_decides_never_the_name_or_declared_type(client: TestClient, token: Minter) -> None:
    om = token()
    nid, etag = create(client, om)
    photo, etag = uploaded(client, om, nid, etag, png(), name="holiday.jpg", declared="image/jpeg")
    r = client.get(f"/v1/nominals/{nid}/photographs/{photo}", headers=auth(om))
    assert r.headers["content-type"] == "image/png" and r.content.startswith(b"\x89PNG")

    r = upload(
        client, om, nid, etag, b"#!/bin/sh\necho not an image\n", name="face.png", declared="image/png"
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["rule"] == "photo_format"
    assert r.json()["errors"] == [{"field": "file", "rule": "photo_format", "message": r.json()["detail"]}]


def test_exif_and_its_gps_position_are_not_stored(client: TestClient, token: Minter) -> None:
    om = token()
    nid, etag = create(client, om)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 16.0, 30.0), 3: "E", 4: (0.0, 31.0, 0.0)}
    photo, _ = uploaded(client, om, nid, etag, jpeg((100, 80), exif=exif))
    for variant in ("full", "thumbnail"):
        stored = client.get(
            f"/v1/nominals/{nid}/photographs/{photo}?variant={variant}", headers=auth(om)
        ).content
        image = Image.open(io.BytesIO(stored))
        assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
        assert b"PhoneMaker" not in stored and b"Exif" not in stored


def test_bad_uploads_are_refused_naming_the_rule_and_change_nothing(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om)
    too_large = b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * MiB)  # over 5 MiB, within the route's body allowance
    cases = {
        "photo_too_large": upload(client, om, nid, etag, too_large),
        "photo_too_many_pixels": upload(client, om, nid, etag, forged_png(100_000, 100_000)),
        "photo_unreadable": upload(client, om, nid, etag, jpeg()[:200]),
        "photo_empty": upload(client, om, nid, etag, b""),
        "photo_taken_in_future": upload(client, om, nid, etag, jpeg(), taken_on="2999-01-01"),
        "date_format": upload(client, om, nid, etag, jpeg(), taken_on="yesterday"),
    }
    for rule, r in cases.items():
        assert r.status_code == 422, (rule, r.text)
        assert r.json()["rule"] == rule and r.json()["errors"][0]["rule"] == rule
    far_too_large = upload(client, om, nid, etag, b"\xff\xd8\xff" + b"\x00" * (8 * MiB))
    assert far_too_large.status_code == 413 and far_too_large.json()["rule"] == "body_too_large"
    not_multipart = client.post(
        f"/v1/nominals/{nid}/photographs", json={"file": "x"}, headers=auth(om, **{"If-Match": etag})
    )
    assert not_multipart.status_code == 415 and not_multipart.json()["rule"] == "multipart_required"
    no_file = client.post(
        f"/v1/nominals/{nid}/photographs", data={"taken_on": "2025-01-01"}, files={"other": ("a", b"b")},
        headers=auth(om, **{"If-Match": etag}),
    )  # fmt: skip
    assert no_file.status_code == 422 and no_file.json()["rule"] == "photo_missing"
    no_version = client.post(
        f"/v1/nominals/{nid}/photographs", files={"file": ("a.jpg", jpeg())}, headers=auth(om)
    )
    assert no_version.status_code == 428
    stale = upload(client, om, nid, '"0"', jpeg())
    assert stale.status_code == 412
    # nothing was written: no image, no item, no new version, no collection audited
    assert photo_rows(store) == [] and version_of(client, om, nid) == version(etag)
    assert client.get(f"/v1/nominals/{nid}/photographs", headers=auth(om)).json()["photographs"] == []
    with store.session_factory() as s:
        adds = s.execute(
            select(m.AuditEvent.outcome, m.AuditEvent.details).where(
                m.AuditEvent.nominal_id == uuid.UUID(nid), m.AuditEvent.tag == "nominal:photographs:add"
            )
        ).all()
    # each refused upload is audited as a failed attempt naming its rule; none as a collection that happened
    assert adds and all(outcome == "failed" for outcome, _ in adds)
    assert {json.loads(d)["rule"] for _, d in adds} >= {"photo_empty", "version_stale"}


# ------------------------------------------------------------------ encryption at rest


def test_images_are_stored_sealed_and_bound_to_their_photo_and_variant(
    client: TestClient, token: Minter, store: Store, settings: Settings
) -> None:
    om = token()
    nid, etag = create(client, om)
    photo, _ = uploaded(client, om, nid, etag, png((200, 160)), declared="image/png")
    plain = {
        v: client.get(f"/v1/nominals/{nid}/photographs/{photo}?variant={v}", headers=auth(om)).content
        for v in ("full", "thumbnail")
    }
    rows = photo_rows(store)
    assert len(rows) == 2
    for row in rows:
        sealed = bytes(row.image_sealed)
        assert (
            not sealed.startswith((b"\x89PNG", b"\xff\xd8\xff"))
            and b"IHDR" not in sealed
            and b"IDAT" not in sealed
        )
        assert plain[row.variant][16:80] not in sealed
    if store.engine.dialect.name == "sqlite":  # nothing of the image in the database files on disk
        database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        on_disk = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert b"IHDR" not in on_disk and plain["full"][16:80] not in on_disk

    # a variant's sealed bytes moved onto the other variant fail to open: the seal names the variant
    full = next(r for r in rows if r.variant == "full")
    with store.session_factory() as s:
        s.execute(
            update(m.Photo)
            .where(m.Photo.photo_id == uuid.UUID(photo), m.Photo.variant == "thumbnail")
            .values(image_sealed=full.image_sealed)
        )
        s.commit()
    r = client.get(f"/v1/nominals/{nid}/photographs/{photo}?variant=thumbnail", headers=auth(om))
    assert r.status_code == 500 and r.json()["rule"] == "integrity_failure"


def test_re_encrypting_the_record_reseals_its_images(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    photo, _ = uploaded(client, om, nid, etag, jpeg())
    before = client.get(f"/v1/nominals/{nid}/photographs/{photo}", headers=auth(om)).content
    keys_before = {r.data_key_id for r in photo_rows(store)}
    with store.unit_of_work() as uow:
        keys_service.reencrypt_record(uow, SystemActor("test"), uuid.UUID(nid))
    assert {r.data_key_id for r in photo_rows(store)}.isdisjoint(keys_before)
    assert client.get(f"/v1/nominals/{nid}/photographs/{photo}", headers=auth(om)).content == before


def test_erasing_the_item_erases_its_images(client: TestClient, token: Minter, store: Store) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    nid, etag = create(client, om)
    photo, etag = uploaded(client, om, nid, etag, jpeg())
    r = client.post(
        f"/v1/nominals/{nid}/items/{photo}/erase",
        json={"reason": "wrong person", "confirm": photo},
        headers=auth(sup, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    assert photo_rows(store) == []
    assert client.get(f"/v1/nominals/{nid}/photographs/{photo}", headers=auth(om)).status_code == 404


# ------------------------------------------------------------------ history and audit


def test_the_current_photograph_is_the_latest_taken_and_ending_one_keeps_it_in_the_history(
    client: TestClient, token: Minter
) -> None:
    om = token()
    nid, etag = create(client, om)
    recent, etag = uploaded(client, om, nid, etag, jpeg(), taken_on="2025-06-01")
    archive, etag = uploaded(
        client, om, nid, etag, jpeg(), taken_on="2019-03-01"
    )  # an old one, uploaded later
    body = client.get(f"/v1/nominals/{nid}/photographs", headers=auth(om)).json()
    assert body["current"] == recent and [p["id"] for p in body["photographs"]] == [recent, archive]
    r = client.post(
        f"/v1/nominals/{nid}/photographs/{recent}/end",
        json={"reason": "not this person"},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    body = client.get(f"/v1/nominals/{nid}/photographs", headers=auth(om)).json()
    assert body["current"] == archive
    assert [(p["id"], p["status"]) for p in body["photographs"]] == [(recent, "ended"), (archive, "current")]
    assert body["photographs"][0]["ended_reason"] == "not this person"
    # an item of another section cannot be ended as a photograph
    mark = client.post(
        f"/v1/nominals/{nid}/marks",
        json={"kind": "tattoo", "location": "left_forearm", "description": "dragon"},
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    ).json()["id"]
    r = client.post(
        f"/v1/nominals/{nid}/photographs/{mark}/end",
        json={"reason": "x"},
        headers=auth(om, **{"If-Match": f'"{body["version"] + 1}"'}),
    )
    assert r.status_code == 404 and r.json()["rule"] == "photo_not_found"


def test_an_upload_is_a_collection_and_every_view_a_consultation(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om)
    photo, _ = uploaded(client, om, nid, etag, jpeg())
    client.get(f"/v1/nominals/{nid}/photographs", headers=auth(om))
    client.get(f"/v1/nominals/{nid}/photographs/{photo}", headers=auth(om))
    client.get(f"/v1/nominals/{nid}/photographs/{photo}?variant=thumbnail", headers=auth(om))
    client.get(f"/v1/nominals/{nid}/photographs/current", headers=auth(om))
    logged = [(tag, action, details) for tag, action, _, details in events(store, nid)]
    assert [(t, a) for t, a, _ in logged] == [
        ("nominal:record:create", "collection"),
        ("nominal:photographs:add", "collection"),
        ("nominal:photographs:list", "consultation"),
        ("nominal:photographs:view", "consultation"),
        ("nominal:photographs:view", "consultation"),
        ("nominal:photographs:view", "consultation"),
    ]
    assert [d for t, _, d in logged if t.endswith(":view")] == [
        '{"variant": "full"}',
        '{"variant": "thumbnail"}',
        '{"variant": "full"}',
    ]
    with store.session_factory() as s:
        outbox = s.execute(
            select(m.Outbox.record_version).where(m.Outbox.nominal_id == uuid.UUID(nid))
        ).scalars()
        assert 2 in set(outbox)  # the upload's version goes to the search index


# ------------------------------------------------------------------ the policy, as for the section


def test_another_area_states_a_purpose_and_it_is_audited_with_every_view(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, essex = token(), token(Role.OFFENDER_MANAGER, area="essex")
    nid, etag = create(client, om)
    photo, _ = uploaded(client, om, nid, etag, jpeg())
    for path in ("photographs", f"photographs/{photo}", "photographs/current"):
        r = client.get(f"/v1/nominals/{nid}/{path}", headers=auth(essex))
        assert r.status_code == 400 and r.json()["rule"] == "purpose_required", path
        r = client.get(f"/v1/nominals/{nid}/{path}", params={"purpose": "OP-HERON-23"}, headers=auth(essex))
        assert r.status_code == 200, path
    consulted = [
        (t, p) for t, a, p, _ in events(store, nid) if a == "consultation" and t.startswith("nominal:")
    ]
    assert consulted == [
        ("nominal:photographs:list", "OP-HERON-23"),
        ("nominal:photographs:view", "OP-HERON-23"),
        ("nominal:photographs:view", "OP-HERON-23"),
    ]
    # and another area cannot upload
    assert upload(client, essex, nid, '"2"', jpeg(), purpose="x").status_code == 403


def test_a_restricted_record_outside_its_area_gives_its_stub_and_no_bytes(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, essex = token(), token(Role.INVESTIGATOR, area="essex")
    nid, etag = create(client, om, restricted=True)
    photo, _ = uploaded(client, om, nid, etag, jpeg())
    for path in ("photographs", f"photographs/{photo}", f"photographs/{photo}?variant=thumbnail"):
        r = client.get(f"/v1/nominals/{nid}/{path}", params={"purpose": "OP-HERON-23"}, headers=auth(essex))
        assert r.status_code == 200 and r.headers["content-type"] == "application/json", path
        assert r.json() == {
            "id": nid,
            "restricted": True,
            "owning_area": "kent",
            "message": "restricted record: contact the owning area",
        }
    tags = [t for t, _, _, _ in events(store, nid)]
    assert tags.count("nominal:record:stub") == 3 and "nominal:photographs:view" not in tags


@pytest.fixture
def police_only_photographs(store: Store, settings: Settings) -> Iterator[TestClient]:
    """The app under a policy where only the police may read photographs (as some forces might choose)."""
    with section_for_police_only(store, settings, "photographs") as c:
        yield c


def test_an_agency_that_may_not_read_the_section_sees_no_photograph(
    police_only_photographs: TestClient, token: Minter, store: Store
) -> None:
    client = police_only_photographs
    police, probation = token(), token(agency="probation")
    nid, etag = create(client, police)
    photo, etag = uploaded(client, police, nid, etag, jpeg())
    for path in ("photographs", f"photographs/{photo}", "photographs/current"):
        r = client.get(f"/v1/nominals/{nid}/{path}", headers=auth(probation))
        assert r.status_code == 403 and r.json()["rule"] == "agency_not_permitted", path
        assert client.get(f"/v1/nominals/{nid}/{path}", headers=auth(police)).status_code == 200
    assert upload(client, probation, nid, etag, jpeg()).status_code == 403
    record = client.get(f"/v1/nominals/{nid}", headers=auth(probation)).json()
    assert "photographs" not in record["sections"]
    assert [t for t, _, _, _ in events(store, nid)].count("access:record.read:denied") == 3


def test_probation_reads_and_adds_photographs_under_the_shipped_policy(
    client: TestClient, token: Minter
) -> None:
    police, probation = token(), token(agency="probation")
    nid, etag = create(client, police)
    photo, etag = uploaded(client, probation, nid, etag, jpeg())
    r = client.get(f"/v1/nominals/{nid}/photographs/{photo}?variant=thumbnail", headers=auth(police))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert client.get(f"/v1/nominals/{nid}/photographs", headers=auth(probation)).json()["current"] == photo
