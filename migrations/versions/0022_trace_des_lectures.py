"""Trace des lectures : qui a consulté quel dossier, téléchargé quel document ou quel export

Une table à part du journal des transitions (`journal`, chaîné et jamais effacé) : une ligne par lecture
d'un compte d'organisation ou de l'administration (ou d'un jeton d'API), purgée après
DAUPHIN_READ_TRACE_DAYS jours. Trois index : les lectures d'un dossier, celles d'un compte, et la date
seule (liste nationale par période, purge).

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-08 04:30:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"


def _cle(colonne, cible, ondelete=None):
    table_cible = cible.split(".")[0]
    return sa.ForeignKeyConstraint(
        [colonne], [cible], name=op.f(f"fk_lecture_{colonne}_{table_cible}"), ondelete=ondelete
    )


def upgrade():
    op.create_table(
        "lecture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("horodatage", Horodatage(timezone=True), nullable=False),
        sa.Column(
            "nature",
            sa.Enum("dossier", "document", "export", name="naturelecture", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("utilisateur_id", sa.Integer(), nullable=True),
        sa.Column("jeton_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("demande_id", sa.Integer(), nullable=True),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("objet", sa.String(length=255), nullable=False),
        sa.Column("parametres", sa.JSON(), nullable=True),
        sa.Column("adresse_ip", sa.String(length=45), nullable=True),
        _cle("utilisateur_id", "utilisateur.id", ondelete="SET NULL"),
        _cle("jeton_id", "jeton_api.id", ondelete="SET NULL"),
        _cle("organisation_id", "organisation.id"),
        _cle("demande_id", "demande.id", ondelete="CASCADE"),
        _cle("structure_id", "structure.id", ondelete="CASCADE"),
        _cle("document_id", "document.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lecture")),
    )
    op.create_index("ix_lecture_demande_id_horodatage", "lecture", ["demande_id", "horodatage"])
    op.create_index("ix_lecture_utilisateur_id_horodatage", "lecture", ["utilisateur_id", "horodatage"])
    op.create_index("ix_lecture_horodatage", "lecture", ["horodatage"])


def downgrade():
    op.drop_index("ix_lecture_horodatage", table_name="lecture")
    op.drop_index("ix_lecture_utilisateur_id_horodatage", table_name="lecture")
    op.drop_index("ix_lecture_demande_id_horodatage", table_name="lecture")
    op.drop_table("lecture")
