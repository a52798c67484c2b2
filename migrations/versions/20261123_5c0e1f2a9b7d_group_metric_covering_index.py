"""group metric covering index for HQ coverage

Revision ID: 5c0e1f2a9b7d
Revises: ddf0eae89c05
Create Date: 2026-11-23 08:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c0e1f2a9b7d'
down_revision = 'ddf0eae89c05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('group_metric', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_metric_day'))
        batch_op.create_index('ix_group_metric_day_cover', ['day', 'group_id', 'dealer_id', 'joins'], unique=False)


def downgrade():
    with op.batch_alter_table('group_metric', schema=None) as batch_op:
        batch_op.drop_index('ix_group_metric_day_cover')
        batch_op.create_index(batch_op.f('ix_group_metric_day'), ['day'], unique=False)
