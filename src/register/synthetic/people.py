"""Synthetic people for a national-scale test register. Pure: a person is a function of (seed, index), built
from the domain models themselves (so every value passes the same validation as a real write) with Faker's
en_GB providers for names, streets, phones, usernames, employers and registration marks.

Proportions follow the MAPPA annual reports in shared/seeds/: about two thirds Category 1, three in ten
Category 2, a few percent Category 3; about 97% managed at Level 1, 3% at Level 2, a fraction of a percent at
Level 3. Addresses fall around real towns of real areas (coordinates jittered about the town centre, postcodes
in the town's real district), and people move over time. About 20 chronology entries each. Nothing here is a
real person.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Faker is the `synthetic` extra: imported where a factory is made, so `Person` needs none
    from faker import Faker

from ..domain.enums import Agency, ArchiveReason, Area
from ..domain.record import ChronologyEntry, Identity, NewNominal, OffenderManager, Section, SectionItem
from ..domain.rules import parse_item
from ..domain.values import check_letter

# (area, town, latitude, longitude, postcode districts, weight): real towns and their real postcode districts.
TOWNS = [
    ("kent", "Maidstone", 51.2720, 0.5290, ["ME14", "ME15", "ME16"], 6),
    ("kent", "Canterbury", 51.2802, 1.0789, ["CT1", "CT2"], 4),
    ("kent", "Chatham", 51.3786, 0.5276, ["ME4", "ME5"], 4),
    ("essex", "Chelmsford", 51.7356, 0.4685, ["CM1", "CM2"], 5),
    ("essex", "Southend-on-Sea", 51.5459, 0.7077, ["SS1", "SS2"], 5),
    ("london", "Croydon", 51.3762, -0.0982, ["CR0", "CR2"], 8),
    ("london", "Hackney", 51.5450, -0.0553, ["E8", "E9"], 8),
    ("london", "Brixton", 51.4613, -0.1156, ["SW2", "SW9"], 8),
    ("greater-manchester", "Salford", 53.4875, -2.2901, ["M5", "M6"], 6),
    ("greater-manchester", "Stockport", 53.4106, -2.1575, ["SK1", "SK2"], 5),
    ("west-midlands", "Wolverhampton", 52.5862, -2.1288, ["WV1", "WV2"], 6),
    ("west-midlands", "Coventry", 52.4068, -1.5197, ["CV1", "CV2"], 5),
    ("west-yorkshire", "Leeds", 53.8008, -1.5491, ["LS6", "LS9"], 7),
    ("west-yorkshire", "Bradford", 53.7960, -1.7594, ["BD3", "BD5"], 5),
    ("merseyside", "Liverpool", 53.4084, -2.9916, ["L4", "L8"], 6),
    ("south-wales", "Cardiff", 51.4816, -3.1791, ["CF10", "CF24"], 5),
    ("thames-valley", "Reading", 51.4543, -0.9781, ["RG1", "RG30"], 5),
    ("sussex", "Brighton", 50.8225, -0.1372, ["BN1", "BN2"], 5),
    ("northumbria", "Newcastle upon Tyne", 54.9783, -1.6178, ["NE4", "NE6"], 5),
    ("avon-and-somerset", "Bristol", 51.4545, -2.5879, ["BS3", "BS5"], 6),
]
_WEIGHTS = [t[5] for t in TOWNS]
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
OFFENCES_SEXUAL = [
    ("Sexual assault", "adult", "female"),
    ("Rape", "adult", "female"),
    ("Making indecent photographs of a child", "under_13", "female"),
    ("Sexual activity with a child", "13_15", "female"),
    ("Exposure", "adult", "female"),
    ("Voyeurism", "adult", "female"),
    ("Sexual assault of a child under 13", "under_13", "male"),
]
OFFENCES_VIOLENT = [
    "Wounding with intent (s.18)",
    "Grievous bodily harm (s.20)",
    "Robbery",
    "Manslaughter",
    "Arson with intent to endanger life",
    "Assault occasioning actual bodily harm",
    "Controlling or coercive behaviour",
]
STAFF = [("police", "DC"), ("probation", ""), ("police", "PC"), ("probation", "")]


@dataclass
class Person:
    """One synthetic record: what `register generate` writes, already validated."""

    id: uuid.UUID
    new: NewNominal
    items: list[SectionItem]
    chronology: list[ChronologyEntry]
    archived: ArchiveReason | None = None
    archived_on: dt.date | None = None
    duplicate_of: int | None = None  # the index of the person this record deliberately duplicates
    item_ids: list[uuid.UUID] = field(default_factory=list)
    entry_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class Caseload:
    """A known offender manager with a caseload of a known size: the first `size` people of `area` who are
    active and not deliberate duplicates (in index order) are theirs. The benchmark signs in as this user."""

    user_id: str
    agency: Agency
    area: Area
    name: str
    size: int

    def takes(self, person: Person) -> bool:
        return person.new.area == self.area and person.archived is None and person.duplicate_of is None

    def assign(self, person: Person) -> Person:
        """The same person, managed now by this user (their offender manager item names them instead)."""
        items = [
            i.model_copy(update={"user_id": self.user_id, "agency": self.agency, "name": self.name})
            if isinstance(i, OffenderManager)
            else i
            for i in person.items
        ]
        return replace(person, items=items)


# `make bench` measures this user's caseload page (benchmarks/run.py): 60 people on any register of about 600
# people or more (an eighth of them live in Kent).
BENCH_CASELOAD = Caseload("bench.offender_manager", Agency.POLICE, Area.KENT, "DC Bench Manager", 60)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _pnc(rng: random.Random) -> str:
    year, serial = rng.randint(1985, 2024), f"{rng.randint(1, 9_999_999):07d}"
    return f"{year}/{serial}{check_letter(f'{year % 100:02d}{serial}')}"


def _cro(rng: random.Random) -> str:
    serial, year = f"{rng.randint(1, 999_999):06d}", rng.randint(0, 99)
    return f"{serial}/{year:02d}{check_letter(f'{year:02d}{serial}')}"


def _ni(rng: random.Random) -> str:
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    prefix = "BG"
    while prefix in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):  # prefixes never issued
        prefix = rng.choice(first) + rng.choice(second)
    return f"{prefix}{rng.randint(0, 999_999):06d}{rng.choice('ABCD')}"


def _misspell(name: str, rng: random.Random) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return rng.choice(
        [
            name[:i] + name[i + 1 :],
            name[:i] + name[i + 1] + name[i] + name[i + 2 :],
            name[:i] + name[i] + name[i:],
        ]
    )


class PersonFactory:
    """Makes person `index` of a register seeded `seed`: the same person every time, on any machine."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.seed, self.today = seed, today
        from faker import Faker

        self.fake: Faker = Faker("en_GB")

    def _rng(self, index: int) -> random.Random:
        rng = random.Random(self.seed * 1_000_003 + index)
        self.fake.seed_instance(self.seed * 1_000_003 + index)
        return rng

    def _date(self, rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))

    def person(self, index: int) -> Person:
        rng, fake, today = self._rng(index), self.fake, self.today
        duplicate_of = index - 1 if index > 0 and rng.random() < 0.01 else None
        # A second record of the previous person, created independently elsewhere in the area
        if duplicate_of is not None:
            original = self.person(duplicate_of)
            rng = self._rng(index)
            rng.random()
            return self._duplicate(original, rng, index)
        roll = rng.random()
        category, ntype = (
            (1, "rso")
            if roll < 0.66
            else (2, "vo")
            if roll < 0.96
            else (3, "other_dangerous")
            if roll < 0.995
            else (None, "pdp")
        )
        level_roll = rng.random()
        level = None if category is None else 1 if level_roll < 0.968 else 2 if level_roll < 0.997 else 3
        male = rng.random() < 0.95
        age = int(rng.triangular(19, 85, 38))
        dob = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        forenames = (fake.first_name_male() if male else fake.first_name_female()) + (
            f" {fake.first_name_male() if male else fake.first_name_female()}" if rng.random() < 0.4 else ""
        )
        surname = fake.last_name()
        town = rng.choices(TOWNS, weights=_WEIGHTS)[0]
        area, unit = town[0], f"{town[1]} {'MOSOVO' if category == 1 else 'Probation'}"
        lead = "police" if category == 1 and rng.random() < 0.8 else "probation"
        identity = {
            "forenames": forenames,
            "surname": surname,
            "date_of_birth": dob.isoformat(),
            "gender": "male" if male else "female",
            "ethnicity": rng.choices(
                ["W1", "W2", "W9", "B1", "B2", "A1", "A2", "M1", "O9"], weights=[75, 3, 5, 3, 3, 3, 3, 2, 3]
            )[0],
            "nationality": "GBR" if rng.random() < 0.9 else rng.choice(["IRL", "POL", "ROU", "IND"]),
        }
        new = NewNominal.model_validate(
            {
                "nominal_type": ntype,
                "area": area,
                "managing_unit": unit,
                "lead_agency": lead,
                "mappa_category": category,
                "mappa_level": level,
                "restricted": rng.random() < 0.01,
                "identity": identity,
            }
        )
        first = forenames.split()[0]
        items: list[tuple[Section, dict[str, Any]]] = []
        for _ in range(rng.choices([0, 1, 2], weights=[60, 30, 10])[0]):
            kind = rng.random()
            alias = (
                {"forenames": first, "surname": _misspell(surname, rng), "name_type": "alias"}
                if kind < 0.5
                else {
                    "forenames": first[:3] if len(first) > 4 else first,
                    "surname": surname,
                    "name_type": "nickname",
                }
                if kind < 0.8
                else {
                    "forenames": first,
                    "surname": fake.last_name(),
                    "name_type": "alias",
                    "date_of_birth": (dob + dt.timedelta(days=rng.choice([1, 30, 365]))).isoformat(),
                }
            )
            items.append((Section.ALIASES, alias))
        if rng.random() < 0.92:
            items.append((Section.IDENTIFIERS, {"kind": "pnc", "value": _pnc(rng)}))
        if rng.random() < 0.6:
            items.append((Section.IDENTIFIERS, {"kind": "cro", "value": _cro(rng)}))
        if rng.random() < 0.7:
            items.append((Section.IDENTIFIERS, {"kind": "ni", "value": _ni(rng)}))
        seen = self._date(rng, today - dt.timedelta(days=1500), today - dt.timedelta(days=30))
        if rng.random() < 0.85:
            items.append(
                (
                    Section.DESCRIPTIONS,
                    {
                        "observed_on": seen.isoformat(),
                        "height_cm": int(rng.gauss(177 if male else 164, 7)),
                        "build": rng.choice(["slight", "thin", "medium", "stocky", "muscular", "large"]),
                        "hair": rng.choice(
                            ["brown, short", "black, cropped", "grey, receding", "blond, long", "shaved"]
                        ),
                        "eyes": rng.choice(["blue", "brown", "green", "hazel"]),
                    },
                )
            )
        for _ in range(rng.choices([0, 1, 2], weights=[55, 30, 15])[0]):
            items.append(
                (
                    Section.MARKS,
                    {
                        "kind": rng.choice(["tattoo", "tattoo", "scar", "piercing"]),
                        "location": rng.choice(
                            ["left_forearm", "right_forearm", "neck", "face", "chest", "back", "left_hand"]
                        ),
                        "description": rng.choice(
                            [
                                "dragon",
                                "rose and dagger",
                                "name in script",
                                "star",
                                "LOVE HATE on knuckles",
                                "swallow",
                                "barbed wire",
                                "3 cm scar",
                            ]
                        ),
                    },
                )
            )
        if rng.random() < 0.85:
            items.append(
                (
                    Section.PHOTOGRAPHS,
                    {"taken_on": seen.isoformat(), "reference": f"photos/{area}/{index:08d}.jpg"},
                )
            )
        moves = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        start = self._date(rng, today - dt.timedelta(days=3650), today - dt.timedelta(days=400))
        for n in range(moves):
            end = (
                None
                if n == moves - 1
                else self._date(
                    rng, start + dt.timedelta(days=60), today - dt.timedelta(days=30 * (moves - n))
                )
            )
            home = rng.choices(TOWNS, weights=_WEIGHTS)[0] if n < moves - 1 and rng.random() < 0.2 else town
            items.append(
                (
                    Section.ADDRESSES,
                    {
                        "kind": "approved_premises" if n == moves - 1 and rng.random() < 0.03 else "home",
                        "lines": [fake.street_address().split("\n")[0]],
                        "town": home[1],
                        "postcode": (
                            f"{rng.choice(home[4])} {rng.randint(1, 9)}{rng.choice(POSTCODE_LETTERS)}"
                            f"{rng.choice(POSTCODE_LETTERS)}"
                        ),
                        "latitude": round(home[2] + rng.uniform(-0.04, 0.04), 5),
                        "longitude": round(home[3] + rng.uniform(-0.06, 0.06), 5),
                        "date_from": start.isoformat(),
                        "date_to": end.isoformat() if end else None,
                        "last_verified_on": self._date(rng, today - dt.timedelta(days=400), today).isoformat()
                        if end is None
                        else None,
                    },
                )
            )
            if end:
                start = end
        if rng.random() < 0.35:
            items.append(
                (
                    Section.VEHICLES,
                    {
                        "vrm": fake.license_plate(),
                        "make": rng.choice(["Ford", "Vauxhall", "Volkswagen", "Toyota", "BMW", "Nissan"]),
                        "colour": rng.choice(["blue", "silver", "black", "white", "red", "grey"]),
                        "relationship": rng.choice(["owner", "keeper", "user"]),
                    },
                )
            )
        if rng.random() < 0.8:
            items.append(
                (Section.CONTACTS, {"kind": "phone", "value": f"+44 7700 9{rng.randint(0, 99999):05d}"})
            )
        if rng.random() < 0.3:
            items.append(
                (
                    Section.CONTACTS,
                    {"kind": "email", "value": f"{fake.user_name()}{rng.randint(1, 99)}@example.net"},
                )
            )
        if rng.random() < 0.25:
            items.append(
                (
                    Section.CONTACTS,
                    {
                        "kind": "online_identity",
                        "value": f"@{fake.user_name()}",
                        "platform": rng.choice(["Snapchat", "Instagram", "TikTok"]),
                    },
                )
            )
        if rng.random() < 0.4:
            items.append(
                (
                    Section.EMPLOYMENT,
                    {
                        "kind": "employment",
                        "organisation": fake.company(),
                        "role": fake.job()[:200],
                        "date_from": self._date(rng, today - dt.timedelta(days=2000), today).isoformat(),
                    },
                )
            )
        convicted = self._date(
            rng,
            max(dob + dt.timedelta(days=18 * 366), today - dt.timedelta(days=9000)),
            today - dt.timedelta(days=200),
        )
        for n in range(rng.choices([1, 2, 3], weights=[70, 22, 8])[0]):
            when = convicted if n == 0 else self._date(rng, dob + dt.timedelta(days=16 * 366), convicted)
            months = rng.choice([6, 12, 18, 24, 30, 36, 48, 72, 96])
            if category == 1:
                name, band, gender = rng.choice(OFFENCES_SEXUAL)
                disposal = (
                    {"kind": "imprisonment", "custody_months": months}
                    if rng.random() < 0.75
                    else {"kind": rng.choice(["community_order", "caution"])}
                )
                offence = {
                    "offence": name,
                    "sexual": True,
                    "victims": [
                        {
                            "age_band": band,
                            "gender": gender,
                            "relationship": rng.choice(["stranger", "known", "family"]),
                        }
                    ],
                }
            else:
                offence = {
                    "offence": rng.choice(OFFENCES_VIOLENT),
                    "sexual": False,
                    "victims": [
                        {
                            "age_band": "adult",
                            "gender": rng.choice(["male", "female"]),
                            "relationship": rng.choice(["stranger", "known"]),
                        }
                    ],
                }
                disposal = {"kind": "imprisonment", "custody_months": max(months, 12)}
            items.append(
                (
                    Section.OFFENCES,
                    {
                        **offence,
                        "conviction_date": when.isoformat(),
                        "offence_date": (when - dt.timedelta(days=rng.randint(30, 400))).isoformat(),
                        "court": f"{town[1]} Crown Court",
                        "disposal": disposal,
                    },
                )
            )
        if category == 1:
            items.append(
                (
                    Section.ORDERS,
                    {
                        "kind": "notification_requirement",
                        "made_on": convicted.isoformat(),
                        "starts_on": convicted.isoformat(),
                    },
                )
            )
            if rng.random() < 0.2:
                items.append(
                    (
                        Section.ORDERS,
                        {
                            "kind": "shpo",
                            "made_on": convicted.isoformat(),
                            "starts_on": convicted.isoformat(),
                            "ends_on": (convicted + dt.timedelta(days=3650)).isoformat(),
                            "foreign_travel_restriction": rng.random() < 0.1,
                            "conditions": [
                                {"kind": "internet_use", "description": "no deletion of browsing history"}
                            ],
                        },
                    )
                )
        if category == 2 or rng.random() < 0.15:
            release = self._date(rng, today - dt.timedelta(days=700), today - dt.timedelta(days=10))
            items.append(
                (
                    Section.ORDERS,
                    {
                        "kind": "licence",
                        "made_on": release.isoformat(),
                        "starts_on": release.isoformat(),
                        "ends_on": (release + dt.timedelta(days=rng.randint(180, 1500))).isoformat(),
                    },
                )
            )
        if category is not None:
            items.append(
                (
                    Section.MAPPA_LEVELS,
                    {
                        "category": category,
                        "level": level,
                        "effective_from": start.isoformat(),
                        "rationale": "managed at this level by the MAPPA meeting",
                    },
                )
            )
        agency, rank = rng.choice(STAFF)
        om_user = f"{area}.om{rng.randint(1, 40)}"
        items.append(
            (
                Section.OFFENDER_MANAGERS,
                {
                    "agency": agency,
                    "name": f"{rank} {fake.name()}".strip(),
                    "user_id": om_user,
                    "unit": unit,
                    "date_from": start.isoformat(),
                },
            )
        )
        if level == 1:
            items.append(
                (
                    Section.MEETINGS,
                    {
                        "kind": "annual_review",
                        "held_on": self._date(rng, today - dt.timedelta(days=450), today).isoformat(),
                        "level": 1,
                    },
                )
            )
        elif level in (2, 3):
            items.append(
                (
                    Section.MEETINGS,
                    {
                        "kind": f"level_{level}",
                        "held_on": self._date(rng, today - dt.timedelta(days=120), today).isoformat(),
                        "level": level,
                        "agencies_present": ["police", "probation", "children's services"],
                    },
                )
            )
        rosh = rng.choices(["low", "medium", "high", "very_high"], weights=[35, 45, 17, 3])[0]
        assessed = self._date(rng, today - dt.timedelta(days=500), today - dt.timedelta(days=5))
        items.append(
            (
                Section.RISK_ASSESSMENTS,
                {
                    "tool": "arms" if category == 1 else "oasys",
                    "assessed_on": assessed.isoformat(),
                    "assessor": fake.name(),
                    "rosh": {"public": rosh},
                    "next_review_on": (assessed + dt.timedelta(days=365)).isoformat(),
                },
            )
        )
        if level in (2, 3):
            agreed = self._date(rng, today - dt.timedelta(days=200), today)
            items.append(
                (
                    Section.RISK_PLANS,
                    {
                        "agreed_on": agreed.isoformat(),
                        "review_on": (agreed + dt.timedelta(days=180)).isoformat(),
                        "actions": [
                            {
                                "pillar": "supervision",
                                "description": "weekly appointments",
                                "owner": "probation",
                            },
                            {
                                "pillar": "monitoring_and_control",
                                "description": "unannounced home visits",
                                "owner": "police",
                            },
                        ],
                    },
                )
            )
        if rng.random() < 0.15:
            graded = rng.random() < 0.8
            items.append(
                (
                    Section.INTELLIGENCE,
                    {
                        "received_on": self._date(rng, today - dt.timedelta(days=700), today).isoformat(),
                        "text": rng.choice(
                            [
                                "seen near a primary school at home time",
                                "new partner with young children",
                                "using an unregistered phone",
                                "associating with a known offender",
                            ]
                        ),
                        **(
                            (
                                {
                                    "scheme": "3x5x2",
                                    "source_evaluation": "B",
                                    "intelligence_assessment": 2,
                                    "handling_code": "C",
                                    "audience": ["police"],
                                }
                                if rng.random() < 0.5
                                else {
                                    "scheme": "3x5x2",
                                    "source_evaluation": "A",
                                    "intelligence_assessment": 1,
                                    "handling_code": "P",
                                }
                            )
                            if graded
                            else {}
                        ),
                    },
                )
            )
        if rng.random() < 0.05:
            items.append(
                (
                    Section.DISCLOSURES,
                    {
                        "decided_on": self._date(rng, today - dt.timedelta(days=700), today).isoformat(),
                        "recipient": "partner",
                        "decision": "disclose",
                        "rationale": "partner has children under 10",
                    },
                )
            )
        chronology = self._chronology(rng, today, category)
        archived = None
        archived_on = None
        if rng.random() < 0.06:
            archived = rng.choices(list(ArchiveReason), weights=[30, 50, 15, 5])[0]
            archived_on = self._date(rng, today - dt.timedelta(days=3000), today - dt.timedelta(days=1))
        person = Person(
            _uuid(rng), new, [parse_item(s, p, today) for s, p in items], chronology, archived, archived_on
        )
        person.item_ids = [_uuid(rng) for _ in person.items]
        person.entry_ids = [_uuid(rng) for _ in person.chronology]
        return person

    def _chronology(self, rng: random.Random, today: dt.date, category: int | None) -> list[ChronologyEntry]:
        kinds = (
            ["home_visit"] * 6
            + ["contact"] * 8
            + ["meeting"] * 2
            + ["risk_assessment", "address_change", "intelligence"]
        )
        if category == 1:
            kinds += ["notification"] * 3
        out = []
        for _ in range(max(4, int(rng.gauss(20, 5)))):
            kind = rng.choice(kinds)
            when = dt.datetime.combine(
                self._date(rng, today - dt.timedelta(days=1800), today - dt.timedelta(days=1)),
                dt.time(rng.randint(8, 19), rng.choice([0, 15, 30, 45])),
                tzinfo=dt.UTC,
            )
            summary = {
                "home_visit": "Home visit: address verified",
                "contact": "Office appointment attended",
                "meeting": "MAPPA meeting held",
                "notification": "Annual notification at the police station",
                "risk_assessment": "Risk assessment reviewed",
                "address_change": "Notified a change of address",
                "intelligence": "Intelligence received and recorded",
            }[kind]
            out.append(ChronologyEntry(occurred_at=when, kind=kind, summary=summary))
        return sorted(out, key=lambda e: e.occurred_at)

    def _duplicate(self, original: Person, rng: random.Random, index: int) -> Person:
        """Another record of the same person: the same PNC ID or date of birth, a misspelt name, few
        sections."""
        ident = original.new.identity
        identity = Identity.model_validate(
            {**ident.model_dump(mode="json"), "surname": _misspell(ident.surname, rng)}
        )
        new = original.new.model_copy(
            update={"identity": identity, "managing_unit": original.new.managing_unit}
        )
        keep = [
            i
            for i in original.items
            if i.section in (Section.IDENTIFIERS, Section.ADDRESSES, Section.OFFENCES)
        ][:4]
        person = Person(_uuid(rng), new, keep, original.chronology[:3], duplicate_of=index - 1)
        person.item_ids = [_uuid(rng) for _ in person.items]
        person.entry_ids = [_uuid(rng) for _ in person.chronology]
        return person
