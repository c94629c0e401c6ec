"""Les scénarios du banc, enregistrés dans un registre : chacun dit qui le joue (les comptes du plan),
sur quelles cibles (une par itération), et ce qu'un navigateur ferait — seule la requête mesurée est
chronométrée (la page lue pour obtenir le formulaire et son jeton ne l'est pas).

Un scénario dont l'écran n'existe pas dans cette version (détecté dans `app.url_map`) n'est pas
enregistré : le banc l'annonce « absent de cette version ».
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle, islice

from bench.pilote import ErreurScenario, Mesure, Utilisateur, formulaire


@dataclass(frozen=True)
class Scenario:
    nom: str
    libelle: str
    genre: str  # « page » (cible p95 ≤ 100 ms), « transition » (≤ 150 ms) ou « export » (≤ 2 s)
    # plan, utilisateurs, itérations → [(email, [cible, …]), …] : une liste de cibles par utilisateur
    cibles: Callable[[dict, int, int], list[tuple[str, list]]]
    # (utilisateur, cible, entêtes de la requête mesurée) → mesures de la ou des requêtes chronométrées
    executer: Callable[[Utilisateur, object, dict], list[Mesure]]
    consomme: bool = False  # chaque cible ne sert qu'une fois (une transition)
    # plan → {"valeur", "unite"} : la taille du travail quand elle dépend du jeu (l'export), pour que la
    # croissance compare à taille égale (bench.rapport.croissance)
    taille: Callable[[dict], dict] | None = None
    # plan → {url: libellé} : le nom de chaque variante d'URL, le même aux deux volumes (croissance par URL)
    libelles: Callable[[dict], dict] | None = None


REGISTRE: dict[str, Scenario] = {}
ABSENTS: list[str] = []


def enregistrer(scenario: Scenario) -> None:
    REGISTRE[scenario.nom] = scenario


def _cibles_a_consommer(nom: str) -> Callable[[dict, int, int], list[tuple[str, list]]]:
    """Les cibles préparées pour le scénario `nom` (chaque utilisateur a les siennes) : les premiers
    utilisateurs, chacun avec ses premières cibles, une par itération."""
    return lambda plan, n, it: [(email, cibles[:it]) for email, cibles in plan[nom]["cibles"][:n]]


def _repeter(comptes: list[str], valeurs: list, iterations: int) -> list[tuple[str, list]]:
    """Chaque utilisateur parcourt les valeurs à partir d'un décalage différent."""
    return [
        (email, list(islice(cycle(valeurs[i % len(valeurs) :] + valeurs[: i % len(valeurs)]), iterations)))
        for i, email in enumerate(comptes)
    ]


# --- Pages ----------------------------------------------------------------------------------


def _get(utilisateur: Utilisateur, url: str, entetes: dict) -> list[Mesure]:
    _, mesure = utilisateur.get(url, headers=entetes)
    return [mesure]


enregistrer(
    Scenario(
        "instruction",
        "Espace d’instruction avec filtres (plus gros financeur)",
        "page",
        lambda plan, n, it: _repeter(plan["instruction"]["comptes"][:n], plan["instruction"]["requetes"], it),
        _get,
        libelles=lambda plan: plan["instruction"].get("libelles", {}),
    )
)
enregistrer(
    Scenario(
        "dossier",
        "Vue d’un dossier (instructeur)",
        "page",
        lambda plan, n, it: _repeter(
            plan["dossier"]["comptes"][:n], [f"/dossiers/{i}" for i in plan["dossier"]["demandes"]], it
        ),
        _get,
    )
)
enregistrer(
    Scenario(
        "tableau",
        "Tableau de bord du porteur (plus grosse structure)",
        "page",
        lambda plan, n, it: _repeter(
            plan["tableau"]["comptes"][:n], ["/mes-demandes/", "/mes-demandes/?page=2"], it
        ),
        _get,
    )
)


enregistrer(
    Scenario(
        "programmation",
        "Programmation d’une campagne (pilote)",
        "page",
        lambda plan, n, it: _repeter(plan["export"]["comptes"][:n], [plan["export"]["page"]], it),
        _get,
        # la campagne de l'export : ~1 000 demandes à 250 000, ~360 à 25 000 (croissance par demande)
        taille=lambda plan: {"valeur": plan["export"]["demandes"], "unite": "demandes de la campagne"},
    )
)


# --- Transitions ----------------------------------------------------------------------------


def _budget(utilisateur: Utilisateur, demande_id: int, entetes: dict) -> list[Mesure]:
    """Enregistre l'étape budget d'un brouillon telle qu'affichée (le service réécrit toutes ses lignes)."""
    _, mesure = utilisateur.post_formulaire(f"/demandes/{demande_id}/etape/budget", entetes=entetes)
    return [mesure]


