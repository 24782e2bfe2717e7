"""Counting refusals per source and interval (audit/floods.py): the first few of an interval one by one, the
rest into a summary that is due once the interval is over."""

from __future__ import annotations

import datetime as dt

from register.audit.floods import RefusalFloods

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TOKEN = "auth:token:refused"


def test_the_first_few_are_individual_the_rest_counted_and_summarised_after_the_interval() -> None:
    floods = RefusalFloods(interval_seconds=60, individually=2)
    answers = [floods.admit("198.51.100.7", TOKEN, T0 + dt.timedelta(seconds=s)) for s in range(5)]
    assert [individual for individual, _ in answers] == [True, True, False, False, False]
    assert all(due == [] for _, due in answers)
    individual, due = floods.admit("203.0.113.9", TOKEN, T0 + dt.timedelta(seconds=61))
    assert individual  # another source has its own allowance
    [summary] = due
    assert (summary.source, summary.audited, summary.counted) == ("198.51.100.7", 2, 3)
    assert summary.started == T0 and summary.ended == T0 + dt.timedelta(seconds=60)
    # the next interval starts afresh
    assert floods.admit("198.51.100.7", TOKEN, T0 + dt.timedelta(seconds=62)) == (True, [])


def test_an_interval_with_nothing_counted_needs_no_summary_and_drain_closes_the_rest() -> None:
    floods = RefusalFloods(interval_seconds=60, individually=1)
    floods.admit("a", TOKEN, T0)  # within its allowance: nothing counted
    floods.admit("b", TOKEN, T0)
    floods.admit("b", TOKEN, T0)  # one counted
    _, due = floods.admit("c", TOKEN, T0 + dt.timedelta(minutes=5))
    assert [(s.source, s.counted) for s in due] == [("b", 1)]
    floods.admit("c", TOKEN, T0 + dt.timedelta(minutes=5))  # "c" over its allowance, still open
    [summary] = floods.drain()
    assert (summary.source, summary.counted) == ("c", 1)
    assert floods.drain() == []
