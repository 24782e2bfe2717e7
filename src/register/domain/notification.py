"""Notification requirements under the Sexual Offences Act 2003, Part 2, computed from the record. Pure.

s.82(1) notification period, from the relevant date (s.82(6): the date of the conviction, finding or caution):

| disposal                                                                   | period                 |
| imprisonment for life or for 30 months or more; IPP                        | indefinite             |
| admitted to hospital subject to a restriction order                        | indefinite             |
| imprisonment of more than 6 months and less than 30 months                 | 10 years               |
| imprisonment of 6 months or less; hospital without a restriction order     | 7 years                |
| caution                                                                    | 2 years                |
| conditional discharge                                                      | the discharge's period |
| any other description (community, youth rehabilitation, referral order...) | 5 years                |

s.131 counts a detention and training order and youth detention (Sentencing Act 2020 s.250/s.259, PCC(S)A
2000 s.91 before them) as imprisonment of their length. An absolute discharge is not a conviction
(Sentencing Act 2020 s.82; s.134 makes an exception only for conditional discharges), so it imposes no
requirement; after a finding of insanity or disability (s.80(1)(b), (c)) there is no conviction to deem
away, and the table applies to the disposal. Fixed periods of 10, 7, 5 and 2 years are halved for someone
under 18 on the relevant date (s.82(2)); indefinite requirements and conditional discharges are not. An
indefinite requirement may be reviewed (s.91A-F) 15 years (8 if under 18 on the relevant date) after the
initial notification when it is recorded, otherwise after the relevant date. A Sexual Harm Prevention Order
(or a SOPO before it) imposes notification for as long as it is in force. The initial notification is due
within "the period of 3 days beginning with the relevant date" (s.83(1)): the relevant date is the first of
the 3 days, so a conviction on the 10th is due by the end of the 12th. Time in custody, in hospital or outside
the United Kingdom is not counted (s.83(6)); the day of release or return is, since part of it is spent at
liberty, so a release on the 20th is due by the end of the 22nd. Then at least every 12 months (s.85(1)),
weekly when the person has no fixed abode; a year that ends in custody or abroad runs on to the 3 days
beginning with the release or return (s.85(3)-(4)). Each computed date carries its `Reason`: the rule in
words, the statute, the facts.
docs/notification.md says all this with what is not modelled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

from .enums import (
    CUSTODIAL_DISPOSALS,
    AddressKind,
    ChronologyKind,
    DisposalKind,
    OffenceFinding,
    OrderKind,
    OrderStatus,
)
from .record import Address, ChronologyEntry, Identity, Offence, Order, Record, Section

INDEFINITE_CUSTODY_MONTHS = 30
SHORT_CUSTODY_MONTHS = 6
INITIAL_NOTIFICATION_DAYS = 3
AGE_RULE = "Family Law Reform Act 1969 s.9"
# Address kinds whose time s.83(6) disregards: custody or detention in hospital, and a stay outside the UK.
DISREGARDED_ADDRESSES = {
    AddressKind.PRISON: "in custody",
    AddressKind.HOSPITAL: "detained in hospital",
    AddressKind.OUTSIDE_UK: "outside the United Kingdom",
}


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months later; the 31st becomes the month's last day (29 Feb + 12 months = 28 Feb)."""
    later: dt.date = d + relativedelta(months=months)
    return later


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


def describe_months(months: int) -> str:
    years, rest = divmod(months, 12)
    parts = ([f"{years} year{'s' if years != 1 else ''}"] if years else []) + (
        [f"{rest} month{'s' if rest != 1 else ''}"] if rest else []
    )
    return " ".join(parts) or "0 months"


@dataclass(frozen=True)
class Reason:
    """Why a computed date is what it is: the rule in words, the statute it comes from, the facts it used."""

    rule: str
    statute: str
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Period:
    """A notification period: indefinite, a number of months, or none at all (`applies` False)."""

    months: int | None  # None: indefinite (or no requirement, when `applies` is False)
    reason: str
    statute: str = "SOA 2003 s.82(1) table"
    applies: bool = True

    @property
    def indefinite(self) -> bool:
        return self.applies and self.months is None

    def describe(self) -> str:
        if not self.applies:
            return "no notification requirement"
        return "indefinite" if self.months is None else describe_months(self.months)


