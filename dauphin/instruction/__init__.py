"""Espace des financeurs, partenaires et pilotes : les demandes à instruire et à suivre, les actions
d'instruction sur une ligne ou un dossier, les notes, les enveloppes.

Les vues restent minces : lire la requête, appeler un service (`dauphin.services.instruction` ou le
service des transitions), afficher ou rediriger. Une erreur de saisie ou un conflit de version réaffiche
le formulaire avec tout ce qui a été tapé.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.instruction.actions import (
    ACTIONS_DEMANDE,
    ACTIONS_LIGNE,
    ASSIGNER,
    autorisee,
    formulaire,
    possible,
)
from dauphin.instruction.panneaux import note_form
from dauphin.listes import page_courante
from dauphin.models import Demande, LigneFinancement, Structure
from dauphin.policies import peut_voir_demande
from dauphin.services import comptes_rendus
from dauphin.services import instruction as service
from dauphin.services.erreurs import Conflit
from dauphin.services.workflow import declencher_demande, declencher_ligne
from forms.instruction import FiltresForm
from workflows import StatutDemande, StatutLigne, TransitionRefusee

bp = Blueprint("instruction", __name__, url_prefix="/instruction")


def _espaces_ou_403():
    if not (current_user.adhesions_organisations or current_user.pilotages):
        abort(403)
    return service.espaces(current_user)


# --- Espace de travail ----------------------------------------------------------------------


def _statuts_proposes(espace):
    """(libellé du groupe, [(valeur, libellé)]) pour la liste des statuts."""
    groupes = [
        (
            "Statut du dossier",
            [(s.value, s.libelle) for s in StatutDemande if s not in service.NON_TRANSMIS],
        )
    ]
    if espace.mode == "financeur":
        groupes.append(
            ("Statut de la ligne de votre organisation", [(s.value, s.libelle) for s in StatutLigne])
        )
    return groupes


def _lire_filtres(espace, options) -> tuple[FiltresForm, service.Filtres, str]:
    form = FiltresForm(request.args)
    form.contrat.choices = [("", "Tous les contrats")] + [
        (str(i), libelle) for i, libelle in options.contrats
    ]
    exercices = list(options.exercices)
    demande_exercice = request.args.get("exercice", type=int)
    if demande_exercice and 2000 <= demande_exercice <= 2100 and demande_exercice not in exercices:
        exercices = sorted([*exercices, demande_exercice], reverse=True)  # exercice sans enveloppe : gardé
    form.exercice.choices = [("", "Tous les exercices")] + [(str(a), str(a)) for a in exercices]
    form.thematique.choices = [("", "Toutes les thématiques")] + [
        (t.code, ("\u2003" if t.parent_code else "") + f"{t.code} — {t.libelle}") for t in options.thematiques
    ]
    form.qpv.choices = [("", "Tous les quartiers")] + [
        (str(q.id), f"{q.libelle} ({q.code})") for q in options.qpvs
    ]
    form.validate()
    for champ in (form.q, form.contrat, form.exercice, form.thematique, form.qpv, form.gestionnaire):
        if champ.errors:  # une valeur inconnue (lien ancien, saisie dans l'URL) est ignorée
            champ.data, champ.errors = "", []
    filtres = service.Filtres()
    filtres.contrat_id = int(form.contrat.data) if form.contrat.data else None
    filtres.exercice = int(form.exercice.data) if form.exercice.data else None
    if form.thematique.data:
        code = form.thematique.data
        filtres.thematiques = [t.code for t in options.thematiques if code in (t.code, t.parent_code)]
    filtres.qpv_id = int(form.qpv.data) if form.qpv.data else None
    filtres.recherche = (form.q.data or "").strip() or None
    if service.recherche_courte(filtres.recherche):  # le texte reste dans le champ, avec l'explication
        form.q.errors = [
            f"Saisissez au moins {service.RECHERCHE_MIN} caractères pour chercher dans les numéros, "
            "les intitulés et les noms des structures. Avec moins, seul le sigle exact d’une structure "
            "est cherché."
        ]
    if espace.mode == "financeur" and form.gestionnaire.data == "moi":
        filtres.gestionnaire_id = current_user.id
    statut = request.args.get("statut") or ""
    valeurs = {valeur for _, choix in _statuts_proposes(espace) for valeur, _ in choix}
    if statut not in valeurs:
        statut = ""
    elif statut in StatutDemande.__members__:
        filtres.statut_dossier = StatutDemande(statut)
    else:
        filtres.statut_ligne = StatutLigne(statut)
    filtres.structure_id = request.args.get("structure", type=int)
    return form, filtres, statut


@bp.route("/")
@login_required
def corbeille():
    espaces = _espaces_ou_403()
    if not espaces:
        return render_template("instruction/corbeille.html", espaces=[], espace=None)
    espace = next((e for e in espaces if e.cle == request.args.get("espace")), espaces[0])
    options = service.options_filtres(espace, request.args.get("contrat", type=int))
    form, filtres, statut = _lire_filtres(espace, options)
    structure = db.session.get(Structure, filtres.structure_id) if filtres.structure_id else None
    if filtres.structure_id and structure is None:
        filtres.structure_id = None
    comptes = service.compter_par_onglet(espace, filtres)
    onglet = request.args.get("onglet")
    if onglet not in service.ONGLETS:
        onglet = "a_traiter"
        if filtres.actifs and not comptes[onglet]:  # une recherche mène à l'onglet où sont les résultats
            onglet = next((o for o in service.ONGLETS if comptes[o]), onglet)
    tri = request.args.get("tri") if request.args.get("tri") in service.TRIS else "transmise"
    ordre = "asc" if request.args.get("ordre") == "asc" else "desc"
    page = service.page_demandes(
        espace,
        filtres,
        onglet,
        comptes[onglet],
        tri=tri,
        ordre=ordre,
        page=page_courante(),
        par_page=current_app.config["PAGE_TAILLE"],
    )
    # Structures en retard de compte rendu envers ce financeur : une requête pour toute la page.
    retards = (
        comptes_rendus.retards_envers({espace.organisation_id}, {d.structure_id for d in page.items})
        if espace.mode == "financeur" and page.items
        else {}
    )
    parametres = {k: v for k, v in request.args.items() if v and k not in ("page", "onglet")}
    parametres["espace"] = espace.cle
    return render_template(
        "instruction/corbeille.html",
        espaces=espaces,
        espace=espace,
        form=form,
        statut=statut,
        statuts=_statuts_proposes(espace),
        structure=structure,
        filtres=filtres,
        comptes=comptes,
        onglet=onglet,
        onglets=service.ONGLETS,
        libelles_onglets=service.LIBELLES_ONGLETS[espace.mode],
        aides_onglets=service.AIDES_ONGLETS[espace.mode],
        tri=tri,
        ordre=ordre,
        tris=service.TRIS,
        page=page,
        retards=retards,
        parametres=parametres,
        sans_structure={k: v for k, v in parametres.items() if k != "structure"},
    )


# --- Actions sur une ligne ou un dossier -----------------------------------------------------


def _appliquer_refus(form, refus: TransitionRefusee) -> None:
    for probleme in refus.problemes:
        champ = getattr(form, probleme.champ, None) if probleme.champ else None
        if champ is not None and hasattr(champ, "errors") and not isinstance(champ.errors, dict):
            champ.errors = [*champ.errors, probleme.message]
        else:
            form.form_errors.append(probleme.message)


def _executer(action, demande: Demande, ligne: LigneFinancement | None, form) -> None:
    version = form.version.data or None
    commentaire = form.commentaire.data if hasattr(form, "commentaire") else None
    if action.declencheur == ASSIGNER:
        service.assigner_gestionnaire(
            ligne.id, form.gestionnaire_id.data or None, current_user, version=version
        )
    elif ligne is not None:
        arguments = {"montant": form.montant.data} if hasattr(form, "montant") else {}
        declencher_ligne(
            ligne.id, action.declencheur, current_user, version=version, commentaire=commentaire, **arguments
        )
    else:
        declencher_demande(
            demande.id, action.declencheur, current_user, version=version, commentaire=commentaire
        )


def _page_action(action, demande: Demande, ligne: LigneFinancement | None):
    """GET : le formulaire de l'action ; POST : l'action, puis retour au dossier — ou le formulaire
    réaffiché avec ses erreurs (saisie conservée), ou le conflit avec l'état actuel du dossier."""
    if not autorisee(action, current_user, demande, ligne):
        abort(403)
    objet = ligne if ligne is not None else demande
    equipe = (
        service.instructeurs([ligne.organisation_id])[ligne.organisation_id]
        if action.declencheur == ASSIGNER
        else None
    )
    form = formulaire(action, objet.id, objet.version, equipe)
    if action.declencheur == ASSIGNER and not form.is_submitted():
        form.gestionnaire_id.data = ligne.gestionnaire_id or 0
    conflit, code = None, 200
    valide = form.validate_on_submit()
    if form.is_submitted() and str(form.version.data or "") not in ("", str(objet.version)):
        # Page périmée : quelqu'un a agi depuis. Rien n'est tenté ; la saisie reste, avec l'état actuel.
        conflit, code = str(Conflit()), 409
        form.version.data = objet.version
    elif form.is_submitted() and not possible(action, demande, ligne):
        statut = (ligne or demande).statut.libelle
        conflit, code = f"Cette action n’est plus possible : le statut est désormais « {statut} ».", 409
    elif form.is_submitted() and not valide:
        code = 422
    elif valide:
        try:
            _executer(action, demande, ligne, form)
        except TransitionRefusee as refus:
            db.session.rollback()
            _appliquer_refus(form, refus)
            code = 422
        except service.GestionnaireInvalide as erreur:
            form.gestionnaire_id.errors = [str(erreur)]
            code = 422
        except Conflit as erreur:
            # Rien n'a été écrit. On montre l'état actuel ; la saisie reste dans le formulaire, avec la
            # version actuelle : l'usager décide, en connaissance de cause, de valider de nouveau ou non.
            db.session.expire_all()
            conflit, code = str(erreur), 409
            form.version.data = objet.version
        else:
            flash(action.succes, "succes")
            ancre = f"ligne-{ligne.id}" if ligne is not None else "instruction"
            return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor=ancre))
    return (
        render_template(
            "instruction/action.html",
            action=action,
            demande=demande,
            ligne=ligne,
            form=form,
            conflit=conflit,
            possible=possible(action, demande, ligne),
        ),
        code,
    )


