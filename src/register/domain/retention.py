"""Retention of archived records: when each is reviewed and when its personal content is disposed of. Pure.

The disposal sweep must be set-based, but a disposal date worked out from a date of birth would give the date
of birth away if it were kept in a plain column. So the plain column `dispose_from` holds only the first day
of the year in which disposal falls due (for rules counted from the archive date, the exact date, which
reveals nothing personal); the sweep selects those rows in SQL and checks the exact date against the sealed
identity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .enums import ArchiveReason
from .notification import add_months


@dataclass(frozen=True)
class RetentionRule:
    review_every_years: int
    years_after_archive: int | None = None
    age_years: int | None = None

    def __post_init__(self) -> None:
        if (self.years_after_archive is None) == (self.age_years is None):
            raise ValueError("a retention rule disposes either years_after_archive or at age_years, not both")
        if self.review_every_years < 1:
            raise ValueError("review_every_years must be at least 1")


def parse_policy(doc: dict[str, Any]) -> dict[ArchiveReason, RetentionRule]:
    reasons = doc.get("reasons") or {}
    policy = {}
    for reason in ArchiveReason:
        if reason.value not in reasons:
            raise ValueError(f"the retention policy has no rule for archive reason {reason.value!r}")
        entry = reasons[reason.value]
        dispose = entry.get("dispose") or {}
        policy[reason] = RetentionRule(
            int(entry["review_every_years"]), dispose.get("years_after_archive"), dispose.get("age_years")
        )
    unknown = set(reasons) - {r.value for r in ArchiveReason}
    if unknown:
        raise ValueError(f"the retention policy names unknown archive reasons {sorted(unknown)}")
    return policy


def next_review(rule: RetentionRule, since: dt.date) -> dt.date:
    return add_months(since, 12 * rule.review_every_years)


def dispose_on(rule: RetentionRule, archived_on: dt.date, date_of_birth: dt.date | None) -> dt.date | None:
    """The exact date the personal content is due to be erased (None: never automatically)."""
    if rule.years_after_archive is not None:
        return add_months(archived_on, 12 * rule.years_after_archive)
    if date_of_birth is None:
        return None
    return add_months(date_of_birth, 12 * rule.age_years)  # type: ignore[operator]  # a rule has one or other


def dispose_from(rule: RetentionRule, archived_on: dt.date, date_of_birth: dt.date | None) -> dt.date | None:
    """What the plain column may hold: the exact date when it reveals nothing personal, else 1 January of its
    year."""
    exact = dispose_on(rule, archived_on, date_of_birth)
    if exact is None or rule.years_after_archive is not None:
        return exact
    return dt.date(exact.year, 1, 1)
