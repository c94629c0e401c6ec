"""Référentiel national : imports des contrats de ville et des QPV, contrats (partenaires, règles du
comité), quartiers, organisations, nomenclature thématique, historique des modifications.

Vues minces : lire le formulaire, appeler `dauphin.services.imports` ou `dauphin.services.referentiel`,
afficher ou rediriger ; une erreur ou un conflit réaffiche la saisie avec le message à côté du champ.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from dauphin.administration import administrateur_national, bp
from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Organisation,
    PartenaireContrat,
    RegleMajorite,
    Thematique,
)
from dauphin.services import imports
from dauphin.services import referentiel as service
from dauphin.unite_de_travail import charger_avec
from dauphin.vues import charger_ou_404, messages_du_formulaire, traiter_bouton, traiter_formulaire
from forms.administration import (
    ActivationForm,
    ConfirmationImportForm,
    ImportContratsForm,
    ImportForm,
    OrganisationForm,
    PartenaireForm,
    RechercheForm,
    ReglesComiteForm,
    ThematiqueForm,
    VersionForm,
)
from forms.champs import options, options_enum

CHOIX_MAJORITE = options_enum(RegleMajorite)
TYPES_ORGANISATION = options(service.TYPES_ORGANISATION)


def _par_page() -> int:
    return current_app.config["PAGE_TAILLE"]


def _avec_conflit(form, conflit: str | None):
    """Le formulaire, avec le message d'un conflit en tête de ses erreurs (les gabarits du référentiel le
    montrent dans le résumé des erreurs)."""
    if conflit:
        form.form_errors.append(conflit)
    return form


def _page(gabarit: str, form, **contexte):
    """Le `rendre` d'un écran de saisie du référentiel."""
    return lambda code, conflit: (
        render_template(gabarit, form=_avec_conflit(form, conflit), **contexte),
        code,
    )


def _existante(modele, cle):
    """L'objet à modifier (404 s'il n'existe pas), ou None pour en créer un."""
    return charger_ou_404(modele, cle) if cle is not None else None


def _enregistrer_fiche(existante, form, **declaration):
    """Créer une fiche (organisation, code thématique) ou modifier `existante`, dont la version est comparée
    à celle de la page : `traiter_formulaire` avec le message de conflit du référentiel."""
    version = (lambda: existante.version) if existante is not None else None
    return traiter_formulaire(form, version=version, perimee=service.MESSAGE_CONFLIT, **declaration)


def _recherche() -> tuple[RechercheForm, str | None]:
    form = RechercheForm(request.args)
    form.validate()
    texte = (form.q.data or "").strip() if not form.q.errors else ""
    return form, texte or None


# --- Imports ------------------------------------------------------------------------------------


def _nature_importee(nature: str):
    """Le formulaire d'envoi du fichier et la fonction d'import de `nature` (404 pour une autre)."""
    if nature == "contrats":
        return ImportContratsForm(), imports.importer_contrats
    if nature == "qpv":
        return ImportForm(), imports.importer_qpv
    raise NotFound()


def _rendre_import(form, nature: str, rapport=None, confirmation=None):
    def rendre(code: int, conflit: str | None):
        page = render_template(
            "administration/import.html",
            form=_avec_conflit(form, conflit),
            nature=nature,
            rapport=rapport,
            confirmation=confirmation,
        )
        return page, code

    return rendre


@bp.route("/imports/<nature>", methods=["GET", "POST"])
@administrateur_national
def importer(nature: str):
    """Le fichier envoyé est contrôlé sans rien enregistrer : l'aperçu des changements (ou les lignes
    rejetées), puis « Confirmer l'import » (voir `confirmer_import`)."""
    form, importer = _nature_importee(nature)

    def executer():
        contenu, nom = form.fichier.data.read(), form.fichier.data.filename or "fichier.csv"
        options = {"generation": int(form.generation.data)} if nature == "contrats" else {}
        rapport = importer(contenu, nom, current_user, simulation=True, **options)
        return rapport, imports.sceller(nature, contenu, nom, options)

    def montrer(resultat):
        rapport, sceau = resultat
        confirmation = (
            ConfirmationImportForm(sceau=sceau) if not rapport.rejets and rapport.changements else None
        )
        return _rendre_import(form, nature, rapport, confirmation)(200, None)

    return traiter_formulaire(form, executer=executer, rendre=_rendre_import(form, nature), montrer=montrer)


