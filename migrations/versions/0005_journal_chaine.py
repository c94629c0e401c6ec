"""Journal inviolable : empreinte SHA-256 chaînée par dossier

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:10:00

"""
from alembic import op
import sqlalchemy as sa

import dauphin.models.types


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('empreinte', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('empreinte_precedente', sa.String(length=64), nullable=True))

    # Les lignes déjà écrites sont scellées dans l'ordre, dossier par dossier (même calcul que le service).
    from dauphin.services.empreintes import CHAMPS, empreinte

    journal = sa.table(
        'journal', sa.column('id'), *(sa.column(nom) for nom in CHAMPS),
        sa.column('horodatage', dauphin.models.types.Horodatage()),
        sa.column('empreinte'), sa.column('empreinte_precedente'),
    )
    connexion = op.get_bind()
    lignes = connexion.execute(
        sa.select(journal).order_by(journal.c.demande_id, journal.c.id)
    ).mappings().all()
    dossier, precedente = None, None
    for ligne in lignes:
        if ligne['demande_id'] != dossier:
            dossier, precedente = ligne['demande_id'], None
        scellee = empreinte(precedente, ligne['horodatage'], **{nom: ligne[nom] for nom in CHAMPS})
        connexion.execute(
            journal.update().where(journal.c.id == ligne['id'])
            .values(empreinte=scellee, empreinte_precedente=precedente)
        )
        precedente = scellee

    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.alter_column('empreinte', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_column('empreinte_precedente')
        batch_op.drop_column('empreinte')
