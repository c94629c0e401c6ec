"""Les comptes d'une recherche arrêtés au plafond : l'onglet dit « plus de 1 000 », la pagination avance
sans connaître la dernière page, et rien n'est perdu ni répété.

Le plafond est abaissé à 2 pour le test (`PLAFOND_COMPTE`). Sur les deux bases ; sur PostgreSQL, en plus,
chaque onglet d'un financeur est compté par son index GIN partiel (migration 0030).
"""

from __future__ import annotations

import html as html_
import re

import pytest
from sqlalchemy import event, text

from dauphin.services import instruction as service
from tests.test_instruction import dossier, html, numeros, titre
from workflows import StatutDemande as D
from workflows import StatutLigne as L


@pytest.fixture
def plafond_de_2(monkeypatch):
    monkeypatch.setattr(service, "PLAFOND_COMPTE", 2)


@pytest.fixture
def page_de_1(app):
    app.config["PAGE_TAILLE"] = 1
    yield
    app.config["PAGE_TAILLE"] = 25


def onglets(reponse) -> dict[str, str]:
    """Le compte affiché de chaque onglet, tel quel (« 2 », « plus de 2 »)."""
    trouves = re.findall(
        r'data-onglet="(\w+)">[^<]*<span class="dauphin-onglets__compte">([^<]+)</span>', html(reponse)
    )
    return {onglet: html_.unescape(compte).replace("\u00a0", " ") for onglet, compte in trouves}


def espace_etat(monde):
    return next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")


def test_compte_exact_sous_le_plafond_arrete_au_dela(db, monde, plafond_de_2):
    for i in range(4):
        dossier(db, monde, f"Fête de quartier {i}", {monde.etat: (L.sollicitee, "100")}, jours=i)
    for i in range(2):
        dossier(db, monde, f"Quartier solidaire {i}", {monde.etat: (L.refusee, "100")}, jours=i)
    comptes = service.compter_par_onglet(espace_etat(monde), service.Filtres(recherche="quartier"))
    assert comptes == {"a_traiter": 3, "suivies": 0, "terminees": 2}  # 3 = arrêté à plafond + 1
    assert comptes.plafonnes == {"a_traiter"}
    assert comptes.texte("a_traiter") == "plus de 2" and comptes.texte("terminees") == "2"
    # Sans recherche, les comptes restent exacts (parcours d'index seul, pas de plafond)
    tous = service.compter_par_onglet(espace_etat(monde), service.Filtres())
    assert tous["a_traiter"] >= 4 and not tous.plafonnes
    # Le même plafond par la jointure avec la demande (filtre sur le contrat) et pour un partenaire
    par_contrat = service.Filtres(recherche="quartier", contrat_id=monde.contrat.id)
    assert service.compter_par_onglet(espace_etat(monde), par_contrat) == comptes


def test_onglet_plafonne_a_l_ecran(client, connexion, db, monde, plafond_de_2):
    for i in range(4):
        dossier(db, monde, f"Fête de quartier {i}", {monde.etat: (L.sollicitee, "100")}, jours=i)
    dossier(db, monde, "Quartier solidaire", {monde.etat: (L.refusee, "100")})
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get("/instruction/?q=quartier")
    assert onglets(reponse) == {"a_traiter": "plus de 2", "suivies": "0", "terminees": "1"}
    assert "(plus de 2)" in titre(reponse)
    assert "« plus de 2 » : au-delà, le nombre exact de demandes trouvées n’est pas compté" in html(reponse)
    assert "À traiter : plus de 2 demandes, page 1" in html(reponse)  # légende du tableau
    assert len(numeros(reponse)) == 4  # la page en montre autant qu'elle peut (25), au-delà du compte
    rien = client.get("/instruction/?q=trottinette")
    assert onglets(rien) == {"a_traiter": "0", "suivies": "0", "terminees": "0"}
    assert "Aucune demande ne correspond à ces critères dans cet onglet." in html(rien)


