"""Les bases de données de la suite (voir tests/conftest.py pour les fixtures qui s'en servent).

- Deux modèles, construits une fois par exécution : la base « vierge » (le schéma, par les migrations, ce qui
  les teste) et la base « monde » (la même, plus `creer_monde()` validé). Le premier worker qui en a besoin
  les construit, sous un verrou ; les autres attendent puis s'en servent.
- Chaque worker de pytest-xdist copie les deux modèles dans ses propres bases : une copie de fichier sur
  SQLite, `CREATE DATABASE … TEMPLATE` sur PostgreSQL (noms tirés de DAUPHIN_TEST_DATABASE_URL).
- Chaque test tourne dans une transaction annulée à sa fin (`TransactionAnnulee`) : `db.session` s'y joint
  par des points de sauvegarde (`join_transaction_mode="create_savepoint"`), si bien qu'un commit du code
  testé est un vrai commit pour la session — événements `after_commit` compris — mais que rien ne survit
  au test. Seuls les tests qui ont besoin d'une seconde connexion (marqueur `transactions_reelles`,
  navigateur) valident pour de bon, sur la base vierge, vidée après eux.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

VIERGE = "vierge"
MONDE = "monde"
GENRES = (VIERGE, MONDE)


def nom_du_worker() -> str:
    """« gw0 », « gw1 »… sous pytest-xdist ; « solo » sans lui."""
    return os.environ.get("PYTEST_XDIST_WORKER", "solo")


def numero_du_worker() -> int:
    nom = nom_du_worker()
    return int(nom[2:]) if nom.startswith("gw") else 0


class ConnexionSupplementaire(RuntimeError):
    pass


# --- Emplacements : fichiers SQLite ou bases PostgreSQL ------------------------------------------------


class EmplacementsSqlite:
    def __init__(self, dossier: Path):
        self.dossier = dossier

    def url(self, genre: str, worker: str | None = None) -> str:
        nom = f"modele-{genre}" if worker is None else f"{genre}-{worker}"
        return f"sqlite:///{self.dossier / nom}.sqlite3"

    def creer_vide(self, url: str) -> None:
        Path(make_url(url).database).unlink(missing_ok=True)  # SQLite crée le fichier à la connexion

    def copier(self, source: str, cible: str) -> None:
        shutil.copyfile(make_url(source).database, make_url(cible).database)

    def supprimer(self, url: str) -> None:
        Path(make_url(url).database).unlink(missing_ok=True)


class EmplacementsPostgresql:
    """Les bases s'appellent comme celle de DAUPHIN_TEST_DATABASE_URL, suivie du modèle ou du worker
    (dauphin_ci_42_modele_monde, dauphin_ci_42_gw0_monde…) ; la base donnée sert à les créer et effacer."""

    def __init__(self, url_de_base: str):
        self.base = make_url(url_de_base)

    def url(self, genre: str, worker: str | None = None) -> str:
        suffixe = f"modele_{genre}" if worker is None else f"{worker}_{genre}"
        return self.base.set(database=f"{self.base.database}_{suffixe}").render_as_string(hide_password=False)

    def _executer(self, *ordres: str) -> None:
        moteur = create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with moteur.connect() as connexion:
                for ordre in ordres:
                    connexion.execute(text(ordre))
        finally:
            moteur.dispose()

    @staticmethod
    def _nom(url: str) -> str:
        return '"' + make_url(url).database + '"'

    def creer_vide(self, url: str) -> None:
        nom = self._nom(url)
        self._executer(f"DROP DATABASE IF EXISTS {nom} WITH (FORCE)", f"CREATE DATABASE {nom}")

    def copier(self, source: str, cible: str) -> None:
        # Aucune connexion ne doit rester ouverte sur le modèle pendant la copie (moteurs fermés avant).
        nom = self._nom(cible)
        self._executer(
            f"DROP DATABASE IF EXISTS {nom} WITH (FORCE)",
            f"CREATE DATABASE {nom} TEMPLATE {self._nom(source)}",
        )

    def supprimer(self, url: str) -> None:
        self._executer(f"DROP DATABASE IF EXISTS {self._nom(url)} WITH (FORCE)")


def emplacements(url_de_test: str | None, dossier_commun: Path):
    if url_de_test and url_de_test.startswith("postgresql"):
        return EmplacementsPostgresql(url_de_test)
    return EmplacementsSqlite(dossier_commun)


# --- Le moteur de db pour l'application ----------------------------------------------------------------


def moteur_du_portail(app, url: str) -> Engine:
    """Un moteur réglé comme celui de l'application (options, et `dauphin.connexions` sur PostgreSQL)."""
    from dauphin.connexions import brancher

    moteur = create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    brancher(moteur, app.config)
    return moteur


