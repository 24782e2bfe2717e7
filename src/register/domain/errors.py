"""Errors the domain raises. Each names a rule, so an API can say which rule failed."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the register was broken. `field` is a dotted path when one field is at fault."""

    def __init__(self, rule: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message} [{self.rule}]"


class InvalidValue(DomainError, ValueError):
    """A single value is malformed. Raised inside validators, where pydantic adds the field."""


class NotFound(DomainError):
    pass


class ConcurrencyConflict(DomainError):
    """The caller's version of the record is stale: someone else changed it first."""


class RuleViolation(DomainError):
    """A change is well-formed but not allowed (e.g. editing an archived record)."""


class Gone(DomainError):
    """The record's personal content was erased under the retention schedule: only its tombstone remains."""


def field_errors(exc: Exception) -> list[dict[str, str]]:
    """Each problem of a pydantic ValidationError (or a DomainError) as {field, rule, message}.

    Domain rules raised inside validators carry their own rule and, for cross-field
    rules, the field at fault; pydantic's own checks use its error type as the rule.
    """
    if isinstance(exc, DomainError):
        return [{"field": exc.field or "", "rule": exc.rule, "message": exc.message}]
    out = []
    for e in exc.errors():  # type: ignore[attr-defined]  # otherwise a pydantic ValidationError
        cause = e.get("ctx", {}).get("error")
        rule = getattr(cause, "rule", e["type"])
        loc = ".".join(str(p) for p in e["loc"])
        inner = getattr(cause, "field", None)
        field = f"{loc}.{inner}" if loc and inner else (inner or loc)
        message = getattr(cause, "message", e["msg"])
        out.append({"field": field, "rule": rule, "message": message})
    return out
