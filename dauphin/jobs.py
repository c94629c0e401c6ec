"""Tâches de fond : RQ sur Redis quand DAUPHIN_REDIS_URL est défini, sinon exécutées sur place.

Une tâche est désignée par le chemin de sa fonction (« dauphin.taches.envoyer_courriels ») : le
travailleur RQ l'importe et ouvre son propre contexte d'application.
"""

from __future__ import annotations

import importlib
import logging

from flask import current_app

from dauphin.extensions import db
from dauphin.unite_de_travail import apres_commit

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


def planifier(chemin: str, *args) -> None:
    """Une tâche à lancer seulement si la transaction en cours est validée (oubliée sinon)."""
    apres_commit(lancer_planifiees, (chemin, args))


def lancer_planifiees(taches: list[tuple[str, tuple]]) -> None:
    """Après le commit : lance les tâches que la transaction a planifiées. Une tâche qui échoue (sur place,
    sans Redis) n'empêche pas les suivantes et n'annule rien de ce qui est validé."""
    for chemin, args in taches:
        try:
            lancer(chemin, *args)
        except Exception:
            journal.exception("Tâche %s non lancée", chemin)
            db.session.rollback()  # ce que la tâche avait commencé d'écrire ; la session resservira