@bp.route("/lignes/<int:ligne_id>/<action>", methods=["GET", "POST"])
@login_required
def action_ligne(ligne_id: int, action: str):
    definition = ACTIONS_LIGNE.get(action)
    ligne = db.session.get(LigneFinancement, ligne_id)
    if definition is None or ligne is None or not peut_voir_demande(current_user, ligne.demande):
        abort(404)
    return _page_action(definition, ligne.demande, ligne)


@bp.route("/dossiers/<int:demande_id>/<action>", methods=["GET", "POST"])
@login_required
def action_dossier(demande_id: int, action: str):
    definition = ACTIONS_DEMANDE.get(action)
    demande = db.session.get(Demande, demande_id)
    if definition is None or demande is None or not peut_voir_demande(current_user, demande):
        abort(404)
    return _page_action(definition, demande, None)


# --- Notes ------------------------------------------------------------------------------------


@bp.route("/dossiers/<int:demande_id>/notes", methods=["GET", "POST"])
@login_required
def ajouter_note(demande_id: int):
    demande = db.session.get(Demande, demande_id)
    if demande is None or not peut_voir_demande(current_user, demande):
        abort(404)
    organisations = service.organisations_pour_notes(current_user, demande)
    if not organisations:
        abort(403)  # le porteur n'écrit ni ne lit de notes d'instruction
    form = note_form(organisations)
    code = 200
    if form.validate_on_submit():
        service.ajouter_note(
            demande.id,
            current_user,
            form.organisation_id.data,
            form.texte.data,
            partagee=form.visibilite.data == "partagee",
        )
        flash(
            "Note partagée avec les partenaires du contrat."
            if form.visibilite.data == "partagee"
            else "Note privée enregistrée : seule votre organisation la lit.",
            "succes",
        )
        return redirect(url_for("dossiers.voir", demande_id=demande.id, _anchor="notes"))
    if form.is_submitted():
        code = 422
    return render_template("instruction/note.html", demande=demande, form=form), code


# --- Enveloppes -------------------------------------------------------------------------------


@bp.route("/enveloppes")
@login_required
def enveloppes():
    _espaces_ou_403()
    exercices, contrats = service.options_enveloppes(current_user)
    # Par défaut l'exercice le plus récent ; « tous » les montre tous.
    exercice = request.args.get("exercice", type=int)
    if exercice not in exercices:
        exercice = None if request.args.get("exercice") == "tous" or not exercices else exercices[0]
    contrat_id = request.args.get("contrat", type=int)
    contrat_id = contrat_id if contrat_id in {c[0] for c in contrats} else None
    lignes = service.enveloppes(current_user, exercice, contrat_id)
    return render_template(
        "instruction/enveloppes.html",
        lignes=lignes,
        exercices=exercices,
        contrats=contrats,
        exercice=exercice,
        contrat_id=contrat_id,
    )
