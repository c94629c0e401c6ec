"""Dans Chromium : un dossier transmis est instruit, inscrit en comité, convoqué, voté, la présence notée et
le dossier décidé, par les écrans, chaque page auditée avec axe-core. Captures dans test-artifacts/comite/."""

from __future__ import annotations

import re
from decimal import Decimal

from dauphin.models import Demande, LigneFinancement
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete
from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local
from workflows import StatutDemande as D
from workflows import StatutLigne as L

pytestmark = DANS_CHROMIUM


def test_instruire_et_voter_un_dossier_de_bout_en_bout(app, db, monde, captures, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setattr("dauphin.taches.generer_recepisse", lambda demande_id: None)
    demande = demande_complete(monde, etat=Decimal("6000"), commune=Decimal("4000"))
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    demande = db.session.get(Demande, demande.id)
    commune = next(lf for lf in demande.lignes_financement if lf.organisation_id == monde.commune.id)
    declencher_ligne(commune.id, "prendre_en_charge", monde.instructeur_commune)
    declencher_ligne(commune.id, "declarer_recevable", monde.instructeur_commune, montant=Decimal("4000"))

    with serveur_local(app) as adresse, navigateur(captures) as page:

        def connecter(email):
            se_connecter(page, adresse, email)
            expect(page.get_by_role("button", name="Se déconnecter")).to_be_attached()

        def se_deconnecter():
            # Le bouton de l'en-tête, même quand la mise en page le range hors de la fenêtre (en-tête replié
            # sous charge) : l'événement « click » envoie son formulaire, et on attend la page qui suit.
            with page.expect_navigation():
                page.get_by_role("button", name="Se déconnecter").first.dispatch_event("click")

        # L'instructeur de l'État trouve le dossier, le prend en charge et le déclare recevable.
        connecter("instructeur.etat@test.fr")
        page.get_by_role("link", name="Instruction").first.click()
        page.get_by_role("link", name=demande.titre).first.click()
        page.audit("dossier-a-instruire")
        page.get_by_role("button", name="Prendre en charge").click()
        expect(page.get_by_text("Ligne prise en charge").first).to_be_visible()
        page.get_by_label("Montant proposé (en euros)").fill("5 500")
        page.get_by_role("button", name="Déclarer recevable").click()
        expect(page.get_by_text("Ligne déclarée recevable").first).to_be_visible()
        page.capture("dossier-instruit")
        page.audit("dossier-instruit")
        se_deconnecter()

        # Le pilote crée la séance, inscrit le dossier instruit et ouvre le vote.
        connecter("pilote@test.fr")
        page.get_by_role("link", name="Comités").first.click()
        page.audit("comites-vide")
        page.get_by_role("link", name="Nouvelle séance").click()
        page.get_by_role("button", name="Créer la séance").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        page.audit("nouvelle-seance-erreur")
        page.get_by_label("Date de la séance").fill(aujourdhui().isoformat())
        page.get_by_label("Lieu (facultatif)").fill("Hôtel de ville")
        page.get_by_role("button", name="Créer la séance").click()
        expect(page.get_by_text("Séance créée").first).to_be_visible()
        page.audit("seance-preparation")
        page.locator("label.fr-label", has_text=demande.numero).click()
        page.get_by_role("button", name="Inscrire les dossiers cochés").click()
        expect(page.get_by_text("1 dossier(s) inscrit(s)").first).to_be_visible()
        page.capture("ordre-du-jour")
        page.get_by_role("button", name="Envoyer la convocation").click()
        expect(page.get_by_text("Convocation n° 1 envoyée aux membres").first).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("Télécharger la convocation n° 1"))).to_be_visible()
        page.audit("seance-convoquee")
        page.get_by_role("button", name="Ouvrir le vote").click()
        expect(page.get_by_text("Vote ouvert : les partenaires").first).to_be_visible()
        page.audit("seance-vote-ouvert-pilote")
        se_deconnecter()

        # L'État vote et saisit son montant ; le reste de l'enveloppe se met à jour pendant la saisie.
        connecter("instructeur.etat@test.fr")
        page.get_by_role("link", name="Comités").first.click()
        page.get_by_role("link", name=re.compile("Séance du")).click()
        page.locator("label.fr-label", has_text="Pour").first.click()
        page.get_by_role("button", name="Enregistrer le vote de Préfecture du Nord (État – P147)").click()
        expect(page.get_by_text("Vote enregistré").first).to_be_visible()
        montant = page.get_by_label("Montant proposé au vote (en euros)")
        montant.fill("60 000")
        # Calculé en direct, avant tout envoi :
        expect(page.get_by_text("dépasse le reste de votre enveloppe").first).to_be_visible()
        page.get_by_role("button", name=re.compile("Enregistrer le montant")).click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.get_by_text("dépasse le montant demandé").first).to_be_visible()
        page.audit("montant-erreur")
        page.get_by_label("Montant proposé au vote (en euros)").fill("5 500")
        page.get_by_role("button", name=re.compile("Enregistrer le montant")).click()
        expect(page.get_by_text("Montant enregistré").first).to_be_visible()
        page.capture("vote-etat")
        page.audit("seance-vote-ouvert-financeur")
        se_deconnecter()

        # La CAF, partenaire, vote ; la commune saisit son montant.
        for email, organisation in (
            ("partenaire.caf@test.fr", "CAF du Nord"),
            ("instructeur.commune@test.fr", "Ville de Lille"),
        ):
            connecter(email)
            page.get_by_role("link", name="Comités").first.click()
            page.get_by_role("link", name=re.compile("Séance du")).click()
            page.locator("label.fr-label", has_text="Pour").first.click()
            page.get_by_role("button", name=f"Enregistrer le vote de {organisation}").click()
            expect(page.get_by_text("Vote enregistré").first).to_be_visible()
            if organisation == "Ville de Lille":
                page.get_by_label("Montant proposé au vote (en euros)").fill("4000")
                page.get_by_role("button", name=re.compile("Enregistrer le montant")).click()
                expect(page.get_by_text("Montant enregistré").first).to_be_visible()
            se_deconnecter()

        # Le pilote remplit la feuille de présence (la clôture l'attend), voit l'issue, clôt la séance et
        # télécharge le procès-verbal.
        connecter("pilote@test.fr")
        page.get_by_role("link", name="Comités").first.click()
        page.get_by_role("link", name=re.compile("Séance du")).click()
        expect(page.get_by_text("Remplissez d’abord la feuille de présence").first).to_be_visible()
        page.get_by_role("link", name="Remplir la feuille de présence").click()
        for organisation, presence in (
            (monde.etat, "Présente"),
            (monde.commune, "Représentée"),
            (monde.caf, "Présente"),
        ):
            page.locator(f"#presence_{organisation.id}").get_by_text(presence, exact=True).click()
        page.locator(f"#representant_{monde.commune.id}").fill("Paul Durand, adjoint")
        page.get_by_role("button", name="Enregistrer la feuille de présence").click()
        expect(page.get_by_text("Feuille de présence enregistrée").first).to_be_visible()
        page.capture("feuille-de-presence")
        page.audit("feuille-de-presence")
        page.get_by_role("link", name="Clore la séance…").click()
        expect(page.get_by_text("Avis favorable (pour 3, contre 0, abstention 0)").first).to_be_visible()
        expect(page.get_by_text("Paul Durand, adjoint").first).to_be_visible()
        page.audit("cloture-apercu")
        page.get_by_role("button", name="Clore la séance et fixer les décisions").click()
        expect(page.get_by_text("Séance close").first).to_be_visible()
        page.reload()
        with page.expect_download() as telechargement:
            page.get_by_role("link", name="Télécharger le procès-verbal").click()
        assert telechargement.value.suggested_filename.startswith("proces-verbal-comite-")
        page.capture("seance-close")
        page.audit("seance-close")
        page.get_by_role("link", name=re.compile(demande.numero)).first.click()
        expect(page.get_by_text("Subvention attribuée").first).to_be_visible()
        page.audit("dossier-attribue")
        assert page.erreurs_js == []

    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.attribuee
    lignes = {
        lf.organisation_id: lf for lf in db.session.query(LigneFinancement).filter_by(demande_id=demande.id)
    }
    assert (lignes[monde.etat.id].statut, lignes[monde.etat.id].montant_vote) == (L.votee, Decimal("5500.00"))
    assert (lignes[monde.commune.id].statut, lignes[monde.commune.id].montant_vote) == (
        L.votee,
        Decimal("4000.00"),
    )
