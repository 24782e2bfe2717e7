"""Notification requirements under the Sexual Offences Act 2003, computed from the record. Pure.

s.82 notification period, from the relevant date (conviction or caution):

| disposal                                                                   | period     |
| imprisonment for life or for 30 months or more; IPP                        | indefinite |
| admitted to hospital subject to a restriction order                        | indefinite |
| imprisonment of more than 6 months and less than 30 months                 | 10 years   |
| imprisonment of 6 months or less; hospital without a restriction order     | 7 years    |
| caution                                                                    | 2 years    |
| conditional discharge                                                      | the period of the discharge |
| any other disposal (community order, fine...)                              | 5 years    |

Fixed periods are halved for someone under 18 on the relevant date (indefinite requirements and conditional
discharges are not). An indefinite requirement may be reviewed after 15 years (8 if under 18 on the relevant
date), counted from the initial notification when it is recorded, otherwise from the relevant date. A Sexual
Harm Prevention Order (or a SOPO before it) imposes notification for as long as it is in force. Notifications
are due at least every 12 months, weekly when the person has no fixed abode; the initial notification within 3
days of the relevant date (so a record with no notification recorded shows the initial one as due, and a
quality check flags it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .enums import AddressKind, ChronologyKind, DisposalKind, OrderKind, OrderStatus
from .record import Address, ChronologyEntry, Identity, Offence, Order, Record, Section

INDEFINITE_CUSTODY_MONTHS = 30
SHORT_CUSTODY_MONTHS = 6
INITIAL_NOTIFICATION_DAYS = 3


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months later; the 31st becomes the month's last day (29 Feb + 12 months = 28 Feb)."""
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def attains_age(dob: dt.date, years: int) -> dt.date:
    """The day someone born on `dob` attains the age of `years`: the anniversary of their birth (Family Law
    Reform Act 1969 s.9: at the start of that day). Someone born on 29 February attains an age on 1 March in
    a year that is not a leap year: the years have not fully run on 28 February. The register applies this
    wherever an age on a date matters: s.82(2)'s halving, the age shown on a page, a search by age."""
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:  # 29 February, in a year that is not a leap year
        return dt.date(dob.year + years, 3, 1)


def age_on(dob: dt.date, on: dt.date) -> int:
    """Whole years attained by `on` (see `attains_age`)."""
    years = on.year - dob.year
    return years if attains_age(dob, years) <= on else years - 1


def under_18_on(dob: dt.date | None, on: dt.date) -> bool:
    """Under 18 on `on` (s.82(2) halves the period for a person under 18 when convicted). Someone whose 18th
    birthday falls on `on` is 18, not under 18; born on 29 February, they are 18 from 1 March."""
    return dob is not None and attains_age(dob, 18) > on


@dataclass(frozen=True)
class Period:
    """A notification period: indefinite, or a number of months."""

    months: int | None  # None: indefinite
    reason: str

    @property
    def indefinite(self) -> bool:
        return self.months is None

    def describe(self) -> str:
        if self.months is None:
            return "indefinite"
        years, months = divmod(self.months, 12)
        parts = ([f"{years} year{'s' if years != 1 else ''}"] if years else []) + (
            [f"{months} months"] if months else []
        )
        return " ".join(parts)


