"""Work that follows commits without delaying the response: a thread woken after every commit (and every
`poll_seconds` for retries) that runs one job, e.g. draining the search outbox or sealing the audit log. With
`gather_seconds`, passes are at least that far apart: under a stream of commits one pass takes all that came
meanwhile (the audit sealer: one sealing for many requests' events instead of one each)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .db import database_unreachable

if TYPE_CHECKING:
    from ..store.store import Store

log = logging.getLogger(__name__)


class AfterCommitWorker:
    def __init__(
        self,
        store: Store,
        job: Callable[[], object],
        name: str,
        poll_seconds: float = 1.0,
        gather_seconds: float = 0.0,
    ) -> None:
        self.store, self.job, self.name, self.poll_seconds = store, job, name, poll_seconds
        self.gather_seconds = gather_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start (again: an app's lifespan may run more than once, e.g. under several test clients)."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.store.commit_hooks.append(self._wake.set)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._wake.set in self.store.commit_hooks:
            self.store.commit_hooks.remove(self._wake.set)

    def _run(self) -> None:
        database_down = False
        last = float("-inf")
        while not self._stopping.is_set():
            self._wake.wait(self.poll_seconds)
            pause = self.gather_seconds - (time.monotonic() - last)
            if pause > 0:
                self._stopping.wait(pause)  # let the commits of a busy moment gather (not when stopping)
            self._wake.clear()
            last = time.monotonic()
            try:
                self.job()
            except Exception as exc:
                if not database_unreachable(exc):
                    log.exception("%s failed; the next pass retries", self.name)
                elif not database_down:  # once per outage, not every poll
                    log.warning("%s: the database is unreachable; retrying every pass", self.name)
                database_down = database_unreachable(exc)
            else:
                if database_down:
                    log.warning("%s: the database answers again", self.name)
                database_down = False
