"""Sessions tenues par le serveur, double authentification

- `session_utilisateur` : une ligne par session ouverte (empreinte du jeton du cookie, appareil, adresse,
  dernière activité, échéance d'inactivité, fermeture) ; la déconnexion la ferme pour de bon ;
- `code_secours` : les codes de secours de la double authentification (empreintes, usage unique) ;
- `utilisateur` : secret TOTP, date d'activation, dernier pas accepté (un code ne sert qu'une fois) ;
- `organisation.second_facteur_obligatoire` : ses membres doivent activer la double authentification.

Les nouvelles natures d'`evenement_connexion` (déconnexion, code, verrouillage…) tiennent dans la colonne
VARCHAR(32) existante, sans contrainte à changer.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"


def upgrade():
    op.create_table(
        "session_utilisateur",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("jeton_compte", sa.String(length=64), nullable=False),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("derniere_activite_le", Horodatage(timezone=True), nullable=False),
        sa.Column("expire_le", Horodatage(timezone=True), nullable=False),
        sa.Column("adresse_ip", sa.String(length=45), nullable=True),
        sa.Column("appareil", sa.String(length=100), nullable=False),
        sa.Column("second_facteur", sa.Boolean(), nullable=False),
        sa.Column("fermee_le", Horodatage(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["utilisateur_id"],
            ["utilisateur.id"],
            name=op.f("fk_session_utilisateur_utilisateur_id_utilisateur"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_utilisateur")),
        sa.UniqueConstraint("empreinte", name=op.f("uq_session_utilisateur_empreinte")),
    )
    op.create_index(
        op.f("ix_session_utilisateur_utilisateur_id"), "session_utilisateur", ["utilisateur_id"]
    )
    op.create_table(
        "code_secours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("utilise_le", Horodatage(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["utilisateur_id"],
            ["utilisateur.id"],
            name=op.f("fk_code_secours_utilisateur_id_utilisateur"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_secours")),
    )
    op.create_index(op.f("ix_code_secours_utilisateur_id"), "code_secours", ["utilisateur_id"])
    with op.batch_alter_table("utilisateur") as table:
        table.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("totp_active_le", Horodatage(timezone=True), nullable=True))
        table.add_column(sa.Column("totp_dernier_pas", sa.Integer(), nullable=True))
    with op.batch_alter_table("organisation") as table:
        table.add_column(
            sa.Column("second_facteur_obligatoire", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("organisation") as table:
        table.drop_column("second_facteur_obligatoire")
    with op.batch_alter_table("utilisateur") as table:
        table.drop_column("totp_dernier_pas")
        table.drop_column("totp_active_le")
        table.drop_column("totp_secret")
    op.drop_index(op.f("ix_code_secours_utilisateur_id"), table_name="code_secours")
    op.drop_table("code_secours")
    op.drop_index(op.f("ix_session_utilisateur_utilisateur_id"), table_name="session_utilisateur")
    op.drop_table("session_utilisateur")
