"""Écrans des jetons de l'API : la liste (créateur, titulaire, portée, échéance, dernière utilisation,
révocation), la création (le jeton en clair est montré une seule fois) et la révocation avec confirmation.

L'administrateur national gère les jetons de toute organisation ; un instructeur ceux de la sienne.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import JetonApi, Organisation
from dauphin.policies import GERER_JETONS, gere_des_jetons
from dauphin.services import api as service
from dauphin.services.workflow import aujourdhui
from forms.jetons import JetonForm, RevocationForm

bp = Blueprint("jetons", __name__, url_prefix="/jetons-api")


def _gestionnaire_ou_403():
    if not gere_des_jetons(current_user):
        abort(403)


@bp.route("/")
@login_required
def liste():
    _gestionnaire_ou_403()
    organisations = service.organisations_gerables(current_user)
    organisation_id = request.args.get("organisation", type=int)
    if organisation_id not in {o.id for o in organisations}:
        organisation_id = None
    page = service.jetons_visibles(
        current_user, organisation_id, page=page_courante(), par_page=current_app.config["PAGE_TAILLE"]
    )
    return render_template(
        "jetons/liste.html",
        page=page,
        organisations=organisations,
        organisation_id=organisation_id,
        maintenant=service.maintenant(),
    )


@bp.route("/nouveau")
@login_required
def choisir_organisation():
    """Le choix de l'organisation, avant le formulaire (qui en dépend : titulaires possibles)."""
    _gestionnaire_ou_403()
    organisations = service.organisations_gerables(current_user)
    choisie = request.args.get("organisation", type=int)
    if choisie in {o.id for o in organisations}:
        return redirect(url_for("jetons.creer", organisation_id=choisie))
    if len(organisations) == 1:
        return redirect(url_for("jetons.creer", organisation_id=organisations[0].id))
    return render_template(
        "jetons/choisir_organisation.html",
        organisations=organisations,
        erreur="Choisissez une organisation." if "organisation" in request.args else None,
    )


@bp.route("/organisations/<int:organisation_id>/nouveau", methods=["GET", "POST"])
@login_required
def creer(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    if not GERER_JETONS.permet(current_user, organisation):
        abort(403)
    form = JetonForm()
    if current_user.administrateur_national:
        form.titulaire_id.choices = [
            (u.id, f"{u.nom_complet} — {role.libelle}")
            for u, role in service.titulaires_possibles(organisation_id)
        ]
    else:
        form.titulaire_id.choices = [(current_user.id, current_user.nom_complet)]
        form.titulaire_id.data = current_user.id
    if not form.is_submitted():
        form.expire_le.data = aujourdhui() + timedelta(days=service.DUREE_DEFAUT_JOURS)
    code = 200
    if form.validate_on_submit():
        try:
            jeton, clair = service.creer_jeton(
                current_user,
                organisation_id,
                libelle=form.libelle.data,
                ecriture=form.portee.data == "lecture_ecriture",
                expire_le=form.expire_le.data,
                titulaire_id=form.titulaire_id.data,
            )
        except service.SaisieJetonInvalide as erreur:
            champ = {"ecriture": "portee"}.get(erreur.champ, erreur.champ)
            getattr(form, champ).errors = [*getattr(form, champ).errors, str(erreur)]
            code = 422
        else:
            # Le jeton en clair n'existe que dans cette réponse : ni session, ni cache, ni redirection.
            reponse = current_app.make_response(render_template("jetons/cree.html", jeton=jeton, clair=clair))
            reponse.headers["Cache-Control"] = "no-store"
            return reponse
    elif form.is_submitted():
        code = 422
    return (
        render_template(
            "jetons/creer.html", form=form, organisation=organisation, duree_max=service.DUREE_MAX_JOURS
        ),
        code,
    )


@bp.route("/<int:jeton_id>/revoquer", methods=["GET", "POST"])
@login_required
def revoquer(jeton_id: int):
    jeton = db.session.get(JetonApi, jeton_id)
    if jeton is None or not GERER_JETONS.permet(current_user, jeton.organisation):
        abort(404)  # le jeton d'une autre organisation n'existe pas pour lui
    form = RevocationForm()
    if jeton.revoque_le is None and form.validate_on_submit():
        service.revoquer_jeton(jeton.id, current_user)
        flash(f"Jeton « {jeton.libelle} » révoqué : il ne permet plus aucune requête.", "succes")
        return redirect(url_for("jetons.liste"))
    return render_template("jetons/revoquer.html", jeton=jeton, form=form)
