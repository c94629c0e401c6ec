"""Structures : inscription par SIRET, fiche, comptes bancaires, membres, invitations, demandes d'accès.

Droits : seuls les membres d'une structure la voient (les autres reçoivent un 404, qui ne révèle pas
son existence) ; seul son administrateur (un par structure, index unique partiel) la modifie et gère
ses membres (les autres membres reçoivent un 403).

Concurrence : les opérations d'administration verrouillent la ligne de la structure (FOR UPDATE sur
PostgreSQL) ; la fiche, qui n'a pas de colonne de version, est protégée par son *empreinte* (haché des
valeurs lues, champ caché du formulaire) et par un UPDATE conditionné aux valeurs lues : une
modification concurrente est refusée, jamais écrasée.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.libelles import PARIS
from dauphin.models.comptes import MembreStructure, RoleStructure, Utilisateur
from dauphin.models.structures import CompteBancaire, DemandeAcces, FormeJuridique, Invitation, Structure
from dauphin.models.types import maintenant
from dauphin.services import courriels
from dauphin.services.comptes import (
    DUREE_INVITATION,
    email_confirme,
    lien_externe,
    lien_invitation,
    normaliser_email,
)
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.unite_de_travail import charger_verrouille

CHOIX_FORMES = [(forme.value, forme.libelle) for forme in FormeJuridique]

# Les champs de la fiche que l'administrateur modifie (et dont l'empreinte détecte les écritures concurrentes)
CHAMPS_FICHE = (
    "siret",
    "siren",
    "rna",
    "forme_juridique",
    "raison_sociale",
    "sigle",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "email",
    "telephone",
    "representant_civilite",
    "representant_nom",
    "representant_prenom",
    "representant_qualite",
    "agrements",
    "reconnue_utilite_publique",
    "nb_benevoles",
    "nb_salaries",
    "etp_salaries",
    "nb_volontaires",
    "nb_adherents",
)

MESSAGE_CONFLIT_FICHE = (
    "La fiche de la structure a été modifiée par quelqu’un d’autre pendant que vous la corrigiez. "
    "Rien n’a été enregistré. Votre saisie est conservée ci-dessous ; comparez-la avec la version "
    "enregistrée, puis enregistrez de nouveau si elle est toujours juste."
)


MESSAGE_EMAIL_NON_CONFIRME = (
    "Confirmez d’abord votre adresse électronique (lien reçu par courriel) pour inscrire une structure ou "
    "demander à en rejoindre une."
)
# L'écran d'inscription propose alors de demander l'accès à la structure déjà inscrite.
MESSAGE_SIRET_DEJA_INSCRIT = "Ce numéro SIRET est déjà inscrit sur Dauphin."


def _siret_pris(siret: str) -> Refus:
    return Refus(f"Le SIRET {siret} est déjà celui d’une autre structure inscrite sur Dauphin.", "siret")


# --- Lecture et droits ----------------------------------------------------------------------


def adhesion(utilisateur: Utilisateur, structure_id: int, relire: bool = False) -> MembreStructure | None:
    requete = select(MembreStructure).filter_by(utilisateur_id=utilisateur.id, structure_id=structure_id)
    if relire:
        requete = requete.execution_options(populate_existing=True)
    return db.session.scalar(requete)


def charger_pour_membre(utilisateur: Utilisateur, structure_id: int) -> tuple[Structure, MembreStructure]:
    """La structure et l'adhésion de l'utilisateur ; 404 s'il n'en est pas membre."""
    membre = adhesion(utilisateur, structure_id)
    structure = db.session.get(Structure, structure_id) if membre is not None else None
    if structure is None:
        raise NotFound()
    return structure, membre


def exiger_administrateur(utilisateur: Utilisateur, structure_id: int) -> tuple[Structure, MembreStructure]:
    """Pour afficher un écran d'administration (sans verrou ; l'opération revérifie sous verrou)."""
    structure, membre = charger_pour_membre(utilisateur, structure_id)
    if not membre.administrateur:
        raise NonAutorise("administrer la structure")
    return structure, membre


def charger_pour_administrateur(utilisateur: Utilisateur, structure_id: int) -> Structure:
    """La structure, verrouillée jusqu'au commit, si l'utilisateur en est l'administrateur.
    404 pour un non-membre, 403 (NonAutorise) pour un membre qui n'est pas administrateur."""
    structure = charger_verrouille(Structure, structure_id)
    membre = adhesion(utilisateur, structure_id, relire=True)
    if membre is None:
        raise NotFound()
    if not membre.administrateur:
        raise NonAutorise("administrer la structure")
    return structure


