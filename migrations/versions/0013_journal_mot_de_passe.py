"""Journal des comptes : nature de chaque événement (connexion, demande de réinitialisation,
réinitialisation et changement du mot de passe)

Les lignes existantes sont des tentatives de connexion.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evenement_connexion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nature', sa.Enum('connexion', 'demande_reinitialisation', 'reinitialisation', 'changement_mot_de_passe', name='natureevenementcompte', native_enum=False, length=32), server_default='connexion', nullable=False))


def downgrade():
    with op.batch_alter_table('evenement_connexion', schema=None) as batch_op:
        batch_op.drop_column('nature')
