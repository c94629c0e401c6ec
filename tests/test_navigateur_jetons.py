"""Dans Chromium (Playwright) : un instructeur crée un jeton d'API, le copie, le voit dans la liste, le
révoque ; la documentation de l'API se lit dans le portail. Chaque page est auditée avec axe-core ; les
captures sont gardées dans test-artifacts/jetons/."""

from __future__ import annotations

import re
from datetime import timedelta

from dauphin.services.workflow import aujourdhui
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local

pytestmark = DANS_CHROMIUM


def test_creer_copier_et_revoquer_un_jeton(app, db, monde, captures):
    from playwright.sync_api import expect

    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, monde.instructeur_etat.email)
        page.get_by_role("link", name="Jetons d’API").first.click()
        expect(page).to_have_title(re.compile("^Jetons d’API"))
        page.audit("liste-vide")
        page.get_by_role("link", name="Créer un jeton").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Créer un jeton d’API")
        page.get_by_label("Nom du jeton").fill("Logiciel de suivi")
        page.get_by_label("Valable jusqu’au").fill("2000-01-01")
        page.get_by_role("button", name="Créer le jeton").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.get_by_label("Nom du jeton")).to_have_value("Logiciel de suivi")
        page.capture("creation-erreur")
        page.audit("creation-erreur")
        page.get_by_label("Valable jusqu’au").fill("")
        page.get_by_role("button", name="Créer le jeton").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        page.locator("label.fr-label", has_text="Instruction :").click()
        page.get_by_label("Valable jusqu’au").fill((aujourdhui() + timedelta(days=60)).isoformat())
        page.get_by_role("button", name="Créer le jeton").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("créé")
        clair = page.locator("[data-jeton-clair]").input_value()
        assert clair.startswith("dauphin_")
        page.capture("jeton-cree")
        page.audit("jeton-cree")
        page.get_by_role("link", name="Retour à la liste des jetons").click()
        expect(page.locator("#jetons tbody tr")).to_have_count(1)
        assert clair not in page.content()
        page.capture("liste")
        page.audit("liste")
        page.get_by_role("link", name=re.compile("Révoquer")).click()
        page.audit("revocation")
        page.get_by_role("button", name="Révoquer définitivement").click()
        expect(page.locator('[data-etat="revoque"]')).to_be_visible()
        page.capture("liste-revoque")

        page.goto(adresse + "/api/v1/documentation")
        expect(page).to_have_title("Documentation de l’API — Dauphin")
        page.capture("documentation")
        page.audit("documentation")
        assert page.erreurs_js == []
