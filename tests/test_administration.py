"""Administration nationale par ses écrans : accès réservé (403 pour tout autre compte), organisations,
partenaires et règles du comité d'un contrat, nomenclature, comptes et rôles (désactivation comprise),
historique, listes paginées en SQL en nombre de requêtes borné."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from dauphin.models import (
    Campagne,
    ContratDeVille,
    Enveloppe,
    EvenementConnexion,
    EvenementJournal,
    EvenementReferentiel,
    MembreOrganisation,
    Organisation,
    PartenaireContrat,
    Pilotage,
    RegleMajorite,
    RoleOrganisation,
    Thematique,
    Utilisateur,
)
from dauphin.services.workflow import declencher_demande
from tests.clients import ClientIsole
from tests.conftest import Connexion
from tests.fabriques_db import demande_complete, utilisateur
from tests.formulaires_html import champs, erreur_du_champ, html, titre


def traces(db, action: str) -> list[EvenementReferentiel]:
    db.session.expire_all()
    return list(db.session.scalars(select(EvenementReferentiel).where(EvenementReferentiel.action == action)))


@pytest.fixture
def admin(connexion, monde):
    connexion.en_tant_que(monde.admin_national)
    return monde.admin_national


# --- Accès ------------------------------------------------------------------------------------------


def urls_administration(app, monde) -> list[tuple[str, str]]:
    """Chaque écran de l'administration (méthode, URL), paramètres remplis avec des objets existants."""
    valeurs = {
        "contrat_id": monde.contrat.id,
        "organisation_id": monde.etat.id,
        "utilisateur_id": monde.pilote.id,
        "adhesion_id": 1,
        "pilotage_id": 1,
        "code": "1.1",
        "nature": "contrats",
        "nom": "programmation-2026.xlsx",
    }
    resultat = []
    for regle in app.url_map.iter_rules():
        if not regle.rule.startswith("/administration"):
            continue
        url = regle.rule
        for nom in regle.arguments:
            url = re.sub(rf"<(?:\w+:)?{nom}>", str(valeurs[nom]), url)
        for methode in sorted(regle.methods - {"HEAD", "OPTIONS"}):
            resultat.append((methode, url))
    return resultat


@pytest.mark.parametrize("role", ["signataire", "instructeur_etat", "partenaire_caf", "pilote", "sans_role"])
def test_tout_ecran_d_administration_refuse_aux_autres_comptes(app, client, connexion, db, monde, role):
    urls = urls_administration(app, monde)
    assert len(urls) >= 25  # tous les écrans, y compris les actions en POST
    connexion.en_tant_que(getattr(monde, role))
    avant = db.session.scalar(select(func.count()).select_from(EvenementReferentiel))
    for methode, url in urls:
        reponse = client.open(url, method=methode, data={"actif": "0", "valeur": "1", "version": "1"})
        assert reponse.status_code == 403, (methode, url, reponse.status_code)
    assert db.session.scalar(select(func.count()).select_from(EvenementReferentiel)) == avant
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.pilote.id).actif is True
    # Anonyme : renvoyé à la connexion
    connexion.deconnexion()
    assert client.get("/administration/comptes").status_code == 302


# --- Organisations ----------------------------------------------------------------------------------


