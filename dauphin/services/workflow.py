"""Déclencher une transition pour un utilisateur : verrouiller, vérifier son droit, déclencher,
journaliser dans la même transaction, valider (`dauphin.unite_de_travail`, qui lance ensuite les courriels
et les tâches).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect, select, update

from dauphin import jobs
from dauphin.extensions import db
from dauphin.libelles import PARIS
from dauphin.models import Demande, EvenementJournal, LigneFinancement, Utilisateur, maintenant
from dauphin.policies import SYSTEME, Qualite, qualite_pour
from dauphin.services import courriels, empreintes, enveloppes, numerotation

# Importé pour ses écouteurs : chaque ligne du journal prend son rang dans le flux au commit.
from dauphin.services import evenements as _flux  # noqa: F401
from dauphin.services.erreurs import Conflit, NonAutorise
from dauphin.unite_de_travail import (
    charger_demande_verrouillee,
    charger_ligne_verrouillee,
    en_une_transaction,
    verifier_version,
)
from workflows import DEMANDE, LIGNE, StatutDemande, StatutLigne, TransitionImpossible
from workflows.budget import COMPTE_SUBVENTIONS, format_euros

# Le jeton d'API par lequel la requête en cours écrit (posé par l'API autour de l'appel du service) :
# le journal le retient avec le titulaire et l'organisation, sans que chaque service ait à le transmettre.
JETON_EN_COURS: ContextVar[int | None] = ContextVar("jeton_en_cours", default=None)


@contextmanager
def au_nom_du_jeton(jeton_id: int):
    marque = JETON_EN_COURS.set(jeton_id)
    try:
        yield
    finally:
        JETON_EN_COURS.reset(marque)


def aujourdhui() -> date:
    """La date du jour à Paris : une campagne close le 15 l'est à minuit, heure de Paris."""
    return datetime.now(PARIS).date()


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
        verifier_version(demande, version)
        qualite = _qualite(utilisateur, declencheur, demande)
        arguments.setdefault("aujourdhui", aujourdhui())
        avant_transition(demande, declencheur, utilisateur)
        _declencher(
            DEMANDE, demande, declencheur, demande, None, utilisateur, qualite, commentaire, arguments
        )
        apres_transition(demande, declencheur, utilisateur, qualite, commentaire)
        deriver(demande, arguments)
        return demande

    return en_une_transaction(operation)


def declencher_ligne(
    ligne_id: int,
    declencheur: str,
    utilisateur: Utilisateur | None,
    *,
    version: int | None = None,
    commentaire: str | None = None,
    avant=None,
    apres=None,
    **arguments,
) -> LigneFinancement:
    """Transition d'une ligne de financement, puis des statuts de la demande qui en découlent.

    `avant(demande, ligne)` et `apres(demande, ligne, qualite)` : ce que le cas d'usage écrit en plus, dans
    la même transaction (après le contrôle du droit ; avant la transition — un document que la garde
    attend —, ou après elle — le versement enregistré, le document à produire, les courriels).
    """

    def operation():
        demande, ligne = charger_ligne_verrouillee(ligne_id, version)
        qualite = _qualite(utilisateur, declencheur, demande, ligne)
        if avant is not None:
            avant(demande, ligne)
        declencher_ligne_verrouillee(
            demande, ligne, declencheur, utilisateur, qualite, commentaire, arguments
        )
        if apres is not None:
            apres(demande, ligne, qualite)
        deriver(demande, arguments)
        return ligne

    return en_une_transaction(operation)


def declencher_ligne_verrouillee(demande, ligne, declencheur, utilisateur, qualite, commentaire, arguments):
    """Déclenche et journalise, sans valider : pour qui tient déjà le verrou du dossier et fait plusieurs
    transitions dans une même transaction (clôture d'un comité)."""
    arguments.setdefault("aujourdhui", aujourdhui())
    if declencheur in ("voter", "corriger_vote"):
        # Calculés ici, sous verrou, jamais fournis par l'appelant : le reste de l'enveloppe et ce que ce
        # financeur a déjà voté à cette structure cette année (seuil de la convention). Une correction
        # remplace le montant déjà voté de la ligne : il est rendu au reste.
        reste = enveloppes.reste(demande.campagne_id, ligne.organisation_id)
        if reste is not None and declencheur == "corriger_vote":
            reste += ligne.montant_vote or 0
        arguments["reste_enveloppe"] = reste
        arguments["deja_vote_structure"] = enveloppes.vote_a_la_structure(
            ligne.organisation_id, demande.structure_id, demande.exercice, sauf_ligne_id=ligne.id
        )
    _declencher(LIGNE, ligne, declencheur, demande, ligne, utilisateur, qualite, commentaire, arguments)


