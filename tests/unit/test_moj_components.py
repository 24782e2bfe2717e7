"""The MoJ Frontend macros ported to Jinja (web/templates/components/) render the markup of MoJ Frontend
11.1.0's Nunjucks originals (node_modules/@ministryofjustice/frontend/moj/components/*/template.njk). The
expected markup below is the original template rendered by hand with the same parameters; whitespace between
tags is ignored."""

from __future__ import annotations

import re

from register.web.assets import Assets
from register.web.pages import Pages

ENV = Pages(Assets(directory=Assets.load().directory, manifest={})).env


def render(macro_file: str, macro: str, params: dict[str, object]) -> str:
    template = ENV.from_string(
        f'{{% from "components/{macro_file}" import {macro} %}}{{{{ {macro}(params) }}}}'
    )
    return template.render(params=params)


def squash(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def test_badge() -> None:
    html = render("badge.html", "mojBadge", {"text": "Level 3", "classes": "moj-badge--red"})
    assert squash(html) == '<span class="moj-badge moj-badge--red">Level 3</span>'
    html = render("badge.html", "mojBadge", {"html": "<b>x</b>", "attributes": {"data-qa": "b"}})
    assert squash(html) == '<span class="moj-badge" data-qa="b"><b>x</b></span>'


def test_pagination_wraps_govuk_pagination_and_says_showing_x_to_y_of_z() -> None:
    html = squash(
        render(
            "pagination.html",
            "mojPagination",
            {
                "items": [
                    {"text": "1", "href": "/c", "selected": True},
                    {"text": "2", "href": "/c?page=2"},
                    {"type": "dots"},
                    {"text": "9", "href": "/c?page=9"},
                ],
                "next": {"href": "/c?page=2"},
                "results": {"from": 1, "to": 20, "count": 170, "text": "people"},
            },
        )
    )
    assert html.startswith(
        '<div class="moj-pagination"><nav class="govuk-pagination moj-pagination__pagination'
    )
    assert (
        '<a class="govuk-link govuk-pagination__link" href="/c" aria-label="Page 1" aria-current="page">'
        " 1 </a>" in html
    )
    assert '<li class="govuk-pagination__item govuk-pagination__item--ellipsis"> &ctdot; </li>' in html
    assert html.endswith('<p class="moj-pagination__results">Showing 1 to 20 of 170 total people</p></div>')


def test_pagination_with_one_page_shows_only_the_results() -> None:
    html = squash(
        render(
            "pagination.html",
            "mojPagination",
            {
                "items": [{"text": "1", "href": "/c", "selected": True}],
                "results": {"from": 1, "to": 5, "count": 5},
            },
        )
    )
    assert html == (
        '<div class="moj-pagination"><p class="moj-pagination__results">'
        "Showing 1 to 5 of 5 total results</p></div>"
    )


def test_filter_with_selected_filters() -> None:
    html = squash(
        render(
            "filter.html",
            "mojFilter",
            {
                "heading": {"text": "Filter"},
                "selectedFilters": {
                    "heading": {"text": "Selected filters"},
                    "clearLink": {"text": "Clear filters", "href": "/c"},
                    "categories": [
                        {"heading": {"text": "Level"}, "items": [{"text": "Level 2", "href": "/c?x"}]}
                    ],
                },
                "optionsHtml": "<p>options</p>",
            },
        )
    )
    assert html.startswith(
        '<div class="moj-filter" data-module="moj-filter"><div class="moj-filter__header">'
        '<div class="moj-filter__header-title"><h2 class="govuk-heading-m">Filter</h2></div>'
        '<div class="moj-filter__header-action"></div></div><div class="moj-filter__content">'
        '<div class="moj-filter__selected"><div class="moj-filter__selected-heading">'
        '<div class="moj-filter__heading-title"><h2 class="govuk-heading-m">Selected filters</h2></div>'
        '<div class="moj-filter__heading-action"><p>'
        '<a class="govuk-link govuk-link--no-visited-state" href="/c">Clear filters</a></p></div></div>'
        '<h3 class="govuk-heading-s govuk-!-margin-bottom-0">Level</h3><ul class="moj-filter-tags">'
        '<li><a class="moj-filter__tag" href="/c?x">'
        '<span class="govuk-visually-hidden">Remove this filter</span> Level 2</a></li></ul></div>'
        '<div class="moj-filter__options">'
        '<button type="submit" class="govuk-button" data-module="govuk-button">'
    )
    assert html.endswith("Apply filters </button><p>options</p></div></div></div>")


def test_sortable_table_header_as_a_link_with_aria_sort() -> None:
    html = render(
        "sortable-table.html",
        "mojSortableTableHeader",
        {"text": "Name", "href": "/c?sort=name", "sort": "ascending"},
    )
    assert squash(html) == (
        '<th scope="col" class="govuk-table__header" aria-sort="ascending">'
        '<a class="register-sortable-link" href="/c?sort=name">Name</a></th>'
    )
    assert 'aria-sort="none"' in render(
        "sortable-table.html", "mojSortableTableHeader", {"text": "A", "href": "/"}
    )


def test_identity_bar() -> None:
    html = squash(
        render(
            "identity-bar.html",
            "mojIdentityBar",
            {"title": {"html": "<b>HARTLEY</b>"}, "classes": "x", "attributes": {"data-qa": "bar"}},
        )
    )
    assert html == (
        '<div class="moj-identity-bar x" data-qa="bar"><div class="moj-identity-bar__container">'
        '<div class="moj-identity-bar__details"><span class="moj-identity-bar__title"><b>HARTLEY</b></span>'
        "</div></div></div>"
    )
    plain = squash(render("identity-bar.html", "mojIdentityBar", {"title": {"text": "<b>"}}))
    assert '<span class="moj-identity-bar__title">&lt;b&gt;</span>' in plain


def test_sub_navigation() -> None:
    html = squash(
        render(
            "sub-navigation.html",
            "mojSubNavigation",
            {
                "label": "Record sections",
                "items": [
                    {"text": "Overview", "href": "/r/1", "active": True},
                    {"text": "Risk", "href": "/r/1/risk", "attributes": {"data-qa": "risk"}},
                ],
            },
        )
    )
    assert html == (
        '<nav class="moj-sub-navigation" aria-label="Record sections"><ul class="moj-sub-navigation__list">'
        '<li class="moj-sub-navigation__item"><a class="moj-sub-navigation__link" aria-current="page" '
        'href="/r/1">Overview</a></li><li class="moj-sub-navigation__item">'
        '<a class="moj-sub-navigation__link" href="/r/1/risk" data-qa="risk">Risk</a></li></ul></nav>'
    )


def test_timeline_formats_the_date_like_mojs_filter_in_london_time() -> None:
    html = squash(
        render(
            "timeline.html",
            "mojTimeline",
            {
                "headingLevel": 3,
                "items": [
                    {
                        "label": {"text": "Home visit"},
                        "byline": {"text": "kent.offender_manager (Police)"},
                        "datetime": {"timestamp": "2025-07-01T13:32:00+00:00", "type": "datetime"},
                        "html": "<p>ok</p>",
                    }
                ],
            },
        )
    )
    assert html == (
        '<div class="moj-timeline"><div class="moj-timeline__item"><div class="moj-timeline__header">'
        '<h3 class="moj-timeline__title">Home visit</h3><p class="moj-timeline__byline">by '
        'kent.offender_manager (Police)</p></div><p class="moj-timeline__date">'
        '<time datetime="2025-07-01T13:32:00+00:00">1 July 2025 at 2:32pm</time></p>'
        '<div class="moj-timeline__description"><p>ok</p></div></div></div>'
    )
