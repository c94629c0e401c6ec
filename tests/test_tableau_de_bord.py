"""Tableau de bord national : chaque chiffre vérifié sur un petit jeu connu (deux contrats dans deux
régions, deux exercices), par le service et par la page ; graphiques SVG accompagnés de leurs tableaux ;
réservé à l'administration nationale."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from dauphin.extensions import db as _db
from dauphin.models import Campagne
from dauphin.services import tableau_de_bord as service
from dauphin.services.workflow import aujourdhui
from dauphin.territoires import REGION_DU_DEPARTEMENT, libelle_region, region
from tests.test_programmation import client_de, dossier, ligne
from workflows import StatutDemande as D


def campagne(contrat, exercice) -> Campagne:
    c = Campagne(
        contrat_id=contrat.id,
        exercice=exercice,
        libelle=f"Appel à projets {exercice}",
        date_ouverture=date(2020, 1, 1),
        date_cloture=date(2020, 12, 31),
    )
    _db.session.add(c)
    _db.session.commit()
    return c


@pytest.fixture
def jeu(monde):
    m = monde
    e = m.campagne.exercice
    gard = campagne(m.autre_contrat, e)
    avant = campagne(m.contrat, e - 1)
    dossier(
        m,
        "A",
        [ligne(m.etat, "6000", "5000", "5000"), ligne(m.commune, "4000", "3000", "3000")],
        statut=D.attribuee,
    )
    dossier(m, "B", [ligne(m.etat, "2000")], statut=D.en_instruction, thematique="2.1")
    dossier(
        m,
        "C",
        [
            ligne(m.etat, "1000", "1000", "1000", "1000", valide=True),
            ligne(m.commune, "500", "500", "500", "500", valide=True),
        ],
        statut=D.justifiee,
        thematique="1.1",
    )
    dossier(
        m,
        "D",
        [ligne(m.caf, "900", "700", "700", "700", valide=True)],
        statut=D.justification_en_cours,
        thematique="3.1",
        campagne=gard,
        qpv=False,
    )
    dossier(m, "E", [ligne(m.caf, "800", None, "0")], statut=D.rejetee, campagne=gard, qpv=False)
    dossier(m, "F", [ligne(m.etat, "400", "400", "400")], statut=D.versee, campagne=avant)
    dossier(m, "Brouillon", [], statut=D.brouillon, transmis=False)
    return e


def chiffres(i: service.Indicateurs) -> tuple:
    return (i.deposees, i.financees, i.montant_vote, i.cr_saisis, i.cr_valides, i.validations_financeurs)


def test_indicateurs_du_service(app, monde, jeu):
    e = jeu
    t = service.tableau_de_bord(e)
    assert chiffres(t.total) == (5, 3, Decimal("10200"), 2, 1, 3)
    assert {r.cle: chiffres(r.indicateurs) for r in t.par_region} == {
        "32": (3, 2, Decimal("9500"), 1, 1, 2),  # Hauts-de-France (Nord)
        "76": (2, 1, Decimal("700"), 1, 0, 1),  # Occitanie (Gard)
    }
    assert [r.libelle for r in t.par_region] == ["Hauts-de-France", "Occitanie"]
    assert {r.cle: chiffres(r.indicateurs) for r in t.par_departement} == {
        "30": (2, 1, Decimal("700"), 1, 0, 1),
        "59": (3, 2, Decimal("9500"), 1, 1, 2),
    }
    assert {r.cle: chiffres(r.indicateurs) for r in t.par_pilier} == {
        "1": (3, 2, Decimal("9500"), 1, 1, 2),
        "2": (1, 0, Decimal("0"), 0, 0, 0),
        "3": (1, 1, Decimal("700"), 1, 0, 1),
    }
    assert {r.cle: chiffres(r.indicateurs) for r in t.par_exercice} == {
        str(e - 1): (1, 1, Decimal("400"), 0, 0, 0),
        str(e): (5, 3, Decimal("10200"), 2, 1, 3),
    }
    # Tous exercices confondus
    assert chiffres(service.tableau_de_bord(None).total) == (6, 4, Decimal("10600"), 2, 1, 3)


def test_departements_et_regions():
    assert len(REGION_DU_DEPARTEMENT) == 107  # 96 de métropole, 5 d'outre-mer, 6 collectivités
    assert libelle_region(region("2A")) == "Corse"
    assert libelle_region(region("974")) == "La Réunion"
    assert libelle_region(region("1")) == "Auvergne-Rhône-Alpes"  # « 1 » lu comme « 01 »
    assert region("99") is None and libelle_region(None) == "Département inconnu"


def _normaliser(texte: str) -> str:
    return re.sub(r"[\s\u202f\xa0]", "", re.sub(r"<[^>]+>", "", texte))


def cellules(page: str, tableau: str, cle: str) -> list[str]:
    section = page.split(f'<table id="{tableau}">')[1].split("</table>")[0]
    rangee = section.split(f'data-cle="{cle}">')[1].split("</tr>")[0]
    return [_normaliser(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rangee, re.S)]


def test_page_du_tableau_de_bord(app, monde, jeu):
    e = jeu
    client = client_de(app, monde.admin_national)
    assert 'href="/administration/tableau-de-bord"' in client.get("/administration/").get_data(as_text=True)
    reponse = client.get("/administration/tableau-de-bord", query_string={"exercice": e})
    assert reponse.status_code == 200
    page = reponse.get_data(as_text=True)
    assert f"<title>Tableau de bord national — exercice {e} — Dauphin</title>" in page
    assert cellules(page, "par-region", "32") == ["Hauts-de-France", "3", "2", "9500,00€", "1", "1", "2"]
    assert cellules(page, "par-region", "total") == ["Total", "5", "3", "10200,00€", "2", "1", "3"]
    assert cellules(page, "par-departement", "30") == ["30(Occitanie)", "2", "1", "700,00€", "1", "0", "1"]
    assert cellules(page, "par-pilier", "2")[:3] == ["2—Emploietdéveloppementéconomique", "1", "0"]
    assert cellules(page, "par-exercice", str(e - 1))[:4] == [str(e - 1), "1", "1", "400,00€"]
    # Chaque graphique est une image SVG titrée, suivie de son tableau de données
    for graphique, tableau in (
        ("graphique-exercices", "par-exercice"),
        ("graphique-regions", "par-region"),
        ("graphique-piliers", "par-pilier"),
    ):
        svg = page.split(f'id="{graphique}"')[1].split("</svg>")[0]
        assert 'role="img"' in svg and "<title" in svg
        assert page.index(f'id="{graphique}"') < page.index(f'<table id="{tableau}">')
    regions = page.split('id="graphique-regions"')[1].split("</svg>")[0]
    valeurs = re.findall(r'width="([\d.]+)" height="22" data-valeur="([\d.]+)"', regions)
    assert [float(v) for _, v in valeurs] == [9500.0, 700.0]
    assert float(valeurs[0][0]) == 330.0 and float(valeurs[1][0]) == pytest.approx(330 * 700 / 9500, abs=0.1)
    # Tous les exercices
    tous = client.get("/administration/tableau-de-bord?exercice=tous").get_data(as_text=True)
    assert cellules(tous, "par-region", "total")[1:4] == ["6", "4", "10600,00€"]


def test_reserve_a_l_administration_nationale(app, monde, jeu):
    for utilisateur in (monde.pilote, monde.partenaire_caf, monde.signataire):
        client = client_de(app, utilisateur)
        assert client.get("/administration/tableau-de-bord").status_code == 403


def test_s_ouvre_sur_l_exercice_en_cours(app, monde, jeu):
    """Le jeu a un exercice en cours et un exercice à venir (la campagne de test, e = l'an prochain) : la page
    s'ouvre sur l'année en cours, pas sur l'exercice à venir encore plein de zéros."""
    e = jeu
    assert e == aujourdhui().year + 1
    assert service.exercice_par_defaut([e, e - 1], e - 1) == e - 1
    assert service.exercice_par_defaut([e + 1, e - 2], e - 1) == e - 2  # le dernier exercice passé
    assert service.exercice_par_defaut([e + 1, e], e - 1) == e  # le premier à venir
    assert service.exercice_par_defaut([], e) is None
    client = client_de(app, monde.admin_national)
    page = client.get("/administration/tableau-de-bord").get_data(as_text=True)
    assert f"<title>Tableau de bord national — exercice {e - 1} — Dauphin</title>" in page
