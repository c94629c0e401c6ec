"""Connexion (mot de passe, puis code de la double authentification), déconnexion, suivi des sessions.

La connexion se fait en deux temps pour un compte qui a activé la double authentification : le mot de
passe juste ne connecte pas encore. Le cookie signé retient seulement « mot de passe vérifié pour tel
compte » (`CLE_EN_COURS`, dix minutes, lié au `jeton_session` du compte) ; aucune session n'est ouverte,
Flask-Login ne connaît personne, aucune page d'un rôle ne s'ouvre. Le code juste ouvre la session. Un compte
à qui elle est obligatoire et qui ne l'a pas encore l'active à ce moment-là, avant toute page de son rôle.

Chaque requête d'une session ouverte passe par `suivre_la_session` (voir dauphin/services/sessions.py) :
session fermée ou expirée → déconnecté, et la page de connexion dit pourquoi ; double authentification
devenue obligatoire pour une session ouverte sans elle → reconnexion ; activité notée une fois par minute.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from dauphin.extensions import db, limiter, login_manager
from dauphin.models import Utilisateur
from dauphin.services import comptes, second_facteur, sessions
from dauphin.services.comptes import ConnexionRefusee, connecter
from dauphin.vues import signaler, traiter_formulaire
from forms.auth import ActivationSecondFacteurForm, CodeForm, ConnexionForm

bp = Blueprint("auth", __name__, url_prefix="/compte")

CLE_EN_COURS = "dauphin.connexion_en_cours"  # {u: compte, j: son jeton_session, t: instant, n: page suivante}
CLE_SECRET = "dauphin.second_facteur_en_attente"  # {u: compte, s: secret} montré, pas encore confirmé
CLE_FIN = "dauphin.fin_de_session"  # pourquoi la session précédente s'est fermée, pour la page de connexion
DUREE_EN_COURS = 10 * 60  # secondes pour saisir le code après le mot de passe

MESSAGES_FIN = {
    "expiree": "Votre session s’est fermée après un moment sans activité, pour protéger votre compte. "
    "Reconnectez-vous : vous reviendrez à la page où vous étiez.",
    "fermee": "Votre session a été fermée : déconnexion depuis « Mes sessions » d’un autre appareil, ou "
    "mot de passe changé. Reconnectez-vous pour continuer.",
    "second_facteur": "La double authentification est désormais obligatoire pour votre compte. "
    "Reconnectez-vous : vous l’activerez en quelques minutes, avec une application d’authentification.",
}
LIMITE_CODE = "6 per 15 minutes"  # par compte : un code à 6 chiffres ne se devine pas en 6 essais


def _destination_sure(cible: str | None) -> str | None:
    """N'accepte qu'un chemin de ce site (pas de redirection ouverte vers un autre domaine)."""
    if not cible:
        return None
    morceaux = urlsplit(cible)
    if morceaux.scheme or morceaux.netloc or not cible.startswith("/") or cible.startswith("//"):
        return None
    return cible


def _echec(reponse) -> bool:
    """Seules les tentatives échouées (formulaire réaffiché) comptent dans les limites."""
    return reponse.status_code != 302


def _email_saisi() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _verrouillage_mot_de_passe(_limite) -> None:
    comptes.signaler_verrouillage(_email_saisi(), request.remote_addr, "mot_de_passe")


def ouvrir_session(utilisateur: Utilisateur, *, second_facteur: bool = False) -> None:
    """Ouvre une session du compte sur ce navigateur (une ligne de session, son jeton dans le cookie)."""
    sessions.ouvrir(
        utilisateur, request.remote_addr, request.user_agent.string, second_facteur=second_facteur
    )
    for cle in (CLE_EN_COURS, CLE_SECRET, CLE_FIN):
        session.pop(cle, None)
    login_user(utilisateur)


@bp.route("/connexion", methods=["GET", "POST"])
# Par adresse d'origine, et par compte visé (même depuis des adresses différentes) ; le titulaire d'un compte
# bloqué est prévenu par courriel.
@limiter.limit("30 per 10 minutes", methods=["POST"], deduct_when=_echec)
@limiter.limit(
    "8 per 15 minutes",
    methods=["POST"],
    key_func=_email_saisi,
    deduct_when=_echec,
    on_breach=_verrouillage_mot_de_passe,
)
def connexion():
    if current_user.is_authenticated:
        return redirect(url_for("public.accueil"))
    form = ConnexionForm()
    fin = session.pop(CLE_FIN, None) if request.method == "GET" else None
    if not form.validate_on_submit():
        return render_template("auth/connexion.html", form=form, fin=MESSAGES_FIN.get(fin))
    try:
        utilisateur = connecter(form.email.data, form.mot_de_passe.data, request.remote_addr)
    except ConnexionRefusee as refus:
        signaler(form, refus.problemes)
        page = render_template(
            "auth/connexion.html", form=form, renvoyer_confirmation=refus.motif == "non_confirmee"
        )
        # Mot de passe juste mais session refusée (adresse non confirmée, compte désactivé) : 403.
        return page, 200 if refus.motif == "identifiants" else 403
    suite = _destination_sure(request.args.get("next"))
    if utilisateur.second_facteur_actif or second_facteur.exige(utilisateur):
        # Pas encore connecté : le mot de passe est vérifié, le second temps décide.
        session[CLE_EN_COURS] = {
            "u": utilisateur.id,
            "j": utilisateur.jeton_session,
            "t": int(time.time()),
            "n": suite,
        }
        if utilisateur.second_facteur_actif:
            return redirect(url_for("auth.code"))
        return redirect(url_for("auth.activer_second_facteur"))
    ouvrir_session(utilisateur)
    flash(f"Bienvenue, {utilisateur.prenom}.", "succes")
    return redirect(suite or url_for("public.accueil"))


# --- Second temps : code de l'application ou code de secours ----------------------------------------


def _compte_en_cours() -> tuple[Utilisateur, dict] | None:
    """Le compte dont le mot de passe vient d'être vérifié sur ce navigateur, s'il l'a été il y a moins de
    dix minutes et que rien n'a changé depuis (mot de passe, désactivation)."""
    en_cours = session.get(CLE_EN_COURS)
    if not isinstance(en_cours, dict) or time.time() - en_cours.get("t", 0) > DUREE_EN_COURS:
        session.pop(CLE_EN_COURS, None)
        return None
    utilisateur = db.session.get(Utilisateur, en_cours.get("u"))
    if utilisateur is None or not utilisateur.actif or utilisateur.jeton_session != en_cours.get("j"):
        session.pop(CLE_EN_COURS, None)
        return None
    return utilisateur, en_cours


