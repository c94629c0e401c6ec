"""Comptes et rôles : recherche, fiche d'un compte (rattachements, connexions, historique), rôles dans les
organisations, pilotage des contrats, administration nationale, désactivation et réactivation."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from dauphin.administration import administrateur_national, bp
from dauphin.listes import page_courante
from dauphin.models import RoleOrganisation
from dauphin.services import administration_comptes as service
from dauphin.services import second_facteur
from dauphin.services.referentiel import page_historique
from dauphin.vues import messages_du_formulaire, traiter_bouton, traiter_formulaire
from forms.administration import (
    DesactivationForm,
    PilotageForm,
    RechercheForm,
    RoleOrganisationForm,
    VersionForm,
)
from forms.champs import options

FILTRES_STATUT = options(service.FILTRES_STATUT.items())


@bp.route("/comptes")
@administrateur_national
def comptes():
    recherche = RechercheForm(request.args)
    recherche.statut.choices = FILTRES_STATUT
    recherche.validate()
    texte = (recherche.q.data or "").strip() if not recherche.q.errors else ""
    statut = recherche.statut.data if recherche.statut.data in service.FILTRES_STATUT else ""
    page = service.page_comptes(texte or None, statut, page_courante(), current_app.config["PAGE_TAILLE"])
    return render_template("administration/comptes.html", page=page, recherche=recherche)


def _formulaires(role=None, pilotage=None):
    organisations = service.organisations_actives()
    role = role or RoleOrganisationForm(formdata=None)
    choix_organisations = [SelectChoice(o.id, o.nom) for o in organisations]
    role.organisation_id.choices = [SelectChoice(0, "— Choisir une organisation —"), *choix_organisations]
    pilotage = pilotage or PilotageForm(formdata=None)
    pilotage.contrat_id.choices = [SelectChoice(0, "— Choisir un contrat de ville —")] + [
        SelectChoice(c.id, f"{c.code} — {c.libelle}") for c in service.contrats_actifs()
    ]
    pilotage.organisation_id.choices = [
        SelectChoice(0, "— Choisir une organisation —"),
        *choix_organisations,
    ]
    return role, pilotage


def _page_compte(utilisateur_id: int, role=None, pilotage=None, erreur=None, code=200):
    utilisateur = service.compte(utilisateur_id)
    role, pilotage = _formulaires(role, pilotage)
    # Son propre compte, on ne le désactive pas et on ne se retire pas l'administration nationale : ces
    # boutons ne sont pas proposés (le service refuse aussi).
    return (
        render_template(
            "administration/compte.html",
            utilisateur=utilisateur,
            role=role,
            pilotage=pilotage,
            erreur=erreur,
            action=VersionForm(formdata=None),
            desactivation=DesactivationForm(formdata=None),
            connexions=service.connexions_recentes(utilisateur.id),
            historique=page_historique(1, 20, "utilisateur", str(utilisateur.id)),
            form_has_errors=bool(role.errors or pilotage.errors or erreur),
            soi_meme=utilisateur.id == current_user.id,
        ),
        code,
    )


@bp.route("/comptes/<int:utilisateur_id>")
@administrateur_national
def compte(utilisateur_id: int):
    return _page_compte(utilisateur_id)


def _retour(utilisateur_id: int, ancre: str) -> str:
    return url_for("administration.compte", utilisateur_id=utilisateur_id, _anchor=ancre)


def _refus_en_tete(utilisateur_id: int, form):
    """Le `rendre` d'un bouton du compte : la fiche, le refus (ou la session expirée) en tête."""
    return lambda code, conflit: _page_compte(
        utilisateur_id, erreur=conflit or " ".join(messages_du_formulaire(form)), code=code
    )


