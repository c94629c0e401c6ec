"""API JSON /api/v1 : jetons (absent, inconnu, expiré, révoqué, lecture seule), périmètre de l'organisation,
pagination en SQL à nombre de requêtes borné, lecture d'un dossier (notes privées d'une autre organisation
jamais lues), actions d'instruction (journal au nom du titulaire, conflit 409, refus 422), erreurs en JSON,
limite par jeton, document OpenAPI valide (schemathesis par portée : tests/test_api_document.py).
Sur SQLite et sur PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dauphin.extensions import limiter
from dauphin.models import (
    EvenementJournal,
    JetonApi,
    LigneFinancement,
    MembreOrganisation,
    Note,
    maintenant,
)
from dauphin.services import api as service
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete
from tests.requetes import Compteur
from tests.test_instruction import campagne_autre_contrat
from tests.test_instruction import dossier as dossier_en_base
from workflows import StatutDemande as D
from workflows import StatutLigne as L


def creer(createur, organisation, *, portees=("lecture",), titulaire=None, jours=30) -> str:
    _, clair = service.creer_jeton(
        createur,
        organisation.id,
        libelle="Logiciel de gestion",
        portees=portees,
        expire_le=aujourdhui() + timedelta(days=jours),
        titulaire_id=titulaire.id if titulaire else None,
    )
    return clair


def entetes(clair: str) -> dict:
    return {"Authorization": f"Bearer {clair}"}


def transmettre(monde, demande):
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    return declencher_demande(demande.id, "attester", monde.signataire, attestation=True)


def dossier(db, monde, *args, **kwargs):
    """Un dossier posé en base (tests/test_instruction.py), numéroté hors de la série des vrais dépôts."""
    demande = dossier_en_base(db, monde, *args, transmis=False, **kwargs)
    demande.numero, demande.transmise_le = f"API-{demande.id:06d}", maintenant()
    for ligne in demande.lignes_financement:  # recopiés comme à la première attestation
        ligne.numero, ligne.transmise_le = demande.numero, demande.transmise_le
    db.session.commit()
    return demande


def ligne_de(db, demande_id: int, organisation) -> LigneFinancement:
    db.session.expire_all()
    return db.session.scalar(
        select(LigneFinancement).where(
            LigneFinancement.demande_id == demande_id, LigneFinancement.organisation_id == organisation.id
        )
    )


@pytest.fixture
def transmise(db, monde):
    return transmettre(monde, demande_complete(monde))


@pytest.fixture
def jetons(db, monde):
    """Un jeton par cas : État en écriture et en lecture, commune en écriture, CAF du contrat (partenaire),
    CAF d'un autre contrat."""
    caf_autre = db.session.get(MembreOrganisation, _adhesion(db, monde.partenaire_autre_contrat)).organisation
    return {
        "etat": creer(monde.instructeur_etat, monde.etat, portees=("lecture", "instruction")),
        "etat_lecture": creer(monde.instructeur_etat, monde.etat),
        "commune": creer(monde.instructeur_commune, monde.commune, portees=("lecture", "instruction")),
        "caf": creer(monde.admin_national, monde.caf, titulaire=monde.partenaire_caf),
        "caf_autre": creer(monde.admin_national, caf_autre, titulaire=monde.partenaire_autre_contrat),
    }


def _adhesion(db, utilisateur) -> int:
    return db.session.scalar(
        select(MembreOrganisation.id).where(MembreOrganisation.utilisateur_id == utilisateur.id)
    )


def erreur(reponse, code: int) -> dict:
    assert reponse.status_code == code, reponse.get_data(as_text=True)
    assert reponse.mimetype == "application/json"
    corps = reponse.get_json()
    assert set(corps) == {"erreur", "details"} and corps["erreur"]
    return corps


# --- Authentification ------------------------------------------------------------------------------