def test_creer_modifier_desactiver_une_organisation(client, db, monde, admin):
    page = client.get("/administration/organisations/nouvelle")
    donnees = champs(html(page)) | {
        "nom": "Conseil départemental du Nord",
        "type_organisation": "departement",
        "siren": "225 900 018",
        "departement": "59",
        "est_financeur": "y",
        "email_contact": "Politique.Ville@lenord.fr",
    }
    reponse = client.post("/administration/organisations/nouvelle", data=donnees)
    assert reponse.status_code == 302, html(reponse)
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.nom == "Conseil départemental du Nord")
    )
    assert (organisation.siren, organisation.email_contact) == ("225900018", "politique.ville@lenord.fr")

    # Nom déjà pris, SIREN faux, département inconnu : messages à côté des champs, saisie conservée
    reponse = client.post(
        "/administration/organisations/nouvelle",
        data=donnees | {"nom": "ville de lille", "siren": "123456789", "departement": "20"},
    )
    assert reponse.status_code == 422 and titre(reponse).startswith("Erreur : ")
    assert erreur_du_champ(reponse, "departement").startswith("Département inconnu")
    assert erreur_du_champ(reponse, "siren") is not None
    assert champs(html(reponse))["nom"] == "ville de lille"
    reponse = client.post("/administration/organisations/nouvelle", data=donnees | {"nom": "ville de lille"})
    assert erreur_du_champ(reponse, "nom") == "Une organisation porte déjà ce nom."

    # Modifier avec une page périmée : conflit, rien d'écrasé
    url = f"/administration/organisations/{organisation.id}/modifier"
    lue = champs(html(client.get(url)))
    assert client.post(url, data=lue | {"nom": "Département du Nord"}).status_code == 302
    reponse = client.post(url, data=lue | {"nom": "Autre nom"})
    assert reponse.status_code == 409 and "modifiée entre-temps" in html(reponse)
    assert champs(html(reponse))["nom"] == "Autre nom"
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).nom == "Département du Nord"

    # Désactiver : plus proposée comme financeur d'une nouvelle campagne, son historique reste
    reponse = client.post(
        f"/administration/organisations/{organisation.id}/activation",
        data={"version": db.session.get(Organisation, organisation.id).version, "actif": "0"},
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).actif is False
    assert {t.action for t in db.session.scalars(select(EvenementReferentiel))} >= {
        "creer",
        "modifier",
        "desactiver",
    }


# --- Contrats : partenaires et règles du comité -----------------------------------------------------


