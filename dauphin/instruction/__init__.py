"""Espace des financeurs, partenaires et pilotes : les demandes à instruire et à suivre, les actions
d'instruction sur une ligne ou un dossier, les notes, les enveloppes.

Les vues restent minces : lire la requête, appeler un service (`dauphin.services.instruction` ou le
service des transitions), afficher ou rediriger. Une erreur de saisie ou un conflit de version réaffiche
le formulaire avec tout ce qui a été tapé.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.extensions import db
from dauphin.instruction import filtres as filtres_de_la_page
from dauphin.instruction.actions import (
    ACTIONS_DEMANDE,
    ACTIONS_LIGNE,
    ASSIGNER,
    autorisee,
    formulaire,
    possible,
)
from dauphin.instruction.panneaux import note_form
from dauphin.instruction.tableau import entetes_de_tri, lignes_du_tableau
from dauphin.listes import page_courante
from dauphin.models import Demande, LigneFinancement, Structure
from dauphin.services import instruction as service
from dauphin.services.workflow import declencher_demande, declencher_ligne
from dauphin.urls import parametres_de_lien, url_par_textes
from dauphin.vues import demande_visible, exiger, ligne_visible, traiter_formulaire

bp = Blueprint("instruction", __name__, url_prefix="/instruction")


def _espaces_ou_403():
    if not (current_user.adhesions_organisations or current_user.pilotages):
        abort(403)
    return service.espaces(current_user)


# --- Espace de travail ----------------------------------------------------------------------


def _onglet(comptes: dict[str, int], filtres: service.Filtres) -> str:
    onglet = request.args.get("onglet")
    if onglet in service.ONGLETS:
        return onglet
    if filtres.actifs and not comptes["a_traiter"]:  # une recherche mène à l'onglet où sont les résultats
        return next((o for o in service.ONGLETS if comptes[o]), "a_traiter")
    return "a_traiter"


def _page_de_la_liste(
    espace, filtres: service.Filtres, onglet: str, comptes: service.ComptesOnglets, parametres: dict
) -> dict:
    """La page de l'onglet, triée, et ce que la page en montre de plus (retards de compte rendu) ; ses lignes
    et les en-têtes de tri du tableau, écrits en Python (instruction/tableau.py)."""
    # Une recherche se lit par pertinence, sauf tri choisi ; sans recherche, par date de transmission.
    tri = request.args.get("tri") if request.args.get("tri") in service.TRIS else None
    if tri is None or (tri == "pertinence" and not filtres.recherche):
        tri = "pertinence" if filtres.recherche else "transmise"
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
        curseur=request.args.get("curseur"),
        plafonne=onglet in comptes.plafonnes,
    )
    # Structures en retard de compte rendu envers ce financeur : lues avec la page (`page.retards`).
    if not page.items:
        return {"page": page, "tri": tri, "ordre": ordre, "lignes": None}
    return {
        "page": page,
        "tri": tri,
        "ordre": ordre,
        "lignes": lignes_du_tableau(page, espace, page.retards, parametres),
        "entetes": entetes_de_tri(parametres, onglet, tri, ordre),
    }


def _parametres(espace) -> dict[str, str]:
    """Les paramètres de la page à garder dans les liens des onglets, du tri et de la pagination."""
    parametres = {k: v for k, v in request.args.items() if v}
    parametres = parametres_de_lien(parametres, "page", "onglet", "curseur")
    parametres["espace"] = espace.cle
    return parametres


@bp.route("/")
@login_required
def corbeille():
    espaces = _espaces_ou_403()
    if not espaces:
        return render_template("instruction/corbeille.html", espaces=[], espace=None)
    espace = next((e for e in espaces if e.cle == request.args.get("espace")), espaces[0])
    options = service.options_filtres(espace, request.args.get("contrat", type=int))
    lus = filtres_de_la_page.lire(request.args, espace, options, current_user.id)
    filtres = lus.filtres
    structure = db.session.get(Structure, filtres.structure_id) if filtres.structure_id else None
    if structure is None:
        filtres.structure_id = None
    comptes = service.compter_par_onglet(espace, filtres)
    onglet = _onglet(comptes, filtres)
    parametres = _parametres(espace)
    return render_template(
        "instruction/corbeille.html",
        espaces=espaces,
        espace=espace,
        form=lus.form,
        statut=lus.statut,
        statuts=filtres_de_la_page.statuts_proposes(espace),
        structure=structure,
        filtres=filtres,
        comptes=comptes,
        onglet=onglet,
        onglets=service.ONGLETS,
        libelles_onglets=service.LIBELLES_ONGLETS[espace.mode],
        aides_onglets=service.AIDES_ONGLETS[espace.mode],
        tris=service.TRIS,
        parametres=parametres,
        sans_structure={k: v for k, v in parametres.items() if k != "structure"},
        adresse_d_onglet=url_par_textes("instruction.corbeille", ("onglet",), **parametres),
        **_page_de_la_liste(espace, filtres, onglet, comptes, parametres),
    )


# --- Actions sur une ligne ou un dossier -----------------------------------------------------


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
    exiger(autorisee(action, current_user, demande, ligne))
    objet = ligne if ligne is not None else demande
    equipe = (
        service.instructeurs([ligne.organisation_id])[ligne.organisation_id]
        if action.declencheur == ASSIGNER
        else None
    )
    form = formulaire(action, objet.id, objet.version, equipe)
    if action.declencheur == ASSIGNER and not form.is_submitted():
        form.gestionnaire_id.data = ligne.gestionnaire_id or 0

    def rendre(code: int, conflit: str | None):
        page = render_template(
            "instruction/action.html",
            action=action,
            demande=demande,
            ligne=ligne,
            form=form,
            conflit=conflit,
            possible=possible(action, demande, ligne),
        )
        return page, code

    def impossible() -> str | None:
        if possible(action, demande, ligne):
            return None
        return f"Cette action n’est plus possible : le statut est désormais « {objet.statut.libelle} »."

    return traiter_formulaire(
        form,
        executer=lambda: _executer(action, demande, ligne, form),
        rendre=rendre,
        succes=action.succes,
        suite=url_for(
            "dossiers.voir",
            demande_id=demande.id,
            _anchor=f"ligne-{ligne.id}" if ligne is not None else "instruction",
        ),
        version=lambda: objet.version,
        impossible=impossible,
    )


@bp.route("/lignes/<int:ligne_id>/<action>", methods=["GET", "POST"])
@login_required
def action_ligne(ligne_id: int, action: str):
    definition = ACTIONS_LIGNE.get(action) or abort(404)
    ligne = ligne_visible(ligne_id)
    return _page_action(definition, ligne.demande, ligne)


@bp.route("/dossiers/<int:demande_id>/<action>", methods=["GET", "POST"])
@login_required
def action_dossier(demande_id: int, action: str):
    definition = ACTIONS_DEMANDE.get(action) or abort(404)
    demande = demande_visible(demande_id)
    return _page_action(definition, demande, None)


# --- Notes ------------------------------------------------------------------------------------


@bp.route("/dossiers/<int:demande_id>/notes", methods=["GET", "POST"])
@login_required
def ajouter_note(demande_id: int):
    demande = demande_visible(demande_id)
    organisations = service.organisations_pour_notes(current_user, demande)
    exiger(bool(organisations))  # le porteur n'écrit ni ne lit de notes d'instruction
    form = note_form(organisations)
    partagee = form.visibilite.data == "partagee"
    return traiter_formulaire(
        form,
        executer=lambda: service.ajouter_note(
            demande.id, current_user, form.organisation_id.data, form.texte.data, partagee=partagee
        ),
        rendre=lambda code, _: (render_template("instruction/note.html", demande=demande, form=form), code),
        succes="Note partagée avec les partenaires du contrat."
        if partagee
        else "Note privée enregistrée : seule votre organisation la lit.",
        suite=url_for("dossiers.voir", demande_id=demande.id, _anchor="notes"),
    )


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