@bp.route("/imports/<nature>/confirmer", methods=["POST"])
@administrateur_national
def confirmer_import(nature: str):
    """Enregistre le fichier de l'aperçu, tout ou rien (la base a pu changer depuis : le rapport le dit)."""
    form, importer = _nature_importee(nature)
    confirmation = ConfirmationImportForm()

    def executer():
        contenu, nom, options = imports.desceller(nature, confirmation.sceau.data)
        return importer(contenu, nom, current_user, **options)

    def signaler_refus(_, refus):  # aperçu périmé : l'erreur va au champ du fichier, à choisir de nouveau
        form.fichier.errors = [str(refus)]

    return traiter_formulaire(
        confirmation,
        executer=executer,
        rendre=_rendre_import(form, nature),
        signaler_refus=signaler_refus,
        montrer=lambda rapport: _rendre_import(form, nature, rapport)(200, None),
    )


# --- Contrats de ville ----------------------------------------------------------------------------


def _contrat(contrat_id: int) -> ContratDeVille:
    return charger_avec(
        ContratDeVille,
        contrat_id,
        selectinload(ContratDeVille.partenariats).selectinload(PartenaireContrat.organisation),
        selectinload(ContratDeVille.qpvs),
    )


def _choix_organisations(contrat: ContratDeVille) -> list[SelectChoice]:
    return [SelectChoice(0, "— Choisir une organisation —")] + [
        SelectChoice(o.id, o.nom) for o in service.organisations_ajoutables(contrat)
    ]


def _page_contrat(contrat: ContratDeVille, regles=None, partenaire=None, retrait=None, code=200):
    if regles is None:
        regles = ReglesComiteForm(formdata=None)
        regles.version.data = contrat.version
        regles.quorum_pourcentage.data = contrat.quorum_pourcentage
        regles.regle_majorite.data = contrat.regle_majorite.value
    regles.regle_majorite.choices = CHOIX_MAJORITE
    partenaire = partenaire or PartenaireForm(formdata=None)
    partenaire.organisation_id.choices = _choix_organisations(contrat)
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


def _vers_contrat(contrat: ContratDeVille, ancre: str) -> str:
    return url_for("administration.contrat", contrat_id=contrat.id, _anchor=ancre)


@bp.route("/contrats")
@administrateur_national
def contrats():
    recherche, texte = _recherche()
    page = service.page_contrats(texte, page_courante(), _par_page())
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
    form.regle_majorite.choices = CHOIX_MAJORITE
    return traiter_formulaire(
        form,
        executer=lambda: service.modifier_regles_comite(
            current_user,
            contrat.id,
            form.quorum_pourcentage.data,
            RegleMajorite(form.regle_majorite.data),
            form.version.data,
        ),
        rendre=lambda code, conflit: _page_contrat(contrat, regles=_avec_conflit(form, conflit), code=code),
        succes="Règles du comité de pilotage enregistrées.",
        suite=_vers_contrat(contrat, "regles"),
        version=lambda: contrat.version,
        perimee=service.MESSAGE_CONFLIT,
    )


@bp.route("/contrats/<int:contrat_id>/partenaires", methods=["POST"])
@administrateur_national
def ajouter_partenaire(contrat_id: int):
    contrat = _contrat(contrat_id)
    form = PartenaireForm()
    form.organisation_id.choices = _choix_organisations(contrat)
    return traiter_formulaire(
        form,
        executer=lambda: service.ajouter_partenaire(current_user, contrat.id, form.organisation_id.data),
        rendre=lambda code, conflit: _page_contrat(
            contrat, partenaire=_avec_conflit(form, conflit), code=code
        ),
        succes="Partenaire ajouté au contrat.",
        suite=_vers_contrat(contrat, "partenaires"),
    )


@bp.route("/contrats/<int:contrat_id>/partenaires/<int:organisation_id>/retirer", methods=["POST"])
@administrateur_national
def retirer_partenaire(contrat_id: int, organisation_id: int):
    contrat = _contrat(contrat_id)
    form = VersionForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.retirer_partenaire(current_user, contrat.id, organisation_id),
        # Le refus s'affiche au-dessus de la liste des partenaires.
        rendre=lambda code, conflit: _page_contrat(
            contrat, retrait=conflit or " ".join(messages_du_formulaire(form)), code=code
        ),
        succes="Partenaire retiré du contrat.",
        suite=_vers_contrat(contrat, "partenaires"),
    )