@pytest.mark.parametrize("tri", ["pertinence", "numero", "transmise"])
def test_pagination_d_un_compte_plafonne(client, connexion, db, monde, plafond_de_2, page_de_1, tri):
    """Les liens « page suivante » mènent à toutes les demandes trouvées, une fois chacune, et s'arrêtent
    à la dernière ; aucune « dernière page » n'est proposée (son numéro n'est pas connu), et les numéros
    affichés vont jusqu'à la page suivante."""
    attendus = {
        dossier(db, monde, f"Fête de quartier {i}", {monde.etat: (L.sollicitee, "100")}, jours=i).numero
        for i in range(4)
    }
    connexion.en_tant_que(monde.instructeur_etat)
    vus, url, pages = [], f"/instruction/?q=quartier&tri={tri}", 0
    while url:
        reponse = client.get(url)
        page = html(reponse)
        pages += 1
        assert "Dernière page" not in page
        assert f'aria-current="page" title="Page {pages}"' in page
        vus += numeros(reponse)
        suivante = re.search(r'href="([^"]+)" title="Page suivante"', page)
        if suivante:
            assert f'title="Page {pages + 1}"' in page and f'title="Page {pages + 2}"' not in page
        url = html_.unescape(suivante.group(1)) if suivante else None
        assert pages <= 5
    assert pages == 4 and len(vus) == 4 and set(vus) == attendus
    # En reculant depuis la dernière (lien « page précédente »), la page d'où l'on vient reste proposée
    precedente = re.search(r'href="([^"]+)" title="Page précédente"', page)
    troisieme = html(client.get(html_.unescape(precedente.group(1))))
    assert 'aria-current="page" title="Page 3"' in troisieme and 'title="Page suivante"' in troisieme
    assert re.search(r'href="[^"]+" title="Page suivante"', troisieme)


def test_pagination_exacte_sous_le_plafond(client, connexion, db, monde, plafond_de_2, page_de_1):
    """Sous le plafond, rien ne change : le compte exact, la dernière page proposée."""
    for i in range(2):
        dossier(db, monde, f"Fête de quartier {i}", {monde.etat: (L.sollicitee, "100")}, jours=i)
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get("/instruction/?q=quartier")
    assert onglets(reponse)["a_traiter"] == "2"
    assert "À traiter : 2 demandes, page 1 sur 2" in html(reponse)
    assert re.search(r'href="[^"]+" title="Dernière page"', html(reponse))


@pytest.fixture
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Index partiels et recherche plein texte : PostgreSQL seul")
    return db


def test_les_onglets_du_code_sont_les_predicats_des_index_partiels(pg):
    """Les conditions des onglets telles que le code les écrit (`constantes=True` : statuts en toutes
    lettres) sont exactement les prédicats des index partiels de la migration 0030 : PostgreSQL les
    normalise tous deux (un index jetable, annulé avec le test, porte la condition du code)."""
    dialecte = pg.engine.dialect
    for onglet, condition in service.conditions_onglets("financeur", constantes=True).items():
        sql = str(condition.compile(dialect=dialecte, compile_kwargs={"literal_binds": True}))
        pg.session.execute(text(f"CREATE INDEX test_onglet_{onglet} ON ligne_financement (id) WHERE {sql}"))
        predicats = pg.session.execute(
            text(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid IN "
                "(CAST(:code AS regclass), CAST(:recherche AS regclass), CAST(:numero AS regclass))"
            ),
            {
                "code": f"test_onglet_{onglet}",
                "recherche": f"ix_ligne_financement_recherche_{onglet}",
                "numero": f"ix_ligne_financement_numero_trgm_{onglet}",
            },
        ).scalars()
        assert len(set(predicats)) == 1, onglet


