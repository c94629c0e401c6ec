"""Espace de l'administration nationale (ANCT) : référentiel et comptes."""

from functools import wraps

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dauphin.cli import Commandes
from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import ContratDeVille, Demande, Organisation, Qpv, Structure, Utilisateur
from dauphin.policies import acteur_de
from dauphin.vues import exiger

bp = Blueprint("administration", __name__, url_prefix="/administration")
bp.cli = Commandes()  # `flask administration …` : les refus en une phrase, comme les autres commandes


def administrateur_national(vue):
    @wraps(vue)
    @login_required
    def verifiee(*args, **kwargs):
        exiger(acteur_de(current_user).national)
        return vue(*args, **kwargs)

    return verifiee


@bp.route("/")
@administrateur_national
def accueil():
    chiffres = {
        libelle: db.session.scalar(select(func.count()).select_from(modele))
        for libelle, modele in (
            ("Contrats de ville", ContratDeVille),
            ("Quartiers prioritaires", Qpv),
            ("Organisations", Organisation),
            ("Structures", Structure),
            ("Comptes", Utilisateur),
            ("Demandes", Demande),
        )
    }
    contrats = db.paginate(
        select(ContratDeVille).options(selectinload(ContratDeVille.qpvs)).order_by(ContratDeVille.code),
        page=page_courante(),
        per_page=current_app.config["PAGE_TAILLE"],
        error_out=False,
    )
    return render_template("administration/accueil.html", chiffres=chiffres, contrats=contrats)


# Écrans du référentiel et des comptes (modules séparés, enregistrés à l'import).
import dauphin.administration.comptes  # noqa: E402,F401
import dauphin.administration.referentiel  # noqa: E402,F401
from dauphin.administration import (  # noqa: E402, F401  (autres écrans)
    courriels,
    exports,
    lectures,
    tableau_de_bord,
)
