"""Le journal : une ligne par transition, écrite dans la même transaction que le changement d'état."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.api import JetonApi
from dauphin.models.comptes import Utilisateur
from dauphin.models.referentiel import Organisation
from dauphin.models.types import cle_parent, horodatage


class EvenementJournal(db.Model):
    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_demande_id_id", "demande_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    ligne_id: Mapped[int | None] = cle_parent("ligne_financement", index=True)
    acteur_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))  # vide : le système
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id"))
    declencheur: Mapped[str] = mapped_column(String(40))
    statut_avant: Mapped[str] = mapped_column(String(32))
    statut_apres: Mapped[str] = mapped_column(String(32))
    commentaire: Mapped[str | None] = mapped_column(Text)
    # Le jeton d'API par lequel l'organisation a agi (vide : à l'écran, ou le système) ; son nom et son
    # organisation disent quel logiciel a écrit. Scellé dans l'empreinte quand il est présent.
    jeton_id: Mapped[int | None] = mapped_column(ForeignKey("jeton_api.id", ondelete="SET NULL"))
    horodatage: Mapped[datetime] = horodatage()
    # Chaînage inviolable (dauphin/services/empreintes.py) : SHA-256 de la ligne et de la précédente
    empreinte: Mapped[str] = mapped_column(String(64))
    empreinte_precedente: Mapped[str | None] = mapped_column(String(64))

    acteur: Mapped[Utilisateur | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    jeton: Mapped[JetonApi | None] = relationship()
