"""Campagnes (appels à projets) : une par contrat de ville et par exercice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.referentiel import ContratDeVille, Organisation, enum_colonne
from dauphin.models.structures import TypePiece
from dauphin.models.types import Horodatage, Montant, cle_parent, enfants, maintenant


class Campagne(db.Model):
    __tablename__ = "campagne"
    __table_args__ = (
        UniqueConstraint("contrat_id", "exercice"),
        CheckConstraint("date_cloture >= date_ouverture", name="dates_ordonnees"),
        Index("ix_campagne_modifie_le_id", "modifie_le", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contrat_id: Mapped[int] = mapped_column(ForeignKey("contrat_de_ville.id"))
    exercice: Mapped[int] = mapped_column(index=True)
    libelle: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    date_ouverture: Mapped[date]
    date_cloture: Mapped[date]  # incluse : dépôt possible jusqu'à la fin de ce jour (heure de Paris)
    seuil_ecart_pourcentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("15"))
    # Verrou optimiste : une page périmée reçoit un conflit, jamais une écriture perdue.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Dernière modification de la ligne elle-même (API : modifie_depuis et pages par curseur)
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    __mapper_args__ = {"version_id_col": version}

    contrat: Mapped[ContratDeVille] = relationship()
    questions_eligibilite: Mapped[list[QuestionEligibilite]] = enfants(
        "campagne", order_by="QuestionEligibilite.ordre"
    )
    pieces_requises: Mapped[list[PieceRequise]] = enfants("campagne", order_by="PieceRequise.id")
    enveloppes: Mapped[list[Enveloppe]] = enfants("campagne")

    @property
    def financeurs_ids(self) -> list[int]:
        """Les financeurs qui participent à la campagne : ceux qui y ont une enveloppe."""
        return [enveloppe.organisation_id for enveloppe in self.enveloppes]

    def est_ouverte(self, jour: date) -> bool:
        return self.date_ouverture <= jour <= self.date_cloture


class QuestionEligibilite(db.Model):
    __tablename__ = "question_eligibilite"

    id: Mapped[int] = mapped_column(primary_key=True)
    campagne_id: Mapped[int] = cle_parent("campagne", index=True)
    ordre: Mapped[int] = mapped_column(default=0)
    libelle: Mapped[str] = mapped_column(String(500))
    reponse_attendue: Mapped[bool]

    campagne: Mapped[Campagne] = relationship(back_populates="questions_eligibilite")


class PieceRequise(db.Model):
    __tablename__ = "piece_requise"
    __table_args__ = (UniqueConstraint("campagne_id", "type_piece"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campagne_id: Mapped[int] = cle_parent("campagne")
    type_piece: Mapped[TypePiece] = mapped_column(enum_colonne(TypePiece))
    obligatoire: Mapped[bool] = mapped_column(default=True)

    campagne: Mapped[Campagne] = relationship(back_populates="pieces_requises")

    @property
    def libelle(self) -> str:
        return self.type_piece.libelle


class Enveloppe(db.Model):
    """Budget d'un financeur pour un contrat de ville et un exercice (la campagne)."""

    __tablename__ = "enveloppe"
    __table_args__ = (
        UniqueConstraint("campagne_id", "organisation_id"),
        CheckConstraint("montant >= 0", name="montant_positif"),
        Index("ix_enveloppe_modifie_le_id", "modifie_le", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campagne_id: Mapped[int] = cle_parent("campagne")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    montant: Mapped[Decimal] = mapped_column(Montant())
    # Dernière modification de la ligne elle-même (API : modifie_depuis et pages par curseur)
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    campagne: Mapped[Campagne] = relationship(back_populates="enveloppes")
    organisation: Mapped[Organisation] = relationship()
