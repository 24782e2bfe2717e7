"""The one query model both search backends implement: typed criteria composed with AND / OR / NOT groups.

A criterion about one address, vehicle, mark, identifier, contact or offence must be met by that same item
(nested), never by pieces of different ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..domain import values
from ..domain.enums import (
    AddressKind,
    Area,
    BodyLocation,
    Build,
    ContactKind,
    Ethnicity,
    Gender,
    IdentifierKind,
    MappaCategory,
    MappaLevel,
    MarkKind,
    NominalType,
    RoshLevel,
    VictimAgeBand,
    VictimRelationship,
)
from ..domain.errors import InvalidValue
from ..domain.record.narrative import SOURCES, Source, text_words

Text = Annotated[str, Field(min_length=1, max_length=200)]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Window(Criterion):
    """A time window an item's own from/to period must overlap ("lived there at any time since 2020")."""

    since: dt.date | None = None
    until: dt.date | None = None


PHONETIC = ("metaphone", "double_metaphone", "soundex", "nysiis")


class Term(BaseModel):
    """One word of a name criterion: a whole word, an initial ("J." or "J": a word beginning with it), or a
    prefix ("Smi*": a word beginning with it)."""

    model_config = ConfigDict(frozen=True)

    text: str
    kind: Literal["word", "initial", "prefix"]


class Name(Criterion):
    type: Literal["name"] = "name"
    value: Text = Field(
        description="words in any order; `J.` or `J` an initial, `Smi*` a prefix; a hyphenated name is its "
        "words"
    )
    mode: Literal["exact", "fuzzy", "phonetic", "nickname"] = Field(
        default="exact",
        description="how whole words match: exactly, within an edit distance scaled to the word's length, by "
        "sound (`algorithm`), or with nicknames and spelling variants (transliterations)",
    )
    algorithm: Literal["metaphone", "double_metaphone", "soundex", "nysiis", "any"] = Field(
        default="metaphone",
        description="the phonetic key a `phonetic` name compares (any: one of them agrees)",
    )
    part: Literal["any", "surname", "forenames"] = Field(
        default="any", description="which part of a name (the primary name or an alias) the words are in"
    )

    @field_validator("value")
    @classmethod
    def _letters(cls, v: str) -> str:
        if not values.name_tokens(v):
            raise InvalidValue("name_letters", "a name must contain letters")
        return v

    def terms(self) -> list[Term]:
        """The words to find, each in the same name (primary or alias), in any order."""
        out: list[Term] = []
        for raw in re.split(r"[\s,]+", self.value):
            pieces = values.name_tokens(raw.replace("*", " "))
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                kind: Literal["word", "initial", "prefix"] = (
                    "prefix"
                    if last and raw.rstrip(".").endswith("*")
                    else "initial"
                    if len(piece) == 1
                    else "word"
                )
                term = Term(text=piece, kind=kind)
                if term not in out:
                    out.append(term)
        return out


class DateOfBirth(Criterion):
    type: Literal["date_of_birth"] = "date_of_birth"
    exact: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    transposed: bool = Field(default=False, description="also match the date with day and month swapped")
    year_either_side: bool = Field(
        default=False,
        description="also a year before or after: the same day and month, the year next to `year`, a range "
        "one year wider at each end",
    )

    def dates(self) -> list[dt.date]:
        """The dates an exact date of birth stands for: itself, with day and month swapped (if asked and
        possible), each also a year either side (if asked; 29 February only where there is one)."""
        if self.exact is None:
            return []
        days = [self.exact] + ([swapped] if self.transposed and (swapped := transposed(self.exact)) else [])
        shifts = (-1, 0, 1) if self.year_either_side else (0,)
        out = {_shifted(d, s) for d in days for s in shifts}
        return sorted(d for d in out if d is not None)

    def years(self) -> list[int]:
        if self.year is None:
            return []
        return [self.year - 1, self.year, self.year + 1] if self.year_either_side else [self.year]

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """A range's ends, a year wider at each if asked."""
        lo, hi = self.date_from, self.date_to
        if self.year_either_side:
            lo = lo and (_shifted(lo, -1) or lo.replace(day=28, year=lo.year - 1))
            hi = hi and (_shifted(hi, 1) or hi.replace(day=28, year=hi.year + 1) + dt.timedelta(days=1))
        return lo, hi

    @model_validator(mode="after")
    def _one(self) -> DateOfBirth:
        if (
            sum(x is not None for x in (self.exact, self.year))
            + (self.date_from is not None or self.date_to is not None)
            != 1
        ):
            raise InvalidValue(
                "dob_one_form", "give exactly one of: exact, a range (date_from/date_to), or year", "exact"
            )
        return self


