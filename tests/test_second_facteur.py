"""Double authentification (dauphin/services/second_facteur.py) par les vrais écrans, les codes calculés par
pyotp comme par l'application du titulaire : activation depuis « Mon compte » (code QR, clé, codes de
secours montrés une fois), connexion en deux temps sans session ouverte entre les deux, code rejoué refusé,
code de secours à usage unique, obligation pour l'administration nationale et par organisation, désactivation,
renouvellement des codes, essais limités avec courriel au titulaire, réinitialisation par l'administration.

Et la connexion qui ne trahit rien : une adresse inconnue coûte le même calcul de haché qu'un mot de passe
faux ; le titulaire d'un compte bloqué après trop d'essais est prévenu par courriel."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from dauphin.models import (
    CodeSecours,
    Courriel,
    EvenementConnexion,
    EvenementReferentiel,
    NatureEvenementCompte,
    SessionUtilisateur,
    Utilisateur,
)
from tests.clients import ClientIsole
from tests.connexions import CODE, se_connecter
from tests.fabriques_db import MOT_DE_PASSE, SECRET_TOTP, code_totp

ACTIVATION = "/compte/double-authentification/activer"
ACTIVATION_IMPOSEE = "/compte/connexion/double-authentification"


def navigateur(app) -> ClientIsole:
    return ClientIsole(app.test_client())


def mot_de_passe(client, email: str, suite: str | None = None):
    adresse = "/compte/connexion" + (f"?next={suite}" if suite else "")
    return client.post(adresse, data={"email": email, "mot_de_passe": MOT_DE_PASSE})


def secret_de_la_page(html: str) -> str:
    return re.search(r'<code id="cle-secrete">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


def codes_de_la_page(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", html)


def courriels_a(db, adresse: str, nom_du_sujet: str = "") -> list[Courriel]:
    return [
        c
        for c in db.session.scalars(
            select(Courriel).where(Courriel.destinataire == adresse).order_by(Courriel.id)
        )
        if nom_du_sujet in c.sujet
    ]


def activer_depuis_mon_compte(client) -> tuple[str, list[str]]:
    page = client.get(ACTIVATION).get_data(as_text=True)
    secret = secret_de_la_page(page)
    reponse = client.post(ACTIVATION, data={"code": pyotp.TOTP(secret).now()})
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    return secret, codes_de_la_page(reponse.get_data(as_text=True))


def test_activer_depuis_mon_compte(app, db, monde):
    client = navigateur(app)
    se_connecter(client, monde.signataire.email)
    assert "Activer la double authentification" in client.get("/compte/").get_data(as_text=True)
    reponse = client.get(ACTIVATION)
    page = reponse.get_data(as_text=True)
    assert reponse.headers["Cache-Control"] == "no-store"
    assert '<svg role="img" aria-labelledby="code-qr-description"' in page and "viewBox" in page
    secret = secret_de_la_page(page)
    assert len(secret) == 32
    assert secret_de_la_page(client.get(ACTIVATION).get_data(as_text=True)) == secret  # le même, rechargé

    # Un code faux : refusé à côté du champ, rien d'enregistré
    faux = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1000000:06d}"
    reponse = client.post(ACTIVATION, data={"code": faux})
    assert reponse.status_code == 422 and "Ce code n’est pas le bon" in reponse.get_data(as_text=True)
    assert db.session.get(Utilisateur, monde.signataire.id).totp_secret is None

    reponse = client.post(ACTIVATION, data={"code": pyotp.TOTP(secret).now()})
    page = reponse.get_data(as_text=True)
    assert reponse.status_code == 200 and reponse.headers["Cache-Control"] == "no-store"
    codes = codes_de_la_page(page)
    assert len(set(codes)) == 10
    compte = db.session.get(Utilisateur, monde.signataire.id)
    db.session.refresh(compte)
    assert compte.totp_secret == secret and compte.second_facteur_actif
    empreintes = db.session.scalars(
        select(CodeSecours.empreinte).where(CodeSecours.utilisateur_id == compte.id)
    )
    assert len(set(empreintes)) == 10 and not set(codes) & set(
        empreintes
    )  # seules les empreintes sont gardées
    assert courriels_a(db, compte.email, "double authentification activée")
    # Les codes ne se relisent pas
    assert not codes_de_la_page(client.get("/compte/double-authentification").get_data(as_text=True))
    assert "10 inutilisés sur 10" in client.get("/compte/double-authentification").get_data(as_text=True)
    # La session d'où elle est activée vaut désormais comme ouverte avec le second facteur
    assert db.session.scalar(
        select(SessionUtilisateur.second_facteur).where(SessionUtilisateur.utilisateur_id == compte.id)
    )


def test_la_connexion_s_arrete_au_code_sans_ouvrir_de_session(app, db, monde):
    client = navigateur(app)
    reponse = mot_de_passe(client, monde.admin_national.email, suite="/administration/comptes")
    assert reponse.headers["Location"] == CODE
    # Le mot de passe juste n'ouvre rien : aucune page, aucune session
    assert client.get("/administration/").headers["Location"].startswith("/compte/connexion")
    assert client.get("/compte/").status_code == 302
    assert (
        db.session.scalar(select(SessionUtilisateur).filter_by(utilisateur_id=monde.admin_national.id))
        is None
    )
    page = client.get(CODE).get_data(as_text=True)
    assert "Vérifier qu’il s’agit bien de vous" in page and 'autocomplete="one-time-code"' in page

    reponse = client.post(CODE, data={"code": "000000"})
    assert reponse.status_code == 422 and "Ce code n’est pas valable" in reponse.get_data(as_text=True)
    reponse = client.post(CODE, data={"code": code_totp(monde.admin_national.email)})
    assert reponse.headers["Location"] == "/administration/comptes"  # la page demandée au départ
    assert client.get("/administration/").status_code == 200
    ligne = db.session.scalar(select(SessionUtilisateur).filter_by(utilisateur_id=monde.admin_national.id))
    assert ligne.second_facteur
    resultats = [
        (e.nature, e.reussie, e.motif)
        for e in db.session.scalars(
            select(EvenementConnexion)
            .where(EvenementConnexion.utilisateur_id == monde.admin_national.id)
            .order_by(EvenementConnexion.id)
        )
    ]
    assert resultats == [
        (NatureEvenementCompte.connexion, True, "mot de passe juste, code demandé"),
        (NatureEvenementCompte.second_facteur, False, "code erroné"),
        (NatureEvenementCompte.second_facteur, True, None),
    ]


def test_un_code_ne_sert_qu_une_fois(app, db, monde):
    premier = navigateur(app)
    mot_de_passe(premier, monde.admin_national.email)
    code = code_totp(monde.admin_national.email)
    assert premier.post(CODE, data={"code": code}).status_code == 302
    # Le même code, intercepté, rejoué aussitôt avec le mot de passe : refusé
    second = navigateur(app)
    mot_de_passe(second, monde.admin_national.email)
    assert second.post(CODE, data={"code": code}).status_code == 422


def test_l_attente_du_code_est_limitee_a_dix_minutes(app, db, monde):
    client = navigateur(app)
    mot_de_passe(client, monde.admin_national.email)
    with client.session_transaction() as session:
        session["dauphin.connexion_en_cours"] = {
            **session["dauphin.connexion_en_cours"],
            "t": int(time.time()) - 660,
        }
    reponse = client.post(CODE, data={"code": code_totp(monde.admin_national.email)})
    assert reponse.headers["Location"] == "/compte/connexion"
    assert client.get("/administration/").status_code == 302


def test_code_de_secours_une_seule_fois(app, db, monde):
    client = navigateur(app)
    se_connecter(client, monde.partenaire_caf.email)
    _, codes = activer_depuis_mon_compte(client)
    client.post("/compte/deconnexion")

    mot_de_passe(client, monde.partenaire_caf.email)
    reponse = client.post(CODE, data={"code": codes[3].upper().replace("-", " ")})  # recopié à la main
    assert reponse.status_code == 302 and client.get("/compte/").status_code == 200
    assert courriels_a(db, monde.partenaire_caf.email, "un code de secours a été utilisé")
    assert "9 inutilisés sur 10" in client.get("/compte/double-authentification").get_data(as_text=True)
    client.post("/compte/deconnexion")

    mot_de_passe(client, monde.partenaire_caf.email)
    assert client.post(CODE, data={"code": codes[3]}).status_code == 422
    assert client.post(CODE, data={"code": codes[4]}).status_code == 302


def test_renouveler_les_codes_et_desactiver(app, db, monde):
    client = navigateur(app)
    se_connecter(client, monde.pilote.email)
    secret, anciens = activer_depuis_mon_compte(client)

    # Renouveler : sans rien, refusé à côté du champ ; avec le mot de passe, dix nouveaux codes
    reponse = client.post("/compte/double-authentification/codes-de-secours", data={})
    assert reponse.status_code == 422 and "Saisissez un code de vérification ou votre mot de passe" in (
        reponse.get_data(as_text=True)
    )
    reponse = client.post(
        "/compte/double-authentification/codes-de-secours", data={"codes-mot_de_passe": MOT_DE_PASSE}
    )
    nouveaux = codes_de_la_page(reponse.get_data(as_text=True))
    assert reponse.status_code == 200 and len(nouveaux) == 10 and not set(nouveaux) & set(anciens)

    # Désactiver : un mot de passe faux est refusé ; un code juste suffit
    reponse = client.post(
        "/compte/double-authentification/desactiver", data={"desactivation-mot_de_passe": "faux"}
    )
    assert reponse.status_code == 422
    assert db.session.get(Utilisateur, monde.pilote.id).second_facteur_actif
    # (l'ancien code de secours ne vaut plus)
    reponse = client.post(
        "/compte/double-authentification/desactiver", data={"desactivation-code": anciens[0]}
    )
    assert reponse.status_code == 422
    reponse = client.post(
        "/compte/double-authentification/desactiver", data={"desactivation-code": nouveaux[0]}
    )
    assert reponse.status_code == 302
    compte = db.session.get(Utilisateur, monde.pilote.id)
    db.session.refresh(compte)
    assert not compte.second_facteur_actif and compte.totp_secret is None
    assert db.session.scalar(select(CodeSecours).filter_by(utilisateur_id=compte.id)) is None
    assert courriels_a(db, compte.email, "double authentification désactivée")
    # La connexion suivante se fait au mot de passe seul
    client.post("/compte/deconnexion")
    assert mot_de_passe(client, compte.email).headers["Location"] == "/"


def test_obligatoire_pour_l_administration_nationale(app, db, monde):
    """Un administrateur national sans second facteur l'active au milieu de la connexion, avant toute page ;
    il ne peut pas le désactiver."""
    admin = monde.admin_national
    admin.totp_secret = admin.totp_active_le = None
    db.session.commit()
    client = navigateur(app)
    reponse = mot_de_passe(client, admin.email, suite="/administration/organisations")
    assert reponse.headers["Location"] == ACTIVATION_IMPOSEE
    assert client.get(CODE).headers["Location"] == ACTIVATION_IMPOSEE
    for page in ("/administration/", "/compte/", "/instruction/"):
        assert client.get(page).headers["Location"].startswith("/compte/connexion"), page
    page = client.get(ACTIVATION_IMPOSEE).get_data(as_text=True)
    assert "La double authentification est obligatoire pour votre compte" in page
    reponse = client.post(ACTIVATION_IMPOSEE, data={"code": pyotp.TOTP(secret_de_la_page(page)).now()})
    html = reponse.get_data(as_text=True)
    assert len(codes_de_la_page(html)) == 10 and 'href="/administration/organisations"' in html
    assert client.get("/administration/").status_code == 200

    reponse = client.post(
        "/compte/double-authentification/desactiver", data={"desactivation-mot_de_passe": MOT_DE_PASSE}
    )
    assert reponse.status_code == 422 and "obligatoire pour votre compte" in reponse.get_data(as_text=True)


def test_obligatoire_par_organisation(app, db, monde):
    """L'administration nationale l'impose aux membres d'une organisation : la session ouverte sans elle se
    ferme, et la connexion suivante l'active."""
    instructeur = navigateur(app)
    se_connecter(instructeur, monde.instructeur_etat.email)
    assert instructeur.get("/instruction/").status_code == 200

    admin = navigateur(app)
    se_connecter(admin, monde.admin_national.email)
    url = f"/administration/organisations/{monde.etat.id}/modifier"
    page = admin.get(url).get_data(as_text=True)
    assert "Double authentification obligatoire pour les membres de l’organisation" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    reponse = admin.post(
        url,
        data={
            "version": version,
            "nom": monde.etat.nom,
            "type_organisation": "etat",
            "est_financeur": "y",
            "second_facteur_obligatoire": "y",
        },
    )
    assert reponse.status_code == 302, reponse.get_data(as_text=True)
    trace = db.session.scalars(
        select(EvenementReferentiel).where(EvenementReferentiel.objet_type == "organisation")
    ).all()[-1]
    assert trace.details["second_facteur_obligatoire"] == [False, True]

    reponse = instructeur.get("/instruction/")
    assert reponse.headers["Location"] == "/compte/connexion?next=/instruction/"
    assert "désormais obligatoire pour votre compte" in instructeur.get(reponse.headers["Location"]).get_data(
        as_text=True
    )
    assert mot_de_passe(instructeur, monde.instructeur_etat.email).headers["Location"] == ACTIVATION_IMPOSEE
    # Les membres des autres organisations n'y sont pas tenus
    autre = navigateur(app)
    assert mot_de_passe(autre, monde.instructeur_commune.email).headers["Location"] == "/"


