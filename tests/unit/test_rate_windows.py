"""The in-process moving windows behind the default rate limits (decision 82): the `limits` library's moving
window rule, counted without a thread per call, safe from several threads at once, and forgetting keys whose
window has emptied."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse

from register.api.ratelimit import InProcessWindows, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_moves_with_the_calls_it_counted() -> None:
    clock = Clock()
    windows = InProcessWindows(clock)
    three = parse("3/minute")
    for at in (0, 20, 40):
        clock.now = 1000 + at
        assert windows.hit(three, "user", "om") is None
    clock.now = 1050
    assert windows.hit(three, "user", "om") == 10  # until the call at 0 leaves the window
    clock.now = 1060.5  # the call at 0 has left: room for one
    assert windows.hit(three, "user", "om") is None
    clock.now = 1061  # 20, 40 and 60.5 are in the window: full until 20 leaves, at 80
    assert windows.hit(three, "user", "om") == 19
    assert windows.hit(three, "user", "other") is None  # each user has a window of their own
    assert windows.hit(three, "address", "om") is None  # and each kind of limit


def test_the_limits_answer_the_seconds_to_wait_rounded_up() -> None:
    limits = RateLimits("2/minute", "", "memory://")
    assert limits.windows is not None and limits.limiter is None
    assert [limits.user("om"), limits.user("om")] == [None, None]
    wait = limits.user("om")
    assert wait is not None and 59 <= wait <= 60
    assert limits.address("10.0.0.1") is None  # no limit per address
    assert RateLimits("", "", "memory://").windows is None  # no limit: nothing counted


def test_counting_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = RateLimits("100/second", "", "memory://")
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    for _ in range(20):
        assert limits.user("om") is None
        time.sleep(0.015)  # calls 15 ms apart: the library's memory storage started a thread for each
    assert started == []


def test_calls_from_many_threads_at_once_are_each_counted_once() -> None:
    windows = InProcessWindows()
    item = parse("500/minute")
    counted: list[bool] = []
    start = threading.Barrier(8)

    def caller() -> None:
        start.wait()
        counted.extend(windows.hit(item, "user", "om") is None for _ in range(100))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(counted) == 800 and counted.count(True) == 500


def test_keys_whose_window_has_emptied_are_forgotten() -> None:
    clock = Clock()
    windows = InProcessWindows(clock)
    item = parse("10/minute")
    for n in range(2000):
        windows.hit(item, "address", f"10.0.{n // 256}.{n % 256}")
    assert len(windows) == 2000
    clock.now += 61  # every window has emptied
    busy = parse(f"{InProcessWindows.SWEEP_EVERY}/minute")
    for _ in range(InProcessWindows.SWEEP_EVERY):
        assert windows.hit(busy, "user", "om") is None
    assert len(windows) == 1  # only the key still counting
