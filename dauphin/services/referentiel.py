"""Référentiel national géré par l'administration nationale : organisations financeuses et partenaires,
partenaires et règles du comité de chaque contrat de ville, nomenclature thématique.

Chaque écriture : objet verrouillé (FOR UPDATE) et sa version comparée à celle lue (conflit sinon), règle
vérifiée (`Refus` avec le champ en cause), changement, trace dans `evenement_referentiel`, validation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.listes import contient
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    Enveloppe,
    EvenementReferentiel,
    LigneFinancement,
    Organisation,
    PartenaireContrat,
    Pilotage,
    Qpv,
    RegleMajorite,
    Thematique,
    TypeOrganisation,
    Utilisateur,
)
from dauphin.services import audit
from dauphin.services.erreurs import Refus
from dauphin.unite_de_travail import charger_verrouille, en_une_transaction

MESSAGE_CONFLIT = (
    "Cette fiche a été modifiée entre-temps par quelqu’un d’autre. Rien n’a été enregistré : "
    "votre saisie est "
    "conservée, comparez-la avec la version actuelle avant d’enregistrer de nouveau."
)


def _charger(modele, cle, version=None):
    # Une version attendue mais vide (champ caché retiré du formulaire) vaut une version périmée.
    return charger_verrouille(modele, cle, version, MESSAGE_CONFLIT, exigee=version is not None)


def _valeurs(objet, champs) -> dict:
    return {nom: getattr(objet, nom) for nom in champs}


# --- Organisations -------------------------------------------------------------------------------

CHAMPS_ORGANISATION = (
    "nom",
    "type_organisation",
    "siren",
    "siret",
    "departement",
    "est_financeur",
    "email_contact",
    "second_facteur_obligatoire",
)


def _nom_libre(nom: str, sauf_id: int | None = None) -> None:
    requete = select(Organisation.id).where(func.lower(Organisation.nom) == nom.lower())
    if sauf_id is not None:
        requete = requete.where(Organisation.id != sauf_id)
    if db.session.scalar(requete) is not None:
        raise Refus("Une organisation porte déjà ce nom.", "nom")


def creer_organisation(acteur: Utilisateur, donnees: dict) -> Organisation:
    def operation():
        _nom_libre(donnees["nom"])
        organisation = Organisation(**{nom: donnees[nom] for nom in CHAMPS_ORGANISATION})
        db.session.add(organisation)
        db.session.flush()
        audit.tracer(
            acteur,
            "organisation",
            organisation.id,
            "creer",
            f"Création de l’organisation « {organisation.nom} »",
            audit.ecarts({}, _valeurs(organisation, CHAMPS_ORGANISATION)),
        )
        return organisation

    return en_une_transaction(operation)


def modifier_organisation(acteur: Utilisateur, organisation_id: int, donnees: dict, version) -> Organisation:
    def operation():
        organisation = _charger(Organisation, organisation_id, version)
        _nom_libre(donnees["nom"], organisation.id)
        avant = _valeurs(organisation, CHAMPS_ORGANISATION)
        changes = audit.ecarts(avant, {nom: donnees[nom] for nom in CHAMPS_ORGANISATION})
        if changes:
            for nom in CHAMPS_ORGANISATION:
                setattr(organisation, nom, donnees[nom])
            audit.tracer(
                acteur,
                "organisation",
                organisation.id,
                "modifier",
                f"Modification de « {organisation.nom} »",
                changes,
            )
        return organisation

    return en_une_transaction(operation)


def enregistrer_organisation(
    acteur: Utilisateur, organisation_id: int | None, donnees: dict, version=None
) -> Organisation:
    """Crée l'organisation (`organisation_id` None) ou la modifie."""
    if organisation_id is None:
        return creer_organisation(acteur, donnees)
    return modifier_organisation(acteur, organisation_id, donnees, version)


def _changer_activation(acteur: Utilisateur, modele, cle, actif: bool, version, type_objet: str, nom: str):
    """Active ou désactive une fiche du référentiel (sans rien supprimer), tracé au journal du référentiel.
    `nom` : l'objet tel que la trace le nomme (« de « Ville de Lille » », « du code 1.5 »)."""

    def operation():
        objet = _charger(modele, cle, version)
        if objet.actif != actif:
            objet.actif = actif
            audit.tracer(
                acteur,
                type_objet,
                cle,
                "reactiver" if actif else "desactiver",
                f"{'Réactivation' if actif else 'Désactivation'} {nom(objet)}",
            )
        return objet

    return en_une_transaction(operation)


def changer_activation_organisation(
    acteur: Utilisateur, organisation_id: int, actif: bool, version
) -> Organisation:
    """Désactivée, une organisation n'est plus proposée (nouvelles enveloppes, partenariats) ; ses lignes,
    votes, membres et son historique restent."""
    return _changer_activation(
        acteur, Organisation, organisation_id, actif, version, "organisation", lambda o: f"de « {o.nom} »"
    )


def _paginer(requete, page: int, par_page: int):
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100)


