"""Dans Chromium, au clavier seul : chaque parcours (porteur, instructeur, pilote, administration nationale)
se fait sans souris — Tab et Maj+Tab pour aller d'un élément à l'autre, Entrée et Espace pour activer, les
flèches dans les boutons radio et les listes, la saisie dans le champ qui a le focus. Le seul `goto` est
celui de la première page ; à chaque arrêt du focus, celui-ci doit être visible (contour du DSFR) et dans
la fenêtre (`tabuler_jusqu_a`). Captures dans test-artifacts/clavier/."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from dauphin.extensions import db as _db
from dauphin.models import Demande, LigneFinancement, Organisation, SeanceComite
from dauphin.services import comites
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import code_totp, demande_complete
from tests.navigateur import (
    DANS_CHROMIUM,
    FocusIntrouvable,
    activer,
    focus_actuel,
    navigateur,
    saisir,
    serveur_local,
    tabuler_jusqu_a,
    verifier_focus_visible,
)

pytestmark = DANS_CHROMIUM

MOT_DE_PASSE = "mot-de-passe-de-test"


def aller(page, cible, *, arriere=False):
    """Tabuler jusqu'à `cible` puis l'activer avec Entrée : la page suivante est chargée au retour."""
    tabuler_jusqu_a(page, cible, arriere=arriere)
    activer(page, "Enter")


def remplir(page, cible, texte, *, arriere=False):
    tabuler_jusqu_a(page, cible, arriere=arriere)
    saisir(page, texte)


def se_connecter(page, email):
    """Depuis n'importe quelle page : le lien « Se connecter » de l'en-tête, puis le formulaire."""
    aller(page, page.get_by_role("link", name="Se connecter").first)
    remplir(page, page.get_by_label("Adresse électronique"), email)
    page.keyboard.press("Tab")
    verifier_focus_visible(page)
    page.keyboard.type(MOT_DE_PASSE)
    activer(page, "Enter")  # Entrée dans le champ envoie le formulaire
    assert page.get_by_role("button", name="Se déconnecter").count() == 1


def se_deconnecter(page):
    """« Se déconnecter » est dans l'en-tête, avant le contenu : on y remonte avec Maj+Tab."""
    aller(page, page.get_by_role("button", name="Se déconnecter"), arriere=True)


def transmise(monde, *, instruite=False):
    """Une demande attestée ; `instruite` : chaque financeur l'a déclarée recevable au montant demandé."""
    demande = demande_complete(monde, etat=Decimal("6000"), commune=Decimal("4000"))
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    if instruite:
        instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
        for ligne in list(_db.session.get(Demande, demande.id).lignes_financement):
            instructeur = instructeurs[ligne.organisation_id]
            declencher_ligne(ligne.id, "prendre_en_charge", instructeur)
            declencher_ligne(ligne.id, "declarer_recevable", instructeur, montant=ligne.montant_demande)
    return demande


def test_le_controle_du_focus_refuse_un_focus_invisible_ou_introuvable(captures):
    """Le garde-fou lui-même : un contour retiré, ou un bouton hors de l'ordre de tabulation, font échouer."""
    with navigateur(captures) as page:
        page.set_content(
            "<style>#b:focus { outline: none }</style><a href='#'>Lien</a> <button id=b>Sans</button>"
        )
        tabuler_jusqu_a(page, page.get_by_role("link", name="Lien"))
        with pytest.raises(AssertionError, match="focus invisible sur button#b"):
            tabuler_jusqu_a(page, page.get_by_role("button"))
        # Un bouton que le défilement n'amène pas dans la fenêtre (placé au-delà, sans défilement possible)
        page.set_content(
            "<style>html, body { overflow: hidden }</style><a href='#'>Lien</a>"
            " <button style='position: fixed; top: 2000px'>Loin</button>"
        )
        tabuler_jusqu_a(page, page.get_by_role("link", name="Lien"))
        with pytest.raises(AssertionError, match="« Loin », focalisé, est hors de la fenêtre"):
            tabuler_jusqu_a(page, page.get_by_role("button"))
        page.set_content("<a href='#'>Lien</a> <div onclick='1'>Bouton à la souris</div>")
        with pytest.raises(FocusIntrouvable, match="pas atteint après 5 appuis"):
            tabuler_jusqu_a(page, page.get_by_text("Bouton à la souris"), max_appuis=5)


