"""Comptes et rattachements : à des structures (porteurs) et à des organisations (financeurs, partenaires)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
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


def verifier_hache(hache: str, mot_de_passe: str) -> bool:
    """Le seul calcul de haché d'une connexion : pour le mot de passe d'un compte comme pour le haché factice
    d'une adresse inconnue (dauphin.services.comptes), afin que les deux coûtent le même temps."""
    return check_password_hash(hache, mot_de_passe)


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
    # Double authentification (TOTP, RFC 6238) : le secret partagé avec l'application du titulaire, la date
    # d'activation (None : pas de second facteur) et le dernier pas de 30 s accepté (un code ne sert qu'une
    # fois). Voir dauphin/services/second_facteur.py.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_active_le: Mapped[datetime | None] = mapped_column(Horodatage())
    totp_dernier_pas: Mapped[int | None]

    adhesions_structures: Mapped[list[MembreStructure]] = enfants("utilisateur")
    adhesions_organisations: Mapped[list[MembreOrganisation]] = enfants("utilisateur")
    pilotages: Mapped[list[Pilotage]] = enfants("utilisateur")
    codes_secours: Mapped[list[CodeSecours]] = enfants("utilisateur")

    # La session ouverte de la requête (SessionUtilisateur) et son jeton, posés par le chargeur de
    # Flask-Login ou à l'ouverture (dauphin.services.sessions) ; ni l'un ni l'autre n'est en base.
    session_courante = None
    jeton_de_session = None

    # Flask-Login : l'identifiant gardé dans le cookie signé est le jeton de la session ouverte (une ligne de
    # `session_utilisateur`), jamais la clé primaire du compte.
    def get_id(self) -> str:
        if self.jeton_de_session is None:
            raise RuntimeError("Session à ouvrir par dauphin.services.sessions.ouvrir avant login_user.")
        return self.jeton_de_session

    @property
    def second_facteur_actif(self) -> bool:
        return self.totp_active_le is not None and self.totp_secret is not None

    @property
    def is_active(self) -> bool:
        return self.actif

    @hybrid_property
    def nom_complet(self) -> str:
        """« prénom nom », une seule définition : en Python sur un compte chargé, en SQL (`prenom || ' ' ||
        nom`, même texte) sur la classe ou un alias, pour les pages lues en rangées (historique, liste du
        gestionnaire, espace d'instruction)."""
        return f"{self.prenom} {self.nom}"

    @nom_complet.inplace.expression
    @classmethod
    def _nom_complet_sql(cls):
        return cls.prenom + " " + cls.nom

    def definir_mot_de_passe(self, mot_de_passe: str) -> None:
        methode = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.mot_de_passe_hash = generate_password_hash(mot_de_passe, method=methode)
        self.jeton_session = nouveau_jeton()

    def verifier_mot_de_passe(self, mot_de_passe: str) -> bool:
        return verifier_hache(self.mot_de_passe_hash, mot_de_passe)

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
    deconnexion = "deconnexion", "Déconnexion"
    # une session fermée depuis une autre (« Mes sessions »), ou toutes les autres
    fermeture_session = "fermeture_session", "Fermeture de session à distance"
    # second temps de la connexion : code de l'application ou code de secours
    second_facteur = "second_facteur", "Code de double authentification"
    second_facteur_active = "second_facteur_active", "Activation de la double authentification"
    second_facteur_desactive = "second_facteur_desactive", "Désactivation de la double authentification"
    codes_secours = "codes_secours", "Nouveaux codes de secours"
    # trop d'essais refusés : la connexion est bloquée un moment, le titulaire est prévenu par courriel
    verrouillage = "verrouillage", "Connexion bloquée après trop d’essais"


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
        if self.motif:  # « mot de passe juste, code demandé », « toutes les autres sessions »…
            return self.motif
        return "lien envoyé" if self.nature == NatureEvenementCompte.demande_reinitialisation else "réussie"


class SessionUtilisateur(db.Model):
    """Une session ouverte : une connexion, sur un appareil. Le cookie signé ne porte que son jeton (tiré au
    hasard) ; la base n'en garde que l'empreinte SHA-256. Elle vit tant qu'elle n'est pas fermée
    (déconnexion, « Mes sessions »), que le compte garde le `jeton_session` qu'il avait à l'ouverture (un
    nouveau mot de passe, une désactivation le renouvellent : toutes tombent) et que l'inactivité n'a pas
    dépassé son délai (`expire_le`, repoussé par l'activité). Voir dauphin/services/sessions.py."""

    __tablename__ = "session_utilisateur"

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur", index=True)
    empreinte: Mapped[str] = mapped_column(String(64), unique=True)
    jeton_compte: Mapped[str] = mapped_column(String(64))
    cree_le: Mapped[datetime] = horodatage()
    derniere_activite_le: Mapped[datetime] = mapped_column(Horodatage())
    expire_le: Mapped[datetime] = mapped_column(Horodatage())
    adresse_ip: Mapped[str | None] = mapped_column(String(45))
    appareil: Mapped[str] = mapped_column(String(100))  # « Firefox sur Windows »
    # Ouverte avec le second facteur (code vérifié, ou double authentification activée pendant la session)
    second_facteur: Mapped[bool] = mapped_column(default=False)
    fermee_le: Mapped[datetime | None] = mapped_column(Horodatage())

    utilisateur: Mapped[Utilisateur] = relationship()


class CodeSecours(db.Model):
    """Un code de secours de la double authentification : dix à l'activation, montrés une fois, chacun
    utilisable une fois. Seule l'empreinte SHA-256 est gardée (un code a 60 bits d'aléa)."""

    __tablename__ = "code_secours"

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur_id: Mapped[int] = cle_parent("utilisateur", index=True)
    empreinte: Mapped[str] = mapped_column(String(64))
    cree_le: Mapped[datetime] = horodatage()
    utilise_le: Mapped[datetime | None] = mapped_column(Horodatage())

    utilisateur: Mapped[Utilisateur] = relationship(back_populates="codes_secours")
