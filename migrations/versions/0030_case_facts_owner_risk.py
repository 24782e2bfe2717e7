"""each record's kept caseload facts carry its current offender manager and risk level

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02

The quality run reads, for every swept record, the user id of its latest current offender manager (who owns a
finding) and the overall RoSH of its latest current risk assessment (VISIT-OVERDUE's interval). It worked them
out on every run from the register's current officers and assessments, a window over 200,000 items (0.4 to 0.5
s of a run over every area at 100,000 people). Both follow from the record's items alone, as the other kept
facts do, so `case_facts` keeps them (decision 69) and the unit of work works them out again with the rest.
"Latest" is the assessment's: the latest start, a dateless item after every dated one, then the highest id
(the run's own order had put a dateless item first on PostgreSQL and last on SQLite). Filled here for every
kept row, by the same definition as the code's (`case_facts.facts`), in one statement."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def _held(column: str, section: str) -> str:
    return (
        f"(SELECT i.{column} FROM item i WHERE i.nominal_id = case_facts.nominal_id "
        f"AND i.section = '{section}' AND i.ended_at IS NULL "
        "ORDER BY i.starts_on DESC NULLS LAST, i.id DESC LIMIT 1)"
    )


def upgrade() -> None:
    with op.batch_alter_table("case_facts") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("risk_level", sa.String(length=40), nullable=True))
    op.execute(
        f"UPDATE case_facts SET owner = {_held('ref', 'offender_managers')}, "
        f"risk_level = {_held('status', 'risk_assessments')}"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_facts") as batch_op:
        batch_op.drop_column("risk_level")
        batch_op.drop_column("owner")