def page_organisations(recherche: str | None, page: int, par_page: int):
    requete = select(Organisation).order_by(Organisation.nom)
    if recherche:
        cle = "".join(recherche.split())  # « 245 900 410 » comme « 245900410 »
        requete = requete.where(
            or_(contient(recherche, Organisation.nom), Organisation.siren == cle, Organisation.siret == cle)
        )
    return _paginer(requete, page, par_page)


def page_contrats(recherche: str | None, page: int, par_page: int):
    """Les contrats de ville dont le code ou le libellé contient `recherche`, ou de ce département."""
    requete = select(ContratDeVille).order_by(ContratDeVille.code)
    if recherche:
        requete = requete.where(
            or_(
                contient(recherche, ContratDeVille.code, ContratDeVille.libelle),
                ContratDeVille.couvre_departement(recherche.upper()),
            )
        )
    return _paginer(requete, page, par_page)


def page_qpv(recherche: str | None, page: int, par_page: int):
    """Les quartiers dont le code ou le nom contient `recherche`, ou de ce département."""
    requete = select(Qpv).options(selectinload(Qpv.contrat)).order_by(Qpv.code)
    if recherche:
        requete = requete.where(
            or_(contient(recherche, Qpv.code, Qpv.libelle), Qpv.departement == recherche.upper())
        )
    return _paginer(requete, page, par_page)


# --- Contrats de ville : règles du comité et partenaires -----------------------------------------


def modifier_regles_comite(
    acteur: Utilisateur, contrat_id: int, quorum: int, regle: RegleMajorite, version
) -> ContratDeVille:
    def operation():
        contrat = _charger(ContratDeVille, contrat_id, version)
        changes = audit.ecarts(
            {"quorum_pourcentage": contrat.quorum_pourcentage, "regle_majorite": contrat.regle_majorite},
            {"quorum_pourcentage": quorum, "regle_majorite": regle},
        )
        if changes:
            contrat.quorum_pourcentage, contrat.regle_majorite = quorum, regle
            audit.tracer(
                acteur,
                "contrat",
                contrat.code,
                "regles_comite",
                f"Règles du comité de {contrat.code}",
                changes,
            )
        return contrat

    return en_une_transaction(operation)