def test_chaque_onglet_est_compte_par_son_index_partiel(pg, monde):
    """Le décompte d'une recherche passe par l'index partiel de chaque onglet quand les index complets ne
    sont pas là (supprimés le temps du test, dans sa transaction) et le parcours séquentiel interdit."""
    dossier(pg, monde, "Fête de quartier", {monde.etat: (L.sollicitee, "100")})
    ordres = []

    def capturer(conn, cursor, statement, parameters, context, executemany):
        ordres.append((statement, parameters))

    event.listen(pg.engine, "before_cursor_execute", capturer)
    try:
        service.compter_par_onglet(espace_etat(monde), service.Filtres(recherche="quartier"))
    finally:
        event.remove(pg.engine, "before_cursor_execute", capturer)
    ordre, parametres = next(o for o in ordres if "LIMIT" in o[0] and "ligne_financement" in o[0])
    # Les statuts en toutes lettres : un plan générique (ordre préparé) prouve aussi le prédicat
    assert "'sollicitee'" in ordre and "'refusee'" in ordre
    for reglage in ("enable_seqscan", "enable_indexscan"):
        pg.session.execute(text(f"SET LOCAL {reglage} = off"))
    for index in pg.session.execute(
        text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'ligne_financement' "
            "AND indexname NOT LIKE '%recherche\\_%' AND indexname NOT LIKE 'pk_%' "
            "AND indexname NOT LIKE 'uq_%'"
        )
    ).scalars():
        pg.session.execute(text(f"DROP INDEX {index}"))
    pg.session.execute(
        text("ALTER TABLE ligne_financement DROP CONSTRAINT uq_ligne_financement_demande_id_organisation_id")
    )
    connexion = pg.session.connection().connection.driver_connection
    plan = "\n".join(r[0] for r in connexion.execute("EXPLAIN " + ordre, parametres).fetchall())
    for onglet in service.ONGLETS:
        assert f"ix_ligne_financement_recherche_{onglet}" in plan, plan


def test_structures_par_morceau_de_nom_seulement(pg, monde):
    """Le nom d'une structure que la requête plein texte trouve (mot entier ou sa racine) l'est par le vecteur
    de recherche ; la liste des structures ne garde que les morceaux de mot (« oisin » dans « Voisine »)."""
    monde.structure.raison_sociale = "Association Voisine"
    pg.session.commit()
    demande = dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")})
    espace = espace_etat(monde)
    # « voisin » : racine de « Voisine », trouvé par le vecteur ; « oisin » : un morceau, par la liste
    for texte, dans_la_liste in (
        ("voisine", False),
        ("voisin", False),
        ("oisin", True),
        ("association", False),
    ):
        filtres = service.Filtres(recherche=texte)
        assert (monde.structure.id in service.structures_trouvees(filtres)) is dans_la_liste, texte
        page = service.page_demandes(espace, filtres, "a_traiter", 10, tri="pertinence")
        assert demande.id in [d.id for d in page.items], texte


def test_structures_par_morceau_meme_analyse_que_le_vecteur(pg, monde):
    """« Simplon.co » est un seul mot pour l'analyseur de PostgreSQL : « simplon » n'est pas dans le vecteur,
    la structure reste donc dans la liste (une expression régulière de mot entier l'en sortait). Et le
    motif LIKE est échappé comme il est écrit : « % » se cherche tel quel."""
    monde.structure.raison_sociale = "Simplon.co"
    pg.session.commit()
    demande = dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")})
    espace = espace_etat(monde)
    filtres = service.Filtres(recherche="simplon")
    assert monde.structure.id in service.structures_trouvees(filtres)
    page = service.page_demandes(espace, filtres, "a_traiter", 10, tri="pertinence")
    assert demande.id in [d.id for d in page.items]

    monde.structure.raison_sociale = "Aide 50% Filles"
    pg.session.commit()
    assert monde.structure.id in service.structures_trouvees(service.Filtres(recherche="ide 50%"))
    assert monde.structure.id not in service.structures_trouvees(service.Filtres(recherche="ide 50_"))


