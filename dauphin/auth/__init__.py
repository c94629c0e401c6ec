"""Connexion et déconnexion."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from dauphin.extensions import db, limiter
from dauphin.models import Utilisateur, maintenant
from dauphin.services.comptes import journaliser, peut_se_connecter
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
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        utilisateur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
        mot_de_passe_juste = utilisateur is not None and utilisateur.verifier_mot_de_passe(
            form.mot_de_passe.data
        )
        refus = peut_se_connecter(utilisateur) if mot_de_passe_juste else None
        if mot_de_passe_juste and refus is None:
            utilisateur.derniere_connexion_le = maintenant()
            _journaliser(email, utilisateur, True)
            db.session.commit()
            login_user(utilisateur)
            flash(f"Bienvenue, {utilisateur.prenom}.", "succes")
            return redirect(_destination_sure(request.args.get("next")) or url_for("public.accueil"))
        if refus is not None:
            # Le mot de passe est juste : on peut dire pourquoi la session ne s'ouvre pas.
            _journaliser(
                email,
                utilisateur,
                False,
                "adresse non confirmée" if utilisateur.actif else "compte désactivé",
            )
            db.session.commit()
            form.email.errors.append(refus)
            return render_template(
                "auth/connexion.html", form=form, renvoyer_confirmation=utilisateur.actif
            ), 403
        # Même message que le compte existe ou non : on ne révèle pas les adresses inscrites.
        _journaliser(email, utilisateur, False, "compte inconnu" if utilisateur is None else "mot de passe")
        db.session.commit()
        form.mot_de_passe.errors.append("Adresse électronique ou mot de passe incorrect.")
    return render_template("auth/connexion.html", form=form)


def _journaliser(email: str, utilisateur, reussie: bool, motif: str | None = None) -> None:
    journaliser(email, utilisateur, reussie, motif, adresse_ip=request.remote_addr)


@bp.route("/deconnexion", methods=["POST"])
@login_required
def deconnexion():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("public.accueil"))
