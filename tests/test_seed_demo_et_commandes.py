"""Jeu de démonstration, commandes `flask`, pages publiques et configuration de production."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from dauphin.models import Demande, EvenementJournal, SeanceComite, StatutSeance, Utilisateur
from dauphin.seeds.demo import MOT_DE_PASSE
from dauphin.services.workflow import aujourdhui
from tests.connexions import se_connecter
from workflows import DEMANDE, LIGNE, StatutDemande


def compter(db, modele):
    return db.session.scalar(select(func.count()).select_from(modele))


def test_seed_demo_couvre_chaque_statut_et_est_idempotent(app, db):
    runner = app.test_cli_runner()
    resultat = runner.invoke(args=["seed", "demo"])
    assert resultat.exit_code == 0, resultat.output
    assert "Données de démonstration chargées" in resultat.output
    statuts = set(db.session.scalars(select(Demande.statut).distinct()))
    assert statuts == set(StatutDemande)
    # Les demandes ont été amenées à leur statut par de vraies transitions, donc journalisées
    sans_journal = db.session.scalar(
        select(func.count())
        .select_from(Demande)
        .where(
            Demande.statut != StatutDemande.brouillon,
            ~Demande.id.in_(select(EvenementJournal.demande_id)),
        )
    )
    assert sans_journal == 0
    # Les séances closes ont leur feuille de présence complète et leur quorum compté sur elle ; la séance
    # ouverte a sa convocation (si elle est à venir) et une feuille commencée.
    seances = db.session.scalars(select(SeanceComite)).all()
    closes = [s for s in seances if s.statut == StatutSeance.close]
    assert closes and all(s.pv_cle_stockage for s in closes)
    for seance in closes:
        assert {p.organisation_id for p in seance.presences} == {o.id for o in seance.contrat.partenaires}
        assert all(p.presents is not None and "quorum atteint" in p.explication for p in seance.points)
    ouvertes = [s for s in seances if s.statut == StatutSeance.vote_ouvert]
    assert ouvertes and all(s.presences for s in ouvertes)
    for seance in ouvertes:
        if seance.date_seance >= aujourdhui():
            assert seance.convocation_numero == 1 and seance.convocation_cle_stockage
    avant = {m: compter(db, m) for m in (Demande, Utilisateur, EvenementJournal)}

    resultat = runner.invoke(args=["seed", "demo"])
    assert resultat.exit_code == 0 and "déjà présentes" in resultat.output
    assert {m: compter(db, m) for m in avant} == avant


COMPTES_DU_README = [
    ("porteur.signataire@demo.dauphin.fr", "/mes-demandes/"),
    ("porteur.contributeur@demo.dauphin.fr", "/mes-demandes/"),
    ("porteur.admin@demo.dauphin.fr", "/mes-demandes/"),
    ("instructeur.etat@demo.dauphin.fr", "/instruction/"),
    ("instructeur.ville@demo.dauphin.fr", "/instruction/"),
    ("partenaire.caf@demo.dauphin.fr", "/instruction/"),
    ("pilote@demo.dauphin.fr", "/pilotage/"),
    ("admin@demo.dauphin.fr", "/administration/"),
]


def test_comptes_de_demo_du_readme(app, client):
    from pathlib import Path

    app.test_cli_runner().invoke(args=["seed", "demo"])
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert MOT_DE_PASSE in readme
    for email, espace in COMPTES_DU_README:
        assert email in readme
        reponse = se_connecter(client, email, MOT_DE_PASSE)  # et le code de admin@, secret publié
        assert reponse.status_code == 302, email
        page = client.get(espace)
        assert page.status_code == 200, email
        if espace != "/administration/":
            assert "fr-badge" in page.get_data(as_text=True), email  # des demandes, avec leur statut
        client.post("/compte/deconnexion")


def test_commande_workflow_diagram(app):
    resultat = app.test_cli_runner().invoke(args=["workflow", "diagram"])
    assert resultat.exit_code == 0
    assert resultat.output.count("stateDiagram-v2") == 2
    for definition in (DEMANDE, LIGNE):
        assert definition.nom in resultat.output
        for transition in definition.transitions:
            assert (
                f": {transition.declencheur}" in resultat.output
                or f"| {transition.declencheur}" in resultat.output
            )


def test_pages_publiques_titres_uniques(client):
    titres = set()
    for url in (
        "/",
        "/cycle-de-vie",
        "/accessibilite",
        "/mentions-legales",
        "/donnees-personnelles",
        "/donnees-ouvertes/",
        "/compte/connexion",
    ):
        reponse = client.get(url)
        assert reponse.status_code == 200, url
        html = reponse.get_data(as_text=True)
        assert '<html lang="fr"' in html
        titres.add(re.search(r"<title>(.*?)</title>", html, re.S).group(1))
        assert "Content-Security-Policy" in reponse.headers
    assert len(titres) == 7


def test_page_cycle_de_vie_generee_depuis_les_machines(client):
    html = client.get("/cycle-de-vie").get_data(as_text=True)
    assert "stateDiagram-v2" in html
    for definition in (DEMANDE, LIGNE):
        for transition in definition.transitions:
            assert f"<code>{transition.declencheur}</code>" in html


def test_page_inconnue_404_en_francais(client):
    reponse = client.get("/nulle-part")
    assert reponse.status_code == 404 and "Page non trouvée" in reponse.get_data(as_text=True)


def test_production_refuse_de_demarrer_sans_cle_secrete(monkeypatch):
    from config import ConfigurationInvalide
    from dauphin import create_app

    monkeypatch.setenv("DAUPHIN_DATABASE_URL", "postgresql+psycopg://localhost/dauphin")
    monkeypatch.delenv("DAUPHIN_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationInvalide, match="DAUPHIN_SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("DAUPHIN_SECRET_KEY", "changez-moi")
    with pytest.raises(ConfigurationInvalide):
        create_app("production")
    monkeypatch.setenv("DAUPHIN_SECRET_KEY", "x" * 64)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_developpement_garde_sa_cle_secrete_dans_instance(tmp_path, monkeypatch):
    import config

    monkeypatch.setenv("DAUPHIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DAUPHIN_SECRET_KEY", raising=False)
    premiere = config.charger("development").SECRET_KEY
    assert len(premiere) == 64 and (tmp_path / "secret_key").read_text() == premiere
    assert premiere == config.charger("development").SECRET_KEY
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_le_readme_montre_les_diagrammes_actuels():
    """Le README embarque la sortie de `flask workflow diagram` : il doit rester vrai."""
    from pathlib import Path

    from workflows import MACHINES
    from workflows.diagramme import mermaid

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for definition in MACHINES:
        assert f"```mermaid\n{mermaid(definition)}```" in readme, (
            f"Diagramme « {definition.nom} » périmé dans le README : recopiez la sortie de `make diagram`."
        )


def test_duree_du_lien_de_reinitialisation_trop_courte_refusee_au_demarrage(tmp_path, monkeypatch):
    import config

    monkeypatch.setenv("DAUPHIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DAUPHIN_PASSWORD_RESET_MINUTES", "0")
    with pytest.raises(config.ConfigurationInvalide, match="DAUPHIN_PASSWORD_RESET_MINUTES"):
        config.charger("development")
    monkeypatch.setenv("DAUPHIN_PASSWORD_RESET_MINUTES", "30")
    assert config.charger("development").REINITIALISATION_MINUTES == 30


def test_requete_parallele_de_postgresql_reglee_par_connexion(db, tmp_path, monkeypatch):
    """Sur PostgreSQL, chaque connexion du portail coupe la requête parallèle (réglable par
    DAUPHIN_DATABASE_PARALLEL_WORKERS) et la compilation JIT, et compte une page lue au hasard pour 1,1
    (base en mémoire) ; SQLite n'a rien à régler."""
    from sqlalchemy import text

    import config

    monkeypatch.setenv("DAUPHIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DAUPHIN_DATABASE_URL", "postgresql+psycopg://localhost/dauphin")
    options = config.charger("development").options_moteur()
    assert options["connect_args"] == {
        "options": "-c max_parallel_workers_per_gather=0 -c jit=off -c random_page_cost=1.1"
    }
    monkeypatch.setenv("DAUPHIN_DATABASE_PARALLEL_WORKERS", "2")
    options = config.charger("development").options_moteur()
    assert options["connect_args"] == {
        "options": "-c max_parallel_workers_per_gather=2 -c jit=off -c random_page_cost=1.1"
    }
    # Les options déjà données dans l'URL sont gardées ; DAUPHIN_DATABASE_SESSION_SETTINGS=0 n'envoie rien
    monkeypatch.setenv(
        "DAUPHIN_DATABASE_URL", "postgresql+psycopg://localhost/dauphin?options=-c%20statement_timeout%3D5000"
    )
    options = config.charger("development").options_moteur()
    assert options["connect_args"] == {
        "options": "-c statement_timeout=5000 -c max_parallel_workers_per_gather=2 -c jit=off "
        "-c random_page_cost=1.1"
    }
    monkeypatch.setenv("DAUPHIN_DATABASE_SESSION_SETTINGS", "0")
    assert "connect_args" not in config.charger("development").options_moteur()
    monkeypatch.setenv("DAUPHIN_DATABASE_URL", "sqlite:///dauphin.sqlite3")
    assert "connect_args" not in config.charger("development").options_moteur()

    # La base de cette suite : sur PostgreSQL (.ci/run), la session porte vraiment le réglage.
    if db.engine.dialect.name == "postgresql":
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        assert db.session.scalar(text("SHOW jit")) == "off"
        assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"


