"""Sessions tenues par le serveur (dauphin/services/sessions.py) : la déconnexion ferme la session pour de bon
(le cookie rejoué ne reconnecte personne), « Mes sessions » les liste et les ferme, l'inactivité les ferme
selon le compte (avec le retour à la page après reconnexion), l'activité n'est écrite qu'une fois par minute,
le mot de passe changé et la désactivation les ferment toutes, les sessions mortes sont effacées.

Chaque requête passe par `ClientIsole` : le contexte d'application des tests garde sinon le compte chargé à
la requête précédente (g._login_user), et le cookie ne serait pas relu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from dauphin.models import EvenementConnexion, NatureEvenementCompte, SessionUtilisateur, maintenant
from dauphin.services import sessions
from tests.clients import ClientIsole
from tests.connexions import se_connecter

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def appareil(app, user_agent: str = FIREFOX_WINDOWS, adresse: str = "127.0.0.1") -> ClientIsole:
    """Un navigateur : son propre pot de cookies, son en-tête User-Agent et son adresse."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": adresse})
    return ClientIsole(client)


def vers_la_connexion(reponse) -> bool:
    return reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion")


def sessions_de(db, utilisateur) -> list[SessionUtilisateur]:
    return list(
        db.session.scalars(
            select(SessionUtilisateur)
            .where(SessionUtilisateur.utilisateur_id == utilisateur.id)
            .order_by(SessionUtilisateur.id)
            .execution_options(populate_existing=True)
        )
    )


def test_le_cookie_rejoue_apres_la_deconnexion_ne_reconnecte_personne(app, db, monde):
    """L'attaque du ticket : se connecter, copier le cookie `session`, se déconnecter, renvoyer le cookie."""
    navigateur = appareil(app)
    assert se_connecter(navigateur, monde.signataire.email).status_code == 302
    copie = navigateur.get_cookie("session").value
    # La copie vaut une session tant que celle-ci est ouverte : c'est bien elle que l'attaque rejoue.
    voleur = appareil(app, adresse="203.0.113.9")
    voleur.set_cookie("session", copie)
    assert voleur.get("/compte/").status_code == 200

    assert navigateur.post("/compte/deconnexion").status_code == 302
    voleur.set_cookie("session", copie)
    reponse = voleur.get("/compte/")
    assert vers_la_connexion(reponse)
    assert reponse.headers["Location"] == "/compte/connexion?next=/compte/"
    (ligne,) = sessions_de(db, monde.signataire)
    assert ligne.fermee_le is not None
    derniers = db.session.scalars(
        select(EvenementConnexion.nature)
        .where(EvenementConnexion.utilisateur_id == monde.signataire.id)
        .order_by(EvenementConnexion.id)
    ).all()
    assert derniers[-1] == NatureEvenementCompte.deconnexion
    # La page de connexion dit pourquoi, une fois
    assert "Votre session a été fermée" in voleur.get("/compte/connexion").get_data(as_text=True)
    assert "Votre session a été fermée" not in voleur.get("/compte/connexion").get_data(as_text=True)


def test_le_cookie_ne_porte_qu_un_jeton_dont_la_base_garde_l_empreinte(app, db, monde):
    navigateur = appareil(app)
    se_connecter(navigateur, monde.signataire.email)
    (ligne,) = sessions_de(db, monde.signataire)
    jeton = navigateur.get_cookie("session").value
    assert str(monde.signataire.id) not in (ligne.empreinte,) and len(ligne.empreinte) == 64
    assert monde.signataire.jeton_session not in jeton  # ni l'identifiant de session du compte
    utilisateur, raison = sessions.charger("jeton-invente")
    assert utilisateur is None and raison is None


