"""Import des contrats de ville et des QPV : par l'écran de l'administration nationale et par la commande
`flask referentiel …`, à partir d'extraits des fichiers publics (tests/donnees/). Lignes rejetées avec leur
numéro et la raison, tout ou rien, aperçu puis confirmation, encodages mélangés refusés, contrats sur
plusieurs départements et de Corse (la liste publique entière), idempotence, une seule transaction, trace."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dauphin.models import ContratDeVille, EvenementReferentiel, Qpv
from dauphin.services import imports
from tests.formulaires_html import html

DONNEES = Path(__file__).parent / "donnees"
CONTRATS = DONNEES / "contrats_de_ville_extrait.csv"
QPV = DONNEES / "qpv_2024_extrait.csv"
ENTETE = "code_cv,libelle,siren_porteur,departement,population_qpv,longitude,latitude\n"


def rejets(reponse) -> dict[int, str]:
    """{numéro de ligne: « code — raison »} lus dans le tableau des lignes rejetées."""
    tableau = re.search(r'<table id="rejets">.*?</table>', html(reponse), re.S)
    if tableau is None:
        return {}
    return {
        int(ligne): f"{code} — {motif}"
        for ligne, code, motif in re.findall(
            r'<tr data-ligne="(\d+)"><td>\d+</td><td>(.*?)</td><td>(.*?)</td></tr>', tableau.group(0)
        )
    }


def apercu(client, nature: str, contenu: bytes, nom: str = "fichier.csv", **champs):
    """Envoie le fichier : l'aperçu, rien n'est enregistré."""
    donnees = {"fichier": (io.BytesIO(contenu), nom), **champs}
    return client.post(f"/administration/imports/{nature}", data=donnees, content_type="multipart/form-data")


def confirmer(client, reponse_apercu):
    """« Confirmer l'import » du formulaire de l'aperçu."""
    formulaire = re.search(
        r'<form method="post" action="([^"]+/confirmer)".*?</form>', html(reponse_apercu), re.S
    )
    assert formulaire, "pas de bouton « Confirmer l’import » dans l'aperçu"
    champs = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', formulaire.group(0)))
    return client.post(formulaire.group(1), data=champs)


def envoyer(client, nature: str, contenu: bytes, nom: str = "fichier.csv", **champs):
    """Aperçu puis, s'il le propose, confirmation : la réponse finale."""
    reponse = apercu(client, nature, contenu, nom, **champs)
    if "Confirmer l’import" not in html(reponse):
        return reponse
    return confirmer(client, reponse)


def nombre(db, modele) -> int:
    return db.session.scalar(select(func.count()).select_from(modele))


@pytest.fixture
def admin(connexion, monde):
    connexion.en_tant_que(monde.admin_national)
    return monde.admin_national


# --- Contrats de ville ---------------------------------------------------------------------------


def test_import_du_fichier_public_puis_second_import_identique(client, db, monde, admin):
    avant = nombre(db, ContratDeVille)
    reponse = envoyer(
        client, "contrats", CONTRATS.read_bytes(), "contrats_de_ville_extrait.csv", generation="2015"
    )
    assert reponse.status_code == 200, html(reponse)
    # 20 lignes dont deux pour CV043 : le même contrat sur deux départements dans le fichier de l'ANCT
    assert "20 ligne(s) lue(s) : 19 ajoutée(s), 0 modifiée(s), 0 inchangée(s), 0 rejetée(s)." in html(reponse)
    assert "Rapport d’import" in html(reponse) and rejets(reponse) == {}
    assert nombre(db, ContratDeVille) == avant + 19
    aix = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV043"))
    assert (aix.departement, aix.autres_departements, aix.departements) == ("13", "84", ["13", "84"])
    assert aix.population_qpv == 21147 + 1916
    virgule = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV038"))
    assert virgule.libelle == "11 - CC Région Lézignanaise, Corbières et Minervois"  # guillemets du CSV
    assert (virgule.siren_porteur, virgule.departement, virgule.population_qpv, virgule.generation) == (
        "200035863",
        "11",
        3059,
        2015,
    )
    outre_mer = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV376"))
    assert (outre_mer.departement, outre_mer.siren_porteur) == ("972", "97209")  # commune porteuse
    traces = db.session.scalars(
        select(EvenementReferentiel).where(EvenementReferentiel.action == "importer")
    ).all()
    assert len(traces) == 1 and traces[0].acteur_id == monde.admin_national.id
    assert len(traces[0].details["ajoutes"]) == 19

    # Le même fichier une seconde fois : rien n'est ajouté ni changé, aucune nouvelle trace
    reponse = envoyer(
        client, "contrats", CONTRATS.read_bytes(), "contrats_de_ville_extrait.csv", generation="2015"
    )
    assert "20 ligne(s) lue(s) : 0 ajoutée(s), 0 modifiée(s), 19 inchangée(s), 0 rejetée(s)." in html(reponse)
    assert "Le fichier ne change rien" in html(reponse) and "Confirmer l’import" not in html(reponse)
    assert nombre(db, ContratDeVille) == avant + 19
    assert nombre(db, EvenementReferentiel) == 1


