"""La trace des lectures (issue 19, point 5) : chaque consultation d'un dossier et chaque téléchargement d'un
document ou d'un export par un compte d'organisation ou de l'administration — et par un jeton d'API — est
écrite (qui, en quelle qualité, quoi, quand, d'où) ; le porteur qui lit ses propres demandes ne l'est pas.
L'administration nationale la parcourt sous /administration/lectures ; l'administrateur d'une structure
voit « Qui a consulté ce dossier » pour ses seules demandes. La trace est purgée au-delà de sa durée.
"""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from redis import Redis
from rq.cron import CronScheduler
from sqlalchemy import event, func, select, text

import config
from dauphin import taches
from dauphin.models import Lecture, NatureLecture, TypePiece, maintenant
from dauphin.services import comites, documents, exports
from dauphin.services import lectures as service
from dauphin.services.workflow import aujourdhui, declencher_demande
from tests.fabriques_db import demande_complete
from tests.test_api import creer, entetes
from tests.test_documents import PDF, document_depose, joindre_et_transmettre
from tests.test_programmation import client_de

# --- Outils ----------------------------------------------------------------------------------------------


def transmise(monde, **options):
    demande = demande_complete(monde, **options)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    return declencher_demande(demande.id, "attester", monde.signataire, attestation=True)


def lectures(db, **criteres) -> list[Lecture]:
    db.session.expire_all()
    return list(db.session.scalars(select(Lecture).filter_by(**criteres).order_by(Lecture.id)))


def html(reponse) -> str:
    return reponse.get_data(as_text=True)


def texte(reponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html(reponse)).split())


def lignes_du_tableau(reponse) -> int:
    return html(reponse).count("data-lecture=")


# --- Ce qui est tracé -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qui", "role", "organisation"),
    [
        ("instructeur_etat", "instructeur", "etat"),
        ("instructeur_commune", "instructeur", "commune"),
        ("partenaire_caf", "partenaire", "caf"),
        ("pilote", "pilote", "etat"),  # il pilote le contrat au nom de la préfecture
        ("admin_national", "administrateur_national", None),
    ],
)
def test_la_consultation_d_un_dossier_est_tracee_avec_la_qualite(
    client, connexion, db, monde, qui, role, organisation
):
    demande = transmise(monde)
    connexion.en_tant_que(getattr(monde, qui))
    avant = maintenant()
    assert client.get(f"/dossiers/{demande.id}").status_code == 200
    (lecture,) = lectures(db, demande_id=demande.id)
    assert lecture.nature == NatureLecture.dossier
    assert lecture.utilisateur_id == getattr(monde, qui).id and lecture.jeton_id is None
    assert lecture.role == role
    assert lecture.organisation_id == (getattr(monde, organisation).id if organisation else None)
    assert lecture.structure_id == monde.structure.id and lecture.document_id is None
    assert lecture.adresse_ip == "127.0.0.1"
    assert avant <= lecture.horodatage <= maintenant()
    assert client.get(f"/dossiers/{demande.id}").status_code == 200
    assert len(lectures(db, demande_id=demande.id)) == 2  # chaque consultation


def test_le_porteur_qui_lit_ses_demandes_n_est_pas_trace(client, connexion, db, monde):
    demande = transmise(monde)
    for qui in ("contributeur", "signataire", "administrateur"):
        connexion.en_tant_que(getattr(monde, qui))
        assert client.get(f"/dossiers/{demande.id}").status_code == 200
        connexion.deconnexion()
    # Ni un refus : qui ne voit pas le dossier ne l'a pas lu.
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.get(f"/dossiers/{demande.id}").status_code == 404
    assert lectures(db) == []


