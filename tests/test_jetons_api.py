"""Écrans et commande des jetons de l'API : qui les gère (administrateur national, instructeur pour son
organisation), création (montré une fois, empreinte seule en base), erreurs de saisie, révocation avec
confirmation, liste (créateur, portée, échéance, dernière utilisation, révocation), `flask api jeton …`."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from dauphin import date_fr
from dauphin.models import JetonApi
from dauphin.services import api as service
from dauphin.services.workflow import aujourdhui
from tests.formulaires_html import html, titre


def clair_affiche(reponse) -> str:
    return re.search(r'value="(dauphin_[^"]+)" data-jeton-clair', html(reponse)).group(1)


def test_un_instructeur_cree_liste_et_revoque_un_jeton_de_son_organisation(client, connexion, db, monde):
    connexion.en_tant_que(monde.instructeur_etat)
    liste = client.get("/jetons-api/")
    assert liste.status_code == 200 and "Aucun jeton" in html(liste)
    assert 'href="/jetons-api/"' in html(liste)  # dans la navigation
    # Une seule organisation : le choix est sauté.
    choix = client.get("/jetons-api/nouveau")
    assert choix.status_code == 302 and choix.location.endswith(f"/organisations/{monde.etat.id}/nouveau")
    formulaire = client.get(choix.location)
    assert formulaire.status_code == 200 and monde.instructeur_etat.nom_complet in html(formulaire)

    echeance = aujourdhui() + timedelta(days=30)
    cree = client.post(
        choix.location,
        data={
            "libelle": "Logiciel comptable",
            "portees": ["lecture", "paiement"],
            "expire_le": echeance.isoformat(),
        },
    )
    assert cree.status_code == 200, html(cree)
    assert cree.headers["Cache-Control"] == "no-store"
    # « Valable jusqu'au 6 mars inclus » : le jour choisi, jamais « 7 mars à 00h00 » (minuit qui le suit)
    jour_choisi = f"{date_fr(echeance)} inclus"
    assert f"<dt>Valable jusqu’au</dt><dd>{jour_choisi}</dd>" in html(cree) and "00h00" not in html(cree)
    clair = clair_affiche(cree)
    jeton = db.session.scalar(select(JetonApi))
    assert jeton.empreinte == service.empreinte(clair) and clair not in (jeton.prefixe, jeton.libelle)
    assert (jeton.titulaire_id, jeton.cree_par_id, jeton.portees) == (
        monde.instructeur_etat.id,
        monde.instructeur_etat.id,
        "lecture paiement",
    )
    assert "<dt>Portées</dt><dd>Lecture, Paiement</dd>" in html(cree)
    assert client.get("/api/v1/demandes", headers={"Authorization": f"Bearer {clair}"}).status_code == 200

    liste = html(client.get("/jetons-api/"))
    assert clair not in liste  # plus jamais affiché
    ligne = re.search(rf'<tr data-jeton="{jeton.id}">(.*?)</tr>', liste, re.S).group(1)
    for attendu in (
        "Logiciel comptable",
        jeton.prefixe,
        "Lecture, Paiement",
        'data-etat="actif"',
        jour_choisi,
    ):
        assert attendu in ligne
    assert "Jamais" not in ligne  # dernière utilisation notée

    confirmation = client.get(f"/jetons-api/{jeton.id}/revoquer")
    assert confirmation.status_code == 200 and "définitive" in html(confirmation)
    assert db.session.get(JetonApi, jeton.id).revoque_le is None  # un GET ne révoque rien
    reponse = client.post(f"/jetons-api/{jeton.id}/revoquer", follow_redirects=True)
    assert "révoqué" in html(reponse)
    db.session.expire_all()
    jeton = db.session.get(JetonApi, jeton.id)
    assert jeton.revoque_le is not None and jeton.revoque_par_id == monde.instructeur_etat.id
    assert 'data-etat="revoque"' in html(reponse) and monde.instructeur_etat.nom_complet in html(reponse)
    assert client.get("/api/v1/demandes", headers={"Authorization": f"Bearer {clair}"}).status_code == 401
    # Révoqué une seconde fois (onglet resté ouvert) : il le reste, à la date et par le compte d'origine.
    revoque_le = jeton.revoque_le
    assert client.post(f"/jetons-api/{jeton.id}/revoquer").status_code == 302
    db.session.expire_all()
    assert db.session.get(JetonApi, jeton.id).revoque_le == revoque_le


def test_saisie_invalide_reaffichee_avec_erreurs(client, connexion, db, monde):
    connexion.en_tant_que(monde.instructeur_etat)
    url = f"/jetons-api/organisations/{monde.etat.id}/nouveau"
    reponse = client.post(
        url, data={"libelle": "Mon outil", "portees": "lecture", "expire_le": aujourdhui().isoformat()}
    )
    assert reponse.status_code == 422
    assert titre(reponse).startswith("Erreur : ")
    assert "postérieure à aujourd’hui" in html(reponse) and 'value="Mon outil"' in html(reponse)
    trop_loin = (aujourdhui() + timedelta(days=400)).isoformat()
    reponse = client.post(url, data={"libelle": "", "portees": "lecture", "expire_le": trop_loin})
    assert reponse.status_code == 422 and "Donnez un nom au jeton" in html(reponse)
    reponse = client.post(url, data={"libelle": "x", "portees": "lecture", "expire_le": trop_loin})
    assert reponse.status_code == 422 and "au plus 365 jours" in html(reponse)
    # Aucune portée cochée : refusé, le message à côté des cases.
    dans_un_mois = (aujourdhui() + timedelta(days=30)).isoformat()
    reponse = client.post(url, data={"libelle": "x", "expire_le": dans_un_mois})
    assert reponse.status_code == 422 and "Cochez au moins une portée." in html(reponse)
    assert 'id="portees-erreur"' in html(reponse)
    assert db.session.scalar(select(JetonApi)) is None


def test_l_administrateur_national_choisit_organisation_et_titulaire(client, connexion, db, monde):
    connexion.en_tant_que(monde.admin_national)
    choix = client.get("/jetons-api/nouveau")
    assert choix.status_code == 200 and monde.caf.nom in html(choix)
    assert client.get("/jetons-api/nouveau?organisation=").status_code == 200
    assert client.get(f"/jetons-api/nouveau?organisation={monde.caf.id}").status_code == 302
    url = f"/jetons-api/organisations/{monde.caf.id}/nouveau"
    echeance = (aujourdhui() + timedelta(days=10)).isoformat()
    # Un partenaire ne peut porter qu'un jeton de lecture.
    reponse = client.post(
        url,
        data={
            "libelle": "Tableau de bord CAF",
            "titulaire_id": monde.partenaire_caf.id,
            "portees": ["lecture", "instruction"],
            "expire_le": echeance,
        },
    )
    assert reponse.status_code == 422 and "instructeur" in html(reponse)
    # Un compte hors de l'organisation n'est pas proposé.
    reponse = client.post(
        url,
        data={
            "libelle": "x",
            "titulaire_id": monde.instructeur_etat.id,
            "portees": "lecture",
            "expire_le": echeance,
        },
    )
    assert reponse.status_code == 422
    reponse = client.post(
        url,
        data={
            "libelle": "Tableau de bord CAF",
            "titulaire_id": monde.partenaire_caf.id,
            "portees": "lecture",
            "expire_le": echeance,
        },
    )
    assert reponse.status_code == 200
    jeton = db.session.scalar(select(JetonApi))
    assert (jeton.organisation_id, jeton.titulaire_id, jeton.cree_par_id) == (
        monde.caf.id,
        monde.partenaire_caf.id,
        monde.admin_national.id,
    )
    liste = html(client.get(f"/jetons-api/?organisation={monde.caf.id}"))
    assert "Tableau de bord CAF" in liste and monde.admin_national.nom_complet in liste


def test_droits_sur_les_ecrans(client, connexion, db, monde):
    _, clair = service.creer_jeton(
        monde.instructeur_commune,
        monde.commune.id,
        libelle="Outil de la ville",
        portees=["lecture"],
        expire_le=aujourdhui() + timedelta(days=5),
    )
    jeton = db.session.scalar(select(JetonApi))
    for compte in (monde.partenaire_caf, monde.signataire, monde.pilote):
        connexion.en_tant_que(compte)
        assert client.get("/jetons-api/").status_code == 403
        connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert "Outil de la ville" not in html(client.get("/jetons-api/"))
    assert client.get(f"/jetons-api/organisations/{monde.commune.id}/nouveau").status_code == 403
    assert client.get("/jetons-api/organisations/99999/nouveau").status_code == 404
    assert client.get(f"/jetons-api/{jeton.id}/revoquer").status_code == 404
    assert client.post(f"/jetons-api/{jeton.id}/revoquer").status_code == 404
    db.session.expire_all()
    assert db.session.get(JetonApi, jeton.id).revoque_le is None
    connexion.deconnexion()
    assert client.get("/jetons-api/").status_code == 302  # vers la connexion


def test_commandes_flask_api_jeton(app, db, monde):
    runner = app.test_cli_runner()
    resultat = runner.invoke(
        args=[
            "api",
            "jeton",
            "creer",
            "--organisation",
            str(monde.etat.id),
            "--par",
            monde.instructeur_etat.email,
            "--libelle",
            "Synchronisation",
            "--portee",
            "lecture",
            "--portee",
            "paiement",
            "--jours",
            "7",
        ]
    )
    assert resultat.exit_code == 0, resultat.output
    clair = re.search(r"^(dauphin_\S+)$", resultat.output, re.M).group(1)
    jeton = db.session.scalar(select(JetonApi))
    assert jeton.empreinte == service.empreinte(clair) and jeton.portees == "lecture paiement"
    assert jeton.cree_par_id == monde.instructeur_etat.id

    lister = runner.invoke(args=["api", "jeton", "lister"])
    assert "Synchronisation" in lister.output and clair not in lister.output

    refus = runner.invoke(
        args=[
            "api",
            "jeton",
            "creer",
            "--organisation",
            str(monde.commune.id),
            "--par",
            monde.instructeur_etat.email,
        ]
        + ["--libelle", "x"]
    )
    assert refus.exit_code != 0 and "ne gère pas" in refus.output
    # Le refus dit quelles organisations le compte gère, avec le numéro à donner
    assert f"{monde.etat.nom} (n° {monde.etat.id})" in refus.output

    # Sans --organisation : celle du compte, s'il n'en gère qu'une ; sinon la liste des numéros
    sans = runner.invoke(
        args=["api", "jeton", "creer", "--par", monde.instructeur_etat.email, "--libelle", "Sans numéro"]
    )
    assert sans.exit_code == 0, sans.output
    assert f"pour {monde.etat.nom}" in sans.output
    national = runner.invoke(
        args=["api", "jeton", "creer", "--par", monde.admin_national.email, "--libelle", "Sans numéro"]
    )
    assert national.exit_code == 1 and "Précisez --organisation" in national.output
    assert f"{monde.etat.nom} (n° {monde.etat.id})" in national.output

    revocation = runner.invoke(
        args=["api", "jeton", "revoquer", str(jeton.id), "--par", monde.admin_national.email]
    )
    assert revocation.exit_code == 0, revocation.output
    db.session.expire_all()
    assert db.session.get(JetonApi, jeton.id).revoque_par_id == monde.admin_national.id