def test_lignes_rejetees_avec_numero_et_raison(client, db, admin):
    contenu = (
        ENTETE
        + "CV501,Contrat valide,245900410,59,100,0,0\n"
        + ",Code absent,245900410,59,100,0,0\n"
        + "C-V 5,Code mal formé,245900410,59,100,0,0\n"
        + "CV503,Département inconnu,245900410,99,100,0,0\n"
        + "CV504,Corse mal écrite,245900410,20,100,0,0\n"
        + "CV501,Doublon du premier,245900410,59,100,0,0\n"
        + "\n"
        + "CV506,SIREN faux,245900411,59,100,0,0\n"
        + "CV507,,245900410,59,100,0,0\n"
        + "CV508,Population illisible,245900410,59,beaucoup,0,0\n"
        + "CV509,Trop de cellules,245900410,59,100,0,0,en trop\n"
        + "CV510,Commune d'un autre département,97209,59,100,0,0\n"
        + "cv511,Code en minuscules accepté,,2a,,0,0\n"
    ).encode()
    avant = nombre(db, ContratDeVille)
    reponse = envoyer(client, "contrats", contenu)
    assert reponse.status_code == 200
    assert rejets(reponse) == {
        3: "— — code du contrat manquant",
        4: "C-V5 — code « C-V 5 » mal formé : attendu des lettres puis un numéro, par exemple CV001",
        5: "CV503 — département « 99 » inconnu",
        6: "CV504 — département « 20 » inconnu",
        7: "CV501 — code CV501 en double : déjà présent ligne 2",
        9: "CV506 — SIREN du porteur « 245900411 » invalide (clé de contrôle)",
        10: "CV507 — libellé manquant",
        11: "CV508 — population « beaucoup » invalide : attendu un nombre entier",
        12: "— — 8 cellule(s) au lieu de 7 : vérifiez les séparateurs et les guillemets",
        13: "CV510 — porteur « 97209 » invalide : attendu le SIREN de l’EPCI (9 chiffres) ou le code "
        "INSEE d’une "
        "commune du département 59",
    }
    # Tout ou rien : les deux lignes valides ne sont pas enregistrées, rien n'est à confirmer
    assert "2 ajoutée(s)" in html(reponse) and "Confirmer l’import" not in html(reponse)
    assert imports.RIEN_ENREGISTRE in html(reponse)
    assert nombre(db, ContratDeVille) == avant and nombre(db, EvenementReferentiel) == 0

    valides = "\n".join(contenu.decode().splitlines()[i] for i in (0, 1, 13)).encode()
    reponse = envoyer(client, "contrats", valides)
    assert "2 ajoutée(s)" in html(reponse) and "Les changements sont enregistrés." in html(reponse)
    codes = set(db.session.scalars(select(ContratDeVille.code).where(ContratDeVille.code.like("CV5%"))))
    assert codes == {"CV501", "CV511"}
    corse = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV511"))
    assert (corse.departement, corse.siren_porteur, corse.population_qpv) == ("2A", None, None)


