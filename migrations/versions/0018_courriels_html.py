"""Courriels écrits d'après des gabarits : la boîte d'envoi garde aussi leur version HTML

Chaque message a désormais une version texte et une version HTML (templates/courriels/<message>/),
envoyées ensemble (multipart/alternative). Les courriels écrits avant restent en texte seul.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courriel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corps_html', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('courriel', schema=None) as batch_op:
        batch_op.drop_column('corps_html')
