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
from dauphin.services.erreurs import Conflit
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
    """Pour l'affichage d'un écran d'administration : 404 non-membre, 403 membre non administrateur."""
    return service.exiger_administrateur(current_user, structure_id)


def _vers_fiche(structure_id: int, ancre: str | None = None):
    return redirect(url_for("structures.voir", structure_id=structure_id, _anchor=ancre))


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
    form = InscriptionStructureForm().avec_formes(service.CHOIX_FORMES)
    deja_inscrite = None
    if form.validate_on_submit():
        try:
            structure = service.inscrire_structure(
                current_user, form.donnees_structure(), form.donnees_compte(), form.role_declarant.data
            )
        except service.SiretDejaInscrit as erreur:
            deja_inscrite = erreur
            form.siret.errors = [*form.siret.errors, "Ce numéro SIRET est déjà inscrit sur Dauphin."]
        else:
            flash(
                f"La structure « {structure.nom} » est inscrite. Vous en êtes l’administrateur : invitez les "
                "autres personnes qui prépareront ou signeront ses demandes.",
                "succes",
            )
            return _vers_fiche(structure.id)
    statut = 409 if deja_inscrite else 200
    return render_template("structures/inscrire.html", form=form, deja_inscrite=deja_inscrite), statut


@bp.route("/acces/<siret>", methods=["GET", "POST"])
@login_required
@email_confirme_requis
def demander_acces(siret: str):
    structure = service.structure_par_siret(normaliser_siret(siret))
    if structure is None:
        abort(404)
    if service.adhesion(current_user, structure.id) is not None:
        flash(f"Vous êtes déjà membre de « {structure.nom} ».", "info")
        return _vers_fiche(structure.id)
    form = DemandeAccesForm()
    if form.validate_on_submit():
        try:
            service.demander_acces(current_user, structure.siret, form.message.data)
        except service.Refus as erreur:
            flash(str(erreur), "info")
        else:
            flash(
                f"Votre demande d’accès à « {structure.nom} » est envoyée à son administrateur. "
                "Vous recevrez sa réponse par courriel.",
                "succes",
            )
        return redirect(url_for("structures.mes_structures"))
    return render_template("structures/demander_acces.html", form=form, structure=structure)


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
    )


@bp.route("/<int:structure_id>/modifier", methods=["GET", "POST"])
@login_required
def modifier(structure_id: int):
    structure, _ = _pour_administrateur(structure_id)
    form = ModifierStructureForm(obj=structure if request.method == "GET" else None)
    form.avec_formes(service.CHOIX_FORMES)
    if request.method == "GET":
        form.empreinte.data = service.empreinte(structure)
    ecarts = None
    statut = 200
    if form.validate_on_submit():
        try:
            service.modifier_structure(
                current_user, structure_id, form.donnees_structure(), form.empreinte.data
            )
        except Conflit as erreur:
            flash(str(erreur), "erreur")
            actuelle, _ = service.charger_pour_membre(current_user, structure_id)
            ecarts = _ecarts(form, actuelle)
            form.empreinte.data = service.empreinte(
                actuelle
            )  # enregistrer de nouveau, en connaissance de cause
            statut = 409
        except service.Refus as erreur:
            form.siret.errors = [*form.siret.errors, str(erreur)]
        else:
            flash("La fiche de la structure est enregistrée.", "succes")
            return _vers_fiche(structure_id)
    return render_template("structures/modifier.html", form=form, structure=structure, ecarts=ecarts), statut


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
    if form.validate_on_submit():
        try:
            service.ajouter_compte_bancaire(current_user, structure_id, form.donnees_compte())
        except service.Refus as erreur:
            form.iban.errors = [*form.iban.errors, str(erreur)]
        else:
            flash("Le compte bancaire est ajouté.", "succes")
            return _vers_fiche(structure_id, "comptes-bancaires")
    return render_template("structures/ajouter_compte.html", form=form, structure=structure)


@bp.route("/<int:structure_id>/comptes-bancaires/<int:compte_id>/desactiver", methods=["POST"])
@login_required
def desactiver_compte(structure_id: int, compte_id: int):
    if ConfirmationForm().validate_on_submit():
        try:
            compte = service.desactiver_compte_bancaire(current_user, structure_id, compte_id)
        except service.Refus as erreur:
            flash(str(erreur), "erreur")
        else:
            flash(f"Le compte {compte.iban_masque} est désactivé : il ne sera plus proposé.", "succes")
    return _vers_fiche(structure_id, "comptes-bancaires")


# --- Membres, invitations -------------------------------------------------------------------