def test_mise_a_jour_d_un_libelle_change(client, db, admin):
    envoyer(client, "contrats", CONTRATS.read_bytes(), generation="2015")
    version_avant = db.session.scalar(select(ContratDeVille.version).where(ContratDeVille.code == "CV002"))
    modifie = CONTRATS.read_text(encoding="utf-8").replace("CC Haut - Bugey", "CC Haut-Bugey Agglomération")
    reponse = envoyer(client, "contrats", modifie.encode(), generation="2015")
    assert "0 ajoutée(s), 1 modifiée(s), 18 inchangée(s), 0 rejetée(s)." in html(reponse)
    tableau = re.search(r'<table id="modifies">.*?</table>', html(reponse), re.S).group(0)
    assert (
        "CV002" in tableau
        and "01 - CC Haut - Bugey" in tableau
        and "01 - CC Haut-Bugey Agglomération" in tableau
    )
    db.session.expire_all()
    contrat = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV002"))
    assert contrat.libelle == "01 - CC Haut-Bugey Agglomération" and contrat.version == version_avant + 1
    trace = db.session.scalars(
        select(EvenementReferentiel)
        .where(EvenementReferentiel.action == "importer")
        .order_by(EvenementReferentiel.id)
    ).all()[-1]
    assert trace.details["modifies"] == {
        "CV002": {"libelle": ["01 - CC Haut - Bugey", "01 - CC Haut-Bugey Agglomération"]}
    }


def test_apercu_n_enregistre_rien_et_fichier_illisible_refuse(client, db, admin):
    avant = nombre(db, ContratDeVille)
    reponse = apercu(client, "contrats", CONTRATS.read_bytes())
    assert "Aperçu de l’import (rien n’est encore enregistré)" in html(reponse)
    assert "19 ajoutée(s)" in html(reponse) and "Confirmer l’import" in html(reponse)
    assert nombre(db, ContratDeVille) == avant and nombre(db, EvenementReferentiel) == 0
    # Un aperçu altéré dans la page est refusé, rien n'est enregistré, le fichier est à choisir de nouveau
    reponse = client.post("/administration/imports/contrats/confirmer", data={"sceau": "contrefait"})
    assert reponse.status_code == 422 and imports.APERCU_PERIME in html(reponse)
    assert 'id="fichier-erreur"' in html(reponse) and nombre(db, ContratDeVille) == avant
    # Le fichier d'un aperçu de contrats ne s'importe pas comme liste de QPV
    with client.application.test_request_context():
        sceau = imports.sceller("contrats", CONTRATS.read_bytes(), "x.csv", {"generation": 2015})
    reponse = client.post("/administration/imports/qpv/confirmer", data={"sceau": sceau})
    assert reponse.status_code == 422 and nombre(db, ContratDeVille) == avant

    reponse = envoyer(client, "contrats", b"numero;nom\nCV1;x\n")
    assert reponse.status_code == 422
    assert re.search(r"<title>Erreur : ", html(reponse))
    assert "Colonnes obligatoires absentes de la première ligne : code_cv, departement." in html(reponse)
    assert 'id="fichier-erreur"' in html(reponse)
    reponse = client.post("/administration/imports/contrats", data={}, content_type="multipart/form-data")
    assert reponse.status_code == 422 and "Choisissez le fichier CSV à importer." in html(reponse)


def test_encodages_melanges_refuses_avec_les_lignes_en_cause(client, db, admin):
    """Des lignes UTF-8 accentuées et une ligne Latin-1 : le fichier est refusé, aucun libellé brouillé."""
    avant = nombre(db, ContratDeVille)
    contenu = (
        b"code_cv;libelle;departement\n"
        + "CV601;59 - Métropole Européenne de Lille;59\n".encode()
        + "CV602;62 - Communauté d'agglomération de Lens;62\n".encode("latin-1")
        + "CV603;69 - Métropole de Lyon;69\n".encode()
    )
    reponse = apercu(client, "contrats", contenu)
    assert reponse.status_code == 422
    assert (
        "Le fichier mélange deux encodages : la ou les lignes 3 ne sont pas en UTF-8 comme les lignes 2, 4."
        in html(reponse)
    )
    assert "Ã" not in html(reponse) and "Confirmer l’import" not in html(reponse)
    assert nombre(db, ContratDeVille) == avant