def _what(kind: DisposalKind) -> str:
    return kind.value.replace("_", " ")


def period_for(offence: Offence, dob: dt.date | None) -> Period:
    """The s.82 period for one qualifying (sexual) offence, with the reason in words and the statute."""
    disposal = offence.disposal
    kind = disposal.kind
    table = "SOA 2003 s.82(1) table"
    if kind == DisposalKind.ABSOLUTE_DISCHARGE and offence.finding == OffenceFinding.CONVICTED:
        return Period(
            None,
            "absolute discharge: a conviction followed by an absolute discharge is deemed not a "
            "conviction, and s.134 keeps only conditional discharges as convictions for Part 2",
            "Sentencing Act 2020 s.82 (formerly PCC(S)A 2000 s.14(1)); SOA 2003 s.134",
            applies=False,
        )
    if kind in (DisposalKind.LIFE_IMPRISONMENT, DisposalKind.IMPRISONMENT_FOR_PUBLIC_PROTECTION):
        return Period(None, _what(kind), table)
    if kind == DisposalKind.HOSPITAL_ORDER_WITH_RESTRICTION:
        return Period(None, "hospital order with a restriction order", table)
    if kind == DisposalKind.CONDITIONAL_DISCHARGE:
        # The period of the discharge is not one of the periods s.82(2) halves.
        return Period(
            disposal.discharge_months, f"conditional discharge of {disposal.discharge_months} months", table
        )
    if kind in CUSTODIAL_DISPOSALS:
        custody = disposal.custody_months or 0
        what = "imprisonment" if kind == DisposalKind.IMPRISONMENT else _what(kind)
        reason = f"{what} of {custody} months"
        statute = table if kind == DisposalKind.IMPRISONMENT else f"{table}; s.131 (treated as imprisonment)"
        if custody >= INDEFINITE_CUSTODY_MONTHS:
            return Period(None, reason, statute)
        months = 120 if custody > SHORT_CUSTODY_MONTHS else 84
    elif kind == DisposalKind.HOSPITAL_ORDER:
        months, reason, statute = 84, "hospital order without a restriction order", table
    elif kind == DisposalKind.CAUTION:
        months, reason, statute = 24, "caution", table
    else:
        months, reason, statute = 60, f"{_what(kind)} (any other description)", table
    if under_18_on(dob, offence.conviction_date):
        return Period(
            months // 2,
            f"{reason}, halved: under 18 on {offence.conviction_date.isoformat()}",
            f"{statute}; s.82(2)",
        )
    return Period(months, reason, statute)


@dataclass(frozen=True)
class Notification:
    """The derived notification dates of a record, each with its reason (`reasons`, keyed by the date's name:
    relevant_date, ends_on, review_from, next_due) and all of them in one sentence (`explanation`)."""

    subject: bool
    indefinite: bool = False
    relevant_date: dt.date | None = None
    ends_on: dt.date | None = None  # the day the requirement ends (None: indefinite, or not subject)
    review_from: dt.date | None = (
        None  # indefinite only: the first date an application for review may be made
    )
    next_due: dt.date | None = None  # the next notification (None: ended, or the 3 days are not running)
    explanation: str = "no qualifying offence or order imposing notification"
    reasons: dict[str, Reason] = field(default_factory=dict)


@dataclass(frozen=True)
class _Candidate:
    """One offence or order that imposes (or would impose) a requirement."""

    ends_on: dt.date | None  # None: indefinite
    relevant: dt.date
    young: bool
    summary: str  # for the explanation
    rule: str
    statute: str
    facts: tuple[str, ...]
    offence: bool  # an offence (reviewable when indefinite), not an order


def _age_fact(dob: dt.date | None, on: dt.date) -> str:
    if dob is None:
        return "date of birth not recorded: treated as 18 or over"
    return f"date of birth {dob.isoformat()}: aged {age_on(dob, on)} on {on.isoformat()} ({AGE_RULE})"


