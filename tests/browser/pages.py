"""Page objects for the browser tests: what a user sees and does, found by `data-qa` attributes. Each page
object runs axe-core on every page it arrives at."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page

from tests.browser.conftest import Accessibility

KENT_POLICE_OFFENDER_MANAGER = "kent.offender_manager"


class Site:
    def __init__(self, page: Page, axe: Accessibility, base: str) -> None:
        self.page, self.axe, self.base = page, axe, base

    def arrived(self) -> None:
        self.page.wait_for_load_state("load")
        self.axe.check(self.page)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.arrived()

    @property
    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def qa(self, name: str) -> Locator:
        return self.page.locator(f'[data-qa="{name}"]')

    @property
    def title(self) -> str:
        return self.page.title()


class Header(Site):
    @property
    def signed_in_name(self) -> str:
        return self.qa("signed-in-name").inner_text()

    @property
    def signed_in_role(self) -> str:
        return self.qa("signed-in-role").inner_text()

    def sign_out(self) -> None:
        self.qa("sign-out").click()
        self.arrived()


class SignInPage(Site):
    def open(self, next_path: str | None = None) -> SignInPage:
        self.goto("/sign-in" + (f"?next={next_path}" if next_path else ""))
        return self

    def choose(self, user_id: str) -> None:
        self.qa(f"demo-user-{user_id}").check()

    def submit(self) -> None:
        self.qa("sign-in").click()
        self.arrived()


def sign_in(site: Site, as_: str = KENT_POLICE_OFFENDER_MANAGER, next_path: str | None = None) -> None:
    """Sign in through the development sign-in page as one of the demo users (their user id)."""
    page = SignInPage(site.page, site.axe, site.base)
    if not site.page.url.startswith(site.base + "/sign-in"):
        page.open(next_path)
    page.choose(as_)
    page.submit()


class CaseloadPage(Header):
    def open(self, query: str = "") -> CaseloadPage:
        self.goto("/caseload" + (f"?{query}" if query else ""))
        return self

    @property
    def rows(self) -> Locator:
        return self.qa("caseload-row")

    def names(self) -> list[str]:
        return self.page.locator('[data-qa="caseload-row"] [data-qa="name"]').all_inner_texts()

    @property
    def counts(self) -> str:
        return " ".join(self.qa("caseload-counts").inner_text().split())

    def sort_by(self, column: str) -> None:
        self.page.locator(f'[data-qa="sort-{column}"] a').click()
        self.arrived()

    def filter(self, *, due: str | None = None, levels: tuple[int, ...] = ()) -> None:
        if due is not None:
            self.page.locator(f'input[name="due"][value="{due}"]').check()
        for level in levels:
            self.page.locator(f'input[name="level"][value="{level}"]').check()
        self.qa("apply-filters").click()
        self.arrived()

    @property
    def results(self) -> str:
        return self.page.locator(".moj-pagination__results").first.inner_text()


class EditForm(Header):
    """A form that changes a record (web/editing.py): fields by name, the error summary, the conflict page."""

    def open(self, nominal_id: str, path: str) -> EditForm:
        self.goto(f"/records/{nominal_id}/{path}")
        return self

    def fill(self, name: str, value: str) -> None:
        self.page.locator(f'[name="{name}"]').fill(value)

    def fill_date(self, name: str, day: str, month: str, year: str) -> None:
        self.fill(f"{name}-day", day)
        self.fill(f"{name}-month", month)
        self.fill(f"{name}-year", year)

    def choose(self, name: str, value: str) -> None:
        self.page.locator(f'input[name="{name}"][value="{value}"]').check()

    def select(self, name: str, value: str) -> None:
        self.page.locator(f'select[name="{name}"]').select_option(value)

    def save(self) -> None:
        self.qa("save").click()
        self.arrived()

    @property
    def error_summary(self) -> Locator:
        return self.qa("error-summary")

    @property
    def confirmation(self) -> Locator:
        return self.qa("confirmation")

    @property
    def conflict(self) -> Locator:
        return self.qa("conflict")

    def apply_again(self) -> None:
        self.qa("apply-again").click()
        self.arrived()


def my_first_person(site: Site) -> str:
    """The id of the first person on the signed-in offender manager's caseload."""
    caseload = CaseloadPage(site.page, site.axe, site.base).open()
    nominal_id = caseload.rows.first.get_attribute("data-nominal-id")
    assert nominal_id
    return nominal_id


class UploadPhotoPage(EditForm):
    def upload(self, nominal_id: str, name: str, content: bytes, mime: str = "image/png") -> None:
        self.open(nominal_id, "photographs/new")
        self.page.locator('input[name="file"]').set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": content}]
        )


class RecordPage(Header):
    """A record's pages: the identity bar, the sub navigation by section groups, and the group shown."""

    def open(self, nominal_id: str, group: str = "") -> RecordPage:
        self.goto(f"/records/{nominal_id}" + (f"/{group}" if group else ""))
        return self

    def open_from_caseload(self, row: Locator) -> RecordPage:
        row.locator('[data-qa="record-link"]').click()
        self.arrived()
        return self

    @property
    def identity(self) -> str:
        return " ".join(self.qa("identity-bar").inner_text().split())

    @property
    def heading(self) -> str:
        return self.qa("group-heading").inner_text()

    def navigate(self, group: str) -> None:
        self.qa(f"subnav-{group}").click()
        self.arrived()

    @property
    def timeline_entries(self) -> Locator:
        return self.qa("timeline-entry")

    def filter_timeline(self, *, kind: str = "", start: tuple[str, str, str] | None = None) -> None:
        self.page.locator("#kind").select_option(kind)
        if start is not None:
            for part, value in zip(("day", "month", "year"), start, strict=True):
                self.page.locator(f"#from-{part}").fill(value)
        self.qa("apply-chronology-filters").click()
        self.arrived()


class PurposePage(Header):
    def state(self, purpose: str) -> None:
        self.page.locator("#purpose").fill(purpose)
        self.qa("purpose-continue").click()
        self.arrived()
