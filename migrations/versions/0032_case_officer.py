"""the supervisor's workload reads its rows kept, one for each current offender manager of each record

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03

The workload (caseload/repository.py) counts, for every record its area's officers manage now, what is due
on it. It found those records by looking up each of the area's active records' current offender managers in
the items' index and joined each to its kept facts: at 100,000 people, Kent's 11,400 managed records took
about 140 ms of a view, most of it the lookups and the join (`EXPLAIN ANALYZE`). `case_officer` keeps one
row for each current (not ended) offender-manager item, with the record's header columns the workload reads
and its kept facts (decision 72), so an area's rows are one range of the (area, status) index. The unit of
work works a record's rows out again with its facts (store/case_facts.py). Filled here for every record
already registered, by the same definition as the code's (`case_facts.officer_rows`), in one statement."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

AGENCIES = ("police", "probation", "prison")
HEADER = (
    "area",
    "status",
    "managing_unit",
    "mappa_level",
    "created_at",
    "notification_subject",
    "notification_due_on",
    "notification_ends_on",
)
FACTS = (
    "assessed_on",
    "assessment_review_on",
    "plan_review_on",
    "last_meeting_on",
    "level_since",
    *(f"last_visit_{agency}" for agency in AGENCIES),
)


def upgrade() -> None:
    op.create_table(
        "case_officer",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("managing_unit", sa.String(length=200), nullable=False),
        sa.Column("mappa_level", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification_subject", sa.Boolean(), nullable=True),
        sa.Column("notification_due_on", sa.Date(), nullable=True),
        sa.Column("notification_ends_on", sa.Date(), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("assessment_review_on", sa.Date(), nullable=True),
        sa.Column("plan_review_on", sa.Date(), nullable=True),
        sa.Column("last_meeting_on", sa.Date(), nullable=True),
        sa.Column("level_since", sa.Date(), nullable=True),
        *(
            sa.Column(f"last_visit_{agency}", sa.DateTime(timezone=True), nullable=True)
            for agency in AGENCIES
        ),
        sa.PrimaryKeyConstraint("item_id", name="pk_case_officer"),
    )
    op.create_index("ix_case_officer_area_status", "case_officer", ["area", "status"], unique=False)
    op.create_index("ix_case_officer_nominal", "case_officer", ["nominal_id"], unique=False)
    columns = ["item_id", "nominal_id", "officer", "starts_on", "ends_on", *HEADER, *FACTS]
    op.execute(
        f"INSERT INTO case_officer ({', '.join(columns)}) SELECT i.id, n.id, i.ref, i.starts_on, i.ends_on, "
        f"{', '.join(f'n.{c}' for c in HEADER)}, {', '.join(f'f.{c}' for c in FACTS)} "
        "FROM nominal n JOIN item i ON i.nominal_id = n.id AND i.section = 'offender_managers' "
        "AND i.ended_at IS NULL LEFT JOIN case_facts f ON f.nominal_id = n.id"
    )


def downgrade() -> None:
    op.drop_table("case_officer")