def _offence_facts(offence: Offence, dob: dt.date | None) -> tuple[str, ...]:
    disposal = offence.disposal
    what = {
        OffenceFinding.CONVICTED: "cautioned" if disposal.kind == DisposalKind.CAUTION else "convicted",
        OffenceFinding.NOT_GUILTY_BY_INSANITY: "found not guilty by reason of insanity (s.80(1)(b))",
        OffenceFinding.UNDER_DISABILITY_DID_THE_ACT: "found under a disability and to have done the act "
        "(s.80(1)(c))",
    }[offence.finding]
    facts = [f"offence: {offence.offence}, {what} on {offence.conviction_date.isoformat()}"]
    detail = f"disposal: {_what(disposal.kind)}"
    if disposal.kind in CUSTODIAL_DISPOSALS:
        detail += f", {disposal.custody_months} months"
    if disposal.kind == DisposalKind.CONDITIONAL_DISCHARGE:
        detail += f", {disposal.discharge_months} months"
    facts.append(detail)
    facts.append(_age_fact(dob, offence.conviction_date))
    return tuple(facts)


@dataclass(frozen=True)
class Spell:
    """A time s.83(6) disregards: first and last day (None while it lasts), what it is, and what ends it."""

    start: dt.date
    end: dt.date | None
    what: str
    event: str  # "release" or "return"


def disregarded(
    addresses: list[Address], chronology: list[ChronologyEntry], relevant: dt.date
) -> list[Spell]:
    """The spells s.83(6) disregards, merged where they overlap or one begins on the day another ends, in
    order. A spell's days run from its first day up to, not including, its last (the day of release or return,
    partly spent at liberty, counts). A release recorded in the chronology since the relevant date stands for
    custody from the relevant date to that release."""
    spells: list[Spell] = []
    for a in addresses:
        what = DISREGARDED_ADDRESSES.get(a.kind)
        if what is None:
            continue
        since = f"from {a.date_from.isoformat()}" if a.date_from else "from a date not recorded"
        until = f"to {a.date_to.isoformat()}" if a.date_to else "and still there"
        spells.append(
            Spell(
                a.date_from or dt.date.min,  # a prison or hospital address with no start: since before
                a.date_to,
                f"{what} {since} {until}",
                "return" if a.kind == AddressKind.OUTSIDE_UK else "release",
            )
        )
    released = sorted(
        e.occurred_at.date()
        for e in chronology
        if e.kind == ChronologyKind.RELEASE and e.occurred_at.date() >= relevant
    )
    if released:
        spells.append(
            Spell(relevant, released[0], f"released on {released[0].isoformat()} (chronology)", "release")
        )
    merged: list[Spell] = []
    for spell in sorted(spells, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or spell.start <= last.end):
            later = spell if spell.end is None or (last.end is not None and spell.end > last.end) else last
            merged[-1] = Spell(last.start, later.end, f"{last.what}; {spell.what}", later.event)
            continue
        merged.append(spell)
    return merged


def initial_due(relevant: dt.date, spells: list[Spell]) -> tuple[dt.date | None, list[Spell], int]:
    """s.83(1) and (6): the last of the 3 days beginning with the relevant date, skipping the disregarded
    spells, by interval arithmetic; None while a spell that began before they ran out is still open. Also the
    spells that counted, and how many of the 3 days remained after the last of them."""
    day, remaining, used = relevant, INITIAL_NOTIFICATION_DAYS, []  # `day`: the next day that may count
    for spell in spells:
        if spell.end is not None and spell.end <= day:
            continue  # over before the count reached it
        free = (spell.start - day).days  # days counted from `day` up to the spell's first day
        if free >= remaining:
            break
        remaining -= max(free, 0)
        used.append(spell)
        if spell.end is None:
            return None, used, remaining
        day = max(day, spell.end)  # the day of release or return counts again
    return day + dt.timedelta(days=remaining - 1), used, remaining


