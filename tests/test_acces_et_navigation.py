"""Connexion, navigation par rôle et droits d'accès aux écrans, par le client de test."""

from __future__ import annotations

import re

import pytest

from dauphin.services.workflow import declencher_demande
from tests.fabriques_db import demande_complete


def titre(reponse) -> str:
    return re.search(r"<title>(.*?)</title>", reponse.get_data(as_text=True), re.S).group(1).strip()


def liens_navigation(reponse) -> list[str]:
    html = reponse.get_data(as_text=True)
    bloc = re.search(r'<nav class="fr-nav".*?</nav>', html, re.S)
    return re.findall(r'class="fr-nav__link"[^>]*>([^<]+)<', bloc.group(0)) if bloc else []


def test_connexion_et_deconnexion(client, connexion, monde):
    reponse = client.get("/compte/connexion")
    assert reponse.status_code == 200 and titre(reponse) == "Connexion — Dauphin"
    reponse = connexion.en_tant_que(monde.signataire)
    assert reponse.headers["Location"] == "/"
    accueil = client.get("/")
    assert "Se déconnecter" in accueil.get_data(as_text=True)
    connexion.deconnexion()
    assert "Se connecter" in client.get("/").get_data(as_text=True)
    assert client.get("/mes-demandes/").status_code == 302  # de nouveau anonyme


def test_mauvais_mot_de_passe_message_francais_et_saisie_conservee(client, monde):
    reponse = client.post("/compte/connexion", data={"email": "signataire@test.fr", "mot_de_passe": "faux"})
    html = reponse.get_data(as_text=True)
    assert reponse.status_code == 200
    assert titre(reponse).startswith("Erreur : ")
    assert "Adresse électronique ou mot de passe incorrect." in html
    assert 'value="signataire@test.fr"' in html  # rien de ce qui a été tapé n'est perdu
    assert 'aria-describedby="mot_de_passe-erreur"' in html
    # Même message pour un compte inexistant : on ne révèle pas les adresses inscrites
    autre = client.post("/compte/connexion", data={"email": "inconnu@test.fr", "mot_de_passe": "faux"})
    assert "Adresse électronique ou mot de passe incorrect." in autre.get_data(as_text=True)


def test_compte_desactive_ou_non_confirme_ne_se_connecte_pas(client, db, monde):
    identifiants = {"email": "signataire@test.fr", "mot_de_passe": "mot-de-passe-de-test"}
    monde.signataire.email_confirme_le = None
    db.session.commit()
    reponse = client.post("/compte/connexion", data=identifiants)
    page = reponse.get_data(as_text=True)
    assert reponse.status_code == 403 and "Confirmez d’abord votre adresse électronique" in page
    assert "Recevoir un nouveau lien de confirmation" in page
    monde.signataire.actif = False
    db.session.commit()
    reponse = client.post("/compte/connexion", data=identifiants)
    assert reponse.status_code == 403 and "Ce compte a été désactivé" in reponse.get_data(as_text=True)
    assert client.get("/mes-demandes/").status_code == 302  # aucune session ouverte


def test_redirection_apres_connexion_reste_sur_le_site(client, monde):
    reponse = client.post(
        "/compte/connexion?next=https://exemple.com/piege",
        data={"email": "signataire@test.fr", "mot_de_passe": "mot-de-passe-de-test"},
    )
    assert reponse.headers["Location"] == "/"
    client.post("/compte/deconnexion")
    reponse = client.post(
        "/compte/connexion?next=/mes-demandes/",
        data={"email": "signataire@test.fr", "mot_de_passe": "mot-de-passe-de-test"},
    )
    assert reponse.headers["Location"] == "/mes-demandes/"


