"""Numéro de demande unique par exercice (« 2027-000042 »), attribué à la première transmission."""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as insert_pg
from sqlalchemy.dialects.sqlite import insert as insert_sqlite

from dauphin.extensions import db
from dauphin.models import CompteurNumero


def prochain_numero(exercice: int) -> str:
    inserer = insert_pg if db.session.get_bind().dialect.name == "postgresql" else insert_sqlite
    db.session.execute(inserer(CompteurNumero).values(exercice=exercice, dernier=0).on_conflict_do_nothing())
    # Incrément atomique (UPDATE … RETURNING) : deux transmissions simultanées ont deux numéros.
    dernier = db.session.scalar(
        update(CompteurNumero)
        .where(CompteurNumero.exercice == exercice)
        .values(dernier=CompteurNumero.dernier + 1)
        .returning(CompteurNumero.dernier)
    )
    return f"{exercice}-{dernier:06d}"