def compute(
    identity: Identity,
    offences: list[Offence],
    orders: list[Order],
    addresses: list[Address],
    chronology: list[ChronologyEntry],
    today: dt.date,
) -> Notification:
    dob = identity.date_of_birth
    candidates: list[_Candidate] = []
    excluded: list[str] = []
    for offence in offences:
        if not offence.sexual:
            continue
        period = period_for(offence, dob)
        facts = _offence_facts(offence, dob)
        if not period.applies:
            excluded.append(
                f"{period.reason} ({offence.offence}, {offence.conviction_date.isoformat()}; "
                f"{period.statute})"
            )
            continue
        ends = None if period.months is None else add_months(offence.conviction_date, period.months)
        rule = (
            f"{period.reason}: indefinite"
            if ends is None
            else f"{period.reason}: {period.describe()} from the relevant date"
        )
        candidates.append(
            _Candidate(
                ends,
                offence.conviction_date,
                under_18_on(dob, offence.conviction_date),
                f"{period.describe()}: {period.reason} ({offence.offence}, "
                f"{offence.conviction_date.isoformat()})",
                rule,
                period.statute,
                facts,
                offence=True,
            )
        )
    for order in orders:
        if order.kind in (OrderKind.SHPO, OrderKind.SOPO) and order.status == OrderStatus.ACTIVE:
            what = "until further order" if order.ends_on is None else f"until {order.ends_on.isoformat()}"
            name = order.kind.value.upper()
            candidates.append(
                _Candidate(
                    order.ends_on,
                    order.starts_on,
                    under_18_on(dob, order.starts_on),
                    f"{name} in force {what}",
                    f"notification for as long as the {name} is in force ({what})",
                    "SOA 2003 s.103G (SHPO)" if order.kind == OrderKind.SHPO else "SOA 2003 s.107 (SOPO)",
                    (
                        f"order: {name} made on {order.made_on.isoformat()}, in force from "
                        f"{order.starts_on.isoformat()} {what}",
                    ),
                    offence=False,
                )
            )
    if not candidates:
        if excluded:
            return Notification(
                subject=False,
                explanation="no notification requirement: " + "; ".join(excluded),
            )
        return Notification(subject=False)
    indefinite = [c for c in candidates if c.ends_on is None]
    governing = (
        sorted(indefinite, key=lambda c: not c.offence)[0]
        if indefinite
        else max(candidates, key=lambda c: c.ends_on or dt.date.min)
    )
    ends_on, relevant, young = governing.ends_on, governing.relevant, governing.young
    explanation = governing.summary
    reasons: dict[str, Reason] = {
        "relevant_date": Reason(
            "the date of the conviction, finding or caution imposing the longest requirement"
            if governing.offence
            else "the day the order imposing the longest requirement came into force",
            "SOA 2003 s.82(6)" if governing.offence else governing.statute,
            governing.facts,
        ),
        "ends_on": Reason(governing.rule, governing.statute, governing.facts),
    }
    notifications = sorted(e.occurred_at.date() for e in chronology if e.kind == ChronologyKind.NOTIFICATION)
    noted = [f"notifications recorded: {len(notifications)}"] + (
        [f"first on {notifications[0].isoformat()}", f"last on {notifications[-1].isoformat()}"]
        if notifications
        else []
    )
    review_from = None
    if ends_on is None and governing.offence:
        years = 8 if young else 15
        start = notifications[0] if notifications else relevant
        review_from = add_months(start, years * 12)
        since = (
            f"initial notification on {start.isoformat()}"
            if notifications
            else "relevant date; initial notification not recorded"
        )
        explanation += (
            f"; review may be sought from {review_from.isoformat()} ({years} years from the {since})"
        )
        reasons["review_from"] = Reason(
            f"an indefinite requirement may be reviewed {years} years after the {since.split(';')[0]}"
            + (" (under 18 on the relevant date)" if young else ""),
            "SOA 2003 s.91A-F (s.91B review)",
            (_age_fact(dob, relevant), *noted),
        )
    elif ends_on is None:
        reasons["review_from"] = Reason(
            "no s.91B review: the requirement lasts while the order is in force, until it is discharged",
            governing.statute,
            governing.facts,
        )
    current = [a for a in addresses if a.date_to is None or a.date_to >= today]
    no_fixed_abode = not current or all(a.kind == AddressKind.NO_FIXED_ABODE for a in current)
    next_due: dt.date | None
    if not notifications:
        next_due, used, remaining = initial_due(relevant, disregarded(addresses, chronology, relevant))
        facts = (f"relevant date {relevant.isoformat()}", *noted, *(u.what for u in used))
        if next_due is None:
            cadence = f"initial notification: the 3 days are not running while {used[-1].what}"
            due_reason = Reason(
                "the initial notification is due within 3 days of the relevant date, but time in custody, "
                "detained in hospital or outside the United Kingdom does not count: not running until the "
                f"{used[-1].event} is recorded",
                "SOA 2003 s.83(1), s.83(6)",
                facts,
            )
        elif used:
            last = used[-1]
            cadence = (
                f"initial notification, within 3 days of {last.event} on {last.end.isoformat()} (s.83(6))"
                if remaining == INITIAL_NOTIFICATION_DAYS and last.end is not None
                else "initial notification, within 3 days of the relevant date not counting "
                + "; ".join(u.what for u in used)
                + " (s.83(6))"
            )
            due_reason = Reason(
                "the initial notification is due within the 3 days beginning with the relevant date, not "
                "counting days in custody, detained in hospital or outside the United Kingdom (the day of "
                "release or return counts: part of it is spent at liberty)",
                "SOA 2003 s.83(1), s.83(6)",
                facts,
            )
        else:
            cadence = "initial notification, within 3 days"
            due_reason = Reason(
                "the initial notification is due within the 3 days beginning with the relevant date",
                "SOA 2003 s.83(1)",
                facts,
            )
    elif no_fixed_abode:
        next_due, cadence = notifications[-1] + dt.timedelta(days=7), "weekly: no fixed abode"
        due_reason = Reason(
            "weekly, a week after the last notification: no sole or main residence (no fixed abode)",
            "SOA 2003 s.85(1); Notification Requirements (England and Wales) Regulations 2012",
            (*noted, "current addresses: no fixed abode only" if current else "no current address"),
        )
    else:
        next_due, cadence = add_months(notifications[-1], 12), "annual"
        due_reason = Reason(
            "annual: within one year of the last notification", "SOA 2003 s.85(1)", tuple(noted)
        )
        year_end = next_due
        during = [
            s
            for s in disregarded(addresses, [], relevant)
            if s.start <= year_end and (s.end is None or s.end >= year_end)
        ]
        if during:
            # s.85(3)-(4): a year that would end in custody, in hospital or abroad runs on to 3 days after the
            # release or return (not running while the spell is open).
            spell = during[0]
            next_due = (
                None if spell.end is None else spell.end + dt.timedelta(days=INITIAL_NOTIFICATION_DAYS - 1)
            )
            cadence = f"annual, but the year ended on {year_end.isoformat()} while {spell.what}: " + (
                f"within 3 days of {spell.event} on {spell.end.isoformat()}"
                if spell.end is not None
                else f"not running until the {spell.event} is recorded"
            )
            due_reason = Reason(
                "annual, but a year that would end while the person is in custody, detained in hospital or "
                f"outside the United Kingdom runs on to 3 days after the {spell.event}"
                + ("" if spell.end is not None else ": not running until it is recorded"),
                "SOA 2003 s.85(1), s.85(3)-(4)",
                (*noted, f"the year would end on {year_end.isoformat()}", spell.what),
            )
    ended = ends_on is not None and ends_on <= today
    if ends_on is not None and ended:
        reasons["next_due"] = Reason(
            f"none: the requirement ended on {ends_on.isoformat()}", governing.statute, governing.facts
        )
        tail = "; ended"
    else:
        reasons["next_due"] = due_reason
        tail = (
            f"; next notification due {next_due.isoformat()} ({cadence})"
            if next_due is not None
            else f"; {cadence} ({'s.85(3)' if notifications else 's.83(6)'})"
        )
    if excluded:
        tail += "; not counted: " + "; ".join(excluded)
    return Notification(
        subject=not ended,
        indefinite=ends_on is None,
        relevant_date=relevant,
        ends_on=ends_on,
        review_from=review_from,
        next_due=None if ended else next_due,
        explanation=explanation + tail,
        reasons=reasons,
    )


def of_record(record: Record, today: dt.date) -> Notification:
    """The notification requirements of a whole record, from its current offences, orders and addresses. A
    spell in custody, in hospital or abroad that was ended (the person was released, came back) still counts
    for s.83(6): it ends on its date_to, or else on the day it was ended."""

    def current(section: Section) -> list:  # type: ignore[type-arg]  # items of the section's own model
        return [i.data for i in record.items(section) if i.ended_at is None]

    spells: list[Address] = [
        i.data.model_copy(update={"date_to": i.data.date_to or i.ended_at.date()})
        for i in record.items(Section.ADDRESSES)
        if i.ended_at is not None and isinstance(i.data, Address) and i.data.kind in DISREGARDED_ADDRESSES
    ]
    return compute(
        record.identity,
        current(Section.OFFENCES),
        current(Section.ORDERS),
        current(Section.ADDRESSES) + spells,
        [e.data for e in record.chronology],
        today,
    )
