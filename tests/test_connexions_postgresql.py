"""Les connexions à PostgreSQL (dauphin.connexions) : une connexion coupée par le serveur est remplacée sans
erreur pour l'usager, sans ping à chaque requête ; une transaction de lecture garde les ordres préparés de
psycopg ; une transaction qui a écrit reste annulée. Sur PostgreSQL seulement (sur SQLite, rien ne change)."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from dauphin.connexions import _SANS_ECRITURE, PREPARE, Curseur, _lecture
from dauphin.extensions import db

pytestmark = [pytest.mark.transactions_reelles]


@pytest.fixture
def moteur(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL seulement")
    db.session.remove()
    db.engine.dispose()  # une seule connexion dans le pool : celle que le test manipule
    return db.engine


def _couper(moteur, pid: int) -> None:
    """Ferme côté serveur la connexion `pid`, comme un redémarrage de PostgreSQL ou une bascule."""
    url = moteur.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as autre:
        autre.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):
            restantes = autre.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if restantes.fetchone()[0] == 0:
                return
            time.sleep(0.02)


def test_une_connexion_coupee_par_le_serveur_est_remplacee_sans_erreur(moteur, client):
    with moteur.connect() as connexion:
        ancien = connexion.execute(text("SELECT pg_backend_pid()")).scalar()
    _couper(moteur, ancien)

    with moteur.connect() as connexion:  # la même connexion du pool, morte : remplacée à la sortie
        nouveau = connexion.execute(text("SELECT pg_backend_pid()")).scalar()
    assert nouveau != ancien

    # Et par une page : la connexion de la requête suivante est coupée à son tour, la page s'affiche.
    _couper(moteur, nouveau)
    assert client.get("/compte/connexion").status_code == 200
    with moteur.connect() as connexion:
        assert connexion.execute(text("SELECT pg_backend_pid()")).scalar() not in (ancien, nouveau)


def _compter_les_ordres(monkeypatch) -> list:
    envois = []
    origine = psycopg.Cursor.execute

    def compte(self, *args, **kwargs):
        envois.append(args[0])
        return origine(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", compte)
    return envois


def test_une_connexion_saine_sort_du_pool_sans_aller_retour(moteur, monkeypatch):
    with moteur.connect() as connexion:
        connexion.execute(text("SELECT 1"))
    envois = _compter_les_ordres(monkeypatch)
    with moteur.connect() as connexion:
        connexion.exec_driver_sql("SELECT 2")
    # Pas de SELECT 1 du ping ; à la fin, la base dit si la transaction a écrit (voir la fin des lectures).
    assert envois == ["SELECT 2", _SANS_ECRITURE]


def test_une_connexion_restee_au_repos_est_verifiee_par_un_vrai_ping(moteur, monkeypatch):
    """Une coupure silencieuse du réseau ne s'annonce pas sur la socket : au-delà de REPOS_AVANT_PING, la
    connexion sortie du pool passe par un SELECT 1."""
    with moteur.connect() as connexion:
        connexion.execute(text("SELECT 1"))
    monkeypatch.setattr("dauphin.connexions.REPOS_AVANT_PING", 0.0)
    envois = _compter_les_ordres(monkeypatch)
    time.sleep(0.01)
    with moteur.connect() as connexion:
        connexion.exec_driver_sql("SELECT 2")
    assert envois == ["SELECT 1", "SELECT 2", _SANS_ECRITURE]


def _ordres_prepares(connexion) -> list[str]:
    return connexion.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()


def test_une_transaction_de_lecture_garde_les_ordres_prepares(moteur):
    ordre = text("SELECT count(*) FROM utilisateur WHERE id > :borne").execution_options(**PREPARE)
    with moteur.connect() as connexion:
        connexion.execute(ordre, {"borne": 0})  # préparé dès sa première exécution
        connexion.rollback()  # ce que fait la fin de chaque requête de lecture
        assert any("FROM utilisateur WHERE id >" in o for o in _ordres_prepares(connexion))
        connexion.rollback()
    with moteur.connect() as connexion:  # rendue au pool puis ressortie : toujours préparé
        assert any("FROM utilisateur WHERE id >" in o for o in _ordres_prepares(connexion))


def test_un_ordre_courant_est_prepare_a_sa_sixieme_execution_et_garde(moteur):
    ordre = text("SELECT count(*) FROM structure WHERE id > :borne")
    with moteur.connect() as connexion:
        for _ in range(6):
            connexion.execute(ordre, {"borne": 0})
        connexion.rollback()
        assert any("FROM structure WHERE id >" in o for o in _ordres_prepares(connexion))


def test_une_recherche_plein_texte_n_est_jamais_preparee(moteur):
    """Un plan générique ignore le mot cherché et l'onglet (index GIN partiels) : une recherche plein texte
    est planifiée à chaque exécution, même exécutée souvent."""
    recherche = text(
        "SELECT count(*) FROM ligne_financement WHERE recherche @@ to_tsquery('simple', :mot)"
    ).execution_options(**PREPARE)
    with moteur.connect() as connexion:
        for _ in range(10):
            connexion.execute(recherche, {"mot": "jeunes"})
        assert not any("@@" in o for o in _ordres_prepares(connexion))


def test_une_requete_with_qui_ne_fait_que_lire_garde_les_ordres_prepares(moteur):
    """Les listes de filtres de l'espace d'instruction sont une requête WITH : prise pour une écriture, elle
    faisait annuler chaque page de l'espace, et psycopg oubliait ses ordres préparés."""
    ordre = text("SELECT count(*) FROM utilisateur WHERE id > :borne").execution_options(**PREPARE)
    avec = text("WITH u AS (SELECT id FROM utilisateur) SELECT count(*) FROM u WHERE id > :borne")
    with moteur.connect() as connexion:
        connexion.execute(ordre, {"borne": 0})
        connexion.execute(avec, {"borne": 0})
        connexion.rollback()
        assert any("FROM utilisateur WHERE id >" in o for o in _ordres_prepares(connexion))
        connexion.rollback()


