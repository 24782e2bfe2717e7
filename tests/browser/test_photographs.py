"""Photographs in a real browser: upload one (a PNG generated here), see its thumbnail on the caseload, a
file that is not an image refused beside its field; the upload and each view audited."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator

import pytest
from PIL import Image
from playwright.sync_api import Page

from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import (
    KENT_POLICE_OFFENDER_MANAGER,
    CaseloadPage,
    Site,
    UploadPhotoPage,
    my_first_person,
    sign_in,
)

OM = KENT_POLICE_OFFENDER_MANAGER
COLOUR = (20, 140, 90)


@pytest.fixture(scope="module")
def photos_server(make_server: Callable[..., Server]) -> Iterator[Server]:
    yield make_server()


def png(size: tuple[int, int] = (240, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, COLOUR).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_photograph_is_the_caseload_thumbnail_and_audited(
    page: Page, axe: Accessibility, photos_server: Server
) -> None:
    server = photos_server
    site = Site(page, axe, server.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = UploadPhotoPage(page, axe, server.url)
    form.upload(nominal_id, "portrait.jpg", png())  # a PNG named .jpg: judged by its content
    form.fill("description", "Taken at the office")
    screenshot(page, "upload-photo")
    head = server.audit_head()
    form.save()
    assert "Photograph uploaded" in form.confirmation.inner_text()
    added = server.audit(head, tag="nominal:photographs:add", actor_user=OM)
    assert len(added) == 1 and added[0].nominal_id == uuid.UUID(nominal_id)
    assert details(added[0]) == {
        "content_type": "image/png",
        "width": 240,
        "height": 300,
        "bytes": details(added[0])["bytes"],
    }

    head = server.audit_head()
    caseload = CaseloadPage(page, axe, server.url).open()
    row = page.locator(f'[data-qa="caseload-row"][data-nominal-id="{nominal_id}"]')
    thumbnail = row.locator('[data-qa="photo"]')
    src = thumbnail.get_attribute("src")
    assert src == f"/records/{nominal_id}/photographs/current/thumbnail"
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=thumbnail.element_handle())
    answer = page.request.get(server.url + src)
    assert answer.status == 200 and answer.headers["cache-control"] == "no-store"
    image = Image.open(io.BytesIO(answer.body()))
    assert image.format == "PNG" and max(image.size) <= 120 and image.getpixel((5, 5))[:3] == COLOUR
    views = server.audit(
        head, tag="nominal:photographs:view", actor_user=OM, nominal_id=uuid.UUID(nominal_id)
    )
    assert len(views) >= 1 and all(details(v) == {"variant": "thumbnail"} for v in views)
    assert views[0].item_id == added[0].item_id
    assert caseload.rows.count() > 0


def test_a_file_that_is_not_an_image_is_refused_beside_its_field(
    page: Page, axe: Accessibility, photos_server: Server
) -> None:
    server = photos_server
    site = Site(page, axe, server.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = UploadPhotoPage(page, axe, server.url)
    form.upload(nominal_id, "photo.png", b"this is not an image at all", mime="image/png")
    head = server.audit_head()
    form.save()
    assert "must be a JPEG or a PNG image" in form.error_summary.inner_text()
    assert server.audit(head, tag="nominal:photographs:add", outcome="success") == []
    refused = server.audit(head, tag="nominal:photographs:add")
    assert len(refused) == 1 and details(refused[0]) == {"rule": "photo_format"}
