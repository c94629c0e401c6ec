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


def lancer(chemin: str, *args) -> None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        module, _, nom = chemin.rpartition(".")
        getattr(importlib.import_module(module), nom)(*args)
        return
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        Queue(FILE, connection=Redis.from_url(url, socket_timeout=2)).enqueue(chemin, *args)
    except RedisError as erreur:
        # Rien n'est perdu : ce qui devait partir reste en attente en base et repartira.
        journal.warning("Redis indisponible, tâche %s différée : %s", chemin, erreur)
