"""Écrans des webhooks d'une organisation : les adresses inscrites, l'inscription (le secret est montré une
seule fois), la désactivation, et pour chaque adresse la liste paginée de ses livraisons avec « Renvoyer ».

Les mêmes personnes que pour les jetons d'API (`policies.GERER_JETONS`) : les instructeurs pour leur
organisation, l'administration nationale pour toutes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin import horodatage
from dauphin.extensions import db
from dauphin.listes import page_courante
from dauphin.models import AbonnementWebhook, LivraisonWebhook, Organisation, StatutLivraison
from dauphin.policies import GERER_JETONS, gere_des_jetons
from dauphin.services import api as jetons
from dauphin.services import webhooks as service
from dauphin.vues import charger_ou_404, exiger, traiter_bouton, traiter_formulaire
from forms.webhooks import AbonnementForm, DesactivationForm, RenvoiForm

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.route("/")
@login_required
def liste():
    exiger(gere_des_jetons(current_user))
    return render_template(
        "webhooks/liste.html",
        abonnements=service.abonnements_visibles(current_user),
        organisations=jetons.organisations_gerables(current_user),
    )


@bp.route("/nouveau")
@login_required
def choisir_organisation():
    """L'organisation de l'adresse (choisie dans la liste) : vers son formulaire."""
    exiger(gere_des_jetons(current_user))
    organisations = jetons.organisations_gerables(current_user)
    choisie = request.args.get("organisation", type=int)
    if choisie in {o.id for o in organisations}:
        return redirect(url_for("webhooks.creer", organisation_id=choisie))
    if len(organisations) == 1:
        return redirect(url_for("webhooks.creer", organisation_id=organisations[0].id))
    return redirect(url_for("webhooks.liste"))


def _abonnement_cree(resultat) -> Response:
    """Le secret n'est montré que dans cette réponse : ni session, ni cache, ni redirection."""
    abonnement, secret = resultat
    reponse = current_app.make_response(
        render_template("webhooks/cree.html", abonnement=abonnement, secret=secret)
    )
    reponse.headers["Cache-Control"] = "no-store"
    return reponse


@bp.route("/organisations/<int:organisation_id>/nouveau", methods=["GET", "POST"])
@login_required
def creer(organisation_id: int):
    organisation = charger_ou_404(Organisation, organisation_id)
    exiger(GERER_JETONS.permet(current_user, organisation))
    form = AbonnementForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.creer(current_user, organisation.id, form.url.data),
        rendre=lambda code, _: (
            render_template("webhooks/creer.html", form=form, organisation=organisation),
            code,
        ),
        montrer=_abonnement_cree,
    )


def _gere(abonnement: AbonnementWebhook) -> bool:
    return GERER_JETONS.permet(current_user, abonnement.organisation)


@bp.route("/<int:abonnement_id>")
@login_required
def livraisons(abonnement_id: int):
    # L'adresse d'une autre organisation n'existe pas pour lui.
    abonnement = charger_ou_404(AbonnementWebhook, abonnement_id, _gere)
    page, numeros = service.livraisons(
        abonnement, page=page_courante(), par_page=current_app.config["PAGE_TAILLE"]
    )
    return render_template(
        "webhooks/livraisons.html",
        abonnement=abonnement,
        page=page,
        numeros=numeros,
        form=RenvoiForm(),
        apercu=service.apercu_reponse,
    )


@bp.route("/<int:abonnement_id>/desactiver", methods=["GET", "POST"])
@login_required
def desactiver(abonnement_id: int):
    abonnement = charger_ou_404(AbonnementWebhook, abonnement_id, _gere)
    form = DesactivationForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.desactiver(abonnement.id, current_user),
        rendre=lambda code, _: (
            render_template("webhooks/desactiver.html", abonnement=abonnement, form=form),
            code,
        ),
        succes="Adresse désactivée : plus aucun événement ne lui sera envoyé.",
        suite=url_for("webhooks.liste"),
    )


@bp.route("/livraisons/<int:livraison_id>/renvoyer", methods=["POST"])
@login_required
def renvoyer(livraison_id: int):
    livraison = charger_ou_404(LivraisonWebhook, livraison_id, lambda objet: _gere(objet.abonnement))
    return traiter_bouton(
        RenvoiForm(),
        executer=lambda: service.renvoyer(livraison.id, current_user),
        succes=_message_du_renvoi,
        suite=url_for("webhooks.livraisons", abonnement_id=livraison.abonnement_id),
    )


def _message_du_renvoi(livraison: LivraisonWebhook) -> str:
    """Ce qui s'est réellement passé : l'envoi a pu partir aussitôt (tâche sur place) ou attendre son
    travailleur (file Redis)."""
    db.session.refresh(livraison)
    numero = f"Événement n° {livraison.journal_id}"
    if livraison.statut == StatutLivraison.livree:
        return f"{numero} renvoyé et livré (HTTP {livraison.dernier_statut_http})."
    if livraison.tentatives == 0:
        return (
            f"{numero} remis en file d’envoi : tentative prévue le "
            f"{horodatage(livraison.prochaine_tentative_le)} (la réponse s’affichera ici)."
        )
    suite = (
        f" Prochaine tentative le {horodatage(livraison.prochaine_tentative_le)}."
        if livraison.prochaine_tentative_le
        else ""
    )
    http = livraison.dernier_statut_http
    echec = f"HTTP {http}" if http else livraison.derniere_reponse
    return f"{numero} renvoyé, sans succès ({echec}).{suite}"
