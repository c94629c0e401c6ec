"""Documents PDF produits par le portail (WeasyPrint, à partir de gabarits Jinja)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import render_template
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from dauphin.extensions import db
from dauphin.models import (
    Demande,
    Document,
    LigneBudget,
    LigneFinancement,
    RegleMajorite,
    SeanceComite,
    TypePiece,
    maintenant,
)
from dauphin.services import documents
from dauphin.unite_de_travail import charger_avec
from workflows.budget import COMPTES, Sens, totaux
from workflows.comite import quorum_requis


def html_en_pdf(html: str) -> bytes:
    from weasyprint import HTML  # import tardif : lourd, inutile aux processus qui ne produisent pas de PDF

    return HTML(string=html).write_pdf()


def recepisse(demande: Demande) -> bytes:
    charges = [lb for lb in demande.lignes_budget if COMPTES[lb.compte].sens is Sens.charge]
    produits = [lb for lb in demande.lignes_budget if COMPTES[lb.compte].sens is Sens.produit]
    html = render_template(
        "pdf/recepisse.html",
        demande=demande,
        charges=charges,
        produits=produits,
        totaux=totaux(demande.lignes_budget),
        comptes=COMPTES,
        produit_le=maintenant(),
    )
    return html_en_pdf(html)


def enregistrer_recepisse(demande_id: int) -> int:
    demande = charger_avec(
        Demande,
        demande_id,
        selectinload(Demande.lignes_budget).selectinload(LigneBudget.financeur),
        selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
    )
    contenu = recepisse(demande)
    document = documents.stocker(
        demande.structure,
        TypePiece.recepisse,
        f"recepisse-{demande.numero}.pdf",
        contenu,
        "application/pdf",
    )
    document.demande_id = demande.id
    db.session.commit()
    return document.id


RATTRAPAGE_RECEPISSES = timedelta(days=30)
# Laisse à la tâche déposée à l'attestation le temps de passer : la reprise ne la double pas.
DELAI_TACHE_RECEPISSE = timedelta(minutes=2)


def recepisses_manquants(limite: int = 50) -> list[int]:
    """Les demandes attestées il y a plus de 2 minutes et moins de 30 jours dont le récépissé de la dernière
    attestation manque : sa tâche s'est perdue (Redis en panne à l'attestation) ou a échoué. Reprises par
    `dauphin.taches.rattraper_recepisses`."""
    recent, laisse = maintenant() - RATTRAPAGE_RECEPISSES, maintenant() - DELAI_TACHE_RECEPISSE
    produit = (
        select(Document.id)
        .where(
            Document.demande_id == Demande.id,
            Document.type_piece == TypePiece.recepisse,
            Document.depose_le >= Demande.atteste_le,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(Demande.id)
            .where(Demande.numero.is_not(None), Demande.atteste_le.between(recent, laisse), ~produit)
            .order_by(Demande.atteste_le)
            .limit(limite)
        )
    )


def recepisse_en_cours(demande: Demande, recepisse: Document | None) -> bool:
    """Le récépissé de la dernière attestation (récente) n'est pas encore produit : la tâche est en file, ou
    sera reprise par `rattraper_recepisses`. Un récépissé antérieur à l'attestation n'est plus le bon."""
    if demande.numero is None or demande.atteste_le is None:
        return False
    if recepisse is not None and recepisse.depose_le >= demande.atteste_le:
        return False
    return demande.atteste_le >= maintenant() - RATTRAPAGE_RECEPISSES


def _dernier_recepisse(demande_id, colonne=Document):
    """Le récépissé d'une demande qui fait foi : le dernier produit (`colonne` : le document ou l'une de
    ses colonnes ; `demande_id` : un identifiant, ou la colonne d'une requête sur les demandes)."""
    return (
        select(colonne)
        .where(Document.demande_id == demande_id, Document.type_piece == TypePiece.recepisse)
        .order_by(Document.id.desc())
        .limit(1)
    )


def dernier_recepisse(demande: Demande) -> Document | None:
    return db.session.scalar(_dernier_recepisse(demande.id))


class RecepisseLu(NamedTuple):
    """Ce que la vue d'un dossier lit du dernier récépissé : son lien et sa date de dépôt."""

    id: int
    depose_le: datetime


