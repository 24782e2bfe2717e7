"""merges (provenance on moved rows), duplicate dismissals, retention columns

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("retention_review_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("dispose_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("erased_on", sa.Date(), nullable=True))
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_from_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_from_id", sa.Uuid(), nullable=True))
    op.create_table(
        "merge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("merged_status_before", sa.String(length=20), nullable=False),
        sa.Column("added_item_ids", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("merged_by", sa.String(length=100), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmerged_by", sa.String(length=100), nullable=True),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("unmerge_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_key.id"], name=op.f("fk_merge_data_key_id_data_key")),
        sa.ForeignKeyConstraint(["survivor_id"], ["nominal.id"], name=op.f("fk_merge_survivor_id_nominal")),
        sa.ForeignKeyConstraint(["merged_id"], ["nominal.id"], name=op.f("fk_merge_merged_id_nominal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge")),
    )
    op.create_index(op.f("ix_merge_survivor_id"), "merge", ["survivor_id"])
    op.create_index(op.f("ix_merge_merged_id"), "merge", ["merged_id"])
    op.create_table(
        "duplicate_dismissal",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("first_id", sa.Uuid(), nullable=False),
        sa.Column("second_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_key.id"], name=op.f("fk_duplicate_dismissal_data_key_id_data_key")),
        sa.ForeignKeyConstraint(["first_id"], ["nominal.id"], name=op.f("fk_duplicate_dismissal_first_id_nominal")),
        sa.ForeignKeyConstraint(["second_id"], ["nominal.id"], name=op.f("fk_duplicate_dismissal_second_id_nominal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_dismissal")),
        sa.UniqueConstraint("first_id", "second_id", name=op.f("uq_duplicate_dismissal_first_id")),
    )


def downgrade() -> None:
    op.drop_table("duplicate_dismissal")
    op.drop_index(op.f("ix_merge_merged_id"), table_name="merge")
    op.drop_index(op.f("ix_merge_survivor_id"), table_name="merge")
    op.drop_table("merge")
    with op.batch_alter_table("chronology_entry", schema=None) as batch_op:
        batch_op.drop_column("merged_from_id")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("merged_from_id")
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_column("erased_on")
        batch_op.drop_column("dispose_from")
        batch_op.drop_column("retention_review_on")
        batch_op.drop_column("legal_hold")
