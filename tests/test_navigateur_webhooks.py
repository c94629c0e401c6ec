"""Dans Chromium (Playwright) : un instructeur inscrit l'adresse de webhook de son organisation (adresse
refusée d'abord, message à côté du champ), copie le secret montré une fois, voit l'événement d'un dossier
arriver signé sur un vrai serveur HTTP de la boucle locale, le retrouve dans les livraisons et le renvoie.
Chaque page est auditée avec axe-core ; les captures sont gardées dans test-artifacts/webhooks/."""

from __future__ import annotations

import re

from dauphin.services.workflow import declencher_ligne
from tests.fabriques_db import demande_complete
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local
from tests.test_api import ligne_de, transmettre
from tests.test_webhooks import Recepteur

pytestmark = DANS_CHROMIUM


def test_inscrire_une_adresse_recevoir_et_renvoyer(app, db, monde, captures):
    from playwright.sync_api import expect

    demande = transmettre(monde, demande_complete(monde))
    with Recepteur() as recepteur, serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, monde.instructeur_etat.email)
        page.get_by_role("link", name="Jetons d’API").first.click()
        page.get_by_role("link", name="Webhooks").click()
        expect(page).to_have_title(re.compile("^Webhooks"))
        page.audit("liste-vide")
        page.get_by_role("button", name="Inscrire une adresse").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire une adresse de webhook")
        page.get_by_label("Adresse de réception").fill("http://exemple.fr/dauphin")
        page.get_by_role("button", name="Inscrire l’adresse").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.locator(".fr-error-text")).to_contain_text("https://")
        expect(page.get_by_label("Adresse de réception")).to_have_value("http://exemple.fr/dauphin")
        page.capture("inscription-erreur")
        page.audit("inscription-erreur")
        page.get_by_label("Adresse de réception").fill(recepteur.url)
        page.get_by_role("button", name="Inscrire l’adresse").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Adresse inscrite")
        recepteur.secret = page.locator("[data-secret-clair]").input_value()
        assert recepteur.secret.startswith("whsec_")
        page.capture("secret")
        page.audit("secret")

        declencher_ligne(ligne_de(db, demande.id, monde.etat).id, "prendre_en_charge", monde.instructeur_etat)
        # La prise en charge, et le dossier qui passe « en instruction » (statut dérivé)
        recus = len(recepteur.recus)
        assert recus == 2 and all(r["signature_valide"] for r in recepteur.recus)

        page.get_by_role("link", name="Retour aux webhooks").click()
        assert recepteur.secret not in page.content()
        page.get_by_role("link", name=re.compile("^Livraisons")).click()
        expect(page.locator('[data-statut="livree"]')).to_have_count(recus)
        page.capture("livraisons")
        page.audit("livraisons")
        page.get_by_role("button", name=re.compile("^Renvoyer")).first.click()
        # Livrée aussitôt (tâche sur place) ou encore en file : le message dit lequel.
        renvoi = re.compile("renvoyé et livré|remis en file d’envoi")
        expect(page.locator(".fr-alert--success")).to_contain_text(renvoi)
        expect(page.locator('[data-statut="livree"]')).to_have_count(recus)
        assert len(recepteur.recus) == recus + 1 and all(r["signature_valide"] for r in recepteur.recus)
        page.get_by_role("link", name="Webhooks").last.click()
        page.get_by_role("link", name=re.compile("^Désactiver")).click()
        page.audit("desactivation")
        page.get_by_role("button", name="Désactiver définitivement").click()
        expect(page.locator("#abonnements")).to_contain_text("Désactivée")
        assert page.erreurs_js == []
