"""Curseurs opaques de la pagination par clé (keyset) : la dernière clé de tri lue, (modifie_le, id) ou
(id,), encodée en base64 URL. Une page se lit en SQL par `WHERE (modifie_le, id) > (…) ORDER BY …
LIMIT n` : ni OFFSET qui ralentit au fil des pages, ni élément sauté ou vu deux fois quand la liste change
pendant qu'on la parcourt (un élément modifié entre-temps repasse plus loin, avec sa nouvelle date)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import and_, or_


def ecrire(instant: datetime | None, ident: int) -> str:
    texte = f"{instant.isoformat() if instant else ''}|{ident}"
    return base64.urlsafe_b64encode(texte.encode()).decode().rstrip("=")


def lire(curseur: str) -> tuple[datetime | None, int] | None:
    """(instant, id) du curseur, ou None s'il n'en est pas un."""
    try:
        texte = base64.urlsafe_b64decode(curseur + "=" * (-len(curseur) % 4)).decode()
        instant, _, ident = texte.partition("|")
        valeur = int(ident)
        if not 0 < valeur <= 2_147_483_647:
            return None
        if not instant:
            return None, valeur
        moment = datetime.fromisoformat(instant)
        return (moment, valeur) if moment.tzinfo is not None else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def apres(colonne_instant, colonne_id, curseur: str | None):
    """La clause « après ce curseur » sur (instant, id) — ou sur id seul si `colonne_instant` est None."""
    if not curseur:
        return None
    instant, ident = lire(curseur)
    if colonne_instant is None or instant is None:
        return colonne_id > ident
    return or_(colonne_instant > instant, and_(colonne_instant == instant, colonne_id > ident))


def page(requete, colonne_instant, colonne_id, curseur: str | None, par_page: int, lire_objets):
    """Une page de `requete` triée par (instant, id), et le curseur de la suivante (None : la dernière).
    `lire_objets(requete)` exécute la requête (avec ses options de chargement groupé)."""
    clause = apres(colonne_instant, colonne_id, curseur)
    if clause is not None:
        requete = requete.where(clause)
    ordre = (colonne_id,) if colonne_instant is None else (colonne_instant, colonne_id)
    objets = list(lire_objets(requete.order_by(*ordre).limit(par_page + 1)))
    if len(objets) <= par_page:
        return objets, None
    objets = objets[:par_page]
    dernier = objets[-1]
    instant = getattr(dernier, colonne_instant.key) if colonne_instant is not None else None
    return objets, ecrire(instant, dernier.id)
