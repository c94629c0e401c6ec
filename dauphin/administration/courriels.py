"""Boîte d'envoi des courriels (administration nationale) : ce qui attend, ce qui a échoué, ce qui est
parti, avec le nombre de tentatives et la dernière erreur ; « Relancer l'envoi » confie à une tâche les
courriels en attente (la même reprise que `flask courriels envoyer`).

Modèles de courriels : chaque message du catalogue (services/gabarits_courriels.py), qui le reçoit et
quand, rendu avec ses valeurs d'exemple (sujet, version texte, version HTML) pour en relire le texte."""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from dauphin.administration import administrateur_national, bp
from dauphin.listes import page_courante
from dauphin.models import StatutCourriel
from dauphin.services import courriels as service
from dauphin.services import gabarits_courriels

# La version HTML d'un courriel, servie seule pour le cadre de l'aperçu : ni script, ni ressource extérieure,
# ni formulaire ; les styles en ligne du courriel sont permis. Affichable dans une page du portail seulement.
CSP_COURRIEL = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)


@bp.route("/courriels")
@administrateur_national
def courriels():
    valeur = request.args.get("statut", StatutCourriel.en_attente.value)
    statut = StatutCourriel(valeur) if valeur in service.FILTRES else StatutCourriel.en_attente
    return render_template(
        "administration/courriels.html",
        statut=statut,
        filtres=service.FILTRES,
        nombres=service.nombres_par_statut(),
        page=service.page_courriels(statut, page_courante(), current_app.config["PAGE_TAILLE"]),
        tentatives_max=service.TENTATIVES_MAX,
        lot=service.LOT_REPRISE,
        form=FlaskForm(),
    )


@bp.route("/courriels/relancer", methods=["POST"])
@administrateur_national
def relancer_courriels():
    if not FlaskForm().validate_on_submit():
        abort(400)
    nombre, lance = service.relancer_envoi()
    if not nombre:
        flash("Aucun courriel n’est en attente d’envoi.", "info")
    elif lance:
        lot = min(nombre, service.LOT_REPRISE)
        suite = f" sur {nombre} (les suivants aux reprises suivantes)" if nombre > lot else ""
        flash(
            f"Envoi relancé pour {lot} courriel(s) en attente{suite}. Ceux que le serveur de messagerie "
            "refuse encore restent en attente, avec l’erreur rencontrée.",
            "succes",
        )
    else:
        flash(
            "La file des tâches (Redis) est injoignable : l’envoi n’a pas pu être relancé. Les courriels "
            "restent en attente et partiront à la prochaine reprise planifiée.",
            "avertissement",
        )
    return redirect(url_for("administration.courriels", statut=StatutCourriel.en_attente.value))


@bp.route("/courriels/modeles")
@administrateur_national
def modeles_courriels():
    familles = [
        (famille, [(message, gabarits_courriels.apercu(message.nom).sujet) for message in messages])
        for famille, messages in gabarits_courriels.FAMILLES
    ]
    return render_template("administration/modeles_courriels.html", familles=familles)


def _message(nom: str) -> gabarits_courriels.Message:
    if nom not in gabarits_courriels.CATALOGUE:
        abort(404)
    return gabarits_courriels.CATALOGUE[nom]


@bp.route("/courriels/modeles/<nom>")
@administrateur_national
def modele_courriel(nom: str):
    message = _message(nom)
    return render_template(
        "administration/modele_courriel.html", message=message, rendu=gabarits_courriels.apercu(nom)
    )


@bp.route("/courriels/modeles/<nom>/html")
@administrateur_national
def modele_courriel_html(nom: str):
    reponse = make_response(gabarits_courriels.apercu(_message(nom).nom).html)
    reponse.headers["Content-Security-Policy"] = CSP_COURRIEL
    reponse.headers["X-Frame-Options"] = "SAMEORIGIN"
    return reponse
