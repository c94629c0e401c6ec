"""Le pilote crée et modifie les campagnes des contrats qu'il pilote.

Vue mince : lire le formulaire, appeler `dauphin.services.campagnes`, afficher ou rediriger. Un refus
(règle métier), une erreur de saisie ou un conflit de version réaffiche tout ce qui a été tapé, le
message à côté du champ concerné.
"""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from dauphin.models import Campagne, TypePiece
from dauphin.pilotage import bp
from dauphin.policies import acteur_de, pilote
from dauphin.services import campagnes as service
from dauphin.vues import exiger, signaler, traiter_formulaire
from forms.campagnes import PIECES_DEPOT, campagne_form


def _types_pieces(campagne: Campagne | None):
    deja = {p.type_piece.value for p in campagne.pieces_requises} if campagne is not None else set()
    return [(t.value, t.libelle) for t in TypePiece if t.value in PIECES_DEPOT or t.value in deja]


def _formulaire(contrat_id: int, campagne: Campagne | None):
    financeurs = service.financeurs_possibles(contrat_id, campagne)
    donnees = request.form if request.method == "POST" else None
    form = campagne_form(_types_pieces(campagne), [(o.id, o.nom) for o in financeurs], donnees)
    form.contrat_id.choices = [
        SelectChoice(c.id, f"{c.libelle} ({c.code})") for c in service.contrats_pilotes(current_user)
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


def _signaler_refus(form, refus: service.CampagneRefusee) -> None:
    """Chaque message à côté de son champ ; une question supprimée revient, cochée, avec son message, que
    la liste porte aussi (le titre et le résumé des erreurs le voient)."""
    for champ, message in refus.problemes:
        libelle = form.libelle_de_question(champ)
        if libelle is None:
            signaler(form, [(champ, message)])
        else:
            libelle.errors = [*libelle.errors, message]
            form.questions.errors = [*form.questions.errors, message]


def _page(contrat_id: int, campagne: Campagne | None):
    form, financeurs = _formulaire(contrat_id, campagne)
    campagne_id = campagne.id if campagne is not None else None
    faite = "modifiée" if campagne is not None else "créée"

    def rendre(code: int, conflit: str | None):
        if not form.is_submitted():  # une saisie renvoyée revient telle quelle, sans question vide de plus
            _lignes_vides(form)
        form.numeroter_questions()
        page = render_template(
            "pilotage/campagne.html",
            form=form,
            campagne=campagne,
            financeurs=financeurs,
            usages=service.usages(campagne_id),
            conflit=conflit,
        )
        return page, code

    if form.is_submitted() and "ajouter_question" in request.form:
        form.questions.append_entry()  # rien n'est enregistré : une ligne de plus, la saisie reste
        return rendre(200, None)
    return traiter_formulaire(
        form,
        executer=lambda: service.enregistrer(current_user, campagne_id, _saisie(form), form.version.data),
        rendre=rendre,
        succes=lambda enregistree: f"Campagne « {enregistree.libelle} » {faite}.",
        suite=lambda enregistree: url_for("pilotage.contrats", _anchor=f"campagne-{enregistree.id}"),
        version=(lambda: campagne.version) if campagne is not None else None,
        perimee=service.MESSAGE_CONFLIT,
        signaler_refus=_signaler_refus,
    )


def _contrats_pilotes_ou_403() -> frozenset[int]:
    contrats = acteur_de(current_user).contrats_pilotes
    exiger(bool(contrats))
    return contrats


@bp.route("/campagnes/nouvelle", methods=["GET", "POST"])
@login_required
def nouvelle_campagne():
    contrats = _contrats_pilotes_ou_403()
    contrat_id = request.args.get("contrat", type=int)
    if contrat_id is None and len(contrats) == 1:
        (contrat_id,) = contrats
    if not pilote(current_user, contrat_id):
        abort(404)
    return _page(contrat_id, None)


@bp.route("/campagnes/<int:campagne_id>/modifier", methods=["GET", "POST"])
@login_required
def modifier_campagne(campagne_id: int):
    _contrats_pilotes_ou_403()
    campagne = service.charger_pour_pilote(current_user, campagne_id)
    return _page(campagne.contrat_id, campagne)
