"""Journaux et santé : l'identifiant de requête, les journaux JSON, la sonde `/sante`.

- Chaque requête reçoit un identifiant : celui de l'en-tête X-Request-ID posé par le mandataire inverse
  s'il est raisonnable, sinon un neuf. Il est rendu dans l'en-tête X-Request-ID de la réponse, suit les
  tâches lancées par la requête (meta des tâches RQ, fil de fond) et les courriels (en-tête X-Request-ID).
- DAUPHIN_LOG_FORMAT=json : une ligne JSON par message (time, level, logger, message, request_id,
  user_id) ; text (défaut) : le format habituel, pour la console du développeur.
- `GET /sante` : base, Redis, stockage, chacun « ok », « en panne » (et pourquoi) ou « non utilisé » ;
  503 si l'un est en panne. Sans session, sans trace de lecture : les répartiteurs de charge l'appellent
  toutes les quelques secondes.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from flask import Flask, g, has_request_context, jsonify, request

ENTETE = "X-Request-ID"
ACCEPTABLE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

_requete: contextvars.ContextVar[str | None] = contextvars.ContextVar("dauphin_request_id", default=None)


def identifiant_de_requete() -> str | None:
    """Celui de la requête en cours, ou de la tâche RQ en cours (reçu de la requête qui l'a lancée)."""
    valeur = _requete.get()
    if valeur is not None:
        return valeur
    try:
        from rq import get_current_job

        tache = get_current_job()
    except Exception:
        return None
    return tache.meta.get("request_id") if tache is not None else None


def definir(identifiant: str | None):
    """Fixe l'identifiant pour le fil courant (tâche du fil de fond) ; rend le jeton pour `retablir`."""
    return _requete.set(identifiant)


def retablir(jeton) -> None:
    _requete.reset(jeton)


class AjoutDuContexte(logging.Filter):
    """Ajoute request_id et user_id à chaque message (user_id : le compte déjà chargé par la requête,
    sans jamais le charger pour un message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = identifiant_de_requete()
        utilisateur = getattr(g, "_login_user", None) if has_request_context() else None
        record.user_id = getattr(utilisateur, "id", None)
        return True


def formateur_json() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configurer_les_journaux(format_: str) -> None:
    """En JSON : un seul gestionnaire sur la sortie d'erreur, pour tout le processus (gunicorn, RQ)."""
    racine = logging.getLogger()
    if format_ != "json":
        return
    if any(getattr(h, "dauphin_json", False) for h in racine.handlers):
        return
    gestionnaire = logging.StreamHandler(sys.stderr)
    gestionnaire.dauphin_json = True
    gestionnaire.setFormatter(formateur_json())
    gestionnaire.addFilter(AjoutDuContexte())
    for ancien in list(racine.handlers):
        racine.removeHandler(ancien)
    racine.addHandler(gestionnaire)
    racine.setLevel(logging.INFO)
    for nom in ("flask.app", "dauphin", "gunicorn.error", "rq.worker"):
        journal = logging.getLogger(nom)
        for ancien in list(journal.handlers):
            journal.removeHandler(ancien)
        journal.propagate = True


def init_app(app: Flask) -> None:
    configurer_les_journaux(app.config.get("LOG_FORMAT", "text"))

    @app.before_request
    def identifier_la_requete():
        recu = request.headers.get(ENTETE, "")
        g.request_id = recu if ACCEPTABLE.fullmatch(recu) else uuid.uuid4().hex
        g.jeton_request_id = _requete.set(g.request_id)

    @app.after_request
    def rendre_l_identifiant(reponse):
        if "request_id" in g:
            reponse.headers[ENTETE] = g.request_id
        return reponse

    @app.teardown_request
    def oublier_l_identifiant(_erreur=None):
        jeton = g.pop("jeton_request_id", None)
        if jeton is not None:
            try:
                _requete.reset(jeton)
            except ValueError:  # remis dans un autre contexte (flux servi après la vue) : on efface
                _requete.set(None)

    app.add_url_rule("/sante", "sante", sante)


def _raison(erreur: Exception) -> str:
    texte = str(erreur).strip().splitlines()[0] if str(erreur).strip() else ""
    return f"{type(erreur).__name__} : {texte}"[:200] if texte else type(erreur).__name__


def sante():
    from flask import current_app
    from sqlalchemy import text

    from dauphin.extensions import db
    from dauphin.stockage import stockage

    etats: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        etats["base"] = {"etat": "ok"}
    except Exception as erreur:
        etats["base"] = {"etat": "en panne", "raison": _raison(erreur)}
    finally:
        db.session.rollback()
    url = current_app.config.get("REDIS_URL")
    if not url:
        etats["redis"] = {
            "etat": "non utilisé",
            "raison": "DAUPHIN_REDIS_URL vide : tâches dans le processus",
        }
    else:
        from redis import Redis

        try:
            Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
            etats["redis"] = {"etat": "ok"}
        except Exception as erreur:
            etats["redis"] = {"etat": "en panne", "raison": _raison(erreur)}
    try:
        stockage().verifier_acces()
        etats["stockage"] = {"etat": "ok"}
    except Exception as erreur:
        etats["stockage"] = {"etat": "en panne", "raison": _raison(erreur)}
    panne = any(e["etat"] == "en panne" for e in etats.values())
    reponse = jsonify(etats)
    reponse.status_code = 503 if panne else 200
    reponse.headers["Cache-Control"] = "no-store"
    return reponse
