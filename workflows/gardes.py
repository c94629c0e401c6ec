"""Gardes nommées des machines : chacune dit *ce qui manque*, pas seulement oui ou non.

Une garde lit l'objet (demande ou ligne, ORM ou objet simple) et les arguments du
déclencheur ; elle rend la liste des problèmes qui empêchent la transition. La machine
l'utilise comme condition (aucun problème = transition permise) et le service s'en sert
pour expliquer un refus à l'usager, avec l'étape du formulaire qui corrige chaque point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from workflows.budget import (
    COMPTE_SUBVENTIONS,
    COMPTES,
    a_plus_de_deux_decimales,
    format_euros,
    verifier_budget,
)
from workflows.statuts import STATUTS_LIGNE_AVISEE, STATUTS_LIGNE_DECIDEE, StatutDemande, StatutLigne


@dataclass(frozen=True)
class Probleme:
    code: str
    message: str
    etape: str | None = None  # étape du formulaire de demande qui corrige le problème
    # Le champ du formulaire (son nom, qui est aussi l'id de l'élément de l'étape : l'ancre du lien de la
    # liste des refus ; tests/test_liens_des_refus.py vérifie chaque lien).
    champ: str | None = None


# Argument du déclencheur posé par `Definition.declencher`, qui vient d'évaluer toutes les gardes de la
# transition sur le même objet (`problemes`) : la machine ne les évalue pas une seconde fois. Sans lui
# (machine déclenchée directement), chaque condition évalue sa garde.
GARDES_VERIFIEES = "_gardes_verifiees"


@dataclass(frozen=True)
class Garde:
    nom: str
    verifier: Callable[[Any, dict], list[Probleme]]

    def condition(self) -> Callable:
        """La condition `transitions` (appelée avec EventData, `send_event=True`)."""

        def condition(event) -> bool:
            if event.kwargs.get(GARDES_VERIFIEES) is True:
                return True
            return not self.verifier(event.model, event.kwargs)

        condition.__name__ = self.nom  # le diagramme affiche ce nom
        return condition


GARDES: dict[str, Garde] = {}


def garde(fonction: Callable[[Any, dict], list[Probleme]]) -> Garde:
    g = Garde(fonction.__name__, fonction)
    GARDES[g.nom] = g
    return g


def aujourdhui(kwargs: dict) -> date:
    return kwargs.get("aujourdhui") or date.today()


def _vide(valeur) -> bool:
    return valeur is None or (isinstance(valeur, str) and not valeur.strip())


def _sauf(permis: bool, code: str, message: str, **details) -> list[Probleme]:
    """Aucun problème si `permis`, sinon celui-ci."""
    return [] if permis else [Probleme(code, message, **details)]


def exigence(code: str, message: str, **details) -> Callable[[Callable[[Any, dict], bool]], Garde]:
    """La forme de la plupart des gardes : une condition (objet, arguments) → bool, et le problème qu'elle
    signale quand elle n'est pas remplie.

        @exigence("convention_non_signee", "Déposez la convention signée.")
        def convention_signee(ligne, kwargs) -> bool:
            return ligne.convention_signee
    """

    def declarer(condition: Callable[[Any, dict], bool]) -> Garde:
        @functools.wraps(condition)
        def verifier(objet, kwargs) -> list[Probleme]:
            return _sauf(condition(objet, kwargs), code, message, **details)

        return garde(verifier)

    return declarer


# --- Demande : dépôt -----------------------------------------------------------------

CHAMPS_OBLIGATOIRES = (
    # (attribut, libellé, étape)
    ("responsable_nom", "la personne chargée de la demande", "structure"),
    ("responsable_email", "le courriel de la personne chargée de la demande", "structure"),
    ("compte_bancaire_id", "les coordonnées bancaires", "structure"),
    ("intitule", "l’intitulé de l’action", "action"),
    ("objectifs", "les objectifs de l’action", "action"),
    ("description", "la description de l’action", "action"),
    ("public_cible", "le public visé", "action"),
    ("nb_beneficiaires", "le nombre de bénéficiaires", "action"),
    ("thematique_code", "la thématique", "action"),
    ("date_debut", "la date de début", "action"),
    ("date_fin", "la date de fin", "action"),
    ("moyens_humains", "les moyens humains", "action"),
    ("indicateurs_evaluation", "les indicateurs d’évaluation", "action"),
)


@garde
def formulaire_complet(demande, kwargs) -> list[Probleme]:
    problemes = [
        Probleme("champ_manquant", f"Renseignez {libelle}.", etape, attribut)
        for attribut, libelle, etape in CHAMPS_OBLIGATOIRES
        if _vide(getattr(demande, attribut, None))
    ]
    if not list(demande.codes_qpv):
        problemes.append(
            Probleme("qpv_manquant", "Indiquez au moins un quartier prioritaire concerné.", "action", "qpvs")
        )
    nb = demande.nb_beneficiaires
    if nb is not None and nb <= 0:
        problemes.append(
            Probleme(
                "beneficiaires", "Le nombre de bénéficiaires doit être positif.", "action", "nb_beneficiaires"
            )
        )
    if demande.date_debut and demande.date_fin and demande.date_fin < demande.date_debut:
        problemes.append(
            Probleme("dates", "La date de fin précède la date de début de l’action.", "action", "date_fin")
        )
    return problemes


# L'étape du budget : un champ par compte (`compte_64`), un par financeur de la campagne (`financeur_3`),
# les lignes libres des autres financeurs (`libres`) ; les totaux pour ce qui porte sur l'équilibre.
CHAMP_TOTAUX_BUDGET = "totaux-budget"
CHAMP_AUTRES_FINANCEURS = "libres"


def champ_du_budget(demande, compte: str | None) -> str:
    """Le champ de l'étape du budget où se corrige une erreur portant sur `compte`."""
    if compte == COMPTE_SUBVENTIONS:
        financeurs = sorted(demande.campagne.financeurs_ids)
        return f"financeur_{financeurs[0]}" if financeurs else CHAMP_AUTRES_FINANCEURS
    if compte in COMPTES:
        return f"compte_{compte}"
    return CHAMP_TOTAUX_BUDGET


