"""Point d'entrée WSGI (gunicorn « wsgi:app ») et de la commande `flask` (FLASK_APP=wsgi)."""

from dauphin import create_app

app = create_app()