def test_porteur_depose_et_atteste_au_clavier(app, db, monde, captures, tmp_path):
    from playwright.sync_api import expect

    statuts = tmp_path / "Statuts 2024.pdf"
    statuts.write_bytes(b"%PDF-1.4\n%test\n")
    exercice = monde.campagne.exercice
    with serveur_local(app) as adresse, navigateur(captures) as page:
        page.goto(adresse + "/")
        # Le lien d'évitement est le premier arrêt ; il mène au contenu, d'où Tab repart.
        page.keyboard.press("Tab")
        focus = verifier_focus_visible(page)
        assert "« Contenu »" in focus["description"], focus
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "contenu"
        page.keyboard.press("Tab")
        focus = verifier_focus_visible(page)
        assert page.evaluate("document.getElementById('contenu').contains(document.activeElement)"), focus
        page.audit("accueil")

        se_connecter(page, "signataire@test.fr")
        expect(page.get_by_text("Bienvenue")).to_be_visible()
        aller(page, page.get_by_role("link", name="Mes demandes").first)
        aller(page, page.get_by_role("link", name="Déposer une demande"))
        tabuler_jusqu_a(page, page.get_by_role("button", name=re.compile("Déposer une demande pour")))
        activer(page, "Space")

        # 1. Éligibilité : les flèches déplacent le choix dans le groupe de boutons radio
        expect(page.get_by_role("heading", level=1)).to_contain_text("Éligibilité")
        tabuler_jusqu_a(page, page.get_by_label("Oui"))
        page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Non")).to_be_checked()
        verifier_focus_visible(page)
        page.keyboard.press("ArrowUp")
        expect(page.get_by_label("Oui")).to_be_checked()
        verifier_focus_visible(page)
        page.capture("eligibilite")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))

        # 2. Structure et contact : la liste des comptes se choisit avec la flèche
        expect(page.get_by_role("heading", level=1)).to_contain_text("Structure")
        remplir(page, page.get_by_label("Fonction"), "Présidente")
        tabuler_jusqu_a(page, page.get_by_label("Compte bancaire qui recevra la subvention"))
        page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Compte bancaire qui recevra la subvention")).not_to_have_value("")
        page.audit("structure")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))

        # 3. L'action ; une date de fin erronée, atteinte depuis le résumé des erreurs, puis corrigée
        expect(page.get_by_role("heading", level=1)).to_contain_text("action")
        remplir(page, page.get_by_label("Intitulé de l’action"), "Jardin partagé du quartier")
        remplir(page, page.get_by_label("Objectifs de l’action"), "Créer du lien entre voisins")
        remplir(page, page.get_by_label("Description de l’action"), "Un jardin cultivé ensemble")
        remplir(page, page.get_by_label("Public visé"), "Habitants de Lille-Sud")
        remplir(page, page.get_by_label("Nombre de bénéficiaires attendus"), "60")
        tabuler_jusqu_a(page, page.get_by_label("Lille-Sud (QN05901M)"))
        page.keyboard.press("Space")
        expect(page.get_by_label("Lille-Sud (QN05901M)")).to_be_checked()
        tabuler_jusqu_a(page, page.get_by_label(re.compile("Thématique \\(")))
        page.keyboard.type("1.5")  # recherche par les premières lettres d'une option, comme au clavier
        expect(page.get_by_label(re.compile("Thématique \\("))).to_have_value("1.5")
        # Jour et mois égaux : la saisie vaut pour l'ordre français (jj/mm) comme pour l'anglais (mm/jj)
        # que montre Chromium sans ses fichiers de langue.
        remplir(page, page.get_by_label("Date de début"), f"0303{exercice}")
        remplir(page, page.get_by_label("Date de fin"), f"1111{exercice - 1}")
        remplir(page, page.get_by_label("Moyens humains mobilisés"), "Une animatrice, dix bénévoles")
        remplir(page, page.get_by_label("Indicateurs d’évaluation"), "Nombre de jardiniers réguliers")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))
        expect(page).to_have_title(re.compile("^Erreur : "))
        # Le résumé des erreurs reçoit le focus ; son lien mène au champ à corriger.
        assert page.evaluate("document.activeElement.id") == "resume-erreurs"
        tabuler_jusqu_a(page, page.get_by_role("link", name=re.compile("Date de fin")))
        page.keyboard.press("Enter")
        expect(page.get_by_label("Date de fin")).to_be_focused()
        verifier_focus_visible(page)
        page.keyboard.type(f"1111{exercice}")
        expect(page.get_by_label("Date de fin")).to_have_value(f"{exercice}-11-11")
        expect(page.get_by_label("Intitulé de l’action")).to_have_value("Jardin partagé du quartier")
        page.audit("action-erreur")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))

        # 4. Budget : d'un champ à l'autre dans les tableaux, totaux calculés pendant la saisie
        expect(page.get_by_role("heading", level=1)).to_contain_text("Budget")
        remplir(page, page.get_by_label("60 — Achats"), "1 500,50")
        remplir(page, page.get_by_label("64 — Charges de personnel"), "7 000")
        remplir(page, page.get_by_label("74 — Préfecture du Nord (État – P147)"), "5 000")
        remplir(page, page.get_by_label("74 — Ville de Lille"), "3 000")
        totaux = page.locator('[data-total="message"]')
        expect(totaux).to_contain_text("Écart entre charges et produits : 500,50")
        # Corriger l'achat en revenant en arrière dans le tableau des charges
        remplir(page, page.get_by_label("60 — Achats"), "1 000", arriere=True)
        expect(totaux).to_have_text("Le budget est équilibré.")
        page.capture("budget")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))

        # 5. Pièces : aucun statut au porte-documents ; on l'y dépose, puis on revient par les étapes
        expect(page.get_by_role("heading", level=1)).to_contain_text("Pièces")
        aller(page, page.get_by_role("link", name=re.compile("Ouvrir le porte-documents")))
        tabuler_jusqu_a(page, page.get_by_label("Type de document"))
        page.keyboard.type("Statuts")
        expect(page.get_by_label("Type de document")).to_have_value("statuts")
        tabuler_jusqu_a(page, page.get_by_label("Fichier"))
        # La boîte de dialogue du système ne se pilote pas : le fichier est donné au champ focalisé.
        page.locator("input[type=file]:focus").set_input_files(str(statuts))
        aller(page, page.get_by_role("button", name="Déposer le document"))
        expect(page.get_by_role("link", name=re.compile("^Statuts 2024.pdf"))).to_be_visible()
        page.audit("porte-documents")
        aller(page, page.get_by_role("link", name="Mes demandes").first)
        aller(page, page.get_by_role("link", name="Jardin partagé du quartier"))
        page.audit("brouillon")
        tabuler_jusqu_a(page, page.get_by_role("link", name="Continuer la saisie"))
        activer(page)
        aller(page, page.get_by_role("link", name=re.compile(r"^5\. ")))
        tabuler_jusqu_a(page, page.get_by_label("Statuts"))
        page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Statuts")).not_to_have_value("")
        aller(page, page.get_by_role("button", name="Enregistrer et continuer"))

        # 6. Récapitulatif, soumission, attestation : les cases se cochent avec Espace
        expect(page.get_by_text("La demande est complète")).to_be_visible()
        aller(page, page.get_by_role("button", name="Soumettre pour attestation"))
        for libelle in ("en règle au regard", "contrat d’engagement républicain", "exactes et sincères"):
            case = page.get_by_label(re.compile(libelle))
            tabuler_jusqu_a(page, case)
            page.keyboard.press("Space")
            expect(case).to_be_checked()
        page.capture("attestation")
        page.audit("attestation")
        aller(page, page.get_by_role("button", name="Attester sur l’honneur et transmettre"))
        expect(page.get_by_text(re.compile(r"Demande transmise sous le numéro \d{4}-\d{6}"))).to_be_visible()
        page.capture("transmise")
        assert focus_actuel(page) is None  # nouvelle page : le focus repart du début
        assert page.erreurs_js == []