@garde
def budget_equilibre(demande, kwargs) -> list[Probleme]:
    return [
        Probleme(e.code, e.message, "budget", champ_du_budget(demande, e.compte))
        for e in verifier_budget(demande.lignes_budget)
    ]


@garde
def financeurs_participants(demande, kwargs) -> list[Probleme]:
    """Seuls les financeurs de la campagne (ceux qui ont une enveloppe) instruisent une ligne : sans eux
    la demande serait transmise à personne. Les autres financeurs restent possibles en lignes libres."""
    participants = set(demande.campagne.financeurs_ids)
    sollicites = {
        ligne.financeur_id
        for ligne in demande.lignes_budget
        if ligne.compte == "74" and ligne.financeur_id and (ligne.montant or 0) > 0
    }
    problemes = [
        Probleme(
            "financeur_hors_campagne",
            "Un financeur sollicité ne participe pas à cette campagne : indiquez-le en ligne libre.",
            "budget",
            CHAMP_AUTRES_FINANCEURS,
        )
        for _ in sollicites - participants
    ][:1]
    if not sollicites & participants:
        problemes.append(
            Probleme(
                "aucun_financeur_de_la_campagne",
                "Sollicitez au moins un des financeurs de la campagne (compte 74).",
                "budget",
                champ_du_budget(demande, COMPTE_SUBVENTIONS),
            )
        )
    return problemes


@garde
def pieces_fournies(demande, kwargs) -> list[Probleme]:
    fournies = set(demande.types_pieces_fournies)
    return [
        Probleme(
            "piece_manquante",
            f"Joignez la pièce « {p.libelle} ».",
            "pieces",
            f"piece_{getattr(p.type_piece, 'value', p.type_piece)}",
        )
        for p in demande.campagne.pieces_requises
        if p.obligatoire and p.type_piece not in fournies
    ]


