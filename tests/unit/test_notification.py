"""Notification periods under the Sexual Offences Act 2003 s.82, at their boundaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from register.domain.notification import add_months, age_on, attains_age, compute, period_for, under_18_on
from register.domain.record import Address, ChronologyEntry, Identity, Offence, Order

CONVICTED = dt.date(2012, 1, 20)
TODAY = dt.date(2026, 1, 1)
ADULT = dt.date(1980, 5, 5)


def offence(disposal: dict[str, Any], convicted: dt.date = CONVICTED, sexual: bool = True) -> Offence:
    return Offence(offence="Sexual assault", conviction_date=convicted, sexual=sexual, disposal=disposal)  # type: ignore[arg-type]


def custody(months: int) -> dict[str, Any]:
    return {"kind": "imprisonment", "custody_months": months}


@pytest.mark.parametrize(
    "disposal,months",
    [
        (custody(6), 84),
        (custody(7), 120),
        (custody(29), 120),
        (custody(30), None),
        (custody(36), None),
        (custody(0), 84),
        ({"kind": "life_imprisonment"}, None),
        ({"kind": "imprisonment_for_public_protection"}, None),
        ({"kind": "hospital_order_with_restriction"}, None),
        ({"kind": "hospital_order"}, 84),
        ({"kind": "caution"}, 24),
        ({"kind": "conditional_discharge", "discharge_months": 18}, 18),
        ({"kind": "community_order"}, 60),
        ({"kind": "fine"}, 60),
    ],
)
def test_the_table_of_section_82(disposal: dict[str, Any], months: int | None) -> None:
    assert period_for(offence(disposal), ADULT).months == months


def test_an_18th_birthday_on_the_conviction_date_is_an_adult_period() -> None:
    born_18_years_before = dt.date(1994, 1, 20)
    assert not under_18_on(born_18_years_before, CONVICTED)
    assert period_for(offence(custody(12)), born_18_years_before).months == 120
    a_day_younger = dt.date(1994, 1, 21)
    assert under_18_on(a_day_younger, CONVICTED)
    assert period_for(offence(custody(12)), a_day_younger).months == 60


@pytest.mark.parametrize(
    "born,on,age,why",
    [
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17, "FLRA 1969 s.9: 29 Feb's anniversary is 1 Mar"),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18, "FLRA 1969 s.9: attained at the start of the day"),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20, "a leap year has the day itself"),
        (dt.date(2008, 2, 28), dt.date(2026, 2, 28), 18, "an ordinary birthday"),
        (dt.date(2008, 3, 1), dt.date(2026, 2, 28), 17, "a day short"),
    ],
)
def test_an_age_on_a_date_for_29_february_and_its_neighbours(
    born: dt.date, on: dt.date, age: int, why: str
) -> None:
    assert age_on(born, on) == age, why


def test_s82_2_halving_for_someone_born_on_29_february() -> None:
    """s.82(2): the period is halved for a person under 18 on conviction; born 29 Feb 2008, they are 17 on
    28 Feb 2026 and 18 on 1 Mar 2026 (FLRA 1969 s.9)."""
    born = dt.date(2008, 2, 29)
    assert attains_age(born, 18) == dt.date(2026, 3, 1)
    assert under_18_on(born, dt.date(2026, 2, 28)) and not under_18_on(born, dt.date(2026, 3, 1))
    on_28 = offence(custody(12), convicted=dt.date(2026, 2, 28))
    on_1 = offence(custody(12), convicted=dt.date(2026, 3, 1))
    assert (period_for(on_28, born).months, period_for(on_1, born).months) == (60, 120)


@given(st.integers(min_value=0, max_value=600))
def test_custody_length_decides_the_period(months: int) -> None:
    period = period_for(offence(custody(months)), ADULT)
    assert period.indefinite == (months >= 30)
    if not period.indefinite:
        assert period.months == (120 if months > 6 else 84)


@given(
    st.sampled_from(
        [
            custody(3),
            custody(12),
            custody(40),
            {"kind": "caution"},
            {"kind": "fine"},
            {"kind": "hospital_order"},
            {"kind": "conditional_discharge", "discharge_months": 24},
            {"kind": "life_imprisonment"},
        ]
    ),
    st.integers(min_value=10, max_value=17),
)
def test_under_18s_have_fixed_periods_halved_but_not_indefinite_ones_or_discharges(
    disposal: dict[str, Any], age: int
) -> None:
    dob = dt.date(CONVICTED.year - age, 6, 1)
    adult, young = period_for(offence(disposal), ADULT), period_for(offence(disposal), dob)
    if adult.indefinite or disposal["kind"] == "conditional_discharge":
        assert young.months == adult.months
    else:
        assert young.months * 2 == adult.months and "halved" in young.reason


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_adding_months_lands_in_the_right_month(start: dt.date, months: int) -> None:
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == start.day or end.day < start.day and (end + dt.timedelta(days=1)).day == 1


def test_end_date_review_date_and_the_explanation() -> None:
    fixed = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT), [offence(custody(12))], [], [], [], TODAY
    )
    assert fixed.ends_on == dt.date(2022, 1, 20) and not fixed.subject and fixed.next_due is None
    assert fixed.explanation.startswith("10 years: imprisonment of 12 months")
    indefinite = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT),
        [offence(custody(36))],
        [],
        [Address(kind="home", postcode="ME16 8RP", date_from=dt.date(2020, 1, 1))],
        [
            ChronologyEntry(
                occurred_at=dt.datetime(2012, 1, 23, tzinfo=dt.UTC), kind="notification", summary="initial"
            ),
            ChronologyEntry(
                occurred_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC), kind="notification", summary="annual"
            ),
        ],
        TODAY,
    )
    assert indefinite.indefinite and indefinite.subject and indefinite.ends_on is None
    assert indefinite.review_from == dt.date(2027, 1, 23) and indefinite.next_due == dt.date(2026, 3, 1)
    assert (
        "indefinite: imprisonment of 36 months" in indefinite.explanation
        and "initial notification on 2012-01-23" in indefinite.explanation
    )


def test_s83_6_the_initial_three_days_run_from_release_not_while_in_custody() -> None:
    """s.83(6): the initial notification period does not run while the person is in custody; after a release
    recorded since the conviction, the 3 days run from the release. With none recorded, the conviction's date
    stands (a suspended sentence looks the same as custody here: the stricter date is kept)."""
    person = Identity(forenames="A", surname="B", date_of_birth=ADULT)
    home = [Address(kind="home", postcode="ME16 8RP", date_from=dt.date(2020, 1, 1))]
    sentenced = offence(custody(40), convicted=dt.date(2022, 5, 10))
    released = ChronologyEntry(
        occurred_at=dt.datetime(2025, 9, 1, 9, tzinfo=dt.UTC), kind="release", summary="released on licence"
    )
    earlier = ChronologyEntry(
        occurred_at=dt.datetime(2020, 1, 1, 9, tzinfo=dt.UTC), kind="release", summary="an earlier sentence"
    )
    after_release = compute(person, [sentenced], [], home, [earlier, released], TODAY)
    assert after_release.next_due == dt.date(2025, 9, 3)  # the 3 days beginning with the day of release
    assert "within 3 days of release on 2025-09-01 (s.83(6))" in after_release.explanation
    none_recorded = compute(person, [sentenced], [], home, [earlier], TODAY)
    assert none_recorded.next_due == dt.date(2022, 5, 12)


def test_no_fixed_abode_means_weekly_notification_and_young_indefinite_review_after_8_years() -> None:
    young = Identity(forenames="A", surname="B", date_of_birth=dt.date(1995, 6, 1))
    n = compute(
        young,
        [offence({"kind": "life_imprisonment"}, convicted=dt.date(2012, 1, 20))],
        [],
        [Address(kind="no_fixed_abode", date_from=dt.date(2025, 1, 1))],
        [
            ChronologyEntry(
                occurred_at=dt.datetime(2025, 12, 29, tzinfo=dt.UTC), kind="notification", summary="weekly"
            )
        ],
        TODAY,
    )
    assert n.next_due == dt.date(2026, 1, 5) and "weekly" in n.explanation
    assert n.review_from == dt.date(
        2033, 12, 29
    )  # 8 years (under 18 when convicted) from the initial notification
    unrecorded = compute(
        young, [offence({"kind": "life_imprisonment"}, convicted=dt.date(2012, 1, 20))], [], [], [], TODAY
    )
    assert (
        unrecorded.review_from == dt.date(2020, 1, 20)
        and "initial notification not recorded" in unrecorded.explanation
    )
    assert (
        unrecorded.next_due == dt.date(2012, 1, 22)
        and "(initial notification, within 3 days)" in unrecorded.explanation
    )


def test_an_shpo_keeps_notification_going_and_non_sexual_offences_do_not_count() -> None:
    shpo = Order(
        kind="shpo",
        made_on=dt.date(2016, 5, 11),
        starts_on=dt.date(2016, 5, 11),
        ends_on=dt.date(2031, 5, 10),
    )
    n = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT),
        [offence({"kind": "caution"})],
        [shpo],
        [],
        [],
        TODAY,
    )
    assert (
        n.ends_on == dt.date(2031, 5, 10)
        and n.subject
        and n.explanation.startswith("SHPO in force until 2031-05-10")
    )
    violent_only = compute(
        Identity(forenames="A", surname="B"), [offence(custody(60), sexual=False)], [], [], [], TODAY
    )
    assert not violent_only.subject and violent_only.explanation.startswith("no qualifying")


# ------------------------------------------------------------------ issue #18 points 10-13: the whole table


def identity(born: dt.date | None = ADULT) -> Identity:
    return Identity(forenames="A", surname="B", date_of_birth=born)


def under_18(on: dt.date = CONVICTED, age: int = 16) -> dt.date:
    return dt.date(on.year - age, 6, 1)


def entry(on: dt.date, kind: str) -> ChronologyEntry:
    return ChronologyEntry(
        occurred_at=dt.datetime(on.year, on.month, on.day, 10, tzinfo=dt.UTC), kind=kind, summary=kind
    )  # type: ignore[arg-type]


def stay(kind: str, start: dt.date | None, end: dt.date | None = None) -> Address:
    lines = ["Valletta, Malta"] if kind == "outside_uk" else ["HMP Maidstone"]
    return Address(kind=kind, lines=lines, date_from=start, date_to=end)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "disposal,born,months,statute,section",
    [
        (
            {"kind": "referral_order"},
            under_18(),
            30,
            "s.82(2)",
            "s.82(1) any other description, halved: s.82(2)",
        ),
        ({"kind": "referral_order"}, ADULT, 60, "s.82(1) table", "s.82(1) any other description"),
        (
            {"kind": "detention_and_training_order", "custody_months": 4},
            under_18(),
            42,
            "s.131",
            "s.131 DTO as imprisonment of 6 months or less: 7 years, halved (s.82(2))",
        ),
        (
            {"kind": "detention_and_training_order", "custody_months": 24},
            under_18(),
            60,
            "s.131",
            "s.131 DTO over 6 and under 30 months: 10 years, halved (s.82(2))",
        ),
        (
            {"kind": "detention", "custody_months": 36},
            under_18(),
            None,
            "s.131",
            "s.131 detention 30 months+",
        ),
        ({"kind": "detention", "custody_months": 12}, under_18(), 60, "s.82(2)", "s.131 + s.82(2)"),
        ({"kind": "detention", "custody_months": 6}, ADULT, 84, "s.131", "s.131, s.82(1) 6 months or less"),
        ({"kind": "hospital_order"}, under_18(), 42, "s.82(2)", "s.82(1) hospital order, halved: s.82(2)"),
        ({"kind": "hospital_order_with_restriction"}, under_18(), None, "table", "s.82(1): never halved"),
        (
            {"kind": "conditional_discharge", "discharge_months": 18},
            under_18(),
            18,
            "s.82(1) table",
            "s.82(1) the period of the discharge; s.82(2) does not halve it",
        ),
        ({"kind": "caution"}, under_18(), 12, "s.82(2)", "s.82(1) caution 2 years, halved: s.82(2)"),
        ({"kind": "youth_rehabilitation_order"}, under_18(), 30, "s.82(2)", "any other description, halved"),
        ({"kind": "life_imprisonment"}, under_18(), None, "table", "s.82(1) life: indefinite, never halved"),
    ],
)
def test_every_s82_disposal_as_what_it_is(
    disposal: dict[str, Any], born: dt.date, months: int | None, statute: str, section: str
) -> None:
    period = period_for(offence(disposal), born)
    assert period.applies and period.months == months, section
    assert statute in period.statute, section


def test_an_absolute_discharge_imposes_no_requirement() -> None:
    """Sentencing Act 2020 s.82 (PCC(S)A 2000 s.14(1)): a conviction followed by an absolute discharge is
    deemed not a conviction; SOA 2003 s.134 keeps only conditional discharges (Explanatory Notes para 151)."""
    period = period_for(offence({"kind": "absolute_discharge"}), ADULT)
    assert not period.applies and not period.indefinite and period.describe() == "no notification requirement"
    assert "s.134" in period.statute and "Sentencing Act 2020 s.82" in period.statute
    n = compute(identity(), [offence({"kind": "absolute_discharge"})], [], [], [], TODAY)
    assert not n.subject and n.ends_on is None and n.next_due is None and n.reasons == {}
    assert n.explanation.startswith("no notification requirement: absolute discharge")
    assert "deemed not a conviction" in n.explanation
    # Beside another qualifying offence it counts for nothing, and the explanation says so.
    both = compute(
        identity(), [offence({"kind": "absolute_discharge"}), offence({"kind": "caution"})], [], [], [], TODAY
    )
    assert both.ends_on == dt.date(2014, 1, 20) and "not counted: absolute discharge" in both.explanation


def test_a_finding_of_insanity_is_not_a_conviction_to_deem_away() -> None:
    """s.80(1)(b): found not guilty by reason of insanity; the table applies to the disposal that followed
    (an absolute discharge after a finding is "any other description": 5 years)."""
    found = Offence(
        offence="Sexual assault",
        conviction_date=CONVICTED,
        sexual=True,
        finding="not_guilty_by_insanity",  # type: ignore[arg-type]
        disposal={"kind": "absolute_discharge"},  # type: ignore[arg-type]
    )
    assert period_for(found, ADULT).months == 60
    restricted = Offence.model_validate(
        {**found.model_dump(), "disposal": {"kind": "hospital_order_with_restriction"}}
    )
    n = compute(identity(), [restricted], [], [], [], TODAY)
    assert n.indefinite and any("s.80(1)(b)" in f for f in n.reasons["ends_on"].facts)


def test_detention_of_36_months_is_indefinite_with_review_after_8_years() -> None:
    """s.131 + s.82(1): detention of 30 months or more is indefinite; s.91B: a person under 18 on the relevant
    date may seek a review 8 years after the initial notification."""
    born = under_18()
    n = compute(
        identity(born),
        [offence({"kind": "detention", "custody_months": 36})],
        [],
        [],
        [entry(dt.date(2014, 3, 3), "notification")],
        TODAY,
    )
    assert n.indefinite and n.review_from == dt.date(2022, 3, 3)
    review = n.reasons["review_from"]
    assert "s.91" in review.statute and "8 years" in review.rule
    assert any("aged 15 on 2012-01-20" in f and "Family Law Reform Act 1969 s.9" in f for f in review.facts)


def test_the_reasons_name_their_statute_and_facts() -> None:
    """Point 13: each computed date says why: rule, statute, facts."""
    n = compute(
        identity(under_18()),
        [offence({"kind": "detention_and_training_order", "custody_months": 4})],
        [],
        [],
        [],
        dt.date(2012, 1, 21),
    )
    assert set(n.reasons) == {"relevant_date", "ends_on", "next_due"}
    ends = n.reasons["ends_on"]
    assert ends.statute == "SOA 2003 s.82(1) table; s.131 (treated as imprisonment); s.82(2)"
    assert "3 years 6 months" in ends.rule and "halved: under 18 on 2012-01-20" in ends.rule
    assert ends.facts == (
        "offence: Sexual assault, convicted on 2012-01-20",
        "disposal: detention and training order, 4 months",
        "date of birth 1996-06-01: aged 15 on 2012-01-20 (Family Law Reform Act 1969 s.9)",
    )
    assert n.ends_on == dt.date(2015, 7, 20)
    assert n.reasons["relevant_date"].statute == "SOA 2003 s.82(6)"
    due = n.reasons["next_due"]
    assert due.statute == "SOA 2003 s.83(1)" and "relevant date 2012-01-20" in due.facts
    assert "notifications recorded: 0" in due.facts and n.next_due == dt.date(2012, 1, 22)
    home = Address(kind="home", postcode="ME16 8RP")  # type: ignore[arg-type]
    annual = compute(
        identity(),
        [offence(custody(12))],
        [],
        [home],
        [entry(dt.date(2012, 1, 22), "notification")],
        CONVICTED,
    )
    assert annual.reasons["next_due"].statute == "SOA 2003 s.85(1)"
    assert "last on 2012-01-22" in annual.reasons["next_due"].facts
    shpo = Order(kind="shpo", made_on=dt.date(2016, 5, 11), starts_on=dt.date(2016, 5, 11))  # type: ignore[arg-type]
    ordered = compute(identity(), [], [shpo], [], [], TODAY)
    assert ordered.indefinite and ordered.review_from is None
    assert (
        "s.103G" in ordered.reasons["ends_on"].statute
        and "no s.91B review" in ordered.reasons["review_from"].rule
    )


RELEVANT = dt.date(2025, 3, 10)


@pytest.mark.parametrize(
    "addresses,chronology,due,why",
    [
        (
            [],
            [],
            dt.date(2025, 3, 12),
            "s.83(1): the 3 days beginning with the relevant date: the 10th to 12th",
        ),
        (
            [stay("prison", dt.date(2025, 1, 5))],
            [],
            None,
            "s.83(6): remanded before conviction and still in custody: not running",
        ),
        (
            [stay("prison", dt.date(2025, 1, 5), dt.date(2026, 7, 1))],
            [],
            dt.date(2026, 7, 3),
            "s.83(6): in custody from before conviction, released later: the 3 days begin with the release",
        ),
        (
            [],
            [entry(dt.date(2026, 7, 1), "release")],
            dt.date(2026, 7, 3),
            "s.83(6): custody from conviction, a release recorded in the chronology: release day + 2",
        ),
        (
            [stay("hospital", RELEVANT, dt.date(2025, 6, 30))],
            [],
            dt.date(2025, 7, 2),
            "s.83(6): detained in hospital from the relevant date",
        ),
        (
            [stay("outside_uk", dt.date(2025, 3, 12), dt.date(2025, 3, 20))],
            [],
            dt.date(2025, 3, 20),
            "s.83(6): abroad after 2 of the 3 days (10th, 11th): the third is the day of return",
        ),
        (
            [stay("outside_uk", dt.date(2025, 3, 11), dt.date(2025, 3, 12))],
            [],
            dt.date(2025, 3, 13),
            "s.83(6): a night abroad (out on the 11th, back on the 12th): the 11th does not count",
        ),
        (
            [stay("outside_uk", dt.date(2025, 3, 14), dt.date(2025, 4, 1))],
            [],
            dt.date(2025, 3, 12),
            "s.83(6): leaving after the 3 days have run changes nothing",
        ),
        (
            [stay("outside_uk", dt.date(2025, 3, 12))],
            [],
            None,
            "s.83(6): still abroad before the 3 days ran out: not running",
        ),
        (
            [
                stay("outside_uk", dt.date(2025, 3, 11), dt.date(2025, 3, 12)),
                stay("prison", dt.date(2025, 3, 13), dt.date(2025, 3, 20)),
            ],
            [],
            dt.date(2025, 3, 20),
            "s.83(6): two spells: the 10th and the 12th count, the third is the day of release",
        ),
        (
            [stay("outside_uk", dt.date(2024, 1, 1), dt.date(2024, 2, 1))],
            [],
            dt.date(2025, 3, 12),
            "s.83(6): a stay abroad before the relevant date is not disregarded",
        ),
    ],
)
def test_s83_6_the_initial_three_days_skip_custody_hospital_and_time_abroad(
    addresses: list[Address], chronology: list[ChronologyEntry], due: dt.date | None, why: str
) -> None:
    n = compute(identity(), [offence(custody(40), convicted=RELEVANT)], [], addresses, chronology, RELEVANT)
    assert n.subject and n.next_due == due, why
    reason = n.reasons["next_due"]
    assert "s.83(1)" in reason.statute
    assert ("s.83(6)" in reason.statute) == (due != dt.date(2025, 3, 12)), why
    if due is None:
        assert "not running" in n.explanation and "not running" in reason.rule, why


def test_still_abroad_says_so_and_the_caseload_sees_nothing_due() -> None:
    n = compute(
        identity(),
        [offence(custody(40), convicted=RELEVANT)],
        [],
        [stay("outside_uk", dt.date(2025, 3, 11))],
        [],
        dt.date(2025, 4, 1),
    )
    assert n.subject and n.next_due is None
    assert "the 3 days are not running while outside the United Kingdom from 2025-03-11" in n.explanation
    assert "outside the United Kingdom from 2025-03-11 and still there" in n.reasons["next_due"].facts
    assert "return is recorded" in n.reasons["next_due"].rule


def test_an_outside_uk_stay_is_not_custody_and_needs_a_place_not_a_postcode() -> None:
    from register.domain.errors import InvalidValue
    from register.domain.history import from_item

    with pytest.raises(ValueError) as no_place:
        Address(kind="outside_uk", date_from=RELEVANT)  # type: ignore[arg-type]
    assert isinstance(no_place.value.errors()[0]["ctx"]["error"], InvalidValue)  # type: ignore[attr-defined]
    assert from_item("addresses", "outside_uk", None, RELEVANT, None, None, None) == []
    assert from_item("addresses", "prison", None, RELEVANT, None, None, None) != []


@pytest.mark.parametrize(
    "start,months,end,why",
    [
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28), "29 Feb + 12 months: 28 Feb"),
        (dt.date(2024, 2, 29), 48, dt.date(2028, 2, 29), "29 Feb + 4 years: 29 Feb of a leap year"),
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28), "31st: the month's last day"),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29), "31st: the month's last day, leap year"),
        (dt.date(2025, 8, 31), 1, dt.date(2025, 9, 30), "31st into a 30-day month"),
        (dt.date(2025, 3, 10), 30, dt.date(2027, 9, 10), "2 years 6 months"),
        (dt.date(2025, 3, 31), -1, dt.date(2025, 2, 28), "backwards too (quality rules use it)"),
    ],
)
def test_add_months_calendar_arithmetic(start: dt.date, months: int, end: dt.date, why: str) -> None:
    assert add_months(start, months) == end, why


@pytest.mark.parametrize(
    "born,convicted,halved,why",
    [
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), True, "FLRA 1969 s.9: 17 on 28 Feb, s.82(2) halves"),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), False, "FLRA 1969 s.9: 18 on 1 Mar, s.82(2) does not"),
        (dt.date(2007, 2, 28), dt.date(2025, 2, 28), False, "an 18th birthday on the relevant date: 18"),
        (dt.date(2004, 2, 29), dt.date(2022, 2, 28), True, "born 29 Feb: still 17 on 28 Feb 2022"),
    ],
)
def test_point_12_the_age_rule_decides_s82_2(
    born: dt.date, convicted: dt.date, halved: bool, why: str
) -> None:
    period = period_for(offence({"kind": "referral_order"}, convicted=convicted), born)
    assert (period.months == 30) == halved and ("s.82(2)" in period.statute) == halved, why


@pytest.mark.parametrize(
    "addresses,due,statute,why",
    [
        ([], dt.date(2026, 4, 2), "SOA 2003 s.85(1)", "s.85(1): a year after the last notification"),
        (
            [stay("outside_uk", dt.date(2026, 3, 20), dt.date(2026, 4, 10))],
            dt.date(2026, 4, 12),
            "s.85(3)-(4)",
            "s.85(3)-(4): the year ends abroad: the 3 days beginning with the return",
        ),
        (
            [stay("prison", dt.date(2026, 1, 5))],
            None,
            "s.85(3)-(4)",
            "s.85(3)-(4): the year ends in custody, still there: not running",
        ),
        (
            [stay("outside_uk", dt.date(2026, 1, 5), dt.date(2026, 1, 20))],
            dt.date(2026, 4, 2),
            "SOA 2003 s.85(1)",
            "s.85(3): a stay abroad that is over before the year ends changes nothing",
        ),
    ],
)
def test_s85_3_a_year_ending_in_custody_or_abroad_runs_on_to_the_release_or_return(
    addresses: list[Address], due: dt.date | None, statute: str, why: str
) -> None:
    home = Address(kind="home", postcode="ME16 8RP")  # type: ignore[arg-type]
    n = compute(
        identity(),
        [offence(custody(40), convicted=dt.date(2020, 3, 10))],
        [],
        [home, *addresses],
        [entry(dt.date(2025, 4, 2), "notification")],
        dt.date(2026, 1, 1),
    )
    assert n.subject and n.next_due == due, why
    assert statute in n.reasons["next_due"].statute, why
