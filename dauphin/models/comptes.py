"""Comptes et rattachements : à des structures (porteurs) et à des organisations (financeurs, partenaires)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dauphin.extensions import db
from dauphin.models.referentiel import ContratDeVille, Organisation, enum_colonne
from dauphin.models.types import Horodatage, cle_auteur, cle_parent, enfants, horodatage
from workflows.enumerations import EnumLibelle

if TYPE_CHECKING:
    from dauphin.models.structures import Structure


def nouveau_jeton() -> str:
    return secrets.token_urlsafe(24)


class Utilisateur(UserMixin, db.Model):
    __tablename__ = "utilisateur"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # toujours en minuscules
    prenom: Mapped[str] = mapped_column(String(100))
    nom: Mapped[str] = mapped_column(String(100))
    mot_de_passe_hash: Mapped[str] = mapped_column(String(255))
    # Identifiant de session : changé avec le mot de passe, il invalide les sessions ouvertes.
    jeton_session: Mapped[str] = mapped_column(String(64), unique=True, default=nouveau_jeton)
    actif: Mapped[bool] = mapped_column(default=True)
    administrateur_national: Mapped[bool] = mapped_column(default=False)
    email_confirme_le: Mapped[datetime | None] = mapped_column(Horodatage())
    cree_le: Mapped[datetime] = horodatage()
    derniere_connexion_le: Mapped[datetime | None] = mapped_column(Horodatage())

    adhesions_structures: Mapped[list[MembreStructure]] = enfants("utilisateur")
    adhesions_organisations: Mapped[list[MembreOrganisation]] = enfants("utilisateur")
    pilotages: Mapped[list[Pilotage]] = enfants("utilisateur")

    # Flask-Login : l'identifiant de session n'est pas la clé primaire (voir jeton_session).
    def get_id(self) -> str:
        return self.jeton_session

    @property
    def is_active(self) -> bool:
        return self.actif

    @property
    def nom_complet(self) -> str:
        return f"{self.prenom} {self.nom}"

    def definir_mot_de_passe(self, mot_de_passe: str) -> None:
        methode = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.mot_de_passe_hash = generate_password_hash(mot_de_passe, method=methode)
        self.jeton_session = nouveau_jeton()

    def verifier_mot_de_passe(self, mot_de_passe: str) -> bool:
        return check_password_hash(self.mot_de_passe_hash, mot_de_passe)

    def __repr__(self) -> str:
        return f"<Utilisateur {self.email}>"


class RoleStructure(EnumLibelle):
    signataire = "signataire", "Signataire"  # représentant légal ou délégataire : atteste sur l'honneur
    contributeur = "contributeur", "Contributeur"  # remplit les brouillons


class MembreStructure(db.Model):
    """Un compte membre d'une structure. Exactement un administrateur par structure."""

    __tablename__ = "membre_structure"
    __table_args__ = (
        UniqueConstraint("utilisateur_id", "structure_id"),
        Index(
            "uq_membre_structure_un_administrateur",
            "structure_id",
            unique=True,
            sqlite_where=text("administrateur"),
            postgresql_where=text("administrateur"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur")
    structure_id: Mapped[int] = cle_parent("structure", index=True)
    role: Mapped[RoleStructure] = mapped_column(enum_colonne(RoleStructure))
    administrateur: Mapped[bool] = mapped_column(default=False)
    ajoute_le: Mapped[datetime] = horodatage()

    utilisateur: Mapped[Utilisateur] = relationship(back_populates="adhesions_structures")
    structure: Mapped[Structure] = relationship(back_populates="membres")

    @property
    def libelle_role(self) -> str:
        libelle = self.role.libelle
        return f"Administrateur et {libelle.lower()}" if self.administrateur else libelle


class RoleOrganisation(EnumLibelle):
    instructeur = "instructeur", "Instructeur"  # instruit la ligne de son organisation
    partenaire = "partenaire", "Partenaire"  # lit les dossiers des contrats signés, note, vote


class MembreOrganisation(db.Model):
    __tablename__ = "membre_organisation"
    __table_args__ = (UniqueConstraint("utilisateur_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[RoleOrganisation] = mapped_column(enum_colonne(RoleOrganisation))
    ajoute_le: Mapped[datetime] = horodatage()

    utilisateur: Mapped[Utilisateur] = relationship(back_populates="adhesions_organisations")
    organisation: Mapped[Organisation] = relationship()


class Pilotage(db.Model):
    """Un pilote (chef de projet, délégué du préfet) d'un contrat de ville, pour son organisation."""

    __tablename__ = "pilotage"
    __table_args__ = (UniqueConstraint("utilisateur_id", "contrat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur")
    contrat_id: Mapped[int] = mapped_column(ForeignKey("contrat_de_ville.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))

    utilisateur: Mapped[Utilisateur] = relationship(back_populates="pilotages")
    contrat: Mapped[ContratDeVille] = relationship()
    organisation: Mapped[Organisation] = relationship()


class NatureEvenementCompte(EnumLibelle):
    connexion = "connexion", "Connexion"  # tentative de connexion
    # « mot de passe oublié » (compte connu ou non)
    demande_reinitialisation = "demande_reinitialisation", "Demande de réinitialisation du mot de passe"
    # nouveau mot de passe choisi par le lien reçu
    reinitialisation = "reinitialisation", "Réinitialisation du mot de passe"
    # depuis « Mon compte », session ouverte
    changement_mot_de_passe = "changement_mot_de_passe", "Changement du mot de passe"


class EvenementConnexion(db.Model):
    """Journal des connexions : chaque tentative, réussie ou non, avec l'adresse d'origine ; et, de même, les
    demandes de réinitialisation, réinitialisations et changements du mot de passe (`nature`)."""

    __tablename__ = "evenement_connexion"
    __table_args__ = (Index("ix_evenement_connexion_email_horodatage", "email", "horodatage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int | None] = cle_auteur()
    email: Mapped[str] = mapped_column(String(254))  # tel que saisi (normalisé), même sans compte
    adresse_ip: Mapped[str | None] = mapped_column(String(45))
    reussie: Mapped[bool]
    motif: Mapped[str | None] = mapped_column(String(100))
    horodatage: Mapped[datetime] = horodatage()
    nature: Mapped[NatureEvenementCompte] = mapped_column(
        enum_colonne(NatureEvenementCompte),
        default=NatureEvenementCompte.connexion,
        server_default=NatureEvenementCompte.connexion.value,
    )

    @property
    def resultat(self) -> str:
        if not self.reussie:
            return f"refusée ({self.motif or 'inconnu'})"
        return "lien envoyé" if self.nature == NatureEvenementCompte.demande_reinitialisation else "réussie"
