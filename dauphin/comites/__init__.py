"""Comités de pilotage : le pilote prépare la séance et la clôt ; les partenaires votent, les financeurs
saisissent le montant de leur ligne. Les règles : dauphin/services/comites.py et workflows/comite.py."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import (
    ChoixVote,
    LigneFinancement,
    PointOrdreDuJour,
    SeanceComite,
    StatutLigne,
    StatutSeance,
)
from dauphin.policies import INSTRUIRE_LIGNE, VOIR_SEANCE, acteur_de, pilote
from dauphin.services import comites as service
from dauphin.services import documents
from dauphin.services.erreurs import Conflit
from forms.comites import InscriptionForm, MontantForm, SeanceForm, VersionForm, VoteForm

bp = Blueprint("comites", __name__, url_prefix="/comites")


def _seance_visible(seance_id: int) -> SeanceComite:
    seance = service.charger(seance_id)
    if not VOIR_SEANCE.permet(current_user, seance):
        abort(404)  # la séance d'un autre contrat n'existe pas pour cet utilisateur
    return seance


def _point_visible(seance_id: int, point_id: int) -> tuple[SeanceComite, PointOrdreDuJour]:
    """Pour un vote ou un montant : la séance et le point seuls (la page entière n'est chargée que pour
    réafficher un formulaire en erreur)."""
    seance = db.session.get(SeanceComite, seance_id)
    if seance is None or not VOIR_SEANCE.permet(current_user, seance):
        abort(404)
    point = db.session.get(PointOrdreDuJour, point_id)
    if point is None or point.seance_id != seance.id:
        abort(404)
    return seance, point


def _seance_du_pilote(seance_id: int) -> SeanceComite:
    seance = _seance_visible(seance_id)
    if not pilote(current_user, seance.contrat_id):
        abort(403)
    return seance


@bp.route("/")
@login_required
def liste():
    if not (
        current_user.pilotages or current_user.adhesions_organisations or current_user.administrateur_national
    ):
        abort(403)
    page = db.paginate(
        service.seances_visibles(current_user), page=page_courante(), per_page=20, error_out=False
    )
    return render_template("comites/liste.html", page=page, pilote=bool(current_user.pilotages))


@bp.route("/nouvelle", methods=["GET", "POST"])
@login_required
def nouvelle():
    if not current_user.pilotages:
        abort(403)
    form = SeanceForm()
    campagnes = service.campagnes_du_contrat(acteur_de(current_user).contrats_pilotes)
    form.campagne_id.choices = [(c.id, f"{c.contrat.libelle} — {c.libelle}") for c in campagnes]
    code = 200
    if form.validate_on_submit():
        try:
            seance = service.creer_seance(
                current_user, form.campagne_id.data, form.date_seance.data, form.lieu.data
            )
        except service.ComiteInvalide as erreur:
            getattr(form, erreur.champ).errors = [str(erreur)]
            code = 422
        else:
            flash("Séance créée : inscrivez les dossiers instruits à son ordre du jour.", "succes")
            return redirect(url_for(".voir", seance_id=seance.id))
    elif form.is_submitted():
        code = 422
    return render_template("comites/nouvelle.html", form=form, campagnes=campagnes), code


def _formulaires(seance: SeanceComite, soumis: dict | None = None) -> dict:
    """Les formulaires de la page : vote de chaque organisation de l'utilisateur sur chaque point, montant
    de chaque ligne de ses financeurs. `soumis` remplace celui qui vient d'échouer (saisie conservée)."""
    soumis = soumis or {}
    votantes = service.organisations_votantes(current_user, seance.contrat_id)
    financeuses = acteur_de(current_user).instruites
    votes = service.votes_par_point(seance)
    formulaires: dict = {}
    for point in seance.points:
        for organisation_id in votantes:
            cle = ("vote", point.id, organisation_id)
            if cle in soumis:
                formulaires[cle] = soumis[cle]
                continue
            vote = votes[point.id].get(organisation_id)
            form = VoteForm(prefix=f"vote-{point.id}-{organisation_id}", formdata=None)
            form.version.data = vote.version if vote else ""
            form.choix.data = vote.choix.value if vote else None
            form.motif.data = vote.motif_recusation if vote else None
            formulaires[cle] = form
        montants = {m.ligne_id: m for m in point.montants}
        for ligne in point.demande.lignes_financement:
            if ligne.organisation_id not in financeuses or ligne.statut != StatutLigne.recevable:
                continue
            cle = ("montant", point.id, ligne.id)
            if cle in soumis:
                formulaires[cle] = soumis[cle]
                continue
            saisie = montants.get(ligne.id)
            form = MontantForm(prefix=f"montant-{point.id}-{ligne.id}", formdata=None)
            form.version.data = saisie.version if saisie else ""
            form.montant.data = saisie.montant if saisie else None
            formulaires[cle] = form
    return formulaires


