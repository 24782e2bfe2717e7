"""Refusals nobody signed in for (a junk token, a body that is not JSON) cannot be allowed to grow the audit
log without bound: per source address and interval, the first few are audited one by one, and the rest are
counted and written as one summary event when the interval is over (at the source's next refusal, at any
later refusal, or when the register stops).

    floods = RefusalFloods(interval_seconds=60, individually=30)
    individual, summaries = floods.admit("203.0.113.9", "auth:token:refused", now)
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class FloodSummary:
    """What one source was refused in one interval beyond the ones audited individually."""

    source: str
    kind: str  # the tag of the refusals counted
    started: dt.datetime
    ended: dt.datetime
    audited: int  # audited one by one
    counted: int  # counted only: this summary stands for them

    def details(self) -> dict[str, object]:
        return {
            "source": self.source,
            "refused": self.kind,
            "from": self.started.isoformat(),
            "until": self.ended.isoformat(),
            "audited_individually": self.audited,
            "counted": self.counted,
        }


@dataclass
class _Window:
    started: dt.datetime
    audited: int = 0
    counted: int = 0


class RefusalFloods:
    def __init__(self, interval_seconds: int = 60, individually: int = 30) -> None:
        self.interval = dt.timedelta(seconds=interval_seconds)
        self.individually = individually
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def _close(self, key: tuple[str, str], window: _Window) -> FloodSummary | None:
        if not window.counted:
            return None
        return FloodSummary(
            key[0], key[1], window.started, window.started + self.interval, window.audited, window.counted
        )

    def admit(self, source: str, kind: str, now: dt.datetime) -> tuple[bool, list[FloodSummary]]:
        """Whether this refusal is audited on its own, and the summaries of intervals that have ended (for
        any source) that must be written now."""
        due: list[FloodSummary] = []
        with self._lock:
            for key, window in list(self._windows.items()):
                if now >= window.started + self.interval:
                    del self._windows[key]
                    summary = self._close(key, window)
                    if summary is not None:
                        due.append(summary)
            window = self._windows.setdefault((source, kind), _Window(started=now))
            if window.audited < self.individually:
                window.audited += 1
                return True, due
            window.counted += 1
            return False, due

    def drain(self) -> list[FloodSummary]:
        """Every open interval's summary (the register is stopping)."""
        with self._lock:
            windows, self._windows = self._windows, {}
        return [s for key, w in windows.items() if (s := self._close(key, w)) is not None]