def structure_par_siret(siret: str) -> Structure | None:
    return db.session.scalar(select(Structure).where(Structure.siret == siret))


def membres(structure_id: int) -> list[MembreStructure]:
    return list(
        db.session.scalars(
            select(MembreStructure)
            .join(Utilisateur, Utilisateur.id == MembreStructure.utilisateur_id)
            .where(MembreStructure.structure_id == structure_id)
            .order_by(MembreStructure.administrateur.desc(), Utilisateur.nom, Utilisateur.prenom)
        )
    )


def invitations_en_attente(structure_id: int) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.structure_id == structure_id,
                Invitation.acceptee_le.is_(None),
                Invitation.revoquee_le.is_(None),
                Invitation.expire_le > maintenant(),
            )
            .order_by(Invitation.cree_le)
        )
    )


def demandes_acces_en_attente(structure_id: int) -> list[DemandeAcces]:
    return list(
        db.session.scalars(
            select(DemandeAcces)
            .where(DemandeAcces.structure_id == structure_id, DemandeAcces.traitee_le.is_(None))
            .order_by(DemandeAcces.cree_le)
        )
    )


def mes_demandes_acces(utilisateur: Utilisateur) -> list[DemandeAcces]:
    """Les demandes d'accès de l'utilisateur encore sans réponse."""
    return list(
        db.session.scalars(
            select(DemandeAcces)
            .where(DemandeAcces.utilisateur_id == utilisateur.id, DemandeAcces.traitee_le.is_(None))
            .order_by(DemandeAcces.cree_le.desc())
        )
    )


def _administrateurs(structure_id: int) -> list[Utilisateur]:
    """L'administrateur de la structure ; à défaut (donnée incomplète), ses signataires."""
    for condition in (
        MembreStructure.administrateur.is_(True),
        MembreStructure.role == RoleStructure.signataire,
    ):
        comptes = list(
            db.session.scalars(
                select(Utilisateur)
                .join(MembreStructure, MembreStructure.utilisateur_id == Utilisateur.id)
                .where(MembreStructure.structure_id == structure_id, condition, Utilisateur.actif.is_(True))
                .order_by(Utilisateur.id)
            )
        )
        if comptes:
            return comptes
    return []


# --- Inscription ----------------------------------------------------------------------------


def inscrire_structure(
    utilisateur: Utilisateur, donnees: dict, compte: dict, role: RoleStructure | str
) -> Structure:
    """Inscrit la structure ; l'utilisateur en devient l'administrateur, signataire s'il a déclaré être son
    représentant légal ou délégataire, contributeur sinon. Un SIRET déjà inscrit est refusé (champ siret)."""
    if not email_confirme(utilisateur):
        raise Refus(MESSAGE_EMAIL_NON_CONFIRME)
    donnees = dict(donnees, forme_juridique=FormeJuridique(donnees["forme_juridique"]))
    existante = structure_par_siret(donnees["siret"])
    if existante is not None:
        raise Refus(MESSAGE_SIRET_DEJA_INSCRIT, "siret")
    structure = Structure(**donnees)
    structure.comptes_bancaires = [CompteBancaire(**compte)]
    structure.membres = [
        MembreStructure(utilisateur_id=utilisateur.id, role=RoleStructure(role), administrateur=True)
    ]
    db.session.add(structure)
    try:
        db.session.commit()
    except IntegrityError:
        # Le même SIRET inscrit au même instant par quelqu'un d'autre
        db.session.rollback()
        existante = structure_par_siret(donnees["siret"])
        if existante is None:
            raise
        raise Refus(MESSAGE_SIRET_DEJA_INSCRIT, "siret") from None
    return structure


