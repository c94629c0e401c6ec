"""Engagement et versements d'une ligne votée : établir la notification ou la convention, déposer la
convention signée, saisir le numéro d'engagement juridique, prévoir les échéances, enregistrer les paiements.

Les vues restent minces : droits d'accès (404 pour qui ne voit pas le dossier, 403 pour qui le voit sans
pouvoir agir), lecture du formulaire, appel de `dauphin.services.engagements`, puis retour au dossier — ou
le formulaire réaffiché avec ses erreurs et toute la saisie, ou l'état actuel en cas de conflit (409).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from dauphin.engagements.panneaux import (
    formulaire_acte,
    formulaire_convention,
    formulaire_echeance,
    formulaire_engagement,
    formulaire_paiement,
)
from dauphin.extensions import db
from dauphin.models import LigneFinancement, Versement
from dauphin.policies import INSTRUIRE_LIGNE, peut_voir_demande, qualite_pour
from dauphin.services import documents
from dauphin.services import engagements as service
from dauphin.services.erreurs import Conflit
from workflows import TransitionRefusee
from workflows.budget import format_euros

bp = Blueprint("engagements", __name__, url_prefix="/engagements")


def _ligne_visible(ligne_id: int) -> LigneFinancement:
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None or not peut_voir_demande(current_user, ligne.demande):
        abort(404)
    return ligne


def _retour(ligne: LigneFinancement, message: str):
    flash(message, "succes")
    return redirect(url_for("dossiers.voir", demande_id=ligne.demande_id, _anchor=f"versements-{ligne.id}"))


def _erreur(form, champ: str | None, message: str) -> None:
    cible = getattr(form, champ, None) if champ else None
    if cible is not None:
        cible.errors = [*cible.errors, message]
    else:
        form.form_errors.append(message)


def _refus(form, refus: TransitionRefusee) -> None:
    for probleme in refus.problemes:
        _erreur(form, probleme.champ, probleme.message)


def _page(form, ligne, *, titre, bouton, code=200, conflit=None, versement=None, fichier=False, aide=None):
    return (
        render_template(
            "engagements/formulaire.html",
            form=form,
            ligne=ligne,
            demande=ligne.demande,
            titre=titre,
            bouton=bouton,
            conflit=conflit,
            versement=versement,
            fichier=fichier,
            aide=aide,
            totaux=service.totaux(ligne, service.echeanciers([ligne.id])[ligne.id]),
        ),
        code,
    )


def _perimee(form, ligne) -> str | None:
    """Page périmée (quelqu'un a agi sur la ligne depuis) : rien n'est tenté, la saisie reste."""
    if form.is_submitted() and str(form.version.data or "") not in ("", str(ligne.version)):
        form.version.data = ligne.version
        return str(Conflit())
    return None


def _apres_conflit(form, ligne, erreur: Conflit) -> str:
    db.session.rollback()
    db.session.expire_all()
    form.version.data = ligne.version
    return str(erreur)


# --- Acte ------------------------------------------------------------------------------------------


@bp.route("/lignes/<int:ligne_id>/acte", methods=["GET", "POST"])
@login_required
def acte(ligne_id: int):
    ligne = _ligne_visible(ligne_id)
    if not INSTRUIRE_LIGNE.permet(current_user, ligne):
        abort(403)
    convention = service.convention_requise(ligne)
    titre = "Établir la convention" if convention else "Établir la notification"
    form = formulaire_acte(ligne)
    conflit, code = _perimee(form, ligne), 200
    if conflit:
        code = 409
    elif form.is_submitted() and not service.peut_etablir_acte(ligne):
        conflit, code = f"Cette action n’est plus possible : la ligne est « {ligne.statut.libelle} ».", 409
    elif form.validate_on_submit():
        try:
            ligne = service.etablir_acte(
                ligne.id, current_user, version=form.version.data or None, regime_lu=form.regime.data or None
            )
        except service.SaisieRefusee as refus:
            _erreur(form, refus.champ, refus.message)
            code = 422
        except TransitionRefusee as refus:
            _refus(form, refus)
            code = 422
        except Conflit as erreur:
            conflit, code = _apres_conflit(form, ligne, erreur), 409
        else:
            if ligne.convention_requise:
                return _retour(
                    ligne, "Convention établie : la structure est invitée à la signer et à la déposer."
                )
            return _retour(
                ligne, "Notification établie : la subvention est engagée et la structure prévenue."
            )
    aide = (
        f"Le total voté par {ligne.organisation.nom} à cette structure pour l’exercice "
        f"{ligne.demande.exercice} est de {format_euros(service.cumul_vote(ligne))}"
        + (
            " : au-delà de 23 000 €, une convention écrite est obligatoire."
            if convention
            else " : une notification suffit (seuil de 23 000 €)."
        )
    )
    return _page(form, ligne, titre=titre, bouton=titre, code=code, conflit=conflit, aide=aide)


@bp.route("/lignes/<int:ligne_id>/acte/relancer", methods=["POST"])
@login_required
def relancer_acte(ligne_id: int):
    ligne = _ligne_visible(ligne_id)
    form = formulaire_acte(ligne)
    if not form.validate_on_submit():
        abort(400)
    service.relancer_acte(ligne.id, current_user)
    return _retour(ligne, "Production du document relancée.")


# --- Convention signée -----------------------------------------------------------------------------


@bp.route("/lignes/<int:ligne_id>/convention-signee", methods=["GET", "POST"])
@login_required
def convention_signee(ligne_id: int):
    ligne = _ligne_visible(ligne_id)
    if qualite_pour(current_user, "signer_convention", ligne.demande, ligne) is None:
        abort(403)
    form = formulaire_convention(ligne)
    conflit, code = _perimee(form, ligne), 200
    if conflit:
        code = 409
    elif form.is_submitted() and not service.peut_deposer_convention(current_user, ligne):
        conflit, code = f"Cette action n’est plus possible : la ligne est « {ligne.statut.libelle} ».", 409
    elif form.validate_on_submit():
        fichier = form.fichier.data
        try:
            service.deposer_convention_signee(
                ligne.id, current_user, fichier.stream, fichier.filename, version=form.version.data or None
            )
        except documents.DepotRefuse as refus:
            _erreur(form, "fichier", refus.message)
            code = 422
        except TransitionRefusee as refus:
            _refus(form, refus)
            code = 422
        except Conflit as erreur:
            conflit, code = _apres_conflit(form, ligne, erreur), 409
        else:
            return _retour(ligne, "Convention signée enregistrée : la subvention est engagée.")
    elif form.is_submitted():
        code = 422
    return _page(
        form,
        ligne,
        titre="Déposer la convention signée",
        bouton="Déposer la convention signée",
        code=code,
        conflit=conflit,
        fichier=True,
        aide=f"Taille maximale : {documents.taille_lisible(documents.taille_max())}. PDF, PNG ou JPEG.",
    )


# --- Numéro d'engagement juridique -----------------------------------------------------------------


@bp.route("/lignes/<int:ligne_id>/engagement", methods=["GET", "POST"])
@login_required
def engagement(ligne_id: int):
    ligne = _ligne_visible(ligne_id)
    if not INSTRUIRE_LIGNE.permet(current_user, ligne):
        abort(403)
    form = formulaire_engagement(ligne)
    conflit, code = _perimee(form, ligne), 200
    if conflit:
        code = 409
    elif form.validate_on_submit():
        try:
            service.enregistrer_engagement(
                ligne.id, current_user, form.numero_engagement.data, version=form.version.data or None
            )
        except Conflit as erreur:
            conflit, code = _apres_conflit(form, ligne, erreur), 409
        else:
            return _retour(ligne, f"Numéro d’engagement juridique {form.numero_engagement.data} enregistré.")
    elif form.is_submitted():
        code = 422
    return _page(
        form,
        ligne,
        titre="Numéro d’engagement juridique",
        bouton="Enregistrer le numéro",
        code=code,
        conflit=conflit,
    )


# --- Échéancier et paiements -----------------------------------------------------------------------


def _financeur_ou_403(ligne: LigneFinancement) -> None:
    if qualite_pour(current_user, "verser_avance", ligne.demande, ligne) is None:
        abort(403)


@bp.route("/lignes/<int:ligne_id>/echeances", methods=["GET", "POST"])
@login_required
def prevoir(ligne_id: int):
    ligne = _ligne_visible(ligne_id)
    _financeur_ou_403(ligne)
    form = formulaire_echeance(ligne)
    conflit, code = None, 200
    if form.validate_on_submit():
        try:
            service.prevoir_echeance(
                ligne.id, current_user, form.nature.data, form.date_prevue.data, form.montant.data
            )
        except service.SaisieRefusee as refus:
            _erreur(form, refus.champ, refus.message)
            code = 422
        except Conflit as erreur:
            conflit, code = _apres_conflit(form, ligne, erreur), 409
        else:
            return _retour(ligne, "Échéance ajoutée à l’échéancier.")
    elif form.is_submitted():
        code = 422
    return _page(
        form, ligne, titre="Prévoir une échéance", bouton="Ajouter l’échéance", code=code, conflit=conflit
    )


def _echeance_visible(versement_id: int) -> tuple[Versement, LigneFinancement]:
    versement = db.session.get(Versement, versement_id)
    if versement is None:
        abort(404)
    return versement, _ligne_visible(versement.ligne_id)


@bp.route("/echeances/<int:versement_id>/paiement", methods=["GET", "POST"])
@login_required
def paiement(versement_id: int):
    versement, ligne = _echeance_visible(versement_id)
    _financeur_ou_403(ligne)
    form = formulaire_paiement(versement, ligne)
    titre = (
        f"Enregistrer le paiement — {versement.nature.libelle.lower()} prévue le "
        f"{versement.date_prevue:%d/%m/%Y}"
    )
    conflit, code = _perimee(form, ligne), 200
    if conflit:
        code = 409
    elif form.is_submitted() and (versement.paye or ligne.statut not in service.PAYABLE):
        conflit = (
            "Ce paiement est déjà enregistré."
            if versement.paye
            else f"Aucun paiement n’est possible : la ligne est « {ligne.statut.libelle} »."
        )
        code = 409
    elif form.validate_on_submit():
        try:
            service.enregistrer_paiement(
                versement.id,
                current_user,
                form.verse_le.data,
                form.montant.data,
                form.reference.data,
                version=form.version.data or None,
            )
        except service.SaisieRefusee as refus:
            _erreur(form, refus.champ, refus.message)
            code = 422
        except TransitionRefusee as refus:
            _refus(form, refus)
            code = 422
        except Conflit as erreur:
            conflit, code = _apres_conflit(form, ligne, erreur), 409
        else:
            return _retour(ligne, "Paiement enregistré ; la structure en est informée par courriel.")
    elif form.is_submitted():
        code = 422
    aide = None
    if versement.nature.value == "solde":
        aide = (
            "Le solde est exactement le reste à verser ; il n’est payable qu’après validation du "
            "compte rendu financier de la ligne"
            + (" (validé)." if ligne.compte_rendu_valide else " — pas encore validé à ce jour.")
        )
    return _page(
        form,
        ligne,
        aide=aide,
        titre=titre,
        bouton="Enregistrer le paiement",
        code=code,
        conflit=conflit,
        versement=versement,
    )


@bp.route("/echeances/<int:versement_id>/supprimer", methods=["POST"])
@login_required
def supprimer(versement_id: int):
    versement, ligne = _echeance_visible(versement_id)
    _financeur_ou_403(ligne)
    form = formulaire_acte(ligne, prefixe=f"supprimer-{versement.id}")
    if not form.validate_on_submit():
        abort(400)
    service.supprimer_echeance(versement.id, current_user)
    return _retour(ligne, "Échéance retirée de l’échéancier.")
