"""Les migrations construisent la base à partir de rien (c'est ainsi que la base de test est créée,
sur SQLite comme sur PostgreSQL) et décrivent exactement les modèles."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from dauphin.models.types import hors_des_modeles


def migration_nommee(app, nom: str):
    """Le module d'une migration, trouvé par la fin de son nom de fichier : ses numéros (revision,
    down_revision) se lisent dans le fichier, une fusion peut la renuméroter."""
    import importlib.util
    from pathlib import Path

    chemin = next(Path(app.extensions["migrate"].directory, "versions").glob(f"*_{nom}.py"))
    specification = importlib.util.spec_from_file_location(f"migration_{nom}", chemin)
    migration = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(migration)
    return migration


def test_migrations_et_modeles_concordent(db):
    contexte = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "include_object": hors_des_modeles}
    )
    assert compare_metadata(contexte, db.metadata) == []


def test_schema_construit_par_les_migrations(db):
    schema = inspect(db.session.connection())  # la base du test, copiée du modèle que les migrations ont bâti
    tables = set(schema.get_table_names())
    assert "alembic_version" in tables
    assert set(db.metadata.tables) <= tables
    index_demande = {i["name"] for i in schema.get_indexes("demande")}
    assert {
        "ix_demande_structure_exercice",
        "ix_demande_campagne_statut",
        "ix_demande_exercice_statut",
    } <= index_demande
    index_lignes = {i["name"] for i in schema.get_indexes("ligne_financement")}
    assert "ix_ligne_financement_organisation_statut" in index_lignes


def test_histoire_a_une_tete_et_se_defait_puis_se_refait(app, db, tmp_path):
    """Une seule tête ; `downgrade base` ne laisse que la table des versions, et `upgrade` rebâtit à partir
    de là un schéma conforme aux modèles (base SQLite à part, le temps du test)."""
    from flask_migrate import downgrade, upgrade

    from tests.bases import avec_moteur

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1

    moteur = create_engine(f"sqlite:///{tmp_path / 'aller-retour.sqlite3'}")
    with avec_moteur(app, moteur):
        upgrade()
        downgrade(revision="base")
        assert inspect(moteur).get_table_names() == ["alembic_version"]
        upgrade()
    with moteur.connect() as connexion:
        contexte = MigrationContext.configure(connexion, opts={"compare_type": True})
        assert compare_metadata(contexte, db.metadata) == []
    moteur.dispose()


def test_un_seul_administrateur_par_structure(db, monde):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from dauphin.models import MembreStructure, RoleStructure

    db.session.add(
        MembreStructure(
            utilisateur_id=monde.signataire.id,
            structure_id=monde.structure.id,
            role=RoleStructure.signataire,
            administrateur=True,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_migration_des_portees_les_jetons_existants_gardent_ce_qu_ils_faisaient(app, tmp_path):
    """« Lecture seule » → lecture ; « lecture et écriture » → lecture et instruction (les actions que
    l'écriture ouvrait ; le vote et les paiements exigent désormais leurs portées). Et retour."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.bases import avec_moteur

    migration = migration_nommee(app, "api_portees_idempotence")

    moteur = create_engine(f"sqlite:///{tmp_path / 'jetons.sqlite3'}")
    with avec_moteur(app, moteur):
        upgrade(revision=migration.down_revision)
        with moteur.begin() as connexion:
            connexion.execute(text("PRAGMA foreign_keys=OFF"))  # les jetons seuls suffisent ici
            for ident, ecriture in ((1, 0), (2, 1)):
                connexion.execute(
                    text(
                        "INSERT INTO jeton_api (id, organisation_id, titulaire_id, libelle, prefixe, "
                        "empreinte, ecriture, expire_le, cree_le) VALUES (:id, 1, 1, 'x', 'dauphin_', :e, "
                        ":ecriture, '2027-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"id": ident, "e": f"{ident:064d}", "ecriture": ecriture},
                )
        upgrade(revision=migration.revision)
        with moteur.connect() as connexion:
            portees = dict(connexion.execute(text("SELECT id, portees FROM jeton_api ORDER BY id")).all())
        assert portees == {1: "lecture", 2: "lecture instruction"}
        downgrade(revision=migration.down_revision)
        with moteur.connect() as connexion:
            ecritures = dict(connexion.execute(text("SELECT id, ecriture FROM jeton_api ORDER BY id")).all())
        assert ecritures == {1: 0, 2: 1}
    moteur.dispose()


def test_migration_des_livraisons_d_une_adresse_desactivee_suspendues(app, tmp_path):
    """Les livraisons « en attente » d'une adresse déjà désactivée deviennent « suspendue » (sans heure) ;
    celles d'une adresse active ne bougent pas. Et retour."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.bases import avec_moteur

    migration = migration_nommee(app, "livraisons_suspendues")

    moteur = create_engine(f"sqlite:///{tmp_path / 'webhooks.sqlite3'}")
    with avec_moteur(app, moteur):
        upgrade(revision=migration.down_revision)
        with moteur.begin() as connexion:
            connexion.execute(text("PRAGMA foreign_keys=OFF"))  # les webhooks seuls suffisent ici
            for ident, actif in ((1, 1), (2, 0)):
                connexion.execute(
                    text(
                        "INSERT INTO abonnement_webhook (id, organisation_id, url, secret, actif, curseur, "
                        "cree_le) VALUES (:id, 1, 'https://exemple.fr/', 'whsec_x', :actif, 0, "
                        "'2026-01-01 00:00:00')"
                    ),
                    {"id": ident, "actif": actif},
                )
            for ident, abonnement, statut in ((1, 1, "en_attente"), (2, 2, "en_attente"), (3, 2, "livree")):
                connexion.execute(
                    text(
                        "INSERT INTO livraison_webhook (id, abonnement_id, journal_id, statut, tentatives, "
                        "prochaine_tentative_le, cree_le) VALUES (:id, :a, :id, :s, 1, "
                        "'2026-01-01 00:01:00', '2026-01-01 00:00:00')"
                    ),
                    {"id": ident, "a": abonnement, "s": statut},
                )
        upgrade(revision=migration.revision)
        requete = text("SELECT id, statut, prochaine_tentative_le IS NULL FROM livraison_webhook ORDER BY id")
        with moteur.connect() as connexion:
            lignes = [tuple(ligne) for ligne in connexion.execute(requete).all()]
        assert lignes == [(1, "en_attente", 0), (2, "suspendue", 1), (3, "livree", 0)]
        downgrade(revision=migration.down_revision)
        with moteur.connect() as connexion:
            statuts = [ligne[1] for ligne in connexion.execute(requete).all()]
        assert statuts == ["en_attente", "en_attente", "livree"]
    moteur.dispose()
