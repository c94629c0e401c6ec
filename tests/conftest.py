"""Fixtures communes. La même suite tourne sur SQLite (défaut) et sur PostgreSQL :
DAUPHIN_TEST_DATABASE_URL=postgresql+psycopg://… pytest ; en parallèle avec `-n auto` (pytest-xdist).

Isolation (tests/bases.py) : le schéma est construit une fois par exécution *par les migrations* (ce qui
les teste), dans une base modèle vierge et une base modèle où `creer_monde()` est déjà validé ; chaque
worker les copie. Chaque test tourne dans une transaction annulée à sa fin, sur la base « monde » s'il
demande la fixture `monde`, sur la vierge sinon ; le code testé valide (`commit`) comme en production, par
des points de sauvegarde. Les tests qui ont besoin de vrais commits vus d'une autre connexion portent le
marqueur `transactions_reelles` (ou `navigateur`) : ils valident sur la base vierge, vidée après eux.
tests/test_isolation.py prouve que rien ne passe d'un test à l'autre.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from tests.bases import (
    MONDE,
    VIERGE,
    BasesDuWorker,
    TransactionAnnulee,
    emplacements,
    fichiers_effaces_a_la_fin,
    joindre_les_sessions_a_la_transaction,
    nom_du_worker,
    transaction_annulee,
)

# Sans délai par exemple pour les tests de propriétés (200 ms par défaut) : sur deux cœurs partagés (xdist,
# PostgreSQL, Chromium), une pause de la machine faisait échouer un exemple d'une fonction pure
# (`test_regles_du_tableau_sans_exception`), sans rien dire du code.
settings.register_profile("dauphin", deadline=None)
settings.load_profile("dauphin")

CLE_BASES = "dauphin.tests.bases"


def pytest_report_header(config):
    url = os.environ.get("DAUPHIN_TEST_DATABASE_URL") or "SQLite (fichiers temporaires)"
    return f"Base de test : {url.split('@')[-1]} (une copie des modèles par worker)"


# --- Le dossier commun de l'exécution : les modèles, et les bases SQLite des workers -------------------


def pytest_configure(config):
    from config import url_de_base

    # `postgresql://…` comme le donnent les hébergeurs (la CI passe celle-là) : menée à psycopg 3
    config.url_de_test = url_de_base(os.environ.get("DAUPHIN_TEST_DATABASE_URL") or "") or None
    # Le processus principal choisit le dossier commun ; les workers le reçoivent (pytest_configure_node).
    if not hasattr(config, "workerinput"):
        config.dossier_commun = Path(tempfile.mkdtemp(prefix="dauphin-tests-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["dauphin_dossier_commun"] = str(node.config.dossier_commun)


def pytest_collection_modifyitems(config, items):
    """Un fichier tests/test_navigateur_*.py est marqué `navigateur` même s'il l'oublie (son serveur local
    exige de vrais commits). Réparti entre workers (-n), les tests longs partent en premier : le dernier à
    finir n'est pas un parcours dans Chromium commencé quand tout le reste était fait."""
    for item in items:
        if item.path.name.startswith("test_navigateur_") and not item.get_closest_marker("navigateur"):
            item.add_marker(pytest.mark.navigateur)
    if not config.getoption("numprocesses", None):
        return
    rang = {"navigateur": 0, "volume": 1, "proprietes": 2}
    items.sort(key=lambda item: min([rang[m.name] for m in item.iter_markers() if m.name in rang] or [3]))


def _dossier_commun(config) -> Path:
    if hasattr(config, "workerinput"):
        return Path(config.workerinput["dauphin_dossier_commun"])
    return config.dossier_commun


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        return
    dossier = config.dossier_commun
    if (dossier / "modeles.json").exists():
        BasesDuWorker(emplacements(config.url_de_test, dossier), nom_du_worker()).supprimer_les_modeles()
    shutil.rmtree(dossier, ignore_errors=True)


# --- L'application et ses bases, une fois par worker ------------------------------------------------


@pytest.fixture(scope="session")
def _application(request, tmp_path_factory):
    dossier = tmp_path_factory.mktemp("dauphin")
    os.environ["DAUPHIN_INSTANCE_PATH"] = str(dossier / "instance")
    commun = _dossier_commun(request.config)
    bases = BasesDuWorker(emplacements(request.config.url_de_test, commun), nom_du_worker())
    # L'application (et tout create_app("test") d'un test) travaille sur la base vierge du worker.
    os.environ["DAUPHIN_TEST_DATABASE_URL"] = bases.urls[VIERGE]

    from dauphin import create_app

    app = create_app("test")
    joindre_les_sessions_a_la_transaction()
    bases.preparer(app, commun)
    app.extensions[CLE_BASES] = bases
    yield app
    bases.supprimer()


