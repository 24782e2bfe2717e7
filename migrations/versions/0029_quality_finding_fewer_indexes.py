"""a quality run's findings keep two indexes besides their key, not three

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02

A run over every area at 100,000 people inserts about 220,000 findings, and each index of `quality_finding` is
maintained row by row: the inserts took 3.4 to 4.3 s of a 6 to 8 s run. `ix_quality_finding_run_rule` (run,
rule) served reads that the other two, both led by the run, serve as well: the dashboard's counts, the trend
and a worklist by rule read one run's findings, a few tens of thousands at most, and timed for Kent without it
the dashboard (270 against 281 ms, caches cleared), a worklist page by rule (118 against 114 ms) and by officer
(93 against 83 ms) were within the noise, while the run's inserts took 2.6 to 3.5 s (decision 65)."""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_quality_finding_run_rule", table_name="quality_finding")


def downgrade() -> None:
    op.create_index("ix_quality_finding_run_rule", "quality_finding", ["run_id", "rule_id"], unique=False)
