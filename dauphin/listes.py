"""Requêtes des listes : pagination en SQL et chargement groupé (pas de N+1), recherche d'un texte."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.orm import joinedload, load_only, selectinload

from dauphin.extensions import db
from dauphin.models import Campagne, ContratDeVille, Demande, LigneFinancement, Organisation, Structure


def page_courante() -> int:
    return request.args.get("page", 1, type=int) or 1


def contient(texte: str, *colonnes) -> ColumnElement[bool]:
    """Une des colonnes contient `texte`, sans tenir compte de la casse et au pied de la lettre : « % » et
    « _ » tapés dans une recherche ne sont pas des jokers."""
    motif = "%" + texte.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(colonne.ilike(motif, escape="\\") for colonne in colonnes))


def colonnes_de_liste(*autres):
    """Les colonnes qu'une liste de demandes affiche (plus `autres`), pas les longs textes de l'action."""
    return load_only(
        Demande.numero,
        Demande.intitule,
        Demande.structure_id,
        Demande.campagne_id,
        Demande.exercice,
        Demande.statut,
        Demande.version,
        *autres,
    )


def paginer_demandes(requete: Select):
    """Pagine `requete` (un select de Demande) et charge en lot ce que les listes affichent, et seulement
    les colonnes qu'elles lisent : chaque colonne lue est convertie puis rangée dans l'objet, et une page
    de 25 demandes en lit des centaines. La structure, la campagne et le contrat (une seule chacun par
    demande) sont joints à la page au lieu de trois requêtes de plus : chaque requête coûte plus à
    SQLAlchemy (compilation, curseur) que les 25 lignes qu'elle lit. Les structures que la page montre sont
    souvent déjà dans la session (celles du porteur, chargées par son tableau de bord) : la jointure ne les
    relit pas."""
    requete = requete.options(
        joinedload(Demande.structure, innerjoin=True).load_only(
            Structure.raison_sociale, Structure.sigle, Structure.siret
        ),
        joinedload(Demande.campagne, innerjoin=True)
        .load_only(Campagne.contrat_id)
        .joinedload(Campagne.contrat, innerjoin=True)
        .load_only(ContratDeVille.libelle),
        selectinload(Demande.lignes_financement)
        .load_only(
            LigneFinancement.organisation_id,
            LigneFinancement.statut,
            LigneFinancement.montant_demande,
            LigneFinancement.montant_vote,
        )
        .joinedload(LigneFinancement.organisation)
        .load_only(Organisation.nom),
    )
    return db.paginate(
        requete,
        page=page_courante(),
        per_page=current_app.config["PAGE_TAILLE"],
        error_out=False,
        max_per_page=100,
    )
