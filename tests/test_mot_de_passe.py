"""Mot de passe oublié (lien signé, expirant, à usage unique) et changement du mot de passe depuis « Mon
compte » : par le client de test, comme un usager, avec les vrais courriels de la boîte d'envoi.

L'expiration se vérifie avec le vrai lien reçu, en avançant l'horloge d'itsdangerous (la bibliothèque qui
date et signe le lien), sans rien simuler du code de Dauphin.
"""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from dauphin.models import Courriel, EvenementConnexion, NatureEvenementCompte, Utilisateur
from forms.comptes import raison_mot_de_passe_faible
from tests.clients import ClientIsole
from tests.conftest import Connexion
from tests.fabriques_db import MOT_DE_PASSE
from tests.formulaires_html import erreur_du_champ, html, titre

NOUVEAU = "une toute nouvelle phrase de passe"
OUBLIE = "/compte/mot-de-passe/oublie"
ENVOYEE = "/compte/mot-de-passe/oublie/courriel-envoye"
CHANGER = "/compte/mot-de-passe"


def courriels_a(db, adresse: str) -> list[Courriel]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Courriel).where(Courriel.destinataire == adresse).order_by(Courriel.id))
    )


def lien_de_reinitialisation(db, adresse: str) -> str:
    """Le chemin du lien du dernier courriel « choisissez un nouveau mot de passe » reçu à cette adresse."""
    (*_, courriel) = [c for c in courriels_a(db, adresse) if "nouveau mot de passe" in c.sujet]
    liens = re.findall(r"https?://[^/\s]+(/\S+)", courriel.corps)
    return next(lien for lien in liens if lien.startswith("/compte/mot-de-passe/reinitialiser/"))


def evenements(db, nature: NatureEvenementCompte) -> list[EvenementConnexion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(EvenementConnexion)
            .where(EvenementConnexion.nature == nature)
            .order_by(EvenementConnexion.id)
        )
    )


def se_connecte(app, email: str, mot_de_passe: str) -> bool:
    reponse = ClientIsole(app.test_client()).post(
        "/compte/connexion", data={"email": email, "mot_de_passe": mot_de_passe}
    )
    return reponse.status_code == 302


def client_connecte(app, utilisateur, mot_de_passe: str = MOT_DE_PASSE) -> ClientIsole:
    client = ClientIsole(app.test_client())
    Connexion(client).en_tant_que(utilisateur, mot_de_passe)
    return client


def est_connecte(client) -> bool:
    """Une page réservée s'ouvre (sinon : renvoi vers la connexion)."""
    reponse = client.get("/compte/")
    assert reponse.status_code in (200, 302)
    return reponse.status_code == 200


@pytest.fixture
def horloge(monkeypatch):
    """Avance l'horloge avec laquelle itsdangerous vérifie l'âge d'un lien signé."""

    def avancer(secondes: int):
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + secondes)

    return avancer


# --- Mot de passe oublié -----------------------------------------------------------------------


def test_lien_mot_de_passe_oublie_sur_la_page_de_connexion(client):
    page = html(client.get("/compte/connexion"))
    assert f'href="{OUBLIE}"' in page and "Mot de passe oublié ?" in page
    reponse = client.get(OUBLIE)
    assert reponse.status_code == 200 and titre(reponse) == "Mot de passe oublié — Dauphin"
    assert "valable 1 heure" in html(reponse)


def test_meme_reponse_que_le_compte_existe_ou_non(app, client, db, monde):
    connu = client.post(OUBLIE, data={"email": " Signataire@Test.fr "})
    inconnu = client.post(OUBLIE, data={"email": "personne.inconnue@test.fr"})
    assert connu.status_code == inconnu.status_code == 302
    assert connu.headers["Location"] == inconnu.headers["Location"] == ENVOYEE

    # Un courriel pour le compte existant, aucun pour l'adresse inconnue
    (courriel,) = courriels_a(db, "signataire@test.fr")
    assert courriel.sujet == "Dauphin : choisissez un nouveau mot de passe"
    assert "valable 1 heure, et une seule fois" in courriel.corps
    assert courriel.corps.count("http://127.0.0.1:5000/compte/mot-de-passe/reinitialiser/") == 1
    assert courriels_a(db, "personne.inconnue@test.fr") == []

    # Les deux demandes sont journalisées, avec l'adresse d'origine
    demandes = evenements(db, NatureEvenementCompte.demande_reinitialisation)
    assert [(e.email, e.utilisateur_id, e.reussie, e.motif) for e in demandes] == [
        ("signataire@test.fr", monde.signataire.id, True, None),
        ("personne.inconnue@test.fr", None, False, "compte inconnu"),
    ]
    assert demandes[0].adresse_ip == "127.0.0.1"


def test_page_de_confirmation_identique_pour_adresse_connue_ou_inconnue(app, monde):
    pages = []
    for adresse in ("signataire@test.fr", "personne.inconnue@test.fr"):
        client = ClientIsole(app.test_client())
        client.post(OUBLIE, data={"email": adresse})
        pages.append(html(client.get(ENVOYEE)).replace(adresse, "ADRESSE"))
    assert pages[0] == pages[1]
    assert "Si un compte Dauphin correspond à l’adresse <strong>ADRESSE</strong>" in pages[0]


def test_compte_desactive_ne_recoit_rien(client, db, monde):
    monde.contributeur.actif = False
    db.session.commit()
    assert client.post(OUBLIE, data={"email": "contributeur@test.fr"}).headers["Location"] == ENVOYEE
    assert courriels_a(db, "contributeur@test.fr") == []
    (demande,) = evenements(db, NatureEvenementCompte.demande_reinitialisation)
    assert (demande.reussie, demande.motif) == (False, "compte désactivé")


def test_adresse_invalide_message_a_cote_du_champ(client):
    reponse = client.post(OUBLIE, data={"email": "pas-une-adresse"})
    assert reponse.status_code == 422 and titre(reponse) == "Erreur : Mot de passe oublié — Dauphin"
    assert erreur_du_champ(reponse, "email").startswith("Saisissez une adresse électronique valide")
    page = html(reponse)
    assert 'id="resume-erreurs"' in page and 'aria-describedby="email-erreur"' in page
    assert 'value="pas-une-adresse"' in page


def test_le_lien_reinitialise_le_mot_de_passe_une_seule_fois(app, client, db, monde):
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    lien = lien_de_reinitialisation(db, "signataire@test.fr")

    reponse = client.get(lien)
    assert reponse.status_code == 200 and titre(reponse) == "Choisir un nouveau mot de passe — Dauphin"
    assert reponse.headers["Cache-Control"] == "no-store"
    assert "signataire@test.fr" in html(reponse)

    reponse = client.post(lien, data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU})
    assert reponse.status_code == 302 and reponse.headers["Location"] == "/compte/connexion"
    assert "Votre mot de passe a été modifié" in html(client.get("/compte/connexion"))

    assert not se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)
    assert se_connecte(app, "signataire@test.fr", NOUVEAU)

    # Le lien a servi : refusé, avec une page claire et de quoi en demander un autre
    for methode in ("get", "post"):
        autre = "encore un autre mot de passe"
        reponse = getattr(client, methode)(lien, data={"mot_de_passe": autre, "confirmation": autre})
        page = html(reponse)
        assert reponse.status_code == 410, methode
        assert titre(reponse) == "Ce lien de réinitialisation a déjà servi — Dauphin"
        assert "ne sert qu’une fois" in page and "Recevoir un nouveau lien" in page
        assert f'action="{OUBLIE}"' in page
    assert se_connecte(app, "signataire@test.fr", NOUVEAU)

    # Journal et courriel d'avertissement
    (reinitialisation,) = evenements(db, NatureEvenementCompte.reinitialisation)
    assert (reinitialisation.utilisateur_id, reinitialisation.reussie) == (monde.signataire.id, True)
    assert reinitialisation.adresse_ip == "127.0.0.1"
    sujets = [c.sujet for c in courriels_a(db, "signataire@test.fr")]
    assert sujets == [
        "Dauphin : choisissez un nouveau mot de passe",
        "Dauphin : votre mot de passe a été modifié",
    ]


def test_deux_liens_demandes_le_premier_utilise_rend_l_autre_caduc(client, db, monde, horloge):
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    premier = lien_de_reinitialisation(db, "signataire@test.fr")
    horloge(5 * 60)  # seconde demande cinq minutes plus tard : les deux liens valent
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    second = lien_de_reinitialisation(db, "signataire@test.fr")
    assert premier != second
    assert client.get(premier).status_code == client.get(second).status_code == 200
    assert client.post(second, data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}).status_code == 302
    assert client.get(premier).status_code == 410


def test_reinitialisation_ferme_les_sessions_ouvertes(app, client, db, monde):
    ailleurs = client_connecte(app, monde.signataire)
    assert est_connecte(ailleurs)
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    client.post(
        lien_de_reinitialisation(db, "signataire@test.fr"),
        data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU},
    )
    assert not est_connecte(ailleurs)
    assert ailleurs.get("/compte/").headers["Location"].startswith("/compte/connexion")


def test_nouveau_mot_de_passe_soumis_aux_regles_de_l_inscription(client, db, monde):
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    lien = lien_de_reinitialisation(db, "signataire@test.fr")

    reponse = client.post(lien, data={"mot_de_passe": "court", "confirmation": "autre chose"})
    assert reponse.status_code == 422
    assert titre(reponse) == "Erreur : Choisir un nouveau mot de passe — Dauphin"
    assert erreur_du_champ(reponse, "mot_de_passe").startswith("Le mot de passe doit compter au moins 12")
    assert erreur_du_champ(reponse, "confirmation") == "Les deux mots de passe ne sont pas identiques."
    assert 'id="resume-erreurs"' in html(reponse)

    reponse = client.post(
        lien, data={"mot_de_passe": "Signataire@test.fr", "confirmation": "Signataire@test.fr"}
    )
    assert erreur_du_champ(reponse, "mot_de_passe").startswith(
        "Ce mot de passe est trop facile à deviner : il reprend votre nom ou votre adresse électronique."
    )
    # Rien n'a changé : l'ancien mot de passe vaut toujours, le lien aussi
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.signataire.id).verifier_mot_de_passe(MOT_DE_PASSE)
    assert client.get(lien).status_code == 200
    assert evenements(db, NatureEvenementCompte.reinitialisation) == []


def test_lien_expire_refuse_avec_une_page_claire(app, client, db, monde, horloge, monkeypatch):
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    lien = lien_de_reinitialisation(db, "signataire@test.fr")

    horloge(59 * 60)
    assert client.get(lien).status_code == 200  # encore valable au bout de 59 minutes

    horloge(61 * 60)
    for reponse in (
        client.get(lien),
        client.post(lien, data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}),
    ):
        assert reponse.status_code == 410
        assert titre(reponse) == "Ce lien de réinitialisation a expiré — Dauphin"
        page = " ".join(html(reponse).split())
        assert "est valable 1 heure après son envoi" in page and "Votre mot de passe n’a pas changé" in page
        assert "Recevoir un nouveau lien" in page
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.signataire.id).verifier_mot_de_passe(MOT_DE_PASSE)

    # La durée se règle (DAUPHIN_PASSWORD_RESET_MINUTES) : à deux heures, le même lien vaut encore
    monkeypatch.setitem(app.config, "REINITIALISATION_MINUTES", 120)
    assert client.get(lien).status_code == 200
    assert "valable 2 heures" in html(client.get(OUBLIE))


def test_lien_forge_ou_altere_refuse(app, client, db, monde):
    from itsdangerous import URLSafeTimedSerializer

    reponse = client.get("/compte/mot-de-passe/reinitialiser/nimporte-quoi")
    assert reponse.status_code == 404
    assert titre(reponse) == "Ce lien de réinitialisation n’est pas valide — Dauphin"
    assert "mal copié" in html(reponse) and "Recevoir un nouveau lien" in html(reponse)

    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    lien = lien_de_reinitialisation(db, "signataire@test.fr")
    assert client.get(lien[:-4] + ("aaaa" if not lien.endswith("aaaa") else "bbbb")).status_code == 404

    # Signé avec une autre clé, ou avec le sel d'un autre usage (lien de confirmation) : refusé
    for cle, sel in (
        ("une-autre-cle-secrete-de-32-caracteres", "dauphin.compte.reinitialisation-mot-de-passe"),
        (app.config["SECRET_KEY"], "dauphin.compte.confirmation-email"),
    ):
        jeton = URLSafeTimedSerializer(cle, salt=sel).dumps({"u": monde.signataire.id, "s": "0" * 16})
        assert client.get(f"/compte/mot-de-passe/reinitialiser/{jeton}").status_code == 404
        reponse = client.post(
            f"/compte/mot-de-passe/reinitialiser/{jeton}",
            data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU},
        )
        assert reponse.status_code == 404
    assert se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)


def test_demandes_limitees_par_adresse_electronique(app, client, db, monde):
    for _ in range(5):
        assert client.post(OUBLIE, data={"email": "signataire@test.fr"}).status_code == 302
    reponse = client.post(OUBLIE, data={"email": "signataire@test.fr"})
    assert reponse.status_code == 429 and "Trop de requêtes" in html(reponse)
    assert len(courriels_a(db, "signataire@test.fr")) == 5
    # Une autre adresse, depuis la même origine, passe encore
    assert client.post(OUBLIE, data={"email": "contributeur@test.fr"}).status_code == 302


# --- Changer mon mot de passe ------------------------------------------------------------------


def test_mon_compte_dans_l_en_tete_et_page_de_changement(client, connexion, monde):
    connexion.en_tant_que(monde.signataire)
    page = html(client.get("/mes-demandes/"))
    assert 'href="/compte/"' in page and "Mon compte : </span>Prénom signataire" in page
    reponse = client.get("/compte/")
    assert reponse.status_code == 200 and titre(reponse) == "Mon compte — Dauphin"
    assert f'href="{CHANGER}"' in html(reponse) and "signataire@test.fr" in html(reponse)
    # L'activité du compte : la connexion qui vient d'avoir lieu
    assert "<td>Connexion</td><td>réussie</td><td>127.0.0.1</td>" in html(reponse)
    reponse = client.get(CHANGER)
    assert reponse.status_code == 200 and titre(reponse) == "Changer mon mot de passe — Dauphin"
    page = html(reponse)
    assert 'autocomplete="current-password"' in page and page.count('autocomplete="new-password"') == 2


def test_changement_mot_de_passe_actuel_faux(app, client, connexion, db, monde):
    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        CHANGER, data={"actuel": "pas le bon", "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}
    )
    assert reponse.status_code == 422 and titre(reponse) == "Erreur : Changer mon mot de passe — Dauphin"
    assert erreur_du_champ(reponse, "actuel") == "Le mot de passe actuel est incorrect."
    assert (
        erreur_du_champ(reponse, "mot_de_passe") is None and erreur_du_champ(reponse, "confirmation") is None
    )
    page = html(reponse)
    assert 'href="#actuel">Mot de passe actuel : Le mot de passe actuel est incorrect.' in page
    assert 'aria-describedby="actuel-erreur"' in page and 'aria-invalid="true"' in page
    assert se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)
    assert est_connecte(client)
    (refus,) = evenements(db, NatureEvenementCompte.changement_mot_de_passe)
    assert (refus.utilisateur_id, refus.reussie, refus.motif) == (
        monde.signataire.id,
        False,
        "mot de passe actuel erroné",
    )
    assert [c for c in courriels_a(db, "signataire@test.fr") if "modifié" in c.sujet] == []