def test_partenaires_et_regles_du_comite(client, db, monde, admin):
    url = f"/administration/contrats/{monde.contrat.id}"
    page = client.get(url)
    assert "Préfecture du Nord (État – P147)" in html(page)
    departement = Organisation(nom="Département du Nord", type_organisation="departement")
    db.session.add(departement)
    db.session.commit()
    reponse = client.post(f"{url}/partenaires", data={"organisation_id": departement.id})
    assert reponse.status_code == 302
    assert db.session.get(PartenaireContrat, (monde.contrat.id, departement.id)) is not None
    # Déjà partenaire : l'organisation n'est plus proposée, un envoi forgé est refusé à côté du champ
    reponse = client.post(f"{url}/partenaires", data={"organisation_id": departement.id})
    assert reponse.status_code == 422 and erreur_du_champ(reponse, "organisation_id")

    # Retirer la CAF (sans enveloppe, sans lignes) : permis ; l'État (enveloppe 2027) : refusé, avec la raison
    assert client.post(f"{url}/partenaires/{monde.caf.id}/retirer").status_code == 302
    assert db.session.get(PartenaireContrat, (monde.contrat.id, monde.caf.id)) is None
    reponse = client.post(f"{url}/partenaires/{monde.etat.id}/retirer")
    assert reponse.status_code == 422
    assert "a une enveloppe dans la campagne" in html(reponse) and titre(reponse).startswith("Erreur : ")
    assert db.session.get(PartenaireContrat, (monde.contrat.id, monde.etat.id)) is not None

    # Règles du comité
    lue = champs(html(client.get(url)), action=f"{url}/regles")
    assert lue["quorum_pourcentage"] == "50" and lue["regle_majorite"] == "simple"
    reponse = client.post(f"{url}/regles", data=lue | {"quorum_pourcentage": "150"})
    assert reponse.status_code == 422
    assert erreur_du_champ(reponse, "quorum_pourcentage") == "Le quorum est un pourcentage entre 1 et 100."
    reponse = client.post(
        f"{url}/regles", data=lue | {"quorum_pourcentage": "60", "regle_majorite": "deux_tiers"}
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    contrat = db.session.get(ContratDeVille, monde.contrat.id)
    assert (contrat.quorum_pourcentage, contrat.regle_majorite) == (60, RegleMajorite.deux_tiers)
    # La même page, périmée : conflit, les règles enregistrées restent
    reponse = client.post(f"{url}/regles", data=lue | {"quorum_pourcentage": "10"})
    assert reponse.status_code == 409 and "modifiée entre-temps" in html(reponse)
    db.session.expire_all()
    assert db.session.get(ContratDeVille, monde.contrat.id).quorum_pourcentage == 60
    assert [t.details for t in traces(db, "regles_comite")] == [
        {"quorum_pourcentage": [50, 60], "regle_majorite": ["simple", "deux_tiers"]}
    ]


# --- Nomenclature thématique ------------------------------------------------------------------------


def test_nomenclature_ajouter_modifier_desactiver_supprimer(client, db, monde, admin):
    demande_complete(monde)  # utilise le code 1.5
    reponse = client.post(
        "/administration/thematiques/nouvelle", data={"code": "1.7", "libelle": "Numérique", "ordre": "7"}
    )
    assert reponse.status_code == 302
    assert db.session.get(Thematique, "1.7").parent_code == "1"
    reponse = client.post(
        "/administration/thematiques/nouvelle", data={"code": "9.1", "libelle": "x", "ordre": "0"}
    )
    assert erreur_du_champ(reponse, "code") == "Le pilier 9 n’existe pas : créez-le d’abord."
    reponse = client.post(
        "/administration/thematiques/nouvelle", data={"code": "1.7", "libelle": "x", "ordre": "0"}
    )
    assert erreur_du_champ(reponse, "code") == "Le code 1.7 existe déjà."
    reponse = client.post(
        "/administration/thematiques/nouvelle", data={"code": "abc", "libelle": "x", "ordre": "0"}
    )
    assert reponse.status_code == 422 and erreur_du_champ(reponse, "code").startswith("Le code est un numéro")

    # Un code utilisé par une demande ne peut pas être supprimé ; désactivé, il n'est plus proposé
    liste = html(client.get("/administration/thematiques"))
    assert 'action="/administration/thematiques/1.5/supprimer"' not in liste
    reponse = client.post("/administration/thematiques/1.5/supprimer", data={"version": "1"})
    assert reponse.status_code == 302
    assert "utilisé par 1 demande(s) : il ne peut pas être supprimé" in html(
        client.get("/administration/thematiques")
    )
    assert db.session.get(Thematique, "1.5") is not None
    assert client.post(
        "/administration/thematiques/1.5/activation", data={"version": "1", "actif": "0"}
    ).status_code
    db.session.expire_all()
    assert db.session.get(Thematique, "1.5").actif is False
    # Un pilier avec des sous-thèmes non plus ; un code inutilisé, si
    client.post("/administration/thematiques/1/supprimer", data={"version": "1"})
    assert db.session.get(Thematique, "1") is not None
    assert client.post("/administration/thematiques/1.7/supprimer", data={"version": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Thematique, "1.7") is None
    # Modifier le libellé
    lue = champs(html(client.get("/administration/thematiques/1.1/modifier")))
    assert client.post(
        "/administration/thematiques/1.1/modifier", data=lue | {"libelle": "Éducation et réussite"}
    )
    db.session.expire_all()
    assert db.session.get(Thematique, "1.1").libelle == "Éducation et réussite"
    assert {t.action for t in db.session.scalars(select(EvenementReferentiel))} >= {
        "creer",
        "desactiver",
        "supprimer",
        "modifier",
    }


# --- Comptes et rôles -------------------------------------------------------------------------------


def test_desactiver_un_compte_bloque_la_connexion_et_garde_l_historique(app, client, db, monde, admin):
    client = ClientIsole(client)
    # Le signataire a un historique : une demande transmise (journal) et des connexions
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    client_signataire = ClientIsole(app.test_client())
    Connexion(client_signataire).en_tant_que(monde.signataire)
    assert client_signataire.get("/mes-demandes/").status_code == 200
    lignes_journal = db.session.scalar(
        select(func.count()).where(EvenementJournal.acteur_id == monde.contributeur.id)
    )
    assert lignes_journal >= 1

    url = f"/administration/comptes/{monde.contributeur.id}"
    reponse = client.post(f"{url}/activation", data={"actif": "0", "motif": "Départ de l’association"})
    assert reponse.status_code == 302
    client.post(f"/administration/comptes/{monde.signataire.id}/activation", data={"actif": "0"})
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.contributeur.id).actif is False

    # Sa session ouverte tombe ; il ne peut plus se connecter
    assert client_signataire.get("/mes-demandes/").status_code == 302
    reponse = ClientIsole(app.test_client()).post(
        "/compte/connexion", data={"email": "contributeur@test.fr", "mot_de_passe": "mot-de-passe-de-test"}
    )
    assert reponse.status_code == 403 and "Ce compte a été désactivé" in html(reponse)

    # Rien n'est perdu : journal, rattachements, connexions ; la fiche montre le motif
    assert (
        db.session.scalar(select(func.count()).where(EvenementJournal.acteur_id == monde.contributeur.id))
        == lignes_journal
    )
    assert db.session.get(Utilisateur, monde.contributeur.id).adhesions_structures
    page = html(client.get(url))
    assert "désactivé" in page and "Départ de l’association" in page
    assert db.session.scalar(
        select(func.count()).where(
            EvenementConnexion.utilisateur_id == monde.contributeur.id,
            EvenementConnexion.motif == "compte désactivé",
        )
    )
    trace = traces(db, "desactiver")[0]
    assert trace.acteur_id == monde.admin_national.id and trace.details == {
        "motif": "Départ de l’association"
    }

    # Réactivé, il se reconnecte
    client.post(f"{url}/activation", data={"actif": "1"})
    Connexion(ClientIsole(app.test_client())).en_tant_que(monde.contributeur)


def test_on_ne_se_retire_pas_soi_meme(client, db, monde, admin):
    url = f"/administration/comptes/{monde.admin_national.id}"
    # Sur sa propre fiche, ni « Désactiver le compte » ni « Retirer l’accès » : ils seraient refusés.
    page = html(client.get(url))
    assert f'action="{url}/activation"' not in page and f'action="{url}/administration-nationale"' not in page
    assert "C’est votre compte" in page
    autre = f"/administration/comptes/{monde.pilote.id}"
    assert f'action="{autre}/activation"' in html(client.get(autre))
    reponse = client.post(f"{url}/activation", data={"actif": "0"})
    assert reponse.status_code == 422 and "Vous ne pouvez pas désactiver votre propre compte." in html(
        reponse
    )
    reponse = client.post(f"{url}/administration-nationale", data={"valeur": "0"})
    assert reponse.status_code == 422
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.admin_national.id).administrateur_national is True


def test_roles_organisations_pilotage_et_administration(app, client, db, monde, admin):
    client = ClientIsole(client)
    nouveau = utilisateur("nouvelle.recrue@test.fr", nom="Recrue")
    db.session.commit()
    url = f"/administration/comptes/{nouveau.id}"
    assert "nouvelle.recrue@test.fr" in html(client.get("/administration/comptes?q=RECRUE"))
    assert "nouvelle.recrue@test.fr" not in html(
        client.get("/administration/comptes?q=recrue&statut=desactives")
    )

    reponse = client.post(
        f"{url}/organisations", data={"organisation_id": monde.commune.id, "role": "instructeur"}
    )
    assert reponse.status_code == 302
    reponse = client.post(
        f"{url}/organisations", data={"organisation_id": monde.commune.id, "role": "instructeur"}
    )
    assert reponse.status_code == 422
    assert erreur_du_champ(reponse, "organisation_id") == "Ce compte est déjà instructeur de Ville de Lille."
    reponse = client.post(f"{url}/organisations", data={"organisation_id": "0", "role": "partenaire"})
    assert erreur_du_champ(reponse, "organisation_id") == "Choisissez l’organisation."
    # Changer de rôle dans la même organisation
    client.post(f"{url}/organisations", data={"organisation_id": monde.commune.id, "role": "partenaire"})
    adhesion = db.session.scalar(
        select(MembreOrganisation).where(MembreOrganisation.utilisateur_id == nouveau.id)
    )
    assert adhesion.role == RoleOrganisation.partenaire

    # Pilotage : au nom d'une organisation partenaire du contrat uniquement
    reponse = client.post(
        f"{url}/pilotages", data={"contrat_id": monde.autre_contrat.id, "organisation_id": monde.etat.id}
    )
    assert reponse.status_code == 422 and "partenaire de ce contrat" in erreur_du_champ(
        reponse, "organisation_id"
    )
    reponse = client.post(
        f"{url}/pilotages", data={"contrat_id": monde.contrat.id, "organisation_id": monde.etat.id}
    )
    assert reponse.status_code == 302
    pilotage = db.session.scalar(select(Pilotage).where(Pilotage.utilisateur_id == nouveau.id))
    assert pilotage.contrat_id == monde.contrat.id
    # Le nouveau pilote voit la campagne du contrat et peut l'ouvrir
    client_pilote = ClientIsole(app.test_client())
    Connexion(client_pilote).en_tant_que(nouveau)
    assert client_pilote.get(f"/pilotage/campagnes/{monde.campagne.id}/modifier").status_code == 200
    assert client_pilote.get("/administration/").status_code == 403

    # Administration nationale accordée puis rôles retirés
    client.post(f"{url}/administration-nationale", data={"valeur": "1"})
    # La double authentification lui devient obligatoire : sa session, ouverte sans elle, se ferme ; il
    # l'active à la connexion suivante, avant d'entrer.
    reponse = client_pilote.get("/administration/")
    assert reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion")
    reponse = client_pilote.post(
        "/compte/connexion", data={"email": nouveau.email, "mot_de_passe": "mot-de-passe-de-test"}
    )
    assert reponse.headers["Location"] == "/compte/connexion/double-authentification"
    activer_en_se_connectant(client_pilote)
    assert client_pilote.get("/administration/").status_code == 200
    assert client.post(f"{url}/pilotages/{pilotage.id}/retirer").status_code == 302
    assert client.post(f"{url}/organisations/{adhesion.id}/retirer").status_code == 302
    assert client_pilote.get(f"/pilotage/campagnes/{monde.campagne.id}/modifier").status_code == 403
    # Un rattachement d'un autre compte : 404
    autre = db.session.scalar(
        select(MembreOrganisation).where(MembreOrganisation.utilisateur_id == monde.instructeur_etat.id)
    )
    assert client.post(f"{url}/organisations/{autre.id}/retirer").status_code == 404
    actions = [
        t.action
        for t in db.session.scalars(
            select(EvenementReferentiel)
            .where(EvenementReferentiel.objet_id == str(nouveau.id))
            .order_by(EvenementReferentiel.id)
        )
    ]
    assert actions == [
        "ajouter_role",
        "changer_role",
        "ajouter_pilotage",
        "administration_nationale",
        "retirer_pilotage",
        "retirer_role",
    ]

    page = html(client.get(url))
    assert "Pilote du contrat CV-TEST-1" in page and "Ne pilote plus le contrat CV-TEST-1" in page
    assert "Instructeur de Ville de Lille" in html(client.get("/administration/historique"))


