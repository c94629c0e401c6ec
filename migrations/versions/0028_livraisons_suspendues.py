"""Webhooks : les livraisons restées « en attente » d'une adresse déjà désactivée deviennent « suspendue »

La désactivation les marque désormais ainsi (dauphin/services/webhooks.py) ; celles d'avant gardaient un
état « en attente » et une prochaine tentative passée qui ne viendrait jamais. Aucune colonne ne change
(le statut est un VARCHAR).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 09:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"


def upgrade():
    op.execute(
        "UPDATE livraison_webhook SET statut = 'suspendue', prochaine_tentative_le = NULL "
        "WHERE statut = 'en_attente' AND abonnement_id IN "
        "(SELECT id FROM abonnement_webhook WHERE NOT actif)"
    )


def downgrade():
    # L'état d'avant : en attente, sans heure (rien ne part vers une adresse désactivée).
    op.execute("UPDATE livraison_webhook SET statut = 'en_attente' WHERE statut = 'suspendue'")