def test_changement_confirmation_differente_ou_mot_de_passe_faible(app, client, connexion, db, monde):
    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        CHANGER, data={"actuel": MOT_DE_PASSE, "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU + "!"}
    )
    assert erreur_du_champ(reponse, "confirmation") == "Les deux mots de passe ne sont pas identiques."
    reponse = client.post(
        CHANGER, data={"actuel": MOT_DE_PASSE, "mot_de_passe": "court", "confirmation": "court"}
    )
    assert erreur_du_champ(reponse, "mot_de_passe").startswith("Le mot de passe doit compter au moins 12")
    assert 'aria-describedby="mot_de_passe-erreur"' in html(reponse)
    reponse = client.post(
        CHANGER, data={"actuel": MOT_DE_PASSE, "mot_de_passe": MOT_DE_PASSE, "confirmation": MOT_DE_PASSE}
    )
    assert erreur_du_champ(reponse, "mot_de_passe") == (
        "Choisissez un mot de passe différent du mot de passe actuel."
    )
    # Aucun changement, rien de journalisé (la saisie est refusée avant le service)
    assert se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)
    assert evenements(db, NatureEvenementCompte.changement_mot_de_passe) == []


def test_changement_reussi_garde_cette_session_et_ferme_les_autres(app, db, monde):
    ici = client_connecte(app, monde.signataire)
    ailleurs = client_connecte(app, monde.signataire)
    assert est_connecte(ici) and est_connecte(ailleurs)

    reponse = ici.post(
        CHANGER, data={"actuel": MOT_DE_PASSE, "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}
    )
    assert reponse.status_code == 302 and reponse.headers["Location"] == "/compte/"
    page = html(ici.get("/compte/"))
    assert "Votre mot de passe a été modifié" in page and "Changement du mot de passe" in page

    assert est_connecte(ici)
    assert ici.get("/mes-demandes/").status_code == 200
    assert not est_connecte(ailleurs)
    assert not se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)
    assert se_connecte(app, "signataire@test.fr", NOUVEAU)

    (changement,) = evenements(db, NatureEvenementCompte.changement_mot_de_passe)
    assert (changement.utilisateur_id, changement.reussie, changement.adresse_ip) == (
        monde.signataire.id,
        True,
        "127.0.0.1",
    )
    (avis,) = courriels_a(db, "signataire@test.fr")
    assert avis.sujet == "Dauphin : votre mot de passe a été modifié"
    assert "/compte/mot-de-passe/oublie" in avis.corps


