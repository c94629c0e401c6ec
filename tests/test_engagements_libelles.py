"""Les textes des engagements que lisent les usagers et les partenaires (journal du dossier, 409) : le
participe s'accorde au genre de l'échéance (« avance versée », « solde versé ») et un refus ne prétend pas
que la ligne vient de changer quand elle n'a pas bougé."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from dauphin.models import EvenementJournal, NatureVersement
from dauphin.services import engagements
from dauphin.services.workflow import aujourdhui
from tests.test_api import creer, entetes, erreur
from tests.test_engagements import ligne_de, valider_compte_rendu, votee


def _commentaires(db, demande_id: int, declencheur: str) -> list[str]:
    return list(
        db.session.scalars(
            select(EvenementJournal.commentaire)
            .where(EvenementJournal.demande_id == demande_id, EvenementJournal.declencheur == declencheur)
            .order_by(EvenementJournal.id)
        )
    )


def test_le_participe_s_accorde_au_genre_de_l_echeance():
    assert NatureVersement.avance.accorde("versé") == "versée"
    assert NatureVersement.solde.accorde("versé") == "versé"
    assert NatureVersement.solde.accorde("prévu") == "prévu"


def test_le_journal_d_une_avance_puis_d_un_solde_est_accorde(db, monde):
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2100123456")
    jour = aujourdhui()
    avance = engagements.prevoir_echeance(ligne.id, monde.instructeur_etat, "avance", jour, Decimal("2000"))
    solde = engagements.prevoir_echeance(ligne.id, monde.instructeur_etat, "solde", jour, Decimal("4000"))
    engagements.enregistrer_paiement(avance.id, monde.instructeur_etat, jour, Decimal("2000"), "DP-1")
    valider_compte_rendu(db, monde, demande, ligne_de(db, demande.id, monde.etat))
    engagements.enregistrer_paiement(solde.id, monde.instructeur_etat, jour, Decimal("4000"), "DP-2")

    prevus = _commentaires(db, demande.id, "prevoir_versement")
    assert len(prevus) == 2
    assert re.fullmatch(r"Avance de 2\W000,00\W€ prévue le \d\d/\d\d/\d{4}\.", prevus[0]), prevus[0]
    assert re.fullmatch(r"Solde de 4\W000,00\W€ prévu le \d\d/\d\d/\d{4}\.", prevus[1]), prevus[1]
    (avance_versee,) = _commentaires(db, demande.id, "verser_avance")
    (solde_verse,) = _commentaires(db, demande.id, "solder")
    assert " versée le " in avance_versee and avance_versee.startswith("Avance de ")
    assert solde_verse.startswith("Solde de ") and " versé le " in solde_verse and "versée" not in solde_verse


def test_un_numero_d_engagement_sur_une_ligne_votee_ne_dit_pas_desormais(client, db, monde):
    """La ligne votée n'a pas changé : le 409 dit ce qu'il faut (une ligne engagée), sans « désormais »."""
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    clair = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement"))
    reponse = client.put(
        f"/api/v1/lignes/{ligne.id}/engagement", json={"numero": "21"}, headers=entetes(clair)
    )
    message = erreur(reponse, 409)["erreur"]
    assert "désormais" not in message
    assert "ligne engagée" in message and "cette ligne est « Votée »" in message