def colonnes_du_dernier_recepisse() -> tuple:
    """Pour une requête sur les demandes : l'identifiant et la date de dépôt de leur dernier récépissé
    (NULL sans récépissé), lus avec elles (sous-requêtes corrélées) au lieu d'une requête de plus."""
    return (
        _dernier_recepisse(Demande.id, Document.id).scalar_subquery().label("recepisse_id"),
        _dernier_recepisse(Demande.id, Document.depose_le).scalar_subquery().label("recepisse_depose_le"),
    )


def enregistrer_proces_verbal(seance_id: int) -> str:
    """Produit le procès-verbal d'une séance close du comité de pilotage, le range et rend sa clé."""
    from dauphin.services import comites

    seance = comites.charger(seance_id)
    feuille, resultats = comites.resultats(seance)
    quorum, regle = comites.regles(seance)
    html = render_template(
        "pdf/proces_verbal.html",
        seance=seance,
        votes=comites.votes_par_point(seance),
        feuille=feuille,
        resultats=resultats,
        quorum=quorum,
        requis=quorum_requis(len(feuille.partenaires), quorum),
        regle=RegleMajorite(regle),
        produit_le=maintenant(),
    )
    contenu = html_en_pdf(html)
    seance.pv_cle_stockage = documents.ranger(contenu)
    seance.pv_taille = len(contenu)
    seance.pv_sha256 = hashlib.sha256(contenu).hexdigest()
    seance.pv_produit_le = maintenant()
    db.session.commit()
    return seance.pv_cle_stockage


def convocation(seance: SeanceComite) -> bytes:
    """La convocation au comité : date, lieu, partenaires convoqués, ordre du jour (chaque dossier, sa
    structure et le montant demandé à chaque financeur)."""
    from dauphin.services import comites

    html = render_template(
        "pdf/convocation.html",
        seance=seance,
        feuille=comites.feuille_de_presence(seance),
        produit_le=maintenant(),
    )
    return html_en_pdf(html)


def enregistrer_convocation(seance_id: int, numero: int) -> str | None:
    """Produit le PDF de la convocation n° `numero` de la séance, le range et rend sa clé — ou la clé déjà
    rangée (la tâche et un téléchargement peuvent se croiser). None si un envoi plus récent l'a remplacée :
    la tâche de cet envoi produira la sienne.

    La séance est mise à jour sans changer de version : produire le PDF ne périme pas la page que le pilote
    a sous les yeux."""
    from dauphin.services import comites

    seance = comites.charger(seance_id)
    if seance.convocation_numero != numero:
        return None
    if seance.convocation_cle_stockage is not None:
        return seance.convocation_cle_stockage
    contenu = convocation(seance)
    cle = documents.ranger(contenu)
    ecrit = db.session.execute(
        update(SeanceComite)
        .where(
            SeanceComite.id == seance_id,
            SeanceComite.convocation_numero == numero,
            SeanceComite.convocation_cle_stockage.is_(None),
        )
        .values(
            convocation_cle_stockage=cle,
            convocation_taille=len(contenu),
            convocation_sha256=hashlib.sha256(contenu).hexdigest(),
            convocation_produite_le=maintenant(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.expire_all()
    if ecrit == 1:
        return cle
    documents.effacer(cle)  # une autre production l'a devancée, ou un envoi plus récent
    return db.session.scalar(
        select(SeanceComite.convocation_cle_stockage).where(
            SeanceComite.id == seance_id, SeanceComite.convocation_numero == numero
        )
    )


def acte(ligne: LigneFinancement, *, convention: bool, cumul) -> bytes:
    """La notification (sous le seuil de 23 000 €) ou la convention à signer (au-delà) d'une ligne votée."""
    from dauphin.models import EvenementJournal, Versement

    # L'auteur : l'instructeur qui a établi l'acte (dernière transition de la ligne vers son statut actuel).
    evenement = db.session.scalar(
        select(EvenementJournal)
        .where(
            EvenementJournal.ligne_id == ligne.id,
            EvenementJournal.declencheur.in_(("notifier", "etablir_convention")),
        )
        .order_by(EvenementJournal.id.desc())
        .limit(1)
    )
    auteur = ligne.organisation.nom
    if evenement is not None and evenement.acteur is not None:
        auteur = evenement.acteur.nom_complet
    echeances = db.session.scalars(
        select(Versement).where(Versement.ligne_id == ligne.id).order_by(Versement.date_prevue, Versement.id)
    ).all()
    html = render_template(
        "pdf/acte.html",
        ligne=ligne,
        demande=ligne.demande,
        convention=convention,
        cumul=cumul,
        auteur=auteur,
        echeances=echeances,
        produit_le=maintenant(),
    )
    return html_en_pdf(html)