# --- Fiche ----------------------------------------------------------------------------------


def _valeur_canonique(valeur):
    if valeur is None or isinstance(valeur, bool | int):
        return valeur
    if hasattr(valeur, "quantize"):  # Decimal : 2.5 et 2.50 sont la même valeur
        return f"{valeur:.2f}"
    return str(valeur.value if hasattr(valeur, "value") else valeur)


def empreinte(structure: Structure) -> str:
    """Haché des valeurs de la fiche : le formulaire le renvoie, une différence révèle une écriture
    intervenue depuis la lecture."""
    valeurs = {champ: _valeur_canonique(getattr(structure, champ)) for champ in CHAMPS_FICHE}
    return hashlib.sha256(json.dumps(valeurs, sort_keys=True).encode()).hexdigest()[:32]


def _inchangee(structure: Structure) -> list:
    """Les conditions « chaque champ de la fiche a encore la valeur lue » d'un UPDATE conditionné."""
    conditions = []
    for champ in CHAMPS_FICHE:
        valeur, colonne = getattr(structure, champ), getattr(Structure, champ)
        conditions.append(colonne.is_(None) if valeur is None else colonne == valeur)
    return conditions


def modifier_structure(
    utilisateur: Utilisateur, structure_id: int, donnees: dict, empreinte_lue: str
) -> Structure:
    structure = charger_pour_administrateur(utilisateur, structure_id)
    if not empreinte_lue or empreinte(structure) != empreinte_lue:
        db.session.rollback()
        raise Conflit(MESSAGE_CONFLIT_FICHE)
    donnees = dict(donnees, forme_juridique=FormeJuridique(donnees["forme_juridique"]))
    if donnees["siret"] != structure.siret and structure_par_siret(donnees["siret"]) is not None:
        db.session.rollback()
        raise _siret_pris(donnees["siret"])
    try:
        resultat = db.session.execute(
            update(Structure)
            .where(Structure.id == structure_id, *_inchangee(structure))
            .values(**{champ: donnees[champ] for champ in CHAMPS_FICHE})
            .execution_options(synchronize_session=False)
        )
        if resultat.rowcount != 1:  # écrite entre la lecture et l'écriture (SQLite n'a pas de FOR UPDATE)
            raise Conflit(MESSAGE_CONFLIT_FICHE)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _siret_pris(donnees["siret"]) from None
    except Conflit:
        db.session.rollback()
        raise
    db.session.refresh(structure)
    return structure


# --- Comptes bancaires ----------------------------------------------------------------------


def ajouter_compte_bancaire(utilisateur: Utilisateur, structure_id: int, donnees: dict) -> CompteBancaire:
    structure = charger_pour_administrateur(utilisateur, structure_id)
    if any(c.actif and c.iban == donnees["iban"] for c in structure.comptes_bancaires):
        db.session.rollback()
        raise Refus("Ce compte bancaire (même IBAN) est déjà enregistré pour la structure.", "iban")
    compte = CompteBancaire(structure_id=structure.id, **donnees)
    db.session.add(compte)
    db.session.commit()
    return compte


def desactiver_compte_bancaire(utilisateur: Utilisateur, structure_id: int, compte_id: int) -> CompteBancaire:
    structure = charger_pour_administrateur(utilisateur, structure_id)
    compte = next((c for c in structure.comptes_bancaires if c.id == compte_id), None)
    if compte is None:
        raise NotFound()
    if compte.actif:
        if not any(c.actif and c.id != compte.id for c in structure.comptes_bancaires):
            db.session.rollback()
            raise Refus(
                "C’est le seul compte bancaire actif de la structure : ajoutez d’abord le nouveau compte, "
                "puis désactivez celui-ci."
            )
        compte.actif = False
    db.session.commit()
    return compte


# --- Membres --------------------------------------------------------------------------------


