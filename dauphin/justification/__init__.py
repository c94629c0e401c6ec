"""Compte rendu financier : saisie et attestation par le porteur, report des dates de l'action (demande
du porteur, réponse d'un financeur), clôture de l'exercice par le pilote.

La validation et le renvoi par les financeurs sont des actions d'instruction (dauphin/instruction/actions.py).
Chaque vue déclare l'objet (404), le droit (403), le formulaire, l'appel de `dauphin.services.comptes_rendus`
et la page ; `dauphin.vues.traiter_formulaire` fait le reste (409, 422, message et retour).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.models import ContratDeVille, Demande, ReportDates, StatutReport
from dauphin.policies import acteur_de, est_membre
from dauphin.services import comptes_rendus as service
from dauphin.services.workflow import aujourdhui
from dauphin.vues import charger_ou_404, demande_visible, exiger, problemes, signaler, traiter_formulaire
from forms.compte_rendu import ClotureForm, DecisionReportForm, ReportForm, compte_rendu_form
from workflows.budget import COMPTES, Sens

bp = Blueprint("justification", __name__, url_prefix="/comptes-rendus")


def _saisie(form, compte_rendu, qpvs) -> service.Saisie:
    return service.Saisie(
        action_realisee=form.action_realisee.data != "non",
        motif_non_realisation=form.motif_non_realisation.data,
        bilan=form.bilan.data,
        public_atteint=form.public_atteint.data,
        beneficiaires_hors_qpv=form.beneficiaires_hors_qpv.data,
        beneficiaires_qpv={q.id: getattr(form, f"qpv_{q.id}").data for q in qpvs},
        realises={p.ordre: getattr(form, f"realise_{p.ordre}").data for p in compte_rendu.lignes},
        explications={p.ordre: getattr(form, f"explication_{p.ordre}").data for p in compte_rendu.lignes},
        ajouter=form.poste_a_ajouter.data if form.ajouter_poste.data else None,
        retirer=request.form.get("retirer_poste", type=int),
    )


def _postes(compte_rendu, sens: Sens) -> list:
    """Les postes du compte rendu d'un sens : les charges ou les produits."""
    return service.dans_l_ordre_du_plan(p for p in compte_rendu.lignes if COMPTES[p.compte].sens is sens)


def _vers_le_dossier(demande: Demande) -> str:
    return url_for("dossiers.voir", demande_id=demande.id, _anchor="compte-rendu")


def _plus_rien_a_faire(form, raison: str | None, suite: str):
    """La page d'une action qui n'est plus possible (lien d'une page ancienne) : la raison, et retour à la
    page d'où l'action se propose. Un envoi, lui, reçoit sa réponse du chemin commun (409)."""
    if form.is_submitted() or not raison:
        return None
    flash(raison, "info")
    return redirect(suite)


# --- Saisie et attestation -------------------------------------------------------------------------


def _enregistrer(demande: Demande, form, qpvs, attester: bool) -> None:
    """Le brouillon, puis, si le signataire atteste, le dépôt. Le brouillon reste enregistré si le dépôt
    est refusé : la saisie repart de sa nouvelle version."""
    compte_rendu = service.enregistrer(
        demande.id, current_user, form.version.data, _saisie(form, demande.compte_rendu, qpvs)
    )
    form.version.data = compte_rendu.version
    if attester:
        service.deposer(demande.id, current_user)


def _signaler_refus(form, refus) -> None:
    # L'attestation est cochée : ce que les gardes du dépôt lui opposent se lit en tête du formulaire.
    signaler(
        form, [(None if champ == "attestation" else champ, message) for champ, message in problemes(refus)]
    )


def _page_compte_rendu(demande: Demande, form, qpvs, code: int, conflit: str | None):
    compte_rendu = demande.compte_rendu
    modifiable = demande.statut in service.MODIFIABLES
    page = render_template(
        "justification/formulaire.html",
        demande=demande,
        compte_rendu=compte_rendu,
        form=form,
        qpvs=qpvs,
        charges=_postes(compte_rendu, Sens.charge),
        produits=_postes(compte_rendu, Sens.produit),
        seuil=service.seuil(demande),
        comptes_libelles={cle: compte.libelle for cle, compte in COMPTES.items()},
        sens={cle: compte.sens.value for cle, compte in COMPTES.items()},
        modifiable=modifiable,
        postes_ajoutes=[p for p in service.dans_l_ordre_du_plan(compte_rendu.lignes) if service.retirable(p)],
        renvoi=service.dernier_renvoi(demande),
        signataire=service.peut_attester(current_user, demande),
        # Après un refus, chaque problème est à côté de son champ : la liste de ce qui manque se tait.
        problemes=service.problemes(demande) if code != 422 else [],
        conflit=conflit,
        form_has_errors=bool(conflit),
        en_retard=modifiable and service.en_retard(compte_rendu.echeance, aujourdhui()),
        report_impossible=service.report_impossible(demande),
        reports=service.reports(demande),
    )
    return page, code


