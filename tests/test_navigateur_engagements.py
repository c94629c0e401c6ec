"""Dans Chromium (Playwright) : le financeur établit la notification, saisit son numéro d'engagement, prévoit
l'échéancier et enregistre l'avance — une saisie au-delà du montant voté est refusée avec son message à côté
du champ ; puis le porteur voit ses paiements. Chaque page est auditée avec axe-core ; les captures sont
gardées dans test-artifacts/engagements/."""

from __future__ import annotations

import re

from dauphin.models import Demande
from dauphin.services.workflow import aujourdhui
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local
from tests.test_engagements import ligne_de, votee
from workflows import StatutDemande as D
from workflows import StatutLigne as L

pytestmark = DANS_CHROMIUM


def test_notification_engagement_echeancier_et_avance_dans_le_navigateur(app, db, monde, captures):
    from playwright.sync_api import expect

    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    with serveur_local(app) as adresse, navigateur(captures) as page:
        se_connecter(page, adresse, "instructeur.etat@test.fr")
        page.goto(f"{adresse}/dossiers/{demande.id}")
        bloc = page.locator(f"#versements-{ligne.id}")
        expect(bloc).to_contain_text("Notification à établir")
        page.capture("dossier-vote")
        page.audit("dossier-vote")
        bloc.get_by_role("button", name="Établir la notification").click()
        expect(page.locator(".fr-alert--success")).to_contain_text("Notification établie")
        expect(bloc.get_by_role("link", name=re.compile("Notification de la subvention"))).to_be_visible()

        bloc.get_by_label("Numéro d’engagement juridique").fill("2104567890")
        bloc.get_by_role("button", name="Enregistrer le numéro").click()
        expect(bloc).to_contain_text("2104567890")

        bloc.get_by_label("Nature").select_option("avance")
        bloc.get_by_label("Date prévue").fill("2030-05-15")
        bloc.get_by_label("Montant prévu (en euros)").fill("4 800")
        bloc.get_by_role("button", name="Ajouter l’échéance").click()
        expect(bloc.locator("tbody tr")).to_have_count(1)
        page.capture("echeancier")
        page.audit("echeancier")

        bloc.get_by_role("link", name=re.compile("Enregistrer le paiement")).click()
        page.get_by_label("Date du paiement").fill(f"{aujourdhui():%Y-%m-%d}")
        page.get_by_label("Montant versé (en euros)").fill("6 000,01")
        page.get_by_label("Référence du paiement").fill("DP-2027-0042")
        page.get_by_role("button", name="Enregistrer le paiement").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.locator(".fr-input-group--error")).to_contain_text("dépasse le reste à verser")
        expect(page.get_by_label("Référence du paiement")).to_have_value("DP-2027-0042")
        page.capture("paiement-refuse")
        page.audit("paiement-refuse")
        page.get_by_label("Montant versé (en euros)").fill("4 800")
        page.get_by_role("button", name="Enregistrer le paiement").click()
        expect(page.locator(".fr-alert--success")).to_contain_text("Paiement enregistré")
        expect(page.locator(f"#versements-{ligne.id} [data-total=reste]")).to_contain_text("1 200,00")

        page.get_by_role("button", name=re.compile("Se déconnecter|Déconnexion")).first.click()
        se_connecter(page, adresse, "signataire@test.fr")
        page.goto(f"{adresse}/dossiers/{demande.id}")
        expect(page.locator("#versements")).to_contain_text("DP-2027-0042")
        expect(page.locator("#versements")).not_to_contain_text("Enregistrer le paiement")
        page.capture("porteur")
        page.audit("porteur")
        assert page.erreurs_js == []

    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.versee
    assert ligne_de(db, demande.id, monde.etat).statut == L.avance_versee