def test_les_url_des_hebergeurs_menent_a_psycopg_3(monkeypatch, tmp_path):
    """`postgres://` et `postgresql://`, comme les donnent les hébergeurs, ouvrent la base avec psycopg 3
    (le seul pilote installé) ; une connexion réelle le prouve quand un PostgreSQL local répond."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    import config

    monkeypatch.setenv("DAUPHIN_INSTANCE_PATH", str(tmp_path))
    for url in ("postgres://dauphin:secret@db:5432/dauphin", "postgresql://dauphin:secret@db:5432/dauphin"):
        monkeypatch.setenv("DAUPHIN_DATABASE_URL", url)
        uri = config.charger("development").SQLALCHEMY_DATABASE_URI
        assert uri == "postgresql+psycopg://dauphin:secret@db:5432/dauphin"
    monkeypatch.setenv("DAUPHIN_DATABASE_URL", "postgresql+psycopg://x@db/y")
    assert config.charger("development").SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://x@db/y"
    moteur = create_engine(config.url_de_base("postgres://postgres@127.0.0.1:5432/postgres"))
    assert moteur.dialect.driver == "psycopg"
    try:
        with moteur.connect() as connexion:
            assert connexion.scalar(text("SELECT 1")) == 1
    except OperationalError:  # pas de serveur ici : le pilote choisi (psycopg 3) suffit à la preuve
        pass
    finally:
        moteur.dispose()