class Age(Criterion):
    type: Literal["age"] = "age"
    min: Annotated[int, Field(ge=0, le=120)] = 0
    max: Annotated[int, Field(ge=0, le=120)] = 120
    about: Annotated[int, Field(ge=0, le=120)] | None = Field(
        default=None, description="an approximate age (instead of min and max): about ± give_or_take"
    )
    give_or_take: Annotated[int, Field(ge=0, le=10)] = Field(
        default=2, description="how many years either side of `about`"
    )
    at: dt.date | None = Field(
        default=None, description="the date the age is measured at (default: today; 1900 to 2100)"
    )

    @model_validator(mode="after")
    def _order(self) -> Age:
        if self.about is not None:
            if {"min", "max"} & self.model_fields_set:
                raise InvalidValue(
                    "age_one_form", "give either about (an approximate age) or min/max", "about"
                )
            self.min, self.max = (
                max(0, self.about - self.give_or_take),
                min(120, self.about + self.give_or_take),
            )
        if self.max < self.min:
            raise InvalidValue("range_in_order", "max must not be below min", "max")
        if self.at is not None and not dt.date(1900, 1, 1) <= self.at <= dt.date(2100, 12, 31):
            raise InvalidValue("age_at_range", "an age is measured at a date from 1900 to 2100", "at")
        return self

    def dob_range(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """Born in (at - (max+1) years, at - min years]."""
        at = self.at or today
        latest = _years_before(at, self.min)
        earliest = _years_before(at, self.max + 1) + dt.timedelta(days=1)
        return earliest, latest


def transposed(d: dt.date) -> dt.date | None:
    """The date with day and month swapped (a common slip), if that is another real date."""
    try:
        return dt.date(d.year, d.day, d.month) if d.day <= 12 and d.day != d.month else None
    except ValueError:
        return None


def _shifted(d: dt.date, years: int) -> dt.date | None:
    """The same day and month `years` later (None for a 29 February that year has not)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return None


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


class Person(Criterion):
    type: Literal["person"] = "person"
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    height_min: Annotated[int, Field(ge=100, le=250)] | None = None
    height_max: Annotated[int, Field(ge=100, le=250)] | None = None
    build: Build | None = None
    hair: Text | None = None
    eyes: Text | None = None


class Mark(Criterion):
    type: Literal["mark"] = "mark"
    text: Text | None = None
    location: BodyLocation | None = None
    kind: MarkKind | None = None


class Identifier(Criterion):
    type: Literal["identifier"] = "identifier"
    kind: IdentifierKind
    value: Annotated[str, Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _normalise(self) -> Identifier:
        from ..domain.record import IDENTIFIER_NORMALISERS

        try:
            object.__setattr__(self, "value", IDENTIFIER_NORMALISERS[self.kind](self.value))
        except InvalidValue as exc:
            raise InvalidValue(exc.rule, exc.message, "value") from None
        return self


class Near(Criterion):
    latitude: Annotated[float, Field(ge=49.8, le=60.9)]
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)]
    radius_km: Annotated[float, Field(gt=0, le=100)]


class Address(Window):
    type: Literal["address"] = "address"
    near: Near | None = None
    postcode: str | None = Field(
        default=None, description="a full postcode, a sector (ME16 8) or a district (ME16)"
    )
    kind: AddressKind | None = None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str | None) -> str | None:
        if v is None:
            return None
        text = v.upper().strip()
        if sector := re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)\s+(\d)", text):
            # A sector needs its space: "CT28" would read as a district.
            return f"{sector.group(1)} {sector.group(2)}"
        if re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", text):
            return text  # district
        return values.normalise_postcode(v)

    @property
    def postcode_level(self) -> str | None:
        if self.postcode is None:
            return None
        return (
            "district"
            if " " not in self.postcode
            else ("sector" if len(self.postcode.split(" ")[1]) == 1 else "postcode")
        )


class Vehicle(Window):
    type: Literal["vehicle"] = "vehicle"
    vrm: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=20,
                description="letters and digits, ? for one unknown, * for any run",
            ),
        ]
        | None
    ) = None
    partial: bool = Field(
        default=False, description="the characters given begin or end the mark (a part seen from either end)"
    )
    make: Text | None = None
    model: Text | None = None
    colour: Text | None = None

    @field_validator("vrm")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is None:
            return None
        pattern = re.sub(r"[^A-Za-z0-9?*]", "", v).upper()
        if not re.search(r"[A-Z0-9]", pattern):
            raise InvalidValue("vrm_pattern", "a registration pattern needs at least one letter or digit")
        return pattern

    def vrm_regex(self) -> str:
        """The pattern as a regular expression both engines read alike (Lucene's and Python's, whole mark)."""
        core = "".join("." if c == "?" else ".*" if c == "*" else c for c in self.vrm or "")
        return f"({core}).*|.*({core})" if self.partial else core


_PHONE_LIKE = re.compile(r"\+?[\d\s\-().]+")


def phone_digits(raw: str) -> str:
    """A telephone number (or part of one) as it is kept: digits only, +44 or 0044 becoming the national 0."""
    value = re.sub(r"[\s\-().]", "", raw.replace("(0)", ""))
    for international in ("+44", "0044"):
        if value.startswith(international):
            return "0" + value[len(international) :]
    return value


class Contact(Criterion):
    type: Literal["contact"] = "contact"
    kind: ContactKind | None = None
    value: Annotated[str, Field(min_length=3, max_length=254)]
    partial: bool = False

    @model_validator(mode="after")
    def _phone(self) -> Contact:
        if self.kind == ContactKind.PHONE and not self.partial:
            try:
                values.normalise_phone(self.value)
            except InvalidValue as exc:
                raise InvalidValue(exc.rule, exc.message, "value") from None
        if self.kind == ContactKind.PHONE and len(re.sub(r"\D", "", self.value)) < 3:
            raise InvalidValue(
                "phone_digits", "a telephone number (or part) needs at least 3 digits", "value"
            )
        return self

    @property
    def forms(self) -> list[str]:
        """The values (or, partial, the parts of values) a contact may hold to match: email and usernames in
        any case, a telephone number however it is spaced or dashed, with +44 or the national 0. Without a
        kind, something that looks like a telephone number is looked for in both forms."""
        value = self.value.strip()
        if self.kind == ContactKind.ONLINE_IDENTITY:
            return [values.fold(value.lstrip("@"))]
        if self.kind == ContactKind.PHONE:
            return [phone_digits(value)]
        if self.kind is None and _PHONE_LIKE.fullmatch(value) and len(re.sub(r"\D", "", value)) >= 3:
            return sorted({phone_digits(value), values.fold(value)})
        return [values.fold(value)]


class Offence(Criterion):
    type: Literal["offence"] = "offence"
    text: Text | None = None
    code: Annotated[str, Field(max_length=20)] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sexual: bool | None = None
    victim_age_band: VictimAgeBand | None = None
    victim_gender: Gender | None = None
    victim_relationship: VictimRelationship | None = None
    modus_operandi: Text | None = None


class Employment(Criterion):
    type: Literal["employment"] = "employment"
    text: Text


class FreeText(Criterion):
    """Words recorded about a person: every word must be in one piece of narrative (a chronology summary, an
    intelligence text, a risk assessment's outcome, a plan's summary or action, a modus operandi, a mark's
    description, an employment) among those the searcher may read. Whole words in any case, in any order;
    no stemming, no phrase."""

    type: Literal["text"] = "text"
    text: Text = Field(description="the words to find, all of them in one piece of narrative")
    sources: Annotated[list[Source], Field(min_length=1, max_length=len(SOURCES))] = Field(
        default_factory=lambda: list(SOURCES),
        description="where to look (default: everywhere): " + ", ".join(SOURCES),
    )

    @field_validator("text")
    @classmethod
    def _words(cls, v: str) -> str:
        found = text_words(v)
        if not found:
            raise InvalidValue("text_words", "free text must contain a letter or a digit")
        if len(found) > MAX_TEXT_WORDS:
            raise InvalidValue("text_too_many_words", f"free text may hold at most {MAX_TEXT_WORDS} words")
        return v

    @field_validator("sources")
    @classmethod
    def _once(cls, v: list[Source]) -> list[Source]:
        return [s for s in SOURCES if s in v]  # each once, in one order (the fingerprint is stable)

    def words(self) -> list[str]:
        return text_words(self.text)


MAX_TEXT_WORDS = 20


class Management(Criterion):
    type: Literal["management"] = "management"
    mappa_category: MappaCategory | None = None
    mappa_level: MappaLevel | None = None
    risk_level: RoshLevel | None = None
    nominal_type: NominalType | None = None
    area: Area | None = None


Leaf = Annotated[
    Name
    | DateOfBirth
    | Age
    | Person
    | Mark
    | Identifier
    | Address
    | Vehicle
    | Contact
    | Offence
    | Employment
    | FreeText
    | Management,
    Field(discriminator="type"),
]


class Group(Criterion):
    type: Literal["group"] = "group"
    op: Literal["and", "or", "not"] = "and"
    # One union discriminated by `type` (a group is `"type": "group"`), so a bad criterion's error names just
    # its path (body.query.criteria.0.age.at) rather than every member of the union it failed to be.
    criteria: Annotated[
        list[
            Annotated[
                Name
                | DateOfBirth
                | Age
                | Person
                | Mark
                | Identifier
                | Address
                | Vehicle
                | Contact
                | Offence
                | Employment
                | FreeText
                | Management
                | Group,
                Field(discriminator="type"),
            ]
        ],
        Field(min_length=1, max_length=50),
    ]

    @model_validator(mode="after")
    def _not_one(self) -> Group:
        if self.op == "not" and len(self.criteria) != 1:
            raise InvalidValue(
                "not_one_criterion", "a NOT group holds exactly one criterion (or one group)", "criteria"
            )
        return self


Group.model_rebuild()


CURSOR_MAX = 4000  # a sealed sort key (a surname of at most 200 characters) and a point-in-time id, base64
RESULT_WINDOW = 10_000  # page x page_size may not go beyond this; a cursor walks on from anywhere
MAX_DEPTH = 8  # groups within groups
MAX_CRITERIA = 100  # leaf criteria in one query


def _shape(group: Group) -> tuple[int, int]:
    """(depth of nested groups, number of leaf criteria)."""
    depth, count = 1, 0
    for c in group.criteria:
        if isinstance(c, Group):
            d, n = _shape(c)
            depth, count = max(depth, d + 1), count + n
        else:
            count += 1
    return depth, count


def check_shape(query: Group) -> None:
    """A query's groups nest at most MAX_DEPTH deep and hold at most MAX_CRITERIA criteria."""
    depth, count = _shape(query)
    if depth > MAX_DEPTH:
        raise InvalidValue("query_too_deep", f"groups may be nested at most {MAX_DEPTH} deep", "query")
    if count > MAX_CRITERIA:
        raise InvalidValue("query_too_large", f"a query may hold at most {MAX_CRITERIA} criteria", "query")


class SearchRequest(Criterion):
    _after: list[Any] | None = PrivateAttr(default=None)
    _snapshot: str | None = PrivateAttr(default=None)
    _only: tuple[str, ...] | None = PrivateAttr(default=None)

    query: Group
    include_archived: bool = Field(
        default=False, description="archived records are left out unless asked for"
    )
    page: Annotated[int, Field(ge=1, le=1000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 25
    sort: Literal["relevance", "surname"] = "relevance"
    cursor: Annotated[str, Field(min_length=1, max_length=CURSOR_MAX, pattern=r"^[A-Za-z0-9_-]+$")] | None = (
        Field(
            default=None,
            description=(
                "the `next_cursor` of the previous page: the page after it (instead of `page`), however deep"
            ),
        )
    )

    @model_validator(mode="after")
    def _bounds(self) -> SearchRequest:
        check_shape(self.query)
        if self.page * self.page_size > RESULT_WINDOW:
            raise InvalidValue(
                "result_window",
                f"page x page_size may not exceed {RESULT_WINDOW}: to go further, send the "
                "`next_cursor` of a page as `cursor`",
                "page",
            )
        if self.cursor is not None and self.page != 1:
            raise InvalidValue("cursor_or_page", "give either `page` or `cursor`, not both", "cursor")
        return self

    def fingerprint(self) -> str:
        """What a cursor is bound to: the query, the archive switch and the sort (the page size may
        change)."""
        text = json.dumps(
            self.model_dump(mode="json", include={"query", "include_archived", "sort"}), sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def resuming(self, after: list[Any], snapshot: str | None = None) -> SearchRequest:
        """This request, resuming after the hit with sort key `after` (what an opened cursor says), reading
        the engine's point in time `snapshot` if it has one."""
        copy = self.model_copy()
        copy._after, copy._snapshot = list(after), snapshot
        return copy

    def restricted_to(self, ids: Iterable[uuid.UUID]) -> SearchRequest:
        """This request, looking only among these records (a watched search evaluated against the records
        just changed): set by the register's own use cases, never by a caller's JSON."""
        copy = self.model_copy()
        copy._only = tuple(sorted({str(i) for i in ids}))
        return copy

    def only(self) -> tuple[str, ...] | None:
        """The record ids the search is restricted to (None: the whole register)."""
        return self._only

    def after(self) -> list[Any] | None:
        """The sort key of the last hit of the previous page ([score, id] or [surname, id]); None: the page
        is found by its number."""
        return self._after

    def snapshot(self) -> str | None:
        """The engine's point in time the walk reads (Elasticsearch's PIT id): an opaque handle on the index
        as the walk first saw it, never a value of a record."""
        return self._snapshot


def leaves(group: Group) -> list[tuple[str, Leaf]]:
    """Every leaf criterion with a stable name (its path), used to say why a record matched."""
    out: list[tuple[str, Leaf]] = []

    def walk(g: Group, prefix: str) -> None:
        for i, c in enumerate(g.criteria):
            path = f"{prefix}{i}"
            if isinstance(c, Group):
                walk(c, f"{path}.")
            else:
                out.append((f"{path}:{c.type}", c))

    walk(group, "")
    return out


CRITERION_TYPES = ("group",) + tuple(
    str(kind.model_fields["type"].default)
    for kind in (
        Name,
        DateOfBirth,
        Age,
        Person,
        Mark,
        Identifier,
        Address,
        Vehicle,
        Contact,
        Offence,
        Employment,
        FreeText,
        Management,
    )
)


def readable_error(
    loc: tuple[str | int, ...],
    error_type: str,
    inner: str | None,
    rule: str,
    message: str,
    ctx: dict[str, Any],
) -> tuple[str, str, str] | None:
    """(field, rule, message) for a problem inside a search request's query, naming each criterion on the way
    by its position and its type as sent ("criteria[3] (vehicle): vrm: ..."), not by the tagged union's
    internals (`query.criteria.3.vehicle.vrm`); None for a problem anywhere else."""
    start = next((i for i in range(len(loc) - 1) if loc[i : i + 2] == ("query", "criteria")), None)
    if start is None:
        return None
    path: list[str] = [str(p) for p in loc[: start + 1]]
    where: list[str] = []
    rest = list(loc[start + 1 :])
    while len(rest) >= 2 and rest[0] == "criteria" and isinstance(rest[1], int):
        index, rest = rest[1], rest[2:]
        path += ["criteria", str(index)]
        if rest and isinstance(rest[0], str) and rest[0] in CRITERION_TYPES:
            where.append(f"criteria[{index}] ({rest[0]})")
            rest = rest[1:]
        else:  # the criterion itself is wrong: no type, one that does not exist, not an object
            tag = ctx.get("tag")
            where.append(f"criteria[{index}]" + (f" ({tag})" if tag else ""))
    if not where:  # the list itself (empty, too long)
        return None
    fields = [str(p) for p in rest] + ([inner] if inner else [])
    if error_type in ("union_tag_invalid", "union_tag_not_found"):
        fields, rule = ["type"], "criterion_type"
        kinds = f"{', '.join(CRITERION_TYPES[1:])} or group"
        message = (
            f"no criterion has this type; it is one of {kinds}"
            if ctx.get("tag") is not None
            else f"every criterion has a type: one of {kinds}"
        )
    elif error_type == "model_attributes_type":
        message = "a criterion is an object with a `type`"
    named = " > ".join(where) + (f": {'.'.join(fields)}" if fields else "")
    return ".".join(path + fields), rule, f"{named}: {message}"
