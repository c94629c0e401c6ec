"""Dans Chromium (Playwright) : le pilote modifie une campagne (erreur puis succès), l'administration
nationale importe un fichier et parcourt ses écrans ; chaque page est auditée avec axe-core (RGAA/WCAG
A-AA). Captures dans test-artifacts/referentiel/."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fabriques_db import demande_complete
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local

pytestmark = DANS_CHROMIUM

CONTRATS = Path(__file__).parent / "donnees" / "contrats_de_ville_extrait.csv"


def test_campagne_et_administration_dans_le_navigateur(app, db, monde, captures):
    from playwright.sync_api import expect

    demande_complete(monde)
    etat_id = monde.etat.id
    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, "pilote@test.fr")
        page.get_by_role("link", name="Pilotage").first.click()
        page.audit("pilotage")
        page.get_by_role("link", name=re.compile("^Modifier la campagne")).click()
        page.audit("campagne")
        page.capture("campagne")
        # Retirer un financeur sollicité et saisir une enveloppe négative : refusé, saisie conservée
        page.locator(f"#enveloppe_{etat_id}").fill("-1")
        page.get_by_role("button", name="Enregistrer la campagne").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.locator(f"#enveloppe_{etat_id}")).to_have_value("-1")
        page.audit("campagne-erreur")
        page.capture("campagne-erreur")
        page.locator(f"#enveloppe_{etat_id}").fill("60 000")
        page.get_by_role("button", name="Enregistrer la campagne").click()
        expect(page.get_by_text("Campagne « Appel à projets de test » modifiée.")).to_be_visible()
        page.get_by_role("button", name="Se déconnecter").click()

        se_connecter(page, adresse, "admin@test.fr")
        page.get_by_role("link", name="Administration").first.click()
        page.audit("administration")
        page.get_by_role("link", name="Importer des contrats").click()
        page.audit("import")
        page.get_by_label("Fichier CSV").set_input_files(str(CONTRATS))
        page.get_by_role("button", name="Vérifier le fichier").click()
        expect(
            page.get_by_role("heading", name="Aperçu de l’import (rien n’est encore enregistré)")
        ).to_be_visible()
        page.audit("import-apercu")
        page.get_by_role("button", name="Confirmer l’import").click()
        expect(page.get_by_text("Les changements sont enregistrés.")).to_be_visible()
        page.audit("import-rapport")
        page.capture("import-rapport")
        for lien, nom in (
            ("Contrats de ville", "contrats"),
            ("Quartiers prioritaires", "qpv"),
            ("Organisations", "organisations"),
            ("Nomenclature thématique", "thematiques"),
            ("Historique des modifications", "historique"),
            ("Comptes et rôles", "comptes"),
        ):
            page.locator(".fr-sidemenu").get_by_role("link", name=lien).click()
            page.audit(nom)
        page.get_by_role("link", name="Prénom pilote").click()
        page.audit("compte")
        page.capture("compte")
        page.goto(adresse + f"/administration/contrats/{monde.contrat.id}")
        page.audit("contrat")
        assert page.erreurs_js == []
