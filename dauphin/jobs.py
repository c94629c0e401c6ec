"""Tâches de fond : RQ sur Redis quand DAUPHIN_REDIS_URL est défini, sinon exécutées dans le processus.

Une tâche est désignée par le chemin de sa fonction (« dauphin.taches.envoyer_courriels ») : le
travailleur RQ l'importe et ouvre son propre contexte d'application. Sans Redis, une tâche lancée pendant
une requête part dans le fil de fond du processus (une file, dans l'ordre) : la page répond sans attendre
le PDF ni le courriel ; hors requête (commandes flask) et dans les tests, elle s'exécute sur place. Une
tâche perdue par un arrêt du processus est reprise comme sous RQ (`rattraper_recepisses`, courriels en
attente).
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading

from flask import current_app, has_request_context

from dauphin.extensions import db
from dauphin.journaux import definir, identifiant_de_requete, retablir
from dauphin.unite_de_travail import apres_commit

journal = logging.getLogger(__name__)
FILE = "dauphin"


def lancer(chemin: str, *args) -> bool:
    """Lance la tâche ; False si Redis est injoignable (la tâche n'est pas partie)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        if has_request_context() and current_app.config["TACHES_APRES_LA_REPONSE"]:
            _file_du_processus().put(
                (current_app._get_current_object(), chemin, args, identifiant_de_requete())
            )
        else:
            _executer(chemin, args)
        return True
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        # L'identifiant de la requête suit la tâche (meta) : ses journaux et ses courriels le portent.
        Queue(FILE, connection=_redis(url)).enqueue(
            chemin, *args, meta={"request_id": identifiant_de_requete()}
        )
    except RedisError as erreur:
        # Rien n'est perdu : ce qui devait partir reste en attente en base et repartira.
        journal.warning("Redis indisponible, tâche %s différée : %s", chemin, erreur)
        return False
    return True


_clients: dict = {}


def _redis(url: str):
    """Le client Redis du processus pour cette adresse : son pool garde la connexion d'une tâche à l'autre
    (un client neuf par tâche ouvrait une connexion TCP à chaque fois : deux à trois par dépôt). redis-py
    rouvre ses connexions dans un processus forké et après une panne ; une erreur reste une RedisError."""
    client = _clients.get(url)
    if client is None:
        from redis import Redis

        client = _clients.setdefault(url, Redis.from_url(url, socket_timeout=2))
    return client


def _executer(chemin: str, args: tuple):
    module, _, nom = chemin.rpartition(".")
    return getattr(importlib.import_module(module), nom)(*args)


_file: queue.Queue | None = None
_creation = threading.Lock()


def _file_du_processus() -> queue.Queue:
    """La file des tâches du processus et son fil, démarré à la première tâche."""
    global _file
    with _creation:
        if _file is None:
            _file = queue.Queue()
            threading.Thread(target=_fil_de_fond, args=(_file,), name="dauphin-taches", daemon=True).start()
    return _file


def _fil_de_fond(file: queue.Queue) -> None:
    while True:
        application, chemin, args, identifiant = file.get()
        jeton = definir(identifiant)
        try:
            with application.app_context():  # sa propre session, rendue à la fin
                _executer(chemin, args)
        except Exception:
            journal.exception("Tâche %s en échec (elle sera reprise)", chemin)
        finally:
            retablir(jeton)
            file.task_done()


def attendre_les_taches() -> None:
    """Rend la main quand le fil de fond a fini tout ce qu'on lui a confié (tests, arrêt propre)."""
    if _file is not None:
        _file.join()


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
