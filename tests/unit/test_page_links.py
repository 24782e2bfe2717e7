"""Every list shown a page at a time (the caseload, a chronology, the search results, the suspected
duplicates, the retention desk, a quality worklist, the people behind a statistics figure) is paginated by one
helper, `web.common.page_links`: Kent's Category 1 Level 1 at 100,000 people is 102 pages, and the reader gets
the first, the last and the pages around the one they are on, never a row of 102 links. (The tests below use
160 pages of 50.)"""

from __future__ import annotations

import re

from register.web.common import page_links
from tests.unit.test_moj_components import ENV, render, squash


def _numbers(links: dict[str, object]) -> list[str]:
    return [item.get("text", "…") for item in links["items"]]  # type: ignore[attr-defined]


def _links(page: int, pages: int, shown: int = 50, total: int | None = None) -> dict[str, object]:
    """Page `page` of a list `pages` pages of 50 long (`total` people: a full last page unless given)."""
    total = pages * 50 if total is None else total
    assert max(1, -(-total // 50)) == pages
    return page_links(
        page,
        size=50,
        total=total,
        shown=shown,
        href=lambda n: f"/statistics/people?table=t&page={n}",
        noun="people",
        label="Pages of people",
    )


def test_a_long_list_links_the_first_the_last_and_two_either_side_of_the_current_page() -> None:
    assert _numbers(_links(80, 160)) == ["1", "…", "78", "79", "80", "81", "82", "…", "160"]
    assert _numbers(_links(1, 160)) == ["1", "2", "3", "…", "160"]
    assert _numbers(_links(160, 160)) == ["1", "…", "158", "159", "160"]
    assert _numbers(_links(4, 160)) == ["1", "2", "3", "4", "5", "6", "…", "160"]
    assert _numbers(_links(5, 160)) == ["1", "2", "3", "4", "5", "6", "7", "…", "160"]  # not "1 … 3": page 2
    assert _numbers(_links(156, 160)) == ["1", "…", "154", "155", "156", "157", "158", "159", "160"]


def test_a_short_list_links_every_page_and_one_page_only_itself() -> None:
    assert _numbers(_links(2, 5)) == ["1", "2", "3", "4", "5"]
    assert _numbers(_links(1, 5)) == ["1", "2", "3", "4", "5"]  # not "1 2 3 … 5"
    assert _numbers(_links(1, 6)) == ["1", "2", "3", "…", "6"]
    assert _numbers(_links(1, 1, shown=3, total=3)) == ["1"]


def test_previous_and_next_and_what_is_shown() -> None:
    middle = _links(80, 160)
    assert middle["previous"] == {"href": "/statistics/people?table=t&page=79"}
    assert middle["next"] == {"href": "/statistics/people?table=t&page=81"}
    assert [i["text"] for i in middle["items"] if i.get("selected")] == ["80"]  # type: ignore[attr-defined]
    assert "previous" not in _links(1, 160) and "next" not in _links(160, 160)
    html = squash(render("pagination.html", "mojPagination", _links(80, 160)))
    assert len(re.findall(r'aria-label="Page \d+"', html)) == 7  # and previous and next
    assert len(re.findall(r"govuk-pagination__item--ellipsis", html)) == 2
    assert "Showing 3,951 to 4,000 of 8,000 total people" in html
    last = squash(render("pagination.html", "mojPagination", _links(160, 160, shown=20, total=7_970)))
    assert "Showing 7,951 to 7,970 of 7,970 total people" in last


def test_an_empty_list_shows_nothing_from_nothing() -> None:
    empty = _links(1, 1, shown=0, total=0)
    assert empty["results"] == {"from": 0, "to": 0, "count": 0, "text": "people"}
    assert "previous" not in empty and "next" not in empty


def test_counts_on_the_pages_are_written_as_govuk_writes_them() -> None:
    """The `thousands` filter the workload, quality dashboard, duplicates and people-behind-a-figure pages
    put on their counts: 5,093, not 5093."""
    template = ENV.from_string("{{ a | thousands }} {{ b | thousands }} {{ c | thousands }}")
    assert template.render(a=5093, b=999, c=1_000_000) == "5,093 999 1,000,000"
