"""La demande de subvention (contenu du CERFA n°12156), son budget, ses lignes de financement."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.campagnes import Campagne, QuestionEligibilite
from dauphin.models.comptes import Utilisateur
from dauphin.models.referentiel import AxeTransversal, Organisation, Qpv, Thematique, enum_colonne
from dauphin.models.structures import CompteBancaire, Document, Structure, TypePiece
from dauphin.models.types import (
    Horodatage,
    Montant,
    cle_auteur,
    cle_parent,
    enfants,
    horodatage,
    index_trigrammes,
    maintenant,
)
from workflows.statuts import STATUTS_LIGNE_DECIDEE, StatutDemande, StatutLigne

demande_qpv = Table(
    "demande_qpv",
    db.metadata,
    Column("demande_id", ForeignKey("demande.id", ondelete="CASCADE"), primary_key=True),
    Column("qpv_id", ForeignKey("qpv.id"), primary_key=True, index=True),
)

demande_axe = Table(
    "demande_axe",
    db.metadata,
    Column("demande_id", ForeignKey("demande.id", ondelete="CASCADE"), primary_key=True),
    Column("axe_code", ForeignKey("axe_transversal.code"), primary_key=True),
)


def montants_des_lignes(lignes) -> tuple[Decimal, Decimal | None]:
    """Le total sollicité et le total voté (None tant qu'aucun financeur n'a décidé) de lignes actives, objets
    ou rangées (`montant_demande`, `montant_vote`, `decidee`) : `Demande.montant_sollicite` et
    `montant_vote`, et le tableau de bord des porteurs, qui lit les lignes en rangées."""
    decidees = [ligne.montant_vote or Decimal("0") for ligne in lignes if ligne.decidee]
    return (
        sum((ligne.montant_demande for ligne in lignes), Decimal("0")),
        sum(decidees, Decimal("0")) if decidees else None,
    )


class Demande(db.Model):
    __tablename__ = "demande"
    __table_args__ = (
        Index("ix_demande_structure_exercice", "structure_id", "exercice"),
        Index("ix_demande_campagne_statut", "campagne_id", "statut"),
        # Couvrant (id, transmise_le) : décomptes par onglet d'un financeur filtrés par exercice, index seul
        Index("ix_demande_exercice_statut", "exercice", "statut", "id", "transmise_le"),
        Index("ix_demande_transmise_le_id", "transmise_le", "id"),
        Index("ix_demande_modifie_le_id", "modifie_le", "id"),  # l'API : pages par (modifie_le, id)
        # Programmation par numéro ; id en fin : les sommes d'une campagne partent de l'index seul
        Index("ix_demande_campagne_numero", "campagne_id", "numero", "id"),
        # Couvrant : la recherche libre et les décomptes d'un gros financeur sans lire la table
        Index("ix_demande_recherche", "id", "statut", "transmise_le", "structure_id", "numero", "intitule"),
        # Recherche dans l'intitulé et le numéro : trigrammes sur PostgreSQL (index ordinaire sur SQLite)
        index_trigrammes("ix_demande_texte_trgm", "intitule", "numero"),
        # Les demandes à compléter (1 % des demandes) : celles qu'un financeur compte dans « suivies » au
        # lieu de « à traiter », lues en 0,3 ms au lieu d'une recherche par ligne (5 ms pour 1 600 lignes).
        Index(
            "ix_demande_a_completer",
            "id",
            postgresql_where=text("statut = 'a_completer'"),
            sqlite_where=text("statut = 'a_completer'"),
        ),
        # Le renouvellement d'une demande, cherché à chaque vue du dossier par un membre de la structure
        # (« Renouveler » proposé ?) : sans index, un parcours de toute la table (140 ms à 250 000 demandes).
        # Partiel : seules les demandes renouvelées ont une précédente.
        Index(
            "ix_demande_demande_precedente_id",
            "demande_precedente_id",
            postgresql_where=text("demande_precedente_id IS NOT NULL"),
            sqlite_where=text("demande_precedente_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    numero: Mapped[str | None] = mapped_column(String(20), unique=True)  # attribué à la transmission
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id"))
    campagne_id: Mapped[int] = mapped_column(ForeignKey("campagne.id"))
    exercice: Mapped[int]  # celui de la campagne, recopié pour les listes
    statut: Mapped[StatutDemande] = mapped_column(
        enum_colonne(StatutDemande), default=StatutDemande.brouillon
    )
    version: Mapped[int] = mapped_column(default=1)  # verrou optimiste

    # Personne chargée de la demande et compte bancaire (partie 1)
    responsable_nom: Mapped[str | None] = mapped_column(String(200))
    responsable_fonction: Mapped[str | None] = mapped_column(String(100))
    responsable_email: Mapped[str | None] = mapped_column(String(254))
    responsable_telephone: Mapped[str | None] = mapped_column(String(20))
    compte_bancaire_id: Mapped[int | None] = mapped_column(ForeignKey("compte_bancaire.id"))

    # L'action (partie 4)
    intitule: Mapped[str | None] = mapped_column(String(250))
    objectifs: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    public_cible: Mapped[str | None] = mapped_column(Text)
    nb_beneficiaires: Mapped[int | None]
    thematique_code: Mapped[str | None] = mapped_column(ForeignKey("thematique.code"), index=True)
    date_debut: Mapped[date | None]
    date_fin: Mapped[date | None]
    moyens_humains: Mapped[str | None] = mapped_column(Text)
    indicateurs_evaluation: Mapped[str | None] = mapped_column(Text)
    renouvellement: Mapped[bool] = mapped_column(default=False)
    duree_annees: Mapped[int] = mapped_column(default=1)  # 1 : annuelle ; 2 à 4 : pluriannuelle
    demande_precedente_id: Mapped[int | None] = mapped_column(ForeignKey("demande.id"))

    # Attestation sur l'honneur du signataire
    atteste_par_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    atteste_le: Mapped[datetime | None] = mapped_column(Horodatage())
    transmise_le: Mapped[datetime | None] = mapped_column(Horodatage())

    cree_par_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    cree_le: Mapped[datetime] = horodatage()
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    __mapper_args__ = {"version_id_col": version}

    structure: Mapped[Structure] = relationship()
    campagne: Mapped[Campagne] = relationship()
    thematique: Mapped[Thematique | None] = relationship()
    compte_bancaire: Mapped[CompteBancaire | None] = relationship()
    demande_precedente: Mapped[Demande | None] = relationship(remote_side=[id])
    atteste_par: Mapped[Utilisateur | None] = relationship(foreign_keys=[atteste_par_id])
    qpvs: Mapped[list[Qpv]] = relationship(secondary=demande_qpv, order_by=Qpv.code)
    axes: Mapped[list[AxeTransversal]] = relationship(secondary=demande_axe)
    reponses: Mapped[list[ReponseEligibilite]] = enfants("demande")
    lignes_budget: Mapped[list[LigneBudget]] = enfants("demande", order_by="LigneBudget.ordre")
    lignes_financement: Mapped[list[LigneFinancement]] = enfants("demande", order_by="LigneFinancement.id")
    pieces_jointes: Mapped[list[PieceJointe]] = enfants("demande", order_by="PieceJointe.id")

    # Vues lues par les gardes de workflows/ (qui ne connaissent pas l'ORM)
    @property
    def codes_qpv(self) -> list[str]:
        return [q.code for q in self.qpvs]

    @property
    def types_pieces_fournies(self) -> set[str]:
        return {p.type_piece for p in self.pieces_jointes}

    @property
    def reponses_eligibilite(self) -> dict[int, bool]:
        return {r.question_id: r.reponse for r in self.reponses}

    @property
    def annee_fin(self) -> int:
        return self.exercice + self.duree_annees - 1

    @property
    def montant_demande(self) -> Decimal:
        return sum((ligne.montant_demande for ligne in self.lignes_financement), Decimal("0"))

    @property
    def lignes_actives(self) -> list[LigneFinancement]:
        """Les lignes qui comptent, sans celles « sans suite » (financeur retiré du budget par le porteur)."""
        return [ligne for ligne in self.lignes_financement if ligne.statut != StatutLigne.abandonnee]

    @property
    def montant_sollicite(self) -> Decimal:
        """Le total demandé aux financeurs des lignes actives."""
        return montants_des_lignes(self.lignes_actives)[0]

    @property
    def montant_vote(self) -> Decimal | None:
        """Le total voté par les financeurs qui ont décidé ; None tant qu'aucun n'a décidé."""
        return montants_des_lignes(self.lignes_actives)[1]

    @property
    def titre(self) -> str:
        return self.intitule or "Demande sans intitulé"

    def __repr__(self) -> str:
        return f"<Demande {self.numero or self.id} {self.statut}>"


class ReponseEligibilite(db.Model):
    __tablename__ = "reponse_eligibilite"

    demande_id: Mapped[int] = cle_parent("demande", primary_key=True)
    question_id: Mapped[int] = cle_parent("question_eligibilite", primary_key=True)
    reponse: Mapped[bool]

    demande: Mapped[Demande] = relationship(back_populates="reponses")
    question: Mapped[QuestionEligibilite] = relationship()


class LigneBudget(db.Model):
    """Une ligne du budget prévisionnel de l'action, au plan comptable du CERFA (workflows.budget)."""

    __tablename__ = "ligne_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande", index=True)
    compte: Mapped[str] = mapped_column(String(4))
    libelle: Mapped[str | None] = mapped_column(String(200))  # précision saisie par le porteur
    montant: Mapped[Decimal] = mapped_column(Montant())
    # Compte 74 : le financeur sollicité, sur la plateforme (financeur_id) ou hors plateforme (libellé)
    financeur_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    financeur_libelle: Mapped[str | None] = mapped_column(String(200))
    ordre: Mapped[int] = mapped_column(default=0)

    demande: Mapped[Demande] = relationship(back_populates="lignes_budget")
    financeur: Mapped[Organisation | None] = relationship()


