"""Dans Chromium : l'activation imposée de la double authentification à la connexion d'un administrateur
national (code QR, clé, code calculé par pyotp), ses codes de secours, puis le second temps d'une connexion ;
« Mes sessions » ; l'avertissement avant la fin de la session (« Rester connecté »), puis la session fermée
faute d'activité. Chaque écran est audité (axe-core), mesuré à 320 px et à 200 % de texte, et capturé dans
test-artifacts/sessions/. Ces écrans ne s'ouvrent qu'au milieu d'une connexion : le tour de tous les écrans
(tests/test_navigateur_tous_les_ecrans.py) les laisse à ce parcours."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select, update

from dauphin.models import SessionUtilisateur, Utilisateur, maintenant
from tests.fabriques_db import MOT_DE_PASSE, code_totp
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local

pytestmark = DANS_CHROMIUM

DEBORD = """() => ({debord: document.documentElement.scrollWidth - document.documentElement.clientWidth})"""


def sans_debord(page, nom: str) -> None:
    """Ni à 320 px de large, ni à 1280 px avec un texte à 200 %, la page ne défile horizontalement."""
    taille = page.viewport_size
    try:
        page.set_viewport_size({"width": 320, "height": 800})
        assert page.evaluate(DEBORD)["debord"] <= 0, f"{nom} : déborde à 320 px"
        page.set_viewport_size({"width": 1280, "height": 900})
        page.add_style_tag(content="html { font-size: 200% !important; }")
        assert page.evaluate(DEBORD)["debord"] <= 0, f"{nom} : déborde à 200 %"
    finally:
        page.set_viewport_size(taille)


def test_double_authentification_imposee_puis_second_temps(app, db, monde, captures):
    from playwright.sync_api import expect

    admin = db.session.get(Utilisateur, monde.admin_national.id)
    admin.totp_secret = admin.totp_active_le = None
    db.session.commit()

    with serveur_local(app) as adresse, navigateur(captures) as page:

        def ecran(nom):
            page.capture(nom)
            page.audit(nom)
            sans_debord(page, nom)

        page.goto(adresse + "/administration/organisations")
        expect(page).to_have_url(re.compile("/compte/connexion"))
        page.get_by_label("Adresse électronique").fill(admin.email)
        page.get_by_label("Mot de passe", exact=True).fill(MOT_DE_PASSE)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_title("Activer la double authentification — Dauphin")
        expect(page.get_by_role("img", name=re.compile("Code QR à scanner"))).to_be_visible()
        ecran("activation-imposee")
        page.get_by_label("Code à 6 chiffres affiché par l’application").fill("000000")
        page.get_by_role("button", name="Activer et me connecter").click()
        expect(page).to_have_title(re.compile("^Erreur : Activer la double authentification"))
        ecran("activation-erreur")
        secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres affiché par l’application").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activer et me connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
        expect(page.locator(".dauphin-codes-secours li")).to_have_count(10)
        ecran("codes-de-secours")
        page.get_by_role("link", name="J’ai noté mes codes, continuer").click()
        expect(page).to_have_url(adresse + "/administration/organisations")

        # Déconnexion, puis le second temps d'une connexion ordinaire
        page.get_by_role("button", name="Se déconnecter").click()
        page.goto(adresse + "/compte/connexion")
        page.get_by_label("Adresse électronique").fill(admin.email)
        page.get_by_label("Mot de passe", exact=True).fill(MOT_DE_PASSE)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_title("Connexion : code de vérification — Dauphin")
        ecran("code")
        page.get_by_label("Code de vérification").fill(code_totp(admin.email))
        page.get_by_role("button", name="Vérifier et me connecter").click()
        expect(page.get_by_text("Bienvenue, Prénom.")).to_be_visible()

        page.goto(adresse + "/compte/double-authentification")
        ecran("gestion")
        page.goto(adresse + "/compte/")
        expect(page.get_by_role("heading", name="Mes sessions")).to_be_visible()
        expect(page.get_by_text("cette session")).to_be_visible()
        ecran("mon-compte")


def test_avertissement_avant_la_fin_de_la_session(app, db, monde, captures):
    from playwright.sync_api import expect

    def echeance_dans(secondes: int) -> None:
        instant = maintenant()
        db.session.execute(
            update(SessionUtilisateur)
            .where(SessionUtilisateur.utilisateur_id == monde.instructeur_etat.id)
            .values(derniere_activite_le=instant, expire_le=instant + timedelta(seconds=secondes))
        )
        db.session.commit()

    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, monde.instructeur_etat.email)
        # Plus que deux minutes et cinq secondes : l'avertissement vient cinq secondes après l'affichage
        echeance_dans(125)
        page.goto(adresse + "/instruction/")
        fenetre = page.get_by_role("dialog", name="Votre session va bientôt se fermer")
        expect(fenetre).to_be_visible(timeout=15000)
        page.capture("avertissement")
        page.audit("avertissement")
        fenetre.get_by_role("button", name="Rester connecté").click()
        expect(fenetre).to_be_hidden()
        db.session.expire_all()
        ligne = db.session.scalar(
            select(SessionUtilisateur).where(SessionUtilisateur.utilisateur_id == monde.instructeur_etat.id)
        )
        assert ligne.expire_le - maintenant() > timedelta(minutes=29)

        # Sans réponse, la session se ferme : la fenêtre le dit et propose de se reconnecter. La page est
        # servie à une échéance lointaine (128 s : le script relit l'état huit secondes plus tard), puis la
        # session expire en base. Une échéance de trois secondes posée avant la page expirait parfois pendant
        # son chargement sur une machine chargée : la page de connexion venait à la place de la fenêtre.
        echeance_dans(128)
        page.goto(adresse + "/instruction/")
        echeance_dans(-1)
        fermee = page.get_by_role("dialog", name="Votre session est fermée")
        expect(fermee).to_be_visible(timeout=30000)
        page.capture("session-fermee")
        page.audit("session-fermee")
        fermee.get_by_role("link", name="Se reconnecter").click()
        expect(page).to_have_url(re.compile(r"/compte/connexion\?next=/instruction/"))
        expect(page.get_by_text("Votre session s’est fermée après un moment sans activité")).to_be_visible()
        page.get_by_label("Adresse électronique").fill(monde.instructeur_etat.email)
        page.get_by_label("Mot de passe", exact=True).fill(MOT_DE_PASSE)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_url(adresse + "/instruction/")  # de retour à la page où il était
