"""Enveloppes des financeurs : total, engagé (voté) et reste, par contrat de ville et exercice."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, update

from dauphin.extensions import db
from dauphin.models import Demande, Enveloppe, LigneFinancement


def montant_vote(campagne_id: int, organisation_id: int) -> Decimal:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LigneFinancement.montant_vote), 0))
        .join(Demande, Demande.id == LigneFinancement.demande_id)
        .where(Demande.campagne_id == campagne_id, LigneFinancement.organisation_id == organisation_id)
    )
    return Decimal(total or 0)


def reste(campagne_id: int, organisation_id: int, verrouiller: bool = True) -> Decimal | None:
    """Ce qui reste à voter sur l'enveloppe ; None si le financeur n'a pas d'enveloppe pour la campagne.

    Avec `verrouiller`, la ligne de l'enveloppe reste verrouillée jusqu'au commit : deux votes simultanés
    du même financeur sur deux dossiers ne peuvent pas dépasser l'enveloppe à eux deux.
    """
    condition = (Enveloppe.campagne_id == campagne_id, Enveloppe.organisation_id == organisation_id)
    if verrouiller:
        # Une écriture sans effet pose le verrou avant toute lecture : la ligne sur PostgreSQL (comme FOR
        # UPDATE), la base entière sur SQLite (qui ignore FOR UPDATE) ; l'autre transaction attend le commit
        # et lit alors ce qui a été voté ou saisi.
        db.session.execute(
            update(Enveloppe).where(*condition).values(montant=Enveloppe.montant),
            execution_options={"synchronize_session": False},
        )
    enveloppe = db.session.scalar(select(Enveloppe).where(*condition))
    if enveloppe is None:
        return None
    return enveloppe.montant - montant_vote(campagne_id, organisation_id)


def vote_a_la_structure(
    organisation_id: int, structure_id: int, exercice: int, sauf_ligne_id: int | None = None
):
    """Déjà voté par un financeur à une structure pour un exercice (seuil de 23 000 € de la convention)."""
    requete = (
        select(func.coalesce(func.sum(LigneFinancement.montant_vote), 0))
        .join(Demande, Demande.id == LigneFinancement.demande_id)
        .where(
            LigneFinancement.organisation_id == organisation_id,
            Demande.structure_id == structure_id,
            Demande.exercice == exercice,
        )
    )
    if sauf_ligne_id is not None:
        requete = requete.where(LigneFinancement.id != sauf_ligne_id)
    return Decimal(db.session.scalar(requete) or 0)
