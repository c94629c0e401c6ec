"""API : lire tout le périmètre de l'organisation — campagnes, enveloppes, séances du comité (votes et
décisions), structures, comptes rendus, pièces jointes et leur téléchargement — avec les règles des écrans,
par curseur et `modifie_depuis`, sans requête par élément. Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dauphin.models import Lecture, MembreOrganisation, maintenant
from dauphin.services import comites, documents
from tests.fabriques_db import demande_complete
from tests.requetes import Compteur
from tests.test_api import _adhesion, creer, entetes, erreur, transmettre
from tests.test_comites import instruite, seance_ouverte


def _caf_autre(db, monde):
    organisation = db.session.get(
        MembreOrganisation, _adhesion(db, monde.partenaire_autre_contrat)
    ).organisation
    return creer(monde.admin_national, organisation, titulaire=monde.partenaire_autre_contrat)


def tout_lire(client, url: str, cle: str, h: dict, par_page: int = 1) -> list[dict]:
    vus, suivant = [], None
    while True:
        corps = client.get(url, query_string={"par_page": par_page, "apres": suivant or ""}, headers=h)
        assert corps.status_code == 200, corps.get_data(as_text=True)
        vus += corps.get_json()[cle]
        suivant = corps.get_json()["suivant"]
        if suivant is None:
            return vus


def test_campagnes_enveloppes_et_structures_du_perimetre(client, db, monde):
    transmettre(monde, demande_complete(monde))
    h = entetes(creer(monde.instructeur_etat, monde.etat))
    campagnes = tout_lire(client, "/api/v1/campagnes", "campagnes", h)
    assert [c["id"] for c in campagnes] == [monde.campagne.id]
    assert campagnes[0]["contrat"]["id"] == monde.contrat.id
    enveloppes = tout_lire(client, "/api/v1/enveloppes", "enveloppes", h)
    assert [(e["organisation"]["id"], e["montant"]) for e in enveloppes] == [(monde.etat.id, "50000.00")]
    structures = tout_lire(client, "/api/v1/structures", "structures", h)
    assert [s["siret"] for s in structures] == [monde.structure.siret]
    futur = (maintenant() + timedelta(days=1)).isoformat()
    for url, cle in (("/api/v1/campagnes", "campagnes"), ("/api/v1/structures", "structures")):
        assert client.get(url, query_string={"modifie_depuis": futur}, headers=h).get_json()[cle] == []
    # Le partenaire d'un autre contrat : ni cette campagne, ni ces enveloppes, ni cette structure.
    autre = entetes(_caf_autre(db, monde))
    assert monde.campagne.id not in [
        c["id"] for c in tout_lire(client, "/api/v1/campagnes", "campagnes", autre)
    ]
    assert tout_lire(client, "/api/v1/enveloppes", "enveloppes", autre) == []
    assert tout_lire(client, "/api/v1/structures", "structures", autre) == []


def test_seances_votes_et_decisions_en_un_nombre_de_requetes_borne(client, db, monde):
    demandes = [instruite(monde, intitule=f"Action {i}") for i in range(3)]
    seance = seance_ouverte(monde, *demandes)
    h = entetes(creer(monde.instructeur_etat, monde.etat))
    compteur = Compteur(db.engine)
    avant = compteur.mesurer(client, "/api/v1/seances", headers=h)
    corps = client.get(f"/api/v1/seances?campagne={monde.campagne.id}", headers=h).get_json()
    (lue,) = corps["seances"]
    assert (lue["id"], lue["statut"]) == (seance.id, "vote_ouvert")
    assert sorted(p["demande_id"] for p in lue["points"]) == sorted(d.id for d in demandes)
    assert all(p["decision"] is None and p["votes"] == [] for p in lue["points"])
    # Une seconde séance et son ordre du jour : pas une requête de plus.
    seance_bis = comites.creer_seance(monde.pilote, monde.campagne.id, seance.date_seance, "Mairie")
    comites.inscrire(seance_bis.id, [instruite(monde, intitule="Action 4").id], monde.pilote)
    assert compteur.mesurer(client, "/api/v1/seances", headers=h) == avant
    lues = client.get("/api/v1/seances", headers=h).get_json()["seances"]
    assert [len(s["points"]) for s in lues] == [3, 1]
    erreur(client.get("/api/v1/seances?campagne=0", headers=h), 400)
    assert client.get("/api/v1/seances", headers=entetes(_caf_autre(db, monde))).get_json()["seances"] == []


def test_pieces_jointes_et_telechargement_trace(client, db, monde):
    demande = transmettre(monde, demande_complete(monde))
    h = entetes(creer(monde.instructeur_etat, monde.etat))
    pieces = client.get(f"/api/v1/demandes/{demande.id}/pieces", headers=h)
    assert pieces.status_code == 200, pieces.get_data(as_text=True)
    (piece,) = pieces.get_json()["pieces"]
    assert (piece["type_piece"], piece["nom_fichier"]) == ("statuts", "statuts.pdf")
    # Le fichier absent du stockage : 404, jamais une 500.
    erreur(client.get(f"/api/v1/documents/{piece['document_id']}/contenu", headers=h), 404)
    from dauphin.models import Document
    from dauphin.stockage import stockage

    document = db.session.get(Document, piece["document_id"])
    stockage().ecrire(documents.cle_du_fichier(document.cle_stockage), b"%PDF-1.4 statuts")
    reponse = client.get(f"/api/v1/documents/{document.id}/contenu", headers=h)
    assert reponse.status_code == 200 and reponse.data == b"%PDF-1.4 statuts"
    assert reponse.mimetype == "application/pdf" and "statuts.pdf" in reponse.headers["Content-Disposition"]
    # Les mêmes en-têtes qu'à l'écran (services.documents.reponse_piece) : rien ne s'exécute, rien en cache
    assert reponse.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reponse.headers["Content-Security-Policy"]
    assert reponse.headers["Cache-Control"] == "private, no-store"
    trace = db.session.scalar(select(Lecture).order_by(Lecture.id.desc()))
    assert trace is not None and trace.objet == "statuts.pdf"
    # Hors périmètre : ni la liste, ni le fichier.
    autre = entetes(_caf_autre(db, monde))
    erreur(client.get(f"/api/v1/demandes/{demande.id}/pieces", headers=autre), 404)
    erreur(client.get(f"/api/v1/documents/{document.id}/contenu", headers=autre), 404)
    stockage().supprimer(documents.cle_du_fichier(document.cle_stockage))


def test_comptes_rendus_deposes_seulement(client, db, monde):
    h = entetes(creer(monde.instructeur_etat, monde.etat))
    assert client.get("/api/v1/comptes-rendus", headers=h).get_json() == {
        "comptes_rendus": [],
        "suivant": None,
    }
