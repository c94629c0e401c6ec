"""Données de référence : organisations (financeurs, partenaires), contrats de ville, QPV, thématiques."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, false, func, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.types import cle_parent, enfants
from workflows.enumerations import EnumLibelle


def enum_colonne(enum_cls: type[StrEnum], longueur: int = 32) -> Enum:
    """Une énumération stockée par sa valeur dans un VARCHAR (même schéma sur les deux bases)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=longueur,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class TypeOrganisation(EnumLibelle):
    etat = "etat", "État"
    commune = "commune", "Commune"
    epci = "epci", "Intercommunalité (EPCI)"
    departement = "departement", "Département"
    region = "region", "Région"
    caf = "caf", "Caisse d’allocations familiales"
    bailleur = "bailleur", "Bailleur social"
    autre = "autre", "Autre organisme"


class Organisation(db.Model):
    """Financeur et/ou partenaire signataire de contrats de ville."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    nom: Mapped[str] = mapped_column(String(200), unique=True)
    type_organisation: Mapped[TypeOrganisation] = mapped_column(enum_colonne(TypeOrganisation))
    siren: Mapped[str | None] = mapped_column(String(9))
    # SIRET de l'établissement qui attribue (idAttribuant des données essentielles des subventions) : sans
    # lui, les données ouvertes du financeur ne peuvent pas être publiées (services.donnees_ouvertes).
    siret: Mapped[str | None] = mapped_column(String(14))
    departement: Mapped[str | None] = mapped_column(String(3))
    est_financeur: Mapped[bool] = mapped_column(default=True)
    email_contact: Mapped[str | None] = mapped_column(String(254))
    actif: Mapped[bool] = mapped_column(default=True)
    # Posé par l'administration nationale : les membres de l'organisation doivent activer la double
    # authentification (leur connexion s'arrête tant qu'elle ne l'est pas).
    second_facteur_obligatoire: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # verrou optimiste

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Organisation {self.nom}>"


class RegleMajorite(EnumLibelle):
    simple = "simple", "Majorité simple des suffrages exprimés"  # plus de « pour » que de « contre »
    # plus de la moitié des votants (abstentions comprises)
    absolue = "absolue", "Majorité absolue des votants"
    deux_tiers = "deux_tiers", "Majorité des deux tiers des suffrages exprimés"


class PartenaireContrat(db.Model):
    __tablename__ = "partenaire_contrat"

    contrat_id: Mapped[int] = cle_parent("contrat_de_ville", primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True, index=True)

    contrat: Mapped[ContratDeVille] = relationship(back_populates="partenariats")
    organisation: Mapped[Organisation] = relationship()


class ContratDeVille(db.Model):
    __tablename__ = "contrat_de_ville"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    libelle: Mapped[str] = mapped_column(String(200))
    generation: Mapped[int] = mapped_column(default=2024)  # 2015 (2015–2023) ou 2024 (2024–2030)
    siren_porteur: Mapped[str | None] = mapped_column(String(9))
    departement: Mapped[str] = mapped_column(String(3), index=True)  # le département principal
    # Les autres départements couverts (« 84 » pour le Pays d'Aix, principal 13), séparés par des virgules
    autres_departements: Mapped[str | None] = mapped_column(String(40))
    population_qpv: Mapped[int | None]
    # Règles du comité de pilotage, propres à chaque contrat
    quorum_pourcentage: Mapped[int] = mapped_column(default=50)
    regle_majorite: Mapped[RegleMajorite] = mapped_column(
        enum_colonne(RegleMajorite), default=RegleMajorite.simple
    )
    actif: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # verrou optimiste

    __mapper_args__ = {"version_id_col": version}

    partenariats: Mapped[list[PartenaireContrat]] = enfants("contrat")
    qpvs: Mapped[list[Qpv]] = relationship(back_populates="contrat", order_by="Qpv.code")

    @property
    def partenaires(self) -> list[Organisation]:
        return [p.organisation for p in self.partenariats]

    @property
    def departements(self) -> list[str]:
        """Le département principal puis les autres."""
        return [self.departement, *filter(None, (self.autres_departements or "").split(","))]

    @classmethod
    def couvre_departement(cls, code: str):
        """Condition SQL : le contrat couvre le département `code` (principal ou autre)."""
        autres = "," + func.coalesce(cls.autres_departements, "") + ","
        return or_(cls.departement == code, autres.contains(f",{code},", autoescape=True))

    def __repr__(self) -> str:
        return f"<ContratDeVille {self.code}>"


class Qpv(db.Model):
    """Quartier prioritaire de la politique de la ville (QN07501M, ou QP046001 pour 2015)."""

    __tablename__ = "qpv"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    libelle: Mapped[str] = mapped_column(String(200))
    departement: Mapped[str] = mapped_column(String(3))
    communes_insee: Mapped[str | None] = mapped_column(String(200))  # codes INSEE séparés par des virgules
    contrat_id: Mapped[int | None] = mapped_column(ForeignKey("contrat_de_ville.id"), index=True)

    contrat: Mapped[ContratDeVille | None] = relationship(back_populates="qpvs")


class Thematique(db.Model):
    """Nomenclature thématique du programme 147 : piliers (1…4) et sous-thèmes (1.1…)."""

    __tablename__ = "thematique"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("thematique.code"))
    ordre: Mapped[int] = mapped_column(default=0)
    actif: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # verrou optimiste

    __mapper_args__ = {"version_id_col": version}

    parent: Mapped[Thematique | None] = relationship(remote_side=[code])


class AxeTransversal(db.Model):
    __tablename__ = "axe_transversal"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
