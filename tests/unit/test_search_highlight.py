"""Free text's highlight as the results page reads it: Elasticsearch's HTML-escaped fragment with the words in
<mark>, turned into plain pieces the page escapes again, so no recorded text is ever rendered as markup."""

from __future__ import annotations

from register.web.search import marked, why


def test_a_highlight_becomes_plain_pieces_with_the_words_found_marked() -> None:
    fragment = "Said &lt;script&gt; &amp; by the <mark>school</mark> <mark>gate</mark>, again"
    assert marked(fragment) == [
        ("Said <script> & by the ", False),
        ("school", True),
        (" ", False),
        ("gate", True),
        (", again", False),
    ]
    assert marked("") == []


def test_why_carries_the_highlight_of_its_own_criterion_only() -> None:
    rows = why(
        ["0:name (primary name daniel hartley)", "1:text (words in intelligence)"],
        ["Name", "Words recorded about them"],
        {"0:name": "exact hartley", "1:text": "free text"},
        {"1:text": "near the <mark>bandstand</mark>"},
    )
    assert [(r["criterion"], r["item"], r["how"], r["highlight"]) for r in rows] == [
        ("Name", "primary name daniel hartley", "exact hartley", []),
        (
            "Words recorded about them",
            "words in intelligence",
            "free text",
            [("near the ", False), ("bandstand", True)],
        ),
    ]
