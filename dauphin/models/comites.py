"""Le comité de pilotage d'un contrat de ville : séance, ordre du jour, votes des partenaires, montants des
financeurs. Les décisions elles-mêmes sont portées par les lignes de financement (votée / refusée)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.campagnes import Campagne
from dauphin.models.comptes import Utilisateur
from dauphin.models.demandes import Demande, LigneFinancement
from dauphin.models.referentiel import ContratDeVille, Organisation, enum_colonne
from dauphin.models.types import Horodatage, Montant, cle_auteur, cle_parent, enfants, horodatage, maintenant
from workflows.enumerations import EnumLibelle


class StatutSeance(EnumLibelle):
    preparation = "preparation", "En préparation"  # le pilote compose l'ordre du jour
    # les partenaires votent, les financeurs saisissent leurs montants
    vote_ouvert = "vote_ouvert", "Vote ouvert"
    close = "close", "Close"  # décisions fixées, procès-verbal produit : plus rien ne change


class ChoixVote(EnumLibelle):
    pour = "pour", "Pour"
    contre = "contre", "Contre"
    abstention = "abstention", "Abstention"
    # conflit d'intérêts : l'organisation ne prend pas part à ce vote
    recusation = "recusation", "Ne prend pas part au vote (conflit d’intérêts)"


class StatutPresence(EnumLibelle):
    """La présence d'une organisation partenaire à la séance (libellés au féminin : l'organisation)."""

    present = "present", "Présente"
    represente = "represente", "Représentée"  # par une personne qu'elle a mandatée
    excuse = "excuse", "Excusée"
    absent = "absent", "Absente"

    @property
    def siege(self) -> bool:
        """Présente ou représentée : elle compte pour le quorum et son vote est compté."""
        return self in (StatutPresence.present, StatutPresence.represente)


class DecisionPoint(EnumLibelle):
    favorable = "favorable", "Avis favorable"
    defavorable = "defavorable", "Avis défavorable"
    # quorum non atteint : le dossier revient « instruit », pour une autre séance
    ajourne = "ajourne", "Ajourné (quorum non atteint)"


class SeanceComite(db.Model):
    __tablename__ = "seance_comite"
    __table_args__ = (
        Index("ix_seance_comite_contrat_date", "contrat_id", "date_seance"),
        Index("ix_seance_comite_modifie_le_id", "modifie_le", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contrat_id: Mapped[int] = mapped_column(ForeignKey("contrat_de_ville.id"))
    campagne_id: Mapped[int] = mapped_column(ForeignKey("campagne.id"), index=True)
    date_seance: Mapped[date]
    lieu: Mapped[str | None] = mapped_column(String(200))
    statut: Mapped[StatutSeance] = mapped_column(enum_colonne(StatutSeance), default=StatutSeance.preparation)
    version: Mapped[int] = mapped_column(default=1)
    # Dernière modification de la séance elle-même (API : modifie_depuis et pages par curseur)
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)
    cree_par_id: Mapped[int | None] = cle_auteur()
    cree_le: Mapped[datetime] = horodatage()
    vote_ouvert_le: Mapped[datetime | None] = mapped_column(Horodatage())
    close_le: Mapped[datetime | None] = mapped_column(Horodatage())
    close_par_id: Mapped[int | None] = cle_auteur()
    # Règles du contrat au moment de la clôture (elles peuvent changer ensuite : le PV garde les siennes)
    quorum_pourcentage: Mapped[int | None]
    regle_majorite: Mapped[str | None] = mapped_column(String(20))
    # Procès-verbal (PDF produit par une tâche après la clôture), rangé comme les autres fichiers
    pv_cle_stockage: Mapped[str | None] = mapped_column(String(64), unique=True)
    pv_taille: Mapped[int | None]
    pv_sha256: Mapped[str | None] = mapped_column(String(64))
    pv_produit_le: Mapped[datetime | None] = mapped_column(Horodatage())
    # Convocation : le dernier envoi (numéro, quand, par qui, empreinte de l'ordre du jour envoyé) et son
    # PDF, produit par une tâche après l'envoi (vide tant qu'il est en production)
    convocation_numero: Mapped[int | None]
    convocation_envoyee_le: Mapped[datetime | None] = mapped_column(Horodatage())
    convocation_envoyee_par_id: Mapped[int | None] = cle_auteur()
    convocation_empreinte: Mapped[str | None] = mapped_column(String(64))
    convocation_cle_stockage: Mapped[str | None] = mapped_column(String(64), unique=True)
    convocation_taille: Mapped[int | None]
    convocation_sha256: Mapped[str | None] = mapped_column(String(64))
    convocation_produite_le: Mapped[datetime | None] = mapped_column(Horodatage())

    __mapper_args__ = {"version_id_col": version}

    contrat: Mapped[ContratDeVille] = relationship()
    campagne: Mapped[Campagne] = relationship()
    cree_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[cree_par_id])
    close_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[close_par_id])
    convocation_envoyee_par: Mapped[Utilisateur | None] = relationship(
        foreign_keys=[convocation_envoyee_par_id]
    )
    points: Mapped[list[PointOrdreDuJour]] = enfants("seance", order_by="PointOrdreDuJour.rang")
    presences: Mapped[list[PresenceComite]] = enfants("seance", order_by="PresenceComite.organisation_id")


class PointOrdreDuJour(db.Model):
    __tablename__ = "point_ordre_du_jour"
    __table_args__ = (
        UniqueConstraint("seance_id", "demande_id"),
        Index("ix_point_ordre_du_jour_demande", "demande_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = cle_parent("seance_comite")
    demande_id: Mapped[int] = cle_parent("demande")
    rang: Mapped[int] = mapped_column(default=0)
    decision: Mapped[DecisionPoint | None] = mapped_column(enum_colonne(DecisionPoint))
    # Décompte figé à la clôture
    voix_pour: Mapped[int | None]
    voix_contre: Mapped[int | None]
    abstentions: Mapped[int | None]
    recusations: Mapped[int | None]
    presents: Mapped[int | None]  # partenaires appelés présents ou représentés (quorum)
    explication: Mapped[str | None] = mapped_column(Text)  # le décompte tel que la clôture l'a lu

    seance: Mapped[SeanceComite] = relationship(back_populates="points")
    demande: Mapped[Demande] = relationship()
    votes: Mapped[list[VoteComite]] = enfants("point")
    montants: Mapped[list[MontantComite]] = enfants("point")


class PresenceComite(db.Model):
    """La feuille de présence : la présence d'une organisation partenaire à la séance, tenue par le pilote
    jusqu'à la clôture (la version de la séance protège des écrasements entre deux pilotes)."""

    __tablename__ = "presence_comite"
    __table_args__ = (UniqueConstraint("seance_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = cle_parent("seance_comite")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    statut: Mapped[StatutPresence] = mapped_column(enum_colonne(StatutPresence))
    # La personne qui siège pour l'organisation (présente, ou qui la représente) ; facultatif
    representant: Mapped[str | None] = mapped_column(String(200))
    saisi_par_id: Mapped[int | None] = cle_auteur()
    saisi_le: Mapped[datetime] = horodatage()

    seance: Mapped[SeanceComite] = relationship(back_populates="presences")
    organisation: Mapped[Organisation] = relationship()


class VoteComite(db.Model):
    """Le vote d'une organisation partenaire sur un point : un seul par organisation, modifiable tant que
    le vote est ouvert (la version protège des écrasements entre deux membres de la même organisation)."""

    __tablename__ = "vote_comite"
    __table_args__ = (UniqueConstraint("point_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = cle_parent("point_ordre_du_jour")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    choix: Mapped[ChoixVote] = mapped_column(enum_colonne(ChoixVote))
    motif_recusation: Mapped[str | None] = mapped_column(Text)
    votant_id: Mapped[int | None] = cle_auteur()
    vote_le: Mapped[datetime] = horodatage()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    point: Mapped[PointOrdreDuJour] = relationship(back_populates="votes")
    organisation: Mapped[Organisation] = relationship()
    votant: Mapped[Utilisateur | None] = relationship()


class MontantComite(db.Model):
    """Le montant qu'un financeur propose au vote pour sa propre ligne pendant la séance."""

    __tablename__ = "montant_comite"
    __table_args__ = (
        UniqueConstraint("point_id", "ligne_id"),
        Index("ix_montant_comite_ligne", "ligne_id"),
        CheckConstraint("montant >= 0", name="montant_positif"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = cle_parent("point_ordre_du_jour")
    ligne_id: Mapped[int] = cle_parent("ligne_financement")
    montant: Mapped[Decimal] = mapped_column(Montant())
    saisi_par_id: Mapped[int | None] = cle_auteur()
    saisi_le: Mapped[datetime] = horodatage()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    point: Mapped[PointOrdreDuJour] = relationship(back_populates="montants")
    ligne: Mapped[LigneFinancement] = relationship()
