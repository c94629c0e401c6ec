"""Pages publiques : accueil, cycle de vie, données ouvertes, accessibilité, mentions légales."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from dauphin.listes import page_courante
from dauphin.navigation import entrees
from dauphin.services import donnees_ouvertes
from dauphin.stockage import reponse_fichier
from workflows import DEMANDE, LIGNE
from workflows.diagramme import mermaid

bp = Blueprint("public", __name__)


@bp.route("/")
def accueil():
    espaces = entrees(current_user) if current_user.is_authenticated else []
    return render_template("public/accueil.html", espaces=espaces)


@bp.route("/cycle-de-vie")
def cycle_de_vie():
    machines = [(definition, mermaid(definition)) for definition in (DEMANDE, LIGNE)]
    return render_template("public/cycle_de_vie.html", machines=machines)


@bp.route("/donnees-ouvertes/")
def donnees_ouvertes_page():
    """Les fichiers SCDL publiés d'un exercice (le plus récent par défaut), et les financeurs dont les
    données ne peuvent pas l'être faute de SIRET."""
    exercices = donnees_ouvertes.exercices()
    exercice = request.args.get("exercice", type=int)
    if exercice not in exercices:
        exercice = exercices[0] if exercices else None
    publications = sans_siret = None
    if exercice is not None:
        publications = donnees_ouvertes.page_publications(
            exercice, page_courante(), current_app.config["PAGE_TAILLE"]
        )
        sans_siret = donnees_ouvertes.financeurs_sans_siret(exercice)
    return render_template(
        "public/donnees_ouvertes.html",
        exercices=exercices,
        exercice=exercice,
        publications=publications,
        sans_siret=sans_siret,
        schema=donnees_ouvertes.NOM_SCHEMA,
        version_schema=donnees_ouvertes.VERSION_SCHEMA,
    )


@bp.route("/donnees-ouvertes/<nom>")
def fichier_donnees_ouvertes(nom: str):
    cle = donnees_ouvertes.cle_fichier(nom)
    if cle is None:
        abort(404)
    return reponse_fichier(cle, mimetype="text/csv; charset=utf-8", download_name=nom, max_age=0)


@bp.route("/accessibilite")
def accessibilite():
    return render_template("public/accessibilite.html")


@bp.route("/mentions-legales")
def mentions_legales():
    return render_template("public/mentions_legales.html")


@bp.route("/donnees-personnelles")
def donnees_personnelles():
    return render_template("public/donnees_personnelles.html")