def test_instructeur_filtre_ouvre_et_instruit_au_clavier(app, db, monde, captures, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setattr("dauphin.taches.generer_recepisse", lambda demande_id: None)
    demande = transmise(monde)
    autre = demande_complete(monde, intitule="Chantier éducatif")  # un brouillon : jamais dans la liste
    assert autre.numero is None
    with serveur_local(app) as adresse, navigateur(captures) as page:
        page.goto(adresse + "/compte/connexion")
        remplir(page, page.get_by_label("Adresse électronique"), "instructeur.etat@test.fr")
        remplir(page, page.get_by_label("Mot de passe"), MOT_DE_PASSE)
        aller(page, page.get_by_role("button", name="Se connecter"))  # Shift+Tab inutile : le bouton suit

        aller(page, page.get_by_role("link", name="Instruction").first)
        page.audit("espace-instruction")
        # Filtrer : la recherche, et le statut choisi à la flèche dans sa liste
        remplir(page, page.get_by_role("searchbox", name=re.compile("Rechercher")), demande.numero)
        tabuler_jusqu_a(page, page.get_by_label("Statut", exact=True))
        page.keyboard.type("Transmise")
        expect(page.get_by_label("Statut", exact=True)).to_have_value("transmise")
        aller(page, page.get_by_role("button", name="Appliquer"))
        expect(page.locator("#liste-demandes tbody tr")).to_have_count(1)
        page.audit("espace-filtre")
        page.capture("espace-filtre")
        # Trier la colonne, puis ouvrir le dossier depuis le tableau
        aller(page, page.get_by_role("link", name=re.compile("^Trier par montant demandé")))
        expect(page.locator("th[aria-sort]")).to_have_count(1)
        # Zoom à 400 % (320 px de large, WCAG 1.4.10) : le tableau défile, et ce défilement se fait aux
        # flèches depuis le lien du dossier, jusqu'à la colonne du montant demandé.
        page.set_viewport_size({"width": 320, "height": 640})
        lien = page.locator("#liste-demandes").get_by_role("link", name=demande.titre)
        tabuler_jusqu_a(page, lien)
        conteneur = page.locator(".fr-table__container").element_handle()
        depart = conteneur.evaluate("el => el.scrollLeft")
        assert conteneur.evaluate("el => el.scrollWidth > el.clientWidth")
        for _ in range(25):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("([el, x]) => el.scrollLeft > x + 500", arg=[conteneur, depart])
        expect(page.locator("#liste-demandes td.dauphin-numerique")).to_be_in_viewport()
        page.audit("espace-320px")
        for _ in range(40):
            page.keyboard.press("ArrowLeft")
        page.wait_for_function("el => el.scrollLeft === 0", arg=conteneur)  # défilement doux : on attend
        page.set_viewport_size({"width": 1280, "height": 900})
        verifier_focus_visible(page)
        activer(page)

        expect(page.get_by_role("heading", level=1)).to_contain_text(demande.titre)
        page.audit("dossier-a-instruire")
        aller(page, page.get_by_role("button", name="Prendre en charge"))
        expect(page.get_by_text("Ligne prise en charge").first).to_be_visible()
        remplir(page, page.get_by_label("Montant proposé (en euros)"), "5 500")
        tabuler_jusqu_a(page, page.get_by_role("button", name="Déclarer recevable"))
        activer(page, "Space")
        expect(page.get_by_text("Ligne déclarée recevable").first).to_be_visible()
        page.capture("dossier-recevable")
        page.audit("dossier-recevable")
        assert page.erreurs_js == []

    db.session.expire_all()
    ligne = db.session.scalar(
        db.select(LigneFinancement).filter_by(demande_id=demande.id, organisation_id=monde.etat.id)
    )
    assert (ligne.statut.value, ligne.montant_propose) == ("recevable", Decimal("5500.00"))


def test_pilote_tient_le_comite_au_clavier(app, db, monde, captures, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setattr("dauphin.taches.generer_recepisse", lambda demande_id: None)
    demande = transmise(monde, instruite=True)
    # Jour = mois : saisie valable en jj/mm comme en mm/jj ; le plus récent jusqu'à aujourd'hui (une séance
    # ne se clôt pas avant sa date).
    annee = aujourdhui().year
    candidats = (date(a, m, m) for a in (annee - 1, annee) for m in range(1, 13))
    jour = max(d for d in candidats if d <= aujourdhui())
    with serveur_local(app) as adresse, navigateur(captures) as page:
        page.goto(adresse + "/compte/connexion")
        remplir(page, page.get_by_label("Adresse électronique"), "pilote@test.fr")
        remplir(page, page.get_by_label("Mot de passe"), MOT_DE_PASSE)
        activer(page, "Enter")

        # Le pilote crée la séance, inscrit le dossier instruit (Espace sur la case) et ouvre le vote.
        aller(page, page.get_by_role("link", name="Comités").first)
        aller(page, page.get_by_role("link", name="Nouvelle séance"))
        page.audit("nouvelle-seance")
        remplir(page, page.get_by_label("Date de la séance"), jour.strftime("%d%m%Y"))
        remplir(page, page.get_by_label("Lieu (facultatif)"), "Hôtel de ville")
        aller(page, page.get_by_role("button", name="Créer la séance"))
        expect(page.get_by_text("Séance créée").first).to_be_visible()
        case = page.get_by_label(re.compile(demande.numero))
        tabuler_jusqu_a(page, case)
        page.keyboard.press("Space")
        expect(case).to_be_checked()
        aller(page, page.get_by_role("button", name="Inscrire les dossiers cochés"))
        expect(page.get_by_text("1 dossier(s) inscrit(s)").first).to_be_visible()
        aller(page, page.get_by_role("button", name="Ouvrir le vote"))
        expect(page.get_by_text("Vote ouvert : les partenaires").first).to_be_visible()
        page.capture("vote-ouvert")
        se_deconnecter(page)

        # L'État vote « Pour » (flèches dans le groupe de boutons radio) et saisit son montant.
        se_connecter(page, "instructeur.etat@test.fr")
        aller(page, page.get_by_role("link", name="Comités").first)
        aller(page, page.get_by_role("link", name=re.compile("Séance du")))
        tabuler_jusqu_a(page, page.get_by_label("Pour"))  # un seul arrêt par groupe : son premier bouton
        page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Contre")).to_be_checked()
        page.keyboard.press("ArrowUp")
        expect(page.get_by_label("Pour")).to_be_checked()
        verifier_focus_visible(page)
        aller(page, page.get_by_role("button", name=re.compile("^Enregistrer le vote de Préfecture")))
        expect(page.get_by_text("Vote enregistré").first).to_be_visible()
        remplir(page, page.get_by_label("Montant proposé au vote (en euros)"), "6 000")
        expect(page.get_by_text("Reste de l’enveloppe après ce montant : 44 000,00").first).to_be_visible()
        aller(page, page.get_by_role("button", name=re.compile("Enregistrer le montant")))
        expect(page.get_by_text("Montant enregistré").first).to_be_visible()
        page.audit("seance-financeur")
        se_deconnecter(page)

        # Les autres partenaires votent de leur côté ; la commune ne saisit pas de montant (ligne refusée).
        point = db.session.scalar(db.select(SeanceComite)).points[0]
        comites.voter(point.id, monde.caf.id, "pour", None, monde.partenaire_caf)
        comites.voter(point.id, monde.commune.id, "pour", None, monde.instructeur_commune)

        # Le pilote note chaque partenaire présent (Espace sur le premier bouton de chaque groupe), voit
        # l'issue et clôt la séance.
        se_connecter(page, "pilote@test.fr")
        aller(page, page.get_by_role("link", name="Comités").first)
        aller(page, page.get_by_role("link", name=re.compile("Séance du")))
        for organisation in (monde.etat, monde.commune, monde.caf):
            presente = page.locator(f"#presence_{organisation.id}-0")
            tabuler_jusqu_a(page, presente)
            page.keyboard.press("Space")
            expect(presente).to_be_checked()
        aller(page, page.get_by_role("button", name="Enregistrer la feuille de présence"))
        expect(page.get_by_text("Feuille de présence enregistrée").first).to_be_visible()
        aller(page, page.get_by_role("link", name="Clore la séance…"))
        expect(page.get_by_text("Avis favorable (pour 3, contre 0, abstention 0)").first).to_be_visible()
        page.audit("cloture-apercu")
        aller(page, page.get_by_role("button", name="Clore la séance et fixer les décisions"))
        expect(page.get_by_text("Séance close").first).to_be_visible()
        page.capture("seance-close")
        page.audit("seance-close")
        assert page.erreurs_js == []

    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut.value == "attribuee"


def test_administration_nationale_modifie_une_organisation_au_clavier(app, db, monde, captures):
    from playwright.sync_api import expect

    with serveur_local(app) as adresse, navigateur(captures) as page:
        page.goto(adresse + "/compte/connexion")
        remplir(page, page.get_by_label("Adresse électronique"), "admin@test.fr")
        remplir(page, page.get_by_label("Mot de passe"), MOT_DE_PASSE)
        activer(page, "Enter")
        # Le second temps de la connexion, au clavier aussi : le code de l'application d'authentification
        expect(page).to_have_title("Connexion : code de vérification — Dauphin")
        remplir(page, page.get_by_label("Code de vérification"), code_totp("admin@test.fr"))
        activer(page, "Enter")
        expect(page.get_by_text("Bienvenue")).to_be_visible()
        # Zoom à 400 % (320 px) : la navigation est repliée derrière le bouton « Menu » ; le lien
        # d'évitement « Menu » ouvre sa fenêtre (evitement.js) au lieu de la sauter.
        page.set_viewport_size({"width": 320, "height": 640})
        tabuler_jusqu_a(page, page.locator(".fr-skiplinks").get_by_role("link", name="Menu"))
        page.keyboard.press("Enter")
        expect(page.locator("#menu-modal :focus")).to_have_count(1)  # le focus est dans la fenêtre du menu
        verifier_focus_visible(page)
        page.audit("menu-ouvert-320px")
        aller(page, page.locator("#navigation-principale").get_by_role("link", name="Administration"))
        # Le menu latéral de l'administration est replié lui aussi : son bouton l'ouvre.
        tabuler_jusqu_a(page, page.locator(".fr-sidemenu__btn"))
        page.keyboard.press("Enter")
        page.audit("administration-320px")
        aller(page, page.locator(".fr-sidemenu").get_by_role("link", name="Organisations"))
        page.set_viewport_size({"width": 1280, "height": 900})
        remplir(page, page.get_by_role("searchbox", name=re.compile("Rechercher")), "Lille")
        activer(page, "Enter")
        lignes = page.locator("tbody tr")
        expect(lignes).to_have_count(1)
        aller(page, lignes.get_by_role("link", name="Modifier"))
        page.audit("organisation")
        remplir(page, page.get_by_label("Adresse de contact (facultatif)"), "politique-ville@lille.fr")
        # Retour en arrière (Maj+Tab) jusqu'à la case « Financeur », décochée puis recochée à l'Espace
        case = page.get_by_label(re.compile("Financeur :"))
        tabuler_jusqu_a(page, case, arriere=True)
        page.keyboard.press("Space")
        expect(case).not_to_be_checked()
        page.keyboard.press("Space")
        expect(case).to_be_checked()
        aller(page, page.get_by_role("button", name="Enregistrer l’organisation"))
        expect(page.get_by_text(re.compile("Ville de Lille.*(modifiée|enregistrée)")).first).to_be_visible()
        page.capture("organisation-enregistree")
        page.audit("organisations")
        assert page.erreurs_js == []

    db.session.expire_all()
    assert db.session.get(Organisation, monde.commune.id).email_contact == "politique-ville@lille.fr"
