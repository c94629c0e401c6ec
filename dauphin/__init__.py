"""Dauphin : portail et moteur de workflow des demandes de subvention de la politique de la ville."""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Flask, Request, flash, redirect, render_template, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

import config as configuration
from dauphin import journaux, stockage
from dauphin.badges import BadgesStatut
from dauphin.extensions import babel, csrf, db, limiter, login_manager, migrate
from dauphin.libelles import FUSEAU, MOIS, PARIS
from dauphin.socle import Application, brancher_compte_courant
from dauphin.urls import parametres_de_lien, url_de_demande, url_fixe, url_par_identifiant
from workflows.budget import format_euros

journal = logging.getLogger(__name__)


class SaisiesSansNul(ImmutableMultiDict):
    """Paramètres et champs de formulaire sans caractère NUL : aucun usager ne le tape, et PostgreSQL refuse
    de le ranger dans un texte (erreur 500 au lieu d'une saisie enregistrée). Les fichiers sont intacts."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, dict):
            mapping = [(cle, v.replace("\x00", "") if isinstance(v, str) else v) for cle, v in mapping]
        super().__init__(mapping)


class Requete(Request):
    parameter_storage_class = SaisiesSansNul


def create_app(config: str | configuration.Config | None = None) -> Flask:
    cfg = config if isinstance(config, configuration.Config) else configuration.charger(config)
    cfg.verifier()
    app = Application(__name__, instance_path=cfg.INSTANCE_PATH)
    app.request_class = Requete
    app.config.from_object(cfg)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", cfg.options_moteur())
    app.config.setdefault("DSFR_CACHE_MAX_AGE", 365 * 24 * 3600)

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    journaux.init_app(app)  # d'abord : l'identifiant de requête existe pour tout ce qui suit
    enregistrer_extensions(app)
    stockage.init_app(app)
    enregistrer_blueprints(app)
    enregistrer_erreurs(app)
    enregistrer_gabarits(app)
    enregistrer_securite(app)
    from dauphin import cli, lectures, mesures

    cli.init_app(app)
    mesures.init_app(app)
    lectures.init_app(app)  # après les instruments du banc : l'insertion de la trace compte avec la page
    return app


def enregistrer_extensions(app: Flask) -> None:
    db.init_app(app)
    from dauphin.connexions import brancher

    with app.app_context():
        for moteur in db.engines.values():
            brancher(moteur, app.config)
    migrate.init_app(app, db, directory=str(_racine() / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis en panne : on sert quand même
    limiter.init_app(app)
    babel.init_app(app, locale_selector=lambda: "fr", timezone_selector=lambda: FUSEAU)
    login_manager.init_app(app)
    brancher_compte_courant()  # current_user sans passer par les proxys g et current_app

    @app.before_request
    def traductions_wtforms():
        # Flask-WTF relit et analyse le catalogue .mo de WTForms à chaque requête qui construit un formulaire
        # (0,4 ms), et le range dans la requête : on lui donne celui du processus, lu une fois.
        request.wtforms_translations = traductions_de_wtforms("fr")

    login_manager.login_view = "auth.connexion"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from dauphin import models  # noqa: F401  (les modèles doivent être connus de la MetaData)


@functools.cache
def traductions_de_wtforms(locale: str):
    """Les messages de WTForms dans la langue du portail (« fr », voir la configuration de Babel)."""
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def enregistrer_blueprints(app: Flask) -> None:
    from dauphin import auth, dsfr
    from dauphin.administration import bp as administration
    from dauphin.api import bp as api
    from dauphin.comites import bp as comites
    from dauphin.comptes import bp as comptes
    from dauphin.demandes import bp as demandes
    from dauphin.documents import bp as documents
    from dauphin.dossiers import bp as dossiers
    from dauphin.engagements import bp as engagements
    from dauphin.instruction import bp as instruction
    from dauphin.jetons import bp as jetons
    from dauphin.justification import bp as justification
    from dauphin.pilotage import bp as pilotage
    from dauphin.public import bp as public
    from dauphin.structures import bp as structures
    from dauphin.usager import bp as usager
    from dauphin.webhooks import bp as webhooks

    dsfr.init_app(app)
    auth.init_app(app)  # chargeur de Flask-Login, suivi des sessions à chaque requête
    for blueprint in (
        public,
        auth.bp,
        comptes,
        structures,
        documents,
        usager,
        demandes,
        dossiers,
        engagements,
        instruction,
        comites,
        justification,
        pilotage,
        administration,
        api,
        jetons,
        webhooks,
    ):
        app.register_blueprint(blueprint)


def enregistrer_erreurs(app: Flask) -> None:
    from dauphin import api
    from dauphin.services.erreurs import Conflit, NonAutorise

    @app.errorhandler(NonAutorise)
    def non_autorise(erreur: NonAutorise):
        db.session.rollback()
        return render_template("errors/403.html"), 403

    @app.errorhandler(Conflit)
    def conflit(erreur: Conflit):
        db.session.rollback()
        if request.method == "POST" and request.referrer:
            flash(str(erreur), "erreur")
            return redirect(request.referrer)
        return render_template("errors/409.html", message=str(erreur)), 409

    @app.errorhandler(HTTPException)
    def erreur_http(erreur: HTTPException):
        if api.est_requete_api():  # adresse inconnue ou méthode non permise sous /api/ : du JSON aussi
            return api.erreur_http(erreur)
        if erreur.code in (400, 403, 404, 405, 409, 429):
            db.session.rollback()
            # Les en-têtes de l'erreur (Allow pour 405, Retry-After…) sont gardés.
            entetes = [(nom, valeur) for nom, valeur in erreur.get_headers() if nom.lower() != "content-type"]
            return render_template(f"errors/{erreur.code}.html"), erreur.code, entetes
        return erreur

    @app.errorhandler(Exception)
    def erreur_serveur(erreur: Exception):
        if isinstance(erreur, HTTPException):
            return erreur_http(erreur)
        if api.est_requete_api():
            return api.erreur_interne(erreur)
        db.session.rollback()
        journal.exception("Erreur non rattrapée sur %s %s", request.method, request.path)
        _anonyme_si_base_injoignable()
        return render_template("errors/500.html"), 500


def _anonyme_si_base_injoignable() -> None:
    """La page 500 ne dépend pas de la base : si le compte connecté n'a pas pu être chargé (base en panne),
    elle s'affiche comme pour un visiteur anonyme — sinon Flask-Login, qui fournit `current_user` à chaque
    gabarit, retenterait de le charger et la page d'erreur échouerait à son tour."""
    from flask import g
    from flask_login import current_user
    from sqlalchemy.exc import SQLAlchemyError

    try:
        current_user.is_authenticated  # noqa: B018  (charge le compte s'il ne l'est pas encore)
    except SQLAlchemyError:
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()  # là où Flask-Login garde le compte de la requête


