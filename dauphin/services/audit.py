"""Trace des modifications du référentiel et des comptes (table `evenement_referentiel`).

Écrite dans la même transaction que la modification : pas de changement sans sa trace, pas de trace
d'un changement annulé.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from dauphin.extensions import db
from dauphin.models import EvenementReferentiel, Utilisateur, maintenant

RESUME_MAX = 500


def serialisable(valeur):
    """Une valeur lisible en JSON (dates ISO, montants en texte exact, énumérations par valeur)."""
    if isinstance(valeur, Enum):
        return valeur.value
    if isinstance(valeur, Decimal):
        return f"{valeur:.2f}"
    if isinstance(valeur, date | datetime):
        return valeur.isoformat()
    if isinstance(valeur, dict):
        return {str(cle): serialisable(v) for cle, v in valeur.items()}
    if isinstance(valeur, list | tuple | set):
        return [serialisable(v) for v in valeur]
    return valeur


def tracer(
    acteur: Utilisateur | None,
    objet_type: str,
    objet_id,
    action: str,
    resume: str,
    details: dict | None = None,
) -> EvenementReferentiel:
    evenement = EvenementReferentiel(
        acteur_id=acteur.id if acteur is not None else None,
        objet_type=objet_type,
        objet_id=str(objet_id),
        action=action,
        resume=resume[:RESUME_MAX],
        details=serialisable(details) if details else None,
        horodatage=maintenant(),
    )
    db.session.add(evenement)
    return evenement


def ecarts(avant: dict, apres: dict) -> dict:
    """{champ: [avant, après]} pour chaque valeur changée."""
    return {
        champ: [serialisable(avant.get(champ)), serialisable(valeur)]
        for champ, valeur in apres.items()
        if avant.get(champ) != valeur
    }
