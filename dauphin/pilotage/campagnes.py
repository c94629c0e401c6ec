"""Le pilote crée et modifie les campagnes des contrats qu'il pilote.

Vue mince : lire le formulaire, appeler `dauphin.services.campagnes`, afficher ou rediriger. Un refus
(règle métier), une erreur de saisie ou un conflit de version réaffiche tout ce qui a été tapé, le
message à côté du champ concerné.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.models import Campagne, TypePiece
from dauphin.pilotage import bp
from dauphin.policies import pilote
from dauphin.services import campagnes as service
from dauphin.services.erreurs import Conflit
from forms.campagnes import PIECES_DEPOT, campagne_form


def _pilote_ou_403():
    if not current_user.pilotages:
        abort(403)


def _types_pieces(campagne: Campagne | None):
    deja = {p.type_piece.value for p in campagne.pieces_requises} if campagne is not None else set()
    return [(t.value, t.libelle) for t in TypePiece if t.value in PIECES_DEPOT or t.value in deja]


def _formulaire(contrat_id: int, campagne: Campagne | None):
    financeurs = service.financeurs_possibles(contrat_id, campagne)
    donnees = request.form if request.method == "POST" else None
    form = campagne_form(_types_pieces(campagne), [(o.id, o.nom) for o in financeurs], donnees)
    form.contrat_id.choices = [
        (c.id, f"{c.libelle} ({c.code})") for c in service.contrats_pilotes(current_user)
    ]
    if donnees is None:
        if campagne is not None:
            _remplir(form, campagne)
        else:
            form.contrat_id.data = contrat_id
            for type_piece in ("statuts", "rib"):
                form.champ_piece(type_piece).data = "obligatoire"
    return form, financeurs


def _remplir(form, campagne: Campagne) -> None:
    form.version.data = campagne.version
    form.contrat_id.data = campagne.contrat_id
    for nom in service.CHAMPS:
        getattr(form, nom).data = getattr(campagne, nom)
    for question in campagne.questions_eligibilite:
        entree = form.questions.append_entry()
        entree.form.id.data = str(question.id)
        entree.form.libelle.data = question.libelle
        entree.form.reponse_attendue.data = "oui" if question.reponse_attendue else "non"
    for piece in campagne.pieces_requises:
        champ = form.champ_piece(piece.type_piece.value)
        if champ is not None:
            champ.data = "obligatoire" if piece.obligatoire else "facultative"
    for enveloppe in campagne.enveloppes:
        champ = form.champ_enveloppe(enveloppe.organisation_id)
        if champ is not None:
            champ.data = enveloppe.montant


def _lignes_vides(form, nombre: int = 2) -> None:
    """Des lignes vides pour de nouvelles questions (sans JavaScript)."""
    vides = sum(1 for e in form.questions.entries if e.form.vide)
    for _ in range(max(0, nombre - vides)):
        if len(form.questions.entries) >= form.questions.max_entries:
            break
        form.questions.append_entry()


def _saisie(form) -> service.SaisieCampagne:
    return service.SaisieCampagne(
        contrat_id=form.contrat_id.data,
        champs={nom: getattr(form, nom).data for nom in service.CHAMPS},
        questions=[
            service.Question(q.question_id, q.libelle.data, q.reponse_attendue.data == "oui")
            for q in form.questions_gardees()
        ],
        pieces={TypePiece(t): obligatoire for t, obligatoire in form.pieces_choisies().items()},
        enveloppes=form.enveloppes_saisies(),
    )


def _appliquer_refus(form, refus: service.CampagneRefusee) -> None:
    """Chaque message à côté de son champ ; une question supprimée revient, cochée, avec son message."""
    for (genre, cle), messages in refus.erreurs.items():
        champ = None
        if genre == "champ":
            champ = getattr(form, cle, None)
        elif genre == "piece":
            champ = form.champ_piece(cle.value)
        elif genre == "enveloppe":
            champ = form.champ_enveloppe(cle)
        elif genre == "question":
            entree = next((e.form for e in form.questions.entries if e.form.question_id == cle), None)
            champ = entree.libelle if entree is not None else None
            if champ is not None:  # la liste porte aussi l'erreur : le titre et le résumé la voient
                form.questions.errors = [*form.questions.errors, *messages]
        if champ is None:
            form.form_errors.extend(messages)
        else:
            champ.errors = [*champ.errors, *messages]


def _page(contrat_id: int, campagne: Campagne | None):
    form, financeurs = _formulaire(contrat_id, campagne)
    utilises = service.usages(campagne.id if campagne is not None else None)
    conflit, code = None, 200
    if form.is_submitted() and "ajouter_question" in request.form:
        form.questions.append_entry()  # rien n'est enregistré : une ligne de plus, la saisie reste
    elif form.validate_on_submit():
        try:
            enregistree = service.enregistrer(
                current_user, campagne.id if campagne else None, _saisie(form), form.version.data
            )
        except service.CampagneRefusee as refus:
            _appliquer_refus(form, refus)
            code = 422
        except Conflit as erreur:
            db.session.expire_all()
            conflit, code = str(erreur), 409
            if campagne is not None:
                form.version.data = db.session.get(Campagne, campagne.id).version
        else:
            flash(
                f"Campagne « {enregistree.libelle} » {'modifiée' if campagne else 'créée'}.",
                "succes",
            )
            return redirect(url_for("pilotage.contrats", _anchor=f"campagne-{enregistree.id}"))
    elif form.is_submitted():
        code = 422
    _lignes_vides(form)
    return (
        render_template(
            "pilotage/campagne.html",
            form=form,
            campagne=campagne,
            financeurs=financeurs,
            usages=utilises,
            conflit=conflit,
        ),
        code,
    )


@bp.route("/campagnes/nouvelle", methods=["GET", "POST"])
@login_required
def nouvelle_campagne():
    _pilote_ou_403()
    contrat_id = request.args.get("contrat", type=int)
    if contrat_id is None and len(current_user.pilotages) == 1:
        contrat_id = current_user.pilotages[0].contrat_id
    if contrat_id is None or not pilote(current_user, contrat_id):
        abort(404)
    return _page(contrat_id, None)


@bp.route("/campagnes/<int:campagne_id>/modifier", methods=["GET", "POST"])
@login_required
def modifier_campagne(campagne_id: int):
    _pilote_ou_403()
    campagne = service.charger_pour_pilote(current_user, campagne_id)
    return _page(campagne.contrat_id, campagne)