def _cle_en_cours() -> str:
    en_cours = session.get(CLE_EN_COURS)
    if isinstance(en_cours, dict) and isinstance(en_cours.get("u"), int):
        return f"second-facteur-{en_cours['u']}"
    return f"second-facteur-ip-{request.remote_addr}"


def _verrouillage_code(_limite) -> None:
    en_cours = session.get(CLE_EN_COURS)
    if isinstance(en_cours, dict) and isinstance(en_cours.get("u"), int):
        comptes.signaler_verrouillage(en_cours["u"], request.remote_addr, "code")


def _limites_du_code(vue):
    """Les essais de code refusés : par compte (le titulaire d'un compte bloqué est prévenu : son mot de
    passe est connu d'un tiers) et par adresse d'origine."""
    par_compte = limiter.limit(
        LIMITE_CODE,
        methods=["POST"],
        key_func=_cle_en_cours,
        deduct_when=_echec,
        on_breach=_verrouillage_code,
    )
    par_origine = limiter.limit("30 per 10 minutes", methods=["POST"], deduct_when=_echec)
    return par_origine(par_compte(vue))


def _reprendre_la_connexion():
    flash("Le délai pour terminer la connexion est dépassé. Saisissez de nouveau votre mot de passe.", "info")
    return redirect(url_for("auth.connexion"))


