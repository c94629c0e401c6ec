"""Preuve d'isolation (tests/bases.py), sur SQLite comme sur PostgreSQL, avec ou sans pytest-xdist.

Les tests vont par paires : le second échouerait si le premier fuyait. Ils tournent dans l'ordre du
fichier, sur un même worker (`xdist_group`, avec `--dist loadgroup`).
"""

from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from dauphin.models import Courriel, Organisation, StatutCourriel, TypeOrganisation, Utilisateur
from dauphin.services import courriels
from tests.bases import ConnexionSupplementaire

pytestmark = pytest.mark.xdist_group("isolation")


def compter(db, modele) -> int:
    return db.session.scalar(select(func.count()).select_from(modele))


def temoin(db, nom="Organisation témoin") -> None:
    db.session.add(Organisation(nom=nom, type_organisation=TypeOrganisation.autre))


# --- Un commit du code testé est validé pour la session, puis annulé avec le test ----------------------


def test_un_test_ecrit_et_valide(db):
    temoin(db)
    db.session.commit()
    db.session.remove()  # une autre session relit ce que la première a validé
    assert compter(db, Organisation) == 1


def test_le_suivant_ne_voit_rien(db):
    assert compter(db, Organisation) == 0


def test_un_rollback_du_code_teste_n_annule_que_sa_propre_transaction(db):
    temoin(db, "Validée")
    db.session.commit()
    temoin(db, "Annulée")
    db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(Organisation.nom)).all() == ["Validée"]


def test_apres_un_commit_la_session_n_est_pas_dans_un_point_de_sauvegarde(db):
    """Ce qui suit le commit (courriels, tâches) s'accroche à `after_commit` et se tait dans un point de
    sauvegarde interne : pour le code testé, le commit d'un test est un commit de premier niveau."""
    vus = []

    def noter(session):
        vus.append(session.in_nested_transaction())

    event.listen(db.session, "after_commit", noter)
    try:
        temoin(db)
        db.session.commit()
    finally:
        event.remove(db.session, "after_commit", noter)
    assert vus == [False]


# --- Le monde vient de la base modèle et n'en garde aucune modification ---------------------------------


def test_le_monde_est_modifie(db, monde):
    monde.structure.raison_sociale = "Association renommée"
    db.session.delete(monde.sans_role)
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(Utilisateur.email == "personne@test.fr")) == 0


def test_le_monde_revient_intact(db, monde):
    assert monde.structure.raison_sociale == "Association des Jardins"
    assert monde.sans_role.email == "personne@test.fr"


def test_sans_la_fixture_monde_la_base_est_vierge(db):
    assert compter(db, Organisation) == 0 and compter(db, Utilisateur) == 0


# --- Commit puis envoi : le courriel part, et son fichier disparaît avec le test --------------------------


def test_un_commit_envoie_le_courriel_qu_il_valide(app, db):
    """Le commit d'un test déclenche ce qui suit le commit (dauphin.unite_de_travail) : sans serveur SMTP,
    le courriel part dans un fichier .eml du dossier d'instance."""
    courriel = courriels.ecrire("lou@test.fr", "Témoin d'isolation", "Écrit par le test.")
    db.session.commit()
    assert db.session.get(Courriel, courriel.id).statut == StatutCourriel.envoye
    assert (Path(app.config["MAIL_OUTBOX_DIR"]) / f"{courriel.id:08d}.eml").exists()


def test_ni_le_courriel_ni_son_fichier_ne_restent(app, db):
    assert compter(db, Courriel) == 0
    assert not list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


# --- Une seconde connexion ne verrait rien : elle est refusée, sauf aux transactions réelles --------------


def test_une_seconde_connexion_est_refusee(db):
    with pytest.raises(ConnexionSupplementaire, match="transactions_reelles"):
        db.engine.connect()


@pytest.mark.transactions_reelles
def test_aux_transactions_reelles_une_autre_connexion_voit_le_commit(db):
    temoin(db)
    db.session.commit()
    with db.engine.connect() as autre:
        assert autre.scalar(select(func.count()).select_from(Organisation)) == 1


def test_apres_des_transactions_reelles_la_base_est_videe(db):
    assert compter(db, Organisation) == 0


def test_la_base_est_celle_demandee(app):
    import os

    attendue = os.environ["DAUPHIN_TEST_DATABASE_URL"].split(":")[0].split("+")[0]
    from dauphin.extensions import db

    assert db.engine.dialect.name == attendue
