"""Chaque point de la liste « À compléter avant de transmettre » mène à son champ : le lien ouvre l'étape
du formulaire, et cette page porte un élément dont l'id est l'ancre du lien (sinon le navigateur reste en
haut de la page et l'usager cherche le champ). La navigation entre les étapes dit, pour chacune, si elle est
complète ou ce qu'il y reste à compléter (les mêmes gardes)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

from dauphin.models import LigneBudget, ReponseEligibilite
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html
from tests.parcours import creer_brouillon


def liens_a_corriger(page: str) -> list[tuple[str, str, str]]:
    """(chemin, ancre, message) de chaque lien de la liste des points à corriger."""
    (liste,) = re.findall(r'id="a-corriger".*?</ul>', page, re.S)
    return [
        (chemin, ancre, unescape(message))
        for chemin, ancre, message in re.findall(r'<a href="([^"#]+)(?:#([^"]*))?">(.*?)</a>', liste)
    ]


def verifier_les_ancres(client, page: str) -> set[str]:
    liens = liens_a_corriger(page)
    assert liens
    for chemin, ancre, message in liens:
        assert ancre, f"« {message} » ne mène à aucun champ"
        cible = html(client.get(chemin))
        assert f'id="{ancre}"' in cible, f"« {message} » : aucun id « {ancre} » sur {chemin}"
    return {message for _, _, message in liens}


def test_les_liens_d_un_brouillon_vide_menent_a_leur_champ(client, connexion, monde):
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    messages = verifier_les_ancres(client, html(client.get(f"/demandes/{demande_id}/etape/recapitulatif")))
    assert "Indiquez au moins un quartier prioritaire concerné." in messages
    assert "Joignez la pièce « Statuts »." in messages
    assert any(m.startswith("Répondez à la question") for m in messages)
    assert any("compte 74" in m for m in messages)
    assert "Renseignez la description de l’action." in messages


def test_les_liens_des_erreurs_d_une_demande_remplie_menent_a_leur_champ(client, connexion, db, monde):
    demande = demande_complete(monde)
    demande.nb_beneficiaires = 0
    demande.date_debut, demande.date_fin = (
        date(monde.campagne.exercice, 6, 1),
        date(monde.campagne.exercice, 1, 1),
    )
    demande.reponses = [
        ReponseEligibilite(question_id=q.id, reponse=not q.reponse_attendue)
        for q in monde.campagne.questions_eligibilite
    ]
    demande.lignes_budget.append(LigneBudget(compte="60", montant=Decimal("-10"), ordre=6))
    demande.lignes_budget.append(
        LigneBudget(compte="74", montant=Decimal("500"), financeur_id=monde.caf.id, ordre=7)
    )
    db.session.commit()
    connexion.en_tant_que(monde.contributeur)
    messages = verifier_les_ancres(client, html(client.get(f"/demandes/{demande.id}/etape/recapitulatif")))
    assert any("la campagne demande la réponse" in m for m in messages)
    assert any("ne participe pas à cette campagne" in m for m in messages)
    assert "La date de fin précède la date de début de l’action." in messages
    assert any("ne peut pas être négatif" in m for m in messages)


def etats_des_etapes(page: str) -> dict[str, str]:
    """L'état affiché de chaque étape dans la navigation : {étape: "complete" | "a-completer"}."""
    return dict(re.findall(r'href="/demandes/\d+/etape/(\w+)".*?data-etat="([\w-]+)"', page))


def test_la_navigation_montre_l_etat_de_chaque_etape(client, connexion, db, monde):
    connexion.en_tant_que(monde.contributeur)
    brouillon = creer_brouillon(client, monde)
    page = html(client.get(f"/demandes/{brouillon}/etape/action"))
    etats = etats_des_etapes(page)
    assert etats == {
        "eligibilite": "a-completer",
        "structure": "complete",  # la personne chargée et le compte sont repris de la structure
        "action": "a-completer",
        "budget": "a-completer",
        "pieces": "a-completer",
    }
    assert "Étape 3 sur 6 · à compléter" in page

    complete = demande_complete(monde)
    page = html(client.get(f"/demandes/{complete.id}/etape/budget"))
    assert set(etats_des_etapes(page).values()) == {"complete"} and "Étape 4 sur 6 · complète" in page