def test_les_essais_de_code_sont_limites_et_le_titulaire_prevenu(app, db, monde):
    client = navigateur(app)
    mot_de_passe(client, monde.admin_national.email)
    for _ in range(6):
        assert client.post(CODE, data={"code": "123456"}).status_code == 422
    # Bloqué, même avec le bon code ; le titulaire est prévenu une fois : son mot de passe est connu
    assert client.post(CODE, data={"code": code_totp(monde.admin_national.email)}).status_code == 429
    assert client.post(CODE, data={"code": code_totp(monde.admin_national.email)}).status_code == 429
    (courriel,) = courriels_a(db, monde.admin_national.email, "code de vérification refusé")
    assert "quelqu’un connaît votre mot de passe" in courriel.corps and "127.0.0.1" in courriel.corps
    assert db.session.scalar(
        select(EvenementConnexion).filter_by(
            utilisateur_id=monde.admin_national.id, nature=NatureEvenementCompte.verrouillage
        )
    )
    assert client.get("/administration/").status_code == 302


def test_l_administration_nationale_reinitialise_la_double_authentification(app, db, monde):
    client = navigateur(app)
    se_connecter(client, monde.instructeur_commune.email)
    activer_depuis_mon_compte(client)
    admin = navigateur(app)
    se_connecter(admin, monde.admin_national.email)
    page = admin.get(f"/administration/comptes/{monde.instructeur_commune.id}").get_data(as_text=True)
    assert "Réinitialiser la double authentification" in page and "activée le" in page
    reponse = admin.post(f"/administration/comptes/{monde.instructeur_commune.id}/second-facteur")
    assert reponse.status_code == 302
    compte = db.session.get(Utilisateur, monde.instructeur_commune.id)
    db.session.refresh(compte)
    assert not compte.second_facteur_actif
    assert client.get("/instruction/").status_code == 302  # ses sessions sont fermées
    assert courriels_a(db, compte.email, "double authentification réinitialisée")
    trace = db.session.scalars(select(EvenementReferentiel).filter_by(objet_id=str(compte.id))).all()[-1]
    assert trace.action == "second_facteur" and trace.acteur_id == monde.admin_national.id
    # Plus rien à réinitialiser : refusé avec un message
    reponse = admin.post(f"/administration/comptes/{monde.instructeur_commune.id}/second-facteur")
    assert reponse.status_code == 422


def test_commande_de_reinitialisation_pour_le_dernier_administrateur_national(app, db, monde):
    resultat = app.test_cli_runner().invoke(args=["comptes", "reinitialiser-second-facteur", "Admin@test.fr"])
    assert resultat.exit_code == 0, resultat.output
    assert not db.session.get(Utilisateur, monde.admin_national.id).second_facteur_actif
    resultat = app.test_cli_runner().invoke(args=["comptes", "reinitialiser-second-facteur", "admin@test.fr"])
    assert resultat.exit_code == 1 and "n’est pas activée" in resultat.output
    resultat = app.test_cli_runner().invoke(args=["comptes", "reinitialiser-second-facteur", "x@y.fr"])
    assert resultat.exit_code == 1 and "Aucun compte" in resultat.output


def test_secret_du_monde_de_test():
    assert pyotp.TOTP(SECRET_TOTP).now().isdigit()


# --- La connexion qui ne trahit rien ---------------------------------------------------------------


@pytest.fixture
def hachages(monkeypatch):
    """Chaque vérification de haché de la connexion : l'algorithme et les paramètres du haché vérifié."""
    import dauphin.models.comptes as modele

    appels: list[str] = []
    vraie = modele.check_password_hash

    def espion(hache, mot_de_passe):
        appels.append(hache.split("$", 1)[0])
        return vraie(hache, mot_de_passe)

    monkeypatch.setattr(modele, "check_password_hash", espion)
    return appels


