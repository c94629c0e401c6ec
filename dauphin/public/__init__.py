"""Pages publiques : accueil, cycle de vie d'une demande, accessibilité, mentions légales."""

from flask import Blueprint, render_template
from flask_login import current_user

from dauphin.navigation import entrees
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


@bp.route("/accessibilite")
def accessibilite():
    return render_template("public/accessibilite.html")


@bp.route("/mentions-legales")
def mentions_legales():
    return render_template("public/mentions_legales.html")


@bp.route("/donnees-personnelles")
def donnees_personnelles():
    return render_template("public/donnees_personnelles.html")