def _recopie_de_la_demande(colonne):
    """Défaut d'une colonne de `LigneFinancement` recopiée de sa demande (lue à l'INSERT quand le code qui
    crée la ligne ne l'a pas donnée)."""

    def defaut(contexte):
        demande_id = contexte.get_current_parameters()["demande_id"]
        return contexte.connection.scalar(select(colonne).where(Demande.id == demande_id))

    return defaut


class LigneFinancement(db.Model):
    """La ligne d'un financeur sollicité : il l'instruit, la vote, l'engage et la paie seul."""

    __tablename__ = "ligne_financement"
    __table_args__ = (
        UniqueConstraint("demande_id", "organisation_id"),
        # Couvrant (demande_id) : les lignes d'un financeur et leurs demandes sans lire la table
        Index("ix_ligne_financement_organisation_statut", "organisation_id", "statut", "demande_id"),
        # La recherche d'un financeur par structure (nom ou filtre) sur ses seules lignes
        Index(
            "ix_ligne_financement_organisation_structure",
            "organisation_id",
            "structure_id",
            "statut",
            "demande_id",
        ),
        # Le filtre par exercice d'un financeur, sur ses seules lignes (décomptes et pages)
        Index(
            "ix_ligne_financement_organisation_exercice",
            "organisation_id",
            "exercice",
            "statut",
            "demande_id",
        ),
        # Les pages d'un financeur triées par date de transmission ou par numéro, lues dans l'ordre ; les
        # statuts de la ligne et du dossier (l'onglet) dans l'index : une page lue par son numéro (OFFSET)
        # saute les pages d'avant dans l'index seul
        Index(
            "ix_ligne_financement_organisation_transmise",
            "organisation_id",
            "transmise_le",
            "demande_id",
            "statut",
            "statut_dossier",
        ),
        Index(
            "ix_ligne_financement_organisation_numero",
            "organisation_id",
            "numero",
            "demande_id",
            "statut",
            "statut_dossier",
        ),
        # Le statut du dossier, recopié : filtre et onglets d'un financeur sur ses lignes seules (index seul)
        Index(
            "ix_ligne_financement_organisation_dossier",
            "organisation_id",
            "statut_dossier",
            "statut",
            "demande_id",
        ),
        CheckConstraint("montant_demande >= 0", name="montant_demande_positif"),
        CheckConstraint(
            "montant_propose IS NULL OR montant_propose <= montant_demande", name="propose_borne"
        ),
        CheckConstraint("montant_vote IS NULL OR montant_vote <= montant_demande", name="vote_borne"),
        CheckConstraint(
            "montant_verse >= 0 AND montant_verse <= COALESCE(montant_vote, 0)", name="verse_borne"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    # Recopiés de la demande à l'insertion (ils ne changent jamais) : la recherche d'un financeur par
    # structure et son filtre par exercice se font sur ses lignes seules.
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structure.id"), default=_recopie_de_la_demande(Demande.structure_id)
    )
    exercice: Mapped[int] = mapped_column(default=_recopie_de_la_demande(Demande.exercice))
    # Numéro et date de transmission de la demande, pour trier les pages d'un financeur sur ses
    # lignes. Posés une fois : la première attestation les recopie (`services.workflow`) sur les lignes
    # qu'elle vient de créer ; une ligne créée ensuite les reçoit à l'insertion. `evaluates_none` : un
    # None donné (celui de la première attestation) s'écrit NULL sans relire la demande ; seule une
    # valeur absente la relit.
    numero: Mapped[str | None] = mapped_column(
        String(20).evaluates_none(), default=_recopie_de_la_demande(Demande.numero)
    )
    transmise_le: Mapped[datetime | None] = mapped_column(
        Horodatage().evaluates_none(), default=_recopie_de_la_demande(Demande.transmise_le)
    )
    statut: Mapped[StatutLigne] = mapped_column(enum_colonne(StatutLigne), default=StatutLigne.sollicitee)
    # Le statut de la demande, tenu par la base (déclencheurs de la migration 0024, à l'insertion de la
    # ligne et à chaque changement du statut de la demande) : jamais écrit par l'application, il sert aux
    # requêtes (onglets, filtre par statut du dossier) d'un financeur, qui ne lisent plus ses demandes.
    # L'objet chargé peut être en retard sur la base : ne pas le lire en Python, lire `demande.statut`.
    statut_dossier: Mapped[StatutDemande | None] = mapped_column(enum_colonne(StatutDemande))
    version: Mapped[int] = mapped_column(default=1)
    montant_demande: Mapped[Decimal] = mapped_column(Montant())
    gestionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"), index=True)
    montant_propose: Mapped[Decimal | None] = mapped_column(Montant())
    motif_avis: Mapped[str | None] = mapped_column(Text)
    montant_vote: Mapped[Decimal | None] = mapped_column(Montant())
    vote_le: Mapped[date | None]
    convention_requise: Mapped[bool] = mapped_column(default=False)
    convention_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    # La notification, ou la convention à signer, produite par le portail (PDF) ; la convention signée
    # déposée ensuite est `convention_document_id`.
    acte_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    numero_engagement: Mapped[str | None] = mapped_column(String(30))  # EJ Chorus ou équivalent
    montant_verse: Mapped[Decimal] = mapped_column(Montant(), default=Decimal("0"))
    compte_rendu_valide: Mapped[bool] = mapped_column(default=False)

    __mapper_args__ = {"version_id_col": version}

    demande: Mapped[Demande] = relationship(back_populates="lignes_financement")
    organisation: Mapped[Organisation] = relationship()
    gestionnaire: Mapped[Utilisateur | None] = relationship()

    @property
    def convention_signee(self) -> bool:
        return self.convention_document_id is not None

    @property
    def decidee(self) -> bool:
        """Le financeur a voté ou refusé (son montant voté vaut décision)."""
        return self.statut in STATUTS_LIGNE_DECIDEE


class PieceJointe(db.Model):
    """Une pièce du porte-documents jointe à une demande."""

    __tablename__ = "piece_jointe"
    __table_args__ = (UniqueConstraint("demande_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    type_piece: Mapped[TypePiece] = mapped_column(enum_colonne(TypePiece))

    demande: Mapped[Demande] = relationship(back_populates="pieces_jointes")
    document: Mapped[Document] = relationship()


class Message(db.Model):
    """Échange entre instructeurs et porteur au sujet d'une demande."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande", index=True)
    auteur_id: Mapped[int | None] = mapped_column(ForeignKey("utilisateur.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))  # vide : le porteur
    objet: Mapped[str] = mapped_column(String(200))
    corps: Mapped[str] = mapped_column(Text)
    cree_le: Mapped[datetime] = horodatage()

    auteur: Mapped[Utilisateur | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class CompteurNumero(db.Model):
    """Dernier numéro de demande attribué pour un exercice (verrouillé à chaque transmission)."""

    __tablename__ = "compteur_numero"

    exercice: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dernier: Mapped[int] = mapped_column(default=0)


class Note(db.Model):
    """Note d'instruction sur un dossier : partagée avec tous les partenaires du contrat, ou privée à
    l'organisation de son auteur. Le porteur ne voit jamais les notes."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_demande_id_id", "demande_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demande_id: Mapped[int] = cle_parent("demande")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    auteur_id: Mapped[int | None] = cle_auteur()
    partagee: Mapped[bool] = mapped_column(default=True)
    texte: Mapped[str] = mapped_column(Text)
    cree_le: Mapped[datetime] = horodatage()

    demande: Mapped[Demande] = relationship()
    auteur: Mapped[Utilisateur | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
