"""Instruments du banc HTTP (`make bench`), branchés seulement si BENCH_MESURES est vrai.

`DAUPHIN_BENCH=1` (jamais en production : ProductionConfig l'ignore) ajoute :
- l'en-tête `X-Requetes-SQL` à chaque réponse : le nombre d'ordres SQL envoyés à la base pendant la
  requête, compté par un écouteur `before_cursor_execute` sur le moteur de cette application ;
- sur demande (`X-Capturer-SQL: 1`), les ordres et leurs paramètres sont écrits dans
  `instance/banc-sql/` et le nom du fichier rendu dans l'en-tête `X-Capture-SQL` : le banc les rejoue
  directement sur la base pour mesurer la limite « SQL seul » de la même page ;
- la route témoin `/_banc/vide`, qui répond une constante : le plancher du serveur d'application
  (gunicorn + WSGI), sans base ni gabarit. Elle est servie avant Flask, par une application WSGI
  constante sous le même gunicorn : passée par Flask, elle relirait la session et le compte de l'usager
  connecté (des ordres SQL), et le plancher serait surestimé.
"""

from __future__ import annotations

import pickle
import secrets
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event

from dauphin.extensions import db

ENTETE_REQUETES_SQL = "X-Requetes-SQL"
ENTETE_CAPTURER = "X-Capturer-SQL"
ENTETE_CAPTURE = "X-Capture-SQL"
ROUTE_VIDE = "/_banc/vide"


COMPTEUR, ORDRES = "dauphin.requetes_sql", "dauphin.ordres_sql"  # clés de l'environnement WSGI


def _compter(conn, curseur, ordre, parametres, contexte, plusieurs) -> None:
    # Rangé dans l'environnement de la requête (et non dans g, que des requêtes peuvent partager
    # quand un contexte d'application est déjà ouvert, comme dans les tests).
    if not has_request_context():
        return
    environ = request.environ
    environ[COMPTEUR] = environ.get(COMPTEUR, 0) + 1
    if request.headers.get(ENTETE_CAPTURER) == "1":
        environ.setdefault(ORDRES, []).append((ordre, parametres, plusieurs))


def dossier_captures(app: Flask) -> Path:
    return Path(app.instance_path) / "banc-sql"


def init_app(app: Flask) -> None:
    if not app.config.get("BENCH_MESURES"):
        return
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _compter)

    @app.after_request
    def entetes_de_mesure(reponse):
        reponse.headers[ENTETE_REQUETES_SQL] = str(request.environ.get(COMPTEUR, 0))
        ordres = request.environ.get(ORDRES)
        if ordres is not None:
            dossier = dossier_captures(current_app)
            dossier.mkdir(parents=True, exist_ok=True)
            nom = f"{secrets.token_hex(8)}.pickle"
            (dossier / nom).write_bytes(pickle.dumps(ordres))
            reponse.headers[ENTETE_CAPTURE] = nom
        return reponse

    suivante = app.wsgi_app

    def route_temoin(environ, start_response):
        if environ.get("PATH_INFO") != ROUTE_VIDE:
            return suivante(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")])
        return [b"ok"]

    app.wsgi_app = route_temoin