# Montants et dates au format français de CLDR (celui de Babel pour la locale « fr » : « 1 234,50 € »,
# « 3 février 2026 »), écrits directement : une liste en affiche des centaines, et chaque appel à
# flask_babel relit la locale et le motif (60 µs contre 3). Des tests les comparent à Babel.


def euros(valeur) -> str:
    return "—" if valeur is None else format_euros(Decimal(valeur))


def _heure_de_paris(moment):
    """Une date reste une date ; un horodatage (UTC en base ; naïf : UTC) est lu à l'heure de Paris. La
    conversion de `flask_babel.to_user_timezone` (le fuseau que Flask-Babel donne à chaque requête est le
    même, `FUSEAU`), sans relire ce fuseau à chaque date écrite (70 appels Python par horodatage)."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def _jour_fr(jour) -> str:
    return f"{jour.day} {MOIS[jour.month - 1]} {jour.year}"


def date_fr(moment) -> str:
    if not moment:
        return "—"
    return _jour_fr(_heure_de_paris(moment))


def date_courte(moment) -> str:
    return f"{_heure_de_paris(moment):%d/%m/%Y}" if moment else "—"


def horodatage(moment) -> str:
    if not moment:
        return "—"
    local = _heure_de_paris(moment)
    return f"{_jour_fr(local)} à {local:%H}h{local:%M}"


def echeance(moment) -> str:
    """Une échéance qui tombe à minuit, heure de Paris, est la fin du jour précédent : « 6 mars 2027
    inclus » (et non « 7 mars 2027 à 00h00 ») ; une autre heure se lit comme un horodatage."""
    if not moment:
        return "—"
    local = _heure_de_paris(moment)
    if isinstance(local, datetime) and (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{date_fr(local.date() - timedelta(days=1))} inclus"
    return horodatage(moment)


def enregistrer_gabarits(app: Flask) -> None:
    from dauphin import dsfr, libelles
    from dauphin.navigation import liens_de_la_mise_en_page, morceau_fixe, navigation

    app.jinja_env.filters["euros"] = euros
    app.jinja_env.filters["libelle_statut"] = libelles.statut
    app.jinja_env.filters["libelle_role"] = libelles.role
    app.jinja_env.filters["libelle_action"] = libelles.action
    app.jinja_env.filters["date_fr"] = date_fr
    app.jinja_env.filters["date_courte"] = date_courte
    app.jinja_env.filters["horodatage"] = horodatage
    app.jinja_env.filters["quantite"] = libelles.quantite  # « 1 demande », « 2 demandes »
    app.jinja_env.filters["siret"] = libelles.siret_lisible  # « 123 456 789 00012 », partout
    app.jinja_env.filters["siren"] = libelles.siren_lisible
    app.jinja_env.filters["sigles"] = libelles.expliquer_sigles  # QPV, P147, CERFA : <abbr title>
    app.jinja_env.globals["sigles_de"] = libelles.sigles_de
    app.jinja_env.filters["echeance"] = echeance
    app.jinja_env.globals["badge_statut"] = BadgesStatut(app.jinja_env)  # dsfr.badge_statut, mémorisé
    app.jinja_env.globals["champ_dsfr"] = dsfr.champ  # dsfr.champ, écrit en Python
    app.jinja_env.globals["url_fixe"] = url_fixe
    app.jinja_env.globals["liens_de_la_mise_en_page"] = liens_de_la_mise_en_page
    app.jinja_env.globals["morceau_fixe"] = morceau_fixe  # pied de page, feuilles de style : rendus une fois
    app.jinja_env.globals["url_de_demande"] = url_de_demande
    app.jinja_env.globals["url_par_identifiant"] = url_par_identifiant
    app.jinja_env.globals["parametres_de_lien"] = parametres_de_lien
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def contexte():
        return {"navigation": navigation()}


ENTETES_DE_SECURITE = (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
        "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def enregistrer_securite(app: Flask) -> None:
    avec_hsts = ENTETES_DE_SECURITE + (HSTS,)

    @app.after_request
    def entetes(reponse):
        # Chaque en-tête seulement s'il n'est pas déjà posé (une vue peut avoir le sien), comme
        # `headers.setdefault`, mais en un seul passage sur les en-têtes de la réponse.
        poses = {nom.lower() for nom, _ in reponse.headers}
        for nom, valeur in avec_hsts if app.config.get("SESSION_COOKIE_SECURE") else ENTETES_DE_SECURITE:
            if nom.lower() not in poses:
                reponse.headers.add(nom, valeur)
        return reponse


def _racine():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent
