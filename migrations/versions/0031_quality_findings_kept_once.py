"""each area's latest quality findings kept once, the runs' counts per rule kept beside them

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-02

A run copied every finding into a row of its own, although most of a night's findings are the night
before's: at 100,000 people writing about 220,000 rows and their index entries was half of a run over every
area (3.2 to 3.8 of 6 to 7 s). Now (decision 71) the table holds only each area's latest run's findings: a run
leaves the rows it finds again unchanged, inserts the new ones and deletes those it no longer finds. Nothing
read an older run's findings but the dashboard's trend, which counted them: each run's counts per rule, as
each agency and a system actor may see them, are written with the run (`quality_count`).

This migration counts the kept runs' findings as the trend did (distinct records per rule among the findings
for everyone and those evaluated for the agency), deletes the findings of every run that is not its area's
latest finished run, and replaces the indexes that began with the run by ones that begin with the area."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

AGENCIES = ("police", "probation", "prison")  # register.domain.enums.Agency when this was written

LATEST = """
SELECT id FROM (
    SELECT id, row_number() OVER (PARTITION BY area ORDER BY started_at DESC, id DESC) AS n
    FROM quality_run WHERE finished_at IS NOT NULL
) ranked WHERE n = 1
"""


def _counts(seen_by: str) -> str:
    seen = "" if seen_by == "all" else f"WHERE f.audience IS NULL OR f.audience = '{seen_by}'"
    return (
        f"SELECT f.run_id, f.rule_id, '{seen_by}', count(DISTINCT f.nominal_id) FROM quality_finding f "
        f"JOIN quality_run r ON r.id = f.run_id AND r.finished_at IS NOT NULL {seen} "
        "GROUP BY f.run_id, f.rule_id"
    )


def upgrade() -> None:
    op.create_table(
        "quality_count",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("seen_by", sa.String(length=20), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "rule_id", "seen_by"),
    )
    op.execute(
        "INSERT INTO quality_count (run_id, rule_id, seen_by, people) "
        + " UNION ALL ".join(_counts(seen_by) for seen_by in ("all", *AGENCIES))
    )
    op.execute(f"DELETE FROM quality_finding WHERE run_id NOT IN ({LATEST})")
    op.drop_index("ix_quality_finding_run_rule", table_name="quality_finding")
    op.drop_index("ix_quality_finding_run_owner", table_name="quality_finding")
    op.drop_index("ix_quality_finding_run_nominal", table_name="quality_finding")
    with op.batch_alter_table("quality_finding") as batch:
        batch.drop_column("run_id")
    op.create_index("ix_quality_finding_area_rule", "quality_finding", ["area", "rule_id"])
    op.create_index("ix_quality_finding_area_owner", "quality_finding", ["area", "owner"])
    op.create_index("ix_quality_finding_nominal_rule", "quality_finding", ["nominal_id", "rule_id"])


def downgrade() -> None:
    """Each area's findings become its latest run's again; the older runs' counts go with the table."""
    op.drop_index("ix_quality_finding_nominal_rule", table_name="quality_finding")
    op.drop_index("ix_quality_finding_area_owner", table_name="quality_finding")
    op.drop_index("ix_quality_finding_area_rule", table_name="quality_finding")
    with op.batch_alter_table("quality_finding") as batch:
        batch.add_column(sa.Column("run_id", sa.Uuid(), nullable=True))
    op.execute(
        f"UPDATE quality_finding SET run_id = (SELECT r.id FROM quality_run r WHERE r.id IN ({LATEST}) "
        "AND r.area = quality_finding.area)"
    )
    op.execute("DELETE FROM quality_finding WHERE run_id IS NULL")
    with op.batch_alter_table("quality_finding") as batch:
        batch.alter_column("run_id", existing_type=sa.Uuid(), nullable=False)
    op.create_index("ix_quality_finding_run_rule", "quality_finding", ["run_id", "rule_id"])
    op.create_index("ix_quality_finding_run_owner", "quality_finding", ["run_id", "owner"])
    op.create_index("ix_quality_finding_run_nominal", "quality_finding", ["run_id", "nominal_id"])
    op.drop_table("quality_count")
