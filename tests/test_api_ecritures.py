"""API : portées des jetons et écritures d'un financeur (engagement, échéancier, paiement, compte rendu).

- chaque écriture exige sa portée (403 en français sinon, rien d'écrit), et la ligne de l'organisation ;
- elle passe par le service de l'écran et se journalise au nom du titulaire, de l'organisation et du jeton ;
- `Idempotency-Key` : même clé et même corps → la même réponse gardée, sans second paiement ; même clé et
  autre corps → 422 ; deux envois simultanés → un seul paiement ;
- les jetons existants migrent : « lecture et écriture » → lecture et instruction.
Sur SQLite et sur PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dauphin.models import EvenementJournal, JetonApi, RequeteIdempotente, Versement, maintenant
from dauphin.policies.jetons import PORTEE_DES_ACTIONS
from dauphin.services import engagements
from dauphin.services.workflow import aujourdhui
from tests.test_api import creer, entetes, erreur
from tests.test_engagements import ligne_de, votee
from workflows import StatutLigne as L

TOUTES = ("lecture", "instruction", "comite", "paiement")


@pytest.fixture
def engagee(db, monde):
    """Un dossier voté, la ligne de l'État notifiée (engagée), sans numéro d'engagement."""
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    return demande, ligne_de(db, demande.id, monde.etat)


@pytest.fixture
def jetons_portees(db, monde):
    return {
        "paiement": creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement")),
        "instruction": creer(monde.instructeur_etat, monde.etat, portees=("lecture", "instruction")),
        "lecture": creer(monde.instructeur_etat, monde.etat),
        "commune": creer(monde.instructeur_commune, monde.commune, portees=TOUTES),
    }


def jeton_de(db, clair: str) -> JetonApi:
    from dauphin.services import api as service

    return db.session.scalar(select(JetonApi).where(JetonApi.empreinte == service.empreinte(clair)))


def echeance(client, clair, ligne_id, montant="3000", cle=None, nature="avance"):
    h = entetes(clair) | ({"Idempotency-Key": cle} if cle else {})
    corps = {"nature": nature, "date_prevue": aujourdhui().isoformat(), "montant": montant}
    return client.post(f"/api/v1/lignes/{ligne_id}/echeances", json=corps, headers=h)


def payer(client, clair, versement_id, montant="3000", cle=None, reference="DP-1"):
    h = entetes(clair) | ({"Idempotency-Key": cle} if cle else {})
    corps = {"verse_le": aujourdhui().isoformat(), "montant": montant, "reference": reference}
    return client.post(f"/api/v1/versements/{versement_id}/paiement", json=corps, headers=h)


def test_du_numero_d_engagement_au_paiement_journalise_au_nom_du_jeton(
    client, connexion, db, monde, engagee, jetons_portees
):
    demande, ligne = engagee
    clair = jetons_portees["paiement"]
    reponse = client.put(
        f"/api/v1/lignes/{ligne.id}/engagement", json={"numero": "2100123456"}, headers=entetes(clair)
    )
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    assert reponse.get_json()["numero_engagement"] == "2100123456"

    cree = echeance(client, clair, ligne.id, "3000.00")
    assert cree.status_code == 201, cree.get_data(as_text=True)
    versement = cree.get_json()
    assert (versement["nature"], versement["montant_prevu"], versement["verse_le"]) == (
        "avance",
        "3000.00",
        None,
    )

    paye = payer(client, clair, versement["id"], "3000", cle="paiement-1")
    assert paye.status_code == 200, paye.get_data(as_text=True)
    assert paye.get_json()["montant_verse"] == "3000.00" and paye.get_json()["reference"] == "DP-1"
    assert ligne_de(db, demande.id, monde.etat).statut == L.avance_versee

    # Le journal : le titulaire, en instructeur de l'organisation du jeton, et le jeton lui-même.
    jeton = jeton_de(db, clair)
    evenements = db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande.id, EvenementJournal.jeton_id.is_not(None))
        .order_by(EvenementJournal.id)
    ).all()
    assert [e.declencheur for e in evenements] == [
        "enregistrer_engagement",
        "prevoir_versement",
        "verser_avance",
        "verser",  # le dossier suit sa ligne, dans la même transaction
    ]
    for evenement in evenements[:3]:
        assert (evenement.jeton_id, evenement.acteur_id, evenement.organisation_id, evenement.role) == (
            jeton.id,
            monde.instructeur_etat.id,
            monde.etat.id,
            "instructeur",
        )
    # Le journal lu par l'API et à l'écran du dossier dit par quel jeton.
    journal = client.get(f"/api/v1/demandes/{demande.id}", headers=entetes(clair)).get_json()["journal"]
    assert {e["jeton"]["libelle"] for e in journal if e["jeton"]} == {"Logiciel de gestion"}
    # Le flux des changements (et donc le corps des webhooks) le dit aussi au partenaire qui le suit.
    flux = client.get("/api/v1/evenements?limite=500", headers=entetes(jetons_portees["lecture"])).get_json()
    par_jeton = [e for e in flux["evenements"] if e["acteur"]["jeton"] is not None]
    assert [e["type"] for e in par_jeton] == [
        "ligne.enregistrer_engagement",
        "ligne.prevoir_versement",
        "ligne.verser_avance",
        "demande.verser",
    ]
    assert {e["acteur"]["jeton"]["libelle"] for e in par_jeton} == {"Logiciel de gestion"}
    connexion.en_tant_que(monde.instructeur_etat)
    page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert page.count("par l’API (jeton « Logiciel de gestion »)") == 4
    connexion.deconnexion()
    # Lu par l'API : la ligne et son échéancier, la liste des paiements.
    lue = client.get(f"/api/v1/lignes/{ligne.id}", headers=entetes(clair)).get_json()
    assert [v["id"] for v in lue["echeancier"]] == [versement["id"]] and lue["montant_verse"] == "3000.00"
    assert lue["acte_document_id"] == ligne_de(db, demande.id, monde.etat).acte_document_id
    payes = client.get("/api/v1/versements?payes=true", headers=entetes(jetons_portees["lecture"])).get_json()
    assert [v["id"] for v in payes["versements"]] == [versement["id"]] and payes["suivant"] is None


def test_le_journal_scelle_le_jeton(client, db, monde, engagee, jetons_portees):
    from dauphin.services import empreintes

    _, ligne = engagee
    client.put(
        f"/api/v1/lignes/{ligne.id}/engagement",
        json={"numero": "21"},
        headers=entetes(jetons_portees["paiement"]),
    )
    evenement = db.session.scalar(select(EvenementJournal).where(EvenementJournal.jeton_id.is_not(None)))
    assert evenement.empreinte == empreintes.empreinte_de(evenement)
    evenement.jeton_id = None  # effacer le jeton de la ligne casse son empreinte
    assert evenement.empreinte != empreintes.empreinte_de(evenement)
    db.session.rollback()


def test_chaque_ecriture_exige_sa_portee(client, db, monde, engagee, jetons_portees):
    demande, ligne = engagee
    versement = engagements.prevoir_echeance(
        ligne.id, monde.instructeur_etat, "avance", aujourdhui(), Decimal("1000")
    )
    sans_paiement = jetons_portees["instruction"]
    for reponse in (
        client.put(
            f"/api/v1/lignes/{ligne.id}/engagement", json={"numero": "1"}, headers=entetes(sans_paiement)
        ),
        echeance(client, sans_paiement, ligne.id),
        payer(client, sans_paiement, versement.id),
    ):
        assert "portée « Paiement »" in erreur(reponse, 403)["erreur"]
    # Le vote se corrige avec la portée « Comité » seule : un jeton d'instruction ne le peut plus.
    action = {"declencheur": "annuler_vote", "version": ligne.version, "commentaire": "Erreur de saisie"}
    corps = erreur(
        client.post(f"/api/v1/lignes/{ligne.id}/transitions", json=action, headers=entetes(sans_paiement)),
        403,
    )
    assert "portée « Comité »" in corps["erreur"]
    # Lecture seule : aucune écriture, pas même le retour du compte rendu.
    retour = client.post(
        f"/api/v1/demandes/{demande.id}/compte-rendu/retour",
        json={"commentaire": "À revoir"},
        headers=entetes(jetons_portees["lecture"]),
    )
    assert "portée « Instruction »" in erreur(retour, 403)["erreur"]
    # Toutes les portées, mais la ligne d'un autre financeur : 403 ; rien n'a changé.
    autre = jetons_portees["commune"]
    assert "sa propre ligne" in erreur(payer(client, autre, versement.id), 403)["erreur"]
    erreur(echeance(client, autre, ligne.id), 403)
    ligne = ligne_de(db, demande.id, monde.etat)
    assert (ligne.numero_engagement, ligne.montant_verse, ligne.statut) == (None, 0, L.engagee)
    assert db.session.scalar(select(func.count()).select_from(Versement)) == 1
    # Chaque action de l'API déclare sa portée : rien n'est ouvert par défaut.
    from dauphin.api import registre

    for operation in registre.operations:
        if not operation.publique:
            noms = (operation.action,) if operation.action else operation.actions
            assert noms and all(nom in PORTEE_DES_ACTIONS for nom in noms), operation.endpoint


def test_idempotence_meme_cle_meme_reponse_jamais_deux_paiements(client, db, monde, engagee, jetons_portees):
    demande, ligne = engagee
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2100")
    clair = jetons_portees["paiement"]
    premiere = echeance(client, clair, ligne.id, "2000", cle="echeance-A")
    rejouee = echeance(client, clair, ligne.id, "2000", cle="echeance-A")
    assert premiere.status_code == rejouee.status_code == 201
    assert rejouee.get_json() == premiere.get_json() and rejouee.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Versement)) == 1

    versement_id = premiere.get_json()["id"]
    paye = payer(client, clair, versement_id, "2000", cle="paiement-A")
    assert paye.status_code == 200
    for _ in range(3):
        encore = payer(client, clair, versement_id, "2000", cle="paiement-A")
        assert (encore.status_code, encore.get_json()) == (200, paye.get_json())
    # Même clé, autre corps : 422, rien n'est fait.
    autre = erreur(payer(client, clair, versement_id, "1999", cle="paiement-A"), 422)
    assert "déjà servi pour une autre requête" in autre["erreur"]
    # Une nouvelle clé pour le même paiement : le service refuse (déjà payé), toujours un seul paiement.
    assert (
        "déjà été enregistré"
        in erreur(payer(client, clair, versement_id, "2000", cle="paiement-B"), 409)["erreur"]
    )
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.montant_verse == Decimal("2000")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(EvenementJournal)
            .where(EvenementJournal.declencheur == "verser_avance")
        )
        == 1
    )
    # Une écriture refusée ne garde pas sa clé : corrigée, elle repart avec la même.
    trop = echeance(client, clair, ligne.id, "99999", cle="echeance-B")
    assert erreur(trop, 422)["details"] == {"champ": "montant"}
    assert echeance(client, clair, ligne.id, "1000", cle="echeance-B").status_code == 201


def test_cle_d_idempotence_invalide(client, db, monde, engagee, jetons_portees):
    _, ligne = engagee
    for cle in ("", " ", "é" * 3, "x" * 256):
        reponse = echeance(client, jetons_portees["paiement"], ligne.id, cle=cle or None)
        if cle:
            assert "Idempotency-Key" in erreur(reponse, 400)["erreur"]


@pytest.mark.transactions_reelles  # deux fils d'exécution, chacun sa connexion
def test_deux_envois_simultanes_de_la_meme_cle_un_seul_paiement(app, db, monde):
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2100")
    versement = engagements.prevoir_echeance(
        ligne.id, monde.instructeur_etat, "avance", aujourdhui(), Decimal("1500")
    )
    clair = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement"))
    versement_id = versement.id
    depart = threading.Barrier(4)
    reponses: list[tuple[int, dict]] = []

    def envoyer():
        client = app.test_client()
        depart.wait(timeout=10)
        reponse = payer(client, clair, versement_id, "1500", cle="meme-cle")
        reponses.append((reponse.status_code, reponse.get_json()))

    fils = [threading.Thread(target=envoyer) for _ in range(4)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=60)
    assert len(reponses) == 4
    codes = sorted(code for code, _ in reponses)
    assert set(codes) <= {200, 409} and codes.count(200) >= 1, reponses
    # Toute réponse 200 est la même (la première, ou sa copie gardée) ; un 409 dit « en cours ».
    assert len({str(corps) for code, corps in reponses if code == 200}) == 1
    assert all("en cours" in corps["erreur"] for code, corps in reponses if code == 409)
    db.session.expire_all()
    assert db.session.get(Versement, versement_id).montant_verse == Decimal("1500")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(EvenementJournal)
            .where(EvenementJournal.declencheur == "verser_avance")
        )
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(RequeteIdempotente)) == 1


def test_versements_par_curseur_et_modifie_depuis(client, db, monde, engagee, jetons_portees):
    _, ligne = engagee
    crees = [
        engagements.prevoir_echeance(ligne.id, monde.instructeur_etat, "avance", aujourdhui(), Decimal("100"))
        for _ in range(5)
    ]
    h = entetes(jetons_portees["lecture"])
    vus, suivant = [], None
    while True:
        corps = client.get(
            "/api/v1/versements", query_string={"par_page": 2, "apres": suivant or ""}, headers=h
        ).get_json()
        vus += [v["id"] for v in corps["versements"]]
        suivant = corps["suivant"]
        if suivant is None:
            break
    assert vus == [v.id for v in crees]
    futur = (crees[-1].modifie_le + timedelta(seconds=1)).isoformat()
    assert (
        client.get("/api/v1/versements", query_string={"modifie_depuis": futur}, headers=h).get_json()[
            "versements"
        ]
        == []
    )
    # Hors périmètre : le partenaire d'un autre contrat ne voit aucune échéance, ni la ligne.
    from dauphin.models import MembreOrganisation
    from tests.test_api import _adhesion

    caf_autre = db.session.get(MembreOrganisation, _adhesion(db, monde.partenaire_autre_contrat)).organisation
    autre = creer(monde.admin_national, caf_autre, titulaire=monde.partenaire_autre_contrat)
    assert client.get("/api/v1/versements", headers=entetes(autre)).get_json()["versements"] == []
    erreur(client.get(f"/api/v1/lignes/{ligne.id}", headers=entetes(autre)), 404)


@pytest.fixture
def passe(db, monde):
    """La campagne du monde sur l'exercice écoulé (tests/test_compte_rendu.py) : il se clôture."""
    monde.campagne.exercice = aujourdhui().year - 1
    db.session.commit()
    return monde


