"""API : portées des jetons, jeton au journal, clés d'idempotence, date de modification des versements

- `jeton_api.portees` remplace `jeton_api.ecriture` : « lecture seule » → `lecture`, « lecture et
  écriture » → `lecture instruction` (ce que l'écriture permettait : les actions d'instruction sur la
  ligne ; le vote et les paiements exigent désormais leurs portées propres).
- `journal.jeton_id` : le jeton par lequel une écriture de l'API a été faite.
- `requete_idempotente` : les écritures de l'API faites avec un en-tête `Idempotency-Key`, uniques par
  (organisation, clé).
- `modifie_le` (indexé avec l'id) sur `versement`, `structure`, `seance_comite`, `campagne` et
  `enveloppe`, index (modifie_le, id) sur `demande` : pour `modifie_depuis` et la pagination par curseur
  de l'API.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage, maintenant

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"


def upgrade():
    with op.batch_alter_table("jeton_api") as table:
        table.add_column(sa.Column("portees", sa.String(length=80), nullable=False, server_default="lecture"))
    jetons = sa.table("jeton_api", sa.column("ecriture", sa.Boolean()), sa.column("portees", sa.String()))
    op.execute(jetons.update().where(jetons.c.ecriture.is_(True)).values(portees="lecture instruction"))
    with op.batch_alter_table("jeton_api") as table:
        table.alter_column("portees", server_default=None)
        table.drop_column("ecriture")

    with op.batch_alter_table("journal") as table:
        table.add_column(sa.Column("jeton_id", sa.Integer(), nullable=True))
        table.create_foreign_key(
            op.f("fk_journal_jeton_id_jeton_api"), "jeton_api", ["jeton_id"], ["id"], ondelete="SET NULL"
        )

    op.create_table(
        "requete_idempotente",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("jeton_id", sa.Integer(), nullable=True),
        sa.Column("cle", sa.String(length=255), nullable=False),
        sa.Column("empreinte_requete", sa.String(length=64), nullable=False),
        sa.Column("statut_reponse", sa.Integer(), nullable=True),
        sa.Column("corps_reponse", sa.Text(), nullable=True),
        sa.Column("cree_le", Horodatage(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_requete_idempotente_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jeton_id"],
            ["jeton_api.id"],
            name=op.f("fk_requete_idempotente_jeton_id_jeton_api"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requete_idempotente")),
        sa.UniqueConstraint(
            "organisation_id", "cle", name=op.f("uq_requete_idempotente_organisation_id_cle")
        ),
    )

    with op.batch_alter_table("versement") as table:
        table.add_column(sa.Column("modifie_le", Horodatage(), nullable=True))
    versements = sa.table(
        "versement",
        sa.column("modifie_le", Horodatage()),
        sa.column("cree_le", Horodatage()),
        sa.column("enregistre_le", Horodatage()),
    )
    op.execute(
        versements.update().values(
            modifie_le=sa.func.coalesce(versements.c.enregistre_le, versements.c.cree_le)
        )
    )
    with op.batch_alter_table("versement") as table:
        table.alter_column("modifie_le", existing_type=Horodatage(), nullable=False)
    op.create_index("ix_versement_modifie_le_id", "versement", ["modifie_le", "id"])
    op.create_index("ix_demande_modifie_le_id", "demande", ["modifie_le", "id"])

    # La date de dernière modification là où il n'y en avait pas : la création quand on la connaît,
    # sinon l'instant de la migration (tout est « modifié » une fois, puis suivi).
    for table, depuis in (
        ("structure", "cree_le"),
        ("seance_comite", "cree_le"),
        ("campagne", None),
        ("enveloppe", None),
    ):
        with op.batch_alter_table(table) as lot:
            lot.add_column(sa.Column("modifie_le", Horodatage(), nullable=True))
        lignes = sa.table(table, sa.column("modifie_le", Horodatage()), sa.column("cree_le", Horodatage()))
        valeur = lignes.c.cree_le if depuis else sa.literal(maintenant(), Horodatage())
        op.execute(lignes.update().values(modifie_le=valeur))
        with op.batch_alter_table(table) as lot:
            lot.alter_column("modifie_le", existing_type=Horodatage(), nullable=False)
        op.create_index(f"ix_{table}_modifie_le_id", table, ["modifie_le", "id"])


def downgrade():
    for table in ("structure", "seance_comite", "campagne", "enveloppe"):
        op.drop_index(f"ix_{table}_modifie_le_id", table_name=table)
        with op.batch_alter_table(table) as lot:
            lot.drop_column("modifie_le")
    op.drop_index("ix_demande_modifie_le_id", table_name="demande")
    op.drop_index("ix_versement_modifie_le_id", table_name="versement")
    with op.batch_alter_table("versement") as table:
        table.drop_column("modifie_le")
    op.drop_table("requete_idempotente")
    with op.batch_alter_table("journal") as table:
        table.drop_constraint(op.f("fk_journal_jeton_id_jeton_api"), type_="foreignkey")
        table.drop_column("jeton_id")
    with op.batch_alter_table("jeton_api") as table:
        table.add_column(sa.Column("ecriture", sa.Boolean(), nullable=False, server_default=sa.false()))
    jetons = sa.table("jeton_api", sa.column("ecriture", sa.Boolean()), sa.column("portees", sa.String()))
    op.execute(jetons.update().where(jetons.c.portees.like("%instruction%")).values(ecriture=True))
    with op.batch_alter_table("jeton_api") as table:
        table.alter_column("ecriture", server_default=None)
        table.drop_column("portees")
