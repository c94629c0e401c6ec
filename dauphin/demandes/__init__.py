"""Dépôt d'une demande : campagnes ouvertes, formulaire en étapes, soumission, attestation, suivi.

Chaque étape s'enregistre à la validation ; une erreur de saisie ou un conflit de version réaffiche
le formulaire avec tout ce qui a été tapé, sans rien perdre.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.models import AxeTransversal, Demande, EvenementJournal, Thematique, TypePiece
from dauphin.pdf import dernier_recepisse, recepisse_en_cours
from dauphin.policies import est_membre, qualite_pour
from dauphin.services import demandes as service
from dauphin.services.erreurs import Conflit
from dauphin.services.workflow import aujourdhui, declencher_demande
from forms.demande import (
    ActionForm,
    ActionSimpleForm,
    AttestationForm,
    MotifForm,
    StructureEtapeForm,
    budget_form,
    eligibilite_form,
    pieces_form,
)
from workflows import DEMANDE, StatutDemande, TransitionRefusee
from workflows.budget import PLAN_COMPTABLE, Sens, verifier_budget
from workflows.gardes import Probleme

bp = Blueprint("demandes", __name__, url_prefix="/demandes")


def _demande_du_membre(demande_id: int) -> Demande:
    demande = db.session.get(Demande, demande_id)
    if demande is None or not est_membre(current_user, demande):
        abort(404)  # une demande d'une autre structure n'existe pas pour cet utilisateur
    return demande


def _contexte(demande: Demande, etape: str, **valeurs):
    noms = [nom for nom, _ in service.ETAPES]
    index = noms.index(etape)
    return {
        "demande": demande,
        "etape": etape,
        "etapes": service.ETAPES,
        "numero_etape": index + 1,
        "etape_suivante": service.ETAPES[index + 1][1] if index + 1 < len(noms) else None,
        "modifiable": demande.statut in service.MODIFIABLES,
        **valeurs,
    }


def _suivante(etape: str) -> str:
    noms = [nom for nom, _ in service.ETAPES]
    return noms[noms.index(etape) + 1]


def _apres_enregistrement(demande: Demande, etape: str):
    flash("Étape enregistrée.", "succes")
    if request.form.get("rester"):
        return redirect(url_for("demandes.etape", demande_id=demande.id, etape=etape))
    return redirect(url_for("demandes.etape", demande_id=demande.id, etape=_suivante(etape)))


# --- Campagnes et création ----------------------------------------------------------------


@bp.route("/campagnes")
@login_required
def campagnes():
    structures = service.structures_du_membre(current_user)
    if not structures:
        flash("Inscrivez d’abord votre structure, ou demandez à y être invité.", "info")
        return redirect(url_for("public.accueil"))
    departement = (request.args.get("departement") or "").strip().upper()[:3] or None
    page = db.paginate(
        service.campagnes_ouvertes(departement=departement),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_TAILLE"],
        error_out=False,
    )
    return render_template(
        "demandes/campagnes.html",
        page=page,
        structures=structures,
        departement=departement or "",
        form=ActionSimpleForm(),
    )


def _identifiant(nom: str) -> int | None:
    """L'identifiant envoyé par le formulaire ; absent, illisible ou hors des bornes d'une clé : None."""
    valeur = request.form.get(nom, type=int)
    return valeur if valeur is not None and 0 < valeur < 2**31 else None


@bp.route("/nouvelle", methods=["POST"])
@login_required
def nouvelle():
    form = ActionSimpleForm()
    if not form.validate_on_submit():
        abort(400)
    structure_id, campagne_id = _identifiant("structure_id"), _identifiant("campagne_id")
    if structure_id is None or campagne_id is None:
        abort(404)
    try:
        demande = service.creer_brouillon(current_user, structure_id, campagne_id)
    except Conflit as conflit:
        flash(str(conflit), "erreur")
        return redirect(url_for("demandes.campagnes"))
    flash("Brouillon créé : chaque étape est enregistrée dès que vous la validez.", "succes")
    return redirect(url_for("demandes.etape", demande_id=demande.id, etape="eligibilite"))


@bp.route("/<int:demande_id>/renouveler", methods=["POST"])
@login_required
def renouveler(demande_id: int):
    precedente = _demande_du_membre(demande_id)
    form = ActionSimpleForm()
    if not form.validate_on_submit():
        abort(400)
    campagne = next(
        (
            c
            for c in db.session.scalars(service.campagnes_ouvertes())
            if c.contrat_id == precedente.campagne.contrat_id and c.exercice > precedente.exercice
        ),
        None,
    )
    if campagne is None:
        flash(
            "Aucune campagne d’un exercice suivant n’est ouverte pour ce contrat de ville : le "
            "renouvellement sera possible à son ouverture.",
            "avertissement",
        )
        return redirect(url_for("dossiers.voir", demande_id=precedente.id))
    nouvelle = service.renouveler(precedente.id, current_user, campagne.id)
    flash(
        "La demande a été reprise pour la nouvelle campagne : vérifiez chaque étape, joignez les pièces "
        "à jour, puis soumettez-la.",
        "succes",
    )
    return redirect(url_for("demandes.etape", demande_id=nouvelle.id, etape="eligibilite"))


# --- Étapes --------------------------------------------------------------------------------


@bp.route("/<int:demande_id>/etape/<etape>", methods=["GET", "POST"])
@login_required
def etape(demande_id: int, etape: str):
    if etape not in service.NOMS_ETAPES:
        abort(404)
    demande = _demande_du_membre(demande_id)
    if etape == "recapitulatif":
        return recapitulatif(demande)
    vue = {
        "eligibilite": _eligibilite,
        "structure": _structure,
        "action": _action,
        "budget": _budget,
        "pieces": _pieces,
    }[etape]
    return vue(demande)


def _rendre(demande, etape, form, gabarit, **valeurs):
    return render_template(f"demandes/{gabarit}.html", form=form, **_contexte(demande, etape, **valeurs))


def _enregistrer(demande, etape, form, gabarit, enregistrement, **valeurs):
    """Enregistre si le formulaire est valide ; sinon, ou en cas de conflit, le réaffiche tel que saisi."""
    if request.method == "POST" and form.validate_on_submit():
        try:
            cible = service.charger_pour_modifier(demande.id, current_user, form.version.data)
            enregistrement(cible)
        except Conflit as conflit:
            db.session.rollback()
            return _rendre(demande, etape, form, gabarit, conflit=str(conflit), **valeurs), 409
        return _apres_enregistrement(demande, etape)
    if request.method == "GET":
        form.version.data = demande.version
    return _rendre(demande, etape, form, gabarit, **valeurs)


def _eligibilite(demande):
    questions = demande.campagne.questions_eligibilite
    form = eligibilite_form(
        questions, request.form if request.method == "POST" else None, demande.reponses_eligibilite
    )

    def enregistrement(cible):
        reponses = {}
        for question in questions:
            valeur = getattr(form, f"question_{question.id}").data
            reponses[question.id] = None if valeur not in ("oui", "non") else valeur == "oui"
        service.enregistrer_eligibilite(cible, reponses)

    return _enregistrer(demande, "eligibilite", form, "eligibilite", enregistrement, questions=questions)


def _structure(demande):
    form = StructureEtapeForm(obj=demande if request.method == "GET" else None)
    comptes = [
        c for c in demande.structure.comptes_bancaires if c.actif or c.id == demande.compte_bancaire_id
    ]
    form.compte_bancaire_id.choices = [(0, "— Choisir —")] + [
        (c.id, f"{c.titulaire} — {c.iban_masque} ({c.bic})") for c in comptes
    ]

    def enregistrement(cible):
        service.enregistrer_champs(
            cible,
            {
                "responsable_nom": form.responsable_nom.data,
                "responsable_fonction": form.responsable_fonction.data,
                "responsable_email": (form.responsable_email.data or "").lower(),
                "responsable_telephone": form.responsable_telephone.data,
                "compte_bancaire_id": form.compte_bancaire_id.data or None,
            },
        )

    return _enregistrer(demande, "structure", form, "structure", enregistrement)


def _action(demande):
    form = ActionForm(obj=demande if request.method == "GET" else None)
    qpvs = service.qpvs_du_contrat(demande)
    form.qpvs.choices = [(q.id, f"{q.libelle} ({q.code})") for q in qpvs]
    thematiques = db.session.scalars(
        db.select(Thematique)
        .where(Thematique.parent_code.is_not(None), Thematique.actif.is_(True))
        .order_by(Thematique.ordre)
    ).all()
    form.thematique_code.choices = [("", "— Choisir —")] + [
        (t.code, f"{t.code} — {t.libelle}") for t in thematiques
    ]
    form.axes.choices = [(a.code, a.libelle) for a in db.session.scalars(db.select(AxeTransversal))]
    if request.method == "GET":
        form.qpvs.data = [q.id for q in demande.qpvs]
        form.axes.data = [a.code for a in demande.axes]
        form.thematique_code.data = demande.thematique_code or ""

    def enregistrement(cible):
        champs = {
            nom: getattr(form, nom).data
            for nom in (
                "intitule",
                "objectifs",
                "description",
                "public_cible",
                "nb_beneficiaires",
                "date_debut",
                "date_fin",
                "renouvellement",
                "duree_annees",
                "moyens_humains",
                "indicateurs_evaluation",
            )
        }
        champs["thematique_code"] = form.thematique_code.data or None
        service.enregistrer_action(cible, champs, form.qpvs.data or [], form.axes.data or [])

    return _enregistrer(demande, "action", form, "action", enregistrement)


def _budget(demande):
    financeurs = service.financeurs_de_la_campagne(demande.campagne_id)
    form = budget_form(
        PLAN_COMPTABLE, financeurs, request.form if request.method == "POST" else None, demande.lignes_budget
    )

    def enregistrement(cible):
        service.enregistrer_budget(cible, _lignes_saisies(form, financeurs))

    erreurs_budget = verifier_budget(demande.lignes_budget) if demande.lignes_budget else []
    charges = [c for c in PLAN_COMPTABLE if c.sens is Sens.charge]
    produits = [c for c in PLAN_COMPTABLE if c.sens is Sens.produit and c.code != "74"]
    return _enregistrer(
        demande,
        "budget",
        form,
        "budget",
        enregistrement,
        charges=charges,
        produits=produits,
        financeurs=financeurs,
        erreurs_budget=erreurs_budget,
    )


def _lignes_saisies(form, financeurs) -> list[service.LigneSaisie]:
    lignes = []
    for compte in PLAN_COMPTABLE:
        if compte.code == "74":
            for financeur in financeurs:
                montant = getattr(form, f"financeur_{financeur.id}").data
                if montant:
                    lignes.append(service.LigneSaisie("74", montant, financeur_id=financeur.id))
            for entree in form.libres.entries:
                if entree.form.montant.data:
                    lignes.append(
                        service.LigneSaisie(
                            "74",
                            entree.form.montant.data,
                            financeur_libelle=entree.form.financeur_libelle.data,
                        )
                    )
        else:
            montant = getattr(form, f"compte_{compte.code}").data
            if montant:
                lignes.append(service.LigneSaisie(compte.code, montant))
    return lignes


@dataclass(frozen=True)
class PieceFacultative:
    """Une pièce utile que la campagne n'exige pas : proposée, facultative."""

    type_piece: TypePiece
    obligatoire: bool = False

    @property
    def libelle(self):
        return self.type_piece.libelle


