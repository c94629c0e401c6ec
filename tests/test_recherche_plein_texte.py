"""La recherche de l'espace d'instruction : ce que l'instructeur tape trouve ses dossiers, les plus
pertinents d'abord, et les vecteurs suivent la base (intitulé modifié, structure renommée).

Les tests « plein texte » (accents, racines, rang, déclencheurs) portent sur PostgreSQL, qui seul a la
recherche plein texte (migration 0026) ; SQLite garde un LIKE, vérifié par tests/test_instruction.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dauphin.services import instruction as service
from dauphin.services import recherche
from tests.test_instruction import dossier
from workflows import StatutLigne as L


@pytest.fixture
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Recherche plein texte : PostgreSQL seul (SQLite garde le LIKE de condition_recherche)")
    return db


def trouves(monde, texte: str) -> list[str]:
    """Les numéros trouvés pour `texte` dans l'espace du financeur État, tous onglets, par pertinence."""
    espace = next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")
    filtres = service.Filtres(recherche=texte)
    resultat = []
    for onglet, nombre in service.compter_par_onglet(espace, filtres).items():
        page = service.page_demandes(espace, filtres, onglet, nombre, tri="pertinence", par_page=1000)
        assert len(page.items) == nombre, onglet
        resultat += [d.numero for d in page.items]
    return resultat


def test_expression_ne_laisse_passer_que_des_mots():
    assert recherche.mots("Fête de l'école : 2026 & | ! <script>") == [
        "Fête",
        "de",
        "l",
        "école",
        "2026",
        "script",
    ]
    assert recherche.mots("%%% ---") == []


def test_accents_et_racines_pas_de_debut_de_mot(pg, monde):
    a = dossier(pg, monde, "Éducation des jeunes dans les quartiers", {monde.etat: (L.sollicitee, "100")})
    b = dossier(pg, monde, "Fête de quartier", {monde.etat: (L.sollicitee, "100")}, jours=2)
    dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")}, jours=3)
    assert trouves(monde, "education") == [a.numero]  # sans accent
    assert trouves(monde, "JEUNE") == [a.numero]  # racine : jeunes
    assert sorted(trouves(monde, "quartier")) == sorted([a.numero, b.numero])  # quartiers, quartier
    assert trouves(monde, "éducations") == [a.numero]  # même racine
    assert trouves(monde, "educ") == [a.numero]  # la racine de « éducation »
    assert trouves(monde, "quart") == []  # pas de début de mot : des mots entiers (recherche.requete)
    assert trouves(monde, "quartier jeunes") == [a.numero]  # tous les mots
    assert trouves(monde, "%%%") == []


def test_l_intitule_compte_plus_que_le_nom_de_la_structure(pg, monde):
    """Un mot de l'intitulé (poids A) passe devant le même mot dans le nom de la structure (poids B),
    même transmis plus tôt."""
    monde.structure.raison_sociale = "Association Jardins du Quartier"
    pg.session.commit()
    par_la_structure = dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")}, jours=1)
    par_l_intitule = dossier(
        pg,
        monde,
        "Jardin partagé",
        {monde.etat: (L.sollicitee, "100")},
        structure=monde.autre_structure,
        jours=9,
    )
    assert trouves(monde, "jardin")[:2] == [par_l_intitule.numero, par_la_structure.numero]


def test_les_vecteurs_suivent_la_base(pg, monde):
    """Tenus par des déclencheurs : l'intitulé modifié, la structure renommée, une ligne ajoutée ensuite."""
    demande = dossier(pg, monde, "Atelier vélo", {monde.etat: (L.sollicitee, "100")})
    assert trouves(monde, "trottinette") == []
    demande.intitule = "Atelier trottinette"
    pg.session.commit()
    assert trouves(monde, "trottinette") == [demande.numero]
    assert trouves(monde, "vélo") == []
    monde.structure.raison_sociale = "Maison des Ormeaux"
    pg.session.commit()
    assert demande.numero in trouves(monde, "ormeaux")
    vecteurs = pg.session.execute(
        text("SELECT DISTINCT recherche::text FROM ligne_financement WHERE demande_id = :id"),
        {"id": demande.id},
    ).scalars()
    assert all("ormeaux" in v for v in vecteurs)


def test_la_page_dit_l_ordre_de_pertinence(pg, client, connexion, monde):
    dossier(pg, monde, "Fête de quartier", {monde.etat: (L.sollicitee, "100")})
    connexion.en_tant_que(monde.instructeur_etat)
    assert "du plus au moins pertinent" in client.get("/instruction/?q=quartier").get_data(as_text=True)
    choisi = client.get("/instruction/?q=quartier&tri=numero").get_data(as_text=True)
    assert "du plus au moins pertinent" not in choisi  # un tri choisi l'emporte
