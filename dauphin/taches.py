"""Fonctions exécutées par les travailleurs RQ (ou sur place en mode embarqué)."""

from __future__ import annotations

import logging
from contextlib import nullcontext

from flask import has_app_context

_application = None


def _contexte():
    """Dans un travailleur RQ il n'y a pas de contexte d'application : on en crée un, une fois."""
    global _application
    if has_app_context():
        return nullcontext()
    if _application is None:
        from dauphin import create_app

        _application = create_app()
    return _application.app_context()


def envoyer_courriels(ids: list[int] | None = None) -> dict[str, int]:
    from dauphin.services.courriels import envoyer_tous

    with _contexte():
        return envoyer_tous(ids)


def generer_recepisse(demande_id: int) -> int:
    """Produit le récépissé PDF d'une demande transmise et le range avec elle. Rend l'id du document."""
    from dauphin.pdf import enregistrer_recepisse

    with _contexte():
        return enregistrer_recepisse(demande_id)


def rattraper_recepisses() -> int:
    """Produit les récépissés dont la tâche s'est perdue ou a échoué (voir `pdf.recepisses_manquants`)."""
    from dauphin.extensions import db
    from dauphin.pdf import enregistrer_recepisse, recepisses_manquants

    produits = 0
    with _contexte():
        for demande_id in recepisses_manquants():
            try:
                enregistrer_recepisse(demande_id)
                produits += 1
            except Exception:  # un PDF impossible n'empêche pas les suivants ; réessayé à la reprise suivante
                db.session.rollback()
                logging.getLogger(__name__).exception("Récépissé de la demande %s non produit", demande_id)
        return produits


def purger_lectures() -> int:
    """Efface la trace des lectures au-delà de DAUPHIN_READ_TRACE_DAYS jours (planifiée chaque nuit)."""
    from dauphin.services.lectures import purger

    with _contexte():
        return purger()


def generer_pv(seance_id: int) -> str:
    """Produit le procès-verbal PDF d'une séance close du comité de pilotage."""
    from dauphin.pdf import enregistrer_proces_verbal

    with _contexte():
        return enregistrer_proces_verbal(seance_id)


def generer_convocation(seance_id: int, numero: int) -> str | None:
    """Produit le PDF de la convocation n° `numero` d'une séance du comité de pilotage."""
    from dauphin.pdf import enregistrer_convocation

    with _contexte():
        return enregistrer_convocation(seance_id, numero)


def generer_acte(ligne_id: int) -> int | None:
    """Produit la notification ou la convention à signer (PDF) d'une ligne votée. Rend l'id du document."""
    from dauphin.services.engagements import enregistrer_acte

    with _contexte():
        return enregistrer_acte(ligne_id)


def exporter_programmation_nationale(exercice: int, format_: str, nom: str) -> int:
    """L'export national de la programmation d'un exercice, rangé dans le stockage (exports/)."""
    from dauphin.services.exports import produire_export_national

    with _contexte():
        return produire_export_national(exercice, format_, nom)


def webhooks() -> dict[str, int]:
    """Du flux à la boîte d'envoi des webhooks, puis les livraisons dues (après chaque commit qui journalise,
    et chaque minute par le planificateur : reprises et nouvelles tentatives)."""
    from dauphin.services import webhooks as service

    with _contexte():
        distribuees = service.distribuer()
        return {"distribuees": distribuees, **service.livrer_dues()}


def livrer_webhook(livraison_id: int) -> bool | None:
    """Une livraison remise en attente (« Renvoyer »)."""
    from dauphin.services import webhooks as service

    with _contexte():
        return service.livrer(livraison_id)
