"""transfers of records between areas

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("from_area", sa.String(length=40), nullable=False),
        sa.Column("to_area", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("details_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_key.id"], name=op.f("fk_transfer_data_key_id_data_key")),
        sa.ForeignKeyConstraint(["nominal_id"], ["nominal.id"], name=op.f("fk_transfer_nominal_id_nominal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    op.create_index(op.f("ix_transfer_nominal_id"), "transfer", ["nominal_id"], unique=False)
    op.create_index("ix_transfer_to_status", "transfer", ["to_area", "status"], unique=False)
    op.create_index("ix_transfer_from_status", "transfer", ["from_area", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transfer_from_status", table_name="transfer")
    op.drop_index("ix_transfer_to_status", table_name="transfer")
    op.drop_index(op.f("ix_transfer_nominal_id"), table_name="transfer")
    op.drop_table("transfer")
