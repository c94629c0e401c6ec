"""Dans Chromium (Playwright) : mot de passe oublié depuis la page de connexion, nouveau mot de passe par le
lien reçu, puis changement depuis « Mon compte ». Chaque page est auditée (axe-core), erreurs comprises, et
capturée dans test-artifacts/mot-de-passe/."""

from __future__ import annotations

import re

from sqlalchemy import select

from dauphin.models import Courriel
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local

pytestmark = DANS_CHROMIUM

NOUVEAU = "les jardins partagés de Moulins"
DERNIER = "une autre phrase pour cet automne"


def test_mot_de_passe_oublie_puis_change_depuis_mon_compte(app, db, monde, captures):
    from playwright.sync_api import expect

    with serveur_local(app) as adresse, navigateur(captures) as page:

        def etape(nom):
            page.capture(nom)
            page.audit(nom)

        page.goto(adresse + "/compte/connexion")
        page.get_by_role("link", name="Mot de passe oublié ?").click()
        expect(page).to_have_title("Mot de passe oublié — Dauphin")
        page.get_by_label("Adresse électronique").fill("pas-une-adresse")
        page.get_by_role("button", name="Recevoir un lien").click()
        expect(page).to_have_title(re.compile("^Erreur : Mot de passe oublié"))
        etape("oublie-erreur")
        page.get_by_label("Adresse électronique").fill("signataire@test.fr")
        page.get_by_role("button", name="Recevoir un lien").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
        etape("oublie-envoye")

        db.session.expire_all()
        courriel = db.session.scalar(select(Courriel).where(Courriel.destinataire == "signataire@test.fr"))
        lien = re.search(r"/compte/mot-de-passe/reinitialiser/\S+", courriel.corps).group(0)
        page.goto(adresse + lien)
        page.locator("#mot_de_passe").fill("court")
        page.locator("#confirmation").fill("court")
        page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
        expect(page).to_have_title(re.compile("^Erreur : Choisir un nouveau mot de passe"))
        etape("reinitialisation-erreur")
        page.locator("#mot_de_passe").fill(NOUVEAU)
        page.locator("#confirmation").fill(NOUVEAU)
        page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
        expect(page.get_by_text("Votre mot de passe a été modifié")).to_be_visible()

        page.goto(adresse + lien)  # le lien a servi
        expect(page).to_have_title("Ce lien de réinitialisation a déjà servi — Dauphin")
        etape("lien-deja-utilise")

        se_connecter(page, adresse, "signataire@test.fr", NOUVEAU)
        page.get_by_role("link", name=re.compile("Mon compte")).click()
        expect(page).to_have_title("Mon compte — Dauphin")
        etape("mon-compte")

        page.get_by_role("link", name="Changer mon mot de passe").click()
        page.locator("#actuel").fill("pas le bon")
        page.locator("#mot_de_passe").fill(DERNIER)
        page.locator("#confirmation").fill(DERNIER)
        page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
        expect(page).to_have_title(re.compile("^Erreur : Changer mon mot de passe"))
        etape("changement-erreur")
        page.locator("#actuel").fill(NOUVEAU)
        page.locator("#mot_de_passe").fill(DERNIER)
        page.locator("#confirmation").fill(DERNIER)
        page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
        expect(page).to_have_title("Mon compte — Dauphin")
        expect(page.get_by_text("Votre mot de passe a été modifié")).to_be_visible()
        etape("changement-reussi")
        assert page.erreurs_js == []
