"""Dans Chromium (Playwright) : une personne dépose sa demande de bout en bout, comme elle le ferait
elle-même. Les captures d'écran de chaque étape sont gardées dans test-artifacts/depot/."""

from __future__ import annotations

import re

import pytest

from tests.navigateur import DANS_CHROMIUM, cocher, decrire_l_action, navigateur, serveur_local
from tests.parcours import deposer_statuts

pytestmark = DANS_CHROMIUM


@pytest.mark.recepisse  # le lien du récépissé
def test_depot_d_une_demande_de_bout_en_bout(app, db, monde, captures):
    from playwright.sync_api import expect

    deposer_statuts(monde)
    with serveur_local(app) as adresse, navigateur(captures) as page:
        page.goto(adresse + "/")
        page.audit("accueil")
        page.get_by_role("link", name="Se connecter").first.click()
        page.audit("connexion")
        page.get_by_label("Adresse électronique").fill("signataire@test.fr")
        page.get_by_label("Mot de passe").fill("mauvais-mot-de-passe")
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        page.audit("connexion-erreur")
        page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_text("Bienvenue")).to_be_visible()

        page.get_by_role("link", name="Mes demandes").first.click()
        page.get_by_role("link", name="Déposer une demande").click()
        page.capture("campagnes")
        page.audit("campagnes")
        # Sur la carte, le titre se lit avant le bouton, à l'écran comme dans le code
        carte = page.locator(".fr-card").first
        titre_carte = carte.locator(".fr-card__title").bounding_box()
        bouton = carte.get_by_role("button", name=re.compile("Déposer une demande")).bounding_box()
        assert titre_carte["y"] + titre_carte["height"] <= bouton["y"]
        page.get_by_role("button", name=re.compile("Déposer une demande")).click()

        # 1. Éligibilité
        expect(page.get_by_role("heading", level=1)).to_contain_text("Éligibilité")
        cocher(page, "Oui")
        page.capture("eligibilite")
        page.audit("eligibilite")
        page.get_by_role("button", name="Enregistrer et continuer").click()

        # 2. Structure et contact
        page.get_by_label("Fonction").fill("Présidente")
        page.get_by_label("Compte bancaire qui recevra la subvention").select_option(index=1)
        page.capture("structure")
        page.audit("structure")
        page.get_by_role("button", name="Enregistrer et continuer").click()

        # 3. L'action : une date de fin erronée, corrigée sans rien retaper d'autre
        exercice = monde.campagne.exercice
        decrire_l_action(
            page,
            intitule="Jardin partagé du quartier",
            description="Un jardin cultivé ensemble, deux demi-journées par semaine",
            public="Habitants de Lille-Sud",
            beneficiaires="60",
            debut=f"{exercice}-03-01",
            fin=f"{exercice - 1}-11-30",  # avant le début
        )
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.get_by_text("La date de fin doit suivre la date de début.").first).to_be_visible()
        expect(page.get_by_label("Intitulé de l’action")).to_have_value("Jardin partagé du quartier")
        page.capture("action-erreur")
        page.audit("action-erreur")
        page.get_by_label("Date de fin").fill(f"{exercice}-11-30")
        page.get_by_role("button", name="Enregistrer et continuer").click()

        # 4. Budget : les totaux se calculent pendant la saisie
        expect(page.get_by_role("heading", level=1)).to_contain_text("Budget")
        page.get_by_label("64 — Charges de personnel").fill("7 000")
        page.get_by_label("60 — Achats").fill("1 500,50")
        page.get_by_label("74 — Préfecture du Nord (État – P147)").fill("5 000")
        page.get_by_label("74 — Ville de Lille").fill("3 000")
        expect(page.locator('[data-total="message"]')).to_contain_text(
            "Écart entre charges et produits : 500,50"
        )
        page.get_by_label("75 — Autres produits de gestion courante").fill("500,50")
        expect(page.locator('[data-total="message"]')).to_have_text("Le budget est équilibré.")
        page.capture("budget")
        page.audit("budget")
        page.get_by_role("button", name="Enregistrer et continuer").click()

        # 5. Pièces : les statuts du porte-documents
        page.get_by_label("Statuts").select_option(index=1)
        page.capture("pieces")
        page.audit("pieces")
        page.get_by_role("button", name="Enregistrer et continuer").click()

        # 6. Récapitulatif, soumission, attestation
        expect(page.get_by_text("La demande est complète")).to_be_visible()
        page.get_by_role("button", name="Soumettre pour attestation").click()
        cocher(page, re.compile("en règle au regard de ses déclarations"))
        cocher(page, re.compile("contrat d’engagement républicain"))
        cocher(page, re.compile("exactes et sincères"))
        page.capture("attestation")
        page.audit("attestation")
        page.get_by_role("button", name="Attester sur l’honneur et transmettre").click()

        expect(page.get_by_text(re.compile(r"Demande transmise sous le numéro \d{4}-\d{6}"))).to_be_visible()
        expect(page.get_by_role("link", name="Télécharger le récépissé (PDF)")).to_be_visible()
        page.capture("dossier-transmis")
        page.audit("dossier-transmis")
        page.get_by_role("link", name="Mes demandes").first.click()
        expect(page.get_by_text("Aucune : les financeurs instruisent la demande")).to_be_visible()
        page.goto(adresse + "/cycle-de-vie")
        page.audit("cycle-de-vie")
        page.goto(adresse + "/mes-demandes/")
        page.capture("tableau-de-bord")
        page.audit("tableau-de-bord")
        assert page.erreurs_js == []
