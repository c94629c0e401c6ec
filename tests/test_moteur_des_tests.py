"""La base « monde » de la suite (tests/bases.py) a le moteur de la production : sur PostgreSQL, les tests
qui s'en servent passent par la vérification des connexions et la fin des lectures (dauphin.connexions)."""

import pytest
from sqlalchemy import event

from dauphin import connexions


def test_le_moteur_du_monde_est_celui_de_la_production(db, monde):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL seulement (SQLite garde le ping du pool)")
    assert event.contains(db.engine, "checkout", connexions._verifier_a_la_sortie)
    assert event.contains(db.engine, "rollback", connexions._valider_si_lecture)