@bp.route("/comptes/<int:utilisateur_id>/organisations", methods=["POST"])
@administrateur_national
def ajouter_role(utilisateur_id: int):
    service.compte(utilisateur_id)
    form, _ = _formulaires(RoleOrganisationForm())
    return traiter_formulaire(
        form,
        executer=lambda: service.ajouter_role_organisation(
            current_user, utilisateur_id, form.organisation_id.data, RoleOrganisation(form.role.data)
        ),
        rendre=lambda code, _conflit: _page_compte(utilisateur_id, role=form, code=code),
        succes="Rôle enregistré.",
        suite=_retour(utilisateur_id, "organisations"),
    )


@bp.route("/comptes/<int:utilisateur_id>/organisations/<int:adhesion_id>/retirer", methods=["POST"])
@administrateur_national
def retirer_role(utilisateur_id: int, adhesion_id: int):
    return traiter_bouton(
        VersionForm(),
        executer=lambda: service.retirer_role_organisation(current_user, utilisateur_id, adhesion_id),
        succes="Rôle retiré.",
        suite=_retour(utilisateur_id, "organisations"),
    )


@bp.route("/comptes/<int:utilisateur_id>/pilotages", methods=["POST"])
@administrateur_national
def ajouter_pilotage(utilisateur_id: int):
    service.compte(utilisateur_id)
    _, form = _formulaires(pilotage=PilotageForm())
    return traiter_formulaire(
        form,
        executer=lambda: service.ajouter_pilotage(
            current_user, utilisateur_id, form.contrat_id.data, form.organisation_id.data
        ),
        rendre=lambda code, _conflit: _page_compte(utilisateur_id, pilotage=form, code=code),
        succes="Pilotage enregistré.",
        suite=_retour(utilisateur_id, "pilotages"),
    )


@bp.route("/comptes/<int:utilisateur_id>/pilotages/<int:pilotage_id>/retirer", methods=["POST"])
@administrateur_national
def retirer_pilotage(utilisateur_id: int, pilotage_id: int):
    return traiter_bouton(
        VersionForm(),
        executer=lambda: service.retirer_pilotage(current_user, utilisateur_id, pilotage_id),
        succes="Pilotage retiré.",
        suite=_retour(utilisateur_id, "pilotages"),
    )


@bp.route("/comptes/<int:utilisateur_id>/administration-nationale", methods=["POST"])
@administrateur_national
def administration_nationale(utilisateur_id: int):
    form = VersionForm()
    valeur = request.form.get("valeur") == "1"
    return traiter_formulaire(
        form,
        executer=lambda: service.changer_administration_nationale(current_user, utilisateur_id, valeur),
        rendre=_refus_en_tete(utilisateur_id, form),
        succes="Accès à l’administration nationale " + ("accordé." if valeur else "retiré."),
        suite=_retour(utilisateur_id, "statut"),
    )


@bp.route("/comptes/<int:utilisateur_id>/second-facteur", methods=["POST"])
@administrateur_national
def reinitialiser_second_facteur(utilisateur_id: int):
    """Un compte qui a perdu son application et ses codes de secours : sa double authentification est
    effacée (il l'activera de nouveau si elle lui est obligatoire)."""
    form = VersionForm()
    return traiter_formulaire(
        form,
        executer=lambda: second_facteur.reinitialiser(current_user, utilisateur_id),
        rendre=_refus_en_tete(utilisateur_id, form),
        succes="Double authentification réinitialisée ; ses sessions ouvertes sont fermées et un courriel "
        "le lui annonce.",
        suite=_retour(utilisateur_id, "statut"),
    )


@bp.route("/comptes/<int:utilisateur_id>/activation", methods=["POST"])
@administrateur_national
def activation_compte(utilisateur_id: int):
    form = DesactivationForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.changer_activation(
            current_user, utilisateur_id, form.activer, form.motif.data
        ),
        rendre=_refus_en_tete(utilisateur_id, form),
        succes="Compte réactivé : la personne peut de nouveau se connecter."
        if form.activer
        else "Compte désactivé : la personne ne peut plus se connecter ; son historique est conservé.",
        suite=_retour(utilisateur_id, "statut"),
    )
