"""Engagement et versements : acte produit par le portail (notification ou convention), échéancier

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 07:40:00

"""
from alembic import op
import sqlalchemy as sa

import dauphin.models.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('versement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ligne_id', sa.Integer(), nullable=False),
    sa.Column('nature', sa.Enum('avance', 'solde', name='natureversement', native_enum=False, length=16), nullable=False),
    sa.Column('date_prevue', sa.Date(), nullable=False),
    sa.Column('montant_prevu', dauphin.models.types.Montant(precision=14, scale=2), nullable=False),
    sa.Column('verse_le', sa.Date(), nullable=True),
    sa.Column('montant_verse', dauphin.models.types.Montant(precision=14, scale=2), nullable=True),
    sa.Column('reference', sa.String(length=50), nullable=True),
    sa.Column('enregistre_par_id', sa.Integer(), nullable=True),
    sa.Column('enregistre_le', dauphin.models.types.Horodatage(timezone=True), nullable=True),
    sa.Column('cree_le', dauphin.models.types.Horodatage(timezone=True), nullable=False),
    sa.CheckConstraint('montant_prevu >= 0', name=op.f('ck_versement_prevu_positif')),
    sa.CheckConstraint('montant_verse IS NULL OR montant_verse >= 0', name=op.f('ck_versement_verse_positif')),
    sa.CheckConstraint('(verse_le IS NULL AND montant_verse IS NULL AND reference IS NULL) OR (verse_le IS NOT NULL AND montant_verse IS NOT NULL AND reference IS NOT NULL)', name=op.f('ck_versement_paiement_complet')),
    sa.ForeignKeyConstraint(['enregistre_par_id'], ['utilisateur.id'], name=op.f('fk_versement_enregistre_par_id_utilisateur'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ligne_id'], ['ligne_financement.id'], name=op.f('fk_versement_ligne_id_ligne_financement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_versement'))
    )
    with op.batch_alter_table('versement', schema=None) as batch_op:
        batch_op.create_index('ix_versement_ligne_id_date_prevue', ['ligne_id', 'date_prevue'], unique=False)
        batch_op.create_index('ix_versement_verse_le', ['verse_le'], unique=False)

    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acte_document_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ligne_financement_acte_document_id_document'), 'document', ['acte_document_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ligne_financement_acte_document_id_document'), type_='foreignkey')
        batch_op.drop_column('acte_document_id')

    with op.batch_alter_table('versement', schema=None) as batch_op:
        batch_op.drop_index('ix_versement_verse_le')
        batch_op.drop_index('ix_versement_ligne_id_date_prevue')

    op.drop_table('versement')
