"""Preuve d'isolation : ce qu'un test écrit (et valide) n'existe plus au test suivant, sur les deux bases.

Les deux tests s'exécutent dans l'ordre du fichier : le second échouerait si le premier fuyait.
"""

from sqlalchemy import func, select

from dauphin.models import Organisation, TypeOrganisation


def test_un_test_ecrit_et_valide(db):
    db.session.add(Organisation(nom="Organisation témoin", type_organisation=TypeOrganisation.autre))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_le_suivant_ne_voit_rien(db):
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_la_base_est_celle_demandee(app):
    import os

    attendue = os.environ["DAUPHIN_TEST_DATABASE_URL"].split(":")[0].split("+")[0]
    from dauphin.extensions import db

    assert db.engine.dialect.name == attendue