def test_une_requete_with_qui_ecrit_reste_annulee(moteur):
    ecrit = text(
        "WITH n AS (INSERT INTO axe_transversal (code, libelle) VALUES ('ZZ_WITH', 'x') RETURNING code) "
        "SELECT count(*) FROM n"
    )
    with moteur.connect() as connexion:
        assert connexion.execute(ecrit).scalar() == 1
        connexion.rollback()
        compte = text("SELECT count(*) FROM axe_transversal WHERE code = 'ZZ_WITH'")
        assert connexion.execute(compte).scalar() == 0
        connexion.rollback()


def test_le_tri_des_lectures():
    assert _lecture("SELECT 1") and _lecture("  select x FROM t")
    assert _lecture("WITH a AS (SELECT 1) SELECT * FROM a")
    for ecriture in (
        "WITH a AS (DELETE FROM t RETURNING id) SELECT * FROM a",
        "with a as (select 1) update t set x = 1",
        "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
        "INSERT INTO t VALUES (1)",
        "SET jit = off",
        "SAVEPOINT sa_1",
    ):
        assert not _lecture(ecriture), ecriture


def test_une_transaction_qui_a_ecrit_reste_annulee(moteur):
    with moteur.connect() as connexion:
        connexion.execute(text("CREATE TABLE essai_annulation (x integer)"))
        connexion.execute(text("SELECT count(*) FROM essai_annulation"))
        connexion.rollback()
        assert connexion.execute(text("SELECT to_regclass('essai_annulation')")).scalar() is None


def test_sans_ordres_prepares_derriere_un_vieux_pgbouncer(moteur, monkeypatch):
    """DAUPHIN_DATABASE_PREPARED=0 (PgBouncer en mode transaction avant 1.22) : aucun ordre préparé, même
    marqué PREPARE, et la connexion reste vérifiée à sa sortie du pool."""
    from dauphin import create_app

    monkeypatch.setenv("DAUPHIN_DATABASE_PREPARED", "0")
    autre = create_app("test")
    with autre.app_context():
        moteur_sans = db.engine
        try:
            ordre = text("SELECT count(*) FROM utilisateur WHERE id > :borne").execution_options(**PREPARE)
            with moteur_sans.connect() as connexion:
                for _ in range(10):
                    connexion.execute(ordre, {"borne": 0})
                assert _ordres_prepares(connexion) == []
                ancien = connexion.execute(text("SELECT pg_backend_pid()")).scalar()
            _couper(moteur_sans, ancien)
            with moteur_sans.connect() as connexion:
                assert connexion.execute(text("SELECT pg_backend_pid()")).scalar() != ancien
        finally:
            moteur_sans.dispose()


