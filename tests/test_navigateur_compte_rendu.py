"""Dans Chromium (Playwright) : le porteur remplit son compte rendu financier, voit les écarts se calculer
pendant la saisie, corrige une explication manquante sans rien perdre, puis le signataire l'atteste.
Audit axe-core de chaque page ; captures dans test-artifacts/compte-rendu/."""

from __future__ import annotations

import re

from dauphin.services.workflow import aujourdhui
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local
from tests.test_compte_rendu import a_justifier

pytestmark = DANS_CHROMIUM


def test_le_porteur_remplit_et_atteste_son_compte_rendu(app, db, monde, captures):
    from playwright.sync_api import expect

    monde.campagne.exercice = aujourdhui().year - 1
    db.session.commit()
    demande = a_justifier(db, monde)
    postes = {(p.compte, p.financeur_id): p for p in demande.compte_rendu.lignes}
    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, "signataire@test.fr")
        page.goto(adresse + "/mes-demandes/")
        page.audit("tableau-de-bord")
        page.get_by_role("link", name=re.compile(demande.numero)).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu financier de l’action")
        page.audit("formulaire")

        page.get_by_label("Ce qui a été réalisé").fill("Trente ateliers d’octobre à juin.")
        page.get_by_label("Le public atteint").fill("45 habitants de Lille-Sud.")
        page.get_by_label("Lille-Sud (QN05901M)").fill("40")
        for poste in demande.compte_rendu.lignes:
            page.locator(f"#realise_{poste.ordre}").fill(str(poste.montant_prevu).replace(".", ","))
        # Charges de personnel : 10 500 prévus (6000 + 4000 + 1000 − 500) ; 16 % de plus, compensés au 75.
        personnel = postes[("64", None)]
        autres = postes[("75", None)]
        page.locator(f"#realise_{personnel.ordre}").fill("12 180")
        page.locator(f"#realise_{autres.ordre}").fill("2 680")
        expect(page.locator(f'[data-ecart-pct="{personnel.ordre}"]')).to_have_text("+16,00 %")
        expect(page.locator(f'[data-exigee="{personnel.ordre}"]')).to_contain_text("Explication obligatoire")
        expect(page.locator('[data-total="message"]')).to_have_text("Le tableau est équilibré.")
        page.capture("saisie")
        page.get_by_label(re.compile("J’atteste sur l’honneur l’exactitude")).check(force=True)
        page.get_by_role("button", name="Enregistrer, attester et déposer le compte rendu").click()

        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.locator(f"#explication_{personnel.ordre}-erreur")).to_contain_text("Expliquez l’écart")
        expect(page.get_by_label("Ce qui a été réalisé")).to_have_value("Trente ateliers d’octobre à juin.")
        page.capture("erreur")
        page.audit("formulaire-erreur")
        page.locator(f"#explication_{personnel.ordre}").fill("Un animateur recruté en cours d’année.")
        page.locator(f"#explication_{autres.ordre}").fill("Cotisations des adhérents plus nombreuses.")
        page.get_by_label(re.compile("J’atteste sur l’honneur l’exactitude")).check(force=True)
        page.get_by_role("button", name="Enregistrer, attester et déposer le compte rendu").click()

        expect(page.get_by_text("Compte rendu financier attesté et déposé").first).to_be_visible()
        expect(page.locator("#compte-rendu")).to_contain_text("Un animateur recruté")
        page.capture("depose")
        page.audit("dossier")
        assert page.erreurs_js == []


def test_report_des_dates_et_cloture_accessibles(app, db, monde, captures):
    """Le porteur demande un report, le financeur l'accepte, le pilote ouvre l'écran de clôture."""
    from playwright.sync_api import expect

    from tests.test_compte_rendu import attribuee

    monde.campagne.exercice = aujourdhui().year - 1
    db.session.commit()
    demande = a_justifier(db, monde)
    a_cloturer = attribuee(db, monde, intitule="Action à clôturer")

    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, "signataire@test.fr")
        page.goto(f"{adresse}/comptes-rendus/{demande.id}/report")
        page.audit("report")
        page.get_by_label("Nouvelle date de fin").fill(f"{demande.exercice + 1}-03-31")
        page.get_by_label("Pourquoi décaler l’action ?").fill("Salle en travaux jusqu’en février.")
        page.get_by_role("button", name="Envoyer la demande de report").click()
        expect(page.get_by_text("Demande de report envoyée aux financeurs.")).to_be_visible()
        page.get_by_role("button", name="Se déconnecter").click()

        se_connecter(page, adresse, "instructeur.etat@test.fr")
        page.goto(f"{adresse}/dossiers/{demande.id}")
        page.get_by_role("link", name="Répondre à la demande de report").click()
        page.audit("decider-report")
        page.locator("label.fr-label", has_text="Accepter le report").click()
        page.get_by_role("button", name="Enregistrer la réponse").click()
        expect(page.get_by_text("Réponse enregistrée").first).to_be_visible()
        expect(page.locator("#compte-rendu")).to_contain_text("Accepté")
        page.get_by_role("button", name="Se déconnecter").click()

        se_connecter(page, adresse, "pilote@test.fr")
        page.get_by_role("link", name="Pilotage").first.click()
        page.get_by_role("link", name=re.compile("Clôturer un exercice")).click()
        expect(
            page.get_by_role("cell", name=a_cloturer.numero).or_(
                page.get_by_role("rowheader", name=a_cloturer.numero)
            )
        ).to_be_visible()
        page.audit("cloture")
        page.locator("label.fr-label", has_text="Je confirme").click()
        page.get_by_role("button", name=re.compile("Clôturer l’exercice")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("clôturé")
        page.capture("cloture")
        page.audit("cloture-faite")
        assert page.erreurs_js == []