# --- Étapes ------------------------------------------------------------------------------


def _qualite(utilisateur, declencheur, demande, ligne=None) -> Qualite:
    if utilisateur is None:
        return SYSTEME
    qualite = qualite_pour(utilisateur, declencheur, demande, ligne)
    if qualite is None:
        raise NonAutorise(declencheur)
    return qualite


def _declencher(definition, objet, declencheur, demande, ligne, utilisateur, qualite, commentaire, arguments):
    try:
        # Les gardes lisent l'objet et ce qu'il porte (chargé à la demande) sans rien lire de ce que la
        # transaction a écrit ailleurs : sans autoflush, le dossier verrouillé (sa version déjà relevée)
        # n'est pas écrit une première fois avant le changement de statut, mais une seule fois, ensuite.
        with db.session.no_autoflush:
            avant, apres = definition.declencher(objet, declencheur, commentaire=commentaire, **arguments)
    except TransitionImpossible as erreur:
        # Le plus souvent : quelqu'un d'autre a fait avancer le dossier pendant que l'usager lisait la page.
        raise Conflit(
            f"Cette action n’est pas possible au statut « {erreur.statut.libelle} » (il a pu changer depuis "
            "votre lecture). Rechargez la page."
        ) from erreur
    journaliser(demande, ligne, declencheur, avant, apres, utilisateur, qualite, commentaire)


def journaliser(demande, ligne, declencheur, avant, apres, utilisateur, qualite, commentaire=None):
    evenement = EvenementJournal(
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
        jeton_id=JETON_EN_COURS.get(),
        horodatage=maintenant(),
    )
    empreintes.sceller(evenement)  # le dossier est verrouillé : la chaîne ne peut pas bifurquer
    db.session.add(evenement)


def dernier_evenement(demande: Demande, declencheur: str) -> EvenementJournal | None:
    """Le dernier passage de `declencheur` au journal du dossier : son message (renvoi, compléments) est
    montré à qui doit y répondre."""
    return db.session.scalar(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande.id, EvenementJournal.declencheur == declencheur)
        .order_by(EvenementJournal.id.desc())
        .limit(1)
    )


def deriver(demande: Demande, arguments: dict) -> None:
    """Les statuts que DOMAIN.md dérive des lignes (en instruction, instruite, attribuée…)."""
    for declencheur, avant, apres in DEMANDE.suivre_derivations(demande, aujourdhui=arguments["aujourdhui"]):
        journaliser(demande, None, declencheur, avant, apres, None, SYSTEME)
        courriels.notifier_transition(demande, declencheur)


# --- Ce que fait une transition au-delà du changement de statut ---------------------------

# Ce que d'autres services font dans la transaction d'une transition de la demande (le compte rendu
# financier ouvert à la clôture de l'exercice…). Ils s'inscrivent ici (`reagir_a`) au lieu d'être importés :
# ils importent ce module pour déclencher leurs propres transitions, et les dépendances vont ainsi dans un
# seul sens. L'application importe chacun d'eux avec ses écrans (create_app), avant toute transition ;
# tests/test_unite_de_travail.py vérifie les inscriptions.
REACTIONS: dict[str, list[Callable]] = defaultdict(list)


def reagir_a(*declencheurs: str):
    """Décorateur : `fonction(demande, declencheur, utilisateur)` est appelée après chacun de ces
    déclencheurs, dans la transaction de la transition."""

    def inscrire(fonction):
        for declencheur in declencheurs:
            if fonction not in REACTIONS[declencheur]:
                REACTIONS[declencheur].append(fonction)
        return fonction

    return inscrire


def avant_transition(demande: Demande, declencheur: str, utilisateur) -> None:
    if declencheur == "attester":
        # Sans autoflush : les lignes créées s'écrivent avec le reste de l'attestation (statut du dossier,
        # numéro), en une fois ; écrites tout de suite, chacune l'était trois fois (création, statut du
        # dossier recopié par le déclencheur, numéro), avec ses 18 index.
        with db.session.no_autoflush:
            synchroniser_lignes_financement(demande)