def test_la_liste_publique_entiere_des_contrats_2015(client, db, admin):
    """Les 434 lignes de la liste de l'ANCT (copie de /work/shared/reference) : 433 contrats, dont celui du
    Pays d'Aix sur deux lignes (13 et 84) et les trois de Corse, sans département, libellés « NA - »."""
    avant = nombre(db, ContratDeVille)
    reponse = envoyer(
        client, "contrats", (DONNEES / "contrats_de_ville_2015_2023.csv").read_bytes(), generation="2015"
    )
    assert "434 ligne(s) lue(s) : 433 ajoutée(s), 0 modifiée(s), 0 inchangée(s), 0 rejetée(s)." in html(
        reponse
    )
    assert nombre(db, ContratDeVille) == avant + 433
    corse = {
        c.code: (c.departement, c.libelle)
        for c in db.session.scalars(
            select(ContratDeVille).where(ContratDeVille.code.in_(["CV366", "CV367", "CV368"]))
        )
    }
    assert corse == {
        "CV366": ("2A", "2A - CA du Pays Ajaccien"),
        "CV367": ("2A", "2A - COMMUNAUTE DE COMMUNES DU SUD CORSE"),
        "CV368": ("2B", "2B - CA de Bastia"),
    }
    # Le contrat du Pays d'Aix se trouve par chacun de ses départements
    assert "CV043" in html(client.get("/administration/contrats?q=84"))
    assert "13, 84" in html(client.get("/administration/contrats?q=CV043"))


def test_point_virgule_et_windows_1252(client, db, admin):
    contenu = "code_cv;libelle;departement\nCV601;59 - Métropole Européenne de Lille;59\n".encode("cp1252")
    reponse = envoyer(client, "contrats", contenu)
    assert "1 ajoutée(s)" in html(reponse)
    assert db.session.scalar(select(ContratDeVille.libelle).where(ContratDeVille.code == "CV601")) == (
        "59 - Métropole Européenne de Lille"
    )


def test_une_seule_transaction_tout_ou_rien(db, monde, monkeypatch):
    """Une panne au milieu de l'import n'en laisse aucune moitié en base."""
    avant = nombre(db, ContratDeVille)
    origine = imports._ajouter_ou_modifier
    appels = []

    def panne(rapport, existants, code, valeurs, modele):
        appels.append(code)
        if len(appels) == 10:
            db.session.flush()
            raise RuntimeError("panne de courant")
        return origine(rapport, existants, code, valeurs, modele)

    monkeypatch.setattr(imports, "_ajouter_ou_modifier", panne)
    with pytest.raises(RuntimeError):
        imports.importer_contrats(CONTRATS.read_bytes(), "x.csv", monde.admin_national)
    db.session.expire_all()
    assert nombre(db, ContratDeVille) == avant


# --- Quartiers prioritaires ----------------------------------------------------------------------


def test_import_des_qpv_rattache_au_contrat_par_l_epci(client, db, monde, admin):
    envoyer(client, "contrats", CONTRATS.read_bytes(), generation="2024")
    reponse = envoyer(client, "qpv", QPV.read_bytes(), "qpv_2024_extrait.csv")
    assert reponse.status_code == 200, html(reponse)
    # Lille-Sud existait (rattaché au contrat de test, sans communes) : il est mis à jour
    assert "6 ligne(s) lue(s) : 5 ajoutée(s), 1 modifiée(s), 0 inchangée(s), 0 rejetée(s)." in html(reponse)
    assert "Les changements sont enregistrés." in html(reponse)
    assert "1 quartier(s) sans contrat de ville déterminé." in html(reponse)
    modifies = re.search(r'<table id="modifies">.*?</table>', html(reponse), re.S).group(0)
    assert "<td>contrat</td><td>CV-TEST-1</td><td>CV192</td>" in modifies
    lille = db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == "CV192"))
    assert db.session.scalar(select(Qpv.contrat_id).where(Qpv.code == "QN05901M")) == lille.id
    bourgogne = db.session.scalar(select(Qpv).where(Qpv.code == "QN05904M"))
    assert (bourgogne.contrat_id, bourgogne.communes_insee, bourgogne.departement) == (
        lille.id,
        "59599,59512",
        "59",
    )
    assert db.session.scalar(select(Qpv.contrat_id).where(Qpv.code == "QN97201M")) is None
    # Idempotent
    reponse = envoyer(client, "qpv", QPV.read_bytes(), "qpv_2024_extrait.csv")
    assert "0 ajoutée(s), 0 modifiée(s), 6 inchangée(s), 0 rejetée(s)" in html(reponse)
    # La page du contrat montre ses quartiers
    assert "Bourgogne" in html(client.get(f"/administration/contrats/{lille.id}"))
    assert "QN05904M" in html(client.get("/administration/qpv?q=bourgogne"))


