"""Écrans des jetons de l'API : la liste (créateur, titulaire, portée, échéance, dernière utilisation,
révocation), la création (le jeton en clair est montré une seule fois) et la révocation avec confirmation.

L'administrateur national gère les jetons de toute organisation ; un instructeur ceux de la sienne.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from dauphin.listes import page_courante
from dauphin.models import JetonApi, Organisation
from dauphin.policies import GERER_JETONS, gere_des_jetons
from dauphin.policies.jetons import DESCRIPTIONS_PORTEES, Portee
from dauphin.services import api as service
from dauphin.services.workflow import aujourdhui
from dauphin.vues import charger_ou_404, exiger, traiter_formulaire
from forms.champs import options
from forms.jetons import JetonForm, RevocationForm

bp = Blueprint("jetons", __name__, url_prefix="/jetons-api")

CHOIX_PORTEES = [SelectChoice(p.value, f"{p.libelle} : {DESCRIPTIONS_PORTEES[p]}") for p in Portee]


def _organisations_gerees() -> tuple[list[Organisation], int | None]:
    """Les organisations dont l'utilisateur gère les jetons (403 s'il n'en gère aucune), et celle que la
    page demande (`?organisation=`) si elle en est."""
    exiger(gere_des_jetons(current_user))
    organisations = service.organisations_gerables(current_user)
    choisie = request.args.get("organisation", type=int)
    return organisations, choisie if choisie in {o.id for o in organisations} else None


@bp.route("/")
@login_required
def liste():
    organisations, organisation_id = _organisations_gerees()
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
    organisations, choisie = _organisations_gerees()
    if choisie is not None:
        return redirect(url_for("jetons.creer", organisation_id=choisie))
    if len(organisations) == 1:
        return redirect(url_for("jetons.creer", organisation_id=organisations[0].id))
    return render_template(
        "jetons/choisir_organisation.html",
        organisations=organisations,
        erreur="Choisissez une organisation." if "organisation" in request.args else None,
    )


def _jeton_cree(resultat) -> Response:
    """Le jeton en clair n'existe que dans cette réponse : ni session, ni cache, ni redirection."""
    jeton, clair = resultat
    reponse = current_app.make_response(render_template("jetons/cree.html", jeton=jeton, clair=clair))
    reponse.headers["Cache-Control"] = "no-store"
    return reponse


@bp.route("/organisations/<int:organisation_id>/nouveau", methods=["GET", "POST"])
@login_required
def creer(organisation_id: int):
    organisation = charger_ou_404(Organisation, organisation_id)
    exiger(GERER_JETONS.permet(current_user, organisation))
    form = JetonForm()
    titulaires = service.titulaires_proposes(current_user, organisation.id)
    if titulaires is None:  # un instructeur : à son propre nom, sans choix
        titulaires = [(current_user.id, current_user.nom_complet)]
        form.titulaire_id.data = current_user.id
    form.titulaire_id.choices = options(titulaires)
    form.portees.choices = CHOIX_PORTEES
    if not form.is_submitted():
        form.expire_le.data = aujourdhui() + timedelta(days=service.DUREE_DEFAUT_JOURS)
    return traiter_formulaire(
        form,
        executer=lambda: service.creer_jeton(
            current_user,
            organisation.id,
            libelle=form.libelle.data,
            portees=form.portees.data,
            expire_le=form.expire_le.data,
            titulaire_id=form.titulaire_id.data,
        ),
        rendre=lambda code, _: (
            render_template(
                "jetons/creer.html", form=form, organisation=organisation, duree_max=service.DUREE_MAX_JOURS
            ),
            code,
        ),
        montrer=_jeton_cree,
    )


@bp.route("/<int:jeton_id>/revoquer", methods=["GET", "POST"])
@login_required
def revoquer(jeton_id: int):
    # Le jeton d'une autre organisation n'existe pas pour lui.
    jeton = charger_ou_404(JetonApi, jeton_id, lambda j: GERER_JETONS.permet(current_user, j.organisation))
    form = RevocationForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.revoquer_jeton(jeton.id, current_user),  # déjà révoqué : rien à refaire
        rendre=lambda code, _: (render_template("jetons/revoquer.html", jeton=jeton, form=form), code),
        succes=f"Jeton « {jeton.libelle} » révoqué : il ne permet plus aucune requête.",
        suite=url_for("jetons.liste"),
    )