@pytest.mark.parametrize(
    ("role", "attendus"),
    [
        ("signataire", ["Mes demandes", "Mes structures"]),
        ("instructeur_etat", ["Instruction", "Comités", "Programmation", "Jetons d’API"]),
        ("partenaire_caf", ["Instruction", "Comités", "Programmation"]),
        ("pilote", ["Instruction", "Comités", "Pilotage"]),
        ("admin_national", ["Administration", "Jetons d’API"]),
        ("sans_role", ["Mes structures"]),
    ],
)
def test_chaque_role_voit_ses_propres_ecrans(client, connexion, monde, role, attendus):
    connexion.en_tant_que(getattr(monde, role))
    assert liens_navigation(client.get("/")) == [*attendus, "Cycle de vie d’une demande"]


@pytest.mark.parametrize(
    ("role", "url", "statut"),
    [
        ("signataire", "/mes-demandes/", 200),
        ("signataire", "/instruction/", 403),
        ("signataire", "/pilotage/", 403),
        ("signataire", "/administration/", 403),
        ("instructeur_etat", "/instruction/", 200),
        ("instructeur_etat", "/mes-demandes/", 403),
        ("instructeur_etat", "/administration/", 403),
        ("pilote", "/pilotage/", 200),
        ("pilote", "/instruction/", 200),
        ("pilote", "/administration/", 403),
        ("admin_national", "/administration/", 200),
        ("sans_role", "/mes-demandes/", 403),
    ],
)
def test_espaces_reserves(client, connexion, monde, role, url, statut):
    connexion.en_tant_que(getattr(monde, role))
    assert client.get(url).status_code == statut


@pytest.mark.parametrize(
    "url", ["/mes-demandes/", "/instruction/", "/pilotage/", "/administration/", "/dossiers/1"]
)
def test_anonyme_renvoye_vers_la_connexion(client, monde, url):
    reponse = client.get(url)
    assert reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion")


def test_dossier_visible_selon_le_role(client, connexion, monde):
    demande = demande_complete(monde)
    url = f"/dossiers/{demande.id}"

    # Un brouillon n'est visible que de sa structure
    for role, statut in (
        ("contributeur", 200),
        ("signataire_autre", 404),
        ("instructeur_etat", 404),
        ("pilote", 404),
        ("admin_national", 404),
    ):
        connexion.en_tant_que(getattr(monde, role))
        assert client.get(url).status_code == statut, role
        connexion.deconnexion()

    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    for role, statut in (
        ("signataire", 200),
        ("instructeur_etat", 200),
        ("partenaire_caf", 200),
        ("pilote", 200),
        ("admin_national", 200),
        ("signataire_autre", 404),
        ("partenaire_autre_contrat", 404),
        ("sans_role", 404),
    ):
        connexion.en_tant_que(getattr(monde, role))
        reponse = client.get(url)
        assert reponse.status_code == statut, role
        if statut == 200:
            html = reponse.get_data(as_text=True)
            assert demande.numero in html and "Transmise" in html
            assert "Attestée sur l’honneur et transmise" in html  # l'historique, en français
        connexion.deconnexion()
    assert client.get("/dossiers/999999").status_code == 302
    connexion.en_tant_que(monde.admin_national)
    assert client.get("/dossiers/999999").status_code == 404


def test_listes_des_demandes_par_role(client, connexion, monde):
    brouillon = demande_complete(monde, intitule="Brouillon discret")
    transmise = demande_complete(monde, intitule="Action transmise")
    declencher_demande(transmise.id, "soumettre", monde.contributeur)
    declencher_demande(transmise.id, "attester", monde.signataire, attestation=True)

    connexion.en_tant_que(monde.contributeur)
    html = client.get("/mes-demandes/").get_data(as_text=True)
    assert "Brouillon discret" in html and "Action transmise" in html
    connexion.deconnexion()

    connexion.en_tant_que(monde.instructeur_etat)
    html = client.get("/instruction/").get_data(as_text=True)
    assert "Action transmise" in html and brouillon.intitule not in html
    assert "6\u202f000,00\xa0€" in html  # montant demandé à l'État, au format français
    assert "Action transmise" not in client.get("/instruction/?statut=prise_en_charge").get_data(as_text=True)
    assert "Action transmise" in client.get("/instruction/?statut=sollicitee").get_data(as_text=True)
    connexion.deconnexion()

    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert "Action transmise" not in client.get("/instruction/").get_data(as_text=True)
    connexion.deconnexion()

    connexion.en_tant_que(monde.pilote)
    html = client.get("/pilotage/").get_data(as_text=True)
    assert "Appel à projets de test" in html and "Transmise" in html