enregistrer(
    Scenario(
        "budget",
        "Enregistrement de l’étape budget d’un brouillon",
        "transition",
        lambda plan, n, it: [
            (email, [demande_id] * it) for email, demande_id in plan["budget"]["cibles"][:n]
        ],
        _budget,
    )
)


def deposer(utilisateur: Utilisateur, demande_id: int, entetes: dict) -> list[Mesure]:
    """Soumettre depuis le récapitulatif, puis attester (les cases cochées) : deux POST mesurés."""
    recapitulatif = f"/demandes/{demande_id}/etape/recapitulatif"
    _, soumission = utilisateur.post_formulaire(
        recapitulatif, f"/demandes/{demande_id}/soumettre", entetes=entetes
    )
    page, _ = utilisateur.get(recapitulatif)
    action = f"/demandes/{demande_id}/attester"
    cases = formulaire(page.text, action)["cases"]
    _, attestation = utilisateur.envoyer(page, action, entetes=entetes, **{nom: "y" for nom in cases})
    return [soumission, attestation]


enregistrer(
    Scenario(
        "depot",
        "Soumission puis attestation d’une demande (chaque POST)",
        "transition",
        _cibles_a_consommer("depot"),
        deposer,
        consomme=True,
    )
)


def _recevable(utilisateur: Utilisateur, cible: list, entetes: dict) -> list[Mesure]:
    """L'avis de recevabilité par le formulaire de l'écran, avec le montant demandé comme montant proposé."""
    ligne_id, montant = cible
    _, mesure = utilisateur.post_formulaire(
        f"/instruction/lignes/{ligne_id}/recevable",
        entetes=entetes,
        **{f"recevable-{ligne_id}-montant": montant.replace(".", ",")},
    )
    return [mesure]


enregistrer(
    Scenario(
        "recevabilite",
        "Avis de recevabilité d’une ligne (déclarer recevable)",
        "transition",
        _cibles_a_consommer("recevabilite"),
        _recevable,
        consomme=True,
    )
)


# --- Écrans construits en parallèle : branchés seulement si leur route existe ------------------


def _route(app, *fragments: str) -> str | None:
    """Le premier point d'entrée dont le nom contient tous les fragments (ex. « comite », « vot »)."""
    for regle in app.url_map.iter_rules():
        if all(fragment in regle.endpoint for fragment in fragments):
            return regle.endpoint
    return None


def scenario_vote_comite(app) -> Scenario | None:
    """Vote d'une organisation partenaire sur un dossier à l'ordre du jour d'une séance ouverte : le POST
    du formulaire de vote tel que la page de la séance l'affiche (la lecture de la page n'est pas
    chronométrée). Cibles : `plan["vote"]["cibles"]` = [(email, [[séance, point, organisation], …]), …]."""
    if _route(app, "comites", "voter") is None:
        return None

    def voter(utilisateur: Utilisateur, cible, entetes: dict) -> list[Mesure]:
        seance_id, point_id, organisation_id = cible
        prefixe = f"vote-{point_id}-{organisation_id}"
        _, mesure = utilisateur.post_formulaire(
            f"/comites/{seance_id}",
            action_contient=f"/points/{point_id}/vote/{organisation_id}",
            entetes=entetes,
            **{f"{prefixe}-choix": "pour"},
        )
        return [mesure]

    return Scenario(
        "vote",
        "Vote d’une organisation en comité",
        "transition",
        _cibles_a_consommer("vote"),
        voter,
        consomme=True,
    )


def scenario_export_programmation(app) -> Scenario | None:
    """Export de la programmation d'un contrat (tableur). À brancher après la fusion : le plan doit fournir
    `plan["export"]` = {"comptes": [pilotes du contrat], "urls": [url de l'export d'un contrat]} ; la
    requête mesurée est le GET de l'export (ou le POST qui le demande, si l'export passe par une tâche)."""
    if _route(app, "pilotage", "export_xlsx") is None:
        return None
    return Scenario(
        "export",
        "Export de la programmation d’un contrat",
        "export",
        lambda plan, n, it: _repeter(plan["export"]["comptes"][:n], plan["export"]["urls"], it),
        _get,
        taille=lambda plan: {"valeur": plan["export"]["demandes"], "unite": "demandes exportées"},
    )


CONDITIONNELS = {
    "vote du comité": scenario_vote_comite,
    "export de la programmation": scenario_export_programmation,
}


def brancher_conditionnels(app) -> None:
    for libelle, fabrique in CONDITIONNELS.items():
        scenario = fabrique(app)
        if scenario is None:
            print(f"scénario {libelle} absent de cette version")
            ABSENTS.append(libelle)
        else:
            enregistrer(scenario)


__all__ = ["ABSENTS", "REGISTRE", "ErreurScenario", "Scenario", "brancher_conditionnels", "deposer"]
