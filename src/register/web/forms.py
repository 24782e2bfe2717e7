"""Forms on pages: fields described once (what the user sees and how the answer is read), the submitted
values kept to show again, and the domain's errors (`domain.errors.field_errors`) put beside the field they
are about, in plain words that name the rule.

A form is rendered by `templates/pages/editing/form.html` with GOV.UK Frontend's components: text inputs,
textareas, date inputs (day, month, year), radios, selects, checkboxes and a file upload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..domain.errors import field_errors
from .pages import label

# What a rule means, in plain words; a rule not listed here is explained by the domain's own message.
RULE_WORDS = {
    "dates_in_order": "{label} must be on or after the date it starts from",
    "date_range": "{label} must be between 1900 and 2100",
    "date_format": "{label} must be a real date, for example 27 3 2025",
    "date_in_future": "{label} must be today or in the past",
    "time_format": "{label} must be a time such as 14:30",
    "missing": "Enter {lower}",
    "choice_required": "Select {lower}",
    "enum": "Select {lower} from the list",
    "string_too_short": "Enter {lower}",
    "string_too_long": "{label} is too long",
    "address_required": "Enter the address lines or a postcode (unless it is no fixed abode)",
    "place_required": "Enter the country and place of the stay outside the UK in the address lines",
    "stay_dates_required": "Enter the day the stay outside the UK began",
    "not_in_the_uk": "A stay outside the UK has no UK postcode: leave the postcode blank",
    "associate_party": "Give the associate's name",
    "photo_format": "The photograph must be a JPEG or a PNG image",
    "photo_too_large": "The photograph must be smaller than {limit}",
    "photo_missing": "Select a photograph to upload",
    "photo_empty": "The selected file is empty",
    "photo_unreadable": "The photograph cannot be read: it may be damaged",
    "photo_too_many_pixels": "The photograph has too many pixels",
    "photo_taken_in_future": "The date taken must be today or in the past",
    "transfer_same_area": "Choose an area other than the one that owns the record now",
    "transfer_already_pending": "A transfer of this record is already waiting for a decision",
    "archive_text_required": "Enter the details of the other reason",
}


@dataclass
class Field:
    """One question. `kind`: text, textarea, date, time, radios, select, checkbox, file. `model`: the domain
    field names whose errors belong here (default: `name`)."""

    name: str
    label: str
    kind: str = "text"
    hint: str | None = None
    options: Sequence[tuple[str, str]] = ()
    required: bool = False
    model: tuple[str, ...] = ()
    classes: str | None = None
    value: Any = None
    error: str | None = None

    @property
    def lower(self) -> str:
        return self.label[:1].lower() + self.label[1:]


def choices(enum: Iterable[Enum], labels: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    return [(str(e.value), (labels or {}).get(str(e.value)) or label(e)) for e in enum]


@dataclass
class Form:
    """A form as shown: its fields with the values given and any errors, and the summary of those errors."""

    fields: list[Field]
    errors: list[dict[str, str]] = field(default_factory=list)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def fill(self, values: Mapping[str, Any]) -> Form:
        for f in self.fields:
            if f.kind == "date":
                f.value = {part: values.get(f"{f.name}-{part}", "") for part in ("day", "month", "year")}
            elif f.kind != "file":
                f.value = values.get(f.name)
        return self

    def fill_dates(self, **dates: dt.date | None) -> Form:
        for name, day in dates.items():
            if day is not None:
                self.field(name).value = {"day": day.day, "month": day.month, "year": day.year}
        return self

    def add_error(self, name: str | None, message: str) -> None:
        target = None
        if name:
            for f in self.fields:
                if name == f.name or name in f.model:
                    target = f
                    break
        target = target or self.fields[0]
        if target.error is None:
            target.error = message
            anchor = f"{target.name}-day" if target.kind == "date" else target.name
            if target.kind in ("radios",):
                anchor = target.name
            self.errors.append({"text": message, "href": f"#{anchor}"})

    def explain(self, exc: Exception, **words: str) -> Form:
        """The domain's errors (a pydantic ValidationError or a DomainError) beside their fields, in plain
        words."""
        for problem in field_errors(exc):
            self.add_error(*self._words(problem, words))
        return self

    def _words(self, problem: dict[str, str], words: Mapping[str, str]) -> tuple[str | None, str]:
        path = problem["field"]
        candidates = [path, path.split(".")[-1], path.split(".")[0]] if path else []
        found = None
        for candidate in candidates:
            for f in self.fields:
                if candidate == f.name or candidate in f.model:
                    found = f
                    break
            if found:
                break
        rule = problem["rule"]
        template = RULE_WORDS.get(rule)
        if template is None:
            message = problem["message"]
            return (found.name if found else None), (message[:1].upper() + message[1:])
        name = found.label if found else "The answer"
        lower = found.lower if found else "an answer"
        return (found.name if found else None), template.format(label=name, lower=lower, **words)

    @property
    def valid(self) -> bool:
        return not self.errors


class Invalid(Exception):
    """A value on the form is not usable; it names the field and the rule."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(rule)
        self.name, self.rule = name, rule


def text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def posted_version(values: Mapping[str, Any], name: str = "version") -> int:
    """The record version a form was drawn at (a hidden field): -1 when missing or not a number, which the
    service treats as stale, so the conflict page shows the record as it is now."""
    try:
        return int(str(values.get(name, "")))
    except ValueError:
        return -1


def date(values: Mapping[str, Any], name: str) -> dt.date | None:
    """A GOV.UK date input's three fields as a date; None when all three are blank."""
    parts = [text(values, f"{name}-{p}") for p in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        day, month, year = (int(p or "") for p in parts)
        if year < 1000:
            raise ValueError(year)
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(name, "date_format") from None


_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def time(values: Mapping[str, Any], name: str) -> dt.time | None:
    value = text(values, name)
    if value is None:
        return None
    match = _TIME.match(value)
    if not match:
        raise Invalid(name, "time_format")
    return dt.time(int(match.group(1)), int(match.group(2)))


def check(form: Form, read: Mapping[str, Any]) -> None:
    """Errors of required fields left blank."""
    for f in form.fields:
        if f.required and read.get(f.name) in (None, "", []):
            form.add_error(
                f.name,
                RULE_WORDS["choice_required" if f.kind in ("radios", "select") else "missing"].format(
                    lower=f.lower, label=f.label
                ),
            )


def read(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """The form's answers: text stripped (blank is None), dates and times parsed, checkboxes as booleans.
    Unusable values become errors on the form."""
    out: dict[str, Any] = {}
    for f in form.fields:
        try:
            if f.kind == "date":
                out[f.name] = date(values, f.name)
            elif f.kind == "time":
                out[f.name] = time(values, f.name)
            elif f.kind == "checkbox":
                out[f.name] = values.get(f.name) == "yes"
            elif f.kind == "file":
                continue
            else:
                value = text(values, f.name)
                if value is not None and f.options and value not in {v for v, _ in f.options}:
                    raise Invalid(f.name, "enum")
                out[f.name] = value
        except Invalid as bad:
            form.add_error(f.name, RULE_WORDS[bad.rule].format(label=f.label, lower=f.lower))
            out[f.name] = None
    check(form, out)
    return out
