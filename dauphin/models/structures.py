"""Structures porteuses (tiers), leurs coordonnées bancaires et leur porte-documents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.comptes import MembreStructure, RoleStructure, Utilisateur
from dauphin.models.referentiel import enum_colonne
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
from workflows.enumerations import EnumLibelle


class FormeJuridique(EnumLibelle):
    association = "association", "Association"
    commune = "commune", "Commune"
    epci = "epci", "Établissement public de coopération intercommunale"
    gip = "gip", "Groupement d’intérêt public"
    etablissement_public = "etablissement_public", "Autre établissement public"
    bailleur = "bailleur", "Bailleur social"
    entreprise = "entreprise", "Entreprise (ESS…)"
    autre = "autre", "Autre"


class Structure(db.Model):
    __tablename__ = "structure"
    __table_args__ = (
        # Recherche libre des instructeurs par raison sociale ou sigle : trigrammes sur PostgreSQL (un nom
        # précis trouvé en 0,1 ms au lieu de parcourir les 11 000 structures, 5 ms), index ordinaire ailleurs
        index_trigrammes("ix_structure_nom_trgm", "raison_sociale", "sigle"),
        Index("ix_structure_modifie_le_id", "modifie_le", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    rna: Mapped[str | None] = mapped_column(String(10))
    raison_sociale: Mapped[str] = mapped_column(String(200))
    sigle: Mapped[str | None] = mapped_column(String(50))
    forme_juridique: Mapped[FormeJuridique] = mapped_column(enum_colonne(FormeJuridique))
    adresse: Mapped[str] = mapped_column(String(250))
    code_postal: Mapped[str] = mapped_column(String(5))
    commune: Mapped[str] = mapped_column(String(100))
    code_insee: Mapped[str] = mapped_column(String(5))
    email: Mapped[str | None] = mapped_column(String(254))
    telephone: Mapped[str | None] = mapped_column(String(20))
    representant_civilite: Mapped[str | None] = mapped_column(String(10))
    representant_nom: Mapped[str] = mapped_column(String(100))
    representant_prenom: Mapped[str] = mapped_column(String(100))
    representant_qualite: Mapped[str] = mapped_column(String(100))  # président, maire…
    # Relations avec l'administration et ressources humaines (CERFA 12156, parties 2 et 3)
    agrements: Mapped[str | None] = mapped_column(String(500))
    reconnue_utilite_publique: Mapped[bool] = mapped_column(default=False)
    nb_benevoles: Mapped[int | None]
    nb_salaries: Mapped[int | None]
    etp_salaries: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    nb_volontaires: Mapped[int | None]
    nb_adherents: Mapped[int | None]
    cree_le: Mapped[datetime] = horodatage()
    # Dernière modification de la ligne elle-même (API : modifie_depuis et pages par curseur)
    modifie_le: Mapped[datetime] = mapped_column(Horodatage(), default=maintenant, onupdate=maintenant)

    membres: Mapped[list[MembreStructure]] = enfants("structure")
    comptes_bancaires: Mapped[list[CompteBancaire]] = enfants("structure")
    aides_publiques: Mapped[list[AidePublique]] = enfants("structure", order_by="AidePublique.annee.desc()")

    @property
    def nom(self) -> str:
        return f"{self.raison_sociale} ({self.sigle})" if self.sigle else self.raison_sociale

    def __repr__(self) -> str:
        return f"<Structure {self.siret}>"


class CompteBancaire(db.Model):
    __tablename__ = "compte_bancaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    titulaire: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(34))  # sans espaces, contrôlé (python-stdnum)
    bic: Mapped[str] = mapped_column(String(11))
    domiciliation: Mapped[str | None] = mapped_column(String(200))
    actif: Mapped[bool] = mapped_column(default=True)

    structure: Mapped[Structure] = relationship(back_populates="comptes_bancaires")

    @property
    def iban_masque(self) -> str:
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}"


class AidePublique(db.Model):
    """Aides publiques reçues au cours des trois dernières années (CERFA 12156, partie 2)."""

    __tablename__ = "aide_publique"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    annee: Mapped[int]
    financeur: Mapped[str] = mapped_column(String(200))
    montant: Mapped[Decimal] = mapped_column(Montant())

    structure: Mapped[Structure] = relationship(back_populates="aides_publiques")


class TypePiece(EnumLibelle):
    statuts = "statuts", "Statuts"
    liste_dirigeants = "liste_dirigeants", "Liste des dirigeants"
    rib = "rib", "Relevé d’identité bancaire"
    comptes_approuves = "comptes_approuves", "Derniers comptes approuvés"
    rapport_activite = "rapport_activite", "Dernier rapport d’activité"
    budget_structure = "budget_structure", "Budget prévisionnel de la structure"
    convention_signee = "convention_signee", "Convention signée"
    recepisse = "recepisse", "Récépissé de dépôt"
    notification = "notification", "Notification de la subvention"
    convention = "convention", "Convention à signer"
    autre = "autre", "Autre pièce"

    @property
    def deposee_par_la_structure(self) -> bool:
        """Une pièce que la structure dépose elle-même, qu'une campagne peut exiger au dépôt ; le récépissé,
        la notification et la convention sont produits par le portail, la convention signée vient après."""
        return self not in (
            TypePiece.convention_signee,
            TypePiece.recepisse,
            TypePiece.notification,
            TypePiece.convention,
        )


class Document(db.Model):
    """Un fichier déposé : dans le porte-documents de la structure, réutilisable dans chaque demande.

    Le fichier est stocké hors de la racine web sous `cle_stockage` (aléatoire) ; le nom donné
    par l'usager n'est qu'un libellé, jamais un chemin.
    """

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    type_piece: Mapped[TypePiece] = mapped_column(enum_colonne(TypePiece))
    nom_fichier: Mapped[str] = mapped_column(String(255))
    cle_stockage: Mapped[str] = mapped_column(String(64), unique=True)
    type_mime: Mapped[str] = mapped_column(String(100))
    taille: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    valable_jusqu_au: Mapped[date | None]
    # Documents propres à une demande (récépissé, convention…) ; vide : pièce du porte-documents
    demande_id: Mapped[int | None] = cle_parent("demande", index=True)
    archive_le: Mapped[datetime | None] = mapped_column(Horodatage())  # retiré du porte-documents, gardé
    depose_par_id: Mapped[int | None] = cle_auteur()
    depose_le: Mapped[datetime] = horodatage()


class Invitation(db.Model):
    """Invitation d'une personne dans une structure par son administrateur (lien signé à usage unique)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[RoleStructure] = mapped_column(enum_colonne(RoleStructure))
    invite_par_id: Mapped[int | None] = cle_auteur()
    cree_le: Mapped[datetime] = horodatage()
    expire_le: Mapped[datetime] = mapped_column(Horodatage())
    acceptee_le: Mapped[datetime | None] = mapped_column(Horodatage())
    revoquee_le: Mapped[datetime | None] = mapped_column(Horodatage())

    structure: Mapped[Structure] = relationship()


class DemandeAcces(db.Model):
    """Une personne demande à rejoindre une structure déjà inscrite ; son administrateur décide."""

    __tablename__ = "demande_acces"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur", index=True)
    message: Mapped[str | None] = mapped_column(String(1000))
    cree_le: Mapped[datetime] = horodatage()
    traitee_le: Mapped[datetime | None] = mapped_column(Horodatage())
    acceptee: Mapped[bool | None]

    structure: Mapped[Structure] = relationship()
    utilisateur: Mapped[Utilisateur] = relationship()
