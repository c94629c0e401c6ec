"""Trace des changements du référentiel et des comptes : qui, quand, quoi (le journal des demandes,
lui, ne porte que sur les dossiers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import Utilisateur
from dauphin.models.types import horodatage


class EvenementReferentiel(db.Model):
    """Une modification du référentiel (contrat, QPV, organisation, thématique, campagne, import) ou d'un
    compte (rôles, désactivation). Jamais modifiée ni supprimée par l'application."""

    __tablename__ = "evenement_referentiel"
    __table_args__ = (
        Index("ix_evenement_referentiel_objet", "objet_type", "objet_id", "id"),
        Index("ix_evenement_referentiel_acteur_id", "acteur_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    acteur_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))  # vide : ligne de commande
    objet_type: Mapped[str] = mapped_column(String(40))
    objet_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    resume: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict | None] = mapped_column(JSON)
    horodatage: Mapped[datetime] = horodatage()

    acteur: Mapped[Utilisateur | None] = relationship()
