"""a quality finding no longer checks its run and record by foreign key

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01

`quality_finding.run_id` and `.nominal_id` lose their foreign keys (decision 56). A run writes a finding for
each record that breaks a rule, about 200,000 rows at 100,000 people, and PostgreSQL checked both keys row by
row: 3.1 of the 4.8 s it took to write them (`EXPLAIN ANALYZE`), and a key-share lock on each of the 94,000
records for the length of the run. The keys guarded against nothing that can happen: findings are written
only by the run (`quality.run_areas`), by one `INSERT ... SELECT` from `nominal` joined to the runs inserted
just before in the same transaction, and neither a record (erasure leaves its tombstone) nor a run is ever
deleted. The audit log and the outbox name records the same way, without a key. Their indexes stay."""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

KEYS = (
    ("fk_quality_finding_nominal_id_nominal", "nominal", "nominal_id"),
    ("fk_quality_finding_run_id_quality_run", "quality_run", "run_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("quality_finding", schema=None) as batch_op:
        for name, _, _ in KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("quality_finding", schema=None) as batch_op:
        for name, table, column in KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"])

