"""What the quality API returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RuleCount(BaseModel):
    rule: str
    description: str
    severity: str
    who: str
    count: int
    change: int | None  # since the run before; None on the first run


class RunRef(BaseModel):
    id: str
    run_on: str


class TrendPoint(BaseModel):
    id: str
    run_on: str
    started_at: str
    counts: dict[str, int]  # per rule, of what the reader may see
    total: int


class Dashboard(BaseModel):
    area: str
    run: RunRef | None
    previous_run: str | None = None
    rules: list[RuleCount]
    by_severity: dict[str, int]
    trend: list[TrendPoint] = []  # the last runs, oldest first


class Finding(BaseModel):
    rule: str
    severity: str
    who: str
    nominal_id: str
    record: str
    managing_unit: str
    owner: str | None


class WorklistPage(BaseModel):
    items: list[Finding]
    total: int
    next: str | None = Field(description="send it as `cursor` for the page after; null: this is the last")


EXPORT_COLUMNS = list(Finding.model_fields)
