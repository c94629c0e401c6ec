"""Espace d'instruction : index couvrants pour les décomptes par onglet d'un gros financeur

Compter les lignes d'un financeur par onglet avec un filtre sur la demande (exercice, statut du dossier)
lisait, pour chacune de ses 23 000 lignes, la ligne et la demande dans la table (300 ms à 250 000
demandes). Avec (organisation_id, statut, demande_id) sur la ligne et (exercice, statut, id, transmise_le)
sur la demande, PostgreSQL répond par les seuls index (parcours d'index seul) : 26 ms.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.drop_index('ix_ligne_financement_organisation_statut')
        batch_op.create_index(
            'ix_ligne_financement_organisation_statut', ['organisation_id', 'statut', 'demande_id'], unique=False
        )
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.drop_index('ix_demande_exercice_statut')
        batch_op.create_index(
            'ix_demande_exercice_statut', ['exercice', 'statut', 'id', 'transmise_le'], unique=False
        )


def downgrade():
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.drop_index('ix_demande_exercice_statut')
        batch_op.create_index('ix_demande_exercice_statut', ['exercice', 'statut'], unique=False)
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.drop_index('ix_ligne_financement_organisation_statut')
        batch_op.create_index('ix_ligne_financement_organisation_statut', ['organisation_id', 'statut'], unique=False)
