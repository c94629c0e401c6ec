"""La navigation principale : chaque rôle voit ses propres écrans."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError


@dataclass(frozen=True)
class Lien:
    libelle: str
    url: str
    actif: bool


def entrees(utilisateur) -> list[tuple[str, str, str]]:
    """(libellé, endpoint, blueprint) des espaces auxquels l'utilisateur a droit."""
    resultat = []
    if utilisateur.adhesions_structures:
        resultat.append(("Mes demandes", "usager.tableau_de_bord", "usager,demandes,documents,justification"))
    if utilisateur.adhesions_structures or not (
        utilisateur.adhesions_organisations or utilisateur.pilotages or utilisateur.administrateur_national
    ):
        # Les porteurs gèrent leurs structures ; un compte sans rattachement y inscrit la sienne.
        resultat.append(("Mes structures", "structures.mes_structures", "structures"))
    if utilisateur.adhesions_organisations or utilisateur.pilotages:
        resultat.append(("Instruction", "instruction.corbeille", "instruction"))
    if utilisateur.adhesions_organisations or utilisateur.pilotages:
        resultat.append(("Comités", "comites.liste", "comites"))
    if utilisateur.pilotages:
        resultat.append(("Pilotage", "pilotage.contrats", "pilotage,justification"))
    elif utilisateur.adhesions_organisations:
        # Les organisations signataires consultent la programmation des contrats (le pilote y accède
        # depuis son espace de pilotage).
        resultat.append(("Programmation", "pilotage.programmations", "pilotage"))
    if utilisateur.administrateur_national:
        resultat.append(("Administration", "administration.accueil", "administration"))
    if utilisateur.administrateur_national or any(
        a.role == "instructeur" for a in utilisateur.adhesions_organisations
    ):
        resultat.append(("Jetons d’API", "jetons.liste", "jetons"))
    return resultat


def navigation() -> list[Lien]:
    try:
        if not current_user or not current_user.is_authenticated:
            return []
        liens = [
            Lien(libelle, url_for(endpoint), request.blueprint in blueprint.split(","))
            for libelle, endpoint, blueprint in entrees(current_user)
        ]
    except SQLAlchemyError:  # la page d'erreur 500 ne doit pas dépendre de la base
        return []
    liens.append(
        Lien(
            "Cycle de vie d’une demande",
            url_for("public.cycle_de_vie"),
            request.endpoint == "public.cycle_de_vie",
        )
    )
    return liens