def _page(seance: SeanceComite, soumis: dict | None = None, code: int = 200, inscription=None, conflit=None):
    est_pilote = pilote(current_user, seance.contrat_id)
    partenaires = service.nombre_partenaires(seance.contrat_id)
    resultats = {point.id: service.resultat(point, seance, partenaires) for point in seance.points}
    financeuses = acteur_de(current_user).instruites
    disponibles = {
        organisation_id: service.disponible(seance.campagne_id, organisation_id)
        for organisation_id in {
            ligne.organisation_id
            for point in seance.points
            for ligne in point.demande.lignes_financement
            if ligne.organisation_id in financeuses
        }
    }
    if est_pilote and seance.statut is StatutSeance.preparation and inscription is None:
        inscription = InscriptionForm(formdata=None)
        inscription.version.data = seance.version
    inscriptibles = service.dossiers_inscriptibles(seance) if inscription is not None else []
    if inscription is not None:
        inscription.demandes.choices = [(d.id, d.numero) for d in inscriptibles]
    action = VersionForm(formdata=None)
    action.version.data = seance.version
    formulaires = _formulaires(seance, soumis)
    erreur = any(f.errors for f in formulaires.values()) or bool(inscription and inscription.errors)
    return (
        render_template(
            "comites/seance.html",
            seance=seance,
            pilote=est_pilote,
            partenaires=partenaires,
            resultats=resultats,
            votes=service.votes_par_point(seance),
            formulaires=formulaires,
            disponibles=disponibles,
            inscription=inscription,
            inscriptibles=inscriptibles,
            action=action,
            erreur=erreur,
            conflit=conflit,
            organisations_votantes=service.organisations_votantes(current_user, seance.contrat_id),
            StatutSeance=StatutSeance,
            ChoixVote=ChoixVote,
        ),
        code,
    )


@bp.route("/<int:seance_id>")
@login_required
def voir(seance_id: int):
    return _page(_seance_visible(seance_id))


