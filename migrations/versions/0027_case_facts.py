"""each record's caseload facts, kept by the writes

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02

`case_facts` (decision 62, store/case_facts.py): one row a record with the dates what is due on it
follows from (its latest current risk assessment and review date, its latest current plan's review date, its
latest MAPPA meeting and level change, and the last home visit each agency may see, as its latest correction
says). The caseload and the supervisor's workload read them instead of six lookups a record on every view; the
unit of work keeps them current. Filled here for every record already registered, by the same definition as
the code's (`case_facts.facts`), in one statement."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

AGENCIES = ("police", "probation", "prison")


def _held(column: str, section: str, order: str) -> str:
    return (
        f"(SELECT i.{column} FROM item i WHERE i.nominal_id = n.id AND i.section = '{section}' "
        f"AND i.ended_at IS NULL ORDER BY {order}, i.id DESC LIMIT 1)"
    )


def _newest(section: str) -> str:
    return (
        f"(SELECT max(i.starts_on) FROM item i WHERE i.nominal_id = n.id AND i.section = '{section}' "
        "AND i.ended_at IS NULL)"
    )


def _visit(agency: str) -> str:
    """The latest home visit the agency may see, each as its latest version says (withdrawn: none)."""
    version = (
        "(SELECT CASE WHEN v.kind = 'withdrawal' THEN NULL ELSE v.occurred_at END FROM chronology_entry v "
        "WHERE v.nominal_id = n.id AND (v.id = c.id OR v.original_id = c.id) ORDER BY v.recorded_at DESC, "
        "CASE WHEN v.original_id IS NULL THEN 1 ELSE 0 END, v.id DESC LIMIT 1)"
    )
    return (
        f"(SELECT max({version}) FROM chronology_entry c WHERE c.nominal_id = n.id "
        f"AND c.kind = 'home_visit' AND (c.audience IS NULL OR c.audience LIKE '%{agency}%'))"
    )


def upgrade() -> None:
    op.create_table(
        "case_facts",
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("assessment_review_on", sa.Date(), nullable=True),
        sa.Column("plan_review_on", sa.Date(), nullable=True),
        sa.Column("last_meeting_on", sa.Date(), nullable=True),
        sa.Column("level_since", sa.Date(), nullable=True),
        *(
            sa.Column(f"last_visit_{agency}", sa.DateTime(timezone=True), nullable=True)
            for agency in AGENCIES
        ),
        sa.PrimaryKeyConstraint("nominal_id", name="pk_case_facts"),
    )
    latest = "i.starts_on DESC NULLS LAST"
    op.execute(
        "INSERT INTO case_facts (nominal_id, assessed_on, assessment_review_on, plan_review_on, "
        f"last_meeting_on, level_since, {', '.join(f'last_visit_{a}' for a in AGENCIES)}) SELECT n.id, "
        f"{_held('starts_on', 'risk_assessments', latest)}, "
        f"{_held('due_on', 'risk_assessments', latest)}, "
        f"{_held('due_on', 'risk_plans', 'coalesce(i.level, 0) DESC, ' + latest)}, "
        f"{_newest('meetings')}, {_newest('mappa_levels')}, "
        f"{', '.join(_visit(a) for a in AGENCIES)} FROM nominal n"
    )


def downgrade() -> None:
    op.drop_table("case_facts")
