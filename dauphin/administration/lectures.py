"""Trace des lectures (administration nationale) : qui a consulté quel dossier, téléchargé quel document ou
quel export, en quelle qualité et quand ; filtres par compte, numéro de dossier et période, pagination en
SQL (`dauphin.services.lectures`)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user

from dauphin.administration import administrateur_national, bp
from dauphin.listes import page_courante
from dauphin.services import lectures as service
from forms.administration import FiltresLecturesForm


def _valeur(champ):
    """La valeur lue d'un filtre, ou None s'il est vide ou refusé (il reste affiché avec son message)."""
    return None if champ.errors else champ.data or None


@bp.route("/lectures")
@administrateur_national
def lectures():
    form = FiltresLecturesForm(request.args)
    form.validate()
    filtres = service.FiltresLectures(
        compte=_valeur(form.compte),
        dossier=_valeur(form.dossier),
        du=_valeur(form.du),
        au=_valeur(form.au),
    )
    page = service.page_lectures(current_user, filtres, page_courante(), current_app.config["PAGE_TAILLE"])
    return render_template(
        "administration/lectures.html",
        form=form,
        filtres=filtres,
        page=page,
        plafond=service.PLAFOND_DECOMPTE,
        duree=current_app.config["DUREE_TRACE_LECTURES_JOURS"],
    )