def test_mes_sessions_liste_les_appareils_et_ferme_les_autres(app, db, monde):
    bureau = appareil(app, FIREFOX_WINDOWS, "198.51.100.7")
    telephone = appareil(app, SAFARI_IPHONE, "203.0.113.20")
    tablette = appareil(app, SAFARI_IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS"), "203.0.113.21")
    for navigateur in (bureau, telephone, tablette):
        assert se_connecter(navigateur, monde.instructeur_etat.email).status_code == 302

    page = bureau.get("/compte/").get_data(as_text=True)
    assert "Sessions ouvertes (3)" in page
    assert "Firefox sur Windows" in page and "Safari sur iPhone" in page and "Safari sur iPad" in page
    assert "198.51.100.7" in page and "203.0.113.20" in page
    assert page.count("cette session") == 1
    assert "Se déconnecter de toutes les autres sessions" in page

    # Fermer une session précise (celle de la tablette)
    ligne_tablette = next(
        s for s in sessions_de(db, monde.instructeur_etat) if s.appareil == "Safari sur iPad"
    )
    reponse = bureau.post(f"/compte/sessions/{ligne_tablette.id}/fermer")
    assert reponse.status_code == 302 and reponse.headers["Location"] == "/compte/#sessions"
    assert vers_la_connexion(tablette.get("/instruction/"))
    assert telephone.get("/instruction/").status_code == 200

    # Puis toutes les autres : le téléphone tombe, le bureau reste
    reponse = bureau.post("/compte/sessions/fermer-les-autres", follow_redirects=True)
    assert "1 autre session fermée." in reponse.get_data(as_text=True)
    assert vers_la_connexion(telephone.get("/instruction/"))
    assert bureau.get("/instruction/").status_code == 200
    page = bureau.get("/compte/").get_data(as_text=True)
    assert "Sessions ouvertes (1)" in page and "Se déconnecter de toutes les autres sessions" not in page
    motifs = db.session.scalars(
        select(EvenementConnexion.motif).where(
            EvenementConnexion.utilisateur_id == monde.instructeur_etat.id,
            EvenementConnexion.nature == NatureEvenementCompte.fermeture_session,
        )
    ).all()
    assert motifs == ["Safari sur iPad, 203.0.113.21", "1 autre session"]


def test_la_session_d_un_autre_compte_ne_se_ferme_pas(app, db, monde):
    autre = appareil(app)
    se_connecter(autre, monde.signataire.email)
    (ligne,) = sessions_de(db, monde.signataire)
    curieux = appareil(app)
    se_connecter(curieux, monde.contributeur.email)
    assert curieux.post(f"/compte/sessions/{ligne.id}/fermer").status_code == 404
    assert autre.get("/compte/").status_code == 200


def _vieillir(db, utilisateur, minutes: float) -> None:
    """Fait comme si la dernière activité des sessions du compte datait de `minutes` minutes."""
    for ligne in sessions_de(db, utilisateur):
        decalage = timedelta(minutes=minutes)
        ligne.derniere_activite_le -= decalage
        ligne.expire_le -= decalage
    db.session.commit()


def test_l_inactivite_ferme_la_session_selon_le_compte_et_la_reconnexion_ramene_a_la_page(app, db, monde):
    agent = appareil(app)
    se_connecter(agent, monde.instructeur_etat.email)
    porteur = appareil(app)
    se_connecter(porteur, monde.signataire.email)
    (ligne_agent,) = sessions_de(db, monde.instructeur_etat)
    (ligne_porteur,) = sessions_de(db, monde.signataire)
    assert ligne_agent.expire_le - ligne_agent.derniere_activite_le == timedelta(minutes=30)
    assert ligne_porteur.expire_le - ligne_porteur.derniere_activite_le == timedelta(hours=12)

    # 29 minutes sans rien : encore ouverte (et l'activité repousse l'échéance de 30 minutes)
    _vieillir(db, monde.instructeur_etat, 29)
    assert agent.get("/instruction/").status_code == 200
    (ligne_agent,) = sessions_de(db, monde.instructeur_etat)
    assert ligne_agent.expire_le - maintenant() > timedelta(minutes=29)
    # 31 minutes : fermée ; la connexion le dit et ramène à la page demandée
    _vieillir(db, monde.instructeur_etat, 31)
    _vieillir(db, monde.signataire, 31)
    reponse = agent.get("/instruction/?statut=sollicitee")
    assert reponse.headers["Location"] == "/compte/connexion?next=/instruction/?statut%3Dsollicitee"
    page = agent.get(reponse.headers["Location"]).get_data(as_text=True)
    assert "Votre session s’est fermée après un moment sans activité" in page
    assert "Connectez-vous pour accéder à cette page" not in page  # un seul message, le vrai
    reponse = se_connecter(agent, monde.instructeur_etat.email, suite="/instruction/?statut=sollicitee")
    assert reponse.headers["Location"] == "/instruction/?statut=sollicitee"
    # Le porteur, lui, a douze heures
    assert porteur.get("/mes-demandes/").status_code == 200


def test_le_delai_d_inactivite_se_regle(app, db, monde):
    app.config["SESSION_INACTIVITE_AGENTS"] = 10
    app.config["SESSION_INACTIVITE_PORTEURS"] = 60
    try:
        for compte in (monde.pilote, monde.contributeur):
            se_connecter(appareil(app), compte.email)
        (pilote,) = sessions_de(db, monde.pilote)
        (contributeur,) = sessions_de(db, monde.contributeur)
        assert pilote.expire_le - pilote.cree_le == timedelta(minutes=10)
        assert contributeur.expire_le - contributeur.cree_le == timedelta(minutes=60)
    finally:
        app.config["SESSION_INACTIVITE_AGENTS"] = 30
        app.config["SESSION_INACTIVITE_PORTEURS"] = 720


def test_configuration_du_delai_refusee_hors_bornes(monkeypatch):
    import config

    monkeypatch.setenv("DAUPHIN_SESSION_IDLE_MINUTES_STAFF", "2")
    with pytest.raises(config.ConfigurationInvalide, match="DAUPHIN_SESSION_IDLE_MINUTES_STAFF"):
        config.charger("test")


class Ecritures:
    """Les UPDATE de `session_utilisateur` envoyés à la base."""

    def __init__(self, moteur):
        self.moteur, self.n = moteur, 0

    def __call__(self, _conn, _cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE SESSION_UTILISATEUR"):
            self.n += 1

    def __enter__(self):
        event.listen(self.moteur, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.moteur, "before_cursor_execute", self)


def test_l_activite_n_est_ecrite_qu_une_fois_par_minute(app, db, monde):
    navigateur = appareil(app)
    se_connecter(navigateur, monde.instructeur_etat.email)
    with Ecritures(db.engine) as ecritures:
        for _ in range(5):
            assert navigateur.get("/instruction/").status_code == 200
    assert ecritures.n == 0  # la session vient de s'ouvrir : rien à écrire
    _vieillir(db, monde.instructeur_etat, 2)
    with Ecritures(db.engine) as ecritures:
        for _ in range(5):
            assert navigateur.get("/instruction/").status_code == 200
    assert ecritures.n == 1
    (ligne,) = sessions_de(db, monde.instructeur_etat)
    assert maintenant() - ligne.derniere_activite_le < timedelta(seconds=30)


def test_rester_connecte_et_l_etat_de_la_session(app, db, monde):
    navigateur = appareil(app)
    se_connecter(navigateur, monde.instructeur_etat.email)
    _vieillir(db, monde.instructeur_etat, 28)
    # Lire l'état ne prolonge pas : c'est ce que le script interroge avant d'avertir
    etat = navigateur.get("/compte/session/etat").get_json()
    assert etat["connecte"] and 60 < etat["restant"] <= 120
    assert navigateur.get("/compte/session/etat").get_json()["restant"] <= 120
    # « Rester connecté » en JSON (le script), puis par le formulaire (sans script)
    reponse = navigateur.post("/compte/session/prolonger", headers={"Accept": "application/json"})
    assert reponse.get_json()["connecte"] and reponse.get_json()["restant"] > 29 * 60
    _vieillir(db, monde.instructeur_etat, 28)
    reponse = navigateur.post("/compte/session/prolonger", data={"next": "/instruction/"})
    assert reponse.headers["Location"] == "/instruction/"
    assert navigateur.get("/compte/session/etat").get_json()["restant"] > 29 * 60
    # Le délai restant est dans chaque page, pour l'avertissement (js/session.js)
    page = navigateur.get("/instruction/").get_data(as_text=True)
    assert 'id="dauphin-session"' in page and "js/session.js" in page and "Rester connecté" in page
    # Expirée : l'état le dit, « Rester connecté » ne rouvre rien
    _vieillir(db, monde.instructeur_etat, 31)
    assert navigateur.get("/compte/session/etat").get_json() == {"connecte": False, "restant": 0}
    reponse = navigateur.post("/compte/session/prolonger", headers={"Accept": "application/json"})
    assert reponse.status_code == 401
    assert 'id="dauphin-session"' not in navigateur.get("/").get_data(as_text=True)


def test_un_nouveau_mot_de_passe_ou_la_desactivation_ferment_toutes_les_sessions(app, db, monde):
    ici, ailleurs = appareil(app), appareil(app)
    for navigateur in (ici, ailleurs):
        se_connecter(navigateur, monde.instructeur_commune.email)
    reponse = ici.post(
        "/compte/mot-de-passe",
        data={
            "actuel": "mot-de-passe-de-test",
            "mot_de_passe": "Une phrase de passe toute neuve 2027",
            "confirmation": "Une phrase de passe toute neuve 2027",
        },
    )
    assert reponse.status_code == 302
    assert vers_la_connexion(ailleurs.get("/instruction/"))
    assert ici.get("/instruction/").status_code == 200  # celle d'ici est rouverte
    assert len(sessions.ouvertes(monde.instructeur_commune)) == 1

    # Désactivé par l'administration nationale : la session d'ici tombe aussi
    admin = appareil(app)
    se_connecter(admin, monde.admin_national.email)
    reponse = admin.post(
        f"/administration/comptes/{monde.instructeur_commune.id}/activation", data={"actif": "0"}
    )
    assert reponse.status_code == 302
    assert vers_la_connexion(ici.get("/instruction/"))


def test_les_sessions_mortes_sont_effacees(app, db, monde):
    for _ in range(3):
        navigateur = appareil(app)
        se_connecter(navigateur, monde.signataire.email)
        navigateur.post("/compte/deconnexion")
    se_connecter(appareil(app), monde.contributeur.email)
    _vieillir(db, monde.contributeur, 13 * 60)
    # À la connexion : les sessions mortes du compte (les deux premières déconnexions) s'effacent
    assert len(sessions_de(db, monde.signataire)) == 1
    # Pour tous : flask sessions purger
    resultat = app.test_cli_runner().invoke(args=["sessions", "purger"])
    assert resultat.exit_code == 0 and "2 sessions effacées." in resultat.output
    assert db.session.scalar(select(func.count()).select_from(SessionUtilisateur)) == 0


@pytest.mark.parametrize(
    ("user_agent", "resume"),
    [
        (FIREFOX_WINDOWS, "Firefox sur Windows"),
        (SAFARI_IPHONE, "Safari sur iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge sur Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome sur Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15",
            "Safari sur macOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox sur Linux"),
        ("curl/8.5.0", "curl"),
        ("", "Navigateur inconnu"),
        (None, "Navigateur inconnu"),
        ("<script>" * 50, "Navigateur inconnu"),
    ],
)
def test_le_resume_de_l_appareil(user_agent, resume):
    assert sessions.appareil(user_agent) == resume


def test_une_requete_pour_charger_la_session_et_le_compte(app, db, monde):
    """Le chargeur de Flask-Login lit la session, le compte et les rattachements que chaque page consulte
    (structures, organisations, contrats pilotés) en une seule requête SQL."""
    navigateur = appareil(app)
    se_connecter(navigateur, monde.instructeur_etat.email)
    cookie = app.session_interface.get_signing_serializer(app).loads(navigateur.get_cookie("session").value)
    email, organisation = monde.instructeur_etat.email, monde.etat.nom
    db.session.expunge_all()
    requetes = []

    def compter(*_args):
        requetes.append(1)

    event.listen(db.engine, "before_cursor_execute", compter)
    try:
        utilisateur, raison = sessions.charger(cookie["_user_id"])
        assert raison is None and utilisateur.email == email
        assert [a.organisation.nom for a in utilisateur.adhesions_organisations] == [organisation]
        assert utilisateur.adhesions_structures == [] and utilisateur.pilotages == []
    finally:
        event.remove(db.engine, "before_cursor_execute", compter)
    assert len(requetes) == 1


def test_une_session_fermee_n_est_pas_rouverte_par_l_activite(app, db, monde):
    """La fermeture et la mise à jour de l'activité peuvent se croiser : l'activité ne rouvre rien."""
    navigateur = appareil(app)
    se_connecter(navigateur, monde.pilote.email)
    (ligne,) = sessions_de(db, monde.pilote)
    db.session.execute(update(SessionUtilisateur).values(fermee_le=maintenant()))
    db.session.commit()
    assert vers_la_connexion(navigateur.get("/pilotage/"))
    (ligne,) = sessions_de(db, monde.pilote)
    assert ligne.fermee_le is not None
