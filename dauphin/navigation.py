"""La navigation principale : chaque rôle voit ses propres écrans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from dauphin.policies import Acteur, acteur_de, gere_des_jetons
from dauphin.urls import url_fixe


@dataclass(frozen=True)
class Lien:
    libelle: str
    url: str
    actif: bool


# (libellé, endpoint, blueprints où l'entrée est active, à qui elle s'adresse)
ENTREES: tuple[tuple[str, str, str, Callable[[Acteur], bool]], ...] = (
    (
        "Mes demandes",
        "usager.tableau_de_bord",
        "usager,demandes,documents,justification",
        lambda a: bool(a.structures),
    ),
    # Les porteurs gèrent leurs structures ; un compte sans rattachement y inscrit la sienne.
    (
        "Mes structures",
        "structures.mes_structures",
        "structures",
        lambda a: bool(a.structures) or not a.hors_structure,
    ),
    ("Instruction", "instruction.corbeille", "instruction", lambda a: a.dans_une_organisation),
    ("Comités", "comites.liste", "comites", lambda a: a.dans_une_organisation),
    ("Pilotage", "pilotage.contrats", "pilotage,justification", lambda a: bool(a.pilotages)),
    # Les organisations signataires consultent la programmation des contrats (le pilote y accède depuis son
    # espace de pilotage).
    (
        "Programmation",
        "pilotage.programmations",
        "pilotage",
        lambda a: bool(a.organisations and not a.pilotages),
    ),
    ("Administration", "administration.accueil", "administration", lambda a: a.national),
    ("Jetons d’API", "jetons.liste", "jetons,webhooks", gere_des_jetons),
)


def entrees(utilisateur) -> list[tuple[str, str, str]]:
    """(libellé, endpoint, blueprint) des espaces auxquels l'utilisateur a droit."""
    acteur = acteur_de(utilisateur)
    return [
        (libelle, endpoint, blueprints) for libelle, endpoint, blueprints, pour in ENTREES if pour(acteur)
    ]


def navigation() -> list[Lien]:
    try:
        if not current_user or not current_user.is_authenticated:
            return []
        liens = [
            Lien(libelle, url_fixe(endpoint), request.blueprint in blueprint.split(","))
            for libelle, endpoint, blueprint in entrees(current_user)
        ]
    except SQLAlchemyError:  # la page d'erreur 500 ne doit pas dépendre de la base
        return []
    liens.append(
        Lien(
            "Cycle de vie d’une demande",
            url_fixe("public.cycle_de_vie"),
            request.endpoint == "public.cycle_de_vie",
        )
    )
    return liens
