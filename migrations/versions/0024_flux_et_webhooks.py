"""Flux des changements et webhooks

- `flux_evenement` : le rang de validation de chaque ligne du journal (l'ordre du flux de l'API et des
  webhooks), donné au commit sous le verrou de `compteur_flux` ; les lignes déjà au journal prennent leur
  identifiant pour rang (toutes validées : leur ordre est fixé).
- `abonnement_webhook` : les adresses HTTPS des organisations, leur secret et leur curseur dans le flux.
- `livraison_webhook` : la boîte d'envoi (une ligne par événement et par abonnement), ses tentatives.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"


def upgrade():
    op.create_table(
        "compteur_flux",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dernier", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compteur_flux")),
    )
    op.create_table(
        "flux_evenement",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("transmise", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journal.id"], name=op.f("fk_flux_evenement_journal_id_journal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_flux_evenement")),
        sa.UniqueConstraint("journal_id", name=op.f("uq_flux_evenement_journal_id")),
    )
    op.create_table(
        "abonnement_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("curseur", sa.BigInteger(), nullable=False),
        sa.Column("cree_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(), nullable=False),
        sa.Column("desactive_par_id", sa.Integer(), nullable=True),
        sa.Column("desactive_le", Horodatage(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cree_par_id"], ["utilisateur.id"], name=op.f("fk_abonnement_webhook_cree_par_id_utilisateur"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["desactive_par_id"], ["utilisateur.id"],
            name=op.f("fk_abonnement_webhook_desactive_par_id_utilisateur"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_abonnement_webhook_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abonnement_webhook")),
    )
    op.create_index(
        "ix_abonnement_webhook_organisation_id_id", "abonnement_webhook", ["organisation_id", "id"]
    )
    op.create_table(
        "livraison_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("abonnement_id", sa.Integer(), nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("statut", sa.String(length=32), nullable=False),
        sa.Column("tentatives", sa.Integer(), nullable=False),
        sa.Column("prochaine_tentative_le", Horodatage(), nullable=True),
        sa.Column("derniere_tentative_le", Horodatage(), nullable=True),
        sa.Column("dernier_statut_http", sa.Integer(), nullable=True),
        sa.Column("derniere_reponse", sa.Text(), nullable=True),
        sa.Column("livree_le", Horodatage(), nullable=True),
        sa.Column("cree_le", Horodatage(), nullable=False),
        sa.ForeignKeyConstraint(
            ["abonnement_id"], ["abonnement_webhook.id"],
            name=op.f("fk_livraison_webhook_abonnement_id_abonnement_webhook"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journal.id"], name=op.f("fk_livraison_webhook_journal_id_journal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_livraison_webhook")),
        sa.UniqueConstraint(
            "abonnement_id", "journal_id", name=op.f("uq_livraison_webhook_abonnement_id_journal_id")
        ),
    )
    op.create_index("ix_livraison_webhook_abonnement_id_id", "livraison_webhook", ["abonnement_id", "id"])
    op.create_index("ix_livraison_webhook_journal_id", "livraison_webhook", ["journal_id"])
    op.create_index(
        "ix_livraison_webhook_statut_prochaine_tentative_le",
        "livraison_webhook",
        ["statut", "prochaine_tentative_le"],
    )
    # Le journal déjà écrit : validé, son ordre est fixé. Hors du flux des organisations, ce qui précède la
    # transmission (le brouillon du porteur).
    op.execute(
        """
        INSERT INTO flux_evenement (position, journal_id, transmise)
        SELECT j.id, j.id,
               CASE WHEN d.numero IS NOT NULL AND j.id >= (
                   SELECT min(a.id) FROM journal a WHERE a.demande_id = j.demande_id AND a.declencheur = 'attester'
               ) THEN true ELSE false END
        FROM journal j JOIN demande d ON d.id = j.demande_id
        """
    )
    op.execute("INSERT INTO compteur_flux (id, dernier) SELECT 1, coalesce(max(id), 0) FROM journal")


def downgrade():
    op.drop_index("ix_livraison_webhook_statut_prochaine_tentative_le", table_name="livraison_webhook")
    op.drop_index("ix_livraison_webhook_journal_id", table_name="livraison_webhook")
    op.drop_index("ix_livraison_webhook_abonnement_id_id", table_name="livraison_webhook")
    op.drop_table("livraison_webhook")
    op.drop_index("ix_abonnement_webhook_organisation_id_id", table_name="abonnement_webhook")
    op.drop_table("abonnement_webhook")
    op.drop_table("flux_evenement")
    op.drop_table("compteur_flux")
