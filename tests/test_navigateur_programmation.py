"""Dans Chromium (Playwright) : le pilote suit la programmation de son contrat, la filtre et l'exporte ;
l'administration nationale consulte le tableau de bord et prépare l'export national. Chaque page est
auditée avec axe-core (RGAA/WCAG A-AA) ; captures dans test-artifacts/programmation/."""

from __future__ import annotations

import re

from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local
from tests.test_programmation import jeu  # noqa: F401  (fixture : le jeu de données connu)

pytestmark = DANS_CHROMIUM


def test_programmation_et_tableau_de_bord_dans_le_navigateur(app, monde, jeu, captures):  # noqa: F811
    from playwright.sync_api import expect

    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, monde.pilote.email)
        page.get_by_role("link", name="Pilotage").first.click()
        page.get_by_role("link", name=re.compile(f"Programmation {monde.campagne.exercice}")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Programmation")
        expect(page.locator("#programmation tbody tr[data-demande]")).to_have_count(3)
        page.capture("programmation")
        page.audit("programmation")
        page.get_by_label("Financeur sollicité").select_option(label="Ville de Lille")
        page.get_by_role("button", name="Appliquer").click()
        expect(page.locator("#programmation tbody tr[data-demande]")).to_have_count(2)
        page.audit("programmation-filtree")
        with page.expect_download() as telechargement:
            page.get_by_role("link", name=re.compile("Exporter en XLSX")).click()
        assert telechargement.value.suggested_filename.endswith(".xlsx")
        page.get_by_role("link", name="Programmations").first.click()
        page.audit("programmations")
        page.get_by_role("button", name="Se déconnecter").first.click()

        se_connecter(page, adresse, monde.admin_national.email)
        page.get_by_role("link", name="Administration").first.click()
        page.get_by_role("link", name="Tableau de bord national").click()
        expect(page.locator("svg#graphique-regions rect")).to_have_count(2)
        page.capture("tableau-de-bord")
        page.audit("tableau-de-bord")
        page.goto(adresse + "/administration/exports")
        page.get_by_text("CSV (point-virgule, UTF-8)").click()
        page.get_by_role("button", name="Préparer l’export").click()
        expect(page.locator("#exports tbody tr")).to_have_count(1)
        page.capture("exports")
        page.audit("exports")
        assert not page.erreurs_js, page.erreurs_js