@pytest.mark.parametrize("methode", ["pbkdf2:sha256:1000", "scrypt:16384:8:1"])
def test_une_adresse_inconnue_coute_le_meme_calcul_qu_un_mot_de_passe_faux(app, db, monde, hachages, methode):
    """Le ticket mesurait 11 ms contre 147 ms : seul un compte existant payait le haché. Désormais, une
    adresse inconnue vérifie un haché factice du même algorithme et des mêmes paramètres."""
    from dauphin.services import comptes

    ancienne = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = methode
    try:
        compte = monde.signataire
        compte.definir_mot_de_passe(MOT_DE_PASSE)
        db.session.commit()
        client = navigateur(app)
        inconnue = client.post(
            "/compte/connexion", data={"email": "personne.ici@test.fr", "mot_de_passe": "x"}
        )
        faux = client.post("/compte/connexion", data={"email": compte.email, "mot_de_passe": "x"})
        assert comptes.hache_factice().split("$", 1)[0] == methode
    finally:
        app.config["PASSWORD_HASH_METHOD"] = ancienne
    assert inconnue.status_code == faux.status_code == 200
    message = "Adresse électronique ou mot de passe incorrect"
    assert inconnue.get_data(as_text=True).count(message) == faux.get_data(as_text=True).count(message) > 0
    # Un calcul de haché chacun, du même algorithme aux mêmes paramètres (dont le haché factice)
    assert hachages == [methode, methode]


def test_le_titulaire_d_un_compte_bloque_est_prevenu_une_fois(app, db, monde):
    client = navigateur(app)
    for _ in range(8):
        client.post("/compte/connexion", data={"email": monde.signataire.email, "mot_de_passe": "faux"})
    assert courriels_a(db, monde.signataire.email, "bloquée") == []  # pas encore bloqué
    for _ in range(3):
        reponse = client.post(
            "/compte/connexion", data={"email": monde.signataire.email, "mot_de_passe": "x"}
        )
        assert reponse.status_code == 429
    (courriel,) = courriels_a(db, monde.signataire.email, "connexion bloquée après plusieurs essais")
    assert "bloquée pendant 15 minutes" in courriel.corps and "/compte/mot-de-passe/oublie" in courriel.corps
    assert "127.0.0.1" in courriel.corps and "activez la double authentification" in courriel.corps
    # Une adresse inconnue bloquée : personne à prévenir, rien d'écrit
    for _ in range(10):
        client.post("/compte/connexion", data={"email": "inconnue@test.fr", "mot_de_passe": "x"})
    assert courriels_a(db, "inconnue@test.fr") == []
