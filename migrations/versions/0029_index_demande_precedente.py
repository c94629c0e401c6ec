"""Index partiel des demandes par demande précédente (leur renouvellement)

La vue d'un dossier par un membre de sa structure cherche si la demande est déjà renouvelée
(`services.demandes.renouvellement_existant`) : sans index, PostgreSQL parcourait toute la table des
demandes (34 ms à 25 000 demandes, 140 ms à 250 000). Partiel : seules les demandes renouvelées ont une
précédente.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 11:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"


def upgrade():
    op.create_index(
        "ix_demande_demande_precedente_id",
        "demande",
        ["demande_precedente_id"],
        postgresql_where=sa.text("demande_precedente_id IS NOT NULL"),
        sqlite_where=sa.text("demande_precedente_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_demande_demande_precedente_id", table_name="demande")
