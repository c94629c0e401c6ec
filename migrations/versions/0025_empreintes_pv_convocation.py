"""Empreinte SHA-256 des procès-verbaux et convocations des comités

Comme les pièces (`document.sha256`) et les fichiers publiés : l'exercice de restauration
(`flask sauvegarde verifier`) et la copie vers un seau (`flask stockage migrer`) comparent chaque fichier
rangé à son empreinte enregistrée. Vides pour les PDF produits avant : seule leur taille est comparée.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"


def upgrade():
    with op.batch_alter_table("seance_comite") as table:
        table.add_column(sa.Column("pv_sha256", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("convocation_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("seance_comite") as table:
        table.drop_column("convocation_sha256")
        table.drop_column("pv_sha256")