def test_formulaires_exigent_post_et_jeton_csrf(app, monde):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        assert client.get("/compte/deconnexion").status_code == 405
        reponse = client.post(
            "/compte/connexion", data={"email": "signataire@test.fr", "mot_de_passe": "mot-de-passe-de-test"}
        )
        # Sans jeton CSRF : refusé, avec une page française qui dit que rien n'a été enregistré
        assert reponse.status_code == 400
        assert "Rien n’a été enregistré" in reponse.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_connexions_journalisees_et_limitees_par_compte(client, db, monde):
    from sqlalchemy import select

    from dauphin.models import EvenementConnexion, NatureEvenementCompte

    for _ in range(8):
        reponse = client.post(
            "/compte/connexion", data={"email": "Signataire@test.fr", "mot_de_passe": "faux"}
        )
        assert reponse.status_code == 200
    # La 9e tentative sur ce compte est bloquée, même avec le bon mot de passe : page 429 en français
    reponse = client.post(
        "/compte/connexion", data={"email": "signataire@test.fr", "mot_de_passe": "mot-de-passe-de-test"}
    )
    assert reponse.status_code == 429 and "Trop de requêtes" in reponse.get_data(as_text=True)
    # Un autre compte, depuis la même adresse, se connecte toujours
    assert (
        client.post(
            "/compte/connexion",
            data={"email": "contributeur@test.fr", "mot_de_passe": "mot-de-passe-de-test"},
        ).status_code
        == 302
    )
    evenements = db.session.scalars(select(EvenementConnexion).order_by(EvenementConnexion.id)).all()
    # Le blocage est journalisé (une fois) et annoncé au titulaire par courriel (tests/test_sessions.py)
    assert [(e.email, e.reussie, e.motif) for e in evenements] == [
        ("signataire@test.fr", False, "mot de passe")
    ] * 9 + [("contributeur@test.fr", True, None)]
    assert evenements[8].nature == NatureEvenementCompte.verrouillage
    assert evenements[-1].utilisateur_id == monde.contributeur.id and evenements[0].adresse_ip == "127.0.0.1"


def test_declaration_d_accessibilite_liee_du_pied_de_page_avec_son_contact(app, client):
    app.config["CONTACT_ACCESSIBILITE"] = "rgaa@anct.test"
    try:
        accueil = client.get("/").get_data(as_text=True)
        assert 'href="/accessibilite"' in accueil
        assert "Accessibilité : non conforme" in accueil or "accessibilité : non conforme" in accueil.lower()
        page = client.get("/accessibilite").get_data(as_text=True)
    finally:
        app.config["CONTACT_ACCESSIBILITE"] = "accessibilite@dauphin.localhost"
    assert "<strong>non conforme</strong>" in page
    assert 'href="mailto:rgaa@anct.test"' in page
    assert "Voies de recours" in page


def test_caractere_nul_retire_des_saisies(client, monde):
    """Un NUL collé dans un champ ne fait pas d'erreur 500 (PostgreSQL ne le range pas dans un texte)."""
    reponse = client.post(
        "/compte/connexion", data={"email": "signataire@test.fr\x00", "mot_de_passe": "mot-de-passe-de-test"}
    )
    assert reponse.status_code == 302  # l'adresse, sans son NUL, est reconnue : connexion faite