def period_for(offence: Offence, dob: dt.date | None) -> Period:
    """The s.82 period for one qualifying (sexual) offence, with the reason in words."""
    disposal = offence.disposal
    kind = disposal.kind
    if kind in (DisposalKind.LIFE_IMPRISONMENT, DisposalKind.IMPRISONMENT_FOR_PUBLIC_PROTECTION):
        return Period(None, kind.value.replace("_", " "))
    if kind == DisposalKind.HOSPITAL_ORDER_WITH_RESTRICTION:
        return Period(None, "hospital order with a restriction order")
    if kind == DisposalKind.CONDITIONAL_DISCHARGE:
        return Period(
            disposal.discharge_months, f"conditional discharge of {disposal.discharge_months} months"
        )
    if kind == DisposalKind.IMPRISONMENT:
        custody = disposal.custody_months or 0
        if custody >= INDEFINITE_CUSTODY_MONTHS:
            return Period(None, f"imprisonment of {custody} months")
        months, reason = (
            (120, f"imprisonment of {custody} months")
            if custody > SHORT_CUSTODY_MONTHS
            else (84, f"imprisonment of {custody} months")
        )
    elif kind == DisposalKind.HOSPITAL_ORDER:
        months, reason = 84, "hospital order without a restriction order"
    elif kind == DisposalKind.CAUTION:
        months, reason = 24, "caution"
    else:
        months, reason = 60, kind.value.replace("_", " ")
    if under_18_on(dob, offence.conviction_date):
        return Period(months // 2, f"{reason}, halved: under 18 on {offence.conviction_date.isoformat()}")
    return Period(months, reason)


@dataclass(frozen=True)
class Notification:
    """The derived notification dates of a record, each explained."""

    subject: bool
    indefinite: bool = False
    relevant_date: dt.date | None = None
    ends_on: dt.date | None = None  # the day the requirement ends (None: indefinite, or not subject)
    review_from: dt.date | None = (
        None  # indefinite only: the first date an application for review may be made
    )
    next_due: dt.date | None = None  # the next periodic notification
    explanation: str = "no qualifying offence or order imposing notification"


def compute(
    identity: Identity,
    offences: list[Offence],
    orders: list[Order],
    addresses: list[Address],
    chronology: list[ChronologyEntry],
    today: dt.date,
) -> Notification:
    dob = identity.date_of_birth
    candidates: list[
        tuple[dt.date | None, str, dt.date, bool]
    ] = []  # (ends_on or None for indefinite, explanation, relevant, under18)
    for offence in offences:
        if not offence.sexual:
            continue
        period = period_for(offence, dob)
        ends = None if period.indefinite else add_months(offence.conviction_date, period.months)  # type: ignore[arg-type]  # months set when finite
        candidates.append(
            (
                ends,
                f"{period.describe()}: {period.reason} ({offence.offence}, "
                f"{offence.conviction_date.isoformat()})",
                offence.conviction_date,
                under_18_on(dob, offence.conviction_date),
            )
        )
    for order in orders:
        if order.kind in (OrderKind.SHPO, OrderKind.SOPO) and order.status == OrderStatus.ACTIVE:
            what = "until further order" if order.ends_on is None else f"until {order.ends_on.isoformat()}"
            candidates.append(
                (
                    order.ends_on,
                    f"{order.kind.value.upper()} in force {what}",
                    order.starts_on,
                    under_18_on(dob, order.starts_on),
                )
            )
    if not candidates:
        return Notification(subject=False)
    indefinite = [c for c in candidates if c[0] is None]
    governing = indefinite[0] if indefinite else max(candidates, key=lambda c: c[0])  # type: ignore[arg-type,return-value]  # all dated here
    ends_on, explanation, relevant, young = governing
    notifications = sorted(e.occurred_at.date() for e in chronology if e.kind == ChronologyKind.NOTIFICATION)
    review_from = None
    if ends_on is None:
        start = notifications[0] if notifications else relevant
        review_from = add_months(start, (8 if young else 15) * 12)
        explanation += (
            f"; review may be sought from {review_from.isoformat()} ({8 if young else 15} years from the "
            + (
                f"initial notification on {start.isoformat()})"
                if notifications
                else "relevant date; initial notification not recorded)"
            )
        )
    current = [a for a in addresses if a.date_to is None or a.date_to >= today]
    no_fixed_abode = not current or all(a.kind == AddressKind.NO_FIXED_ABODE for a in current)
    released = sorted(
        e.occurred_at.date()
        for e in chronology
        if e.kind == ChronologyKind.RELEASE and e.occurred_at.date() >= relevant
    )
    if not notifications and released:
        # s.83(6): the 3 days do not run while the person is in custody or detained in hospital, so after a
        # release recorded since the relevant date they run from that release. (Without a recorded release the
        # register cannot tell custody from a suspended sentence, and keeps the earlier, stricter date.)
        next_due, cadence = (
            released[0] + dt.timedelta(days=INITIAL_NOTIFICATION_DAYS),
            f"initial notification, within 3 days of release on {released[0].isoformat()} (s.83(6))",
        )
    elif not notifications:
        next_due, cadence = (
            relevant + dt.timedelta(days=INITIAL_NOTIFICATION_DAYS),
            "initial notification, within 3 days",
        )
    elif no_fixed_abode:
        next_due, cadence = notifications[-1] + dt.timedelta(days=7), "weekly: no fixed abode"
    else:
        next_due, cadence = add_months(notifications[-1], 12), "annual"
    ended = ends_on is not None and ends_on <= today
    return Notification(
        subject=not ended,
        indefinite=ends_on is None,
        relevant_date=relevant,
        ends_on=ends_on,
        review_from=review_from,
        next_due=None if ended else next_due,
        explanation=explanation
        + ("; ended" if ended else f"; next notification due {next_due.isoformat()} ({cadence})"),
    )


def of_record(record: Record, today: dt.date) -> Notification:
    """The notification requirements of a whole record, from its current offences, orders and addresses."""

    def current(section: Section) -> list:  # type: ignore[type-arg]  # items of the section's own model
        return [i.data for i in record.items(section) if i.ended_at is None]

    return compute(
        record.identity,
        current(Section.OFFENCES),
        current(Section.ORDERS),
        current(Section.ADDRESSES),
        [e.data for e in record.chronology],
        today,
    )