def test_une_connexion_au_descripteur_eleve_sort_du_pool(moteur):
    """Un processus aux nombreux fichiers ouverts (travailleur RQ, serveur chargé) donne à sa connexion un
    descripteur au-delà de 1 023, que `select.select` refuse : la vérification à la sortie du pool passe
    par `poll`, et la connexion sert."""
    import os
    import resource

    souple, dur = resource.getrlimit(resource.RLIMIT_NOFILE)
    if dur != resource.RLIM_INFINITY and dur < 1200:
        pytest.skip(f"limite de fichiers ouverts trop basse ({dur}) pour ouvrir 1 100 descripteurs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(souple, 1200), dur))
    bouches = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        moteur.dispose()
        with moteur.connect() as connexion:
            assert connexion.connection.dbapi_connection.pgconn.socket > 1023
            assert connexion.execute(text("SELECT 1")).scalar() == 1
        with moteur.connect() as connexion:  # ressortie du pool : vérifiée par sa socket
            assert connexion.execute(text("SELECT 2")).scalar() == 2
    finally:
        moteur.dispose()
        for bouche in bouches:
            os.close(bouche)
        resource.setrlimit(resource.RLIMIT_NOFILE, (souple, dur))


def test_une_ecriture_par_le_pilote_reste_annulee(moteur):
    """Ce que SQLAlchemy ne voit pas passer (le COPY de `flask seed scale`, écrit par le pilote) : la
    transaction n'a vu que des SELECT, mais la base sait qu'elle a écrit ; son annulation en est une."""
    with moteur.connect() as connexion:
        connexion.execute(text("SELECT 1"))
        brute = connexion.connection.driver_connection
        with (
            brute.cursor() as curseur,
            curseur.copy("COPY axe_transversal (code, libelle) FROM STDIN") as copie,
        ):
            copie.write_row(("ZZ_COPIE", "écrit par COPY"))
        connexion.rollback()
        assert (
            connexion.execute(text("SELECT count(*) FROM axe_transversal WHERE code = 'ZZ_COPIE'")).scalar()
            == 0
        )
        connexion.rollback()


def test_un_chargement_du_volume_interrompu_ne_laisse_rien(moteur, monkeypatch):
    """`flask seed scale` : tout ou rien. Une panne après la copie du référentiel (nomenclature déjà là) ne
    laisse rien en base, et un nouveau chargement reste possible."""
    from dauphin.seeds import scale
    from dauphin.seeds.referentiel import charger_nomenclature

    charger_nomenclature()
    db.session.commit()

    def panne(*_args, **_kwargs):
        raise RuntimeError("panne pendant la génération des structures")

    monkeypatch.setattr(scale._Structures, "__init__", panne)
    with pytest.raises(RuntimeError):
        scale.charger_volume(10, journal=lambda _message: None)
    db.session.remove()
    assert db.session.execute(text("SELECT count(*) FROM organisation")).scalar() == 0
    assert db.session.execute(text("SELECT count(*) FROM contrat_de_ville")).scalar() == 0


def test_une_recherche_lue_par_un_curseur_cote_serveur(moteur):
    """Un curseur côté serveur (`yield_per`, comme les exports) n'accepte pas l'argument `prepare`."""
    with moteur.connect() as connexion:
        resultat = connexion.execute(
            text(
                "SELECT id FROM demande WHERE recherche @@ to_tsquery('simple', 'jeunes')"
            ).execution_options(yield_per=100)
        )
        assert list(resultat) == []


def test_le_vrai_ping_ne_laisse_pas_de_transaction_ouverte(moteur, monkeypatch):
    """Après un vrai ping (connexion restée au repos), la connexion sort du pool hors transaction : un
    changement d'isolation (AUTOCOMMIT, pour VACUUM ou CREATE INDEX CONCURRENTLY) reste possible."""
    with moteur.connect() as connexion:
        connexion.execute(text("SELECT 1"))
    monkeypatch.setattr("dauphin.connexions.REPOS_AVANT_PING", 0.0)
    time.sleep(0.01)
    with moteur.connect() as connexion:
        assert connexion.connection.driver_connection.info.transaction_status.name == "IDLE"
        connexion.execution_options(isolation_level="AUTOCOMMIT")
        assert connexion.exec_driver_sql("SELECT 2").scalar() == 2


def test_description_paresseuse_comme_celle_de_psycopg(moteur):
    """Le curseur du portail rend la description de psycopg, construite au premier accès, pour le résultat
    d'alors (même si le curseur en a reçu un autre depuis)."""
    with moteur.connect() as connexion:
        curseur = connexion.connection.dbapi_connection.cursor()
        assert type(curseur) is Curseur
        curseur.execute("SELECT 1 AS un, 'é'::text AS texte, now() AS instant, NULL::numeric(9,2) AS montant")
        paresseuse, attendue = curseur.description, psycopg.Cursor.description.fget(curseur)
        curseur.execute("SELECT 2 AS autre")
        assert len(paresseuse) == 4 and paresseuse[-1].name == "montant"
        assert paresseuse[1:3][0].name == "texte"
        assert [tuple(c) for c in paresseuse] == [tuple(c) for c in attendue]
        assert [c.name for c in paresseuse] == ["un", "texte", "instant", "montant"]
        assert [c.name for c in curseur.description] == ["autre"]
        curseur.execute("SELECT")  # aucune colonne : une description vide, pas None (comme psycopg)
        assert curseur.description is not None and list(curseur.description) == [] and not curseur.description
        curseur.execute("SET LOCAL application_name = 'essai'")
        assert curseur.description is None and psycopg.Cursor.description.fget(curseur) is None
