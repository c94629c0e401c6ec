"""Le compte rendu financier de l'action (CERFA n°15059), ses rappels et les demandes de report de dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import Utilisateur
from dauphin.models.demandes import Demande
from dauphin.models.referentiel import Organisation, Qpv, enum_colonne
from dauphin.models.types import Horodatage, Montant, cle_parent, enfants, horodatage, maintenant
from workflows.compte_rendu import ecart_euros, ecart_pourcentage
from workflows.enumerations import EnumLibelle


class CompteRendu(db.Model):
    """Rempli une fois par le porteur pour tous les financeurs ; ouvert à la clôture de l'exercice."""

    __tablename__ = "compte_rendu"
    __table_args__ = (
        CheckConstraint(
            "beneficiaires_hors_qpv IS NULL OR beneficiaires_hors_qpv >= 0", name="hors_qpv_positif"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande", unique=True)
    version: Mapped[int] = mapped_column(default=1)
    echeance: Mapped[date] = mapped_column(index=True)
    action_realisee: Mapped[bool] = mapped_column(default=True)
    motif_non_realisation: Mapped[str | None] = mapped_column(Text)
    bilan: Mapped[str | None] = mapped_column(Text)  # ce qui a été fait
    public_atteint: Mapped[str | None] = mapped_column(Text)
    beneficiaires_hors_qpv: Mapped[int | None]
    depose_le: Mapped[datetime | None] = mapped_column(Horodatage())
    depose_par_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    cree_le: Mapped[datetime] = horodatage()
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    __mapper_args__ = {"version_id_col": version}

    demande: Mapped[Demande] = relationship(
        backref=backref("compte_rendu", uselist=False, cascade="all, delete-orphan")
    )
    depose_par: Mapped[Utilisateur | None] = relationship()
    lignes: Mapped[list[LigneCompteRendu]] = enfants("compte_rendu", order_by="LigneCompteRendu.ordre")
    beneficiaires_qpv: Mapped[list[BeneficiairesQpv]] = enfants("compte_rendu")


class LigneCompteRendu(db.Model):
    """Un poste du tableau financier : le prévu (figé à l'ouverture, d'après le budget de la demande)
    et le réalisé, avec l'explication de l'écart."""

    __tablename__ = "ligne_compte_rendu"
    __table_args__ = (
        Index("ix_ligne_compte_rendu_compte_rendu_id_ordre", "compte_rendu_id", "ordre"),
        CheckConstraint("montant_prevu >= 0", name="prevu_positif"),
        CheckConstraint("montant_realise IS NULL OR montant_realise >= 0", name="realise_positif"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compte_rendu_id: Mapped[int] = cle_parent("compte_rendu")
    compte: Mapped[str] = mapped_column(String(4))
    financeur_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    financeur_libelle: Mapped[str | None] = mapped_column(String(200))
    ordre: Mapped[int] = mapped_column(default=0)
    montant_prevu: Mapped[Decimal] = mapped_column(Montant())
    montant_realise: Mapped[Decimal | None] = mapped_column(Montant())
    explication: Mapped[str | None] = mapped_column(Text)

    compte_rendu: Mapped[CompteRendu] = relationship(back_populates="lignes")
    financeur: Mapped[Organisation | None] = relationship()

    @property
    def cle(self) -> int:
        return self.ordre

    @property
    def nom_financeur(self) -> str | None:
        return self.financeur.nom if self.financeur is not None else self.financeur_libelle

    @property
    def ecart(self) -> Decimal | None:
        return ecart_euros(self.montant_prevu, self.montant_realise)

    @property
    def ecart_pourcentage(self) -> Decimal | None:
        return ecart_pourcentage(self.montant_prevu, self.montant_realise)


class BeneficiairesQpv(db.Model):
    """Les bénéficiaires atteints, par quartier prioritaire de l'action."""

    __tablename__ = "beneficiaires_qpv"
    __table_args__ = (CheckConstraint("nombre >= 0", name="nombre_positif"),)

    compte_rendu_id: Mapped[int] = cle_parent("compte_rendu", primary_key=True)
    qpv_id: Mapped[int] = mapped_column(ForeignKey("qpv.id"), primary_key=True)
    nombre: Mapped[int]

    compte_rendu: Mapped[CompteRendu] = relationship(back_populates="beneficiaires_qpv")
    qpv: Mapped[Qpv] = relationship()


class NatureRappel(StrEnum):
    avant = "avant"  # l'échéance approche
    apres = "apres"  # l'échéance est passée


class RappelCompteRendu(db.Model):
    """Un rappel envoyé : la contrainte d'unicité rend `flask exercice relancer` idempotent (un rappel de
    chaque nature par échéance ; une échéance reportée en appelle de nouveaux)."""

    __tablename__ = "rappel_compte_rendu"
    __table_args__ = (UniqueConstraint("demande_id", "nature", "echeance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    nature: Mapped[NatureRappel] = mapped_column(enum_colonne(NatureRappel, 16))
    echeance: Mapped[date]
    envoye_le: Mapped[datetime] = horodatage()
    destinataires: Mapped[int] = mapped_column(default=0)


class StatutReport(EnumLibelle):
    en_attente = "en_attente", "En attente de réponse"
    accepte = "accepte", "Accepté"
    refuse = "refuse", "Refusé"


class ReportDates(db.Model):
    """Le porteur demande à décaler les dates de l'action ; un financeur qui a voté accepte ou refuse."""

    __tablename__ = "report_dates"
    __table_args__ = (
        Index("ix_report_dates_demande_id_id", "demande_id", "id"),
        CheckConstraint("date_fin >= date_debut", name="dates_ordonnees"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    date_debut: Mapped[date]
    date_fin: Mapped[date]
    ancienne_date_debut: Mapped[date | None]
    ancienne_date_fin: Mapped[date | None]
    motif: Mapped[str] = mapped_column(Text)
    statut: Mapped[StatutReport] = mapped_column(
        enum_colonne(StatutReport, 16), default=StatutReport.en_attente
    )
    demande_par_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    demande_le: Mapped[datetime] = horodatage()
    decide_par_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    decide_le: Mapped[datetime | None] = mapped_column(Horodatage())
    reponse: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation | None] = relationship()
