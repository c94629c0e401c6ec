"""Référentiel national : imports des contrats de ville et des QPV, contrats (partenaires, règles du
comité), quartiers, organisations, nomenclature thématique, historique des modifications.

Vues minces : lire le formulaire, appeler `dauphin.services.imports` ou `dauphin.services.referentiel`,
afficher ou rediriger ; une erreur ou un conflit réaffiche la saisie avec le message à côté du champ.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin.administration import administrateur_national, bp
from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Organisation,
    PartenaireContrat,
    Qpv,
    RegleMajorite,
    Thematique,
)
from dauphin.services import imports
from dauphin.services import referentiel as service
from dauphin.services.erreurs import Conflit
from forms.administration import (
    ImportContratsForm,
    ImportForm,
    OrganisationForm,
    PartenaireForm,
    RechercheForm,
    ReglesComiteForm,
    ThematiqueForm,
    VersionForm,
)


def _par_page() -> int:
    return current_app.config["PAGE_TAILLE"]


def _refus(form, erreur: service.Refus) -> None:
    champ = getattr(form, erreur.champ, None) if erreur.champ else None
    if champ is not None:
        champ.errors = [*champ.errors, str(erreur)]
    else:
        form.form_errors.append(str(erreur))


def _recherche() -> tuple[RechercheForm, str | None]:
    form = RechercheForm(request.args)
    form.validate()
    texte = (form.q.data or "").strip() if not form.q.errors else ""
    return form, texte or None


# --- Imports ------------------------------------------------------------------------------------


@bp.route("/imports/<nature>", methods=["GET", "POST"])
@administrateur_national
def importer(nature: str):
    if nature not in ("contrats", "qpv"):
        raise NotFound()
    form = ImportContratsForm() if nature == "contrats" else ImportForm()
    rapport, code = None, 200
    if form.validate_on_submit():
        fichier = form.fichier.data
        try:
            contenu = fichier.read()
            if nature == "contrats":
                rapport = imports.importer_contrats(
                    contenu,
                    fichier.filename or "fichier.csv",
                    current_user,
                    generation=int(form.generation.data),
                    simulation=form.simulation.data,
                )
            else:
                rapport = imports.importer_qpv(
                    contenu, fichier.filename or "fichier.csv", current_user, simulation=form.simulation.data
                )
        except imports.FichierIllisible as erreur:
            form.fichier.errors = [str(erreur)]
            code = 422
        except Conflit as erreur:
            form.form_errors.append(str(erreur))
            code = 409
    elif form.is_submitted():
        code = 422
    return render_template("administration/import.html", form=form, nature=nature, rapport=rapport), code


# --- Contrats de ville ----------------------------------------------------------------------------


def _contrat(contrat_id: int) -> ContratDeVille:
    contrat = db.session.scalar(
        select(ContratDeVille)
        .where(ContratDeVille.id == contrat_id)
        .options(
            selectinload(ContratDeVille.partenariats).selectinload(PartenaireContrat.organisation),
            selectinload(ContratDeVille.qpvs),
        )
    )
    if contrat is None:
        raise NotFound()
    return contrat


def _page_contrat(contrat: ContratDeVille, regles=None, partenaire=None, retrait=None, code=200):
    if regles is None:
        regles = ReglesComiteForm(formdata=None)
        regles.version.data = contrat.version
        regles.quorum_pourcentage.data = contrat.quorum_pourcentage
        regles.regle_majorite.data = contrat.regle_majorite.value
    regles.regle_majorite.choices = [(r.value, r.libelle) for r in RegleMajorite]
    partenaire = partenaire or PartenaireForm(formdata=None)
    partenaire.organisation_id.choices = [(0, "— Choisir une organisation —")] + [
        (o.id, o.nom) for o in service.organisations_ajoutables(contrat)
    ]
    campagnes = db.session.scalars(
        select(Campagne).where(Campagne.contrat_id == contrat.id).order_by(Campagne.exercice.desc())
    ).all()
    return (
        render_template(
            "administration/contrat.html",
            contrat=contrat,
            regles=regles,
            partenaire=partenaire,
            retrait=retrait,
            campagnes=campagnes,
            form_has_errors=bool(regles.errors or partenaire.errors or retrait),
        ),
        code,
    )


@bp.route("/contrats")
@administrateur_national
def contrats():
    recherche, texte = _recherche()
    requete = select(ContratDeVille).order_by(ContratDeVille.code)
    if texte:
        motif = f"%{texte.lower()}%"
        requete = requete.where(
            or_(
                func.lower(ContratDeVille.code).like(motif),
                func.lower(ContratDeVille.libelle).like(motif),
                ContratDeVille.departement == texte.upper(),
            )
        )
    page = db.paginate(requete, page=page_courante(), per_page=_par_page(), error_out=False, max_per_page=100)
    return render_template("administration/contrats.html", page=page, recherche=recherche)


@bp.route("/contrats/<int:contrat_id>")
@administrateur_national
def contrat(contrat_id: int):
    return _page_contrat(_contrat(contrat_id))


@bp.route("/contrats/<int:contrat_id>/regles", methods=["POST"])
@administrateur_national
def regles_comite(contrat_id: int):
    contrat = _contrat(contrat_id)
    form = ReglesComiteForm()
    form.regle_majorite.choices = [(r.value, r.libelle) for r in RegleMajorite]
    if not form.validate_on_submit():
        return _page_contrat(contrat, regles=form, code=422)
    try:
        service.modifier_regles_comite(
            current_user,
            contrat.id,
            form.quorum_pourcentage.data,
            RegleMajorite(form.regle_majorite.data),
            form.version.data,
        )
    except Conflit as erreur:
        db.session.expire_all()
        form.form_errors.append(str(erreur))
        form.version.data = db.session.get(ContratDeVille, contrat.id).version
        return _page_contrat(_contrat(contrat.id), regles=form, code=409)
    flash("Règles du comité de pilotage enregistrées.", "succes")
    return redirect(url_for("administration.contrat", contrat_id=contrat.id, _anchor="regles"))


@bp.route("/contrats/<int:contrat_id>/partenaires", methods=["POST"])
@administrateur_national
def ajouter_partenaire(contrat_id: int):
    contrat = _contrat(contrat_id)
    form = PartenaireForm()
    form.organisation_id.choices = [(0, "")] + [
        (o.id, o.nom) for o in service.organisations_ajoutables(contrat)
    ]
    if not form.validate_on_submit() or not form.organisation_id.data:
        if not form.organisation_id.errors:
            form.organisation_id.errors = ["Choisissez l’organisation à ajouter."]
        return _page_contrat(contrat, partenaire=form, code=422)
    try:
        service.ajouter_partenaire(current_user, contrat.id, form.organisation_id.data)
    except service.Refus as erreur:
        _refus(form, erreur)
        return _page_contrat(_contrat(contrat.id), partenaire=form, code=422)
    flash("Partenaire ajouté au contrat.", "succes")
    return redirect(url_for("administration.contrat", contrat_id=contrat.id, _anchor="partenaires"))


@bp.route("/contrats/<int:contrat_id>/partenaires/<int:organisation_id>/retirer", methods=["POST"])
@administrateur_national
def retirer_partenaire(contrat_id: int, organisation_id: int):
    contrat = _contrat(contrat_id)
    form = VersionForm()
    if not form.validate_on_submit():
        return _page_contrat(
            contrat, retrait="La session a expiré : rechargez la page puis recommencez.", code=400
        )
    try:
        service.retirer_partenaire(current_user, contrat.id, organisation_id)
    except service.Refus as erreur:
        return _page_contrat(_contrat(contrat.id), retrait=str(erreur), code=422)
    flash("Partenaire retiré du contrat.", "succes")
    return redirect(url_for("administration.contrat", contrat_id=contrat.id, _anchor="partenaires"))


# --- Quartiers prioritaires ----------------------------------------------------------------------


@bp.route("/qpv")
@administrateur_national
def qpvs():
    recherche, texte = _recherche()
    requete = select(Qpv).options(selectinload(Qpv.contrat)).order_by(Qpv.code)
    if texte:
        motif = f"%{texte.lower()}%"
        requete = requete.where(
            or_(
                func.lower(Qpv.code).like(motif),
                func.lower(Qpv.libelle).like(motif),
                Qpv.departement == texte.upper(),
            )
        )
    page = db.paginate(requete, page=page_courante(), per_page=_par_page(), error_out=False, max_per_page=100)
    return render_template("administration/qpv.html", page=page, recherche=recherche)


# --- Organisations --------------------------------------------------------------------------------


@bp.route("/organisations")
@administrateur_national
def organisations():
    recherche, texte = _recherche()
    page = service.page_organisations(texte, page_courante(), _par_page())
    return render_template(
        "administration/organisations.html", page=page, recherche=recherche, action=VersionForm(formdata=None)
    )


def _formulaire_organisation(organisation: Organisation | None) -> OrganisationForm:
    form = OrganisationForm(formdata=request.form if request.method == "POST" else None)
    form.type_organisation.choices = service.TYPES_ORGANISATION
    if request.method == "GET" and organisation is not None:
        form.version.data = organisation.version
        for nom in ("nom", "siren", "departement", "est_financeur", "email_contact"):
            getattr(form, nom).data = getattr(organisation, nom)
        form.type_organisation.data = organisation.type_organisation.value
    return form


@bp.route("/organisations/nouvelle", methods=["GET", "POST"])
@bp.route("/organisations/<int:organisation_id>/modifier", methods=["GET", "POST"])
@administrateur_national
def organisation(organisation_id: int | None = None):
    existante = None
    if organisation_id is not None:
        existante = db.session.get(Organisation, organisation_id)
        if existante is None:
            raise NotFound()
    form = _formulaire_organisation(existante)
    code = 200
    if form.validate_on_submit():
        try:
            if existante is None:
                enregistree = service.creer_organisation(current_user, form.donnees())
            else:
                enregistree = service.modifier_organisation(
                    current_user, existante.id, form.donnees(), form.version.data
                )
        except service.Refus as erreur:
            _refus(form, erreur)
            code = 422
        except Conflit as erreur:
            db.session.expire_all()
            form.form_errors.append(str(erreur))
            form.version.data = db.session.get(Organisation, existante.id).version
            code = 409
        else:
            flash(f"Organisation « {enregistree.nom} » enregistrée.", "succes")
            return redirect(url_for("administration.organisations", q=enregistree.nom))
    elif form.is_submitted():
        code = 422
    return render_template("administration/organisation.html", form=form, organisation=existante), code


@bp.route("/organisations/<int:organisation_id>/activation", methods=["POST"])
@administrateur_national
def activation_organisation(organisation_id: int):
    form = VersionForm()
    actif = request.form.get("actif") == "1"
    if form.validate_on_submit():
        organisation = service.changer_activation_organisation(
            current_user, organisation_id, actif, form.version.data
        )
        flash(
            f"« {organisation.nom} » est "
            + ("réactivée." if actif else "désactivée : elle n’est plus proposée."),
            "succes",
        )
    return redirect(request.referrer or url_for("administration.organisations"))


# --- Nomenclature thématique ---------------------------------------------------------------------


@bp.route("/thematiques")
@administrateur_national
def thematiques():
    liste = db.session.scalars(select(Thematique).order_by(Thematique.ordre, Thematique.code)).all()
    return render_template(
        "administration/thematiques.html",
        thematiques=liste,
        usages=service.usages_thematiques(),
        action=VersionForm(formdata=None),
    )


@bp.route("/thematiques/nouvelle", methods=["GET", "POST"])
@bp.route("/thematiques/<code>/modifier", methods=["GET", "POST"])
@administrateur_national
def thematique(code: str | None = None):
    existante = None
    if code is not None:
        existante = db.session.get(Thematique, code)
        if existante is None:
            raise NotFound()
    form = ThematiqueForm(formdata=request.form if request.method == "POST" else None)
    if existante is not None:
        form.code.data = existante.code  # le code ne change pas : les demandes s'y réfèrent
        if request.method == "GET":
            form.version.data, form.libelle.data, form.ordre.data = (
                existante.version,
                existante.libelle,
                existante.ordre,
            )
    code_http = 200
    if form.validate_on_submit():
        try:
            if existante is None:
                service.creer_thematique(current_user, form.code.data, form.libelle.data, form.ordre.data)
            else:
                service.modifier_thematique(
                    current_user, existante.code, form.libelle.data, form.ordre.data, form.version.data
                )
        except service.Refus as erreur:
            _refus(form, erreur)
            code_http = 422
        except Conflit as erreur:
            db.session.expire_all()
            form.form_errors.append(str(erreur))
            form.version.data = db.session.get(Thematique, existante.code).version
            code_http = 409
        else:
            flash(f"Code {form.code.data} enregistré.", "succes")
            return redirect(url_for("administration.thematiques"))
    elif form.is_submitted():
        code_http = 422
    return render_template("administration/thematique.html", form=form, thematique=existante), code_http


@bp.route("/thematiques/<code>/activation", methods=["POST"])
@administrateur_national
def activation_thematique(code: str):
    form = VersionForm()
    actif = request.form.get("actif") == "1"
    if form.validate_on_submit():
        service.changer_activation_thematique(current_user, code, actif, form.version.data)
        flash(
            f"Code {code} {'réactivé' if actif else 'désactivé : il n’est plus proposé aux demandes'}.",
            "succes",
        )
    return redirect(url_for("administration.thematiques"))


@bp.route("/thematiques/<code>/supprimer", methods=["POST"])
@administrateur_national
def supprimer_thematique(code: str):
    form = VersionForm()
    if form.validate_on_submit():
        try:
            service.supprimer_thematique(current_user, code, form.version.data)
        except service.Refus as erreur:
            flash(str(erreur), "erreur")
            return redirect(url_for("administration.thematiques"))
        flash(f"Code {code} supprimé.", "succes")
    return redirect(url_for("administration.thematiques"))


# --- Historique ----------------------------------------------------------------------------------


@bp.route("/historique")
@administrateur_national
def historique():
    objet_type = request.args.get("objet") or None
    objet_id = request.args.get("id") or None
    page = service.page_historique(page_courante(), _par_page(), objet_type, objet_id)
    return render_template(
        "administration/historique.html", page=page, objet_type=objet_type, objet_id=objet_id
    )
