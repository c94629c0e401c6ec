"""Inscription d'une structure par son SIRET, sa fiche, ses membres (invitations, retraits, accès).

Les règles (droits, unicité, concurrence, courriels) sont dans dauphin.services.structures ; ici on lit
le formulaire, on appelle le service, on affiche ou on redirige. Un non-membre reçoit un 404, un membre
qui n'est pas administrateur un 403 sur les actions d'administration.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from dauphin.services import structures as service
from dauphin.services.comptes import email_confirme
from dauphin.services.demandes import campagne_ouverte_existe
from dauphin.vues import exiger, page, traiter_bouton, traiter_formulaire
from forms.champs import options
from forms.structures import (
    CHOIX_ROLES,
    CompteBancaireForm,
    ConfirmationForm,
    DecisionAccesForm,
    DemandeAccesForm,
    InscriptionStructureForm,
    InvitationForm,
    ModifierStructureForm,
    RoleForm,
)
from forms.validators import normaliser_siret

bp = Blueprint("structures", __name__, url_prefix="/structures")

FORMES_JURIDIQUES = options(service.CHOIX_FORMES)


def email_confirme_requis(vue):
    @wraps(vue)
    def verifiee(*args, **kwargs):
        if not email_confirme(current_user):
            flash(
                "Confirmez d’abord votre adresse électronique : ouvrez le lien reçu par courriel, "
                "ou demandez-en un nouveau ci-dessous.",
                "avertissement",
            )
            return redirect(url_for("comptes.renvoyer_confirmation"))
        return vue(*args, **kwargs)

    return verifiee


def _pour_administrateur(structure_id: int):
    """Avant tout écran ou action d'administration : 404 non-membre, 403 membre non administrateur."""
    return service.exiger_administrateur(current_user, structure_id)


def _fiche(structure_id: int, ancre: str | None = None) -> str:
    return url_for("structures.voir", structure_id=structure_id, _anchor=ancre)


def _membre_ou_404(structure, membre_id: int):
    return next((m for m in structure.membres if m.id == membre_id), None) or abort(404)


# --- Mes structures, inscription, demande d'accès -------------------------------------------


@bp.route("/")
@login_required
def mes_structures():
    return render_template(
        "structures/mes_structures.html",
        adhesions=current_user.adhesions_structures,
        demandes=service.mes_demandes_acces(current_user),
        confirme=email_confirme(current_user),
    )


@bp.route("/inscrire", methods=["GET", "POST"])
@login_required
@email_confirme_requis
def inscrire():
    form = InscriptionStructureForm().avec_formes(FORMES_JURIDIQUES)

    def rendre(code: int, _conflit):
        # Le SIRET tapé est celui d'une structure déjà inscrite : la page propose d'en demander l'accès.
        deja_inscrite = (
            service.structure_par_siret(normaliser_siret(form.siret.data or "")) if code != 200 else None
        )
        html = render_template("structures/inscrire.html", form=form, deja_inscrite=deja_inscrite)
        return html, code

    return traiter_formulaire(
        form,
        executer=lambda: service.inscrire_structure(
            current_user, form.donnees_structure(), form.donnees_compte(), form.role_declarant.data
        ),
        rendre=rendre,
        succes=lambda structure: (
            f"La structure « {structure.nom} » est inscrite. Vous en êtes l’administrateur : invitez les "
            "autres personnes qui prépareront ou signeront ses demandes."
        ),
        suite=lambda structure: _fiche(structure.id),
    )


@bp.route("/acces/<siret>", methods=["GET", "POST"])
@login_required
@email_confirme_requis
def demander_acces(siret: str):
    structure = service.structure_par_siret(normaliser_siret(siret)) or abort(404)
    if service.adhesion(current_user, structure.id) is not None:
        flash(f"Vous êtes déjà membre de « {structure.nom} ».", "info")
        return redirect(_fiche(structure.id))
    form = DemandeAccesForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.demander_acces(current_user, structure.siret, form.message.data),
        rendre=page("structures/demander_acces.html", form=form, structure=structure),
        succes=f"Votre demande d’accès à « {structure.nom} » est envoyée à son administrateur. "
        "Vous recevrez sa réponse par courriel.",
        suite=url_for("structures.mes_structures"),
    )


