"""Dans Chromium (Playwright), comme le ferait une personne qui découvre le portail : elle crée son compte,
confirme son adresse, inscrit son association par son SIRET, dépose ses statuts dans le porte-documents,
remplit sa demande, l'atteste et obtient son récépissé. Chaque page est auditée (axe-core) et capturée
dans test-artifacts/nouveau-porteur/."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dauphin.models import Courriel, Demande, Document, TypePiece
from dauphin.seeds.demo import iban_depuis, siret_depuis
from tests.navigateur import (
    DANS_CHROMIUM,
    cocher,
    decrire_l_action,
    navigateur,
    se_connecter,
    serveur_local,
)

pytestmark = DANS_CHROMIUM

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def saisir(page, libelle, valeur):
    """Remplit la zone de saisie dont le nom accessible commence par `libelle`."""
    page.get_by_role("textbox", name=re.compile("^" + re.escape(libelle))).fill(valeur)


@pytest.mark.recepisse  # le récépissé téléchargé
def test_un_nouveau_porteur_de_bout_en_bout(app, db, monde, captures, tmp_path):
    from playwright.sync_api import expect

    statuts = tmp_path / "Statuts de l’association.pdf"
    statuts.write_bytes(PDF)
    siret = siret_depuis("44444444")
    with serveur_local(app) as adresse, navigateur(captures) as page:

        def etape(nom):
            page.capture(nom)
            page.audit(nom)

        # 1. Création du compte et confirmation de l'adresse
        page.goto(adresse + "/")
        page.get_by_role("link", name="Créer un compte").first.click()
        page.get_by_label("Prénom").fill("Inès")
        page.get_by_label("Nom", exact=True).fill("Moreau")
        page.get_by_label("Adresse électronique").fill("ines.moreau@association-exemple.fr")
        page.locator("#mot_de_passe").fill("jardins partagés du quartier")
        page.get_by_label("Confirmation du mot de passe").fill("jardins partagés du quartier")
        etape("inscription")
        page.get_by_role("button", name=re.compile("Créer")).click()
        etape("courriel-envoye")
        courriel = db.session.scalar(
            select(Courriel).where(Courriel.destinataire == "ines.moreau@association-exemple.fr")
        )
        lien = re.search(r"https?://\S+/compte/confirmation/\S+", courriel.corps).group(0)
        page.goto(adresse + lien[lien.index("/compte/") :])
        etape("adresse-confirmee")

        # 2. Connexion
        se_connecter(page, adresse, "ines.moreau@association-exemple.fr", "jardins partagés du quartier")
        expect(page.get_by_text("Bienvenue, Inès.")).to_be_visible()
        etape("accueil-sans-structure")

        # 3. Inscription de l'association par son SIRET (une erreur de saisie d'abord, corrigée)
        page.get_by_role("link", name=re.compile("Inscrire ma structure")).click()
        saisir(page, "Numéro SIRET", siret[:-1] + str((int(siret[-1]) + 1) % 10))
        page.get_by_label("Forme juridique").select_option(label="Association")
        saisir(page, "Numéro RNA", "W593001234")
        saisir(page, "Raison sociale", "Les Jardins de Moulins")
        saisir(page, "Adresse du siège", "3 rue d’Arras")
        saisir(page, "Code postal", "59000")
        saisir(page, "Commune", "Lille")
        saisir(page, "Code INSEE de la commune", "59350")
        saisir(page, "Nom", "Moreau")
        saisir(page, "Prénom", "Inès")
        saisir(page, "Qualité", "Présidente")
        saisir(page, "Titulaire du compte", "Les Jardins de Moulins")
        saisir(page, "IBAN", iban_depuis("3000200550" + "44444444" + "00000"))
        saisir(page, "BIC", "CRLYFRPPXXX")
        cocher(page, "Oui : je suis son représentant légal")
        page.get_by_role("button", name="Inscrire la structure").click()
        expect(page).to_have_title(re.compile("^Erreur : "))
        expect(page.get_by_label("Raison sociale")).to_have_value("Les Jardins de Moulins")
        etape("structure-siret-errone")
        saisir(page, "Numéro SIRET", siret)
        page.get_by_role("button", name="Inscrire la structure").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Les Jardins de Moulins")
        etape("structure-inscrite")

        # 4. Les statuts dans le porte-documents
        page.goto(adresse + "/mes-demandes/")
        page.get_by_role("link", name="porte-documents").first.click()
        page.get_by_label("Type de document").select_option(label="Statuts")
        page.get_by_label("Fichier").set_input_files(str(statuts))
        page.get_by_role("button", name="Déposer le document").click()
        expect(page.get_by_role("link", name=re.compile("^Statuts de l’association.pdf"))).to_be_visible()
        etape("porte-documents")

        # 5. La demande, étape par étape
        page.goto(adresse + "/mes-demandes/")
        page.get_by_role("link", name="Déposer une demande").click()
        page.get_by_role("button", name=re.compile("Déposer une demande")).click()
        cocher(page, "Oui")
        page.get_by_role("button", name="Enregistrer et continuer").click()
        page.get_by_label("Compte bancaire qui recevra la subvention").select_option(index=1)
        page.get_by_role("button", name="Enregistrer et continuer").click()
        exercice = monde.campagne.exercice
        decrire_l_action(
            page,
            intitule="Potager partagé de Moulins",
            description="Deux demi-journées de jardinage collectif par semaine",
            public="Habitants de Moulins",
            beneficiaires="40",
            debut=f"{exercice}-03-01",
            fin=f"{exercice}-11-30",
        )
        page.get_by_label("64 — Charges de personnel").fill("6 000")
        page.get_by_label("60 — Achats").fill("1 000")
        page.get_by_label("74 — Préfecture du Nord (État – P147)").fill("4 000")
        page.get_by_label("74 — Ville de Lille").fill("2 500")
        page.get_by_label("75 — Autres produits de gestion courante").fill("500")
        expect(page.locator('[data-total="message"]')).to_have_text("Le budget est équilibré.")
        page.get_by_role("button", name="Enregistrer et continuer").click()
        page.get_by_label("Statuts").select_option(index=1)
        etape("pieces")
        page.get_by_role("button", name="Enregistrer et continuer").click()
        expect(page.get_by_text("La demande est complète")).to_be_visible()
        page.get_by_role("button", name="Soumettre pour attestation").click()
        cocher(page, re.compile("en règle au regard de ses déclarations"))
        cocher(page, re.compile("contrat d’engagement républicain"))
        cocher(page, re.compile("exactes et sincères"))
        etape("attestation")
        page.get_by_role("button", name="Attester sur l’honneur et transmettre").click()
        expect(page.get_by_text(re.compile(r"Demande transmise sous le numéro \d{4}-\d{6}"))).to_be_visible()
        etape("dossier-transmis")

        # 6. Le récépissé se télécharge
        with page.expect_download() as telechargement:
            page.get_by_role("link", name="Télécharger le récépissé (PDF)").click()
        assert telechargement.value.suggested_filename.startswith("recepisse-")
        assert page.erreurs_js == []

    demande = db.session.scalar(select(Demande).where(Demande.intitule == "Potager partagé de Moulins"))
    assert demande.structure.siret == siret and demande.numero
    assert db.session.scalar(
        select(Document).where(Document.demande_id == demande.id, Document.type_piece == TypePiece.recepisse)
    )
