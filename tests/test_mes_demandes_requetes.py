"""Le tableau de bord du porteur : un nombre de requêtes SQL qui ne dépend pas du nombre de ses structures.

Le nom et le SIRET de chaque structure s'affichent (rattachements, demandes, comptes rendus) : lus un par
un (ceux des structures dont aucune demande n'est sur la page), un compte rattaché à 41 structures
envoyait 32 requêtes au lieu de 7 (base du banc, 25 000 demandes)."""

from __future__ import annotations

from flask import g
from sqlalchemy import event

from dauphin.models import MembreStructure, RoleStructure
from tests.fabriques_db import demande_complete, structure
from tests.requetes import Compteur


class ClientSessionNeuve:
    """Chaque requête relit ce qu'elle affiche, comme en production où elle part d'une session vide : le
    test et l'application partagent la session, où les objets du test (le compte, ses structures) sont
    déjà chargés."""

    def __init__(self, client, db):
        self.client, self.db = client, db

    def get(self, *args, **kwargs):
        self.db.session.expire_all()
        g.pop("_login_user", None)
        return self.client.get(*args, **kwargs)


def _rattacher(db, monde, signataire_id: int, debut: int, fin: int) -> list[str]:
    noms = []
    for i in range(debut, fin):
        nouvelle = structure(f"{33300000 + i:08d}", f"Association numéro {i}")
        db.session.add(
            MembreStructure(
                utilisateur_id=signataire_id, structure_id=nouvelle.id, role=RoleStructure.signataire
            )
        )
        if i % 2:  # une structure sur deux a une demande, les autres n'ont que le rattachement
            demande_complete(monde, structure=nouvelle, intitule=f"Action de la structure {i}")
        noms.append(nouvelle.raison_sociale)
    db.session.commit()
    return noms


def test_requetes_du_tableau_de_bord_bornees_quel_que_soit_le_nombre_de_structures(app, db, monde, connexion):
    connexion.en_tant_que(monde.signataire)
    signataire_id = monde.signataire.id
    client = ClientSessionNeuve(connexion.client, db)
    compteur = Compteur(db.engine)
    peu_de_noms = _rattacher(db, monde, signataire_id, 0, 2)
    peu = compteur.mesurer(client, "/mes-demandes/")
    beaucoup_de_noms = _rattacher(db, monde, signataire_id, 2, 14)
    beaucoup = compteur.mesurer(client, "/mes-demandes/")
    assert beaucoup == peu
    page = client.get("/mes-demandes/").get_data(as_text=True)
    for nom in peu_de_noms + beaucoup_de_noms:
        assert f"<strong>{nom}</strong>" in page  # chaque rattachement, nommé
    assert "Action de la structure 13" in page  # et les demandes de la dernière structure


def test_le_nombre_de_demandes_vient_avec_la_page(app, db, monde, connexion):
    """Plusieurs pages : le total (« 5 au total, page 1 sur 3 ») est lu avec la page (fonction de fenêtre),
    sans requête de décompte ; il reste juste sur chaque page, la dernière comprise."""
    connexion.en_tant_que(monde.signataire)
    client = ClientSessionNeuve(connexion.client, db)
    existantes = client.get("/mes-demandes/").get_data(as_text=True).count("<tr data-demande=")
    for i in range(5 - existantes):
        demande_complete(monde, intitule=f"Action supplémentaire {i}")
    db.session.commit()
    app.config["PAGE_TAILLE"] = 2
    try:
        ordres: list[str] = []
        ecouter = lambda _c, _cu, ordre, *_: ordres.append(ordre)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", ecouter)
        try:
            pages = [client.get(f"/mes-demandes/?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
        finally:
            event.remove(db.engine, "before_cursor_execute", ecouter)
        for numero, page in enumerate(pages, start=1):
            assert f"5 au total, page {numero} sur 3" in page
        assert [page.count("<tr data-demande=") for page in pages] == [2, 2, 1]
        assert not [o for o in ordres if "count(demande.id)" in o]
    finally:
        app.config["PAGE_TAILLE"] = 25


def test_les_alertes_ne_dependent_pas_de_la_page(app, db, monde, connexion):
    """Demandes à attester et page lues en une requête : l'alerte nomme toutes les demandes à attester, par
    identifiant, sur chaque page (même hors de la page affichée, même au-delà de la dernière), et les lignes
    de financement sont celles des seules demandes de la page."""
    from dauphin.services.workflow import declencher_demande
    from tests.test_trace_lectures import transmise

    connexion.en_tant_que(monde.signataire)
    client = ClientSessionNeuve(connexion.client, db)
    soumises = [demande_complete(monde, intitule=f"À attester {i}") for i in range(2)]
    for demande in soumises:
        declencher_demande(demande.id, "soumettre", monde.contributeur)
    demande_complete(monde, intitule="Brouillon récent")
    transmise(monde, intitule="Transmise récente")
    db.session.commit()
    app.config["PAGE_TAILLE"] = 1
    try:
        pages = [client.get(f"/mes-demandes/?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4, 9)]
    finally:
        app.config["PAGE_TAILLE"] = 25
    for page in pages:
        alerte = page[page.index('id="demandes-a-attester"') : page.index("</ul>", page.index("À attester"))]
        assert alerte.index("À attester 0") < alerte.index("À attester 1")
        assert "Brouillon récent" not in alerte and "Transmise récente" not in alerte
    assert [page.count("<tr data-demande=") for page in pages] == [1, 1, 1, 1, 0]
    assert "Aucune demande" in pages[4]
    corps = [page[page.index("<tbody>") : page.index("</tbody>")] for page in pages[:4]]
    assert "Transmise récente" in corps[0] and "Brouillon récent" in corps[1]
    assert corps[0].count('class="dauphin-sous-ligne"') >= 2  # les financeurs de la transmise
    for une in corps:  # une demande par page : ses sous-lignes, pas celles des autres
        ident = une.split('data-demande="')[1].split('"')[0]
        assert une.count('class="dauphin-sous-ligne"') == une.count(f'id="financeur-{ident}-')
