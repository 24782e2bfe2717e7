"""page indexes: an offender manager's items by their user id, a record's quality findings in a run

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Additive only. My caseload (caseload/repository.py) finds the records a user manages by the `ref` of their
current `offender_managers` items (the user id); without an index on it every caseload page read every
offender manager item of the register (about 40 ms at 20,000 people, growing with the register). A record's
overview shows its open findings in its area's latest quality run (quality/service.py, `record_findings`);
without an index on the run and the record every overview read every finding of every run."""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX on both engines: no batch copy of a table is needed for an index.
    op.create_index("ix_item_section_ref", "item", ["section", "ref"])
    op.create_index("ix_quality_finding_run_nominal", "quality_finding", ["run_id", "nominal_id"])


def downgrade() -> None:
    op.drop_index("ix_quality_finding_run_nominal", table_name="quality_finding")
    op.drop_index("ix_item_section_ref", table_name="item")
