"""Aides pour parcourir le formulaire de demande par le client de test, comme un navigateur."""

from __future__ import annotations

import re

from dauphin.extensions import db
from dauphin.models import Document, TypePiece
from dauphin.services import documents


def version(client, demande_id: int) -> str:
    page = client.get(f"/demandes/{demande_id}/etape/eligibilite").get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def deposer_statuts(monde, structure=None) -> Document:
    document = documents.stocker(
        structure or monde.structure,
        TypePiece.statuts,
        "Statuts 2024.pdf",
        b"%PDF-1.4\n%test\n",
        "application/pdf",
    )
    db.session.commit()
    return document


def creer_brouillon(client, monde) -> int:
    reponse = client.post(
        "/demandes/nouvelle", data={"campagne_id": monde.campagne.id, "structure_id": monde.structure.id}
    )
    assert reponse.status_code == 302, reponse.get_data(as_text=True)
    return int(re.search(r"/demandes/(\d+)/", reponse.headers["Location"]).group(1))


def action_valide(monde, **surcharges) -> dict:
    annee = monde.campagne.exercice
    donnees = {
        "intitule": "Ateliers de cuisine partagée",
        "objectifs": "Rompre l’isolement",
        "description": "Deux ateliers par semaine au centre social",
        "public_cible": "Familles du quartier",
        "nb_beneficiaires": "80",
        "qpvs": str(monde.qpv.id),
        "thematique_code": "1.5",
        "date_debut": f"{annee}-01-15",
        "date_fin": f"{annee}-12-15",
        "duree_annees": "1",
        "moyens_humains": "Une animatrice et six bénévoles",
        "indicateurs_evaluation": "Participation, satisfaction",
        "axes": "jeunesse",
    }
    donnees.update(surcharges)
    return donnees


def budget_valide(monde, **surcharges) -> dict:
    donnees = {
        "compte_64": "9 000",
        "compte_60": "1 000",
        "compte_864": "2 000",
        "compte_870": "2 000",
        f"financeur_{monde.etat.id}": "6 000",
        f"financeur_{monde.commune.id}": "3 000,00",
        "compte_75": "1 000",
    }
    donnees.update(surcharges)
    return donnees


def remplir(client, monde, demande_id: int, document: Document) -> None:
    """Toutes les étapes, valides : la demande peut être soumise ensuite."""
    question = monde.campagne.questions_eligibilite[0]
    etapes = {
        "eligibilite": {f"question_{question.id}": "oui"},
        "structure": {
            "responsable_nom": "Lou Dupont",
            "responsable_fonction": "Coordinatrice",
            "responsable_email": "Lou@Test.fr",
            "responsable_telephone": "03 20 00 00 00",
            "compte_bancaire_id": str(monde.structure.comptes_bancaires[0].id),
        },
        "action": action_valide(monde),
        "budget": budget_valide(monde),
        "pieces": {"piece_statuts": str(document.id)},
    }
    for etape, donnees in etapes.items():
        reponse = client.post(
            f"/demandes/{demande_id}/etape/{etape}", data={"version": version(client, demande_id), **donnees}
        )
        assert reponse.status_code == 302, (etape, reponse.get_data(as_text=True)[:2000])


ATTESTATION = {"declarations": "y", "engagement_republicain": "y", "exactitude": "y"}


def transmettre(client, monde, document: Document) -> int:
    """Un brouillon rempli, soumis puis attesté par le compte connecté (un signataire) : son id."""
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    reponse = client.post(
        f"/demandes/{demande_id}/attester", data={"version": version(client, demande_id), **ATTESTATION}
    )
    assert reponse.status_code == 302, reponse.get_data(as_text=True)[:2000]
    return demande_id
