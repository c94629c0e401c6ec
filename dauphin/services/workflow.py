"""Déclencher une transition pour un utilisateur : verrouiller, vérifier son droit, déclencher,
journaliser dans la même transaction, valider, et seulement ensuite lancer les effets (courriels).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.models import Demande, EvenementJournal, LigneFinancement, Utilisateur, maintenant
from dauphin.policies import SYSTEME, Qualite, qualite_pour
from dauphin.services import courriels, enveloppes, numerotation
from dauphin.services.erreurs import Conflit, NonAutorise
from workflows import DEMANDE, LIGNE, StatutDemande, StatutLigne, TransitionImpossible

PARIS = ZoneInfo("Europe/Paris")


def aujourdhui() -> date:
    """La date du jour à Paris : une campagne close le 15 l'est à minuit, heure de Paris."""
    return datetime.now(PARIS).date()


def charger_demande_verrouillee(demande_id: int) -> Demande:
    """Charge la demande et pose un verrou d'écriture (FOR UPDATE sur PostgreSQL) jusqu'au commit :
    toutes les transitions d'un même dossier, lignes comprises, passent ainsi l'une après l'autre."""
    demande = db.session.scalar(
        select(Demande)
        .where(Demande.id == demande_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if demande is None:
        raise NotFound()
    return demande


def declencher_demande(
    demande_id: int,
    declencheur: str,
    utilisateur: Utilisateur | None,
    *,
    version: int | None = None,
    commentaire: str | None = None,
    **arguments,
) -> Demande:
    """Transition de la demande. `utilisateur=None` : le système (commande, tâche planifiée)."""

    def operation():
        demande = charger_demande_verrouillee(demande_id)
        _verifier_version(demande, version)
        qualite = _qualite(utilisateur, declencheur, demande)
        arguments.setdefault("aujourdhui", aujourdhui())
        avant_transition(demande, declencheur, utilisateur)
        _declencher(
            DEMANDE, demande, declencheur, demande, None, utilisateur, qualite, commentaire, arguments
        )
        apres_transition(demande, declencheur, utilisateur, qualite, arguments)
        _deriver(demande, arguments)
        return demande

    return _en_une_transaction(operation)


def declencher_ligne(
    ligne_id: int,
    declencheur: str,
    utilisateur: Utilisateur | None,
    *,
    version: int | None = None,
    commentaire: str | None = None,
    **arguments,
) -> LigneFinancement:
    """Transition d'une ligne de financement, puis des statuts de la demande qui en découlent."""

    def operation():
        ligne = db.session.get(LigneFinancement, ligne_id)
        if ligne is None:
            raise NotFound()
        demande = charger_demande_verrouillee(ligne.demande_id)
        db.session.refresh(ligne)
        _verifier_version(ligne, version)
        qualite = _qualite(utilisateur, declencheur, demande, ligne)
        arguments.setdefault("aujourdhui", aujourdhui())
        if declencheur == "voter":
            # Le reste de l'enveloppe est toujours calculé ici, sous le verrou, jamais fourni par l'appelant.
            arguments["reste_enveloppe"] = enveloppes.reste(demande.campagne_id, ligne.organisation_id)
        _declencher(LIGNE, ligne, declencheur, demande, ligne, utilisateur, qualite, commentaire, arguments)
        _deriver(demande, arguments)
        return ligne

    return _en_une_transaction(operation)


def _en_une_transaction(operation):
    """Tout ou rien : l'état, le journal et les courriels à envoyer sont validés ensemble."""
    try:
        resultat = operation()
        db.session.commit()
    except (StaleDataError, IntegrityError) as erreur:
        # Une écriture concurrente est passée entre la lecture et l'écriture (version changée, ligne ou
        # numéro déjà créés) : rien n'est enregistré, l'usager recharge.
        db.session.rollback()
        raise Conflit() from erreur
    except BaseException:
        db.session.rollback()
        raise
    courriels.envoyer_en_attente()
    return resultat


# --- Étapes ------------------------------------------------------------------------------


def _verifier_version(objet, version: int | None) -> None:
    if version is not None and objet.version != version:
        raise Conflit()


def _qualite(utilisateur, declencheur, demande, ligne=None) -> Qualite:
    if utilisateur is None:
        return SYSTEME
    qualite = qualite_pour(utilisateur, declencheur, demande, ligne)
    if qualite is None:
        raise NonAutorise(declencheur)
    return qualite


def _declencher(definition, objet, declencheur, demande, ligne, utilisateur, qualite, commentaire, arguments):
    try:
        avant, apres = definition.declencher(objet, declencheur, commentaire=commentaire, **arguments)
    except TransitionImpossible as erreur:
        # Le plus souvent : quelqu'un d'autre a fait avancer le dossier pendant que l'usager lisait la page.
        raise Conflit(
            f"Cette action n’est plus possible : le statut est désormais « {erreur.statut.libelle} ». "
            "Rechargez la page."
        ) from erreur
    journaliser(demande, ligne, declencheur, avant, apres, utilisateur, qualite, commentaire)


def journaliser(demande, ligne, declencheur, avant, apres, utilisateur, qualite, commentaire=None):
    db.session.add(
        EvenementJournal(
            demande_id=demande.id,
            ligne_id=ligne.id if ligne is not None else None,
            acteur_id=utilisateur.id if utilisateur is not None else None,
            role=qualite.role,
            organisation_id=qualite.organisation_id,
            structure_id=qualite.structure_id,
            declencheur=declencheur,
            statut_avant=str(avant),
            statut_apres=str(apres),
            commentaire=(commentaire or "").strip() or None,
            horodatage=maintenant(),
        )
    )


def _deriver(demande: Demande, arguments: dict) -> None:
    """Les statuts que DOMAIN.md dérive des lignes (en instruction, instruite, attribuée…)."""
    for declencheur, avant, apres in DEMANDE.suivre_derivations(demande, aujourdhui=arguments["aujourdhui"]):
        journaliser(demande, None, declencheur, avant, apres, None, SYSTEME)
        courriels.notifier_transition(demande, declencheur)


# --- Ce que fait une transition au-delà du changement de statut ---------------------------


def avant_transition(demande: Demande, declencheur: str, utilisateur) -> None:
    if declencheur == "attester":
        synchroniser_lignes_financement(demande)


def apres_transition(demande: Demande, declencheur: str, utilisateur, qualite: Qualite, arguments) -> None:
    if declencheur == "attester":
        demande.atteste_par_id = utilisateur.id if utilisateur else None
        demande.atteste_le = maintenant()
        if demande.numero is None:
            demande.numero = numerotation.prochain_numero(demande.exercice)
            demande.transmise_le = demande.atteste_le
    if demande.statut in (StatutDemande.retiree, StatutDemande.classee_sans_suite):
        for ligne in demande.lignes_financement:
            if "abandonner" in LIGNE.possibles(ligne, systeme=True):
                avant, apres = LIGNE.declencher(ligne, "abandonner")
                journaliser(demande, ligne, "abandonner", avant, apres, None, SYSTEME)
    courriels.notifier_transition(demande, declencheur, arguments.get("commentaire"))


def synchroniser_lignes_financement(demande: Demande) -> None:
    """Une ligne de financement par financeur de la plateforme sollicité au compte 74 du budget.

    À la première transmission les lignes sont créées ; à une nouvelle attestation (après une demande
    de compléments) les montants suivent le budget, un financeur retiré voit sa ligne mise sans suite.
    """
    demandes_par_financeur: dict[int, object] = {}
    for ligne_budget in demande.lignes_budget:
        if ligne_budget.compte == "74" and ligne_budget.financeur_id and ligne_budget.montant > 0:
            total = demandes_par_financeur.get(ligne_budget.financeur_id, 0)
            demandes_par_financeur[ligne_budget.financeur_id] = total + ligne_budget.montant
    existantes = {ligne.organisation_id: ligne for ligne in demande.lignes_financement}
    for organisation_id, montant in demandes_par_financeur.items():
        ligne = existantes.get(organisation_id)
        if ligne is None:
            demande.lignes_financement.append(
                LigneFinancement(
                    organisation_id=organisation_id, montant_demande=montant, statut=StatutLigne.sollicitee
                )
            )
        elif ligne.statut != StatutLigne.abandonnee:
            ligne.montant_demande = montant
    for organisation_id, ligne in existantes.items():
        if organisation_id not in demandes_par_financeur and "abandonner" in LIGNE.possibles(
            ligne, systeme=True
        ):
            avant, apres = LIGNE.declencher(ligne, "abandonner")
            db.session.flush()
            journaliser(
                demande,
                ligne,
                "abandonner",
                avant,
                apres,
                None,
                SYSTEME,
                "Financeur retiré du budget par le porteur.",
            )
    db.session.flush()
