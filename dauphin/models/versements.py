"""L'échéancier des versements d'une ligne de financement : avances et solde, prévus puis payés."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import Utilisateur
from dauphin.models.referentiel import enum_colonne
from dauphin.models.types import Horodatage, Montant, cle_auteur, cle_parent, horodatage, maintenant
from workflows.enumerations import EnumLibelle


class NatureVersement(EnumLibelle):
    avance = "avance", "Avance"
    solde = "solde", "Solde"

    def accorde(self, participe: str) -> str:
        """Le participe accordé au genre de l'échéance : « avance versée », « solde versé »."""
        return participe + "e" if self is NatureVersement.avance else participe


class Versement(db.Model):
    """Une échéance : prévue (date, montant), puis payée (date de paiement, montant, référence).

    Le montant payé peut différer du montant prévu (ajustement du solde) ; le total payé d'une ligne est
    aussi tenu dans `ligne_financement.montant_verse`, que sa contrainte borne au montant voté.
    """

    __tablename__ = "versement"
    __table_args__ = (
        # L'échéancier d'une ligne, dans l'ordre ; et les paiements d'une période (suivi, exports).
        Index("ix_versement_ligne_id_date_prevue", "ligne_id", "date_prevue"),
        Index("ix_versement_verse_le", "verse_le"),
        Index("ix_versement_modifie_le_id", "modifie_le", "id"),  # ce qui a changé (API, modifie_depuis)
        CheckConstraint("montant_prevu >= 0", name="prevu_positif"),
        CheckConstraint("montant_verse IS NULL OR montant_verse >= 0", name="verse_positif"),
        CheckConstraint(
            "(verse_le IS NULL AND montant_verse IS NULL AND reference IS NULL) OR "
            "(verse_le IS NOT NULL AND montant_verse IS NOT NULL AND reference IS NOT NULL)",
            name="paiement_complet",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ligne_id: Mapped[int] = cle_parent("ligne_financement")
    nature: Mapped[NatureVersement] = mapped_column(enum_colonne(NatureVersement, 16))
    date_prevue: Mapped[date]
    montant_prevu: Mapped[Decimal] = mapped_column(Montant())
    verse_le: Mapped[date | None]
    montant_verse: Mapped[Decimal | None] = mapped_column(Montant())
    reference: Mapped[str | None] = mapped_column(String(50))  # mandat, demande de paiement Chorus…
    enregistre_par_id: Mapped[int | None] = cle_auteur()
    enregistre_le: Mapped[datetime | None] = mapped_column(Horodatage())
    cree_le: Mapped[datetime] = horodatage()
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    enregistre_par: Mapped[Utilisateur | None] = relationship()

    @property
    def paye(self) -> bool:
        return self.verse_le is not None