def _pieces(demande):
    requises = list(demande.campagne.pieces_requises)
    requises_types = {p.type_piece for p in requises}
    for type_piece in (TypePiece.liste_dirigeants, TypePiece.rapport_activite, TypePiece.budget_structure):
        if type_piece not in requises_types:
            requises.append(PieceFacultative(type_piece))
    documents = service.documents_du_porte_documents(demande.structure_id)
    choisis = {p.type_piece.value: p.document_id for p in demande.pieces_jointes}
    form = pieces_form(requises, documents, request.form if request.method == "POST" else None, choisis)

    def enregistrement(cible):
        service.enregistrer_pieces(
            cible, {p.type_piece: getattr(form, f"piece_{p.type_piece.value}").data for p in requises}
        )

    return _enregistrer(
        demande, "pieces", form, "pieces", enregistrement, requises=requises, documents=documents
    )


# --- Récapitulatif, soumission, attestation, retrait ------------------------------------


def _problemes_de_depot(demande) -> list[Probleme]:
    if demande.statut == StatutDemande.brouillon:
        return DEMANDE.problemes(demande, "soumettre", aujourdhui=aujourdhui())
    if demande.statut in (StatutDemande.attente_attestation, StatutDemande.a_completer):
        return [p for p in DEMANDE.problemes(demande, "attester", aujourdhui=aujourdhui(), attestation=True)]
    return []


