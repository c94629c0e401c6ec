"""Connexion et déconnexion."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from dauphin.extensions import limiter
from dauphin.services.comptes import ConnexionRefusee, connecter
from dauphin.vues import signaler
from forms.auth import ConnexionForm

bp = Blueprint("auth", __name__, url_prefix="/compte")


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


@bp.route("/connexion", methods=["GET", "POST"])
# Par adresse d'origine, et par compte visé (même depuis des adresses différentes)
@limiter.limit("30 per 10 minutes", methods=["POST"], deduct_when=_echec)
@limiter.limit("8 per 15 minutes", methods=["POST"], key_func=_email_saisi, deduct_when=_echec)
def connexion():
    if current_user.is_authenticated:
        return redirect(url_for("public.accueil"))
    form = ConnexionForm()
    if not form.validate_on_submit():
        return render_template("auth/connexion.html", form=form)
    try:
        utilisateur = connecter(form.email.data, form.mot_de_passe.data, request.remote_addr)
    except ConnexionRefusee as refus:
        signaler(form, refus.problemes)
        page = render_template(
            "auth/connexion.html", form=form, renvoyer_confirmation=refus.motif == "non_confirmee"
        )
        # Mot de passe juste mais session refusée (adresse non confirmée, compte désactivé) : 403.
        return page, 200 if refus.motif == "identifiants" else 403
    login_user(utilisateur)
    flash(f"Bienvenue, {utilisateur.prenom}.", "succes")
    return redirect(_destination_sure(request.args.get("next")) or url_for("public.accueil"))


@bp.route("/deconnexion", methods=["POST"])
@login_required
def deconnexion():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("public.accueil"))
