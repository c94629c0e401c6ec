"""Tableau de bord national (administration nationale) : indicateurs par exercice, région, département et
pilier thématique, en tableaux et en graphiques SVG rendus par le serveur (chacun suivi de ses données)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import format_decimal

from dauphin import euros
from dauphin.administration import administrateur_national, bp
from dauphin.services import tableau_de_bord as service
from dauphin.services.workflow import aujourdhui


@bp.app_template_filter("nombre")
def nombre(valeur) -> str:
    """Un entier à la française : « 12 345 »."""
    return format_decimal(valeur or 0)


def _barres(rangees, mesure: str, format_) -> list[tuple[str, float, str]]:
    return [
        (r.libelle, float(getattr(r.indicateurs, mesure)), format_(getattr(r.indicateurs, mesure)))
        for r in rangees
    ]


@bp.route("/tableau-de-bord")
@administrateur_national
def tableau_de_bord():
    exercices = service.exercices()
    exercice = request.args.get("exercice", type=int)
    if exercice not in exercices:
        tous = request.args.get("exercice") == "tous"
        exercice = None if tous else service.exercice_par_defaut(exercices, aujourdhui().year)
    tableau = service.tableau_de_bord(exercice)
    return render_template(
        "administration/tableau_de_bord.html",
        tableau=tableau,
        exercices=exercices,
        exercice=exercice,
        graphiques={
            "exercices": _barres(tableau.par_exercice, "deposees", nombre),
            "regions": _barres(tableau.par_region, "montant_vote", euros),
            "piliers": _barres(tableau.par_pilier, "deposees", nombre),
        },
    )