def _sans_cache(reponse):
    """Une page qui montre un secret (code QR, codes de secours) n'est gardée par aucun cache."""
    corps, code = reponse
    return corps, code, {"Cache-Control": "no-store"}


@bp.route("/connexion/code", methods=["GET", "POST"])
@_limites_du_code
def code():
    if current_user.is_authenticated:
        return redirect(url_for("public.accueil"))
    en_cours = _compte_en_cours()
    if en_cours is None:
        return _reprendre_la_connexion()
    utilisateur, etat = en_cours
    if not utilisateur.second_facteur_actif:
        return redirect(url_for("auth.activer_second_facteur"))
    form = CodeForm()

    def verifier():
        compte = second_facteur.verifier_connexion(utilisateur.id, form.code.data, request.remote_addr)
        ouvrir_session(compte, second_facteur=True)
        return compte

    return traiter_formulaire(
        form,
        executer=verifier,
        rendre=lambda statut, _conflit: (render_template("auth/code.html", form=form), statut),
        succes=lambda compte: f"Bienvenue, {compte.prenom}.",
        suite=etat.get("n") or url_for("public.accueil"),
    )


def secret_en_attente(utilisateur: Utilisateur) -> str:
    """Le secret montré à ce compte et pas encore confirmé : le même tant que la personne n'a pas saisi de
    code juste (recharger la page ne change pas le code QR déjà scanné)."""
    attente = session.get(CLE_SECRET)
    if not isinstance(attente, dict) or attente.get("u") != utilisateur.id or not attente.get("s"):
        attente = {"u": utilisateur.id, "s": second_facteur.nouveau_secret()}
        session[CLE_SECRET] = attente
    return attente["s"]


def page_activation(utilisateur: Utilisateur, form, *, obligatoire: bool, annuler: str | None):
    secret = secret_en_attente(utilisateur)

    def rendre(statut: int, _conflit):
        html = render_template(
            "comptes/activer_second_facteur.html",
            form=form,
            code_qr=second_facteur.code_qr_svg(utilisateur, secret),
            secret=second_facteur.secret_lisible(secret),
            obligatoire=obligatoire,
            annuler=annuler,
        )
        return _sans_cache((html, statut))

    return secret, rendre


def montrer_codes(codes: list[str], suite: str, premiere_fois: bool):
    html = render_template(
        "comptes/codes_secours.html", codes=codes, suite=suite, premiere_fois=premiere_fois
    )
    return _sans_cache((html, 200))


@bp.route("/connexion/double-authentification", methods=["GET", "POST"])
@_limites_du_code
def activer_second_facteur():
    """Activation imposée, au milieu de la connexion : avant toute page du rôle."""
    if current_user.is_authenticated:
        return redirect(url_for("comptes.activer_second_facteur"))
    en_cours = _compte_en_cours()
    if en_cours is None:
        return _reprendre_la_connexion()
    utilisateur, etat = en_cours
    if utilisateur.second_facteur_actif:
        return redirect(url_for("auth.code"))
    form = ActivationSecondFacteurForm()
    secret, rendre = page_activation(utilisateur, form, obligatoire=True, annuler=None)

    def activer():
        codes = second_facteur.activer(utilisateur.id, secret, form.code.data, request.remote_addr)
        ouvrir_session(utilisateur, second_facteur=True)
        return codes

    return traiter_formulaire(
        form,
        executer=activer,
        rendre=rendre,
        montrer=lambda codes: montrer_codes(codes, etat.get("n") or url_for("public.accueil"), True),
    )


# --- Déconnexion, et la session qui se prolonge ------------------------------------------------------


@bp.route("/deconnexion", methods=["POST"])
@login_required
def deconnexion():
    sessions.fermer_la_courante(current_user, request.remote_addr)
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("public.accueil"))