@garde
def campagne_ouverte(demande, kwargs) -> list[Probleme]:
    campagne, jour = demande.campagne, aujourdhui(kwargs)
    if jour < campagne.date_ouverture:
        return [
            Probleme(
                "campagne_pas_ouverte",
                f"La campagne n’ouvre que le {campagne.date_ouverture:%d/%m/%Y}.",
            )
        ]
    if jour > campagne.date_cloture:
        return [
            Probleme(
                "campagne_close",
                f"La campagne est close depuis le {campagne.date_cloture:%d/%m/%Y} : "
                "les demandes ne peuvent plus être transmises.",
            )
        ]
    return []


@garde
def action_pas_terminee(demande, kwargs) -> list[Probleme]:
    """Une subvention finance une action à venir ou en cours : pas une action déjà terminée (campagne
    rouverte, brouillon repris d'une année passée). Le message va sur la date de fin de l'action."""
    fin = demande.date_fin
    if fin is None or fin >= aujourdhui(kwargs):
        return []
    message = (
        f"L’action s’est terminée le {fin:%d/%m/%Y} : une demande de subvention porte sur une action à "
        "venir ou en cours. Corrigez la date de fin de l’action si elle est fausse."
    )
    return [Probleme("action_terminee", message, "action", "date_fin")]


@garde
def eligibilite_conforme(demande, kwargs) -> list[Probleme]:
    reponses = demande.reponses_eligibilite  # {question_id: bool}
    problemes = []
    for question in demande.campagne.questions_eligibilite:
        reponse = reponses.get(question.id)
        if reponse is None:
            problemes.append(
                Probleme(
                    "eligibilite_sans_reponse",
                    f"Répondez à la question « {question.libelle} ».",
                    "eligibilite",
                    f"question_{question.id}",
                )
            )
        elif reponse != question.reponse_attendue:
            attendue = "oui" if question.reponse_attendue else "non"
            problemes.append(
                Probleme(
                    "eligibilite_non_conforme",
                    f"« {question.libelle} » : la campagne demande la réponse « {attendue} ».",
                    "eligibilite",
                    f"question_{question.id}",
                )
            )
    return problemes


@exigence("attestation", "Cochez l’attestation sur l’honneur.", etape="recapitulatif", champ="attestation")
def attestation_cochee(objet, kwargs) -> bool:
    return kwargs.get("attestation") is True


@exigence("motif", "Indiquez le motif.", champ="commentaire")
def motif_fourni(objet, kwargs) -> bool:
    return not _vide(kwargs.get("commentaire"))


@exigence("message", "Écrivez le message adressé au porteur.", champ="commentaire")
def message_fourni(objet, kwargs) -> bool:
    return not _vide(kwargs.get("commentaire"))


# --- Demande : statuts dérivés des lignes ---------------------------------------------


def _lignes_actives(demande):
    return [ligne for ligne in demande.lignes_financement if ligne.statut != StatutLigne.abandonnee]


def _toutes(demande, statuts) -> bool:
    """Au moins une ligne active, et toutes dans `statuts`."""
    lignes = _lignes_actives(demande)
    return bool(lignes) and all(ligne.statut in statuts for ligne in lignes)


def _montant_vote(ligne) -> Decimal:
    return ligne.montant_vote or Decimal("0")


def _une_ligne_financee(demande) -> bool:
    return any(_montant_vote(ligne) > 0 for ligne in _lignes_actives(demande))


@exigence("aucune_prise_en_charge", "Aucun financeur n’a encore pris sa ligne en charge.")
def une_ligne_prise_en_charge(demande, kwargs) -> bool:
    return any(ligne.statut != StatutLigne.sollicitee for ligne in _lignes_actives(demande))