def apres_transition(
    demande: Demande, declencheur: str, utilisateur, qualite: Qualite, commentaire: str | None
) -> None:
    if declencheur == "attester":
        demande.atteste_par_id = utilisateur.id if utilisateur else None
        demande.atteste_le = maintenant()
        if demande.numero is None:
            demande.numero = numerotation.prochain_numero(demande.exercice)
            demande.transmise_le = demande.atteste_le
            # Recopiés sur les lignes que `synchroniser_lignes_financement` vient de créer : pas encore
            # écrites, elles le seront avec (aucun financeur ne les a vues : pas de version à relever).
            ecrites = False
            for ligne in demande.lignes_financement:
                if inspect(ligne).pending:
                    ligne.numero, ligne.transmise_le = demande.numero, demande.transmise_le
                else:
                    ecrites = True
            if ecrites:  # déjà en base (non créées par le service) : un UPDATE, sans relever leur version
                with db.session.no_autoflush:
                    db.session.execute(
                        update(LigneFinancement)
                        .where(LigneFinancement.demande_id == demande.id, LigneFinancement.numero.is_(None))
                        .values(numero=demande.numero, transmise_le=demande.transmise_le)
                    )
        # Le récépissé (PDF) fige ce qui a été attesté ; produit par une tâche après le commit.
        jobs.planifier("dauphin.taches.generer_recepisse", demande.id)
    for reaction in REACTIONS.get(declencheur, ()):
        reaction(demande, declencheur, utilisateur)
    if demande.statut in (StatutDemande.retiree, StatutDemande.classee_sans_suite):
        for ligne in demande.lignes_financement:
            if "abandonner" in LIGNE.possibles(ligne, systeme=True):
                avant, apres = LIGNE.declencher(ligne, "abandonner")
                journaliser(demande, ligne, "abandonner", avant, apres, None, SYSTEME)
    courriels.notifier_transition(demande, declencheur, commentaire)


def synchroniser_lignes_financement(demande: Demande) -> None:
    """Une ligne de financement par financeur de la campagne sollicité au compte 74 du budget.

    À la première transmission les lignes sont créées. À une nouvelle attestation (réponse à une demande
    de compléments) elles suivent le budget : un montant changé après l'avis renvoie la ligne en
    instruction, un financeur retiré voit sa ligne mise sans suite, un financeur revenu la retrouve.
    """
    montants: dict[int, Decimal] = {}
    for ligne_budget in demande.lignes_budget:
        if (
            ligne_budget.compte == COMPTE_SUBVENTIONS
            and ligne_budget.financeur_id
            and ligne_budget.montant > 0
        ):
            montants[ligne_budget.financeur_id] = (
                montants.get(ligne_budget.financeur_id, 0) + ligne_budget.montant
            )
    existantes = {ligne.organisation_id: ligne for ligne in demande.lignes_financement}

    def systeme(ligne, declencheur, commentaire):
        avant, apres = LIGNE.declencher(ligne, declencheur)
        journaliser(demande, ligne, declencheur, avant, apres, None, SYSTEME, commentaire)

    for organisation_id, montant in montants.items():
        ligne = existantes.get(organisation_id)
        if ligne is None:
            demande.lignes_financement.append(
                LigneFinancement(
                    organisation_id=organisation_id,
                    # recopiés pour la recherche, le filtre par exercice et le tri des pages du financeur
                    structure_id=demande.structure_id,
                    exercice=demande.exercice,
                    numero=demande.numero,  # encore vides à la première attestation : posés ensuite
                    transmise_le=demande.transmise_le,
                    montant_demande=montant,
                    statut=StatutLigne.sollicitee,
                )
            )
            continue
        if ligne.statut == StatutLigne.abandonnee:
            systeme(ligne, "resolliciter", "Financeur de nouveau sollicité par le porteur.")
        if ligne.montant_demande != montant:
            if "reexaminer" in LIGNE.possibles(ligne, systeme=True):
                systeme(
                    ligne,
                    "reexaminer",
                    f"Montant demandé modifié : {format_euros(ligne.montant_demande)} → "
                    f"{format_euros(montant)}.",
                )
            ligne.montant_demande = montant
    for organisation_id, ligne in existantes.items():
        if organisation_id not in montants and "abandonner" in LIGNE.possibles(ligne, systeme=True):
            systeme(ligne, "abandonner", "Financeur retiré du budget par le porteur.")
