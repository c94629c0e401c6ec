"""Fixtures communes. La même suite tourne sur SQLite (défaut) et sur PostgreSQL :
DAUPHIN_TEST_DATABASE_URL=postgresql+psycopg://… pytest.

Isolation : une base construite une fois par session *par les migrations* (ce qui les teste), puis
vidée après chaque test qui l'a utilisée. Les tests valident donc de vraies transactions — deux
sessions concurrentes se voient l'une l'autre, comme en production — et
tests/test_isolation.py prouve que rien ne passe d'un test à l'autre.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def pytest_report_header(config):
    url = os.environ.get("DAUPHIN_TEST_DATABASE_URL") or "SQLite (fichier temporaire)"
    return f"Base de test : {url.split('@')[-1]}"


@pytest.fixture(scope="session")
def _application(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("dauphin")
    os.environ["DAUPHIN_INSTANCE_PATH"] = str(dossier / "instance")
    url = os.environ.get("DAUPHIN_TEST_DATABASE_URL") or f"sqlite:///{dossier / 'test.sqlite3'}"
    os.environ["DAUPHIN_TEST_DATABASE_URL"] = url
    if url.startswith("postgresql"):
        moteur = create_engine(url)
        with moteur.begin() as connexion:  # une base neuve, quel que soit ce qu'y a laissé un essai précédent
            connexion.execute(text("DROP SCHEMA public CASCADE"))
            connexion.execute(text("CREATE SCHEMA public"))
        moteur.dispose()

    from flask_migrate import upgrade

    from dauphin import create_app

    app = create_app("test")
    with app.app_context():
        upgrade()
    return app


def vider_la_base():
    from dauphin.extensions import db

    db.session.remove()
    with db.engine.begin() as connexion:
        tables = list(reversed(db.metadata.sorted_tables))
        if (
            connexion.dialect.name == "postgresql"
            and connexion.execute(
                text("SELECT count(*) > 5000 FROM (SELECT 1 FROM demande LIMIT 5001) AS d")
            ).scalar()
        ):
            # Après un test en volume (export de 50 000 demandes) : DELETE vérifie chaque clé étrangère
            # ligne à ligne (deux minutes) ; TRUNCATE vide tout d'un coup.
            connexion.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)))
            return
        for table in tables:
            connexion.execute(table.delete())


@pytest.fixture
def app(_application):
    from dauphin.extensions import limiter

    with _application.app_context():
        yield _application
        vider_la_base()
        limiter.reset()  # les tentatives de connexion d'un test ne comptent pas pour le suivant


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    from dauphin.extensions import db

    return db


@pytest.fixture
def monde(app):
    """Un contrat de ville, ses financeurs, une campagne ouverte, deux structures, un compte par rôle."""
    from tests.fabriques_db import creer_monde

    return creer_monde()


class Connexion:
    """Se connecter et se déconnecter par les vrais écrans."""

    def __init__(self, client):
        self.client = client

    def en_tant_que(self, utilisateur, mot_de_passe="mot-de-passe-de-test"):
        reponse = self.client.post(
            "/compte/connexion", data={"email": utilisateur.email, "mot_de_passe": mot_de_passe}
        )
        assert reponse.status_code == 302, reponse.get_data(as_text=True)
        return reponse

    def deconnexion(self):
        return self.client.post("/compte/deconnexion")


@pytest.fixture
def connexion(client):
    return Connexion(client)


@pytest.fixture
def artefacts():
    dossier = Path(__file__).resolve().parent.parent / "test-artifacts"
    dossier.mkdir(exist_ok=True)
    return dossier