# --- Fiche ----------------------------------------------------------------------------------


@bp.route("/<int:structure_id>")
@login_required
def voir(structure_id: int):
    structure, membre = service.charger_pour_membre(current_user, structure_id)
    administrateur = membre.administrateur
    return render_template(
        "structures/voir.html",
        structure=structure,
        moi=membre,
        membres=service.membres(structure_id),
        comptes=sorted(structure.comptes_bancaires, key=lambda c: (not c.actif, c.id)),
        invitations=service.invitations_en_attente(structure_id) if administrateur else [],
        demandes=service.demandes_acces_en_attente(structure_id) if administrateur else [],
        choix_roles=CHOIX_ROLES,
        depot_possible=campagne_ouverte_existe(),
    )


@bp.route("/<int:structure_id>/modifier", methods=["GET", "POST"])
@login_required
def modifier(structure_id: int):
    structure, _ = _pour_administrateur(structure_id)
    form = ModifierStructureForm(obj=structure if request.method == "GET" else None)
    form.avec_formes(FORMES_JURIDIQUES)
    if request.method == "GET":
        form.empreinte.data = service.empreinte(structure)

    def rendre(code: int, conflit: str | None):
        # La fiche a changé entre-temps (elle est relue) : ses écarts avec la saisie, et son empreinte
        # actuelle pour enregistrer de nouveau en connaissance de cause.
        ecarts = _ecarts(form, structure) if conflit else None
        if conflit:
            form.empreinte.data = service.empreinte(structure)
        html = render_template("structures/modifier.html", form=form, structure=structure, ecarts=ecarts)
        return html, code

    return traiter_formulaire(
        form,
        executer=lambda: service.modifier_structure(
            current_user, structure_id, form.donnees_structure(), form.empreinte.data
        ),
        rendre=rendre,
        succes="La fiche de la structure est enregistrée.",
        suite=_fiche(structure_id),
    )


def _ecarts(form: ModifierStructureForm, structure) -> list[tuple[str, str, str]]:
    """(libellé, votre saisie, valeur enregistrée) des champs qui diffèrent de la version en base."""
    saisies = form.donnees_structure()
    resultat = []
    for champ in service.CHAMPS_FICHE:
        if champ == "siren":
            continue
        saisie, enregistree = saisies[champ], getattr(structure, champ)
        if service._valeur_canonique(saisie) != service._valeur_canonique(enregistree):
            resultat.append((getattr(form, champ).label.text, _afficher(saisie), _afficher(enregistree)))
    return resultat


def _afficher(valeur) -> str:
    if valeur is None or valeur == "":
        return "—"
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    if hasattr(valeur, "libelle"):
        return valeur.libelle
    return str(valeur)


# --- Comptes bancaires ----------------------------------------------------------------------


@bp.route("/<int:structure_id>/comptes-bancaires/ajouter", methods=["GET", "POST"])
@login_required
def ajouter_compte(structure_id: int):
    structure, _ = _pour_administrateur(structure_id)
    form = CompteBancaireForm()
    if request.method == "GET":
        form.titulaire.data = structure.raison_sociale
    return traiter_formulaire(
        form,
        executer=lambda: service.ajouter_compte_bancaire(current_user, structure_id, form.donnees_compte()),
        rendre=page("structures/ajouter_compte.html", form=form, structure=structure),
        succes="Le compte bancaire est ajouté.",
        suite=_fiche(structure_id, "comptes-bancaires"),
    )


@bp.route("/<int:structure_id>/comptes-bancaires/<int:compte_id>/desactiver", methods=["POST"])
@login_required
def desactiver_compte(structure_id: int, compte_id: int):
    _pour_administrateur(structure_id)
    return traiter_bouton(
        ConfirmationForm(),
        executer=lambda: service.desactiver_compte_bancaire(current_user, structure_id, compte_id),
        succes=lambda compte: f"Le compte {compte.iban_masque} est désactivé : il ne sera plus proposé.",
        suite=_fiche(structure_id, "comptes-bancaires"),
    )


# --- Membres, invitations -------------------------------------------------------------------