def test_sans_jeton_mauvais_jeton_expire_revoque_401(client, db, monde, jetons):
    assert "Authorization" in erreur(client.get("/api/v1/demandes"), 401)["erreur"]
    assert client.get("/api/v1/demandes").headers["WWW-Authenticate"].startswith("Bearer")
    erreur(client.get("/api/v1/demandes", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    assert erreur(client.get("/api/v1/demandes", headers=entetes("dauphin_faux")), 401)["erreur"] == (
        "Jeton inconnu."
    )
    assert client.get("/api/v1/demandes", headers=entetes(jetons["etat"])).status_code == 200

    jeton = db.session.scalar(select(JetonApi).where(JetonApi.empreinte == service.empreinte(jetons["etat"])))
    jeton.expire_le = maintenant() - timedelta(seconds=1)
    db.session.commit()
    assert "expiré" in erreur(client.get("/api/v1/demandes", headers=entetes(jetons["etat"])), 401)["erreur"]

    service.revoquer_jeton(
        db.session.scalar(
            select(JetonApi.id).where(JetonApi.empreinte == service.empreinte(jetons["commune"]))
        ),
        monde.instructeur_commune,
    )
    assert (
        "révoqué" in erreur(client.get("/api/v1/demandes", headers=entetes(jetons["commune"])), 401)["erreur"]
    )

    # Le titulaire quitte l'organisation : ses jetons ne valent plus rien.
    db.session.execute(
        MembreOrganisation.__table__.delete().where(
            MembreOrganisation.utilisateur_id == monde.partenaire_caf.id
        )
    )
    db.session.commit()
    erreur(client.get("/api/v1/demandes", headers=entetes(jetons["caf"])), 401)


def test_le_jeton_n_est_stocke_qu_en_empreinte_et_sa_derniere_utilisation_est_notee(client, db, jetons):
    clair = jetons["etat_lecture"]
    jeton = db.session.scalar(select(JetonApi).where(JetonApi.empreinte == service.empreinte(clair)))
    assert clair not in {jeton.empreinte, jeton.prefixe, jeton.libelle} and clair.startswith(jeton.prefixe)
    assert jeton.derniere_utilisation_le is None
    client.get("/api/v1/demandes", headers=entetes(clair))
    db.session.expire_all()
    assert jeton.derniere_utilisation_le is not None


# --- Lecture ---------------------------------------------------------------------------------------


def ids(reponse) -> list[int]:
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    return [d["id"] for d in reponse.get_json()["demandes"]]


def test_perimetre_de_l_organisation(client, db, monde, jetons, transmise):
    brouillon = demande_complete(monde, intitule="Brouillon")
    autre = dossier(
        db, monde, "Autre contrat", {}, campagne=campagne_autre_contrat(db, monde, monde.campagne.exercice)
    )
    assert ids(client.get("/api/v1/demandes", headers=entetes(jetons["etat"]))) == [transmise.id]
    assert ids(client.get("/api/v1/demandes", headers=entetes(jetons["caf"]))) == [transmise.id]
    assert ids(client.get("/api/v1/demandes", headers=entetes(jetons["caf_autre"]))) == [autre.id]
    for cible in (brouillon.id, autre.id):
        erreur(client.get(f"/api/v1/demandes/{cible}", headers=entetes(jetons["etat"])), 404)
    erreur(client.get(f"/api/v1/demandes/{transmise.id}", headers=entetes(jetons["caf_autre"])), 404)
    erreur(client.get("/api/v1/demandes/999999", headers=entetes(jetons["etat"])), 404)
    erreur(client.get("/api/v1/demandes/99999999999", headers=entetes(jetons["etat"])), 404)


def test_recherche_libre(client, db, monde, jetons):
    """`q` : la recherche de l'espace d'instruction (mots de l'intitulé, numéro, nom de la structure), dans
    le périmètre du jeton, en ordre d'identifiant."""
    fete = dossier(db, monde, "Fête de quartier", {monde.etat: (L.sollicitee, "100")})
    velo = dossier(db, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")})
    ailleurs = dossier(db, monde, "Quartier d'été", {monde.commune: (L.sollicitee, "100")})
    h = entetes(jetons["etat"])
    # L'État voit aussi, partenaire du contrat, le dossier que seule la commune finance
    assert ids(client.get("/api/v1/demandes?q=quartier", headers=h)) == [fete.id, ailleurs.id]
    assert ids(client.get(f"/api/v1/demandes?q={velo.numero}", headers=h)) == [velo.id]
    assert ids(client.get("/api/v1/demandes?q=introuvable", headers=h)) == []
    assert ids(client.get("/api/v1/demandes?q=v%C3%A9lo", headers=h)) == [velo.id]
    # Une année : les demandes numérotées cet exercice-là (`instruction.condition_numero`)
    annee = monde.campagne.exercice
    assert ids(client.get(f"/api/v1/demandes?q={annee}", headers=h)) == [fete.id, velo.id, ailleurs.id]
    assert ids(client.get(f"/api/v1/demandes?q={annee + 1}", headers=h)) == []


def test_filtres_et_parametres_invalides(client, db, monde, jetons):
    exercice = monde.campagne.exercice
    a = dossier(db, monde, "A", {monde.etat: (L.sollicitee, "100")}, statut=D.transmise)
    b = dossier(db, monde, "B", {monde.etat: (L.recevable, "100")}, statut=D.en_instruction)
    c = dossier(
        db,
        monde,
        "C",
        {monde.etat: (L.sollicitee, "100")},
        campagne=campagne_autre_contrat(db, monde, exercice - 1),
    )
    h = entetes(jetons["etat"])
    assert ids(client.get("/api/v1/demandes", headers=h)) == [a.id, b.id, c.id]
    assert ids(client.get(f"/api/v1/demandes?exercice={exercice}", headers=h)) == [a.id, b.id]
    assert ids(client.get(f"/api/v1/demandes?contrat={monde.autre_contrat.id}", headers=h)) == [c.id]
    assert ids(client.get("/api/v1/demandes?statut=en_instruction", headers=h)) == [b.id]
    assert ids(client.get("/api/v1/demandes?statut_ligne=sollicitee", headers=h)) == [a.id, c.id]
    b.modifie_le = maintenant() + timedelta(hours=1)
    db.session.commit()
    depuis = (maintenant() + timedelta(minutes=30)).isoformat()
    assert ids(client.get("/api/v1/demandes", query_string={"modifie_depuis": depuis}, headers=h)) == [b.id]
    corps = erreur(
        client.get("/api/v1/demandes?exercice=deux-mille&statut=inconnu&par_page=500", headers=h), 400
    )
    assert set(corps["details"]) == {"exercice", "statut", "par_page"}
    erreur(client.get("/api/v1/demandes?modifie_depuis=0001-01-01T00:00:00%2B01:00", headers=h), 400)


def test_pagination_stable_en_sql_a_nombre_de_requetes_borne(client, db, monde, jetons):
    h = entetes(jetons["etat"])
    crees = [
        dossier(
            db, monde, f"Action {i}", {monde.etat: (L.sollicitee, "100"), monde.commune: (L.sollicitee, "5")}
        )
        for i in range(3)
    ]
    compteur = Compteur(db.engine)
    avec_3 = compteur.mesurer(client, "/api/v1/demandes?par_page=100", headers=h)
    crees += [
        dossier(
            db, monde, f"Action {i}", {monde.etat: (L.sollicitee, "100"), monde.commune: (L.sollicitee, "5")}
        )
        for i in range(3, 30)
    ]
    avec_30 = compteur.mesurer(client, "/api/v1/demandes?par_page=100", headers=h)
    assert avec_30 == avec_3 <= 12
    assert compteur.mesurer(client, f"/api/v1/demandes/{crees[0].id}", headers=h) <= 16

    # Par curseur : 30 dossiers en 4 pages, dans l'ordre de modification, sans doublon ni trou — même si un
    # dossier déjà lu change pendant le parcours (il repasse en fin de liste, avec sa nouvelle date).
    vus, suivant, pages = [], None, 0
    while True:
        corps = client.get(
            "/api/v1/demandes", query_string={"par_page": 8, "apres": suivant or ""}, headers=h
        )
        assert corps.status_code == 200, corps.get_data(as_text=True)
        vus += [d["id"] for d in corps.get_json()["demandes"]]
        suivant, pages = corps.get_json()["suivant"], pages + 1
        if pages == 1:
            crees[0].modifie_le = maintenant() + timedelta(hours=1)
            db.session.commit()
        if suivant is None:
            break
    assert vus == [d.id for d in crees] + [crees[0].id] and pages == 4
    erreur(client.get("/api/v1/demandes?apres=nimporte-quoi", headers=h), 400)


def test_lire_une_demande_lignes_journal_et_notes(client, db, monde, jetons, transmise):
    db.session.add_all(
        [
            Note(demande_id=transmise.id, organisation_id=monde.etat.id, partagee=True, texte="Partagée"),
            Note(demande_id=transmise.id, organisation_id=monde.etat.id, partagee=False, texte="Privée État"),
            Note(
                demande_id=transmise.id,
                organisation_id=monde.commune.id,
                partagee=False,
                texte="Privée Ville",
            ),
        ]
    )
    db.session.commit()
    corps = client.get(f"/api/v1/demandes/{transmise.id}", headers=entetes(jetons["etat"])).get_json()
    assert corps["numero"] == transmise.numero and corps["statut"] == "transmise"
    assert {(ligne["organisation"]["nom"], ligne["montant_demande"]) for ligne in corps["lignes"]} == {
        (monde.etat.nom, "6000.00"),
        (monde.commune.nom, "4000.00"),
    }
    assert [e["declencheur"] for e in corps["journal"]] == ["soumettre", "attester"]
    assert {p["compte"] for p in corps["budget"]} == {lb.compte for lb in transmise.lignes_budget}
    assert sum(Decimal(p["montant"]) for p in corps["budget"]) == sum(
        lb.montant for lb in transmise.lignes_budget
    )
    assert corps["journal"][1]["acteur"]["nom_complet"] == monde.signataire.nom_complet
    assert [n["texte"] for n in corps["notes"]] == ["Partagée", "Privée État"]
    corps = client.get(f"/api/v1/demandes/{transmise.id}", headers=entetes(jetons["caf"])).get_json()
    assert [n["texte"] for n in corps["notes"]] == ["Partagée"]


# --- Écriture --------------------------------------------------------------------------------------


def poster(client, clair, ligne_id, **corps):
    return client.post(f"/api/v1/lignes/{ligne_id}/transitions", json=corps, headers=entetes(clair))


def test_actions_d_instruction_au_nom_du_titulaire(client, db, monde, jetons, transmise):
    ligne = ligne_de(db, transmise.id, monde.etat)
    reponse = poster(client, jetons["etat"], ligne.id, declencheur="prendre_en_charge", version=ligne.version)
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    assert reponse.get_json()["statut"] == "prise_en_charge"
    evenement = db.session.scalar(
        select(EvenementJournal)
        .where(EvenementJournal.ligne_id == ligne.id)
        .order_by(EvenementJournal.id.desc())
    )
    assert (evenement.acteur_id, evenement.role, evenement.organisation_id) == (
        monde.instructeur_etat.id,
        "instructeur",
        monde.etat.id,
    )
    version = reponse.get_json()["version"]

    # Refus des gardes : 422 avec ce qui manque ; rien n'est écrit.
    corps = erreur(
        poster(client, jetons["etat"], ligne.id, declencheur="declarer_recevable", version=version), 422
    )
    assert corps["details"] == [
        {"code": "montant_manquant", "message": "Indiquez le montant.", "champ": "montant"}
    ]
    corps = erreur(
        poster(
            client, jetons["etat"], ligne.id, declencheur="declarer_recevable", version=version, montant=9000
        ),
        422,
    )
    assert corps["details"][0]["code"] == "montant_superieur_demande"
    corps = erreur(
        poster(client, jetons["etat"], ligne.id, declencheur="declarer_non_recevable", version=version), 422
    )
    assert corps["details"][0]["code"] == "motif_manquant" or corps["details"][0]["champ"] == "commentaire"

    # Version périmée : 409, rien n'est écrit.
    corps = erreur(
        poster(
            client,
            jetons["etat"],
            ligne.id,
            declencheur="declarer_recevable",
            version=version - 1,
            montant=10,
        ),
        409,
    )
    assert "modifiée entre-temps" in corps["erreur"]
    assert ligne_de(db, transmise.id, monde.etat).statut == L.prise_en_charge

    reponse = poster(
        client,
        jetons["etat"],
        ligne.id,
        declencheur="declarer_recevable",
        version=version,
        montant="4500.50",
        commentaire="Bon projet",
    )
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    assert reponse.get_json()["montant_propose"] == "4500.50"
    assert ligne_de(db, transmise.id, monde.etat).montant_propose == Decimal("4500.50")
    # Déjà recevable : l'action n'est plus possible depuis ce statut (409).
    erreur(
        poster(client, jetons["etat"], ligne.id, declencheur="prendre_en_charge", version=version + 1), 409
    )


def test_ecriture_refusee_sans_rien_reveler(client, db, monde, jetons, transmise):
    etat = ligne_de(db, transmise.id, monde.etat)
    commune = ligne_de(db, transmise.id, monde.commune)
    action = {"declencheur": "prendre_en_charge", "version": etat.version}
    assert (
        "portée « Instruction »"
        in erreur(poster(client, jetons["etat_lecture"], etat.id, **action), 403)["erreur"]
    )
    assert "sa propre ligne" in erreur(poster(client, jetons["etat"], commune.id, **action), 403)["erreur"]
    erreur(poster(client, jetons["caf"], etat.id, **action), 403)  # partenaire : lecture seule
    # Sans la portée, refusé avant toute lecture : rien n'est révélé de la ligne d'un autre contrat.
    erreur(poster(client, jetons["caf_autre"], etat.id, **action), 403)
    erreur(poster(client, jetons["etat"], 999999, **action), 404)
    erreur(client.post(f"/api/v1/lignes/{etat.id}/transitions", json=action), 401)
    assert ligne_de(db, transmise.id, monde.etat).statut == L.sollicitee

    # Entrées invalides : 400 avec le détail par champ.
    corps = erreur(
        poster(client, jetons["etat"], etat.id, declencheur="voter", version="1", montant="NaN"), 400
    )
    assert set(corps["details"]) == {"declencheur", "version", "montant"}
    erreur(
        poster(client, jetons["etat"], etat.id, declencheur="prendre_en_charge", version=1, inconnu=1), 400
    )
    reponse = client.post(
        f"/api/v1/lignes/{etat.id}/transitions",
        data="pas du JSON",
        content_type="application/json",
        headers=entetes(jetons["etat"]),
    )
    assert "objet JSON" in str(erreur(reponse, 400)["details"])
    corps = erreur(
        poster(
            client,
            jetons["etat"],
            etat.id,
            declencheur="declarer_non_recevable",
            version=1,
            commentaire="a\x00",
        ),
        400,
    )
    assert "commentaire" in corps["details"]


def test_les_declencheurs_de_l_api_sont_ceux_des_ecrans():
    from dauphin.instruction.actions import ACTIONS_LIGNE, ASSIGNER

    assert set(service.DECLENCHEURS_LIGNE) == {
        a.declencheur for a in ACTIONS_LIGNE.values() if a.declencheur != ASSIGNER
    }


# --- Erreurs, limite, documentation ----------------------------------------------------------------


def test_erreurs_en_json_sous_api(client, jetons, monkeypatch):
    h = entetes(jetons["etat"])
    erreur(client.get("/api/v1/inexistant", headers=h), 404)
    reponse = client.delete("/api/v1/demandes", headers=h)
    erreur(reponse, 405)
    assert "GET" in reponse.headers["Allow"]
    assert client.get("/inexistant").mimetype == "text/html"  # hors de l'API : la page d'erreur HTML

    def panne(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(service, "page_demandes", panne)
    assert "journalisée" in erreur(client.get("/api/v1/demandes", headers=h), 500)["erreur"]


def test_limite_par_jeton(app, client, jetons):
    app.config["API_LIMITE"] = "3/minute"
    try:
        for _ in range(3):
            assert client.get("/api/v1/demandes", headers=entetes(jetons["etat"])).status_code == 200
        corps = erreur(client.get("/api/v1/demandes", headers=entetes(jetons["etat"])), 429)
        assert "réessayez" in corps["erreur"]
        # Un autre jeton a son propre compte.
        assert client.get("/api/v1/demandes", headers=entetes(jetons["commune"])).status_code == 200
    finally:
        app.config["API_LIMITE"] = "300/minute"
        limiter.reset()


def test_pas_de_csrf_pour_l_api_mais_pour_les_ecrans(app, client, db, monde, jetons, transmise):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        ligne = ligne_de(db, transmise.id, monde.etat)
        reponse = poster(
            client, jetons["etat"], ligne.id, declencheur="prendre_en_charge", version=ligne.version
        )
        assert reponse.status_code == 200
        assert client.post("/compte/connexion", data={"email": "x@y.fr"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_document_openapi_valide_et_page_de_documentation(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) >= {
        "/api/v1/demandes",
        "/api/v1/demandes/{demande_id}",
        "/api/v1/lignes/{ligne_id}/transitions",
        "/api/v1/campagnes/{campagne_id}/programmation",
        "/api/v1/donnees-ouvertes/subventions",
        "/api/v1/evenements",
        "/api/v1/openapi.json",
    }
    transition = document["components"]["schemas"]["Transition"]
    assert set(transition["required"]) == {"declencheur", "version"}
    assert transition["properties"]["declencheur"]["enum"] == list(service.DECLENCHEURS_LIGNE)
    page = client.get("/api/v1/documentation")
    texte = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<title>Documentation de l’API — Dauphin</title>" in texte
    for attendu in ("/api/v1/lignes/{ligne_id}/transitions", "modifie_depuis", "DemandeDetail", "409"):
        assert attendu in texte
    assert "https://" not in texte.split("<footer")[0]  # aucune ressource extérieure
    # Le Markdown des descriptions est mis en forme, pas montré brut
    assert "**portées**" not in texte and "<strong>portées</strong>" in texte
    assert "<li><code>paiement</code> : numéro d’engagement juridique" in texte


# L'exploration du document par schemathesis, un jeton par portée : tests/test_api_document.py.


# --- Programmation -------------------------------------------------------------------------------------


def test_programmation_d_une_campagne_pour_les_signataires_du_contrat(client, db, monde, jetons, transmise):
    declencher_ligne(
        next(lf.id for lf in transmise.lignes_financement if lf.organisation_id == monde.etat.id),
        "prendre_en_charge",
        monde.instructeur_etat,
    )
    url = f"/api/v1/campagnes/{monde.campagne.id}/programmation"
    reponse = client.get(url, headers=entetes(jetons["caf"]))  # partenaire signataire, sans ligne
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    corps = reponse.get_json()
    assert corps["campagne"] == monde.campagne.id and corps["contrat"]["id"] == monde.contrat.id
    assert [d["numero"] for d in corps["demandes"]] == [transmise.numero]
    assert {f["nom"] for f in corps["financeurs"]} >= {monde.etat.nom, monde.commune.nom}
    assert corps["total"] == 1 and corps["suivant"] is None
    assert corps["totaux"]["general"]["demande"] == "10000.00"
    filtre = client.get(url + "?statut=rejetee", headers=entetes(jetons["caf"])).get_json()
    assert filtre["demandes"] == [] and filtre["total"] == 0
    # Une organisation qui n'a pas signé ce contrat ne voit rien ; une campagne inconnue n'existe pas.
    erreur(client.get(url, headers=entetes(jetons["caf_autre"])), 404)
    erreur(client.get("/api/v1/campagnes/999999/programmation", headers=entetes(jetons["caf"])), 404)
    erreur(client.get(url + "?par_page=1000", headers=entetes(jetons["caf"])), 400)
    erreur(client.get(url), 401)


def test_programmation_parcourue_par_curseur_et_modifie_depuis(client, db, monde, jetons):
    """Un partenaire parcourt la programmation page après page : chaque demande une fois, les totaux de
    toute la campagne sur chaque page ; `modifie_depuis` ne rend que les demandes modifiées depuis."""
    h = entetes(jetons["caf"])
    url = f"/api/v1/campagnes/{monde.campagne.id}/programmation"
    crees = [
        dossier(
            db, monde, f"Action {i}", {monde.etat: (L.sollicitee, "100"), monde.commune: (L.sollicitee, "5")}
        )
        for i in range(7)
    ]
    vus, suivant, pages = [], None, 0
    while True:
        reponse = client.get(url, query_string={"par_page": 3, "apres": suivant or ""}, headers=h)
        assert reponse.status_code == 200, reponse.get_data(as_text=True)
        corps = reponse.get_json()
        assert corps["total"] == 7 and corps["totaux"]["general"]["demande"] == "735.00"
        assert len(corps["demandes"]) <= 3
        vus += [d["id"] for d in corps["demandes"]]
        suivant, pages = corps["suivant"], pages + 1
        if suivant is None:
            break
    assert vus == [d.id for d in crees] and pages == 3  # ordre de modification, ni doublon ni trou

    # Une écriture sur la ligne d'une demande (sous le verrou du dossier) en change la date.
    depuis = maintenant()
    declencher_ligne(ligne_de(db, crees[2].id, monde.etat).id, "prendre_en_charge", monde.instructeur_etat)
    recents = client.get(
        url, query_string={"modifie_depuis": depuis.isoformat(), "par_page": 3}, headers=h
    ).get_json()
    assert [d["id"] for d in recents["demandes"]] == [crees[2].id] and recents["suivant"] is None
    assert recents["total"] == 7  # les totaux restent ceux de la campagne

    mauvais = erreur(client.get(url + "?apres=nimporte-quoi", headers=h), 400)
    assert "Curseur inconnu" in mauvais["details"]["apres"][0]
    erreur(client.get(url + "?page=2", headers=h), 400)  # la pagination par numéro n'existe plus
