"""Comptes vus par l'administration nationale : recherche, rattachements, rôles, désactivation.

Désactiver un compte ne supprime rien : ses rattachements, son journal et ses traces restent (on peut le
réactiver) ; il ne peut plus ouvrir de session et ses sessions ouvertes tombent (identifiant de session
renouvelé, et le chargeur de Flask-Login n'accepte que les comptes actifs). Chaque changement est tracé.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.listes import contient
from dauphin.models import (
    ContratDeVille,
    EvenementConnexion,
    MembreOrganisation,
    MembreStructure,
    Organisation,
    PartenaireContrat,
    Pilotage,
    RoleOrganisation,
    Utilisateur,
)
from dauphin.models.comptes import nouveau_jeton
from dauphin.services import audit
from dauphin.services.erreurs import Refus
from dauphin.services.referentiel import organisation_active
from dauphin.unite_de_travail import charger_verrouille, en_une_transaction

FILTRES_STATUT = {
    "": "Tous les comptes",
    "actifs": "Comptes actifs",
    "desactives": "Comptes désactivés",
    "administrateurs": "Administration nationale",
}


def page_comptes(recherche: str | None, statut: str, page: int, par_page: int):
    requete = select(Utilisateur).order_by(Utilisateur.nom, Utilisateur.prenom, Utilisateur.id)
    if recherche:
        requete = requete.where(contient(recherche, Utilisateur.email, Utilisateur.nom, Utilisateur.prenom))
    if statut == "actifs":
        requete = requete.where(Utilisateur.actif)
    elif statut == "desactives":
        requete = requete.where(Utilisateur.actif.is_(False))
    elif statut == "administrateurs":
        requete = requete.where(Utilisateur.administrateur_national)
    requete = requete.options(
        selectinload(Utilisateur.adhesions_structures).selectinload(MembreStructure.structure),
        selectinload(Utilisateur.adhesions_organisations).selectinload(MembreOrganisation.organisation),
        selectinload(Utilisateur.pilotages).selectinload(Pilotage.contrat),
    )
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100)


def compte(utilisateur_id: int) -> Utilisateur:
    utilisateur = db.session.get(Utilisateur, utilisateur_id)
    if utilisateur is None:
        raise NotFound()
    return utilisateur


def connexions_recentes(utilisateur_id: int, nombre: int = 10) -> list[EvenementConnexion]:
    return list(
        db.session.scalars(
            select(EvenementConnexion)
            .where(EvenementConnexion.utilisateur_id == utilisateur_id)
            .order_by(EvenementConnexion.id.desc())
            .limit(nombre)
        )
    )


def _tracer(acteur, utilisateur, action, resume, details=None):
    audit.tracer(acteur, "utilisateur", utilisateur.id, action, f"{resume} ({utilisateur.email})", details)


def ajouter_role_organisation(
    acteur: Utilisateur, utilisateur_id: int, organisation_id: int, role: RoleOrganisation
) -> MembreOrganisation:
    def operation():
        utilisateur = charger_verrouille(Utilisateur, utilisateur_id)
        organisation = organisation_active(organisation_id)
        existante = db.session.scalar(
            select(MembreOrganisation).where(
                MembreOrganisation.utilisateur_id == utilisateur.id,
                MembreOrganisation.organisation_id == organisation.id,
            )
        )
        if existante is not None:
            if existante.role == role:
                raise Refus(
                    f"Ce compte est déjà {role.libelle.lower()} de {organisation.nom}.", "organisation_id"
                )
            ancien = existante.role
            existante.role = role
            _tracer(
                acteur,
                utilisateur,
                "changer_role",
                f"{organisation.nom} : {ancien.libelle} → {role.libelle}",
                {"organisation_id": organisation.id, "role": [ancien, role]},
            )
            return existante
        adhesion = MembreOrganisation(
            utilisateur_id=utilisateur.id, organisation_id=organisation.id, role=role
        )
        return _rattacher(
            acteur, utilisateur, adhesion, "ajouter_role", f"{role.libelle} de {organisation.nom}"
        )

    return en_une_transaction(operation)


def retirer_role_organisation(acteur: Utilisateur, utilisateur_id: int, adhesion_id: int) -> None:
    _detacher(acteur, utilisateur_id, MembreOrganisation, adhesion_id, "retirer_role")


def ajouter_pilotage(
    acteur: Utilisateur, utilisateur_id: int, contrat_id: int, organisation_id: int
) -> Pilotage:
    """Le pilote agit au nom d'une organisation partenaire du contrat (préfecture, EPCI, commune…)."""

    def operation():
        utilisateur = charger_verrouille(Utilisateur, utilisateur_id)
        contrat = db.session.get(ContratDeVille, contrat_id)
        if contrat is None or not contrat.actif:
            raise Refus("Choisissez un contrat de ville actif.", "contrat_id")
        if db.session.get(PartenaireContrat, (contrat.id, organisation_id)) is None:
            raise Refus(
                "Le pilote agit au nom d’une organisation partenaire de ce contrat : choisissez-en une, ou "
                "rattachez d’abord l’organisation au contrat.",
                "organisation_id",
            )
        if db.session.scalar(
            select(Pilotage.id).where(
                Pilotage.utilisateur_id == utilisateur.id, Pilotage.contrat_id == contrat.id
            )
        ):
            raise Refus(f"Ce compte pilote déjà le contrat {contrat.code}.", "contrat_id")
        pilotage = Pilotage(utilisateur_id=utilisateur.id, contrat=contrat, organisation_id=organisation_id)
        return _rattacher(
            acteur, utilisateur, pilotage, "ajouter_pilotage", f"Pilote du contrat {contrat.code}"
        )

    return en_une_transaction(operation)


