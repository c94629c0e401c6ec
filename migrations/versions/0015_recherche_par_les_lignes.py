"""Espace d'instruction : recherche libre d'un gros financeur par ses lignes et par trigrammes

La recherche (numéro, intitulé, raison sociale, sigle) d'un financeur de 23 000 lignes joignait ses
23 000 demandes pour tester le texte de chacune (120 ms au calme pour compter les onglets). Désormais :
- la ligne porte la structure de sa demande (`structure_id`, immuable : une demande ne change jamais de
  structure) et l'index (organisation_id, structure_id, statut, demande_id) donne les lignes d'un
  financeur pour les structures dont le nom correspond, sans lire les demandes ;
- sur PostgreSQL, un index GIN à trigrammes (extension pg_trgm, « de confiance » depuis PostgreSQL 13 :
  le propriétaire de la base peut la créer) trouve les demandes dont l'intitulé ou le numéro contient le
  texte cherché sans parcourir la table. Sur SQLite, le même index est un index ordinaire.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:45:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('structure_id', sa.Integer(), nullable=True))
    op.execute(
        'UPDATE ligne_financement SET structure_id = '
        '(SELECT demande.structure_id FROM demande WHERE demande.id = ligne_financement.demande_id)'
    )
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.alter_column('structure_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_ligne_financement_structure_id_structure'), 'structure', ['structure_id'], ['id']
        )
        batch_op.create_index(
            'ix_ligne_financement_organisation_structure',
            ['organisation_id', 'structure_id', 'statut', 'demande_id'],
            unique=False,
        )
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.create_index(
            'ix_demande_texte_trgm',
            ['intitule', 'numero'],
            unique=False,
            postgresql_using='gin',
            postgresql_ops={'intitule': 'gin_trgm_ops', 'numero': 'gin_trgm_ops'},
        )


def downgrade():
    with op.batch_alter_table('demande', schema=None) as batch_op:
        batch_op.drop_index('ix_demande_texte_trgm')
    with op.batch_alter_table('ligne_financement', schema=None) as batch_op:
        batch_op.drop_index('ix_ligne_financement_organisation_structure')
        batch_op.drop_constraint(
            batch_op.f('fk_ligne_financement_structure_id_structure'), type_='foreignkey'
        )
        batch_op.drop_column('structure_id')