# --- Quartiers prioritaires ----------------------------------------------------------------------


@bp.route("/qpv")
@administrateur_national
def qpvs():
    recherche, texte = _recherche()
    page = service.page_qpv(texte, page_courante(), _par_page())
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
    form.type_organisation.choices = TYPES_ORGANISATION
    if request.method == "GET" and organisation is not None:
        form.version.data = organisation.version
        for nom in ("nom", "siren", "siret", "departement", "est_financeur", "email_contact"):
            getattr(form, nom).data = getattr(organisation, nom)
        form.type_organisation.data = organisation.type_organisation.value
    return form


@bp.route("/organisations/nouvelle", methods=["GET", "POST"])
@bp.route("/organisations/<int:organisation_id>/modifier", methods=["GET", "POST"])
@administrateur_national
def organisation(organisation_id: int | None = None):
    existante = _existante(Organisation, organisation_id)
    form = _formulaire_organisation(existante)
    return _enregistrer_fiche(
        existante,
        form,
        executer=lambda: service.enregistrer_organisation(
            current_user, organisation_id, form.donnees(), form.version.data
        ),
        rendre=_page("administration/organisation.html", form, organisation=existante),
        succes=lambda enregistree: f"Organisation « {enregistree.nom} » enregistrée.",
        suite=lambda enregistree: url_for("administration.organisations", q=enregistree.nom),
    )


@bp.route("/organisations/<int:organisation_id>/activation", methods=["POST"])
@administrateur_national
def activation_organisation(organisation_id: int):
    form = ActivationForm()
    return traiter_bouton(
        form,
        executer=lambda: service.changer_activation_organisation(
            current_user, organisation_id, form.activer, form.version.data
        ),
        succes=lambda organisation: (
            f"« {organisation.nom} » est "
            + ("réactivée." if form.activer else "désactivée : elle n’est plus proposée.")
        ),
        suite=request.referrer or url_for("administration.organisations"),
    )


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


def _formulaire_thematique(existante: Thematique | None) -> ThematiqueForm:
    form = ThematiqueForm(formdata=request.form if request.method == "POST" else None)
    if existante is not None:
        form.code.data = existante.code  # le code ne change pas : les demandes s'y réfèrent
        if request.method == "GET":
            form.version.data, form.libelle.data, form.ordre.data = (
                existante.version,
                existante.libelle,
                existante.ordre,
            )
    return form


@bp.route("/thematiques/nouvelle", methods=["GET", "POST"])
@bp.route("/thematiques/<code>/modifier", methods=["GET", "POST"])
@administrateur_national
def thematique(code: str | None = None):
    existante = _existante(Thematique, code)
    form = _formulaire_thematique(existante)
    return _enregistrer_fiche(
        existante,
        form,
        executer=lambda: service.enregistrer_thematique(
            current_user, code, form.code.data, form.libelle.data, form.ordre.data, form.version.data
        ),
        rendre=_page("administration/thematique.html", form, thematique=existante),
        succes=f"Code {form.code.data} enregistré.",
        suite=url_for("administration.thematiques"),
    )


@bp.route("/thematiques/<code>/activation", methods=["POST"])
@administrateur_national
def activation_thematique(code: str):
    form = ActivationForm()
    etat = "réactivé" if form.activer else "désactivé : il n’est plus proposé aux demandes"
    return traiter_bouton(
        form,
        executer=lambda: service.changer_activation_thematique(
            current_user, code, form.activer, form.version.data
        ),
        succes=f"Code {code} {etat}.",
        suite=url_for("administration.thematiques"),
    )


@bp.route("/thematiques/<code>/supprimer", methods=["POST"])
@administrateur_national
def supprimer_thematique(code: str):
    form = VersionForm()
    return traiter_bouton(
        form,
        executer=lambda: service.supprimer_thematique(current_user, code, form.version.data),
        succes=f"Code {code} supprimé.",
        suite=url_for("administration.thematiques"),
    )


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
