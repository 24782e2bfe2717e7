"""each quality finding carries the day it was first found

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02

The supervisor's worklist shows, for each finding, since when it has been found: the first run of an unbroken line
of the area's runs, up to the latest, that found the same rule on the same record. It was worked out when read,
over up to 100 kept runs: with that history at 100,000 people (9.3 million findings), exporting one large rule in
Kent took 13 s. A run now writes the day with each finding (the previous run's day carried forward, decision
67), so reading it costs nothing and a run keeps only the runs the trend shows.

This migration works the day out for the findings of each area's latest run, as the reading did: within the
area's finished runs in order, a finding's line is broken by a run that did not find it (the gaps-and-islands of
its run numbers), and its day is the first run's of its line. The rows of one agency and those for everyone are
lines of their own, as a run carries them. Only the latest runs' findings are read (the worklist) and carried
forward (by the next run), so the older runs' findings keep no day: they are deleted by the next run, which
keeps the trend's 8 (at 9.3 million findings, giving every one its day took 10 minutes)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

LATEST_LINES = """
WITH runs AS (
    SELECT id, area, run_on, row_number() OVER (PARTITION BY area ORDER BY started_at, id) AS seq
    FROM quality_run WHERE finished_at IS NOT NULL
), latest AS (
    SELECT area, max(seq) AS seq FROM runs GROUP BY area
), found AS (
    SELECT f.id, r.area, r.seq, r.run_on,
           r.seq - row_number() OVER (
               PARTITION BY r.area, f.rule_id, f.nominal_id, coalesce(f.audience, '') ORDER BY r.seq
           ) AS line,
           f.rule_id, f.nominal_id, coalesce(f.audience, '') AS audience
    FROM quality_finding f JOIN runs r ON r.id = f.run_id
), lines AS (
    SELECT id, area, seq, min(run_on) OVER (PARTITION BY area, rule_id, nominal_id, audience, line) AS since
    FROM found
)
SELECT lines.id, lines.since FROM lines JOIN latest ON latest.area = lines.area AND latest.seq = lines.seq
"""


def upgrade() -> None:
    op.add_column("quality_finding", sa.Column("first_found_on", sa.Date(), nullable=True))
    op.execute(
        f"UPDATE quality_finding SET first_found_on = lines.since FROM ({LATEST_LINES}) AS lines "
        "WHERE lines.id = quality_finding.id"
    )


def downgrade() -> None:
    with op.batch_alter_table("quality_finding") as batch:
        batch.drop_column("first_found_on")
