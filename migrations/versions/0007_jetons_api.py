"""Jetons de l'API (empreinte seule, portée, échéance, révocation)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:50:00

"""
from alembic import op
import sqlalchemy as sa

import dauphin.models.types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jeton_api',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('titulaire_id', sa.Integer(), nullable=False),
    sa.Column('libelle', sa.String(length=100), nullable=False),
    sa.Column('prefixe', sa.String(length=16), nullable=False),
    sa.Column('empreinte', sa.String(length=64), nullable=False),
    sa.Column('ecriture', sa.Boolean(), nullable=False),
    sa.Column('expire_le', dauphin.models.types.Horodatage(timezone=True), nullable=False),
    sa.Column('cree_par_id', sa.Integer(), nullable=True),
    sa.Column('cree_le', dauphin.models.types.Horodatage(timezone=True), nullable=False),
    sa.Column('revoque_par_id', sa.Integer(), nullable=True),
    sa.Column('revoque_le', dauphin.models.types.Horodatage(timezone=True), nullable=True),
    sa.Column('derniere_utilisation_le', dauphin.models.types.Horodatage(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cree_par_id'], ['utilisateur.id'], name=op.f('fk_jeton_api_cree_par_id_utilisateur'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_jeton_api_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['revoque_par_id'], ['utilisateur.id'], name=op.f('fk_jeton_api_revoque_par_id_utilisateur'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['titulaire_id'], ['utilisateur.id'], name=op.f('fk_jeton_api_titulaire_id_utilisateur')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jeton_api')),
    sa.UniqueConstraint('empreinte', name=op.f('uq_jeton_api_empreinte'))
    )
    with op.batch_alter_table('jeton_api', schema=None) as batch_op:
        batch_op.create_index('ix_jeton_api_organisation_id_id', ['organisation_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('jeton_api', schema=None) as batch_op:
        batch_op.drop_index('ix_jeton_api_organisation_id_id')

    op.drop_table('jeton_api')