def organisation_active(organisation_id: int) -> Organisation:
    """L'organisation choisie dans un formulaire ; refusée si elle n'existe pas ou n'est plus active."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.actif:
        raise Refus("Choisissez une organisation active.", "organisation_id")
    return organisation


def ajouter_partenaire(acteur: Utilisateur, contrat_id: int, organisation_id: int) -> PartenaireContrat:
    def operation():
        contrat = _charger(ContratDeVille, contrat_id)
        organisation = organisation_active(organisation_id)
        if db.session.get(PartenaireContrat, (contrat.id, organisation.id)) is not None:
            raise Refus(f"{organisation.nom} est déjà partenaire de ce contrat.", "organisation_id")
        partenariat = PartenaireContrat(contrat_id=contrat.id, organisation_id=organisation.id)
        db.session.add(partenariat)
        audit.tracer(
            acteur,
            "contrat",
            contrat.code,
            "ajouter_partenaire",
            f"{organisation.nom} devient partenaire de {contrat.code}",
            {"organisation_id": organisation.id},
        )
        return partenariat

    return en_une_transaction(operation)


def retirer_partenaire(acteur: Utilisateur, contrat_id: int, organisation_id: int) -> None:
    """Refusé tant que l'organisation finance une campagne du contrat ou y pilote : elle y a des droits
    et des lignes qui dépendent du partenariat."""

    def operation():
        contrat = _charger(ContratDeVille, contrat_id)
        partenariat = db.session.get(PartenaireContrat, (contrat.id, organisation_id))
        if partenariat is None:
            raise NotFound()
        nom = partenariat.organisation.nom
        campagne = db.session.scalar(
            select(Campagne.exercice)
            .join(Enveloppe, Enveloppe.campagne_id == Campagne.id)
            .where(Campagne.contrat_id == contrat.id, Enveloppe.organisation_id == organisation_id)
            .order_by(Campagne.exercice.desc())
            .limit(1)
        )
        if campagne is not None:
            raise Refus(
                f"{nom} a une enveloppe dans la campagne {campagne} de ce contrat : elle reste "
                "partenaire tant qu’elle participe à une campagne (le pilote peut la retirer de la "
                "campagne si aucune demande ne la sollicite)."
            )
        lignes = db.session.scalar(
            select(
                exists().where(
                    LigneFinancement.organisation_id == organisation_id,
                    LigneFinancement.demande_id.in_(
                        select(Demande.id).join(Campagne).where(Campagne.contrat_id == contrat.id)
                    ),
                )
            )
        )
        if lignes:
            raise Refus(f"{nom} est sollicitée par des demandes de ce contrat : elle reste partenaire.")
        pilotes = db.session.scalar(
            select(func.count()).where(
                Pilotage.contrat_id == contrat.id, Pilotage.organisation_id == organisation_id
            )
        )
        if pilotes:
            raise Refus(
                f"{pilotes} pilote(s) de ce contrat agissent au nom de {nom} : retirez d’abord leur pilotage "
                "(écran des comptes)."
            )
        db.session.delete(partenariat)
        audit.tracer(
            acteur,
            "contrat",
            contrat.code,
            "retirer_partenaire",
            f"{nom} n’est plus partenaire de {contrat.code}",
            {"organisation_id": organisation_id},
        )

    en_une_transaction(operation)


def organisations_ajoutables(contrat: ContratDeVille) -> list[Organisation]:
    deja = select(PartenaireContrat.organisation_id).where(PartenaireContrat.contrat_id == contrat.id)
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.actif, Organisation.id.not_in(deja))
            .order_by(Organisation.nom)
        )
    )


# --- Nomenclature thématique ----------------------------------------------------------------------


@dataclass
class UsageThematique:
    demandes: int
    enfants: int


def usage_thematique(code: str) -> UsageThematique:
    return UsageThematique(
        db.session.scalar(select(func.count()).where(Demande.thematique_code == code)) or 0,
        db.session.scalar(select(func.count()).where(Thematique.parent_code == code)) or 0,
    )


def usages_thematiques() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Demande.thematique_code, func.count())
            .where(Demande.thematique_code.is_not(None))
            .group_by(Demande.thematique_code)
        ).all()
    )


def creer_thematique(acteur: Utilisateur, code: str, libelle: str, ordre: int) -> Thematique:
    def operation():
        if db.session.get(Thematique, code) is not None:
            raise Refus(f"Le code {code} existe déjà.", "code")
        parent_code = code.rsplit(".", 1)[0] if "." in code else None
        if parent_code is not None:
            parent = db.session.get(Thematique, parent_code)
            if parent is None:
                raise Refus(f"Le pilier {parent_code} n’existe pas : créez-le d’abord.", "code")
            if parent.parent_code is not None:
                raise Refus(
                    "La nomenclature a deux niveaux : un pilier (1) et ses sous-thèmes (1.1).", "code"
                )
        thematique = Thematique(code=code, libelle=libelle, ordre=ordre, parent_code=parent_code)
        db.session.add(thematique)
        audit.tracer(acteur, "thematique", code, "creer", f"Création du code {code} « {libelle} »")
        return thematique

    return en_une_transaction(operation)


def modifier_thematique(acteur: Utilisateur, code: str, libelle: str, ordre: int, version) -> Thematique:
    def operation():
        thematique = _charger(Thematique, code, version)
        changes = audit.ecarts(
            {"libelle": thematique.libelle, "ordre": thematique.ordre}, {"libelle": libelle, "ordre": ordre}
        )
        if changes:
            thematique.libelle, thematique.ordre = libelle, ordre
            audit.tracer(acteur, "thematique", code, "modifier", f"Modification du code {code}", changes)
        return thematique

    return en_une_transaction(operation)


def enregistrer_thematique(
    acteur: Utilisateur, existant: str | None, code: str, libelle: str, ordre: int, version=None
) -> Thematique:
    """Crée le code (`existant` None) ou modifie le libellé et l'ordre du code `existant`."""
    if existant is None:
        return creer_thematique(acteur, code, libelle, ordre)
    return modifier_thematique(acteur, existant, libelle, ordre, version)


def changer_activation_thematique(acteur: Utilisateur, code: str, actif: bool, version) -> Thematique:
    """Désactivé, un code n'est plus proposé aux nouvelles demandes ; celles qui l'ont le gardent."""
    return _changer_activation(
        acteur, Thematique, code, actif, version, "thematique", lambda t: f"du code {code}"
    )


def supprimer_thematique(acteur: Utilisateur, code: str, version) -> None:
    def operation():
        thematique = _charger(Thematique, code, version)
        usage = usage_thematique(code)
        if usage.demandes:
            raise Refus(
                f"Le code {code} est utilisé par {usage.demandes} demande(s) : il ne peut pas être supprimé. "
                "Désactivez-le pour qu’il ne soit plus proposé."
            )
        if usage.enfants:
            raise Refus(f"Le pilier {code} a des sous-thèmes : supprimez-les d’abord.")
        libelle = thematique.libelle
        db.session.delete(thematique)
        audit.tracer(acteur, "thematique", code, "supprimer", f"Suppression du code {code} « {libelle} »")

    en_une_transaction(operation)


# --- Historique -----------------------------------------------------------------------------------


def page_historique(page: int, par_page: int, objet_type: str | None = None, objet_id: str | None = None):
    requete = (
        select(EvenementReferentiel)
        .options(selectinload(EvenementReferentiel.acteur))
        .order_by(EvenementReferentiel.id.desc())
    )
    if objet_type:
        requete = requete.where(EvenementReferentiel.objet_type == objet_type)
    if objet_id:
        requete = requete.where(EvenementReferentiel.objet_id == objet_id)
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100)


TYPES_ORGANISATION = [(t.value, t.libelle) for t in TypeOrganisation]
