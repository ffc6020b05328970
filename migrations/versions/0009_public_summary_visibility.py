"""public summary of an ended room: organizers may hide it, or single questions in it

Revision ID: 0009_public_summary_visibility
Revises: 0008_presence_samples
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_public_summary_visibility"
down_revision: str | None = "0008_presence_samples"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("summary_hidden", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_from_summary", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("hidden_from_summary")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("summary_hidden")
