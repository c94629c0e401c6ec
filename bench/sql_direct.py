"""La limite « SQL seul » d'une page : les ordres SQL d'une vraie requête (capturés par le serveur,
voir dauphin/mesures.py) rejoués directement sur la base avec psycopg, dans une transaction annulée."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import psycopg

from bench.rapport import percentile

ECRITURES = ("INSERT", "UPDATE", "DELETE")


def charger(fichier: Path) -> list[tuple[str, object, bool]]:
    return pickle.loads(fichier.read_bytes())


def _executer(curseur, ordre: str, parametres, plusieurs: bool) -> None:
    if plusieurs and isinstance(parametres, list | tuple) and parametres and isinstance(parametres[0], dict):
        curseur.executemany(ordre, parametres)
        return
    curseur.execute(ordre, parametres if parametres is not None else {})
    if curseur.description is not None:
        curseur.fetchall()


def rejouer(dsn: str, ordres: list[tuple[str, object, bool]], repetitions: int = 15) -> dict:
    """Chaque répétition : BEGIN, tous les ordres dans l'ordre, lecture des résultats, ROLLBACK.

    Les écritures sont annulées. Rejouées après la vraie requête, certaines heurtent ce qu'elle a écrit
    (clé unique déjà prise) : chaque écriture passe donc dans un point de sauvegarde, et une violation
    d'unicité est ignorée. Une mise à jour à verrou optimiste dont la version a changé touche zéro ligne.
    La limite obtenue est donc un ordre de grandeur, un peu optimiste pour les transitions."""
    durees = []
    with psycopg.connect(dsn) as connexion:
        for _ in range(repetitions + 2):  # deux tours de chauffe (cache, plans)
            debut = time.perf_counter()
            with connexion.transaction(force_rollback=True), connexion.cursor() as curseur:
                for ordre, parametres, plusieurs in ordres:
                    if ordre.lstrip().upper().startswith(ECRITURES):
                        try:
                            with connexion.transaction():
                                _executer(curseur, ordre, parametres, plusieurs)
                        except psycopg.errors.IntegrityError:
                            pass
                    else:
                        _executer(curseur, ordre, parametres, plusieurs)
            durees.append((time.perf_counter() - debut) * 1000)
    durees = durees[2:]
    return {
        "ordres": len(ordres),
        "p50_ms": round(percentile(durees, 50), 2),
        "p95_ms": round(percentile(durees, 95), 2),
    }
