"""Programmation : index des demandes d'une campagne par numéro

La page de programmation lit les demandes d'une campagne dans l'ordre de leur numéro (LIMIT/OFFSET) :
sans cet index, PostgreSQL parcourt l'index unique des numéros de toutes les demandes en filtrant la
campagne.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 08:25:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.create_index('ix_demande_campagne_numero', ['campagne_id', 'numero'], unique=False)


def downgrade():
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.drop_index('ix_demande_campagne_numero')