# --- Listes paginées en SQL, nombre de requêtes borné -----------------------------------------------


class Compteur:
    def __init__(self, moteur):
        self.nombre = 0
        event.listen(moteur, "before_cursor_execute", self._compter)

    def _compter(self, *args, **kwargs):
        self.nombre += 1

    def mesurer(self, client, url) -> int:
        from dauphin.extensions import db

        db.session.remove()  # une session neuve, comme chaque requête en production
        self.nombre = 0
        reponse = client.get(url)
        assert reponse.status_code == 200, url
        return self.nombre


def remplir(db, ids: dict, n: int, depart: int) -> None:
    for i in range(depart, depart + n):
        compte = utilisateur(f"compte{i}@test.fr", nom=f"Nom{i:03d}")
        organisation = Organisation(nom=f"Organisation {i:03d}", type_organisation="autre")
        contrat = ContratDeVille(code=f"CV{i:04d}", libelle=f"Contrat {i}", departement="59")
        db.session.add_all([organisation, contrat])
        db.session.flush()
        db.session.add(
            MembreOrganisation(utilisateur_id=compte.id, organisation_id=organisation.id, role="partenaire")
        )
        db.session.add(
            Pilotage(utilisateur_id=compte.id, contrat_id=ids["contrat"], organisation_id=ids["etat"])
        )
        db.session.add(PartenaireContrat(contrat_id=contrat.id, organisation_id=organisation.id))
    db.session.commit()