def test_compte_rendu_lu_renvoye_puis_valide_par_l_api(client, db, passe):
    """Le compte rendu déposé se lit ; le financeur le renvoie (portée instruction), puis le valide sur sa
    ligne une fois redéposé — par les mêmes services que l'écran."""
    from dauphin.services import comptes_rendus
    from tests.test_compte_rendu import a_justifier, recharger
    from workflows import StatutDemande as D

    monde = passe
    demande = a_justifier(db, monde)

    def deposer():
        lue = recharger(db, demande.id)
        saisie = comptes_rendus.saisie_conforme_au_budget(lue, "Ateliers tenus.", "45 habitants.")
        comptes_rendus.enregistrer(lue.id, monde.signataire, lue.compte_rendu.version, saisie)
        comptes_rendus.deposer(lue.id, monde.signataire)

    deposer()
    instruction = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "instruction"))
    (lu,) = client.get("/api/v1/comptes-rendus", headers=entetes(instruction)).get_json()["comptes_rendus"]
    assert lu["demande_id"] == demande.id and lu["postes"] and lu["bilan"] == "Ateliers tenus."

    paiement = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement"))
    url = f"/api/v1/demandes/{demande.id}/compte-rendu/retour"
    erreur(client.post(url, json={"commentaire": "Détaillez."}, headers=entetes(paiement)), 403)
    renvoi = client.post(url, json={"commentaire": "Détaillez les frais."}, headers=entetes(instruction))
    assert renvoi.status_code == 200, renvoi.get_data(as_text=True)
    assert renvoi.get_json()["statut"] == D.justification_a_modifier.value

    deposer()
    ligne = ligne_de(db, demande.id, monde.etat)
    valide = client.post(
        f"/api/v1/lignes/{ligne.id}/transitions",
        json={"declencheur": "valider_compte_rendu", "version": ligne.version},
        headers=entetes(instruction),
    )
    assert valide.status_code == 200, valide.get_data(as_text=True)
    assert ligne_de(db, demande.id, monde.etat).compte_rendu_valide


def test_une_ligne_qui_change_remonte_son_dossier_dans_modifie_depuis(
    client, db, monde, engagee, jetons_portees
):
    """Un numéro d'engagement ne change que la ligne : le dossier repasse dans `modifie_depuis` (toute
    écriture d'un dossier le réécrit, `unite_de_travail.charger_demande_verrouillee`)."""
    demande, ligne = engagee
    depuis = maintenant().isoformat()
    h = entetes(jetons_portees["paiement"])
    assert (
        client.get("/api/v1/demandes", query_string={"modifie_depuis": depuis}, headers=h).get_json()[
            "demandes"
        ]
        == []
    )
    client.put(f"/api/v1/lignes/{ligne.id}/engagement", json={"numero": "2100999"}, headers=h)
    lues = client.get("/api/v1/demandes", query_string={"modifie_depuis": depuis}, headers=h).get_json()
    assert [d["id"] for d in lues["demandes"]] == [demande.id]