@bp.route("/<int:structure_id>/inviter", methods=["GET", "POST"])
@login_required
def inviter(structure_id: int):
    structure, _ = _pour_administrateur(structure_id)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation = service.inviter(current_user, structure_id, form.email.data, form.role.data)
        except service.Refus as erreur:
            form.email.errors = [*form.email.errors, str(erreur)]
        else:
            flash(
                f"Invitation envoyée à {invitation.email} ({invitation.role.libelle.lower()}). Le lien est "
                "valable 7 jours.",
                "succes",
            )
            return _vers_fiche(structure_id, "membres")
    return render_template("structures/inviter.html", form=form, structure=structure)


@bp.route("/<int:structure_id>/invitations/<int:invitation_id>/revoquer", methods=["POST"])
@login_required
def revoquer_invitation(structure_id: int, invitation_id: int):
    if ConfirmationForm().validate_on_submit():
        try:
            invitation = service.revoquer_invitation(current_user, structure_id, invitation_id)
        except service.Refus as erreur:
            flash(str(erreur), "erreur")
        else:
            flash(f"L’invitation de {invitation.email} est annulée : son lien ne fonctionne plus.", "succes")
    return _vers_fiche(structure_id, "membres")


@bp.route("/<int:structure_id>/membres/<int:membre_id>/role", methods=["POST"])
@login_required
def changer_role(structure_id: int, membre_id: int):
    form = RoleForm()
    if form.validate_on_submit():
        membre = service.changer_role(current_user, structure_id, membre_id, form.role.data)
        flash(f"{membre.utilisateur.nom_complet} est désormais {membre.role.libelle.lower()}.", "succes")
    else:
        service.exiger_administrateur(current_user, structure_id)  # 404 / 403 avant tout message
        flash("Choisissez un rôle : signataire ou contributeur.", "erreur")
    return _vers_fiche(structure_id, "membres")


@bp.route("/<int:structure_id>/membres/<int:membre_id>/retirer", methods=["GET", "POST"])
@login_required
def retirer_membre(structure_id: int, membre_id: int):
    structure, moi = service.charger_pour_membre(current_user, structure_id)
    if membre_id != moi.id and not moi.administrateur:
        abort(403)
    membre = next((m for m in structure.membres if m.id == membre_id), None)
    if membre is None:
        abort(404)
    form = ConfirmationForm()
    if form.validate_on_submit():
        try:
            service.retirer_membre(current_user, structure_id, membre_id)
        except service.Refus as erreur:
            flash(str(erreur), "erreur")
            return _vers_fiche(structure_id, "membres")
        if membre_id == moi.id:
            flash(f"Vous avez quitté « {structure.nom} ».", "succes")
            return redirect(url_for("structures.mes_structures"))
        flash(f"{membre.utilisateur.nom_complet} ne fait plus partie de la structure.", "succes")
        return _vers_fiche(structure_id, "membres")
    return render_template(
        "structures/retirer_membre.html", form=form, structure=structure, membre=membre, moi=moi
    )


@bp.route("/<int:structure_id>/membres/<int:membre_id>/administration", methods=["GET", "POST"])
@login_required
def transmettre_administration(structure_id: int, membre_id: int):
    structure, moi = _pour_administrateur(structure_id)
    membre = next((m for m in structure.membres if m.id == membre_id), None)
    if membre is None:
        abort(404)
    form = ConfirmationForm()
    if form.validate_on_submit():
        try:
            service.transmettre_administration(current_user, structure_id, membre_id)
        except service.Refus as erreur:
            flash(str(erreur), "erreur")
        else:
            flash(f"{membre.utilisateur.nom_complet} administre désormais la structure.", "succes")
        return _vers_fiche(structure_id, "membres")
    return render_template(
        "structures/transmettre_administration.html", form=form, structure=structure, membre=membre
    )


# --- Demandes d'accès -----------------------------------------------------------------------


@bp.route("/<int:structure_id>/acces/<int:demande_id>", methods=["GET", "POST"])
@login_required
def traiter_acces(structure_id: int, demande_id: int):
    structure, _ = _pour_administrateur(structure_id)
    demande = service.demande_acces(structure_id, demande_id)
    form = DecisionAccesForm()
    if form.validate_on_submit():
        accepter = form.decision.data == "accepter"
        try:
            service.traiter_demande_acces(current_user, structure_id, demande_id, accepter, form.role.data)
        except service.Refus as erreur:
            flash(str(erreur), "info")
        else:
            nom = demande.utilisateur.nom_complet
            flash(
                f"{nom} a rejoint la structure."
                if accepter
                else f"La demande de {nom} est refusée ; la personne en est informée par courriel.",
                "succes",
            )
        return _vers_fiche(structure_id, "membres")
    return render_template("structures/traiter_acces.html", form=form, structure=structure, demande=demande)