@exigence("avis_manquant", "Chaque financeur doit avoir donné son avis de recevabilité.")
def toutes_lignes_avisees(demande, kwargs) -> bool:
    return _toutes(demande, STATUTS_LIGNE_AVISEE)


@exigence("toutes_avisees", "Toutes les lignes ont reçu un avis.")
def une_ligne_sans_avis(demande, kwargs) -> bool:
    return any(ligne.statut not in STATUTS_LIGNE_AVISEE for ligne in _lignes_actives(demande))


@exigence("decision_manquante", "Le comité n’a pas encore décidé de chaque ligne.")
def lignes_decidees(demande, kwargs) -> bool:
    return _toutes(demande, STATUTS_LIGNE_DECIDEE)


@exigence("aucun_vote_positif", "Aucun financeur n’a voté de montant.")
def une_ligne_votee(demande, kwargs) -> bool:
    return _une_ligne_financee(demande)


@exigence("vote_positif", "Au moins un financeur a voté un montant.")
def aucune_ligne_votee(demande, kwargs) -> bool:
    return not _une_ligne_financee(demande)


@exigence("aucun_versement", "Aucun versement n’a été effectué.")
def un_versement(demande, kwargs) -> bool:
    return any((ligne.montant_verse or 0) > 0 for ligne in _lignes_actives(demande))


@garde
def exercice_termine(demande, kwargs) -> list[Probleme]:
    return _sauf(
        aujourdhui(kwargs).year > demande.annee_fin,
        "exercice_en_cours",
        f"L’exercice {demande.annee_fin} de l’action n’est pas terminé.",
    )


@garde
def compte_rendu_conforme(demande, kwargs) -> list[Probleme]:
    """Le compte rendu financier est complet et équilibré (workflows/compte_rendu.py)."""
    from workflows.compte_rendu import SEUIL_PAR_DEFAUT, verifier_compte_rendu

    compte_rendu = getattr(demande, "compte_rendu", None)
    if compte_rendu is None:
        return [Probleme("compte_rendu_absent", "Le compte rendu financier n’a pas été rempli.")]
    seuil = getattr(demande.campagne, "seuil_ecart_pourcentage", None) or SEUIL_PAR_DEFAUT
    return [Probleme(e.code, e.message, champ=e.champ) for e in verifier_compte_rendu(compte_rendu, seuil)]


@exigence("justification_a_valider", "Chaque financeur doit valider le compte rendu financier.")
def justifications_validees(demande, kwargs) -> bool:
    financees = [ligne for ligne in _lignes_actives(demande) if _montant_vote(ligne) > 0]
    return bool(financees) and all(ligne.compte_rendu_valide for ligne in financees)


# --- Ligne de financement ------------------------------------------------------------


def _montant(kwargs) -> Decimal | None:
    montant = kwargs.get("montant")
    if montant is None:
        return None
    return montant if isinstance(montant, Decimal) else Decimal(str(montant))


def _probleme_montant(montant: Decimal | None, champ: str) -> list[Probleme]:
    if montant is None:
        return [Probleme("montant_manquant", "Indiquez le montant.", champ=champ)]
    if montant <= 0:
        return [Probleme("montant_nul", "Le montant doit être supérieur à 0 €.", champ=champ)]
    if a_plus_de_deux_decimales(montant):
        return [Probleme("montant_centimes", "Le montant s’exprime en euros et centimes.", champ=champ)]
    return []


def _au_plus_demande(ligne, montant: Decimal, quel: str) -> list[Probleme]:
    return _sauf(
        montant <= ligne.montant_demande,
        "montant_superieur_demande",
        f"Le montant {quel} ({format_euros(montant)}) dépasse le montant demandé "
        f"({format_euros(ligne.montant_demande)}).",
        champ="montant",
    )


@garde
def montant_propose_valide(ligne, kwargs) -> list[Probleme]:
    montant = _montant(kwargs)
    return _probleme_montant(montant, "montant") or _au_plus_demande(ligne, montant, "proposé")


