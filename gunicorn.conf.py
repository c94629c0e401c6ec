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
