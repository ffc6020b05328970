"""presence samples: people in each room per sampling interval and at each state change

Revision ID: 0008_presence_samples
Revises: 0007
Create Date: 2026-12-01 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from townhall.platform.models import UTCDateTime

revision: str = "0008_presence_samples"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presence_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("state_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("panel", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_presence_samples_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_samples")),
        sa.UniqueConstraint(
            "room_id",
            "bucket",
            "state_seq",
            name=op.f("uq_presence_samples_room_id_bucket_state_seq"),
        ),
    )


def downgrade() -> None:
    op.drop_table("presence_samples")