@bp.route("/<int:demande_id>", methods=["GET", "POST"])
@login_required
def formulaire(demande_id: int):
    demande = service.charger(demande_id, current_user)
    qpvs = list(demande.qpvs)
    form = compte_rendu_form(
        demande.compte_rendu,
        qpvs,
        request.form if request.method == "POST" else None,
        service.comptes_a_ajouter(demande.compte_rendu),
    )
    attester = form.is_submitted() and form.attester.data
    poste = form.is_submitted() and (form.ajouter_poste.data or "retirer_poste" in request.form)
    if attester:
        exiger(service.peut_attester(current_user, demande))  # seul un signataire atteste
    return traiter_formulaire(
        form,
        executer=lambda: _enregistrer(demande, form, qpvs, attester),
        rendre=lambda code, conflit: _page_compte_rendu(demande, form, qpvs, code, conflit),
        succes="Compte rendu financier attesté et déposé : chaque financeur va le valider pour sa ligne."
        if attester
        else "Brouillon enregistré et tableau financier mis à jour."
        if poste
        else "Brouillon du compte rendu enregistré.",
        suite=_vers_le_dossier(demande)
        if attester
        else url_for(
            "justification.formulaire",
            demande_id=demande.id,
            _anchor="tableau-compte-rendu" if poste else None,
        ),
        version=lambda: demande.compte_rendu.version,
        impossible=lambda: (
            None
            if demande.statut in service.MODIFIABLES
            else f"Le compte rendu est « {demande.statut.libelle} » : il n’est plus modifiable."
        ),
        signaler_refus=_signaler_refus,
    )


# --- Report des dates de l'action -------------------------------------------------------------------


@bp.route("/<int:demande_id>/report", methods=["GET", "POST"])
@login_required
def report(demande_id: int):
    demande = service.charger(demande_id, current_user)
    form = ReportForm()
    retour = url_for("justification.formulaire", demande_id=demande.id)
    if (fait := _plus_rien_a_faire(form, service.report_impossible(demande), retour)) is not None:
        return fait
    if not form.is_submitted():
        form.date_debut.data, form.date_fin.data = demande.date_debut, demande.date_fin
    return traiter_formulaire(
        form,
        executer=lambda: service.demander_report(
            demande.id, current_user, form.date_debut.data, form.date_fin.data, form.motif.data
        ),
        rendre=lambda code, conflit: (
            render_template("justification/report.html", demande=demande, form=form, conflit=conflit),
            code,
        ),
        succes="Demande de report envoyée aux financeurs.",
        suite=retour,
        impossible=lambda: service.report_impossible(demande),
    )


def _report_visible(report_id: int) -> tuple[ReportDates, Demande]:
    report = charger_ou_404(ReportDates, report_id)
    return report, demande_visible(report.demande_id)


def _deja_repondu(report: ReportDates) -> str | None:
    if report.statut == StatutReport.en_attente:
        return None
    return f"Cette demande de report a déjà reçu une réponse : {report.statut.libelle.lower()}."


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def decider_report(report_id: int):
    report, demande = _report_visible(report_id)
    exiger(service.organisation_decideuse(current_user, demande) is not None)
    form = DecisionReportForm()
    if (fait := _plus_rien_a_faire(form, _deja_repondu(report), _vers_le_dossier(demande))) is not None:
        return fait

    def rendre(code: int, conflit: str | None):
        page = render_template(
            "justification/decider_report.html", demande=demande, report=report, form=form, conflit=conflit
        )
        return page, code

    return traiter_formulaire(
        form,
        executer=lambda: service.decider_report(
            report.id, current_user, form.decision.data == "accepter", form.reponse.data
        ),
        rendre=rendre,
        succes="Réponse enregistrée ; le porteur en est informé.",
        suite=_vers_le_dossier(demande),
        impossible=lambda: _deja_repondu(report),
    )


# --- Clôture de l'exercice par le pilote --------------------------------------------------------------


def _page_cloture(form, contrats, code: int, bilan: service.BilanCloture | None = None):
    annee = form.annee.data
    termine = annee < aujourdhui().year
    libelles = dict(
        db.session.execute(
            db.select(ContratDeVille.id, ContratDeVille.libelle).where(ContratDeVille.id.in_(contrats))
        ).all()
    )
    page = render_template(
        "justification/cloture.html",
        form=form,
        annee=annee,
        apercu=service.apercu_cloture(annee, contrats) if termine else [],
        libelles=libelles,
        bilan=bilan,
        exercice_termine=termine,
    )
    return page, code


@bp.route("/cloture", methods=["GET", "POST"])
@login_required
def cloture():
    contrats = sorted(acteur_de(current_user).contrats_pilotes)
    exiger(bool(contrats))  # le pilote clôt l'exercice de ses contrats
    form = ClotureForm(formdata=request.form if request.method == "POST" else request.args or None)
    if form.annee.data is None:
        form.annee.data = aujourdhui().year - 1
    return traiter_formulaire(
        form,
        executer=lambda: service.cloturer(form.annee.data, current_user, contrats),
        rendre=lambda code, _: _page_cloture(form, contrats, code),
        montrer=lambda bilan: _page_cloture(form, contrats, 200, bilan),
    )


def contexte_dossier(demande: Demande) -> dict:
    """Ce que la vue d'un dossier montre du compte rendu (appelé par dauphin.dossiers.voir)."""
    compte_rendu = demande.compte_rendu
    if compte_rendu is None:
        return {"compte_rendu": None, "retards": service.retards_pour_dossier(demande, current_user)}
    return {
        "compte_rendu": compte_rendu,
        "postes_charges": _postes(compte_rendu, Sens.charge),
        "postes_produits": _postes(compte_rendu, Sens.produit),
        "seuil_ecart": service.seuil(demande),
        "a_reverser": service.a_reverser(demande),
        "reports": service.reports(demande),
        "peut_decider_report": service.organisation_decideuse(current_user, demande) is not None,
        "compte_rendu_modifiable": est_membre(current_user, demande)
        and demande.statut in service.MODIFIABLES,
        "compte_rendu_en_retard": demande.statut in service.MODIFIABLES
        and service.en_retard(compte_rendu.echeance, aujourdhui()),
        "retards": service.retards_pour_dossier(demande, current_user),
    }