@garde
def montant_vote_valide(ligne, kwargs) -> list[Probleme]:
    montant = _montant(kwargs)
    problemes = _probleme_montant(montant, "montant")
    if problemes:
        return problemes
    problemes = _au_plus_demande(ligne, montant, "voté")
    reste = kwargs.get("reste_enveloppe")
    if reste is None:
        problemes.append(Probleme("enveloppe_inconnue", "L’enveloppe du financeur n’est pas définie."))
    elif montant > reste:
        problemes.append(
            Probleme(
                "enveloppe_depassee",
                f"Le montant voté ({format_euros(montant)}) dépasse le reste de l’enveloppe "
                f"({format_euros(reste)}).",
                champ="montant",
            )
        )
    return problemes


@exigence("dossier_non_programme", "Seul un dossier inscrit à l’ordre du jour d’un comité peut être voté.")
def dossier_programme(ligne, kwargs) -> bool:
    return ligne.demande.statut == StatutDemande.programmee


DECISION_CORRIGEABLE = (StatutDemande.attribuee, StatutDemande.rejetee, StatutDemande.versee)


@exigence(
    "decision_non_corrigeable",
    "Seule la décision d’un comité clos peut être corrigée, avant l’engagement de la ligne.",
)
def decision_corrigeable(ligne, kwargs) -> bool:
    return ligne.demande.statut in DECISION_CORRIGEABLE


@exigence("avis_fige", "L’avis ne peut plus être modifié à ce stade du dossier.")
def avis_modifiable(ligne, kwargs) -> bool:
    return ligne.demande.statut in (StatutDemande.en_instruction, StatutDemande.instruite)


@exigence("convention_inutile", "Le montant attribué relève d’une notification, sans convention.")
def convention_requise(ligne, kwargs) -> bool:
    return ligne.convention_requise


@exigence(
    "convention_requise", "Au-delà de 23 000 € par an, une convention écrite est obligatoire (loi 2000-321)."
)
def convention_non_requise(ligne, kwargs) -> bool:
    return not ligne.convention_requise


@exigence("convention_non_signee", "Déposez la convention signée.")
def convention_signee(ligne, kwargs) -> bool:
    return ligne.convention_signee


@exigence("justification_non_deposee", "Le compte rendu financier n’a pas été déposé.")
def justification_deposee(ligne, kwargs) -> bool:
    return ligne.demande.statut == StatutDemande.justification_en_cours


@exigence("deja_valide", "Votre organisation a déjà validé ce compte rendu financier.")
def compte_rendu_pas_encore_valide(ligne, kwargs) -> bool:
    return not ligne.compte_rendu_valide


def _reste_a_verser(ligne) -> Decimal:
    return _montant_vote(ligne) - (ligne.montant_verse or Decimal("0"))


@garde
def versement_valide(ligne, kwargs) -> list[Probleme]:
    montant = _montant(kwargs)
    problemes = _probleme_montant(montant, "montant")
    if not problemes and montant > _reste_a_verser(ligne):
        problemes.append(
            Probleme(
                "versement_superieur",
                f"Le versement ({format_euros(montant)}) dépasse le reste à verser "
                f"({format_euros(_reste_a_verser(ligne))}).",
                champ="montant",
            )
        )
    return problemes


@garde
def solde_valide(ligne, kwargs) -> list[Probleme]:
    problemes = []
    if not ligne.compte_rendu_valide:
        problemes.append(
            Probleme("justification_a_valider", "Le solde n’est payable qu’après validation du compte rendu.")
        )
    montant = _montant(kwargs) or Decimal("0")
    if montant < 0 or montant != _reste_a_verser(ligne):
        problemes.append(
            Probleme(
                "solde_inexact",
                f"Le solde doit être exactement le reste à verser ({format_euros(_reste_a_verser(ligne))}).",
                champ="montant",
            )
        )
    return problemes
