"""Données ouvertes : SIRET des organisations et publications SCDL « Subventions »

- `organisation.siret` : le SIRET de l'établissement qui attribue, `idAttribuant` des données essentielles
  des subventions (SCDL Subventions 2.1.1) ; facultatif, mais sans lui le financeur ne peut pas publier.
- `publication_donnees_ouvertes` : le dernier fichier publié par financeur et par exercice (nom, nombre de
  lignes, taille, empreinte, date), listé par la page publique /donnees-ouvertes/.

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-07 05:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"


def upgrade():
    with op.batch_alter_table("organisation") as table:
        table.add_column(sa.Column("siret", sa.String(length=14), nullable=True))

    op.create_table(
        "publication_donnees_ouvertes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("exercice", sa.Integer(), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("nom_fichier", sa.String(length=64), nullable=False),
        sa.Column("nb_lignes", sa.Integer(), nullable=False),
        sa.Column("taille", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("publie_le", Horodatage(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_publication_donnees_ouvertes_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_donnees_ouvertes")),
        sa.UniqueConstraint(
            "organisation_id",
            "exercice",
            name=op.f("uq_publication_donnees_ouvertes_organisation_id_exercice"),
        ),
    )
    op.create_index("ix_publication_donnees_ouvertes_exercice", "publication_donnees_ouvertes", ["exercice"])


def downgrade():
    op.drop_index("ix_publication_donnees_ouvertes_exercice", table_name="publication_donnees_ouvertes")
    op.drop_table("publication_donnees_ouvertes")
    with op.batch_alter_table("organisation") as table:
        table.drop_column("siret")
