"""Les écritures rejouables de l'API (`Idempotency-Key`, à la manière de Stripe).

Un logiciel qui n'a pas reçu la réponse (coupure, délai dépassé) renvoie la même requête avec la même clé :
- même clé, même requête (méthode, chemin, corps) : la réponse gardée (statut et corps), rien de refait ;
- même clé, autre requête : 422, rien n'est fait ;
- même clé, requête encore en cours (deux envois simultanés) : 409, rien n'est fait.

La clé est posée dans la transaction même de l'écriture (`reserver`, avant l'appel du service, qui valide
le tout) : l'écriture et sa clé sont validées ensemble ou pas du tout. Deux envois simultanés butent sur la
contrainte d'unicité (organisation, clé) : le second ne s'exécute jamais, même sans verrou applicatif. Une
écriture refusée (4xx) ne garde pas sa clé : corrigée, la requête peut être renvoyée avec la même clé.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dauphin.extensions import db
from dauphin.models import JetonApi, RequeteIdempotente, maintenant

LONGUEUR_MAX = 255


class CleRefusee(Exception):
    """La clé ne permet pas d'exécuter la requête : `code` 400 (clé invalide), 409 (en cours) ou 422 (clé
    déjà servie pour une autre requête)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReponseGardee:
    statut: int
    corps: str


def empreinte_requete(methode: str, chemin: str, corps) -> str:
    """SHA-256 de la méthode, du chemin et du corps JSON sous forme canonique (clés triées) : deux envois
    du même objet, clés dans un autre ordre ou espaces en plus, ont la même empreinte."""
    texte = json.dumps(
        [methode.upper(), chemin, corps], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(texte.encode("utf-8", "surrogatepass")).hexdigest()


def verifier_cle(cle: str) -> str:
    cle = cle.strip()
    if not cle or len(cle) > LONGUEUR_MAX or not cle.isprintable() or not cle.isascii():
        raise CleRefusee(
            f"L’en-tête Idempotency-Key doit contenir de 1 à {LONGUEUR_MAX} caractères ASCII imprimables "
            "(un UUID, par exemple).",
            400,
        )
    return cle


def _existante(organisation_id: int, cle: str) -> RequeteIdempotente | None:
    return db.session.scalar(
        select(RequeteIdempotente).where(
            RequeteIdempotente.organisation_id == organisation_id, RequeteIdempotente.cle == cle
        )
    )


def _rejouer(existante: RequeteIdempotente, empreinte: str) -> ReponseGardee:
    if existante.empreinte_requete != empreinte:
        raise CleRefusee(
            "Cette clé d’idempotence a déjà servi pour une autre requête (autre adresse ou autre corps) : "
            "rien n’a été fait. Utilisez une nouvelle clé pour une nouvelle écriture.",
            422,
        )
    if existante.statut_reponse is None:
        raise CleRefusee(
            "Une requête avec cette clé d’idempotence est en cours de traitement, ou a été validée sans que "
            "sa réponse soit gardée : rien n’a été refait. Relisez l’objet avant de renvoyer.",
            409,
        )
    return ReponseGardee(existante.statut_reponse, existante.corps_reponse or "")


def reserver(jeton: JetonApi, cle: str, empreinte: str) -> ReponseGardee | RequeteIdempotente:
    """La réponse déjà gardée pour cette clé, ou la réservation de la clé, insérée dans la transaction qui
    s'ouvre (le service qui suit la valide avec son écriture, ou l'annule avec elle)."""
    existante = _existante(jeton.organisation_id, cle)
    if existante is not None:
        return _rejouer(existante, empreinte)
    reservation = RequeteIdempotente(
        organisation_id=jeton.organisation_id,
        jeton_id=jeton.id,
        cle=cle,
        empreinte_requete=empreinte,
        cree_le=maintenant(),
    )
    db.session.add(reservation)
    try:
        db.session.flush()  # sur PostgreSQL, un envoi simultané attend ici que le premier se termine
    except IntegrityError:
        db.session.rollback()
        existante = _existante(jeton.organisation_id, cle)
        if existante is None:  # le premier envoi a échoué entre-temps : rien à rejouer, il peut réessayer
            raise CleRefusee(
                "Une requête avec cette clé d’idempotence vient d’échouer : renvoyez-la.", 409
            ) from None
        return _rejouer(existante, empreinte)
    return reservation


def garder(reservation: RequeteIdempotente, statut: int, corps: str) -> None:
    """Garde la réponse rendue, après la validation de l'écriture (sa propre transaction)."""
    reservation.statut_reponse = statut
    reservation.corps_reponse = corps
    db.session.commit()
