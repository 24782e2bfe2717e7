"""One way to work through the whole register in batches: each batch its own unit of work.

    sweep(store, id_batches(store.session_factory, 200), refresh, total=count, progress=progress)

A batch commits when its step returns (so an interrupted sweep keeps what it finished, and a rerun carries
on), and rolls back alone when it raises. Steps return how many things they did, or None to stop the sweep
early. `progress(done, total)` is called before the first batch and after each; `Meter` turns it into a
line with an estimate of the time left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .store import Store
    from .uow import UnitOfWork

T = TypeVar("T")
Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    return None


def sweep(
    store: Store,
    batches: Iterable[T],
    step: Callable[[UnitOfWork, T], int | None],
    *,
    total: int,
    progress: Progress = no_progress,
) -> int:
    """Run `step` over every batch, each in a unit of work of its own. Returns the sum of what the steps
    did."""
    done = 0
    if total:  # a sweep whose total is unknown (0) reports only what it has done
        progress(0, total)
    for batch in batches:
        with store.unit_of_work() as uow:
            did = step(uow, batch)
        if did is None:
            break
        done += did
        progress(done, max(total, done))
    return done


@dataclass
class Meter:
    """A progress callback that knows the time left: `show(done, total, eta_seconds or None)`."""

    show: Callable[[int, int, float | None], None]
    started: float = field(default_factory=time.monotonic)

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (total - done) if done and total >= done else None
        self.show(done, total, eta)
