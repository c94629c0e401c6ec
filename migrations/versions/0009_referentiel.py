"""Référentiel : verrou optimiste des campagnes, contrats, organisations et thématiques ; trace des
modifications du référentiel et des comptes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 07:40:00

"""
from alembic import op
import sqlalchemy as sa

import dauphin.models.types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES_VERSIONNEES = ('campagne', 'contrat_de_ville', 'organisation', 'thematique')


def upgrade():
    for table in TABLES_VERSIONNEES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    op.create_table('evenement_referentiel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acteur_id', sa.Integer(), nullable=True),
    sa.Column('objet_type', sa.String(length=40), nullable=False),
    sa.Column('objet_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('resume', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('horodatage', dauphin.models.types.Horodatage(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acteur_id'], ['utilisateur.id'], name=op.f('fk_evenement_referentiel_acteur_id_utilisateur')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evenement_referentiel'))
    )
    with op.batch_alter_table('evenement_referentiel', schema=None) as batch_op:
        batch_op.create_index('ix_evenement_referentiel_acteur_id', ['acteur_id'], unique=False)
        batch_op.create_index('ix_evenement_referentiel_objet', ['objet_type', 'objet_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('evenement_referentiel', schema=None) as batch_op:
        batch_op.drop_index('ix_evenement_referentiel_objet')
        batch_op.drop_index('ix_evenement_referentiel_acteur_id')
    op.drop_table('evenement_referentiel')

    for table in reversed(TABLES_VERSIONNEES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
