"""Espace des pilotes : leurs contrats de ville, les campagnes et l'avancement des demandes."""

from collections import defaultdict

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from dauphin.extensions import db
from dauphin.models import Campagne, Demande
from dauphin.policies import PILOTER_CONTRAT, acteur_de
from dauphin.vues import exiger
from workflows import StatutDemande

bp = Blueprint("pilotage", __name__, url_prefix="/pilotage")


@bp.route("/")
@login_required
def contrats():
    acteur = acteur_de(current_user)
    exiger(bool(acteur.contrats_pilotes))
    campagnes = db.session.scalars(
        select(Campagne)
        .where(PILOTER_CONTRAT.sur(acteur, Campagne.contrat_id))
        .order_by(Campagne.exercice.desc())
    ).all()
    comptes = defaultdict(dict)
    for campagne_id, statut, nombre in db.session.execute(
        select(Demande.campagne_id, Demande.statut, func.count())
        .where(Demande.campagne_id.in_([c.id for c in campagnes]), Demande.numero.is_not(None))
        .group_by(Demande.campagne_id, Demande.statut)
    ):
        comptes[campagne_id][StatutDemande(statut)] = nombre
    par_contrat = defaultdict(list)
    for campagne in campagnes:
        par_contrat[campagne.contrat_id].append(campagne)
    return render_template(
        "pilotage/contrats.html",
        pilotages=current_user.pilotages,
        par_contrat=par_contrat,
        comptes=comptes,
        statuts=list(StatutDemande),
    )


# Écrans ajoutés au même blueprint (modules séparés, enregistrés à l'import).
import dauphin.pilotage.campagnes  # noqa: E402,F401
from dauphin.pilotage import programmation  # noqa: E402, F401  (routes de la programmation et des exports)
