"""quality runs and their findings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_run")),
    )
    op.create_index("ix_quality_run_area_started", "quality_run", ["area", "started_at"], unique=False)
    op.create_table(
        "quality_finding",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("who", sa.String(length=30), nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("managing_unit", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["nominal_id"], ["nominal.id"], name=op.f("fk_quality_finding_nominal_id_nominal")),
        sa.ForeignKeyConstraint(["run_id"], ["quality_run.id"], name=op.f("fk_quality_finding_run_id_quality_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_finding")),
    )
    op.create_index("ix_quality_finding_run_owner", "quality_finding", ["run_id", "owner"], unique=False)
    op.create_index("ix_quality_finding_run_rule", "quality_finding", ["run_id", "rule_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_quality_finding_run_rule", table_name="quality_finding")
    op.drop_index("ix_quality_finding_run_owner", table_name="quality_finding")
    op.drop_table("quality_finding")
    op.drop_index("ix_quality_run_area_started", table_name="quality_run")
    op.drop_table("quality_run")