def test_structure_renommee_son_vecteur_suit(pg, monde):
    """Le vecteur du nom de la structure (`structure.recherche`, migration 0031) est tenu par la base : une
    structure renommée n'est plus jugée sur son ancien nom. « Centre Voisin » : « voisin » y est un mot
    entier, trouvé par le vecteur de la demande ; renommée « Centre Voisinage », ce n'est plus qu'un
    morceau de mot, que seule la liste des structures trouve. Un vecteur resté sur l'ancien nom la dirait
    encore « entière » : ses demandes ne seraient plus trouvées."""
    monde.structure.raison_sociale = "Centre Voisin"
    pg.session.commit()
    demande = dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")})
    espace = espace_etat(monde)

    def trouvee() -> tuple[bool, bool]:
        filtres = service.Filtres(recherche="voisin")
        page = service.page_demandes(espace, filtres, "a_traiter", 10, tri="pertinence")
        return monde.structure.id in service.structures_trouvees(filtres), demande.id in [
            d.id for d in page.items
        ]

    assert trouvee() == (False, True)  # par le vecteur de la demande
    monde.structure.raison_sociale = "Centre Voisinage"
    pg.session.commit()
    assert trouvee() == (True, True)  # par la liste des structures
    monde.structure.sigle = "VOISIN"  # le sigle compte aussi
    pg.session.commit()
    assert trouvee() == (False, True)
    # Le même vecteur que celui que la demande porte pour sa structure (une seule définition)
    assert pg.session.execute(
        text(
            "SELECT recherche = public.dauphin_vecteur_recherche('', raison_sociale, sigle) "
            "FROM structure WHERE id = :id"
        ),
        {"id": monde.structure.id},
    ).scalar_one()


def test_comptes_avec_des_structures_trouvees_par_un_morceau_de_nom(pg, monde, monkeypatch):
    """Des structures trouvées par un morceau de leur nom (« ternois » dans « Les Ternoisiens ») : les lignes
    que le vecteur trouve sont comptées par onglet, celles de la liste qu'il ne trouve pas une fois pour
    toutes (`_compter_jusqu_au_plafond`). Une ligne trouvée des deux façons ne compte qu'une fois, le
    plafond s'applique à la somme, et les comptes sont ceux de la condition entière (par la sous-requête)."""
    monde.structure.raison_sociale = "Les Ternoisiens"
    pg.session.commit()
    etat = monde.etat
    les_deux = dossier(pg, monde, "Fête du Ternois", {etat: (L.sollicitee, "100")}, jours=1)
    par_la_liste = dossier(pg, monde, "Atelier vélo", {etat: (L.sollicitee, "100")}, jours=2)
    attend_le_porteur = dossier(
        pg, monde, "Atelier", {etat: (L.prise_en_charge, "100")}, statut=D.a_completer
    )
    par_le_vecteur = dossier(
        pg, monde, "Ternois solidaire", {etat: (L.refusee, "100")}, structure=monde.autre_structure
    )
    espace = espace_etat(monde)

    def comptes_et_pages():
        filtres = service.Filtres(recherche="ternois")
        comptes = service.compter_par_onglet(espace, filtres)
        pages = {
            onglet: [d.id for d in service.page_demandes(espace, filtres, onglet, 10, tri="pertinence").items]
            for onglet in service.ONGLETS
        }
        return comptes, comptes.plafonnes, pages

    assert monde.structure.id in service.structures_trouvees(service.Filtres(recherche="ternois"))
    comptes, plafonnes, pages = comptes_et_pages()
    assert comptes == {"a_traiter": 2, "suivies": 1, "terminees": 1} and not plafonnes
    assert pages == {
        "a_traiter": [les_deux.id, par_la_liste.id],
        "suivies": [attend_le_porteur.id],
        "terminees": [par_le_vecteur.id],
    }
    monkeypatch.setattr(service, "STRUCTURES_EN_LISTE_MAX", 0)  # la condition entière, par la sous-requête
    assert comptes_et_pages() == (comptes, plafonnes, pages)
    monkeypatch.undo()
    monkeypatch.setattr(service, "PLAFOND_COMPTE", 2)
    dossier(pg, monde, "Atelier bois", {etat: (L.sollicitee, "100")}, jours=3)  # par la liste : 3 à traiter
    comptes, plafonnes, _ = comptes_et_pages()
    assert comptes == {"a_traiter": 3, "suivies": 1, "terminees": 1} and plafonnes == {"a_traiter"}
    assert comptes.texte("a_traiter") == "plus de 2"