def moteur_de(app) -> Engine:
    from dauphin.extensions import db

    return db._app_engines[app][None]


def changer_de_moteur(app, moteur: Engine) -> Engine:
    """`db.engine` (et `db.session` hors transaction annulée) devient `moteur` ; rend le précédent.
    Flask-SQLAlchemy 3.1 garde ses moteurs par application dans `_app_engines` : seul moyen d'en changer
    sans recréer l'application. Les tests qui écoutent `db.engine` (compteurs d'ordres SQL) écoutent ainsi
    la base où tourne leur transaction."""
    from dauphin.extensions import db

    moteurs = db._app_engines[app]
    precedent, moteurs[None] = moteurs[None], moteur
    return precedent


@contextmanager
def avec_moteur(app, moteur: Engine):
    precedent = changer_de_moteur(app, moteur)
    try:
        yield moteur
    finally:
        changer_de_moteur(app, precedent)


# --- Les modèles, construits une fois ------------------------------------------------------------------


@contextmanager
def verrou(fichier: Path):
    with open(fichier, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def construire_les_modeles(app, lieux, dossier_commun: Path) -> None:
    """Sous le verrou de l'exécution : le premier worker construit les modèles, les autres les trouvent."""
    from flask_migrate import upgrade

    from dauphin.extensions import db
    from tests.fabriques_db import creer_monde

    temoin = dossier_commun / "modeles.json"
    if temoin.exists():
        return
    vierge, monde = lieux.url(VIERGE), lieux.url(MONDE)
    lieux.creer_vide(vierge)
    with app.app_context():
        moteur = moteur_du_portail(app, vierge)
        with avec_moteur(app, moteur):
            upgrade()  # le schéma par les migrations : la suite les teste à chaque exécution
            db.session.remove()
        moteur.dispose()
        lieux.copier(vierge, monde)
        moteur = moteur_du_portail(app, monde)
        with avec_moteur(app, moteur):
            creer_monde()
            db.session.remove()
        moteur.dispose()
    temoin.write_text(json.dumps({"vierge": vierge, "monde": monde}))


class BasesDuWorker:
    """Les deux bases d'un worker, copiées des modèles, et leurs moteurs (celui de la vierge est celui que
    l'application crée elle-même à partir de SQLALCHEMY_DATABASE_URI)."""

    def __init__(self, lieux, worker: str):
        self.lieux = lieux
        self.urls = {genre: lieux.url(genre, worker) for genre in GENRES}
        self.moteurs: dict[str, Engine] = {}

    def preparer(self, app, dossier_commun: Path) -> None:
        with verrou(dossier_commun / "modeles.lock"):
            construire_les_modeles(app, self.lieux, dossier_commun)
            for genre in GENRES:
                self.lieux.copier(self.lieux.url(genre), self.urls[genre])
        with app.app_context():
            self.moteurs[VIERGE] = moteur_de(app)
            self.moteurs[MONDE] = moteur_du_portail(app, self.urls[MONDE])

    def supprimer(self) -> None:
        for moteur in self.moteurs.values():
            moteur.dispose()
        for url in self.urls.values():
            self.lieux.supprimer(url)

    def supprimer_les_modeles(self) -> None:
        for genre in GENRES:
            self.lieux.supprimer(self.lieux.url(genre))


# --- Une transaction annulée à la fin du test ----------------------------------------------------------


class TransactionAnnulee:
    """Une connexion et sa transaction, ouvertes pour un test (ou un module) et annulées à la fin.

    `db.session` s'y joint : chaque session ouvre un point de sauvegarde, son commit le relâche, son
    rollback y revient. Toute autre connexion à la même base pendant ce temps (un second moteur, un fil
    d'exécution, `Session(db.engine)`) est refusée : elle ne verrait pas ce que le test a écrit, et le test
    doit alors porter le marqueur `transactions_reelles`.
    """

    courante: TransactionAnnulee | None = None

    def __init__(self, moteur: Engine, genre: str):
        self.moteur = moteur
        self.genre = genre
        self.fil = threading.get_ident()
        self.connexion = moteur.connect()
        self.sqlite = self.connexion.dialect.name == "sqlite"
        if self.sqlite:
            # pysqlite n'ouvre de transaction qu'avant une écriture, et un SAVEPOINT hors transaction en
            # tient lieu : son RELEASE validerait tout. On lui retire la main et on ouvre nous-mêmes.
            self.connexion.connection.driver_connection.isolation_level = None
        self.transaction = self.connexion.begin()
        if self.sqlite:
            self.connexion.exec_driver_sql("BEGIN")
        event.listen(moteur, "engine_connect", self._refuser)

    def _refuser(self, connexion) -> None:
        raise ConnexionSupplementaire(
            "Ce test ouvre une seconde connexion à la base alors qu'il tourne dans une transaction annulée à "
            "sa fin : elle ne verrait rien de ce que le test a écrit. S'il lui faut de vrais commits, vus "
            "d'une autre connexion (fils d'exécution, serveur local, travailleur RQ…), marquez-le "
            "@pytest.mark.transactions_reelles."
        )

    def connexion_du_fil(self):
        return self.connexion if threading.get_ident() == self.fil else None

    @contextmanager
    def point_de_sauvegarde(self):
        """Un niveau de plus : ce qui y est écrit (et validé) disparaît à la sortie."""
        from dauphin.extensions import db

        point = self.connexion.begin_nested()
        try:
            yield self
        finally:
            db.session.remove()
            if point.is_active:
                point.rollback()

    def annuler(self) -> None:
        from dauphin.extensions import db

        db.session.remove()
        event.remove(self.moteur, "engine_connect", self._refuser)
        try:
            self.transaction.rollback()
        finally:
            if self.sqlite:
                self.connexion.connection.driver_connection.isolation_level = ""
            self.connexion.close()


@contextmanager
def transaction_annulee(app, moteur: Engine, genre: str):
    """Installe une `TransactionAnnulee` pour la durée du bloc (db.engine compris), puis l'annule."""
    if TransactionAnnulee.courante is not None:
        raise RuntimeError("Une transaction annulée est déjà ouverte (fixture de module imbriquée ?).")
    transaction = TransactionAnnulee(moteur, genre)
    precedent = changer_de_moteur(app, moteur)
    TransactionAnnulee.courante = transaction
    try:
        yield transaction
    finally:
        TransactionAnnulee.courante = None
        try:
            transaction.annuler()
        finally:
            changer_de_moteur(app, precedent)


def joindre_les_sessions_a_la_transaction() -> None:
    """Une fois par worker : la classe des sessions de `db` se lie à la transaction annulée en cours (pour
    le fil du test), et à défaut au moteur, comme d'habitude. Sous-classe de la classe configurée, pour
    garder ce qu'elle fait (Session de l'application, événements qui l'écoutent)."""
    from dauphin.extensions import db

    fabrique = db.session.session_factory
    if getattr(fabrique.class_, "_jointe_par_les_tests", False):
        return

    class SessionDesTests(fabrique.class_):
        _jointe_par_les_tests = True

        def __init__(self, *args, **kwargs):
            # Imposé ici plutôt que dans la fabrique, qu'un test peut reconfigurer (`db.session.configure`).
            kwargs["join_transaction_mode"] = "create_savepoint"
            super().__init__(*args, **kwargs)

        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            # Flask-SQLAlchemy ignore `Session.bind` et prend le moteur de l'application : la vieille
            # recette « lier la session à une connexion » validerait pour de bon. On répond ici.
            transaction = TransactionAnnulee.courante
            connexion = transaction.connexion_du_fil() if transaction is not None else None
            if connexion is not None and bind is None:
                return connexion
            return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)

    fabrique.class_ = SessionDesTests


# --- Le dossier d'instance : ce qu'un test y dépose disparaît avec lui ---------------------------------


def fichiers_sous(dossier: Path) -> set[Path]:
    return {Path(racine) / nom for racine, _, noms in os.walk(dossier) for nom in noms}


@contextmanager
def fichiers_effaces_a_la_fin(dossier: Path):
    """Les fichiers créés dans `dossier` pendant le bloc (pièces déposées, courriels .eml, exports) sont
    effacés à la sortie : les identifiants réutilisés après l'annulation ne retrouvent pas ceux d'un autre
    test."""
    avant = fichiers_sous(dossier)
    try:
        yield
    finally:
        for fichier in fichiers_sous(dossier) - avant:
            fichier.unlink(missing_ok=True)
