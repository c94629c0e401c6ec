"""Le flux des changements et les webhooks.

- `PositionFlux` : le rang de validation de chaque ligne du journal. Les identifiants du journal sont pris
  à l'insertion ; sur PostgreSQL, une transaction qui a pris l'identifiant 100 peut valider après celle qui
  a pris 101 : un lecteur passé entre les deux aurait sauté 100 pour toujours. Le rang, lui, est donné au
  moment du commit sous le verrou de `CompteurFlux` (une ligne) : deux transactions ne le prennent que
  l'une après l'autre, dans l'ordre où elles valident. Le flux se lit par rang croissant.
- `AbonnementWebhook` : l'adresse HTTPS d'une organisation et le secret qui signe les envois.
- `LivraisonWebhook` : la boîte d'envoi — une ligne par événement et par abonnement qui le voit, écrite dans
  la transaction de l'événement ; une tâche la livre, la relance en cas d'échec.

Le journal lui-même n'est pas touché (sa chaîne d'empreintes reste celle qu'il était).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import Utilisateur
from dauphin.models.journal import EvenementJournal
from dauphin.models.referentiel import Organisation, enum_colonne
from dauphin.models.types import Horodatage, cle_auteur, cle_parent, horodatage
from workflows.enumerations import EnumLibelle


class PositionFlux(db.Model):
    __tablename__ = "flux_evenement"

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    journal_id: Mapped[int] = cle_parent("journal", unique=True)
    # Le dossier était-il transmis (numéroté) quand l'événement a été validé ? Avant, c'est le travail du
    # porteur sur son brouillon : hors du flux des organisations, pour tous et pour toujours.
    transmise: Mapped[bool] = mapped_column(default=True)

    evenement: Mapped[EvenementJournal] = relationship()


class CompteurFlux(db.Model):
    """Le dernier rang donné (une seule ligne, id 1) : son verrou ordonne les commits qui journalisent."""

    __tablename__ = "compteur_flux"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dernier: Mapped[int] = mapped_column(BigInteger, default=0)


class AbonnementWebhook(db.Model):
    __tablename__ = "abonnement_webhook"
    __table_args__ = (Index("ix_abonnement_webhook_organisation_id_id", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    url: Mapped[str] = mapped_column(String(2000))
    # En clair : il faut le secret pour signer chaque envoi. Montré une fois à la création, jamais ensuite.
    secret: Mapped[str] = mapped_column(String(80))
    actif: Mapped[bool] = mapped_column(default=True)
    # Le dernier rang du flux distribué à cette adresse (voir dauphin/services/webhooks.py)
    curseur: Mapped[int] = mapped_column(BigInteger, default=0)
    cree_par_id: Mapped[int | None] = cle_auteur()
    cree_le: Mapped[datetime] = horodatage()
    desactive_par_id: Mapped[int | None] = cle_auteur()
    desactive_le: Mapped[datetime | None] = mapped_column(Horodatage())

    organisation: Mapped[Organisation] = relationship()
    cree_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[cree_par_id])
    desactive_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[desactive_par_id])

    @property
    def prefixe_secret(self) -> str:
        return self.secret[:12]


class StatutLivraison(EnumLibelle):
    en_attente = "en_attente", "En attente"  # à envoyer, ou à renvoyer à `prochaine_tentative_le`
    livree = "livree", "Livrée"  # le destinataire a répondu 2xx
    echec = "echec", "Abandonnée"  # toutes les tentatives ont échoué ; « Renvoyer » la relance
    suspendue = "suspendue", "Suspendue (adresse désactivée)"  # en attente quand l'adresse a été désactivée


class LivraisonWebhook(db.Model):
    __tablename__ = "livraison_webhook"
    __table_args__ = (
        UniqueConstraint("abonnement_id", "journal_id"),
        Index("ix_livraison_webhook_abonnement_id_id", "abonnement_id", "id"),
        Index("ix_livraison_webhook_statut_prochaine_tentative_le", "statut", "prochaine_tentative_le"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    abonnement_id: Mapped[int] = cle_parent("abonnement_webhook")
    journal_id: Mapped[int] = cle_parent("journal", index=True)
    statut: Mapped[StatutLivraison] = mapped_column(
        enum_colonne(StatutLivraison), default=StatutLivraison.en_attente
    )
    tentatives: Mapped[int] = mapped_column(default=0)
    prochaine_tentative_le: Mapped[datetime | None] = mapped_column(Horodatage())
    derniere_tentative_le: Mapped[datetime | None] = mapped_column(Horodatage())
    dernier_statut_http: Mapped[int | None] = mapped_column()
    derniere_reponse: Mapped[str | None] = mapped_column(Text)  # extrait de la réponse, ou l'erreur réseau
    livree_le: Mapped[datetime | None] = mapped_column(Horodatage())
    cree_le: Mapped[datetime] = horodatage()

    abonnement: Mapped[AbonnementWebhook] = relationship()
    evenement: Mapped[EvenementJournal] = relationship()