@bp.route("/<int:seance_id>/inscrire", methods=["POST"])
@login_required
def inscrire(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = InscriptionForm()
    form.demandes.choices = [(d.id, d.numero) for d in service.dossiers_inscriptibles(seance)]
    if not form.validate_on_submit():
        return _page(seance, code=422, inscription=form)
    try:
        nombre = service.inscrire(seance.id, form.demandes.data, current_user, form.version.data)
    except service.ComiteInvalide as erreur:
        form.demandes.errors = [str(erreur)]
        return _page(service.charger(seance_id), code=422, inscription=form)
    flash(f"{nombre} dossier(s) inscrit(s) à l’ordre du jour.", "succes")
    return redirect(url_for(".voir", seance_id=seance.id, _anchor="ordre-du-jour"))


@bp.route("/<int:seance_id>/points/<int:point_id>/retirer", methods=["POST"])
@login_required
def retirer_point(seance_id: int, point_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    service.retirer_point(seance.id, point_id, current_user, form.version.data)
    flash("Dossier retiré de l’ordre du jour : il redevient « instruit ».", "succes")
    return redirect(url_for(".voir", seance_id=seance.id, _anchor="ordre-du-jour"))


@bp.route("/<int:seance_id>/ouvrir", methods=["POST"])
@login_required
def ouvrir(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.ouvrir_vote(seance.id, current_user, form.version.data)
    except service.ComiteInvalide as erreur:
        flash(str(erreur), "erreur")
    else:
        flash("Vote ouvert : les partenaires du contrat en sont prévenus par courriel.", "succes")
    return redirect(url_for(".voir", seance_id=seance.id))


@bp.route("/<int:seance_id>/points/<int:point_id>/vote/<int:organisation_id>", methods=["POST"])
@login_required
def voter(seance_id: int, point_id: int, organisation_id: int):
    seance, point = _point_visible(seance_id, point_id)
    if organisation_id not in service.organisations_votantes(current_user, seance.contrat_id):
        abort(403)
    form = VoteForm(prefix=f"vote-{point.id}-{organisation_id}")
    cle = ("vote", point.id, organisation_id)
    if form.validate_on_submit():
        try:
            service.voter(
                point.id, organisation_id, form.choix.data, form.motif.data, current_user, form.version.data
            )
        except service.ComiteInvalide as erreur:
            getattr(form, erreur.champ or "choix").errors = [str(erreur)]
        except Conflit as erreur:
            db.session.expire_all()
            form.form_errors.append(str(erreur))
            return _page(service.charger(seance_id), {cle: form}, 409, conflit=str(erreur))
        else:
            flash(f"Vote enregistré pour le dossier {point.demande.numero}.", "succes")
            return redirect(url_for(".voir", seance_id=seance.id, _anchor=f"point-{point.id}"))
    return _page(service.charger(seance_id), {cle: form}, 422)


@bp.route("/<int:seance_id>/points/<int:point_id>/lignes/<int:ligne_id>/montant", methods=["POST"])
@login_required
def saisir_montant(seance_id: int, point_id: int, ligne_id: int):
    seance, point = _point_visible(seance_id, point_id)
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None or ligne.demande_id != point.demande_id:
        abort(404)
    if not INSTRUIRE_LIGNE.permet(current_user, ligne):
        abort(403)  # un financeur ne saisit que le montant de sa propre ligne
    form = MontantForm(prefix=f"montant-{point.id}-{ligne.id}")
    cle = ("montant", point.id, ligne.id)
    if form.validate_on_submit():
        try:
            service.saisir_montant(point.id, ligne.id, form.montant.data, current_user, form.version.data)
        except service.ComiteInvalide as erreur:
            form.montant.errors = [str(erreur)]
        except Conflit as erreur:
            db.session.expire_all()
            form.form_errors.append(str(erreur))
            return _page(service.charger(seance_id), {cle: form}, 409, conflit=str(erreur))
        else:
            flash(f"Montant enregistré pour le dossier {point.demande.numero}.", "succes")
            return redirect(url_for(".voir", seance_id=seance.id, _anchor=f"point-{point.id}"))
    return _page(service.charger(seance_id), {cle: form}, 422)


@bp.route("/<int:seance_id>/clore", methods=["GET", "POST"])
@login_required
def clore(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    if not form.is_submitted():
        form.version.data = seance.version
    erreur = None
    if form.validate_on_submit():
        try:
            service.clore(seance.id, current_user, form.version.data)
        except service.TransitionRefusee as refus:
            erreur = " ".join(p.message for p in refus.problemes)
            seance = service.charger(seance_id)
        else:
            flash(
                "Séance close : décisions enregistrées, porteurs prévenus ; le procès-verbal est en cours de "
                "production.",
                "succes",
            )
            return redirect(url_for(".voir", seance_id=seance.id))
    partenaires = service.nombre_partenaires(seance.contrat_id)
    resultats = {point.id: service.resultat(point, seance, partenaires) for point in seance.points}
    return render_template(
        "comites/clore.html",
        seance=seance,
        form=form,
        resultats=resultats,
        partenaires=partenaires,
        erreur=erreur,
        StatutSeance=StatutSeance,
    ), (422 if erreur else 200)


@bp.route("/<int:seance_id>/proces-verbal.pdf")
@login_required
def proces_verbal(seance_id: int):
    seance = _seance_visible(seance_id)
    if seance.pv_cle_stockage is None:
        abort(404)
    return send_file(
        documents.chemin(seance.pv_cle_stockage),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"proces-verbal-comite-{seance.date_seance.isoformat()}-{seance.id}.pdf",
    )
