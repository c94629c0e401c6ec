"""Curseurs opaques de la pagination par clé (keyset) : la dernière clé de tri lue, (modifie_le, id) ou
(id,), encodée en base64 URL. Une page se lit en SQL par `WHERE (modifie_le, id) > (…) ORDER BY …
LIMIT n` : ni OFFSET qui ralentit au fil des pages, ni élément sauté ou vu deux fois quand la liste change
pendant qu'on la parcourt (un élément modifié entre-temps repasse plus loin, avec sa nouvelle date)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from sqlalchemy import and_, or_


def emballer(valeur) -> str:
    """Un curseur opaque : `valeur` (du JSON) en base64 URL, sans le remplissage. Le seul encodage des
    curseurs du portail (listes de l'API, flux des changements, espace d'instruction)."""
    return base64.urlsafe_b64encode(json.dumps(valeur, separators=(",", ":")).encode()).decode().rstrip("=")


def deballer(curseur: str | None):
    """La valeur d'un curseur d'`emballer`, ou None s'il est absent ou illisible."""
    if not curseur:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(curseur + "=" * (-len(curseur) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def ecrire(instant: datetime | None, ident: int) -> str:
    return emballer([instant.isoformat() if instant else None, ident])


def lire(curseur: str) -> tuple[datetime | None, int] | None:
    """(instant, id) du curseur, ou None s'il n'en est pas un."""
    valeur = deballer(curseur)
    if not isinstance(valeur, list) or len(valeur) != 2:
        return None
    instant, ident = valeur
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident <= 2_147_483_647:
        return None
    if instant is None:
        return None, ident
    try:
        moment = datetime.fromisoformat(instant)
    except (TypeError, ValueError):
        return None
    return (moment, ident) if moment.tzinfo is not None else None


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