def recapitulatif(demande, attestation_form=None, problemes=None, code=200):
    peut_attester = qualite_pour(current_user, "attester", demande) is not None
    return render_template(
        "demandes/recapitulatif.html",
        problemes=_problemes_de_depot(demande) if problemes is None else problemes,
        attestation_form=attestation_form or AttestationForm(version=demande.version),
        action_form=ActionSimpleForm(version=demande.version),
        peut_attester=peut_attester,
        erreurs_budget=verifier_budget(demande.lignes_budget),
        complements=_dernier_message_de_complements(demande),
        **_contexte(demande, "recapitulatif"),
    ), code


def _dernier_message_de_complements(demande):
    return db.session.scalar(
        db.select(EvenementJournal)
        .where(
            EvenementJournal.demande_id == demande.id, EvenementJournal.declencheur == "demander_complements"
        )
        .order_by(EvenementJournal.id.desc())
        .limit(1)
    )


def _declencher_ou_expliquer(demande, declencheur, **arguments):
    form = ActionSimpleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        declencher_demande(
            demande.id, declencheur, current_user, version=form.version.data or None, **arguments
        )
    except TransitionRefusee as refus:
        db.session.rollback()
        flash("La demande ne peut pas encore être soumise : corrigez les points ci-dessous.", "erreur")
        return recapitulatif(db.session.get(Demande, demande.id), problemes=refus.problemes, code=422)
    return None


