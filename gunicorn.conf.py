"""Réglages de gunicorn, lus d'office depuis la racine du projet (`gunicorn wsgi:app`).

La configuration de Dauphin est vérifiée par le processus maître avant de lancer les travailleurs : une
configuration refusée arrête gunicorn en une phrase, code 1, au lieu de relancer sans fin des travailleurs
qui échouent chacun à leur tour."""

import sys


def on_starting(server):
    from config import ConfigurationInvalide, charger

    try:
        charger().verifier()
    except ConfigurationInvalide as refus:
        print(f"Dauphin ne démarre pas : {refus}", file=sys.stderr)
        raise SystemExit(1) from None


def post_worker_init(worker):
    """L'application chargée dans le travailleur, ses ~190 000 objets (modules, modèles, gabarits, routes)
    sont mis hors du ramasse-miettes (`gc.freeze`) : ils vivent autant que le processus, et chaque collecte
    complète les parcourait tous. Mesuré (docs/mesures.md, 7 décembre) : une collecte complète, une fois
    toutes les 100 à 300 requêtes, bloquait la requête en cours 110 à 320 ms ; 13 à 34 ms après."""
    import gc

    gc.collect()
    gc.freeze()
