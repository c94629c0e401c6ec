"""Comité de pilotage : feuille de présence et convocation

- `presence_comite` : la présence de chaque organisation partenaire à une séance (présente, représentée,
  excusée, absente ; la personne qui siège), tenue par le pilote jusqu'à la clôture. Le quorum se compte
  désormais sur les partenaires présents ou représentés, plus sur les votes.
- `point_ordre_du_jour.presents` et `explication` : le nombre de partenaires appelés présents ou
  représentés et le décompte lu par la clôture (voix, quorum), figés avec les voix.
- `seance_comite.convocation_*` : le dernier envoi de la convocation (numéro, date, auteur, empreinte de
  l'ordre du jour envoyé) et son PDF, rangé comme le procès-verbal.

Les séances déjà closes gardent leurs décisions ; elles n'ont pas de feuille de présence.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"


def upgrade():
    op.create_table(
        "presence_comite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seance_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "statut",
            sa.Enum(
                "present",
                "represente",
                "excuse",
                "absent",
                name="statutpresence",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("representant", sa.String(length=200), nullable=True),
        sa.Column("saisi_par_id", sa.Integer(), nullable=True),
        sa.Column("saisi_le", Horodatage(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_presence_comite_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["saisi_par_id"],
            ["utilisateur.id"],
            name=op.f("fk_presence_comite_saisi_par_id_utilisateur"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seance_id"],
            ["seance_comite.id"],
            name=op.f("fk_presence_comite_seance_id_seance_comite"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_comite")),
        sa.UniqueConstraint(
            "seance_id", "organisation_id", name=op.f("uq_presence_comite_seance_id_organisation_id")
        ),
    )
    with op.batch_alter_table("point_ordre_du_jour") as table:
        table.add_column(sa.Column("presents", sa.Integer(), nullable=True))
        table.add_column(sa.Column("explication", sa.Text(), nullable=True))
    with op.batch_alter_table("seance_comite") as table:
        table.add_column(sa.Column("convocation_numero", sa.Integer(), nullable=True))
        table.add_column(sa.Column("convocation_envoyee_le", Horodatage(timezone=True), nullable=True))
        table.add_column(sa.Column("convocation_envoyee_par_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("convocation_empreinte", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("convocation_cle_stockage", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("convocation_taille", sa.Integer(), nullable=True))
        table.add_column(sa.Column("convocation_produite_le", Horodatage(timezone=True), nullable=True))
        table.create_foreign_key(
            op.f("fk_seance_comite_convocation_envoyee_par_id_utilisateur"),
            "utilisateur",
            ["convocation_envoyee_par_id"],
            ["id"],
            ondelete="SET NULL",
        )
        table.create_unique_constraint(
            op.f("uq_seance_comite_convocation_cle_stockage"), ["convocation_cle_stockage"]
        )


def downgrade():
    with op.batch_alter_table("seance_comite") as table:
        table.drop_constraint(op.f("uq_seance_comite_convocation_cle_stockage"), type_="unique")
        table.drop_constraint(
            op.f("fk_seance_comite_convocation_envoyee_par_id_utilisateur"), type_="foreignkey"
        )
        for colonne in (
            "convocation_produite_le",
            "convocation_taille",
            "convocation_cle_stockage",
            "convocation_empreinte",
            "convocation_envoyee_par_id",
            "convocation_envoyee_le",
            "convocation_numero",
        ):
            table.drop_column(colonne)
    with op.batch_alter_table("point_ordre_du_jour") as table:
        table.drop_column("explication")
        table.drop_column("presents")
    op.drop_table("presence_comite")