def vider_la_base():
    """Après un test aux transactions réelles : la base vierge est vidée de ce qu'il a validé."""
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
            # Après un gros volume : DELETE vérifie chaque clé étrangère ligne à ligne ; TRUNCATE vide tout.
            connexion.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)))
            return
        for table in tables:
            connexion.execute(table.delete())


def transactions_reelles(request) -> bool:
    noeud = request.node
    return any(noeud.get_closest_marker(nom) for nom in ("transactions_reelles", "navigateur"))


def sans_recepisse(monkeypatch: pytest.MonkeyPatch) -> None:
    """La tâche du récépissé PDF, lancée après chaque attestation, ne fait rien."""
    monkeypatch.setattr("dauphin.taches.generer_recepisse", lambda demande_id: None)


@pytest.fixture
def app(_application, request):
    """L'application, dans un contexte ouvert pour tout le test, et la base du test (voir plus haut).

    Le récépissé PDF d'une demande transmise (WeasyPrint : le plus lent des effets d'une attestation)
    n'est produit que pour les tests marqués `recepisse`, qui le vérifient."""
    from dauphin.extensions import limiter

    bases = _application.extensions[CLE_BASES]
    module = TransactionAnnulee.courante  # ouverte par `transaction_du_module`
    with (
        _application.app_context(),
        fichiers_effaces_a_la_fin(Path(_application.instance_path)),
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        if request.node.get_closest_marker("recepisse") is None:
            sans_recepisse(monkeypatch)
        if transactions_reelles(request):
            if module is not None:
                raise RuntimeError("Un test aux transactions réelles dans un module à transaction partagée.")
            yield _application
            vider_la_base()
        elif module is not None:
            # Le module a construit ses objets une fois ; le test les voit et ses écritures s'annulent.
            with module.point_de_sauvegarde():
                yield _application
        else:
            genre = MONDE if "monde" in request.fixturenames else VIERGE
            with transaction_annulee(_application, bases.moteurs[genre], genre):
                yield _application
        limiter.reset()  # les tentatives de connexion d'un test ne comptent pas pour le suivant


@pytest.fixture(scope="module")
def transaction_du_module(_application):
    """Une transaction annulée pour tout un module, sur la base du monde : des fixtures de portée module y
    construisent leurs objets une fois (tests/test_matrice_autorisations.py) ; chaque test du module s'y
    emboîte dans un point de sauvegarde, voit ces objets et le monde, et n'y laisse rien."""
    from dauphin.extensions import limiter

    bases = _application.extensions[CLE_BASES]
    with (
        _application.app_context(),
        fichiers_effaces_a_la_fin(Path(_application.instance_path)),
        pytest.MonkeyPatch.context() as monkeypatch,
        transaction_annulee(_application, bases.moteurs[MONDE], MONDE) as transaction,
    ):
        sans_recepisse(monkeypatch)
        yield transaction
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    from dauphin.extensions import db

    return db


@pytest.fixture
def monde(app):
    """Un contrat de ville, ses financeurs, une campagne ouverte, deux structures, un compte par rôle : lu
    dans la base modèle, ou créé (et validé) sur la base vierge pour un test aux transactions réelles."""
    from tests.fabriques_db import charger_monde, creer_monde

    return charger_monde() or creer_monde()


class Connexion:
    """Se connecter et se déconnecter par les vrais écrans."""

    def __init__(self, client):
        self.client = client

    def en_tant_que(self, utilisateur, mot_de_passe="mot-de-passe-de-test"):
        """Le mot de passe, puis le code de la double authentification si le compte l'a activée."""
        from tests.connexions import se_connecter

        reponse = se_connecter(self.client, utilisateur.email, mot_de_passe)
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


@pytest.fixture
def captures(request, artefacts):
    """Le dossier des captures d'un module tests/test_navigateur_xxx_yyy.py : test-artifacts/xxx-yyy/, vidé
    des captures d'une exécution précédente."""
    nom = request.module.__name__.rpartition(".")[2].removeprefix("test_navigateur_").replace("_", "-")
    dossier = artefacts / nom
    dossier.mkdir(exist_ok=True)
    for ancienne in dossier.glob("*.png"):
        ancienne.unlink()
    return dossier


@pytest.fixture(scope="session")
def serveur_s3():
    """Un serveur S3 réel (moto) sur la boucle locale, le temps de l'exécution : son adresse."""
    from tests.s3 import serveur_s3 as demarrer

    with demarrer() as adresse:
        yield adresse
