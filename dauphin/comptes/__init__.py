"""Création de compte, confirmation de l'adresse électronique, acceptation des invitations ; « Mon compte »
(sessions ouvertes, double authentification), mot de passe oublié (lien de réinitialisation) et changement du
mot de passe.

Le jeton d'une invitation ouverte sans être connecté est gardé en session : après connexion (retour par
`next`) ou création de compte, la personne revient à l'invitation et rejoint la structure.
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from dauphin.auth import CLE_SECRET, montrer_codes, ouvrir_session, page_activation
from dauphin.extensions import limiter
from dauphin.services import comptes as service
from dauphin.services import second_facteur, sessions
from dauphin.vues import page, traiter_bouton, traiter_formulaire
from forms.auth import ActivationSecondFacteurForm, ConfirmationIdentiteForm
from forms.champs import ConfirmationForm
from forms.comptes import (
    ChangementMotDePasseForm,
    ConfirmerForm,
    InscriptionForm,
    MotDePasseOublieForm,
    ReinitialisationForm,
    RenvoiConfirmationForm,
)

bp = Blueprint("comptes", __name__, url_prefix="/compte")

CLE_INVITATION = "dauphin.invitation"
CLE_EMAIL_INSCRIT = "dauphin.inscription_email"
CLE_EMAIL_REINITIALISATION = "dauphin.reinitialisation_email"


def _courriel_envoye(reponse) -> bool:
    """Seuls les envois qui écrivent un courriel (redirection) comptent dans les limites."""
    return reponse.status_code == 302


def _email_saisi() -> str:
    return service.normaliser_email(request.form.get("email") or "")[:254]


# Contre l'envoi en masse de courriels : par adresse d'origine, et par adresse destinataire
LIMITE_PAR_ORIGINE = "20 per hour"
LIMITE_PAR_DESTINATAIRE = "5 per hour"


def _route_qui_ecrit(regle: str):
    """La route d'une page qui écrit à l'adresse saisie (inscription, renvoi de la confirmation, mot de passe
    oublié), avec les deux limites contre l'envoi en masse."""

    def decorer(vue):
        par_destinataire = limiter.limit(
            LIMITE_PAR_DESTINATAIRE, methods=["POST"], key_func=_email_saisi, deduct_when=_courriel_envoye
        )
        par_origine = limiter.limit(LIMITE_PAR_ORIGINE, methods=["POST"], deduct_when=_courriel_envoye)
        return bp.route(regle, methods=["GET", "POST"])(par_origine(par_destinataire(vue)))

    return decorer


def _invitation_en_cours():
    """L'invitation gardée en session si elle est encore valable (sinon elle est oubliée)."""
    jeton = session.get(CLE_INVITATION)
    if not jeton:
        return None, None
    try:
        return jeton, service.lire_invitation(jeton)
    except service.LienInvalide:
        session.pop(CLE_INVITATION, None)
        return None, None


@_route_qui_ecrit("/inscription")
def inscription():
    if current_user.is_authenticated:
        return redirect(url_for("structures.mes_structures"))
    jeton, invitation = _invitation_en_cours()
    form = InscriptionForm()
    if request.method == "GET" and invitation is not None:
        form.email.data = invitation.email

    def creer():
        resultat = service.creer_compte(
            form.prenom.data, form.nom.data, form.email.data, form.mot_de_passe.data, jeton_invitation=jeton
        )
        if resultat.utilisateur is None:  # la même suite que l'adresse soit connue ou non
            _retenir_adresse(CLE_EMAIL_INSCRIT, form.email.data)
            return None
        # Créé par une invitation, le compte est confirmé et rattaché : la session s'ouvre.
        session.pop(CLE_INVITATION, None)
        ouvrir_session(resultat.utilisateur)
        return resultat.membre

    return traiter_formulaire(
        form,
        executer=creer,
        rendre=page("comptes/inscription.html", form=form, invitation=invitation),
        succes=lambda membre: _rejoint(membre, "Votre compte est créé et vous avez rejoint"),
        suite=_apres_inscription,
    )


def _apres_inscription(membre) -> str:
    """Rattaché par une invitation : la structure rejointe ; sinon la page « courriel envoyé »."""
    if membre is None:
        return url_for("comptes.inscription_envoyee")
    return url_for("structures.voir", structure_id=membre.structure_id)