def test_listes_paginees_en_nombre_de_requetes_borne(app, client, db, monde, admin):
    client = ClientIsole(client)
    compteur = Compteur(db.engine)
    ids = {"contrat": monde.contrat.id, "etat": monde.etat.id}
    urls = [
        "/administration/",
        "/administration/comptes",
        "/administration/organisations",
        "/administration/contrats",
        "/administration/qpv",
        "/administration/historique",
        f"/administration/comptes/{monde.pilote.id}",
    ]
    remplir(db, ids, 30, 0)
    peu = {url: compteur.mesurer(client, url) for url in urls}
    remplir(db, ids, 30, 100)
    beaucoup = {url: compteur.mesurer(client, url) for url in urls}
    assert beaucoup == peu
    assert max(peu.values()) <= 20
    page = html(client.get("/administration/comptes"))
    assert len(re.findall(r'<tr data-compte="', page)) == app.config["PAGE_TAILLE"]
    # 71 comptes : la troisième page porte le reste, et la pagination y mène
    page = html(client.get("/administration/comptes?page=3"))
    assert len(re.findall(r'<tr data-compte="', page)) == 71 - 2 * app.config["PAGE_TAILLE"]
    assert 'aria-current="page" title="Page 3"' in page


def test_campagne_nouvelle_ne_propose_pas_une_organisation_desactivee(client, connexion, db, monde):
    """Une organisation désactivée par l'administration n'est plus proposée au pilote (enveloppe)."""
    monde.commune.actif = False
    db.session.add(
        Campagne(
            contrat_id=monde.contrat.id,
            exercice=2040,
            libelle="x",
            date_ouverture=date(2039, 11, 1),
            date_cloture=date(2040, 1, 1),
            enveloppes=[Enveloppe(organisation_id=monde.etat.id, montant=Decimal("1"))],
        )
    )
    db.session.commit()
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}"))
    assert f'name="enveloppe_{monde.etat.id}"' in page
    assert f'name="enveloppe_{monde.commune.id}"' not in page
    # Mais la campagne où elle a déjà une enveloppe la garde (on ne perd pas son montant)
    page = html(client.get(f"/pilotage/campagnes/{monde.campagne.id}/modifier"))
    assert f'name="enveloppe_{monde.commune.id}"' in page


def test_recherches_au_pied_de_la_lettre(client, monde, admin):
    """« % » et « _ » tapés dans une recherche de l'administration ne sont pas des jokers (comme dans l'espace
    d'instruction) ; la casse, elle, ne compte pas."""
    for url, present in (
        ("/administration/comptes", "admin@test.fr"),
        ("/administration/contrats", "CV-TEST-1"),
        ("/administration/organisations", "Ville de Lille"),
    ):
        assert present in html(client.get(url, query_string={"q": present.upper()})), url
        for joker in ("%", "_"):
            assert present not in html(client.get(url, query_string={"q": joker})), (url, joker)


def activer_en_se_connectant(client):
    """L'activation imposée au milieu de la connexion : le secret lu sur la page, le code calculé par pyotp
    comme par l'application ; la session s'ouvre et les codes de secours s'affichent."""
    import pyotp

    page = client.get("/compte/connexion/double-authentification").get_data(as_text=True)
    secret = re.search(r'<code id="cle-secrete">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    reponse = client.post(
        "/compte/connexion/double-authentification", data={"code": pyotp.TOTP(secret).now()}
    )
    assert reponse.status_code == 200 and "Vos codes de secours" in reponse.get_data(as_text=True)
