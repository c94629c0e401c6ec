"""Boîte d'envoi : un courriel est écrit dans la transaction qui le motive, puis envoyé par une tâche."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dauphin.extensions import db
from dauphin.models.referentiel import enum_colonne
from dauphin.models.types import Horodatage, horodatage
from workflows.enumerations import EnumLibelle


class StatutCourriel(EnumLibelle):
    en_attente = "en_attente", "En attente d’envoi"
    envoye = "envoye", "Envoyé"
    echec = "echec", "Échec d’envoi"  # abandonné après le nombre maximal de tentatives


class Courriel(db.Model):
    __tablename__ = "courriel"
    __table_args__ = (Index("ix_courriel_statut_id", "statut", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    destinataire: Mapped[str] = mapped_column(String(254))
    sujet: Mapped[str] = mapped_column(String(250))
    corps: Mapped[str] = mapped_column(Text)  # la version texte
    corps_html: Mapped[str | None] = mapped_column(Text)  # la version HTML (absente : texte seul)
    demande_id: Mapped[int | None] = mapped_column(ForeignKey("demande.id", ondelete="SET NULL"), index=True)
    statut: Mapped[StatutCourriel] = mapped_column(
        enum_colonne(StatutCourriel), default=StatutCourriel.en_attente
    )
    tentatives: Mapped[int] = mapped_column(default=0)
    derniere_erreur: Mapped[str | None] = mapped_column(Text)
    cree_le: Mapped[datetime] = horodatage()
    envoye_le: Mapped[datetime | None] = mapped_column(Horodatage())
