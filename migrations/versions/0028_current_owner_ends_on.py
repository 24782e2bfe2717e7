"""the current offender managers' index carries when each term ends (PostgreSQL)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02

The supervisor's workload (caseload/repository.py, decision 62) first finds who manages each of the area's
active records now: a current `offender_managers` item whose term has begun and not ended. The index of
migration 0026 (`ix_item_current_owner_risk`) holds the record, section, start and officer of every current
offender manager, but not the end of the term, so each of Kent's 11,500 lookups at 100,000 people read the
item's row as well (about 200 ms of the page's half second, `EXPLAIN ANALYZE`). On PostgreSQL the index now
carries `ends_on` too: the lookups read the index alone. SQLite indexes carry no extra columns: unchanged."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

CURRENT_OWNER_RISK = sa.text("ended_at IS NULL AND section IN ('offender_managers', 'risk_assessments')")
COLUMNS = ["nominal_id", "section", "starts_on", "id"]


def _recreate(include: list[str]) -> None:
    op.drop_index("ix_item_current_owner_risk", table_name="item")
    op.create_index(
        "ix_item_current_owner_risk",
        "item",
        COLUMNS,
        unique=False,
        postgresql_include=include,
        postgresql_where=CURRENT_OWNER_RISK,
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _recreate(["ref", "status", "ends_on"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _recreate(["ref", "status"])