def test_une_seule_insertion_de_plus_a_la_fin_de_la_page(app, client, connexion, db, monde):
    """La trace coûte une instruction INSERT, la dernière de la requête (dans la transaction de la page)."""
    demande = transmise(monde)
    connexion.en_tant_que(monde.instructeur_etat)
    client.get(f"/dossiers/{demande.id}")  # caches remplis
    ordres = []

    def noter(conn, curseur, ordre, *args):
        ordres.append(ordre)

    event.listen(db.engine, "before_cursor_execute", noter)
    try:
        assert client.get(f"/dossiers/{demande.id}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", noter)
    # (Les points de sauvegarde sont ceux de l'isolation des tests : le commit de la page en libère un.)
    ordres = [o for o in ordres if not o.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    insertions = [o for o in ordres if o.lstrip().upper().startswith("INSERT")]
    assert len(insertions) == 1 and "INSERT INTO lecture" in insertions[0]
    assert ordres[-1] == insertions[0]


def test_telechargement_d_une_piece_hors_de_la_structure(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    demande = joindre_et_transmettre(db, monde, document)
    url = f"/documents/{document.id}/telecharger"
    # Un membre télécharge son propre document : rien.
    connexion.en_tant_que(monde.contributeur)
    assert client.get(url).status_code == 200
    connexion.deconnexion()
    assert lectures(db) == []
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get(url)
    assert reponse.status_code == 200 and reponse.data == PDF
    (lecture,) = lectures(db)
    assert lecture.nature == NatureLecture.document and lecture.document_id == document.id
    assert lecture.demande_id == demande.id and lecture.structure_id == monde.structure.id
    assert (lecture.role, lecture.organisation_id) == ("instructeur", monde.etat.id)
    assert lecture.objet == document.nom_fichier


def test_piece_de_plusieurs_dossiers_lue_au_titre_de_celui_dont_la_page_offrait_le_lien(
    client, connexion, db, monde
):
    document = document_depose(client, connexion, db, monde)
    premier = joindre_et_transmettre(db, monde, document)
    second = joindre_et_transmettre(db, monde, document)
    connexion.en_tant_que(monde.partenaire_caf)
    page = html(client.get(f"/dossiers/{second.id}"))
    lien = f"/documents/{document.id}/telecharger?dossier={second.id}"
    assert lien in page
    assert client.get(lien).status_code == 200
    assert client.get(f"/documents/{document.id}/telecharger?dossier={premier.id}").status_code == 200
    # Une demande sans rapport avec le document (ou invisible) : celle où il est joint, la première.
    autre = transmise(monde, intitule="Sans cette pièce")
    assert client.get(f"/documents/{document.id}/telecharger?dossier={autre.id}").status_code == 200
    telechargements = lectures(db, nature=NatureLecture.document)
    assert [lu.demande_id for lu in telechargements] == [second.id, premier.id, premier.id]
    assert {lu.role for lu in telechargements} == {"partenaire"}


def test_un_telechargement_refuse_ou_introuvable_ne_laisse_pas_de_trace(client, connexion, db, monde):
    demande = transmise(monde)  # la fabrique joint un document sans fichier sur le disque
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get(f"/documents/{demande.pieces_jointes[0].document_id}/telecharger").status_code == 404
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.get(f"/documents/{demande.pieces_jointes[0].document_id}/telecharger").status_code == 404
    assert lectures(db) == []


def test_recepisse_et_acte_propres_au_dossier(client, connexion, db, monde):
    demande = transmise(monde)
    acte = documents.stocker(
        monde.structure,
        TypePiece.notification,
        "notification.pdf",
        PDF,
        "application/pdf",
        demande_id=demande.id,
    )
    db.session.commit()
    connexion.en_tant_que(monde.admin_national)
    assert client.get(f"/documents/{acte.id}/telecharger").status_code == 200
    (lecture,) = lectures(db)
    assert (lecture.demande_id, lecture.document_id, lecture.role) == (
        demande.id,
        acte.id,
        "administrateur_national",
    )


def test_exports_de_la_programmation_avec_campagne_format_et_filtres(app, db, monde):
    transmise(monde)
    pilote = client_de(app, monde.pilote)
    assert (
        pilote.get(f"/pilotage/programmation/{monde.campagne.id}/export.csv?statut=transmise").status_code
        == 200
    )
    assert pilote.get(f"/pilotage/programmation/{monde.campagne.id}/export.xlsx").status_code == 200
    instructeur = client_de(app, monde.instructeur_commune)  # membre d'une organisation signataire
    assert instructeur.get(f"/pilotage/programmation/{monde.campagne.id}/export.csv").status_code == 200
    csv_pilote, xlsx_pilote, csv_commune = lectures(db, nature=NatureLecture.export)
    assert csv_pilote.parametres == {"campagne": monde.campagne.id, "format": "csv", "statut": "transmise"}
    assert xlsx_pilote.parametres == {"campagne": monde.campagne.id, "format": "xlsx"}
    assert (csv_pilote.role, csv_pilote.organisation_id) == ("pilote", monde.etat.id)
    assert (csv_commune.role, csv_commune.organisation_id) == ("partenaire", monde.commune.id)
    assert "CV-TEST-1" in csv_pilote.objet and "(CSV)" in csv_pilote.objet
    assert all(lu.demande_id is None and lu.structure_id is None for lu in (csv_pilote, csv_commune))
    # Un export refusé (pas signataire du contrat) : rien.
    autre = client_de(app, monde.partenaire_autre_contrat)
    assert autre.get(f"/pilotage/programmation/{monde.campagne.id}/export.csv").status_code == 403
    assert len(lectures(db, nature=NatureLecture.export)) == 3


def test_export_national_et_proces_verbal(app, client, connexion, db, monde):
    transmise(monde)
    nom = exports.demander_export_national(monde.campagne.exercice, "csv")
    seance = comites.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    seance.pv_cle_stockage = documents.ranger(PDF)
    db.session.commit()
    connexion.en_tant_que(monde.admin_national)
    assert client.get(f"/administration/exports/{nom}").status_code == 200
    assert client.get(f"/comites/{seance.id}/proces-verbal.pdf").status_code == 200
    export, pv = lectures(db)
    assert (export.nature, export.role, export.organisation_id) == (
        NatureLecture.export,
        "administrateur_national",
        None,
    )
    assert export.parametres == {"fichier": nom, "exercice": monde.campagne.exercice, "format": "csv"}
    assert pv.nature == NatureLecture.document and pv.parametres == {"seance": seance.id}
    assert pv.objet.startswith("Procès-verbal du comité de pilotage du ")


def test_lectures_par_l_api_au_nom_du_jeton_et_de_son_organisation(client, db, monde):
    demande = transmise(monde)
    clair = creer(monde.admin_national, monde.caf, titulaire=monde.partenaire_caf)
    assert client.get(f"/api/v1/demandes/{demande.id}", headers=entetes(clair)).status_code == 200
    assert (
        client.get(f"/api/v1/campagnes/{monde.campagne.id}/programmation", headers=entetes(clair)).status_code
        == 200
    )
    # La liste des demandes n'est pas la lecture d'un dossier ; un refus n'est pas une lecture.
    assert client.get("/api/v1/demandes", headers=entetes(clair)).status_code == 200
    assert client.get("/api/v1/demandes/999999", headers=entetes(clair)).status_code == 404
    dossier, programmation = lectures(db)
    assert dossier.jeton_id is not None and dossier.jeton.libelle == "Logiciel de gestion"
    assert dossier.utilisateur_id == monde.partenaire_caf.id  # le titulaire du jeton
    assert (dossier.nature, dossier.role, dossier.organisation_id) == (
        NatureLecture.dossier,
        "partenaire",
        monde.caf.id,
    )
    assert programmation.nature == NatureLecture.export and programmation.jeton_id == dossier.jeton_id
    assert programmation.parametres == {"campagne": monde.campagne.id, "par_page": 50}


# --- Qui a consulté ce dossier (l'administrateur de la structure) -----------------------------------------


def test_qui_a_consulte_ce_dossier_pour_l_administrateur_de_la_structure(app, client, connexion, db, monde):
    demande = transmise(monde)
    for qui in ("instructeur_etat", "pilote"):
        client_de(app, getattr(monde, qui)).get(f"/dossiers/{demande.id}")
    clair = creer(monde.admin_national, monde.caf, titulaire=monde.partenaire_caf)
    client.get(f"/api/v1/demandes/{demande.id}", headers=entetes(clair))

    client_admin = client_de(app, monde.administrateur)
    dossier = html(client_admin.get(f"/dossiers/{demande.id}"))
    assert f"/dossiers/{demande.id}/consultations" in dossier and "Qui a consulté ce dossier" in dossier
    reponse = client_admin.get(f"/dossiers/{demande.id}/consultations")
    assert reponse.status_code == 200
    page = texte(reponse)
    assert lignes_du_tableau(reponse) == 3
    assert f"{monde.instructeur_etat.nom_complet} Instructeur Préfecture du Nord (État – P147)" in page
    assert f"{monde.pilote.nom_complet} Pilote Préfecture du Nord" in page
    assert f"Jeton d’API « Logiciel de gestion » au nom de {monde.partenaire_caf.nom_complet}" in page
    # Ni adresse IP ni adresse électronique des agents pour la structure : la liste nationale seule.
    assert "127.0.0.1" not in page and monde.instructeur_etat.email not in page
    assert "Consultation du dossier" in page


@pytest.mark.parametrize(
    ("qui", "code"),
    [
        ("contributeur", 403),
        ("signataire", 403),
        ("instructeur_etat", 403),
        ("pilote", 403),
        ("signataire_autre", 404),  # administrateur d'une autre structure : le dossier n'existe pas pour lui
        ("partenaire_autre_contrat", 404),
        ("admin_national", 200),
    ],
)
def test_qui_a_consulte_ce_dossier_reserve(app, db, monde, qui, code):
    demande = transmise(monde)
    autre = client_de(app, getattr(monde, qui))
    assert autre.get(f"/dossiers/{demande.id}/consultations").status_code == code
    lien = f"/dossiers/{demande.id}/consultations" in html(autre.get(f"/dossiers/{demande.id}"))
    assert lien == (code == 200)


def test_l_administrateur_ne_voit_que_les_lectures_de_ses_demandes(app, db, monde):
    """La règle sous sa forme SQL : les lectures d'une autre structure n'apparaissent pas."""
    notre = transmise(monde)
    voisine = demande_complete(monde, structure=monde.autre_structure, intitule="Demande voisine")
    instructeur = client_de(app, monde.instructeur_etat)
    instructeur.get(f"/dossiers/{notre.id}")
    instructeur.get(f"/dossiers/{notre.id}")
    service.ecrire(
        service.Lu(
            NatureLecture.dossier,
            "instructeur",
            "Dossier voisin",
            monde.instructeur_etat.id,
            demande_id=voisine.id,
            structure_id=monde.autre_structure.id,
        ),
        None,
    )
    db.session.commit()
    page = service.page_lectures(monde.administrateur, service.FiltresLectures(), 1, 25)
    assert [lu.demande_id for lu in page.items] == [notre.id, notre.id]
    page = service.page_lectures(monde.signataire_autre, service.FiltresLectures(), 1, 25)
    assert [lu.demande_id for lu in page.items] == [voisine.id]
    assert service.page_lectures(monde.instructeur_etat, service.FiltresLectures(), 1, 25).items == []
    assert service.page_lectures(monde.contributeur, service.FiltresLectures(), 1, 25).items == []
    assert len(service.page_lectures(monde.admin_national, service.FiltresLectures(), 1, 25).items) == 3


def test_consultations_paginees(app, db, monde):
    demande = transmise(monde)
    lu = service.lecture_du_dossier(monde.instructeur_etat, demande)
    for minute in range(27):
        service.ecrire(lu, "192.0.2.1", maintenant() - timedelta(minutes=minute))
    db.session.commit()
    client = client_de(app, monde.administrateur)
    premiere = client.get(f"/dossiers/{demande.id}/consultations")
    assert lignes_du_tableau(premiere) == 25 and "27, page 1 sur 2" in texte(premiere)
    seconde = client.get(f"/dossiers/{demande.id}/consultations?page=2")
    assert lignes_du_tableau(seconde) == 2


# --- La liste nationale ----------------------------------------------------------------------------------


@pytest.fixture
def trace(app, db, monde):
    """Des lectures de deux dossiers par plusieurs comptes, sur plusieurs jours."""
    premier = transmise(monde)
    second = transmise(monde, intitule="Second dossier")
    instant = maintenant()
    for jours, qui, demande in (
        (0, monde.instructeur_etat, premier),
        (1, monde.partenaire_caf, premier),
        (10, monde.instructeur_etat, second),
        (40, monde.pilote, second),
    ):
        service.ecrire(service.lecture_du_dossier(qui, demande), "192.0.2.7", instant - timedelta(days=jours))
    db.session.commit()
    return premier, second


def test_liste_nationale_filtres_compte_dossier_periode(app, db, monde, trace):
    premier, second = trace
    client = client_de(app, monde.admin_national)
    reponse = client.get("/administration/lectures")
    assert reponse.status_code == 200 and lignes_du_tableau(reponse) == 4
    page = texte(reponse)
    assert monde.instructeur_etat.email in page and "192.0.2.7" in page and premier.numero in page
    assert "Trace des lectures" in html(client.get("/administration/"))  # le menu de l'administration

    assert lignes_du_tableau(client.get("/administration/lectures?compte=instructeur.ETAT")) == 2
    assert lignes_du_tableau(client.get(f"/administration/lectures?dossier={second.numero}")) == 2
    filtre = client.get(f"/administration/lectures?dossier={second.numero}&compte=pilote")
    assert lignes_du_tableau(filtre) == 1 and "(filtrée)" in html(filtre)
    debut = (aujourdhui() - timedelta(days=11)).isoformat()
    fin = (aujourdhui() - timedelta(days=1)).strftime("%d/%m/%Y")
    assert lignes_du_tableau(client.get(f"/administration/lectures?du={debut}&au={fin}")) == 2
    assert lignes_du_tableau(client.get("/administration/lectures?dossier=2099-999999")) == 0
    assert "Aucune lecture pour ces filtres." in texte(client.get("/administration/lectures?compte=personne"))


def test_liste_nationale_filtre_par_le_nom_d_un_jeton(app, client, db, monde):
    """Le nom d'un jeton retrouve ses lectures, pas celles que son titulaire fait à l'écran ; l'adresse du
    titulaire retrouve les deux."""
    demande = transmise(monde)
    clair = creer(monde.admin_national, monde.caf, titulaire=monde.partenaire_caf)
    client.get(f"/api/v1/demandes/{demande.id}", headers=entetes(clair))
    client_de(app, monde.partenaire_caf).get(f"/dossiers/{demande.id}")
    admin = client_de(app, monde.admin_national)
    par_jeton = admin.get("/administration/lectures?compte=logiciel de GESTION")
    assert lignes_du_tableau(par_jeton) == 1 and "Jeton d’API « Logiciel de gestion »" in texte(par_jeton)
    assert lignes_du_tableau(admin.get("/administration/lectures?compte=partenaire.caf")) == 2


def test_liste_nationale_saisie_refusee_a_cote_du_champ(app, db, monde, trace):
    client = client_de(app, monde.admin_national)
    reponse = client.get("/administration/lectures?du=31/02/2026&compte=instructeur.etat")
    page = html(reponse)
    assert reponse.status_code == 200 and "<title>Erreur : " in page
    assert 'id="du-erreur"' in page and 'aria-invalid="true"' in page
    assert 'value="instructeur.etat"' in page  # rien de ce qui a été tapé n'est perdu
    assert lignes_du_tableau(reponse) == 2  # les autres filtres s'appliquent
    fin_avant_debut = html(client.get("/administration/lectures?du=2026-05-10&au=2026-05-01"))
    assert "La fin de la période doit suivre son début." in fin_avant_debut
    trop_long = html(client.get("/administration/lectures?dossier=" + "9" * 30))
    assert "Un numéro de dossier compte 20 caractères au plus." in trop_long


def test_liste_nationale_reservee(app, db, monde, trace):
    for qui in ("administrateur", "instructeur_etat", "pilote"):
        assert client_de(app, getattr(monde, qui)).get("/administration/lectures").status_code == 403


def test_decompte_borne_de_la_liste_nationale(app, db, monde, trace, monkeypatch):
    monkeypatch.setattr(service, "PLAFOND_DECOMPTE", 3)
    monkeypatch.setitem(app.config, "PAGE_TAILLE", 3)
    client = client_de(app, monde.admin_national)
    reponse = client.get("/administration/lectures")
    assert "plus de 3" in texte(reponse) and 'id="decompte-tronque"' in html(reponse)
    assert lignes_du_tableau(reponse) == 3
    assert 'id="decompte-tronque"' not in html(client.get("/administration/lectures?compte=pilote"))


# --- Purge et configuration ------------------------------------------------------------------------------


def test_purge_par_la_commande_au_dela_de_la_duree(app, db, monde, trace):
    resultat = app.test_cli_runner().invoke(args=["lectures", "purger"])
    assert resultat.exit_code == 0, resultat.output
    assert "0 lecture(s) de plus de 365 jours effacée(s)." in resultat.output
    resultat = app.test_cli_runner().invoke(args=["lectures", "purger", "--jours", "5"])
    assert "2 lecture(s) de plus de 5 jours effacée(s)." in resultat.output
    assert sorted((maintenant() - lu.horodatage).days for lu in lectures(db)) == [0, 1]
    assert app.test_cli_runner().invoke(args=["lectures", "purger", "--jours", "0"]).exit_code == 2


def test_purge_par_lots_et_par_la_tache_planifiee(app, db, monde, trace, monkeypatch):
    monkeypatch.setitem(app.config, "DUREE_TRACE_LECTURES_JOURS", 1)
    assert service.purger(lot=1) == 3  # trois lots validés un à un, puis un lot vide
    assert len(lectures(db)) == 1
    monkeypatch.setitem(app.config, "DUREE_TRACE_LECTURES_JOURS", 365)
    assert taches.purger_lectures() == 0


def test_la_purge_est_planifiee_chaque_nuit():
    planificateur = CronScheduler(connection=Redis())  # aucune connexion n'est ouverte pour lire la liste
    planificateur.load_config_from_file("dauphin.planification")
    purges = [t for t in planificateur._cron_jobs if t.func_name == "dauphin.taches.purger_lectures"]
    assert [t.cron for t in purges] == ["17 3 * * *"]


def test_duree_de_conservation_configurable(monkeypatch):
    monkeypatch.setenv("DAUPHIN_READ_TRACE_DAYS", "30")
    assert config.TestConfig().DUREE_TRACE_LECTURES_JOURS == 30
    monkeypatch.setenv("DAUPHIN_READ_TRACE_DAYS", "0")
    with pytest.raises(config.ConfigurationInvalide, match="DAUPHIN_READ_TRACE_DAYS"):
        config.TestConfig()
    monkeypatch.delenv("DAUPHIN_READ_TRACE_DAYS")
    assert config.TestConfig().DUREE_TRACE_LECTURES_JOURS == 365


def test_separee_du_journal_des_transitions(client, connexion, db, monde):
    """Lire n'écrit rien au journal chaîné (ni ne le rompt) : la trace est une table à part."""
    from dauphin.models import EvenementJournal
    from dauphin.services.empreintes import verifier

    demande = transmise(monde)
    avant = db.session.scalar(select(func.count()).select_from(EvenementJournal))
    connexion.en_tant_que(monde.instructeur_etat)
    client.get(f"/dossiers/{demande.id}")
    assert db.session.scalar(select(func.count()).select_from(EvenementJournal)) == avant
    assert len(lectures(db)) == 1
    assert all(isinstance(r, int) for r in verifier())


def test_dossier_que_personne_n_a_encore_lu(app, db, monde):
    demande = transmise(monde)
    page = client_de(app, monde.admin_national).get(f"/dossiers/{demande.id}/consultations")
    assert "Personne hors de la structure n’a encore consulté ce dossier." in texte(page)
    assert lignes_du_tableau(page) == 0


def _renommer(db, avant: str, apres: str) -> None:
    db.session.remove()  # aucune transaction de la session ne garde la table
    with db.engine.begin() as connexion:
        connexion.execute(text(f"ALTER TABLE {avant} RENAME TO {apres}"))


@pytest.mark.transactions_reelles
def test_rien_n_est_servi_sans_sa_trace(client, connexion, db, monde):
    """La trace ne peut pas être écrite (sa table a disparu, pour de bon) : ni la page ni le fichier ne sont
    servis — la page d'erreur 500 de l'application à leur place, l'erreur journalisée ; le porteur, qui
    n'est pas tracé, lit toujours."""
    document = document_depose(client, connexion, db, monde)
    demande = joindre_et_transmettre(db, monde, document)
    demande_id, intitule, document_id = demande.id, demande.intitule, document.id
    instructeur, signataire = (
        SimpleNamespace(email=c.email) for c in (monde.instructeur_etat, monde.signataire)
    )
    _renommer(db, "lecture", "lecture_disparue")
    try:
        connexion.en_tant_que(instructeur)
        page = client.get(f"/dossiers/{demande_id}")
        assert page.status_code == 500 and intitule not in html(page)
        assert "<title>" in html(page) and "Erreur" in html(page)  # la page de l'application, en français
        fichier = client.get(f"/documents/{document_id}/telecharger")
        assert fichier.status_code == 500 and fichier.data != PDF
        connexion.deconnexion()
        connexion.en_tant_que(signataire)
        assert client.get(f"/dossiers/{demande_id}").status_code == 200
    finally:
        _renommer(db, "lecture_disparue", "lecture")
