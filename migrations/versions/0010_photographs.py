"""photographs: the image bytes of the PHOTOGRAPHS section's items, sealed per record

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Additive only. One row per stored variant (the re-encoded original and its thumbnail) of a photograph; the
photograph's metadata is its section item. Items of the section written before this revision keep working:
they simply have no stored image. Deleting an item deletes its images (ON DELETE CASCADE, enforced on both
engines)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("variant", sa.String(length=12), nullable=False),
        sa.Column("nominal_id", sa.Uuid(), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("image_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["item.id"], name=op.f("fk_photo_photo_id_item"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["nominal_id"], ["nominal.id"], name=op.f("fk_photo_nominal_id_nominal")),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_key.id"], name=op.f("fk_photo_data_key_id_data_key")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo")),
        sa.UniqueConstraint("photo_id", "variant", name=op.f("uq_photo_photo_id")),
    )
    op.create_index("ix_photo_nominal", "photo", ["nominal_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_photo_nominal", table_name="photo")
    op.drop_table("photo")
