"""Compte rendu financier : saisie et attestation par le porteur, report des dates de l'action (demande
du porteur, réponse d'un financeur), clôture de l'exercice par le pilote.

La validation et le renvoi par les financeurs sont des actions d'instruction (dauphin/instruction/actions.py).
Les vues restent minces : lire le formulaire, appeler `dauphin.services.comptes_rendus`, afficher.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.models import ContratDeVille, Demande, ReportDates, StatutReport
from dauphin.policies import est_membre, peut_voir_demande
from dauphin.services import comptes_rendus as service
from dauphin.services.erreurs import Conflit, NonAutorise
from dauphin.services.workflow import aujourdhui
from forms.compte_rendu import ClotureForm, DecisionReportForm, ReportForm, compte_rendu_form
from workflows import TransitionRefusee
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
    )


def _postes(compte_rendu):
    charges = [p for p in compte_rendu.lignes if COMPTES[p.compte].sens is Sens.charge]
    produits = [p for p in compte_rendu.lignes if COMPTES[p.compte].sens is Sens.produit]
    return charges, produits


@bp.route("/<int:demande_id>", methods=["GET", "POST"])
@login_required
def formulaire(demande_id: int):
    demande = service.charger(demande_id, current_user)
    compte_rendu = demande.compte_rendu
    qpvs = list(demande.qpvs)
    modifiable = demande.statut in service.MODIFIABLES
    form = compte_rendu_form(compte_rendu, qpvs, request.form if request.method == "POST" else None)
    signataire = service.peut_attester(current_user, demande)
    conflit, refus, code = None, [], 200
    if request.method == "POST":
        attester = "attester" in request.form
        if not modifiable:
            conflit, code = (
                f"Le compte rendu est « {demande.statut.libelle} » : il n’est plus modifiable.",
                409,
            )
        elif not form.validate_on_submit():
            code = 422
        elif attester and not signataire:
            abort(403)
        elif attester and not form.attestation.data:
            form.attestation.errors = ["Cochez l’attestation sur l’honneur pour déposer le compte rendu."]
            code = 422
        else:
            try:
                service.enregistrer(
                    demande.id, current_user, form.version.data, _saisie(form, compte_rendu, qpvs)
                )
            except Conflit as erreur:
                db.session.rollback()
                conflit, code = str(erreur), 409
            else:
                if not attester:
                    flash("Brouillon du compte rendu enregistré.", "succes")
                    return redirect(url_for("justification.formulaire", demande_id=demande.id))
                try:
                    service.deposer(demande.id, current_user)
                except TransitionRefusee as erreur:
                    db.session.rollback()
                    refus, code = erreur.problemes, 422
                    for probleme in refus:
                        champ = getattr(form, probleme.champ, None) if probleme.champ else None
                        if champ is not None and champ.name != "attestation":
                            champ.errors = [*champ.errors, probleme.message]
                        else:
                            form.form_errors.append(probleme.message)
                except (Conflit, NonAutorise) as erreur:
                    db.session.rollback()
                    conflit, code = str(erreur) or "Vous ne pouvez pas attester ce compte rendu.", 409
                else:
                    flash(
                        "Compte rendu financier attesté et déposé : chaque financeur va le valider "
                        "pour sa ligne.",
                        "succes",
                    )
                    return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor="compte-rendu"))
                db.session.expire_all()
                demande = db.session.get(Demande, demande.id)
                compte_rendu = demande.compte_rendu
                form.version.data = compte_rendu.version  # enregistré : la suite repart de cette version
    charges, produits = _postes(compte_rendu)
    return (
        render_template(
            "justification/formulaire.html",
            demande=demande,
            compte_rendu=compte_rendu,
            form=form,
            qpvs=qpvs,
            charges=charges,
            produits=produits,
            seuil=service.seuil(demande),
            comptes_libelles={code: compte.libelle for code, compte in COMPTES.items()},
            sens={code: compte.sens.value for code, compte in COMPTES.items()},
            modifiable=modifiable,
            signataire=signataire,
            problemes=service.problemes(demande) if not refus else [],
            refus=refus,
            conflit=conflit,
            form_has_errors=bool(refus or conflit),
            en_retard=modifiable and compte_rendu.echeance < aujourdhui(),
            reports=service.reports(demande),
        ),
        code,
    )


@bp.route("/<int:demande_id>/report", methods=["GET", "POST"])
@login_required
def report(demande_id: int):
    demande = service.charger(demande_id, current_user)
    form = ReportForm()
    if request.method == "GET":
        form.date_debut.data, form.date_fin.data = demande.date_debut, demande.date_fin
    code = 200
    if form.validate_on_submit():
        try:
            service.demander_report(
                demande.id, current_user, form.date_debut.data, form.date_fin.data, form.motif.data
            )
        except service.ReportInvalide as erreur:
            getattr(form, erreur.champ).errors = [str(erreur)]
            code = 422
        except Conflit as erreur:
            flash(str(erreur), "erreur")
            return redirect(url_for("justification.formulaire", demande_id=demande.id))
        else:
            flash("Demande de report envoyée aux financeurs.", "succes")
            return redirect(url_for("justification.formulaire", demande_id=demande.id))
    elif form.is_submitted():
        code = 422
    return render_template("justification/report.html", demande=demande, form=form), code


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def decider_report(report_id: int):
    report = db.session.get(ReportDates, report_id)
    if report is None:
        abort(404)
    demande = db.session.get(Demande, report.demande_id)
    if not peut_voir_demande(current_user, demande):
        abort(404)
    if service.organisation_decideuse(current_user, demande) is None:
        abort(403)
    form = DecisionReportForm()
    code = 200
    if report.statut != StatutReport.en_attente and not form.is_submitted():
        flash(f"Cette demande de report a déjà reçu une réponse : {report.statut.libelle.lower()}.", "info")
        return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor="compte-rendu"))
    if form.validate_on_submit():
        try:
            service.decider_report(
                report.id, current_user, form.decision.data == "accepter", form.reponse.data
            )
        except service.ReportInvalide as erreur:
            getattr(form, erreur.champ).errors = [str(erreur)]
            code = 422
        except Conflit as erreur:
            flash(str(erreur), "erreur")
            return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor="compte-rendu"))
        else:
            flash("Réponse enregistrée ; le porteur en est informé.", "succes")
            return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor="compte-rendu"))
    elif form.is_submitted():
        code = 422
    return render_template(
        "justification/decider_report.html", demande=demande, report=report, form=form
    ), code


@bp.route("/cloture", methods=["GET", "POST"])
@login_required
def cloture():
    contrats = {p.contrat_id for p in current_user.pilotages}
    if not contrats:
        abort(403)
    libelles = dict(
        db.session.execute(
            db.select(ContratDeVille.id, ContratDeVille.libelle).where(ContratDeVille.id.in_(contrats))
        ).all()
    )
    form = ClotureForm(formdata=request.form if request.method == "POST" else request.args or None)
    if form.annee.data is None:
        form.annee.data = aujourdhui().year - 1
    annee = form.annee.data if not form.annee.errors else aujourdhui().year - 1
    bilan, code = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            code = 422
        elif not form.confirmation.data:
            form.confirmation.errors = ["Cochez la confirmation pour clôturer l’exercice."]
            code = 422
        else:
            try:
                bilan = service.cloturer(form.annee.data, current_user, contrats)
            except service.ExerciceEnCours as erreur:
                form.annee.errors = [str(erreur)]
                code = 422
    apercu = service.apercu_cloture(annee, contrats) if annee < aujourdhui().year else []
    return (
        render_template(
            "justification/cloture.html",
            form=form,
            annee=annee,
            apercu=apercu,
            libelles=libelles,
            bilan=bilan,
            exercice_termine=annee < aujourdhui().year,
        ),
        code,
    )


def contexte_dossier(demande: Demande) -> dict:
    """Ce que la vue d'un dossier montre du compte rendu (appelé par dauphin.dossiers.voir)."""
    compte_rendu = demande.compte_rendu
    if compte_rendu is None:
        return {"compte_rendu": None, "retards": service.retards_pour_dossier(demande, current_user)}
    charges, produits = _postes(compte_rendu)
    return {
        "compte_rendu": compte_rendu,
        "postes_charges": charges,
        "postes_produits": produits,
        "seuil_ecart": service.seuil(demande),
        "a_reverser": service.a_reverser(demande),
        "reports": service.reports(demande),
        "peut_decider_report": service.organisation_decideuse(current_user, demande) is not None,
        "compte_rendu_modifiable": est_membre(current_user, demande)
        and demande.statut in service.MODIFIABLES,
        "compte_rendu_en_retard": demande.statut in service.MODIFIABLES
        and compte_rendu.echeance < aujourdhui(),
        "retards": service.retards_pour_dossier(demande, current_user),
    }
