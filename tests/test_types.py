"""Montants exacts et horodatages avec fuseau, identiques sur SQLite et PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dauphin.models import AidePublique, Utilisateur


def test_montants_exacts_meme_en_somme(db, monde):
    for _ in range(10):
        db.session.add(
            AidePublique(
                structure_id=monde.structure.id, annee=2025, financeur="État", montant=Decimal("0.10")
            )
        )
    db.session.add(
        AidePublique(
            structure_id=monde.structure.id,
            annee=2025,
            financeur="Région",
            montant=Decimal("999999999999.99"),
        )
    )
    db.session.commit()
    total = db.session.scalar(select(func.sum(AidePublique.montant)))
    assert total == Decimal("1000000000000.99")  # 0,10 × 10 = 1,00 exactement, pas 0,9999999
    relu = db.session.scalar(select(AidePublique.montant).where(AidePublique.financeur == "Région"))
    assert isinstance(relu, Decimal) and relu == Decimal("999999999999.99")


def test_horodatage_garde_le_fuseau(db, monde):
    paris = timezone(timedelta(hours=1))
    instant = datetime(2026, 1, 31, 23, 59, 59, tzinfo=paris)
    monde.signataire.derniere_connexion_le = instant
    db.session.commit()
    db.session.expire_all()
    relu = db.session.get(Utilisateur, monde.signataire.id).derniere_connexion_le
    assert relu == instant and relu.tzinfo is not None and relu.utcoffset() == UTC.utcoffset(None)


def test_horodatage_sans_fuseau_refuse(db, monde):
    monde.signataire.derniere_connexion_le = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(Exception, match="sans fuseau"):
        db.session.commit()
    db.session.rollback()
