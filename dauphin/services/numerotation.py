"""Numéro de demande unique par exercice (« 2027-000042 »), attribué à la première transmission."""

from sqlalchemy.dialects.postgresql import insert as insert_pg
from sqlalchemy.dialects.sqlite import insert as insert_sqlite

from dauphin.extensions import db
from dauphin.models import CompteurNumero


def prochain_numero(exercice: int) -> str:
    inserer = insert_pg if db.session.get_bind().dialect.name == "postgresql" else insert_sqlite
    table = CompteurNumero.__table__
    # Un seul ordre, atomique : le compteur de l'exercice créé à 1, ou incrémenté (ligne verrouillée
    # jusqu'au commit) ; deux transmissions simultanées ont deux numéros. Sans autoflush : il ne lit rien
    # de ce que la transaction a modifié, et la demande s'écrit en une fois au commit.
    requete = (
        inserer(table)
        .values(exercice=exercice, dernier=1)
        .on_conflict_do_update(index_elements=[table.c.exercice], set_={"dernier": table.c.dernier + 1})
        .returning(table.c.dernier)
    )
    with db.session.no_autoflush:
        dernier = db.session.execute(requete).scalar_one()
    return f"{exercice}-{dernier:06d}"
