"""Point d'entrée WSGI (gunicorn « wsgi:app ») et de la commande `flask` (FLASK_APP=wsgi).

Une configuration refusée au démarrage (clé secrète absente en production, variable mal formée…) sort en
une phrase sur la sortie d'erreur, code 1 : l'opérateur lit la raison, pas une trace Python."""

import sys

from config import ConfigurationInvalide
from dauphin import create_app

try:
    app = create_app()
except ConfigurationInvalide as refus:
    print(f"Dauphin ne démarre pas : {refus}", file=sys.stderr)
    raise SystemExit(1) from None
