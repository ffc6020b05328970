"""room speaking time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:16:10.007303
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Minutes each speaker may talk in the room; NULL means no limit is shown.
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaking_time_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("speaking_time_minutes")
