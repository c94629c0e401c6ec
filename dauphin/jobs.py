"""Tâches de fond : RQ sur Redis quand DAUPHIN_REDIS_URL est défini, sinon exécutées sur place.

Une tâche est désignée par le chemin de sa fonction (« dauphin.taches.envoyer_courriels ») : le
travailleur RQ l'importe et ouvre son propre contexte d'application.
"""

from __future__ import annotations

import importlib
import logging

from flask import current_app

journal = logging.getLogger(__name__)
FILE = "dauphin"


def lancer(chemin: str, *args) -> bool:
    """Lance la tâche ; False si Redis est injoignable (la tâche n'est pas partie)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        module, _, nom = chemin.rpartition(".")
        getattr(importlib.import_module(module), nom)(*args)
        return True
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        Queue(FILE, connection=Redis.from_url(url, socket_timeout=2)).enqueue(chemin, *args)
    except RedisError as erreur:
        # Rien n'est perdu : ce qui devait partir reste en attente en base et repartira.
        journal.warning("Redis indisponible, tâche %s différée : %s", chemin, erreur)
        return False
    return True


CLE_SESSION = "dauphin.taches_planifiees"


def planifier(chemin: str, *args) -> None:
    """Une tâche à lancer seulement si la transaction en cours est validée (oubliée sinon)."""
    from dauphin.extensions import db

    db.session.info.setdefault(CLE_SESSION, []).append((chemin, args))


def lancer_planifiees() -> None:
    """Après un commit : lance les tâches planifiées pendant la transaction. Une panne n'annule rien."""
    from dauphin.extensions import db

    for chemin, args in db.session.info.pop(CLE_SESSION, []):
        try:
            lancer(chemin, *args)
        except Exception:
            journal.exception("Tâche %s non lancée", chemin)


def _oublier(session) -> None:
    session.info.pop(CLE_SESSION, None)


def init_app() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_rollback", _oublier):
        event.listen(Session, "after_rollback", _oublier)