def _de_la_structure(modele, structure_id: int, cle: int):
    """L'objet (membre, demande d'accès…) de cette structure, relu en base ; 404 s'il est d'une autre."""
    objet = db.session.get(modele, cle, populate_existing=True)
    if objet is None or objet.structure_id != structure_id:
        raise NotFound()
    return objet


def _membre(structure_id: int, membre_id: int) -> MembreStructure:
    return _de_la_structure(MembreStructure, structure_id, membre_id)


def changer_role(utilisateur: Utilisateur, structure_id: int, membre_id: int, role: RoleStructure | str):
    charger_pour_administrateur(utilisateur, structure_id)
    membre = _membre(structure_id, membre_id)
    membre.role = RoleStructure(role)
    db.session.commit()
    return membre


def peut_retirer(moi: MembreStructure, membre_id: int) -> bool:
    """Un membre quitte la structure de lui-même ; l'administrateur en retire les autres."""
    return membre_id == moi.id or moi.administrateur


def retirer_membre(utilisateur: Utilisateur, structure_id: int, membre_id: int) -> MembreStructure:
    """L'administrateur retire un membre ; un membre peut aussi quitter la structure de lui-même.
    L'administrateur ne se retire pas : il transmet d'abord l'administration à un autre membre."""
    structure = charger_verrouille(Structure, structure_id)
    acteur = adhesion(utilisateur, structure_id, relire=True)
    if acteur is None:
        raise NotFound()
    membre = _membre(structure_id, membre_id)
    if not peut_retirer(acteur, membre.id):
        raise NonAutorise("retirer un membre")
    if membre.id == acteur.id and acteur.administrateur:
        db.session.rollback()
        raise Refus(
            "Vous êtes l’administrateur de cette structure : transmettez d’abord l’administration à un "
            "autre membre, puis vous pourrez la quitter."
        )
    compte = membre.utilisateur
    if membre.id != acteur.id and compte.actif:
        courriels.ecrire_au_compte(
            "membre_retire", compte, auteur=utilisateur.nom_complet, structure=structure.nom
        )
    db.session.delete(membre)
    db.session.commit()
    return membre


def transmettre_administration(
    utilisateur: Utilisateur, structure_id: int, membre_id: int
) -> MembreStructure:
    structure = charger_pour_administrateur(utilisateur, structure_id)
    actuel = adhesion(utilisateur, structure_id, relire=True)
    membre = _membre(structure_id, membre_id)
    if membre.id == actuel.id:
        db.session.rollback()
        raise Refus("Vous êtes déjà l’administrateur de cette structure.")
    # Un seul administrateur par structure (index unique partiel) : retirer avant d'attribuer.
    actuel.administrateur = False
    db.session.flush()
    membre.administrateur = True
    if membre.utilisateur.actif:
        courriels.ecrire_au_compte(
            "administration_transmise",
            membre.utilisateur,
            auteur=utilisateur.nom_complet,
            structure=structure.nom,
            lien=lien_externe("structures.voir", structure_id=structure.id),
        )
    db.session.commit()
    return membre


# --- Invitations ----------------------------------------------------------------------------


def inviter(utilisateur: Utilisateur, structure_id: int, email: str, role: RoleStructure | str) -> Invitation:
    """Invite une adresse ; une invitation encore en attente pour la même adresse est remplacée."""
    structure = charger_pour_administrateur(utilisateur, structure_id)
    email = normaliser_email(email)
    deja = db.session.scalar(
        select(MembreStructure)
        .join(Utilisateur, Utilisateur.id == MembreStructure.utilisateur_id)
        .where(MembreStructure.structure_id == structure_id, Utilisateur.email == email)
    )
    if deja is not None:
        db.session.rollback()
        raise Refus(f"{email} est déjà membre de la structure ({deja.libelle_role.lower()}).", "email")
    now = maintenant()
    for ancienne in invitations_en_attente(structure_id):
        if ancienne.email == email:
            ancienne.revoquee_le = now
    invitation = Invitation(
        structure_id=structure.id,
        email=email,
        role=RoleStructure(role),
        invite_par_id=utilisateur.id,
        cree_le=now,
        expire_le=now + DUREE_INVITATION,
    )
    db.session.add(invitation)
    db.session.flush()
    courriels.ecrire_message(
        "invitation_structure",
        email,
        auteur=utilisateur.nom_complet,
        structure=structure.nom,
        siret=structure.siret,
        role=invitation.role,
        expire_le=invitation.expire_le,
        lien=lien_invitation(invitation),
    )
    db.session.commit()
    return invitation


