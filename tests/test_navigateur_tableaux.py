"""Dans Chromium : les grands tableaux du portail, remplis par la démonstration (`flask seed demo` : cinq
financeurs par contrat, une demande dans chaque statut), se lisent à 1280 px sans défilement horizontal — la
liste d'instruction (financeur, partenaire, pilote), « Mes demandes », la programmation, l'historique d'un
dossier, la clôture d'un comité, le compte rendu financier et sa synthèse. Chaque tableau garde les colonnes
qui servent à décider et à agir ; le détail par financeur s'ouvre sous la ligne, au clavier comme à la
souris, avec les montants du dossier, et le tableau tient encore dans la page une fois tout ouvert. À 320 px,
un tableau qui défile se rejoint au clavier (règle axe scrollable-region-focusable). Captures dans
test-artifacts/tableaux/.

Le même contrôle à 1280 px, sur chaque écran de chaque rôle : tests/test_navigateur_reflow.py."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from dauphin.models import Campagne, Demande, SeanceComite, StatutSeance
from dauphin.seeds.demo import MOT_DE_PASSE
from dauphin.services.workflow import aujourdhui
from tests.navigateur import (
    DANS_CHROMIUM,
    auditer_accessibilite,
    serveur_local,
    tableaux_qui_debordent,
)
from tests.navigateur import navigateur as ouvrir_navigateur
from workflows import StatutDemande

pytestmark = DANS_CHROMIUM

LARGE = {"width": 1280, "height": 800}
ETROIT = {"width": 320, "height": 800}
DEMO = "@demo.dauphin.fr"


def _euros(montant: Decimal) -> str:
    """Le montant tel que l'écran l'écrit, espaces ordinaires : « 12 000,00 € »."""
    entier, _, decimales = f"{montant:.2f}".partition(".")
    return f"{int(entier):,}".replace(",", " ") + f",{decimales} €"


def _texte(locator) -> str:
    return " ".join(locator.inner_text().replace("\u202f", " ").replace("\xa0", " ").split())


def _se_connecter(page, adresse: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(adresse + "/compte/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(MOT_DE_PASSE)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert "/compte/connexion" not in page.url, f"connexion refusée pour {email}"


def _ecrans(db) -> dict[str, list[tuple[str, str]]]:
    """Par compte de la démonstration, les (nom, adresse) des écrans aux grands tableaux."""
    demandes = {d.statut: d for d in db.session.scalars(select(Demande))}
    campagnes = db.session.scalars(select(Campagne.id).order_by(Campagne.id)).all()
    seance = db.session.scalar(select(SeanceComite).where(SeanceComite.statut == StatutSeance.vote_ouvert))
    a_completer = demandes[StatutDemande.a_completer].id
    justifiee = demandes[StatutDemande.justifiee].id
    return {
        "porteur.admin": [
            ("mes-demandes", "/mes-demandes/"),
            ("historique", f"/dossiers/{a_completer}"),
            ("compte-rendu", f"/comptes-rendus/{demandes[StatutDemande.a_justifier].id}"),
            ("synthese-compte-rendu", f"/dossiers/{justifiee}"),
        ],
        "instructeur.etat": [
            ("instruction-financeur", "/instruction/"),
            ("instruction-financeur-suivies", "/instruction/?onglet=suivies"),
            ("instruction-financeur-terminees", "/instruction/?onglet=terminees"),
            ("historique-financeur", f"/dossiers/{a_completer}"),
        ],
        "partenaire.caf": [("instruction-partenaire", "/instruction/")],
        "pilote": [
            ("instruction-pilote", "/instruction/"),
            *[(f"programmation-{c}", f"/pilotage/programmation/{c}") for c in campagnes],
            ("cloture-comite", f"/comites/{seance.id}/clore"),
        ],
    }


def _verifier_la_largeur(page, nom: str) -> list[str]:
    """À 1280 px : aucun tableau ne défile, détails fermés puis ouverts ; à 320 px, ceux qui défilent se
    rejoignent au clavier. Rend les défauts trouvés."""
    defauts = [f"{nom}, 1280 px : {t}" for t in tableaux_qui_debordent(page)]
    # Tous les détails ouverts d'un coup (le geste lui-même, à la souris et au clavier : test suivant).
    page.eval_on_selector_all("button.dauphin-bouton-detail", "boutons => boutons.forEach((b) => b.click())")
    defauts += [f"{nom}, 1280 px, détails ouverts : {t}" for t in tableaux_qui_debordent(page)]
    if defauts:
        page.capture(f"{nom}-1280px")
    auditer_accessibilite(page, f"{nom} (1280 px)", regles=["scrollable-region-focusable"])
    page.set_viewport_size(ETROIT)
    try:
        auditer_accessibilite(page, f"{nom} (320 px)", regles=["scrollable-region-focusable"])
        largeur = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if largeur > 0:
            defauts.append(f"{nom}, 320 px : la page défile de {largeur} px")
    finally:
        page.set_viewport_size(LARGE)
    return defauts


def test_les_grands_tableaux_tiennent_a_1280_px(app, db, captures):
    from playwright.sync_api import expect

    resultat = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert resultat.exit_code == 0, resultat.output
    # La séance au vote ouvert de la démonstration se tient plus tard : elle se tient aujourd'hui, pour que
    # l'écran de clôture montre ce qu'elle va décider.
    seance = db.session.scalar(select(SeanceComite).where(SeanceComite.statut == StatutSeance.vote_ouvert))
    seance.date_seance = aujourdhui()
    db.session.commit()
    # Et sa feuille de présence est remplie : la clôture montre alors le tableau des décisions.
    from dauphin.models import Utilisateur
    from dauphin.services import comites

    pilote = db.session.scalar(select(Utilisateur).where(Utilisateur.email == "pilote" + DEMO))
    partenaires = comites.feuille_de_presence(seance).partenaires
    comites.enregistrer_presences(seance.id, {o.id: ("present", None) for o in partenaires}, pilote)
    ecrans = _ecrans(db)

    defauts: list[str] = []
    with serveur_local(app) as adresse, ouvrir_navigateur(captures) as page:
        page.set_viewport_size(LARGE)
        for compte, pages in ecrans.items():
            _se_connecter(page, adresse, compte + DEMO)
            for nom, chemin in pages:
                reponse = page.goto(adresse + chemin)
                assert reponse.status == 200, f"{nom} {chemin} : {reponse.status}"
                expect(page.locator(".fr-table").first).to_be_attached()
                defauts += _verifier_la_largeur(page, nom)
        assert page.erreurs_js == [], page.erreurs_js
    assert defauts == [], "Tableaux plus larges que la page :\n" + "\n".join(defauts)


def test_le_detail_par_financeur_s_ouvre_sous_la_demande(app, db, captures):
    """Programmation du pilote : une ligne par demande et ses totaux, sans colonne par financeur ; le détail
    de chaque financeur s'ouvre au clavier sous la demande, avec les montants de ses lignes ; le total de la
    campagne en pied de tableau. « Mes demandes » : le détail montre chaque financeur et le statut de sa
    ligne."""
    from playwright.sync_api import expect

    resultat = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert resultat.exit_code == 0, resultat.output
    demande = db.session.scalar(select(Demande).where(Demande.statut == StatutDemande.instruite))
    lignes = demande.lignes_actives
    assert len(lignes) >= 2
    toutes = db.session.scalars(
        select(Demande).where(Demande.campagne_id == demande.campagne_id, Demande.numero.is_not(None))
    ).all()
    total_demande = sum((d.montant_sollicite for d in toutes), Decimal("0"))

    with serveur_local(app) as adresse, ouvrir_navigateur(captures) as page:
        page.set_viewport_size(LARGE)
        _se_connecter(page, adresse, "pilote" + DEMO)
        page.goto(f"{adresse}/pilotage/programmation/{demande.campagne_id}")
        tableau = page.locator("#programmation")
        # Huit colonnes, quel que soit le nombre de financeurs de la campagne (cinq ici).
        expect(tableau.locator("thead th")).to_have_text(
            ["Numéro", "Action", "Structure", "Statut", "Demandé", "Proposé", "Voté", "Versé"]
        )
        rangee = tableau.locator(f'tr[data-demande="{demande.numero}"]')
        assert _texte(rangee.locator("td").nth(3)) == _euros(demande.montant_sollicite)
        assert _euros(total_demande) in _texte(tableau.locator("tfoot"))
        sous_lignes = tableau.locator(f"tr.dauphin-sous-ligne[id^='financeur-{demande.id}-']")
        expect(sous_lignes).to_have_count(len(lignes))
        expect(sous_lignes.first).to_be_hidden()

        bouton = rangee.get_by_role("button", name=re.compile(f"Détail : {len(lignes)} financeurs"))
        expect(bouton).to_have_attribute("aria-expanded", "false")
        bouton.focus()
        page.keyboard.press("Enter")
        expect(bouton).to_have_attribute("aria-expanded", "true")
        for ligne in lignes:
            sous_ligne = tableau.locator(f"tr#financeur-{demande.id}-{ligne.organisation_id}")
            expect(sous_ligne).to_be_visible()
            assert _texte(sous_ligne.locator("th")) == ligne.organisation.nom
            montants = [_texte(c) for c in sous_ligne.locator("td").all()]
            assert montants[:2] == [_euros(ligne.montant_demande), _euros(ligne.montant_propose or 0)]
        page.capture("programmation-detail-ouvert")
        assert tableaux_qui_debordent(page) == []
        page.keyboard.press("Space")
        expect(bouton).to_have_attribute("aria-expanded", "false")
        expect(sous_lignes.first).to_be_hidden()

        # Le contrôle voit un tableau qui déborde : le même, forcé à 2 000 px.
        tableau.evaluate("t => { t.style.minWidth = '2000px'; }")
        assert [t for t in tableaux_qui_debordent(page) if "Programmation" in t]

        _se_connecter(page, adresse, "porteur.admin" + DEMO)
        page.goto(adresse + "/mes-demandes/")
        porteur = db.session.scalar(select(Demande).where(Demande.statut == StatutDemande.a_completer))
        rangee = page.locator(f'tr[data-demande="{porteur.id}"]')
        rangee.get_by_role("button", name=re.compile("Détail :")).click()
        for ligne in porteur.lignes_actives:
            sous_ligne = page.locator(f"tr#financeur-{porteur.id}-{ligne.id}")
            expect(sous_ligne).to_be_visible()
            expect(sous_ligne.locator("th")).to_have_text(ligne.organisation.nom)
            expect(sous_ligne.locator("[data-statut]")).to_be_visible()
        page.capture("mes-demandes-detail-ouvert")
        assert page.erreurs_js == [], page.erreurs_js