def test_essais_du_mot_de_passe_actuel_limites(app, client, connexion, monde):
    connexion.en_tant_que(monde.signataire)
    faux = {"actuel": "pas le bon", "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}
    for _ in range(8):
        assert client.post(CHANGER, data=faux).status_code == 422
    reponse = client.post(CHANGER, data=dict(faux, actuel=MOT_DE_PASSE))
    assert reponse.status_code == 429 and "Trop de requêtes" in html(reponse)
    assert se_connecte(app, "signataire@test.fr", MOT_DE_PASSE)
    # Un autre compte n'est pas concerné
    autre = client_connecte(app, monde.contributeur)
    bon = {"actuel": MOT_DE_PASSE, "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU}
    assert autre.post(CHANGER, data=bon).status_code == 302


def test_changement_reserve_aux_comptes_connectes(client):
    reponse = client.get(CHANGER)
    assert reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion")
    reponse = client.post(CHANGER, data={"actuel": "x", "mot_de_passe": NOUVEAU, "confirmation": NOUVEAU})
    assert reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion")


def test_connexion_journalisee_avec_sa_nature(client, connexion, db, monde):
    connexion.en_tant_que(monde.signataire)
    (evenement,) = evenements(db, NatureEvenementCompte.connexion)
    assert (evenement.utilisateur_id, evenement.reussie) == (monde.signataire.id, True)


def test_l_administration_voit_les_evenements_du_mot_de_passe(client, connexion, db, monde):
    client.post(OUBLIE, data={"email": "signataire@test.fr"})
    client.post(
        lien_de_reinitialisation(db, "signataire@test.fr"),
        data={"mot_de_passe": NOUVEAU, "confirmation": NOUVEAU},
    )
    connexion.en_tant_que(monde.admin_national)
    page = html(client.get(f"/administration/comptes/{monde.signataire.id}"))
    assert "<td>Demande de réinitialisation du mot de passe</td><td>lien envoyé</td>" in page
    assert "<td>Réinitialisation du mot de passe</td><td>réussie</td>" in page


@pytest.mark.parametrize(
    ("mot_de_passe", "raison"),
    [
        ("123456789012", "il ressemble à un mot de passe très courant"),
        ("motdepasse123", "il ressemble à un mot de passe très courant"),
        ("awa.diallo@exemple.fr", "il reprend votre nom ou votre adresse électronique"),
        ("diallo-diallo-diallo", "il reprend votre nom ou votre adresse électronique"),
        ("abcdefghijklmnop", "c’est une suite (comme « abc » ou « 6543 »)"),
        ("0102198501021985", "il répète un même motif"),
    ],
)
def test_inscription_refuse_un_mot_de_passe_devinable_en_disant_pourquoi(client, db, mot_de_passe, raison):
    reponse = client.post(
        "/compte/inscription",
        data={
            "prenom": "Awa",
            "nom": "Diallo",
            "email": "awa.diallo@exemple.fr",
            "mot_de_passe": mot_de_passe,
            "confirmation": mot_de_passe,
        },
    )
    assert reponse.status_code == 422 and titre(reponse) == "Erreur : Créer un compte — Dauphin"
    assert erreur_du_champ(reponse, "mot_de_passe") == (
        f"Ce mot de passe est trop facile à deviner : {raison}. Choisissez une phrase de plusieurs mots "
        "peu courants, facile à retenir pour vous."
    )
    assert db.session.scalar(select(Utilisateur).where(Utilisateur.email == "awa.diallo@exemple.fr")) is None


def test_changement_refuse_un_mot_de_passe_courant_et_garde_l_ancien(app, db, monde):
    client = client_connecte(app, monde.signataire)
    reponse = client.post(
        CHANGER,
        data={"actuel": MOT_DE_PASSE, "mot_de_passe": "123456789012", "confirmation": "123456789012"},
    )
    assert reponse.status_code == 422
    assert erreur_du_champ(reponse, "mot_de_passe").startswith("Ce mot de passe est trop facile à deviner")
    db.session.expire_all()
    assert db.session.get(Utilisateur, monde.signataire.id).verifier_mot_de_passe(MOT_DE_PASSE)


def test_les_mots_de_passe_de_demonstration_et_de_test_sont_acceptes():
    demo = ["porteur.admin@demo.dauphin.fr", "porteur", "admin", "demo", "dauphin"]
    assert raison_mot_de_passe_faible("Dauphin-demo-2026", demo) is None
    assert raison_mot_de_passe_faible(MOT_DE_PASSE, ["signataire@test.fr", "signataire", "test"]) is None


def test_l_estimation_accepte_toute_saisie_sans_erreur():
    """zxcvbn lève une erreur au-delà de 72 caractères et sur « 12345\\n » : le contrôle n'en laisse passer
    aucune (les saisies hostiles des formulaires l'ont trouvé)."""
    assert raison_mot_de_passe_faible("12345\n", []) is not None  # devinable, et pas d'erreur 500
    assert raison_mot_de_passe_faible("Une phrase de passe assez longue, " * 6, []) is None
