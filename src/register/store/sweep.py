"""One way to work through the whole register in batches: each batch its own unit of work.

    sweep(store, id_batches(store.session_factory, 200), refresh, total=count, progress=progress)

A batch commits when its step returns (so an interrupted sweep keeps what it finished, and a rerun carries
on), and rolls back alone when it raises. Steps return how many things they did, or None to stop the sweep
early. `progress(done, total)` is called before the first batch and after each; the command line shows it with
the rate and the time left (`cli/base.py`, `progress_echo`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
