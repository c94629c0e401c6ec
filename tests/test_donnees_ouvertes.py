"""Données ouvertes au format SCDL « Subventions » 2.1.1 : `flask donnees-ouvertes publier`, la page publique
/donnees-ouvertes/ et l'API qui sert les mêmes lignes.

Chaque fichier produit est validé par `frictionless` contre la copie du schéma officiel que porte le projet
(0 erreur), avec en plus les contrôles que le schéma déclare en `custom_checks` et que frictionless ne fait
pas (clé de Luhn des SIRET, SIRET ou RNA du bénéficiaire) : sur la démonstration, et sur un exercice bâti
par les vraies transitions avec une demande cofinancée payée en plusieurs fois, un cofinanceur qui refuse,
une ligne qui attend son acte et une demande rejetée. La démonstration : tests/test_donnees_ouvertes_demo.py
(sur une base vierge). Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from frictionless import Resource, Schema, system
from sqlalchemy import event, select
from stdnum.fr import siret as stdnum_siret

from dauphin.extensions import db as _db
from dauphin.models import (
    Demande,
    EvenementReferentiel,
    LigneFinancement,
    MembreOrganisation,
    NatureVersement,
    Organisation,
    PublicationDonneesOuvertes,
    maintenant,
)
from dauphin.services import donnees_ouvertes as service
from dauphin.services import engagements
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import charger_monde, demande_complete
from tests.formulaires_html import champs, erreur_du_champ, html
from tests.test_api import _adhesion, creer, entetes
from tests.test_engagements import PDF_SIGNE
from workflows import StatutDemande as D
from workflows import StatutLigne as L

SIRET_ETAT = "17590001800011"
SIRET_COMMUNE = "21590350100017"


# --- Validation des fichiers ---------------------------------------------------------------------------


def schema_du_projet() -> Schema:
    return Schema.from_descriptor(json.loads(service.SCHEMA.read_text(encoding="utf-8")))


def valider(chemin: Path) -> list[dict[str, str]]:
    """Valide le fichier contre le schéma du projet (frictionless, 0 erreur exigée) et les contrôles
    propres au SCDL ; rend ses lignes."""
    with system.use_context(trusted=True):
        rapport = Resource(path=str(chemin), schema=schema_du_projet()).validate()
    erreurs = rapport.flatten(["rowNumber", "fieldName", "type", "note"])
    assert rapport.valid and erreurs == [], f"{chemin.name} : {erreurs}"
    texte = chemin.read_bytes().decode("utf-8")  # UTF-8 strict
    assert not texte.startswith("\ufeff")
    lignes = list(csv.DictReader(io.StringIO(texte)))  # virgule
    assert lignes, f"{chemin.name} : aucune ligne"
    for ligne in lignes:  # custom_checks du schéma (validata) : SIRET valides, SIRET ou RNA du bénéficiaire
        assert stdnum_siret.is_valid(ligne["idAttribuant"]), ligne["idAttribuant"]
        assert stdnum_siret.is_valid(ligne["idBeneficiaire"]), ligne["idBeneficiaire"]
        assert ligne["idBeneficiaire"] or ligne["rnaBeneficiaire"]
        assert f"{ligne['idAttribuant']}_{ligne['exerciceBudgetaire']}_subventions.csv" == chemin.name
    return lignes


def test_la_validation_trouve_les_erreurs(tmp_path):
    """Témoin : frictionless refuse bien un fichier hors du schéma (pourcentage au-delà de 1, colonne
    obligatoire vide) — une validation qui ne trouverait rien ne prouverait rien."""
    valeurs = {nom: "" for nom in service.champs()}
    valeurs.update(
        nomAttribuant="Ville",
        idAttribuant=SIRET_COMMUNE,
        idServiceInstructeur=SIRET_COMMUNE,
        nomBeneficiaire="Association",
        idBeneficiaire=SIRET_ETAT,
        dateConvention="2026-03-01",
        objet="Ateliers",
        nature="aide en numéraire",
        conditionsVersement="unique",
        descriptionConditionsVersement="Versement unique.",
        datesPeriodeVersement="2026-03-10",
        notificationUE="non",
        pourcentageSubvention="0.5",
        exerciceBudgetaire="2026",
    )
    chemin = tmp_path / f"{SIRET_COMMUNE}_2026_subventions.csv"
    chemin.write_bytes(service.contenu_csv([valeurs]))
    valider(chemin)
    chemin.write_bytes(
        service.contenu_csv([{**valeurs, "pourcentageSubvention": "1.5", "dateConvention": ""}])
    )
    with system.use_context(trusted=True):
        rapport = Resource(path=str(chemin), schema=schema_du_projet()).validate()
    assert {(e[0], e[1]) for e in rapport.flatten(["fieldName", "type"])} == {
        ("pourcentageSubvention", "constraint-error"),
        ("dateConvention", "constraint-error"),
    }


def test_un_texte_lu_comme_une_formule_est_neutralise_dans_le_fichier():
    valeurs = {nom: "" for nom in service.champs()} | {"objet": "=HYPERLINK(1)", "nomBeneficiaire": "@Asso"}
    (ligne,) = csv.DictReader(io.StringIO(service.contenu_csv([valeurs]).decode("utf-8")))
    assert (ligne["objet"], ligne["nomBeneficiaire"]) == ("'=HYPERLINK(1)", "'@Asso")


def test_le_projet_porte_sa_copie_du_schema_et_la_sert():
    contenu = json.loads(service.SCHEMA.read_text(encoding="utf-8"))
    assert contenu["name"] == "subventions" and contenu["version"] == "2.1.1"
    assert len(service.champs()) == 40 and service.champs()[:3] == (
        "idSubvention",
        "nomAttribuant",
        "idAttribuant",
    )
    assert Path(service.SCHEMA).is_relative_to(Path(service.__file__).resolve().parents[1])


# --- Règles d'une ligne, sur des objets simples ------------------------------------------------------


def echeance(nature, prevue, montant, paye=None):
    return SimpleNamespace(
        nature=nature,
        date_prevue=prevue,
        montant_prevu=Decimal(montant),
        verse_le=paye,
        montant_verse=Decimal(montant) if paye else None,
    )


def test_conditions_de_versement_selon_l_echeancier():
    debut, fin = date(2027, 3, 1), date(2027, 12, 31)
    sans = service.versements([], debut, fin)
    assert (sans.conditions, sans.periode) == ("autre", "2027-03-01/2027-12-31") and sans.description
    unique = service.versements([echeance(NatureVersement.avance, date(2027, 4, 1), "500")], debut, fin)
    assert (unique.conditions, unique.periode) == ("unique", "2027-04-01")
    assert unique.description == "Versement unique de 500,00 € prévu le 01/04/2027."
    plusieurs = service.versements(
        [
            echeance(NatureVersement.avance, date(2027, 4, 1), "800", paye=date(2027, 4, 3)),
            echeance(NatureVersement.solde, date(2028, 6, 30), "200"),
        ],
        debut,
        fin,
    )
    assert (plusieurs.conditions, plusieurs.periode) == ("échelonné", "2027-04-03/2028-06-30")
    assert plusieurs.description == (
        "2 versements : avance de 800,00 € versée le 03/04/2027 ; solde de 200,00 € prévu le 30/06/2028."
    )
    nombreuses = [
        echeance(NatureVersement.avance, date(2027, 1, 1) + timedelta(days=i), "10") for i in range(12)
    ]
    resume = service.versements(nombreuses, debut, fin)
    assert len(resume.description) <= 256 and resume.description.startswith("12 versements de 120,00 €")


@pytest.mark.parametrize(
    ("vote", "cout", "attendu"),
    [("4500", "10000", "0.45"), ("1", "1000000", "0.01"), ("12000", "10000", "1"), ("10", None, "1")],
)
def test_pourcentage_borne_a_l_intervalle_du_schema(vote, cout, attendu):
    valeur = service.pourcentage(Decimal(vote), Decimal(cout) if cout else None)
    assert format(valeur.normalize(), "f") == attendu


# --- Un exercice bâti par les vraies transitions ---------------------------------------------------------


@dataclass(frozen=True)
class Annee:
    exercice: int
    cofinancee: int  # État 30 000 € (convention, 3 échéances dont une payée) + commune 4 000 € (une échéance)
    refus: int  # État 6 000 € notifiés sans échéancier ni EJ ; la commune refuse
    attente: int  # État 5 000 € votés, acte pas encore établi
    rejetee: int  # les deux financeurs refusent


def _decider(monde, intitule, montants: dict, structure=None) -> Demande:
    """Une demande déposée, instruite, programmée puis décidée : `montants` donne, par organisation, le
    montant demandé et le montant voté (None : refus)."""
    etat, commune = montants[monde.etat.id][0], montants[monde.commune.id][0]
    demande = demande_complete(monde, etat=etat, commune=commune, structure=structure, intitule=intitule)
    signataire = monde.signataire if structure is None else monde.signataire_autre
    contributeur = monde.contributeur if structure is None else monde.signataire_autre
    declencher_demande(demande.id, "soumettre", contributeur)
    declencher_demande(demande.id, "attester", signataire, attestation=True)
    instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    lignes = [(lf.id, lf.organisation_id) for lf in demande.lignes_financement]
    for ligne_id, organisation_id in lignes:
        declencher_ligne(ligne_id, "prendre_en_charge", instructeurs[organisation_id])
        declencher_ligne(
            ligne_id,
            "declarer_recevable",
            instructeurs[organisation_id],
            montant=montants[organisation_id][0],
        )
    declencher_demande(demande.id, "programmer", monde.pilote)
    for ligne_id, organisation_id in lignes:
        vote = montants[organisation_id][1]
        if vote is None:
            declencher_ligne(ligne_id, "refuser", instructeurs[organisation_id])
        else:
            declencher_ligne(ligne_id, "voter", instructeurs[organisation_id], montant=vote)
    return _db.session.get(Demande, demande.id)


def _engager(ligne_id: int, instructeur, signataire, ej: str | None) -> LigneFinancement:
    """L'acte (notification, ou convention signée par la structure), puis le numéro d'engagement."""
    ligne = engagements.etablir_acte(ligne_id, instructeur)
    if ligne.statut == L.convention_a_signer:
        ligne = engagements.deposer_convention_signee(
            ligne_id, signataire, PDF_SIGNE, "convention-signee.pdf"
        )
    if ej:
        engagements.enregistrer_engagement(ligne_id, instructeur, ej)
    return _db.session.get(LigneFinancement, ligne_id)


def _ligne(demande: Demande, organisation) -> LigneFinancement:
    return next(lf for lf in demande.lignes_financement if lf.organisation_id == organisation.id)


def batir_annee(monde) -> Annee:
    jour = aujourdhui()
    monde.etat.siret, monde.commune.siret = SIRET_ETAT, SIRET_COMMUNE
    monde.structure.rna = "W591234567"
    monde.autre_structure.rna = "W2A1234567"  # un RNA de Corse : hors du motif du schéma, non publié
    _db.session.commit()
    e, c = monde.etat.id, monde.commune.id
    cofinancee = _decider(
        monde,
        "Ateliers cofinancés, payés en plusieurs fois",
        {e: (Decimal("30000"), Decimal("30000")), c: (Decimal("4000"), Decimal("4000"))},
    )
    refus = _decider(
        monde,
        "Médiation : la commune refuse",
        {e: (Decimal("6000"), Decimal("6000")), c: (Decimal("2000"), None)},
        structure=monde.autre_structure,
    )
    attente = _decider(
        monde,
        "Action votée, acte à établir",
        {e: (Decimal("5000"), Decimal("5000")), c: (Decimal("1000"), None)},
        structure=monde.autre_structure,
    )
    rejetee = _decider(monde, "Action rejetée", {e: (Decimal("3000"), None), c: (Decimal("3000"), None)})
    assert (refus.statut, attente.statut, rejetee.statut) == (D.attribuee, D.attribuee, D.rejetee)

    etat_a = _engager(
        _ligne(cofinancee, monde.etat).id, monde.instructeur_etat, monde.signataire, "2101234567"
    )
    assert etat_a.convention_requise and etat_a.statut == L.engagee
    premiere = engagements.prevoir_echeance(
        etat_a.id, monde.instructeur_etat, "avance", jour, Decimal("20000")
    )
    engagements.prevoir_echeance(
        etat_a.id, monde.instructeur_etat, "avance", jour + timedelta(days=30), Decimal("4000")
    )
    engagements.prevoir_echeance(
        etat_a.id, monde.instructeur_etat, "solde", jour + timedelta(days=200), Decimal("6000")
    )
    engagements.enregistrer_paiement(premiere.id, monde.instructeur_etat, jour, Decimal("20000"), "DP-1")
    commune_a = _engager(
        _ligne(cofinancee, monde.commune).id, monde.instructeur_commune, monde.signataire, "VILLE-2027-001"
    )
    engagements.prevoir_echeance(
        commune_a.id, monde.instructeur_commune, "avance", jour + timedelta(days=10), Decimal("4000")
    )
    etat_b = _engager(_ligne(refus, monde.etat).id, monde.instructeur_etat, monde.signataire_autre, None)
    assert etat_b.statut == L.engagee and etat_b.numero_engagement is None
    # Une action sur deux années : la subvention est pluriannuelle
    _db.session.get(Demande, cofinancee.id).duree_annees = 2
    _db.session.commit()
    return Annee(monde.campagne.exercice, cofinancee.id, refus.id, attente.id, rejetee.id)


@pytest.fixture(scope="module")
def annee(transaction_du_module):
    """Bâti une fois pour le module ; chaque test le retrouve intact."""
    resultat = batir_annee(charger_monde())
    _db.session.remove()
    return resultat


def publier(app, *arguments) -> SimpleNamespace:
    resultat = app.test_cli_runner().invoke(args=["donnees-ouvertes", "publier", *map(str, arguments)])
    return SimpleNamespace(code=resultat.exit_code, sortie=resultat.stdout, erreur=resultat.stderr)


def numeros(db, *ids) -> list[str]:
    return [db.session.get(Demande, i).numero for i in ids]


def test_exercice_genere_chaque_fichier_valide_et_son_contenu(app, db, monde, annee, tmp_path):
    resultat = publier(app, "--exercice", annee.exercice, "--sortie", tmp_path)
    assert resultat.code == 0, resultat.erreur
    assert "1 ligne votée de l'exercice attend son acte" in resultat.sortie
    fichiers = sorted(p.name for p in tmp_path.iterdir())
    assert fichiers == [
        f"{SIRET_ETAT}_{annee.exercice}_subventions.csv",
        f"{SIRET_COMMUNE}_{annee.exercice}_subventions.csv",
    ]
    etat = {
        ligne["idCofinancement"] or ligne["idSubvention"]: ligne for ligne in valider(tmp_path / fichiers[0])
    }
    commune = valider(tmp_path / fichiers[1])
    cofinancee, refus, attente, rejetee = numeros(
        db, annee.cofinancee, annee.refus, annee.attente, annee.rejetee
    )
    # Une ligne par ligne engagée : ni la ligne qui attend son acte, ni les refus
    assert len(etat) == 2 and len(commune) == 1
    objets = {ligne["objet"] for ligne in etat.values()}
    assert objets == {"Ateliers cofinancés, payés en plusieurs fois", "Médiation : la commune refuse"}
    assert not any(
        attente in ligne["idSubvention"] or rejetee in ligne["idSubvention"] for ligne in etat.values()
    )

    jour = aujourdhui()
    a = etat[cofinancee]
    ligne_etat = _ligne(db.session.get(Demande, annee.cofinancee), monde.etat)
    assert a["idSubvention"] == f"{cofinancee}-{ligne_etat.id}"
    assert (a["nomAttribuant"], a["idAttribuant"], a["idServiceInstructeur"]) == (
        "Préfecture du Nord (État – P147)",
        SIRET_ETAT,
        SIRET_ETAT,
    )
    assert (a["nomBeneficiaire"], a["idBeneficiaire"], a["rnaBeneficiaire"]) == (
        "Association des Jardins",
        monde.structure.siret,
        "W591234567",
    )
    assert (a["montantDemande"], a["montant"], a["statutLabel"], a["nature"]) == (
        "30000.00",
        "30000.00",
        "attribuée",
        "aide en numéraire",
    )
    assert (a["ej"], a["cléVersement"]) == ("2101234567", "")
    assert (a["cofinancement"], a["attribuantsCofinanceurs"], a["idCofinancement"]) == (
        "oui",
        "Ville de Lille",
        cofinancee,
    )
    assert (a["dateDecision"], a["dateConvention"], a["dateCreation"]) == (jour.isoformat(),) * 3
    assert a["conditionsVersement"] == "échelonné"
    assert a["datesPeriodeVersement"] == f"{jour.isoformat()}/{(jour + timedelta(days=200)).isoformat()}"
    assert a["descriptionConditionsVersement"].startswith("3 versements : avance de 20 000,00 € versée le ")
    # 30 000 € votés pour 35 000 € de charges (64 et 60 ; les contributions en nature n'en sont pas)
    assert a["pourcentageSubvention"] == "0.8571"
    assert (a["exerciceBudgetaire"], a["pluriannualite"], a["anneesPluriannualite"]) == (
        str(annee.exercice),
        "oui",
        f"{annee.exercice} - {annee.exercice + 1}",
    )
    assert (a["notificationUE"], a["dateMiseAJour"]) == ("non", jour.isoformat())

    # Le cofinanceur qui a refusé n'est pas un cofinanceur ; sans EJ, la clé de versement relie la ligne
    b = next(ligne for cle, ligne in etat.items() if cle != cofinancee)
    assert b["idSubvention"].startswith(refus + "-")
    assert (b["cofinancement"], b["attribuantsCofinanceurs"], b["idCofinancement"]) == ("non", "", "")
    assert (b["ej"], b["cléVersement"]) == ("", b["idSubvention"])
    assert (b["conditionsVersement"], b["rnaBeneficiaire"]) == ("autre", "")
    fin = db.session.get(Demande, annee.refus).date_fin
    assert b["datesPeriodeVersement"] == f"{jour.isoformat()}/{fin.isoformat()}"

    (c,) = commune
    assert (c["attribuantsCofinanceurs"], c["idCofinancement"], c["ej"]) == (
        "Préfecture du Nord (État – P147)",
        cofinancee,
        "VILLE-2027-001",
    )
    assert (c["conditionsVersement"], c["datesPeriodeVersement"]) == (
        "unique",
        (jour + timedelta(days=10)).isoformat(),
    )
    assert c["pourcentageSubvention"] == "0.1143"


def test_lecture_ensembliste_sans_requete_par_ligne(app, db, monde, annee):
    """Trois requêtes pour les lignes d'un financeur, qu'il en ait une ou plusieurs."""
    compte = []
    moteur = db.engine

    def compter(*_):
        compte.append(1)

    event.listen(moteur, "before_cursor_execute", compter)
    try:
        lignes = service.lignes_scdl(annee.exercice, monde.etat.id)
        etat = len(compte)
        compte.clear()
        service.lignes_scdl(annee.exercice, monde.commune.id)
    finally:
        event.remove(moteur, "before_cursor_execute", compter)
    assert len(lignes) == 2 and etat == len(compte) == 3


def test_un_financeur_sans_siret_est_refuse_en_une_phrase(app, client, db, monde, annee, tmp_path):
    monde.commune.siret = None
    db.session.commit()
    seul = publier(
        app, "--exercice", annee.exercice, "--financeur", monde.commune.id, "--sortie", tmp_path / "seul"
    )
    assert seul.code == 1 and seul.sortie == ""
    assert seul.erreur == (
        "« Ville de Lille » n’a pas de SIRET : renseignez-le (Administration, Organisations) avant de "
        "publier ses données.\n"
    )
    assert not (tmp_path / "seul").exists()
    assert db.session.scalar(select(PublicationDonneesOuvertes)) is None

    tous = publier(app, "--exercice", annee.exercice, "--sortie", tmp_path / "tous")
    assert tous.code == 1 and "Traceback" not in tous.erreur and tous.erreur.count("\n") == 1
    assert tous.erreur.startswith(f"Non publiés faute de SIRET : « Ville de Lille » (n° {monde.commune.id})")
    assert [p.name for p in (tmp_path / "tous").iterdir()] == [
        f"{SIRET_ETAT}_{annee.exercice}_subventions.csv"
    ]

    page = html(client.get("/donnees-ouvertes/"))
    assert "Données non publiables faute de SIRET" in page
    assert "Ville de Lille : 1 subvention engagée" in page


def test_refus_sans_rien_a_publier(app, db, monde, annee, tmp_path):
    vide = publier(app, "--exercice", annee.exercice + 5, "--sortie", tmp_path)
    assert (
        vide.code == 1
        and vide.erreur
        == f"Aucune subvention engagée pour l’exercice {annee.exercice + 5} : rien à publier.\n"
    )
    inconnue = publier(app, "--exercice", annee.exercice, "--financeur", 999999, "--sortie", tmp_path)
    assert inconnue.code == 1 and inconnue.erreur == "Aucune organisation n’a l’identifiant 999999.\n"
    assert list(tmp_path.iterdir()) == []


def test_page_publique_liste_les_fichiers_et_les_sert(app, client, db, monde, annee, tmp_path):
    vide = client.get("/donnees-ouvertes/")
    assert vide.status_code == 200 and "Aucun financeur n’a encore publié ses données." in html(vide)
    assert publier(app, "--exercice", annee.exercice, "--sortie", tmp_path).code == 0
    reponse = client.get("/donnees-ouvertes/")  # anonyme
    page = html(reponse)
    assert reponse.status_code == 200
    assert "<title>Données ouvertes : subventions attribuées en " in reponse.get_data(as_text=True)
    for attendu in (
        "Préfecture du Nord (État – P147)",
        "Ville de Lille",
        "175 900 018 00011",
        "SCDL « Subventions » 2.1.1",
    ):
        assert attendu in page.replace("\xa0", " ")
    nom = f"{SIRET_ETAT}_{annee.exercice}_subventions.csv"
    assert f'href="/donnees-ouvertes/{nom}"' in reponse.get_data(as_text=True)
    fichier = client.get(f"/donnees-ouvertes/{nom}")
    assert fichier.status_code == 200 and fichier.mimetype == "text/csv"
    assert fichier.data == (tmp_path / nom).read_bytes()
    assert client.get("/donnees-ouvertes/../../instance").status_code == 404
    assert client.get("/donnees-ouvertes/00000000000000_2026_subventions.csv").status_code == 404
    schema = client.get("/static/schemas/scdl-subventions-2.1.1.json")
    assert schema.status_code == 200 and json.loads(schema.data)["version"] == "2.1.1"
    assert 'href="/static/schemas/scdl-subventions-2.1.1.json"' in reponse.get_data(as_text=True)

    # Publier de nouveau remplace la publication (une par financeur et exercice), tracée chaque fois
    premiere = db.session.scalar(
        select(PublicationDonneesOuvertes).where(PublicationDonneesOuvertes.organisation_id == monde.etat.id)
    )
    assert (premiere.nb_lignes, premiere.taille) == (2, len(fichier.data))
    assert (
        publier(app, "--exercice", annee.exercice, "--financeur", monde.etat.id, "--sortie", tmp_path).code
        == 0
    )
    assert len(db.session.scalars(select(PublicationDonneesOuvertes)).all()) == 2
    traces = db.session.scalars(
        select(EvenementReferentiel).where(EvenementReferentiel.objet_type == "donnees_ouvertes")
    ).all()
    assert len(traces) == 3 and all(t.action == "publier" for t in traces)


def test_un_siret_change_remplace_le_fichier(app, client, db, monde, annee, tmp_path):
    assert (
        publier(app, "--exercice", annee.exercice, "--financeur", monde.etat.id, "--sortie", tmp_path).code
        == 0
    )
    ancien = f"{SIRET_ETAT}_{annee.exercice}_subventions.csv"
    nouveau_siret = "17590001800029"
    assert stdnum_siret.is_valid(nouveau_siret)
    monde.etat.siret = nouveau_siret
    db.session.commit()
    assert (
        publier(app, "--exercice", annee.exercice, "--financeur", monde.etat.id, "--sortie", tmp_path).code
        == 0
    )
    assert client.get(f"/donnees-ouvertes/{ancien}").status_code == 404
    assert (
        client.get(f"/donnees-ouvertes/{nouveau_siret}_{annee.exercice}_subventions.csv").status_code == 200
    )


# --- L'API sert les mêmes lignes -----------------------------------------------------------------------


def test_l_api_sert_les_lignes_du_fichier(app, client, db, monde, annee, tmp_path):
    url = f"/api/v1/donnees-ouvertes/subventions?exercice={annee.exercice}"
    assert client.get(url).status_code == 401
    jeton = creer(monde.instructeur_etat, monde.etat)  # lecture seule
    assert publier(app, "--exercice", annee.exercice, "--sortie", tmp_path).code == 0
    fichier = list(
        csv.DictReader(io.StringIO((tmp_path / f"{SIRET_ETAT}_{annee.exercice}_subventions.csv").read_text()))
    )

    reponse = client.get(url + f"&financeur={monde.etat.id}", headers=entetes(jeton))
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    corps = reponse.get_json()
    assert corps["schema_scdl"].endswith("/static/schemas/scdl-subventions-2.1.1.json")
    assert corps["suivant"] is None
    lignes = [
        {nom: "" if valeur is None else str(valeur) for nom, valeur in ligne.items()}
        for ligne in corps["subventions"]
    ]
    # Mêmes lignes, mêmes colonnes et mêmes valeurs (l'API les range par date de modification)
    cle = "idSubvention"
    assert sorted(lignes, key=lambda ligne: ligne[cle]) == sorted(fichier, key=lambda ligne: ligne[cle])
    assert set(corps["subventions"][0]) == set(service.champs())
    assert client.get("/api/v1/donnees-ouvertes/subventions", headers=entetes(jeton)).status_code == 400

    # Hors du périmètre de l'organisation (partenaire d'un autre contrat) : rien
    caf_autre = db.session.get(MembreOrganisation, _adhesion(db, monde.partenaire_autre_contrat)).organisation
    autre = creer(monde.admin_national, caf_autre, titulaire=monde.partenaire_autre_contrat)
    assert client.get(url, headers=entetes(autre)).get_json()["subventions"] == []

    monde.commune.siret = None
    db.session.commit()
    sans = client.get(url, headers=entetes(jeton)).get_json()
    assert sans["financeurs_sans_siret"] == [{"id": monde.commune.id, "nom": "Ville de Lille"}]
    assert {ligne["nomAttribuant"] for ligne in sans["subventions"]} == {"Préfecture du Nord (État – P147)"}


def test_l_api_se_parcourt_par_curseur_et_modifie_depuis(app, client, db, monde, annee):
    """Un partenaire parcourt les subventions de tous les financeurs page après page (3 lignes, 2 par
    page) : chacune une fois ; `modifie_depuis` ne rend que les lignes des demandes modifiées depuis."""
    jeton = creer(monde.instructeur_etat, monde.etat)
    url = "/api/v1/donnees-ouvertes/subventions"
    vus, suivant, pages = [], None, 0
    while True:
        reponse = client.get(
            url,
            query_string={"exercice": annee.exercice, "par_page": 2, "apres": suivant or ""},
            headers=entetes(jeton),
        )
        assert reponse.status_code == 200, reponse.get_data(as_text=True)
        corps = reponse.get_json()
        assert len(corps["subventions"]) <= 2
        vus += [ligne["idSubvention"] for ligne in corps["subventions"]]
        suivant, pages = corps["suivant"], pages + 1
        if suivant is None:
            break
    tout = service.lignes_scdl(annee.exercice)
    assert pages == 2 and sorted(vus) == sorted(ligne["idSubvention"] for ligne in tout) and len(vus) == 3

    # Le numéro d'engagement d'une ligne, saisi après coup : seule sa ligne a changé depuis.
    depuis = maintenant()
    ligne = _ligne(db.session.get(Demande, annee.refus), monde.etat)
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2109999999")
    recents = client.get(
        url,
        query_string={"exercice": annee.exercice, "modifie_depuis": depuis.isoformat()},
        headers=entetes(jeton),
    ).get_json()
    assert [(ligne["idSubvention"], ligne["ej"]) for ligne in recents["subventions"]] == [
        (f"{numeros(db, annee.refus)[0]}-{ligne.id}", "2109999999")
    ]
    assert recents["suivant"] is None

    mauvais = client.get(
        url, query_string={"exercice": annee.exercice, "apres": "pas-un-curseur"}, headers=entetes(jeton)
    )
    assert mauvais.status_code == 400
    assert "Curseur inconnu" in mauvais.get_json()["details"]["apres"][0]


def test_l_operation_est_decrite_dans_le_document_openapi(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/donnees-ouvertes/subventions"]["get"]
    assert operation["tags"] == ["Données ouvertes"] and operation["security"] == [{"jeton": ["lecture"]}]
    from dauphin.api import document_openapi

    ligne = document_openapi()["components"]["schemas"]["SubventionScdl"]  # avant le tri des clés du JSON
    assert list(ligne["properties"]) == list(service.champs())
    assert set(ligne["required"]) == {
        c["name"] for c in service.schema()["fields"] if c.get("constraints", {}).get("required")
    }
    assert ligne["properties"]["conditionsVersement"]["enum"] == ["unique", "échelonné", "autre"]
    assert "/api/v1/donnees-ouvertes/subventions" in client.get("/api/v1/documentation").get_data(
        as_text=True
    )


# --- Le SIRET d'un financeur, saisi par l'administration nationale -------------------------------------


def test_l_administration_saisit_le_siret_d_un_financeur(client, connexion, db, monde):
    connexion.en_tant_que(monde.admin_national)
    url = f"/administration/organisations/{monde.caf.id}/modifier"
    lue = champs(html(client.get(url)))
    assert lue["siret"] == ""
    reponse = client.post(url, data=lue | {"siret": "783 590 011 00013"})
    assert reponse.status_code == 422 and "n’est pas valide" in erreur_du_champ(reponse, "siret")
    assert champs(html(reponse))["siret"] == "783 590 011 00013"  # la saisie reste
    reponse = client.post(url, data=lue | {"siren": "245900410", "siret": "783 590 011 00012"})
    assert erreur_du_champ(reponse, "siret").startswith("Le SIRET commence par le SIREN de l’organisation")
    assert client.post(url, data=lue | {"siret": "783 590 011 00012"}).status_code == 302
    db.session.expire_all()
    caf = db.session.get(Organisation, monde.caf.id)
    assert (caf.siret, caf.siren) == ("78359001100012", "783590011")  # le SIREN tiré du SIRET
    trouvee = client.get("/administration/organisations?q=78359001100012")
    assert "CAF du Nord" in html(trouvee)