def _reponse_json_attendue() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/session/etat")
def etat_session():
    """Pour l'avertissement avant la fin de la session (static/js/session.js) : les secondes qui restent.
    Lire l'état ne compte pas comme une activité."""
    if not current_user.is_authenticated:
        reponse = jsonify(connecte=False, restant=0)
    else:
        reponse = jsonify(connecte=True, restant=sessions.secondes_restantes(current_user))
    reponse.headers["Cache-Control"] = "no-store"
    return reponse


@bp.route("/session/prolonger", methods=["POST"])
def prolonger_session():
    """« Rester connecté » : l'activité est notée tout de suite. En JSON pour le script, sinon retour à la
    page d'où vient le formulaire."""
    suite = _destination_sure(request.form.get("next"))
    if not current_user.is_authenticated:
        if _reponse_json_attendue():
            return jsonify(connecte=False, restant=0), 401
        return redirect(url_for("auth.connexion", next=suite))
    sessions.noter_activite(current_user)
    if _reponse_json_attendue():
        return jsonify(connecte=True, restant=sessions.secondes_restantes(current_user))
    flash("Votre session est prolongée.", "succes")
    return redirect(suite or url_for("public.accueil"))


# --- Le suivi des sessions, à chaque requête ---------------------------------------------------------

STATIQUES = {"static", "dsfr.fichier", "sante"}  # ni session suivie, ni compte chargé
SANS_ACTIVITE = {"auth.etat_session", "auth.prolonger_session"}


def _page_a_retrouver() -> str | None:
    """Où revenir après la connexion : la page demandée (GET), ou celle d'où vient le formulaire."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    if request.referrer:
        morceaux = urlsplit(request.referrer)
        if morceaux.netloc == request.host:
            return _destination_sure(morceaux.path + (f"?{morceaux.query}" if morceaux.query else ""))
    return None


def init_app(app) -> None:
    with app.app_context():
        comptes.hache_factice()  # calculé au démarrage : la première adresse inconnue ne paie pas deux hachés

    @login_manager.user_loader
    def charger_utilisateur(jeton: str):
        utilisateur, raison = sessions.charger(jeton)
        if raison is not None:
            g.dauphin_fin_de_session = raison
        return utilisateur

    @login_manager.unauthorized_handler
    def non_connecte():
        if CLE_FIN not in session:  # sinon la page de connexion dit elle-même pourquoi
            flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("auth.connexion", next=_page_a_retrouver()))

    @app.before_request
    def suivre_la_session():
        if "_user_id" not in session or request.endpoint in STATIQUES:
            return None
        g.pop("dauphin_fin_de_session", None)
        utilisateur = current_user._get_current_object()
        if not utilisateur.is_authenticated:
            # Cookie d'une session fermée ou expirée : on l'oublie, la page de connexion dira pourquoi.
            raison = g.pop("dauphin_fin_de_session", None)
            logout_user()
            if raison is not None:
                session[CLE_FIN] = raison
            return None
        ouverte = utilisateur.session_courante
        if ouverte is None:
            return None
        if not ouverte.second_facteur and second_facteur.exige(utilisateur):
            sessions.fermer_la_courante(utilisateur, request.remote_addr)
            logout_user()
            session[CLE_FIN] = "second_facteur"
            return redirect(url_for("auth.connexion", next=_page_a_retrouver()))
        if request.endpoint not in SANS_ACTIVITE and sessions.activite_a_noter(ouverte):
            sessions.noter_activite(utilisateur)
        return None

    @app.context_processor
    def session_a_surveiller():
        """Le délai restant de la session, pour l'avertissement de base.html."""
        if not has_request_context() or not current_user.is_authenticated:
            return {}
        utilisateur = current_user._get_current_object()
        if utilisateur.session_courante is None:
            return {}
        return {"session_restant": sessions.secondes_restantes(utilisateur)}