def _date(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")


def revoquer_invitation(utilisateur: Utilisateur, structure_id: int, invitation_id: int) -> Invitation:
    charger_pour_administrateur(utilisateur, structure_id)
    invitation = db.session.get(Invitation, invitation_id, populate_existing=True)
    if invitation is None or invitation.structure_id != structure_id:
        raise NotFound()
    if invitation.acceptee_le is not None:
        db.session.rollback()
        raise Refus(f"{invitation.email} a déjà accepté cette invitation : retirez le membre si nécessaire.")
    if invitation.revoquee_le is None:
        invitation.revoquee_le = maintenant()
    db.session.commit()
    return invitation


# --- Demandes d'accès -----------------------------------------------------------------------


def demander_acces(utilisateur: Utilisateur, siret: str, message: str | None) -> DemandeAcces:
    """Demande à rejoindre une structure déjà inscrite ; son administrateur est prévenu par courriel."""
    if not email_confirme(utilisateur):
        raise Refus(MESSAGE_EMAIL_NON_CONFIRME)
    structure = structure_par_siret(siret)
    if structure is None:
        raise NotFound()
    if adhesion(utilisateur, structure.id) is not None:
        raise Refus(f"Vous êtes déjà membre de « {structure.nom} ».")
    en_attente = db.session.scalar(
        select(DemandeAcces).where(
            DemandeAcces.structure_id == structure.id,
            DemandeAcces.utilisateur_id == utilisateur.id,
            DemandeAcces.traitee_le.is_(None),
        )
    )
    if en_attente is not None:
        raise Refus(
            f"Vous avez déjà demandé l’accès à « {structure.nom} » le {_date(en_attente.cree_le)} : "
            "son administrateur a été prévenu et vous recevrez sa réponse par courriel."
        )
    demande = DemandeAcces(
        structure_id=structure.id, utilisateur_id=utilisateur.id, message=(message or "").strip() or None
    )
    db.session.add(demande)
    db.session.flush()
    contexte = {
        "demandeur": utilisateur.nom_complet,
        "email": utilisateur.email,
        "structure": structure.nom,
        "message": demande.message,
        "lien": lien_externe("structures.traiter_acces", structure_id=structure.id, demande_id=demande.id),
    }
    for administrateur in _administrateurs(structure.id):
        courriels.ecrire_au_compte("demande_acces", administrateur, **contexte)
    db.session.commit()
    return demande


def demande_acces(structure_id: int, demande_id: int) -> DemandeAcces:
    return _de_la_structure(DemandeAcces, structure_id, demande_id)


def traiter_demande_acces(
    utilisateur: Utilisateur, structure_id: int, demande_id: int, accepter: bool, role: RoleStructure | str
) -> DemandeAcces:
    structure = charger_pour_administrateur(utilisateur, structure_id)
    demande = demande_acces(structure_id, demande_id)
    if demande.traitee_le is not None:
        db.session.rollback()
        raise Refus("Cette demande d’accès a déjà reçu une réponse.")
    demande.traitee_le = maintenant()
    demande.acceptee = accepter
    compte = demande.utilisateur
    if accepter:
        role = RoleStructure(role)
        if adhesion(compte, structure_id) is None:
            db.session.add(MembreStructure(utilisateur_id=compte.id, structure_id=structure_id, role=role))
    if compte.actif and accepter:
        courriels.ecrire_au_compte(
            "acces_accepte",
            compte,
            auteur=utilisateur.nom_complet,
            structure=structure.nom,
            role=role,
            lien=lien_externe("structures.voir", structure_id=structure.id),
        )
    elif compte.actif:
        courriels.ecrire_au_compte("acces_refuse", compte, structure=structure.nom)
    db.session.commit()
    return demande