def test_qpv_rejetes(client, db, monde, admin):
    contenu = (
        "code_qp;lib_qp;insee_dep;insee_com;code_cv\n"
        "QN05910M;Valide;59;59350;CV-TEST-1\n"
        ";Sans code;59;59350;\n"
        "QN5910M;Code court;59;59350;\n"
        "QN07501M;Autre département;59;59350;\n"
        "QN09901M;Département inconnu;99;99001;\n"
        "QN05911M;Commune d'ailleurs;59;62041;\n"
        "QN05912M;Contrat inconnu;59;59350;CV999\n"
        "QN05910M;Doublon;59;59350;\n"
        "QP059001;Ancien format accepté;59;59350;\n"
    ).encode()
    reponse = envoyer(client, "qpv", contenu)
    assert rejets(reponse) == {
        3: "— — code du quartier manquant",
        4: "QN5910M — code « QN5910M » mal formé : attendu QN, le département sur trois caractères, deux "
        "chiffres et une lettre (QN07501M), ou l’ancien format QP046001",
        5: "QN07501M — le code QN07501M désigne le département 75, pas le 59",
        6: "QN09901M — département « 99 » inconnu",
        7: "QN05911M — code commune « 62041 » invalide pour le département 59",
        8: "QN05912M — contrat de ville CV999 inconnu : importez d’abord les contrats",
        9: "QN05910M — code QN05910M en double : déjà présent ligne 2",
    }
    # Tout ou rien : ni le quartier valide ni l'ancien format ne sont enregistrés
    assert db.session.scalar(select(Qpv.code).where(Qpv.code.in_(["QN05910M", "QP059001"]))) is None
    valides = "\n".join(contenu.decode().splitlines()[i] for i in (0, 1, 9)).encode()
    envoyer(client, "qpv", valides)
    assert db.session.scalar(select(Qpv.contrat_id).where(Qpv.code == "QN05910M")) == monde.contrat.id
    assert db.session.scalar(select(Qpv.code).where(Qpv.code == "QP059001")) == "QP059001"


# --- Ligne de commande --------------------------------------------------------------------------


def test_commandes_flask_referentiel(app, db):
    runner = app.test_cli_runner()
    resultat = runner.invoke(args=["referentiel", "importer-contrats", "--generation", "2024", str(CONTRATS)])
    assert resultat.exit_code == 0, resultat.output
    assert (
        "20 ligne(s) lue(s) : 19 ajoutée(s), 0 modifiée(s), 0 inchangée(s), 0 rejetée(s)." in resultat.output
    )
    resultat = runner.invoke(args=["referentiel", "importer-qpv", str(QPV)])
    assert resultat.exit_code == 0 and "6 ajoutée(s)" in resultat.output
    resultat = runner.invoke(args=["referentiel", "importer-qpv", str(QPV)])
    assert "0 ajoutée(s), 0 modifiée(s), 6 inchangée(s)" in resultat.output
    trace = db.session.scalars(
        select(EvenementReferentiel).where(EvenementReferentiel.objet_type == "qpv")
    ).one()
    assert trace.acteur_id is None  # ligne de commande
    resultat = runner.invoke(args=["referentiel", "importer-qpv", str(CONTRATS)])
    assert resultat.exit_code == 1 and "Colonnes obligatoires absentes" in resultat.output


def test_commande_d_import_avec_lignes_rejetees_sort_en_erreur(app, db, tmp_path):
    fichier = tmp_path / "qpv.csv"
    fichier.write_bytes(QPV.read_bytes() + b"QNXXXXXX;;59;Nord;59350;Lille;245900410\n")
    resultat = app.test_cli_runner().invoke(args=["referentiel", "importer-qpv", str(fichier)])
    assert resultat.exit_code == 1, resultat.output
    assert "1 rejetée(s)" in resultat.output and "Rien n’a été enregistré" in resultat.output
    assert db.session.scalar(select(Qpv.id).where(Qpv.code == "QN05901M")) is None  # tout ou rien