def retirer_pilotage(acteur: Utilisateur, utilisateur_id: int, pilotage_id: int) -> None:
    _detacher(acteur, utilisateur_id, Pilotage, pilotage_id, "retirer_pilotage")


def _details(rattachement: MembreOrganisation | Pilotage) -> dict:
    """Ce que la trace retient d'un rattachement du compte, à son ajout comme à son retrait."""
    if isinstance(rattachement, Pilotage):
        return {"contrat": rattachement.contrat.code, "organisation_id": rattachement.organisation_id}
    return {"organisation_id": rattachement.organisation_id, "role": rattachement.role}


def _resume_retrait(rattachement: MembreOrganisation | Pilotage) -> str:
    if isinstance(rattachement, Pilotage):
        return f"Ne pilote plus le contrat {rattachement.contrat.code}"
    return f"N’est plus {rattachement.role.libelle.lower()} de {rattachement.organisation.nom}"


def _rattacher(acteur, utilisateur, rattachement, action, resume):
    """Ajoute un rattachement du compte (rôle dans une organisation, pilotage) et le trace."""
    db.session.add(rattachement)
    _tracer(acteur, utilisateur, action, resume, _details(rattachement))
    return rattachement


def _detacher(acteur, utilisateur_id, modele, rattachement_id, action) -> None:
    """Supprime un rattachement du compte, et le trace ; 404 s'il n'existe pas ou appartient à un autre
    compte."""

    def operation():
        utilisateur = charger_verrouille(Utilisateur, utilisateur_id)
        rattachement = db.session.get(modele, rattachement_id)
        if rattachement is None or rattachement.utilisateur_id != utilisateur.id:
            raise NotFound()
        _tracer(acteur, utilisateur, action, _resume_retrait(rattachement), _details(rattachement))
        db.session.delete(rattachement)

    en_une_transaction(operation)


def changer_administration_nationale(acteur: Utilisateur, utilisateur_id: int, valeur: bool) -> Utilisateur:
    def tracer(utilisateur):
        resume = "Accès à l’administration nationale " + ("accordé" if valeur else "retiré")
        _tracer(acteur, utilisateur, "administration_nationale", resume)

    return _changer_drapeau(
        acteur,
        utilisateur_id,
        "administrateur_national",
        valeur,
        "Vous ne pouvez pas retirer votre propre accès à l’administration nationale.",
        tracer,
    )


def changer_activation(
    acteur: Utilisateur, utilisateur_id: int, actif: bool, motif: str | None = None
) -> Utilisateur:
    def desactiver_ou_reactiver(utilisateur):
        if not actif:
            utilisateur.jeton_session = nouveau_jeton()  # les sessions ouvertes tombent
        _tracer(
            acteur,
            utilisateur,
            "reactiver" if actif else "desactiver",
            "Compte réactivé" if actif else "Compte désactivé",
            {"motif": motif} if motif else None,
        )

    return _changer_drapeau(
        acteur,
        utilisateur_id,
        "actif",
        actif,
        "Vous ne pouvez pas désactiver votre propre compte.",
        desactiver_ou_reactiver,
    )


def _changer_drapeau(acteur, utilisateur_id, attribut: str, valeur: bool, refus_pour_soi: str, suite):
    """Met le drapeau `attribut` du compte à `valeur` (nul ne se le retire à lui-même) ; `suite(utilisateur)`
    (la trace…) ne suit qu'un vrai changement."""

    def operation():
        utilisateur = charger_verrouille(Utilisateur, utilisateur_id)
        if utilisateur.id == acteur.id and not valeur:
            raise Refus(refus_pour_soi)
        if getattr(utilisateur, attribut) != valeur:
            setattr(utilisateur, attribut, valeur)
            suite(utilisateur)
        return utilisateur

    return en_une_transaction(operation)


def organisations_actives() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.actif).order_by(Organisation.nom)))


def contrats_actifs() -> list[ContratDeVille]:
    return list(
        db.session.scalars(select(ContratDeVille).where(ContratDeVille.actif).order_by(ContratDeVille.code))
    )