@bp.route("/<int:demande_id>/soumettre", methods=["POST"])
@login_required
def soumettre(demande_id: int):
    demande = _demande_du_membre(demande_id)
    reponse = _declencher_ou_expliquer(demande, "soumettre")
    if reponse is not None:
        return reponse
    flash("Demande soumise : elle attend maintenant l’attestation sur l’honneur d’un signataire.", "succes")
    return redirect(url_for("demandes.etape", demande_id=demande.id, etape="recapitulatif"))


@bp.route("/<int:demande_id>/modifier", methods=["POST"])
@login_required
def modifier(demande_id: int):
    demande = _demande_du_membre(demande_id)
    reponse = _declencher_ou_expliquer(demande, "modifier")
    if reponse is not None:
        return reponse
    flash("La demande est de nouveau en brouillon : vous pouvez la modifier.", "info")
    return redirect(url_for("demandes.etape", demande_id=demande.id, etape="eligibilite"))


@bp.route("/<int:demande_id>/attester", methods=["POST"])
@login_required
def attester(demande_id: int):
    demande = _demande_du_membre(demande_id)
    form = AttestationForm()
    if not form.validate_on_submit():
        return recapitulatif(demande, attestation_form=form, code=422)
    try:
        declencher_demande(
            demande.id,
            "attester",
            current_user,
            version=form.version.data or None,
            attestation=True,
            commentaire=form.commentaire.data,
        )
    except TransitionRefusee as refus:
        db.session.rollback()
        return recapitulatif(
            db.session.get(Demande, demande.id), attestation_form=form, problemes=refus.problemes, code=422
        )
    demande = db.session.get(Demande, demande.id)
    # Sans Redis le récépissé est déjà produit ; sinon une tâche le produit dans les instants qui suivent.
    en_cours = recepisse_en_cours(demande, dernier_recepisse(demande))
    recepisse = "en cours de production" if en_cours else "disponible ci-dessous"
    flash(f"Demande transmise sous le numéro {demande.numero}. Le récépissé est {recepisse}.", "succes")
    return redirect(url_for("dossiers.voir", demande_id=demande.id))


@bp.route("/<int:demande_id>/retirer", methods=["GET", "POST"])
@login_required
def retirer(demande_id: int):
    demande = _demande_du_membre(demande_id)
    form = MotifForm()
    if request.method == "GET":
        form.version.data = demande.version
    if form.validate_on_submit():
        try:
            declencher_demande(
                demande.id,
                "retirer",
                current_user,
                version=form.version.data or None,
                commentaire=form.commentaire.data,
            )
        except TransitionRefusee as refus:
            db.session.rollback()
            for probleme in refus.problemes:
                form.commentaire.errors.append(probleme.message)
        else:
            flash("La demande est retirée ; les financeurs en sont informés.", "succes")
            return redirect(url_for("dossiers.voir", demande_id=demande.id))
    return render_template("demandes/retirer.html", demande=demande, form=form)
