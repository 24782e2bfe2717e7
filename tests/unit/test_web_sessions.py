"""Web sessions (web/sessions.py) and the `next` address after sign-in (web/common.py)."""

from __future__ import annotations

import pytest

from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.web.common import local_path, sign_in_url
from register.web.sessions import Clock, SessionStore, _key

ALICE = Principal("kent.offender_manager", Agency.POLICE, Area.KENT, frozenset({Role.OFFENDER_MANAGER}))


def store(clock: Clock) -> SessionStore:
    return SessionStore(idle_seconds=15 * 60, max_age_seconds=10 * 3600, clock=clock)


def test_a_session_lives_while_used_and_ends_after_the_idle_time() -> None:
    clock = Clock(lambda: 1_000_000.0)
    sessions = store(clock)
    s = sessions.create()
    s.principal = ALICE
    clock.advance(14 * 60)
    assert sessions.get(s.id) == (s, None)  # touched: the idle clock starts again
    clock.advance(14 * 60)
    assert sessions.get(s.id)[0] is s
    clock.advance(15 * 60)
    gone, ended = sessions.get(s.id)
    assert gone is None and ended is not None and ended.reason == "idle" and ended.principal == ALICE
    assert sessions.get(s.id) == (None, None)  # and it is forgotten


def test_a_busy_session_still_ends_at_the_absolute_time() -> None:
    clock = Clock(lambda: 0.0)
    sessions = store(clock)
    s = sessions.create()
    for _ in range(10 * 6):  # a request every 10 minutes for 10 hours
        clock.advance(600)
        live, ended = sessions.get(s.id)
    assert live is None and ended is not None and ended.reason == "absolute"


def test_ids_are_random_and_kept_only_as_their_hash() -> None:
    sessions = store(Clock())
    a, b = sessions.create(), sessions.create()
    assert a.id != b.id and len(a.id) >= 43 and a.csrf_token != b.csrf_token
    assert a.id not in sessions._sessions and _key(a.id) in sessions._sessions


def test_the_store_is_bounded_dropping_the_longest_idle() -> None:
    clock = Clock(lambda: 0.0)
    sessions = SessionStore(idle_seconds=60, max_age_seconds=3600, clock=clock, limit=3)
    first = sessions.create()
    clock.advance(1)
    others = [sessions.create() for _ in range(3)]
    assert len(sessions) == 3 and sessions.get(first.id) == (None, None)
    assert all(sessions.get(o.id)[0] is o for o in others)


@pytest.mark.parametrize(
    "given, wanted",
    [
        ("/caseload", "/caseload"),
        ("/caseload?level=1&sort=name", "/caseload?level=1&sort=name"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a//b", "/"),
        ("/caseload\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(given: str | None, wanted: str) -> None:
    assert local_path(given) == wanted


def test_the_sign_in_address_carries_next_and_why_the_last_session_ended() -> None:
    assert sign_in_url("/") == "/sign-in"
    assert sign_in_url("/caseload?level=1") == "/sign-in?next=/caseload%3Flevel%3D1"
    assert sign_in_url("/caseload", "idle") == "/sign-in?next=/caseload&ended=idle"
