"""Jetons de l'API : un jeton par organisation, en lecture ou en lecture et écriture, à échéance, révocable.

Le jeton en clair n'est jamais stocké : seule son empreinte SHA-256 l'est (le jeton porte 256 bits de
hasard, une empreinte rapide suffit et permet la recherche par index). Il agit au nom d'un compte réel, son
*titulaire* (un membre de l'organisation, instructeur pour l'écriture) : le journal des dossiers retient ce
compte, en qualité d'instructeur de l'organisation du jeton. Création et révocation gardent qui et quand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
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
    ecriture: Mapped[bool] = mapped_column(default=False)  # False : lecture seule
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
    def portee(self) -> str:
        return "lecture_ecriture" if self.ecriture else "lecture"

    def expire(self, instant: datetime | None = None) -> bool:
        return self.expire_le <= (instant or maintenant())

    @property
    def actif(self) -> bool:
        return self.revoque_le is None and not self.expire()
