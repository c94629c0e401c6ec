"""Engagement et versements d'une ligne votée : établir la notification ou la convention, déposer la
convention signée, saisir le numéro d'engagement juridique, prévoir les échéances, enregistrer les paiements.

Chaque vue déclare la ligne (404 pour qui ne voit pas le dossier), le droit (403 pour qui le voit sans
pouvoir agir : les fonctions de `panneaux` qui décident aussi des actions proposées), le formulaire, l'appel
de `dauphin.services.engagements` et la page ; `dauphin.vues.traiter_formulaire` fait le reste (409, 422,
retour au dossier).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from dauphin.engagements import panneaux
from dauphin.models import LigneFinancement, Versement
from dauphin.services import documents
from dauphin.services import engagements as service
from dauphin.vues import charger_ou_404, exiger, ligne_visible, traiter_formulaire
from workflows import StatutLigne
from workflows.budget import format_euros

bp = Blueprint("engagements", __name__, url_prefix="/engagements")


def _retour(ligne: LigneFinancement) -> str:
    return url_for("dossiers.voir", demande_id=ligne.demande_id, _anchor=f"versements-{ligne.id}")


def _ouvrir(ligne_id: int, droit, formulaire) -> tuple[LigneFinancement, object]:
    """La ligne (404 pour qui ne voit pas son dossier), le droit d'y faire l'action (403), son formulaire."""
    ligne = ligne_visible(ligne_id)
    exiger(droit(ligne))
    return ligne, formulaire(ligne)


def _plus_possible(ligne: LigneFinancement) -> str:
    return f"Cette action n’est plus possible : la ligne est « {ligne.statut.libelle} »."


def _ecran(ligne: LigneFinancement, form, *, executer, succes, page, impossible=None, version=True):
    """Une action sur la ligne par le chemin commun (`dauphin.vues.traiter_formulaire`), puis retour au
    bloc de la ligne dans le dossier. `page()` : ce que la page montre (titre, bouton, aide…), calculé à
    l'affichage — après un conflit, sur l'état actuel de la ligne."""

    def rendre(code: int, conflit: str | None):
        totaux = service.totaux(ligne, service.echeanciers([ligne.id])[ligne.id])
        contenu = render_template(
            "engagements/formulaire.html",
            form=form,
            ligne=ligne,
            demande=ligne.demande,
            conflit=conflit,
            totaux=totaux,
            **{"versement": None, "fichier": False, "aide": None, **page()},
        )
        return contenu, code

    return traiter_formulaire(
        form,
        executer=executer,
        rendre=rendre,
        succes=succes,
        suite=_retour(ligne),
        version=(lambda: ligne.version) if version else None,
        impossible=impossible,
    )


# --- Acte ------------------------------------------------------------------------------------------


def _page_acte(ligne: LigneFinancement, form) -> dict:
    convention = service.convention_requise(ligne)
    # L'acte proposé est celui du cumul actuel : après un conflit, c'est lui qu'on valide de nouveau.
    form.regime.data = service.regime(convention)
    titre = "Établir la convention" if convention else "Établir la notification"
    aide = (
        f"Le total voté par {ligne.organisation.nom} à cette structure pour l’exercice "
        f"{ligne.demande.exercice} est de {format_euros(service.cumul_vote(ligne))}"
        + (
            " : au-delà de 23 000 €, une convention écrite est obligatoire."
            if convention
            else " : une notification suffit (seuil de 23 000 €)."
        )
    )
    return {"titre": titre, "bouton": titre, "aide": aide}


def _acte_etabli(ligne: LigneFinancement) -> str:
    if ligne.convention_requise:
        return "Convention établie : la structure est invitée à la signer et à la déposer."
    return "Notification établie : la subvention est engagée et la structure prévenue."


@bp.route("/lignes/<int:ligne_id>/acte", methods=["GET", "POST"])
@login_required
def acte(ligne_id: int):
    ligne, form = _ouvrir(ligne_id, panneaux.financeur, panneaux.formulaire_acte)
    regime_lu = form.regime.data or None  # l'acte que la page affichait
    return _ecran(
        ligne,
        form,
        executer=lambda: service.etablir_acte(
            ligne.id, current_user, version=form.version.data or None, regime_lu=regime_lu
        ),
        succes=_acte_etabli,
        page=lambda: _page_acte(ligne, form),
        impossible=lambda: None if service.peut_etablir_acte(ligne) else _plus_possible(ligne),
    )


@bp.route("/lignes/<int:ligne_id>/acte/relancer", methods=["POST"])
@login_required
def relancer_acte(ligne_id: int):
    ligne = ligne_visible(ligne_id)
    exiger(panneaux.financeur(ligne))
    if not panneaux.formulaire_acte(ligne).validate_on_submit():
        abort(400)
    service.relancer_acte(ligne.id, current_user)
    flash("Production du document relancée.", "succes")
    return redirect(_retour(ligne))


# --- Convention signée -----------------------------------------------------------------------------


def _deposer_convention(ligne: LigneFinancement, form):
    fichier = form.fichier.data
    return service.deposer_convention_signee(
        ligne.id, current_user, fichier.stream, fichier.filename, version=form.version.data or None
    )


@bp.route("/lignes/<int:ligne_id>/convention-signee", methods=["GET", "POST"])
@login_required
def convention_signee(ligne_id: int):
    ligne, form = _ouvrir(ligne_id, panneaux.signe_la_convention, panneaux.formulaire_convention)
    aide = f"Taille maximale : {documents.taille_lisible(documents.taille_max())}."  # formats : aide du champ
    return _ecran(
        ligne,
        form,
        executer=lambda: _deposer_convention(ligne, form),
        succes="Convention signée enregistrée : la subvention est engagée.",
        page=lambda: {
            "titre": "Déposer la convention signée",
            "bouton": "Déposer la convention signée",
            "fichier": True,
            "aide": aide,
        },
        impossible=lambda: None if ligne.statut == StatutLigne.convention_a_signer else _plus_possible(ligne),
    )


# --- Numéro d'engagement juridique -----------------------------------------------------------------


@bp.route("/lignes/<int:ligne_id>/engagement", methods=["GET", "POST"])
@login_required
def engagement(ligne_id: int):
    ligne, form = _ouvrir(ligne_id, panneaux.financeur, panneaux.formulaire_engagement)
    return _ecran(
        ligne,
        form,
        executer=lambda: service.enregistrer_engagement(
            ligne.id, current_user, form.numero_engagement.data, version=form.version.data or None
        ),
        succes=f"Numéro d’engagement juridique {form.numero_engagement.data} enregistré.",
        page=lambda: {"titre": "Numéro d’engagement juridique", "bouton": "Enregistrer le numéro"},
    )


# --- Échéancier et paiements -----------------------------------------------------------------------


@bp.route("/lignes/<int:ligne_id>/echeances", methods=["GET", "POST"])
@login_required
def prevoir(ligne_id: int):
    ligne, form = _ouvrir(ligne_id, panneaux.financeur, panneaux.formulaire_echeance)
    # Pas de contrôle de version : ajouter une échéance n'écrase rien, et le service borne l'échéancier
    # par le montant voté sous le verrou du dossier.
    return _ecran(
        ligne,
        form,
        executer=lambda: service.prevoir_echeance(
            ligne.id, current_user, form.nature.data, form.date_prevue.data, form.montant.data
        ),
        succes="Échéance ajoutée à l’échéancier.",
        page=lambda: {"titre": "Prévoir une échéance", "bouton": "Ajouter l’échéance"},
        version=False,
    )


def _echeance_visible(versement_id: int) -> tuple[Versement, LigneFinancement]:
    versement = charger_ou_404(Versement, versement_id)
    return versement, ligne_visible(versement.ligne_id)


def _page_paiement(versement: Versement, ligne: LigneFinancement) -> dict:
    aide = None
    if versement.nature.value == "solde":
        aide = (
            "Le solde est exactement le reste à verser ; il n’est payable qu’après validation du "
            "compte rendu financier de la ligne"
            + (" (validé)." if ligne.compte_rendu_valide else " — pas encore validé à ce jour.")
        )
    titre = (
        f"Enregistrer le paiement — {versement.nature.libelle.lower()} "
        f"{versement.nature.accorde('prévu')} le {versement.date_prevue:%d/%m/%Y}"
    )
    return {"titre": titre, "bouton": "Enregistrer le paiement", "versement": versement, "aide": aide}


@bp.route("/echeances/<int:versement_id>/paiement", methods=["GET", "POST"])
@login_required
def paiement(versement_id: int):
    versement, ligne = _echeance_visible(versement_id)
    exiger(panneaux.financeur(ligne))
    form = panneaux.formulaire_paiement(versement, ligne)
    return _ecran(
        ligne,
        form,
        executer=lambda: service.enregistrer_paiement(
            versement.id,
            current_user,
            form.verse_le.data,
            form.montant.data,
            form.reference.data,
            version=form.version.data or None,
        ),
        succes="Paiement enregistré ; la structure en est informée par courriel.",
        page=lambda: _page_paiement(versement, ligne),
        impossible=lambda: service.paiement_impossible(versement, ligne),
    )


@bp.route("/echeances/<int:versement_id>/supprimer", methods=["POST"])
@login_required
def supprimer(versement_id: int):
    versement, ligne = _echeance_visible(versement_id)
    exiger(panneaux.financeur(ligne))
    if not panneaux.formulaire_acte(ligne, prefixe=f"supprimer-{versement.id}").validate_on_submit():
        abort(400)
    service.supprimer_echeance(versement.id, current_user)  # un `Conflit` : dauphin.enregistrer_erreurs
    flash("Échéance retirée de l’échéancier.", "succes")
    return redirect(_retour(ligne))
