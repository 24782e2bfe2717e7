"""The pure rules behind the statistics' history (domain/history.py) and the chronology's corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from register.archive.schemas import ArchiveRequest
from register.domain import history
from register.domain.record import ChronologyEntry

D = dt.date


def test_an_item_in_force_says_what_changes_and_from_when() -> None:
    level = history.from_item("mappa_levels", None, None, D(2023, 3, 27), None, 1, 3)
    assert level == [history.Change(dt.datetime(2023, 3, 26, 23, tzinfo=dt.UTC), category=1, level=3)]
    prison = history.from_item("addresses", "prison", None, D(2022, 12, 1), D(2023, 3, 31), None, None)
    assert [(c.effective_at.date(), c.custody) for c in prison] == [
        (D(2022, 12, 1), history.IN_CUSTODY),  # GMT: midnight is midnight UTC
        (D(2023, 3, 30), history.COMMUNITY),  # BST: midnight on 31 March is 23:00 UTC on the 30th
    ]
    hospital = history.from_item("addresses", "hospital", None, D(2022, 1, 1), None, None, None)
    assert [c.custody for c in hospital] == [history.DETAINED_IN_HOSPITAL]
    revoked = history.from_item(
        "orders", "notification_requirement", "revoked", D(2005, 1, 1), D(2022, 11, 11), None, None
    )
    assert [c.status for c in revoked] == [history.REVOKED]
    expired = history.from_item(
        "orders", "notification_requirement", "expired", D(2005, 1, 1), D(2022, 11, 11), None, None
    )
    assert [c.status for c in expired] == [history.NOTIFICATION_ENDED]
    # what changes nothing the statistics count
    assert history.from_item("addresses", "home", None, D(2022, 1, 1), None, None, None) == []
    assert history.from_item("orders", "shpo", "active", D(2022, 1, 1), None, None, None) == []
    assert (
        history.from_item("orders", "notification_requirement", "active", D(2022, 1, 1), None, None, None)
        == []
    )


def test_a_withdrawal_names_the_entry_and_an_amendment_may_restate_the_breach() -> None:
    with pytest.raises(ValidationError) as exc:
        ChronologyEntry.model_validate(
            {"occurred_at": "2023-01-01T10:00:00Z", "kind": "withdrawal", "summary": "s"}
        )
    assert "amendment_reference" in str(exc.value)
    amended = ChronologyEntry.model_validate(
        {
            "occurred_at": "2023-01-01T10:00:00Z",
            "kind": "amendment",
            "summary": "s",
            "amends": "6f1c2a8e-0d1b-4c55-9a55-0b7d2a51e9a1",
            "breach_of": "notification",
            "outcome": "conviction_custody",
        }
    )
    assert amended.breach_of == "notification" and amended.outcome == "conviction_custody"
    with pytest.raises(ValidationError) as exc:
        ChronologyEntry.model_validate(
            {"occurred_at": "2023-01-01T10:00:00Z", "kind": "contact", "summary": "s", "breach_of": "shpo"}
        )
    assert "breach_of_only_for_breaches" in str(exc.value)


def test_a_date_of_death_goes_with_the_reason_died() -> None:
    assert ArchiveRequest.model_validate({"reason": "died", "died_on": "2023-03-31"}).died_on == D(
        2023, 3, 31
    )
    with pytest.raises(ValidationError) as exc:
        ArchiveRequest.model_validate({"reason": "left_jurisdiction", "died_on": "2023-03-31"})
    assert "died_on_only_for_died" in str(exc.value)