@bp.route("/inscription/courriel-envoye")
def inscription_envoyee():
    # Une invitation en cours : le lien de connexion y ramène (utile si l'adresse avait déjà un compte,
    # ce que la page ne dit pas).
    jeton, invitation = _invitation_en_cours()
    return render_template(
        "comptes/inscription_envoyee.html",
        email=session.get(CLE_EMAIL_INSCRIT),
        heures=int(service.DUREE_CONFIRMATION.total_seconds() // 3600),
        invitation=invitation,
        suite=url_for("comptes.invitation", jeton=jeton) if invitation else None,
    )


@bp.route("/confirmation/<jeton>")
def confirmer(jeton: str):
    try:
        utilisateur = service.confirmer_email(jeton)
    except service.LienInvalide as erreur:
        form = RenvoiConfirmationForm(formdata=None, email=erreur.email)
        return (
            render_template("comptes/lien_invalide.html", erreur=erreur, form=form),
            410 if erreur.motif == "expire" else 404,
        )
    _, invitation = _invitation_en_cours()
    suite = url_for("comptes.invitation", jeton=session[CLE_INVITATION]) if invitation else None
    return render_template(
        "comptes/confirmation.html", utilisateur=utilisateur, invitation=invitation, suite=suite
    )


@_route_qui_ecrit("/confirmation/renvoyer")
def renvoyer_confirmation():
    return _ecrire_a_l_adresse_saisie(
        RenvoiConfirmationForm(),
        "comptes/renvoyer_confirmation.html",
        envoyer=service.renvoyer_confirmation,
        cle=CLE_EMAIL_INSCRIT,
        suite=url_for("comptes.inscription_envoyee"),
    )


@bp.route("/invitation/<jeton>", methods=["GET", "POST"])
def invitation(jeton: str):
    try:
        invitation = service.lire_invitation(jeton)
    except service.LienInvalide as erreur:
        if session.get(CLE_INVITATION) == jeton:
            session.pop(CLE_INVITATION, None)
        return (
            render_template("comptes/invitation_invalide.html", erreur=erreur),
            404 if erreur.motif == "altere" else 410,
        )
    if not current_user.is_authenticated:
        session[CLE_INVITATION] = jeton
        return render_template(
            "comptes/invitation.html",
            invitation=invitation,
            lien_connexion=url_for("auth.connexion", next=url_for("comptes.invitation", jeton=jeton)),
        )
    if current_user.email != invitation.email:
        return render_template("comptes/invitation.html", invitation=invitation, autre_compte=True), 403
    form = ConfirmerForm()

    def rejoindre():
        membre = service.accepter_invitation(current_user, jeton)
        session.pop(CLE_INVITATION, None)
        return membre

    try:
        return traiter_formulaire(
            form,
            executer=rejoindre,
            rendre=page("comptes/invitation.html", invitation=invitation, form=form),
            succes=lambda membre: _rejoint(membre, "Vous avez rejoint"),
            suite=lambda membre: url_for("structures.voir", structure_id=membre.structure_id),
        )
    except service.LienInvalide as erreur:  # utilisée ou annulée entre-temps : la page le dit
        flash(str(erreur), "erreur")
        return redirect(url_for("comptes.invitation", jeton=jeton))


def _rejoint(membre, debut: str) -> str | None:
    if membre is None:
        return None
    return f"{debut} « {membre.structure.nom} » en tant que {membre.role.libelle.lower()}."


def _retenir_adresse(cle: str, email: str) -> None:
    """L'adresse à laquelle un lien vient d'être envoyé, pour que la page suivante la rappelle."""
    session[cle] = service.normaliser_email(email)


def _ecrire_a_l_adresse_saisie(form, gabarit: str, *, envoyer, cle: str, suite: str, **contexte):
    """La page `gabarit` d'un lien à envoyer à l'adresse saisie (celle du compte connecté, proposée) :
    `envoyer(email)`, puis l'adresse retenue sous `cle` pour la page « courriel envoyé » (`suite`)."""
    if request.method == "GET" and current_user.is_authenticated:
        form.email.data = current_user.email

    def executer():
        envoyer(form.email.data)
        _retenir_adresse(cle, form.email.data)

    return traiter_formulaire(
        form, executer=executer, rendre=page(gabarit, form=form, **contexte), suite=suite
    )


# --- Mon compte, mot de passe ------------------------------------------------------------------


@bp.route("/")
@login_required
def mon_compte():
    return render_template(
        "comptes/mon_compte.html",
        activite=service.activite_recente(current_user),
        utilisateur=current_user,
        sessions_ouvertes=sessions.ouvertes(current_user),
        courante=current_user.session_courante,
        second_facteur_exige=second_facteur.exige(current_user),
        action=ConfirmationForm(formdata=None),
    )


# --- Mes sessions --------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/fermer", methods=["POST"])
@login_required
def fermer_session(session_id: int):
    return traiter_bouton(
        ConfirmationForm(),
        executer=lambda: sessions.fermer(current_user, session_id, request.remote_addr),
        succes=lambda fermee: f"La session « {fermee.appareil} » est fermée.",
        suite=url_for("comptes.mon_compte", _anchor="sessions"),
    )


@bp.route("/sessions/fermer-les-autres", methods=["POST"])
@login_required
def fermer_les_autres_sessions():
    def message(nombre: int) -> str:
        if nombre == 0:
            return "Aucune autre session n’était ouverte."
        return "1 autre session fermée." if nombre == 1 else f"{nombre} autres sessions fermées."

    return traiter_bouton(
        ConfirmationForm(),
        executer=lambda: sessions.fermer_les_autres(current_user, request.remote_addr),
        succes=message,
        suite=url_for("comptes.mon_compte", _anchor="sessions"),
    )


# --- Double authentification ----------------------------------------------------------------------


def _compte_courant():
    return current_user._get_current_object()


# Un code deviné depuis une session laissée ouverte : limité comme le second temps de la connexion.
_LIMITE_CODES = limiter.limit(
    "6 per 15 minutes",
    methods=["POST"],
    key_func=lambda: f"compte-code-{getattr(current_user, 'id', None)}",
    deduct_when=lambda reponse: reponse.status_code not in (200, 302),
)


def _page_double_authentification(code: int = 200, desactivation=None, renouvellement=None):
    html = render_template(
        "comptes/double_authentification.html",
        utilisateur=current_user,
        exige=second_facteur.exige(current_user),
        restants=second_facteur.codes_restants(current_user),
        desactivation=desactivation or ConfirmationIdentiteForm(prefix="desactivation", formdata=None),
        renouvellement=renouvellement or ConfirmationIdentiteForm(prefix="codes", formdata=None),
        form_has_errors=code >= 400,
    )
    return html, code


@bp.route("/double-authentification")
@login_required
def double_authentification():
    return _page_double_authentification()


@bp.route("/double-authentification/activer", methods=["GET", "POST"])
@login_required
@_LIMITE_CODES
def activer_second_facteur():
    if current_user.second_facteur_actif:
        return redirect(url_for("comptes.double_authentification"))
    form = ActivationSecondFacteurForm()
    compte = _compte_courant()
    secret, rendre = page_activation(
        compte, form, obligatoire=False, annuler=url_for("comptes.double_authentification")
    )

    def activer():
        codes = second_facteur.activer(compte.id, secret, form.code.data, request.remote_addr)
        sessions.marquer_second_facteur(compte)
        session.pop(CLE_SECRET, None)
        return codes

    return traiter_formulaire(
        form,
        executer=activer,
        rendre=rendre,
        montrer=lambda codes: montrer_codes(codes, url_for("comptes.double_authentification"), True),
    )


@bp.route("/double-authentification/desactiver", methods=["POST"])
@login_required
@_LIMITE_CODES
def desactiver_second_facteur():
    form = ConfirmationIdentiteForm(prefix="desactivation")
    return traiter_formulaire(
        form,
        executer=lambda: second_facteur.desactiver(
            current_user.id, form.code.data, form.mot_de_passe.data, request.remote_addr
        ),
        rendre=lambda statut, _conflit: _page_double_authentification(statut, desactivation=form),
        succes="La double authentification est désactivée ; un courriel vous le confirme.",
        suite=url_for("comptes.double_authentification"),
    )


@bp.route("/double-authentification/codes-de-secours", methods=["POST"])
@login_required
@_LIMITE_CODES
def renouveler_codes_secours():
    form = ConfirmationIdentiteForm(prefix="codes")
    return traiter_formulaire(
        form,
        executer=lambda: second_facteur.regenerer_codes(
            current_user.id, form.code.data, form.mot_de_passe.data, request.remote_addr
        ),
        rendre=lambda statut, _conflit: _page_double_authentification(statut, renouvellement=form),
        montrer=lambda codes: montrer_codes(codes, url_for("comptes.double_authentification"), False),
    )


def _compte_connecte() -> str:
    return f"compte-{getattr(current_user, 'id', None)}"


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@login_required
# Un mot de passe actuel deviné depuis une session laissée ouverte : limité comme la connexion (par compte,
# seuls les essais refusés comptent)
@limiter.limit(
    "8 per 15 minutes",
    methods=["POST"],
    key_func=_compte_connecte,
    deduct_when=lambda reponse: reponse.status_code != 302,
)
def changer_mot_de_passe():
    form = ChangementMotDePasseForm()
    form.email_compte = current_user.email

    def changer():
        verifiee = bool(current_user.session_courante and current_user.session_courante.second_facteur)
        compte = service.changer_mot_de_passe(
            current_user, form.actuel.data, form.mot_de_passe.data, request.remote_addr
        )
        # Le compte a un nouveau jeton_session : toutes ses sessions tombent ; ce navigateur en rouvre une.
        ouvrir_session(compte, second_facteur=verifiee)

    return traiter_formulaire(
        form,
        executer=changer,
        rendre=page("comptes/changer_mot_de_passe.html", form=form),
        succes="Votre mot de passe a été modifié. Vos sessions ouvertes sur d’autres appareils ont été "
        "fermées ; un courriel vous le confirme.",
        suite=url_for("comptes.mon_compte"),
    )


@_route_qui_ecrit("/mot-de-passe/oublie")
def mot_de_passe_oublie():
    # Même suite que l'adresse soit inscrite ou non : on ne révèle pas les comptes.
    return _ecrire_a_l_adresse_saisie(
        MotDePasseOublieForm(),
        "comptes/mot_de_passe_oublie.html",
        duree=service.libelle_duree_reinitialisation(),
        envoyer=lambda email: service.demander_reinitialisation(email, request.remote_addr),
        cle=CLE_EMAIL_REINITIALISATION,
        suite=url_for("comptes.mot_de_passe_demande_envoyee"),
    )


@bp.route("/mot-de-passe/oublie/courriel-envoye")
def mot_de_passe_demande_envoyee():
    return render_template(
        "comptes/mot_de_passe_demande_envoyee.html",
        email=session.get(CLE_EMAIL_REINITIALISATION),
        duree=service.libelle_duree_reinitialisation(),
    )


@bp.route("/mot-de-passe/reinitialiser/<jeton>", methods=["GET", "POST"])
def reinitialiser_mot_de_passe(jeton: str):
    try:
        utilisateur = service.lire_reinitialisation(jeton)
        form = ReinitialisationForm()
        form.email_compte = utilisateur.email

        def reinitialiser():
            service.reinitialiser_mot_de_passe(jeton, form.mot_de_passe.data, request.remote_addr)
            session.pop(CLE_EMAIL_REINITIALISATION, None)

        def rendre(code: int, _conflit):
            html = render_template(
                "comptes/reinitialiser_mot_de_passe.html", form=form, utilisateur=utilisateur
            )
            return html, code, {"Cache-Control": "no-store"}

        return traiter_formulaire(
            form,
            executer=reinitialiser,
            rendre=rendre,
            succes="Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.",
            suite=url_for("auth.connexion"),
        )
    except service.LienInvalide as erreur:  # y compris utilisé entre-temps, depuis un autre onglet
        return _reinitialisation_invalide(erreur)


def _reinitialisation_invalide(erreur: service.LienInvalide):
    form = MotDePasseOublieForm(formdata=None)
    return (
        render_template(
            "comptes/reinitialisation_invalide.html",
            erreur=erreur,
            form=form,
            duree=service.libelle_duree_reinitialisation(),
        ),
        404 if erreur.motif == "altere" else 410,
    )