@bp.route("/<int:structure_id>/inviter", methods=["GET", "POST"])
@login_required
def inviter(structure_id: int):
    structure, _ = _pour_administrateur(structure_id)
    form = InvitationForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.inviter(current_user, structure_id, form.email.data, form.role.data),
        rendre=page("structures/inviter.html", form=form, structure=structure),
        succes=lambda invitation: (
            f"Invitation envoyée à {invitation.email} ({invitation.role.libelle.lower()}). Le lien est "
            "valable 7 jours."
        ),
        suite=_fiche(structure_id, "membres"),
    )


@bp.route("/<int:structure_id>/invitations/<int:invitation_id>/revoquer", methods=["POST"])
@login_required
def revoquer_invitation(structure_id: int, invitation_id: int):
    _pour_administrateur(structure_id)
    return traiter_bouton(
        ConfirmationForm(),
        executer=lambda: service.revoquer_invitation(current_user, structure_id, invitation_id),
        succes=lambda invitation: (
            f"L’invitation de {invitation.email} est annulée : son lien ne fonctionne plus."
        ),
        suite=_fiche(structure_id, "membres"),
    )


@bp.route("/<int:structure_id>/membres/<int:membre_id>/role", methods=["POST"])
@login_required
def changer_role(structure_id: int, membre_id: int):
    _pour_administrateur(structure_id)
    form = RoleForm()
    return traiter_bouton(
        form,
        executer=lambda: service.changer_role(current_user, structure_id, membre_id, form.role.data),
        succes=lambda membre: (
            f"{membre.utilisateur.nom_complet} est désormais {membre.role.libelle.lower()}."
        ),
        suite=_fiche(structure_id, "membres"),
    )


@bp.route("/<int:structure_id>/membres/<int:membre_id>/retirer", methods=["GET", "POST"])
@login_required
def retirer_membre(structure_id: int, membre_id: int):
    structure, moi = service.charger_pour_membre(current_user, structure_id)
    exiger(service.peut_retirer(moi, membre_id))
    membre = _membre_ou_404(structure, membre_id)
    form = ConfirmationForm()
    soi_meme = membre.id == moi.id
    return traiter_formulaire(
        form,
        executer=lambda: service.retirer_membre(current_user, structure_id, membre_id),
        rendre=page("structures/retirer_membre.html", form=form, structure=structure, membre=membre, moi=moi),
        succes=f"Vous avez quitté « {structure.nom} »."
        if soi_meme
        else f"{membre.utilisateur.nom_complet} ne fait plus partie de la structure.",
        suite=url_for("structures.mes_structures") if soi_meme else _fiche(structure_id, "membres"),
    )


@bp.route("/<int:structure_id>/membres/<int:membre_id>/administration", methods=["GET", "POST"])
@login_required
def transmettre_administration(structure_id: int, membre_id: int):
    structure, _ = _pour_administrateur(structure_id)
    membre = _membre_ou_404(structure, membre_id)
    form = ConfirmationForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.transmettre_administration(current_user, structure_id, membre_id),
        rendre=page(
            "structures/transmettre_administration.html", form=form, structure=structure, membre=membre
        ),
        succes=f"{membre.utilisateur.nom_complet} administre désormais la structure.",
        suite=_fiche(structure_id, "membres"),
    )


# --- Demandes d'accès -----------------------------------------------------------------------


@bp.route("/<int:structure_id>/acces/<int:demande_id>", methods=["GET", "POST"])
@login_required
def traiter_acces(structure_id: int, demande_id: int):
    structure, _ = _pour_administrateur(structure_id)
    demande = service.demande_acces(structure_id, demande_id)
    form = DecisionAccesForm()
    accepter = form.decision.data == "accepter"
    nom = demande.utilisateur.nom_complet
    return traiter_formulaire(
        form,
        executer=lambda: service.traiter_demande_acces(
            current_user, structure_id, demande_id, accepter, form.role.data
        ),
        rendre=page("structures/traiter_acces.html", form=form, structure=structure, demande=demande),
        succes=f"{nom} a rejoint la structure."
        if accepter
        else f"La demande de {nom} est refusée ; la personne en est informée par courriel.",
        suite=_fiche(structure_id, "membres"),
    )
