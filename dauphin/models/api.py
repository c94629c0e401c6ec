"""Jetons de l'API : un jeton par organisation, avec ses portées (lecture, instruction, comité, paiement),
à échéance, révocable.

Le jeton en clair n'est jamais stocké : seule son empreinte SHA-256 l'est (le jeton porte 256 bits de
hasard, une empreinte rapide suffit et permet la recherche par index). Il agit au nom d'un compte réel, son
*titulaire* (un membre de l'organisation, instructeur pour toute portée d'écriture) : le journal des
dossiers retient ce compte, en qualité d'instructeur de l'organisation du jeton. Création et révocation
gardent qui et quand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import Utilisateur
from dauphin.models.referentiel import Organisation
from dauphin.models.types import Horodatage, cle_auteur, horodatage, maintenant


class JetonApi(db.Model):
    __tablename__ = "jeton_api"
    __table_args__ = (Index("ix_jeton_api_organisation_id_id", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    titulaire_id: Mapped[int] = mapped_column(ForeignKey("utilisateur.id"))
    libelle: Mapped[str] = mapped_column(String(100))
    prefixe: Mapped[str] = mapped_column(String(16))  # début du jeton, pour le reconnaître dans la liste
    empreinte: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 du jeton, en hexadécimal
    # Les portées choisies à la création (dauphin.policies.jetons.Portee), séparées par une espace
    portees: Mapped[str] = mapped_column(String(80), default="lecture")
    expire_le: Mapped[datetime] = mapped_column(Horodatage())
    cree_par_id: Mapped[int | None] = cle_auteur()
    cree_le: Mapped[datetime] = horodatage()
    revoque_par_id: Mapped[int | None] = cle_auteur()
    revoque_le: Mapped[datetime | None] = mapped_column(Horodatage())
    derniere_utilisation_le: Mapped[datetime | None] = mapped_column(Horodatage())

    organisation: Mapped[Organisation] = relationship()
    titulaire: Mapped[Utilisateur] = relationship(foreign_keys=[titulaire_id])
    cree_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[cree_par_id])
    revoque_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[revoque_par_id])

    @property
    def ensemble_portees(self):
        from dauphin.policies.jetons import lire_portees

        return lire_portees(self.portees)

    @property
    def libelle_portees(self) -> str:
        """« Lecture, Paiement » : pour les écrans et la ligne de commande."""
        from dauphin.policies.jetons import Portee

        return ", ".join(p.libelle for p in Portee if p in self.ensemble_portees) or "Aucune"

    def expire(self, instant: datetime | None = None) -> bool:
        return self.expire_le <= (instant or maintenant())

    @property
    def actif(self) -> bool:
        return self.revoque_le is None and not self.expire()


class RequeteIdempotente(db.Model):
    """Une écriture de l'API faite avec un en-tête `Idempotency-Key` : la clé, l'empreinte de la requête
    (méthode, chemin, corps) et la réponse rendue. Rejouée avec la même clé et la même requête, l'écriture
    rend la réponse gardée sans rien refaire ; l'unicité (organisation, clé) empêche deux exécutions, même
    simultanées (la seconde bute sur la contrainte)."""

    __tablename__ = "requete_idempotente"
    __table_args__ = (UniqueConstraint("organisation_id", "cle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    jeton_id: Mapped[int | None] = mapped_column(ForeignKey("jeton_api.id", ondelete="SET NULL"))
    cle: Mapped[str] = mapped_column(String(255))
    empreinte_requete: Mapped[str] = mapped_column(String(64))  # SHA-256 de méthode, chemin et corps
    statut_reponse: Mapped[int | None]  # vide : l'écriture est validée, sa réponse pas encore gardée
    corps_reponse: Mapped[str | None] = mapped_column(Text)
    cree_le: Mapped[datetime] = horodatage()
