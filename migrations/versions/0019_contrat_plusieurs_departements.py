"""Contrats de ville sur plusieurs départements

Un contrat de ville peut couvrir plusieurs départements (la CA du Pays d'Aix : 13 et 84, une ligne par
département dans la liste publique de l'ANCT). `departement` reste le département principal (celui de la
première ligne, qui sert aux agrégats) ; `autres_departements` garde les autres, séparés par des virgules.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"


def upgrade():
    with op.batch_alter_table("contrat_de_ville") as table:
        table.add_column(sa.Column("autres_departements", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("contrat_de_ville") as table:
        table.drop_column("autres_departements")
