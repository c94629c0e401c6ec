"""Instruction : l'espace de travail (onglets, filtres, recherche, tri, pagination en SQL), les actions sur
une ligne et sur le dossier par le client de test, les notes partagées et privées, les enveloppes, les
droits (un financeur n'agit que sur sa ligne, un partenaire ne voit que ses contrats) et les conflits.
Sur SQLite et sur PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dauphin.connexions import _lecture
from dauphin.models import (
    Campagne,
    Courriel,
    Demande,
    EvenementJournal,
    LigneFinancement,
    MembreOrganisation,
    Note,
    RoleOrganisation,
    maintenant,
)
from dauphin.services import empreintes
from dauphin.services import instruction as service
from dauphin.services.erreurs import Conflit, NonAutorise
from dauphin.services.workflow import declencher_demande, declencher_ligne
from tests.clients import ClientIsole
from tests.conftest import Connexion
from tests.fabriques_db import demande_complete, utilisateur
from tests.formulaires_html import html, titre
from tests.requetes import Compteur, ordres_des_pages
from workflows import StatutDemande as D
from workflows import StatutLigne as L

# --- Outils -------------------------------------------------------------------------------------


def numeros(reponse) -> list[str]:
    """Les numéros des demandes listées, dans l'ordre du tableau."""
    return re.findall(r'<tr data-demande="([^"]+)"', html(reponse))


def comptes(reponse) -> dict[str, int]:
    trouves = re.findall(
        r'data-onglet="(\w+)">[^<]*<span class="dauphin-onglets__compte">(\d+)</span>', html(reponse)
    )
    return {onglet: int(nombre) for onglet, nombre in trouves}


def onglet_courant(reponse) -> str:
    return re.search(r'aria-current="page" data-onglet="(\w+)"', html(reponse)).group(1)


def transmettre(monde, demande) -> Demande:
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    return declencher_demande(demande.id, "attester", monde.signataire, attestation=True)


def ligne_de(db, demande_id: int, organisation) -> LigneFinancement:
    db.session.expire_all()
    return db.session.scalar(
        select(LigneFinancement).where(
            LigneFinancement.demande_id == demande_id, LigneFinancement.organisation_id == organisation.id
        )
    )


def champs(prefixe: str, **valeurs) -> dict:
    return {f"{prefixe}-{nom}": valeur for nom, valeur in valeurs.items()}


# Hors de la série des vrais dépôts : le service numérote à partir de 1 (fixture `transmise`) ; à partir de 1
# ici aussi, le premier dossier posé par un processus de test prenait le numéro de la demande transmise.
_numeros = itertools.count(900_001)


def dossier(
    db,
    monde,
    intitule: str,
    lignes: dict,
    *,
    statut: D = D.transmise,
    structure=None,
    campagne=None,
    thematique: str = "1.5",
    qpv: bool = True,
    jours: int = 0,
    transmis: bool | None = None,
) -> Demande:
    """Un dossier posé directement en base dans l'état voulu (pour les listes) : `lignes` associe une
    organisation à (statut de sa ligne, montant demandé)."""
    campagne = campagne or monde.campagne
    transmis = statut not in (D.brouillon, D.attente_attestation) if transmis is None else transmis
    demande = Demande(
        structure_id=(structure or monde.structure).id,
        campagne_id=campagne.id,
        exercice=campagne.exercice,
        statut=statut,
        numero=f"{campagne.exercice}-{next(_numeros):06d}" if transmis else None,
        transmise_le=maintenant() - timedelta(days=jours) if transmis else None,
        intitule=intitule,
        thematique_code=thematique,
    )
    if qpv:
        demande.qpvs = [monde.qpv]
    demande.lignes_financement = [
        LigneFinancement(
            organisation_id=organisation.id, statut=statut_ligne, montant_demande=Decimal(montant)
        )
        for organisation, (statut_ligne, montant) in lignes.items()
    ]
    db.session.add(demande)
    db.session.commit()
    return demande


def campagne_autre_contrat(db, monde, exercice: int) -> Campagne:
    campagne = Campagne(
        contrat_id=monde.autre_contrat.id,
        exercice=exercice,
        libelle="Appel à projets du Gard",
        date_ouverture=date(exercice - 1, 9, 1),
        date_cloture=date(exercice - 1, 12, 31),
    )
    db.session.add(campagne)
    db.session.commit()
    return campagne


@pytest.fixture
def portefeuille(db, monde):
    """Des dossiers dans chaque onglet du financeur État, un dossier de la seule commune, un brouillon et
    un dossier d'un autre contrat de ville (exercice précédent)."""
    autre = campagne_autre_contrat(db, monde, monde.campagne.exercice - 1)

    def poser(intitule, lignes, **champs):
        return dossier(db, monde, intitule, lignes, **champs)

    d = {
        "a": poser("Jardins partagés", {monde.etat: (L.sollicitee, "6000")}, jours=1),
        "b": poser(
            "Soutien SCOLAIRE du soir",
            {monde.etat: (L.prise_en_charge, "2000"), monde.commune: (L.sollicitee, "500")},
            statut=D.en_instruction,
            structure=monde.autre_structure,
            thematique="1.1",
            qpv=False,
            jours=3,
        ),
        "c": poser("Fête de quartier", {monde.etat: (L.recevable, "3000")}, statut=D.en_instruction, jours=5),
        "d": poser("Atelier vélo", {monde.etat: (L.prise_en_charge, "1500")}, statut=D.a_completer, jours=7),
        "e": poser(
            "Chantier jeunes",
            {monde.etat: (L.abandonnee, "800")},
            statut=D.classee_sans_suite,
            thematique="2.1",
            jours=9,
        ),
        "f": poser("Commune seule", {monde.commune: (L.sollicitee, "900")}, jours=11),
        "g": poser("Brouillon discret", {}, statut=D.brouillon),
        "r": poser("Retirée avant transmission", {}, statut=D.retiree, transmis=False),
        "h": poser("Action gardoise", {monde.etat: (L.votee, "700")}, statut=D.attribuee, campagne=autre),
    }
    ligne_c = d["c"].lignes_financement[0]
    ligne_c.gestionnaire_id = monde.instructeur_etat.id
    db.session.commit()
    return d


# --- Espace de travail : onglets, comptes, filtres, recherche, tri ------------------------------


def test_onglets_du_financeur_et_leurs_comptes(client, connexion, monde, portefeuille):
    p = portefeuille
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get("/instruction/")
    assert reponse.status_code == 200
    assert comptes(reponse) == {"a_traiter": 2, "suivies": 3, "terminees": 1}
    assert onglet_courant(reponse) == "a_traiter"
    assert numeros(reponse) == [p["a"].numero, p["b"].numero]  # transmise le plus récemment d'abord
    assert "6\u202f000,00\xa0€" in html(reponse)  # le montant demandé à l'État
    assert "Brouillon discret" not in html(reponse) and "Commune seule" not in html(reponse)

    suivies = client.get("/instruction/?onglet=suivies")
    # recevable ; « à compléter » (la main est au porteur) ; votée dans un autre contrat
    assert numeros(suivies) == [p["h"].numero, p["c"].numero, p["d"].numero]
    assert "Prénom instructeur.etat" in html(suivies)  # le gestionnaire de la ligne
    assert numeros(client.get("/instruction/?onglet=terminees")) == [p["e"].numero]

    titres = {titre(client.get(f"/instruction/?onglet={o}")) for o in service.ONGLETS}
    assert len(titres) == 3  # un titre par page


def test_conditions_des_onglets_partagent_exactement_les_lignes(db, monde):
    """Chaque combinaison (statut de ligne, statut de dossier) tombe dans un et un seul onglet."""
    for statut_ligne in L:
        for statut_dossier in D:
            if statut_dossier in service.NON_TRANSMIS:
                continue
            dossier(
                db,
                monde,
                f"{statut_ligne}/{statut_dossier}",
                {monde.etat: (statut_ligne, "100")},
                statut=statut_dossier,
            )
    espace = next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")
    total = sum(service.compter_par_onglet(espace, service.Filtres()).values())
    assert total == len(L) * (len(D) - 2)
    vus = []
    comptes_rapides = service.compter_par_onglet(espace, service.Filtres())
    filtre_dossier = service.Filtres(contrat_id=monde.contrat.id)  # même compte par la jointure complète
    assert service.compter_par_onglet(espace, filtre_dossier) == comptes_rapides
    for onglet in service.ONGLETS:
        page = service.page_demandes(espace, service.Filtres(), onglet, 10_000, par_page=10_000)
        assert len(page.items) == comptes_rapides[onglet], onglet
        vus += [d.id for d in page.items]
    assert len(vus) == len(set(vus)) == total
    # La recherche et le filtre par structure se lisent sur les lignes du financeur (décompte en un
    # parcours) : mêmes comptes que par la jointure complète avec la demande.
    for filtres in (
        service.Filtres(recherche="non_recevable"),  # intitulés « statut_ligne/statut_dossier »
        service.Filtres(recherche=monde.structure.raison_sociale[:8].upper()),
        service.Filtres(structure_id=monde.structure.id),
        service.Filtres(exercice=monde.campagne.exercice),  # recopié sur la ligne
        service.Filtres(exercice=monde.campagne.exercice, recherche="association"),
    ):
        rapides = service.compter_par_onglet(espace, filtres)
        assert sum(rapides.values()) > 0, filtres
        filtres.contrat_id = monde.contrat.id
        assert service.compter_par_onglet(espace, filtres) == rapides, filtres

    # Les contrats (partenaire, pilote) : compte rapide sur l'index de la demande, ou par la jointure
    dossier(db, monde, "Retirée avant transmission", {}, statut=D.retiree, transmis=False)
    contrats = next(e for e in service.espaces(monde.partenaire_caf) if e.mode == "contrats")
    rapide = service.compter_par_onglet(contrats, service.Filtres())
    assert rapide == service.compter_par_onglet(contrats, service.Filtres(qpv_id=monde.qpv.id))
    assert sum(rapide.values()) == total
    for onglet in service.ONGLETS:
        page = service.page_demandes(contrats, service.Filtres(), onglet, 10_000, par_page=10_000)
        assert len(page.items) == rapide[onglet], onglet


@pytest.mark.parametrize(
    ("parametres", "attendus", "onglet"),
    [
        ("statut=prise_en_charge", ["b"], "a_traiter"),  # statut de la ligne de l'organisation
        ("statut=prise_en_charge&onglet=suivies", ["d"], "suivies"),
        ("statut=en_instruction", ["b"], "a_traiter"),  # statut du dossier
        ("statut=en_instruction&onglet=suivies", ["c"], "suivies"),
        ("thematique=1.1", ["b"], "a_traiter"),
        ("thematique=1", ["a", "b"], "a_traiter"),  # un pilier comprend ses sous-thèmes
        ("thematique=2&onglet=terminees", ["e"], "terminees"),
        ("qpv={qpv}", ["a"], "a_traiter"),
        ("structure={autre_structure}", ["b"], "a_traiter"),
        ("q=scolaire", ["b"], "a_traiter"),  # intitulé, sans tenir compte de la casse
        ("q=VOISINE", ["b"], "a_traiter"),  # nom de la structure
        ("q={numero_c}", ["c"], "suivies"),  # numéro : la recherche ouvre l'onglet où il se trouve
        ("q={fin_numero_c}", ["c"], "suivies"),  # une partie du numéro
        ("q=%25%25%25", [], "a_traiter"),  # un % tapé est cherché tel quel, pas comme joker
        ("contrat={contrat}&onglet=suivies", ["c", "d"], "suivies"),
        ("exercice={exercice_precedent}", ["h"], "suivies"),
        ("gestionnaire=moi", ["c"], "suivies"),
        ("tri=numero&ordre=asc", ["a", "b"], "a_traiter"),
        ("tri=numero&ordre=desc", ["b", "a"], "a_traiter"),
        ("tri=montant&ordre=asc", ["b", "a"], "a_traiter"),
        ("tri=montant&ordre=desc", ["a", "b"], "a_traiter"),
        ("tri=structure&ordre=asc", ["a", "b"], "a_traiter"),  # Association des Jardins < Association Voisine
        ("tri=structure&ordre=desc", ["b", "a"], "a_traiter"),
        ("tri=transmise&ordre=asc", ["b", "a"], "a_traiter"),
        ("exercice=abc&contrat=999999&statut=inconnu&tri=rien&thematique=9.9", ["a", "b"], "a_traiter"),
    ],
)
def test_filtres_recherche_et_tri(client, connexion, monde, portefeuille, parametres, attendus, onglet):
    p = portefeuille
    url = "/instruction/?" + parametres.format(
        qpv=monde.qpv.id,
        autre_structure=monde.autre_structure.id,
        numero_c=p["c"].numero,
        fin_numero_c=p["c"].numero[-4:],
        contrat=monde.contrat.id,
        exercice_precedent=monde.campagne.exercice - 1,
    )
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get(url)
    assert reponse.status_code == 200
    assert numeros(reponse) == [p[cle].numero for cle in attendus]
    assert onglet_courant(reponse) == onglet
    assert comptes(reponse)[onglet] == len(attendus)


def test_recherche_courte_ne_cherche_que_le_sigle_exact(client, connexion, db, monde, portefeuille):
    """Un ou deux caractères se trouvent dans presque tout intitulé, sans index pour les servir : seul le
    sigle exact d'une structure est cherché, et le champ le dit, le texte tapé gardé."""
    p = portefeuille
    monde.autre_structure.sigle = "AV"
    db.session.commit()
    connexion.en_tant_que(monde.instructeur_etat)
    par_sigle = client.get("/instruction/?q=av")
    assert numeros(par_sigle) == [p["b"].numero]  # la casse ne compte pas
    assert "Saisissez au moins 3 caractères" in html(par_sigle)
    assert 'value="av"' in html(par_sigle) and "fr-input-group--error" in html(par_sigle)
    assert 'aria-describedby="q-erreur"' in html(par_sigle)
    assert f"(au moins {service.RECHERCHE_MIN} caractères), ou sigle exact" in html(par_sigle)  # l'indication
    # « a » figure dans tous les intitulés et noms, mais n'est le sigle d'aucune structure
    rien = client.get("/instruction/?q=a")
    assert numeros(rien) == [] and sum(comptes(rien).values()) == 0
    assert "Saisissez au moins 3 caractères" in html(rien) and 'value="a"' in html(rien)
    trois = client.get("/instruction/?q=voi")
    assert numeros(trois) == [p["b"].numero] and "Saisissez au moins" not in html(trois)
    # Mêmes comptes par les lignes du financeur et par la jointure complète avec la demande
    espace = next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")
    rapides = service.compter_par_onglet(espace, service.Filtres(recherche="Av"))
    assert rapides == service.compter_par_onglet(
        espace, service.Filtres(recherche="Av", contrat_id=monde.contrat.id)
    )
    assert rapides["a_traiter"] == 1


def test_pagination_en_sql_garde_les_filtres(app, client, connexion, db, monde):
    app.config["PAGE_TAILLE"] = 2
    try:
        for i in range(5):
            dossier(db, monde, f"Action {i}", {monde.etat: (L.sollicitee, "100")}, jours=i)
        connexion.en_tant_que(monde.instructeur_etat)
        premiere = client.get("/instruction/?q=action&tri=numero&ordre=asc")
        assert len(numeros(premiere)) == 2 and comptes(premiere)["a_traiter"] == 5
        assert "tri=numero" in html(premiere) and "page=3" in html(premiere)
        troisieme = client.get("/instruction/?q=action&tri=numero&ordre=asc&page=3")
        assert len(numeros(troisieme)) == 1 and titre(troisieme) != titre(premiere)
        assert numeros(premiere) + numeros(
            client.get("/instruction/?q=action&tri=numero&ordre=asc&page=2")
        ) + (numeros(troisieme)) == sorted(
            numeros(premiere) + numeros(client.get("/instruction/?q=action&page=2")) + numeros(troisieme)
        )
    finally:
        app.config["PAGE_TAILLE"] = 25


def test_partenaires_et_pilote_voient_les_dossiers_de_leurs_contrats(client, connexion, monde, portefeuille):
    p = portefeuille
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = client.get("/instruction/")
    assert reponse.status_code == 200
    # En instruction : transmis → programmés, quel que soit le financeur (la commune seule aussi)
    assert set(numeros(reponse)) == {p[k].numero for k in "abcdf"}
    assert comptes(reponse) == {"a_traiter": 5, "suivies": 0, "terminees": 1}
    for cache in ("Action gardoise", "Brouillon discret", "Retirée avant transmission"):
        assert cache not in html(reponse)
    assert p["r"].intitule not in html(client.get("/instruction/?onglet=terminees"))
    assert comptes(client.get("/instruction/?statut=retiree")) == {
        "a_traiter": 0,
        "suivies": 0,
        "terminees": 0,
    }
    assert "En consultation" in html(reponse)
    connexion.deconnexion()

    connexion.en_tant_que(monde.partenaire_autre_contrat)
    reponse = client.get("/instruction/")
    assert numeros(reponse) == [] and comptes(reponse) == {"a_traiter": 0, "suivies": 1, "terminees": 0}
    assert numeros(client.get("/instruction/?onglet=suivies")) == [p["h"].numero]
    for cle in "abcdef":
        assert p[cle].intitule not in html(client.get("/instruction/?onglet=terminees"))
        assert client.get(f"/dossiers/{p[cle].id}").status_code == 404
    connexion.deconnexion()

    connexion.en_tant_que(monde.pilote)
    reponse = client.get("/instruction/")
    assert reponse.status_code == 200 and set(numeros(reponse)) == {p[k].numero for k in "abcdf"}


def test_selecteur_d_organisation(client, connexion, db, monde, portefeuille):
    """Un compte membre de deux organisations choisit l'espace : financeur ou partenaire."""
    db.session.add(
        MembreOrganisation(
            utilisateur_id=monde.instructeur_etat.id,
            organisation_id=monde.commune.id,
            role=RoleOrganisation.instructeur,
        )
    )
    db.session.commit()
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get("/instruction/"))
    for cle in (f"financeur-{monde.etat.id}", f"financeur-{monde.commune.id}", f"partenaire-{monde.etat.id}"):
        assert f'value="{cle}"' in page
    commune = client.get(f"/instruction/?espace=financeur-{monde.commune.id}")
    assert set(numeros(commune)) == {portefeuille["b"].numero, portefeuille["f"].numero}
    partenaire = client.get(f"/instruction/?espace=partenaire-{monde.etat.id}")
    assert len(numeros(partenaire)) == 5
    assert titre(commune) != titre(partenaire)


def test_sans_organisation_ni_pilotage_403(client, connexion, monde):
    for role in ("signataire", "sans_role"):
        connexion.en_tant_que(getattr(monde, role))
        assert client.get("/instruction/").status_code == 403
        assert client.get("/instruction/enveloppes").status_code == 403
        connexion.deconnexion()


# --- Nombre de requêtes SQL borné ---------------------------------------------------------------


def remplir(db, monde, nombre: int, autre_campagne) -> None:
    """`nombre` dossiers de structures, contrats, financeurs et statuts variés."""
    for i in range(nombre):
        structure = monde.structure if i % 2 else monde.autre_structure
        statut, statut_ligne = [
            (D.transmise, L.sollicitee),
            (D.en_instruction, L.recevable),
            (D.classee_sans_suite, L.abandonnee),
        ][i % 3]
        dossier(
            db,
            monde,
            f"Action {i}",
            {monde.etat: (statut_ligne, "100"), monde.commune: (L.sollicitee, "50")},
            statut=statut,
            structure=structure,
            campagne=autre_campagne if i % 5 == 0 else None,
            jours=i,
        )


def test_numero_siret_et_sigle_exacts(client, connexion, monde, portefeuille, db):
    """Sur les deux bases : un numéro entier, un morceau de numéro, un SIRET, un sigle exact."""
    p = portefeuille
    monde.autre_structure.sigle = "AVQ"
    db.session.commit()
    connexion.en_tant_que(monde.instructeur_etat)
    assert numeros(client.get(f"/instruction/?q={p['c'].numero}")) == [p["c"].numero]
    assert numeros(client.get(f"/instruction/?q={p['c'].numero[-4:]}")) == [p["c"].numero]
    siret = monde.autre_structure.siret
    assert numeros(client.get(f"/instruction/?q={siret}")) == [p["b"].numero]
    assert numeros(client.get("/instruction/?q=avq")) == [p["b"].numero]


def test_une_annee_trouve_les_numeros_de_cet_exercice(client, connexion, monde, db):
    """Sur les deux bases : « 2026 » trouve les demandes numérotées en 2026
    et celles qui en parlent dans leur intitulé, pas celles d'une autre année dont le rang contient 2026
    (« 2025-002026 »), trouvées, elles, par ce morceau de rang."""
    annee = monde.campagne.exercice
    precedente = Campagne(
        contrat_id=monde.contrat.id,
        exercice=annee - 1,
        libelle="Campagne précédente",
        date_ouverture=date(annee - 2, 9, 1),
        date_cloture=date(annee - 2, 12, 31),
    )
    db.session.add(precedente)
    db.session.commit()
    lignes = {monde.etat: (L.sollicitee, "100")}
    de_l_annee = dossier(db, monde, "Jardin partagé", lignes, jours=3)
    qui_en_parle = dossier(db, monde, f"Fête des voisins {annee}", lignes, campagne=precedente, jours=2)
    rang = dossier(db, monde, "Chantier éducatif", lignes, campagne=precedente, jours=1)
    numero = f"{annee - 1}-00{annee}"  # le rang contient l'année cherchée
    for table in (Demande.__table__, LigneFinancement.__table__):
        db.session.execute(table.update().where(table.c.numero == rang.numero).values(numero=numero))
    db.session.commit()
    connexion.en_tant_que(monde.instructeur_etat)
    # Le plus récemment transmis d'abord (et, sur PostgreSQL, l'intitulé qui contient le mot avant tout)
    assert numeros(client.get(f"/instruction/?q={annee}")) == [qui_en_parle.numero, de_l_annee.numero]
    assert numeros(client.get(f"/instruction/?q=00{annee}")) == [numero]
    assert numeros(client.get(f"/instruction/?q={annee - 1}")) == [numero, qui_en_parle.numero]


@pytest.mark.parametrize("tri", ["transmise", "numero"])
@pytest.mark.parametrize("ordre", ["asc", "desc"])
def test_pages_par_curseur_memes_lignes_que_par_numero(db, monde, tri, ordre):
    """« Page suivante » et « page précédente » lisent par clé (sans OFFSET) : en avançant comme en reculant
    depuis la dernière page, les mêmes lignes, dans le même ordre, que les pages lues par leur numéro, y
    compris à date de transmission égale (départagées par l'id)."""
    for i in range(7):
        dossier(db, monde, f"Dossier {i}", {monde.etat: (L.sollicitee, "100")}, jours=1)
    db.session.execute(  # la même date pour toutes : seul l'id départage
        LigneFinancement.__table__.update().values(transmise_le=maintenant().replace(microsecond=0))
    )
    db.session.commit()
    espace = next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")
    filtres = service.Filtres()
    total = service.compter_par_onglet(espace, filtres)["a_traiter"]
    assert total == 7

    def page(numero, curseur=None):
        return service.page_demandes(
            espace,
            filtres,
            "a_traiter",
            total,
            tri=tri,
            ordre=ordre,
            page=numero,
            par_page=3,
            curseur=curseur,
        )

    par_numero = [[d.id for d in page(n).items] for n in (1, 2, 3)]
    assert [len(p) for p in par_numero] == [3, 3, 1]
    en_avant, courante = [], page(1)
    for numero in (1, 2, 3):
        en_avant.append([d.id for d in courante.items])
        assert courante.page == numero
        courante = page(numero + 1, courante.curseur_suivant)
    assert en_avant == par_numero
    en_arriere, courante = [], page(3)  # la dernière : lue à rebours, sans OFFSET
    for numero in (3, 2, 1):
        en_arriere.insert(0, [d.id for d in courante.items])
        courante = page(numero - 1, courante.curseur_precedent)
    assert en_arriere == par_numero
    assert [d.id for d in page(2, "illisible").items] == par_numero[1]  # un curseur abîmé : le numéro


def test_le_lien_page_suivante_porte_un_curseur(client, connexion, db, monde, app):
    """À l'écran : « page suivante » mène à la page 2 par son curseur, les numéros de page restent."""
    for i in range(app.config["PAGE_TAILLE"] + 2):
        dossier(db, monde, f"Dossier {i}", {monde.etat: (L.sollicitee, "100")}, jours=i)
    connexion.en_tant_que(monde.instructeur_etat)
    premiere = html(client.get("/instruction/"))
    suivante = re.search(r'href="([^"]+)" title="Page suivante"', premiere).group(1).replace("&amp;", "&")
    assert "curseur=" in suivante and "page=2" in suivante
    assert 'title="Page 2"' in premiere
    seconde = client.get(suivante)
    assert numeros(seconde) == numeros(client.get("/instruction/?page=2"))
    assert len(numeros(seconde)) == 2


def test_recherche_des_contrats_sur_la_demande(db, monde, portefeuille):
    """Partenaire ou pilote (tous les dossiers des contrats) : la recherche porte sur la demande et sa
    structure, comme pour un financeur ; un numéro entier trouve son dossier par l'index unique."""
    contrats = next(e for e in service.espaces(monde.partenaire_caf) if e.mode == "contrats")

    def trouves(texte):
        filtres = service.Filtres(recherche=texte)
        comptes_onglets = service.compter_par_onglet(contrats, filtres)
        numeros_trouves = []
        for onglet, nombre in comptes_onglets.items():
            page = service.page_demandes(contrats, filtres, onglet, nombre, par_page=1000)
            assert len(page.items) == nombre, onglet
            numeros_trouves += [d.numero for d in page.items]
        return sorted(numeros_trouves)

    assert trouves("voisine") == [portefeuille["b"].numero]  # raison sociale, casse ignorée
    assert trouves("SCOLAIRE") == [portefeuille["b"].numero]  # intitulé
    assert trouves(portefeuille["c"].numero) == [portefeuille["c"].numero]
    assert trouves("introuvable") == []


def test_recherche_par_structure_meme_resultat_en_liste_ou_en_sous_requete(
    db, monde, portefeuille, monkeypatch
):
    """Les structures trouvées sont lues une fois et passées en liste ; un texte trop commun (plus de
    `STRUCTURES_EN_LISTE_MAX` structures) repasse par la sous-requête : mêmes dossiers, mêmes comptes."""
    financeur = next(e for e in service.espaces(monde.instructeur_etat) if e.mode == "financeur")
    contrats = next(e for e in service.espaces(monde.partenaire_caf) if e.mode == "contrats")

    def resultat(espace, texte):
        filtres = service.Filtres(recherche=texte)
        comptes_onglets = service.compter_par_onglet(espace, filtres)
        ids = []
        for onglet, nombre in comptes_onglets.items():
            ids += [d.id for d in service.page_demandes(espace, filtres, onglet, nombre, par_page=1000).items]
        return comptes_onglets, sorted(ids)

    for espace in (financeur, contrats):
        for texte in ("association", "voisine", "oisin", "scolaire", "introuvable"):  # oisin : un morceau
            en_liste = resultat(espace, texte)
            monkeypatch.setattr(service, "STRUCTURES_EN_LISTE_MAX", 0)
            assert resultat(espace, texte) == en_liste, (espace.cle, texte)
            monkeypatch.undo()
        assert portefeuille["b"].id in resultat(espace, "VOISINE")[1]
    assert len(resultat(financeur, "association")[1]) >= 2


def test_listes_en_nombre_de_requetes_borne(app, client, connexion, db, monde):
    compteur = Compteur(db.engine)
    autre = campagne_autre_contrat(db, monde, monde.campagne.exercice)
    cible = dossier(db, monde, "Dossier étudié", {monde.etat: (L.sollicitee, "100")})
    urls = {
        "instructeur_etat": [
            "/instruction/",
            "/instruction/?onglet=suivies&tri=montant",
            "/instruction/?onglet=terminees&tri=structure&q=action",
            "/instruction/?statut=sollicitee&thematique=1&qpv={qpv}&exercice={exercice}",
            "/instruction/enveloppes",
            "/dossiers/{cible}",
        ],
        "partenaire_caf": ["/instruction/", "/instruction/?onglet=terminees&tri=montant"],
        "pilote": ["/instruction/", "/instruction/enveloppes"],
    }

    # Un client connecté par rôle, gardé d'une mesure à l'autre : les deux mesures lisent la même session
    # ouverte (sa ligne déjà chargée), seul le volume des données change entre elles.
    clients = {}
    for role in urls:
        clients[role] = app.test_client()
        Connexion(clients[role]).en_tant_que(getattr(monde, role))

    def mesures():
        resultat = {}
        for role, liste in urls.items():
            client_role = clients[role]
            for url in liste:
                url = url.format(qpv=monde.qpv.id, exercice=monde.campagne.exercice, cible=cible.id)
                resultat[(role, url)] = compteur.mesurer(client_role, url)
        return resultat

    remplir(db, monde, 3, autre)
    avec_3 = mesures()
    remplir(db, monde, 27, autre)
    avec_30 = mesures()
    assert avec_30 == avec_3
    assert max(avec_3.values()) <= 25


def test_l_espace_de_travail_ne_fait_que_lire(app, client, connexion, db, monde, portefeuille):
    """Chaque ordre d'une page de l'espace est une lecture pour `dauphin.connexions` : sa transaction est
    validée et non annulée, et psycopg garde ses ordres préparés d'une page à l'autre (une requête WITH prise
    pour une écriture les lui faisait oublier à chaque page : tout était replanifié)."""
    ordres = []
    urls = {
        "instructeur_etat": [
            "/instruction/",
            "/instruction/?q=action",
            "/instruction/?statut=en_instruction",
            "/instruction/?onglet=terminees&page=2",
            f"/instruction/?contrat={monde.campagne.contrat_id}&qpv={monde.qpv.id}",
        ],
        "partenaire_caf": ["/instruction/"],
        "pilote": ["/instruction/"],
    }
    for role, liste in urls.items():
        client_role = ClientIsole(app.test_client())  # sous son compte, pas celui du rôle précédent
        Connexion(client_role).en_tant_que(getattr(monde, role))
        ordres += ordres_des_pages(client_role, db.engine, liste)
    assert ordres
    assert [o for o in ordres if not _lecture(o)] == []


# --- Actions sur la ligne du financeur, par le client ------------------------------------------


@pytest.fixture
def transmise(db, monde):
    return transmettre(monde, demande_complete(monde))


def test_prendre_en_charge_puis_recevable_puis_reviser_puis_non_recevable(
    client, connexion, db, monde, transmise
):
    ligne = ligne_de(db, transmise.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert f'id="ligne-{ligne.id}"' in page and "Prendre en charge" in page
    assert f'name="prendre-en-charge-{ligne.id}-version"' in page
    assert "Déclarer recevable" not in page  # pas avant la prise en charge

    base = f"/instruction/lignes/{ligne.id}"
    reponse = client.post(
        f"{base}/prendre-en-charge", data=champs(f"prendre-en-charge-{ligne.id}", version=ligne.version)
    )
    assert reponse.status_code == 302 and reponse.headers["Location"].endswith(
        f"/dossiers/{transmise.id}#ligne-{ligne.id}"
    )
    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.statut == L.prise_en_charge and ligne.demande.statut == D.en_instruction

    # Montant au-dessus du demandé : refusé, message à côté du champ, saisie conservée
    prefixe = f"recevable-{ligne.id}"
    reponse = client.post(
        f"{base}/recevable",
        data=champs(prefixe, version=ligne.version, montant="7 000", commentaire="Bon projet"),
    )
    assert reponse.status_code == 422 and titre(reponse).startswith("Erreur : ")
    page = html(reponse)
    assert "dépasse le montant demandé" in page and f'aria-describedby="{prefixe}-montant-erreur' in page
    assert 'value="7 000"' in page and "Bon projet" in page
    reponse = client.post(f"{base}/recevable", data=champs(prefixe, version=ligne.version, montant="12,3,4"))
    assert reponse.status_code == 422 and "Saisissez un montant en euros" in html(reponse)

    reponse = client.post(
        f"{base}/recevable",
        data=champs(prefixe, version=ligne.version, montant="4 500,50", commentaire="Bon projet"),
    )
    assert reponse.status_code == 302
    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.statut == L.recevable and ligne.montant_propose == Decimal("4500.50")
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert "Réviser l’avis" in page and "4\u202f500,50\xa0€" in page

    reponse = client.post(
        f"{base}/reviser-avis", data=champs(f"reviser-avis-{ligne.id}", version=ligne.version, commentaire="")
    )
    assert reponse.status_code == 302
    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.statut == L.prise_en_charge and ligne.montant_propose is None

    prefixe = f"non-recevable-{ligne.id}"
    reponse = client.post(
        f"{base}/non-recevable", data=champs(prefixe, version=ligne.version, commentaire="  ")
    )
    assert reponse.status_code == 422 and "Indiquez le motif de non-recevabilité." in html(reponse)
    reponse = client.post(
        f"{base}/non-recevable", data=champs(prefixe, version=ligne.version, commentaire="Hors priorités")
    )
    assert reponse.status_code == 302
    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.statut == L.non_recevable and ligne.motif_avis == "Hors priorités"

    journal = db.session.scalars(
        select(EvenementJournal.declencheur)
        .where(EvenementJournal.ligne_id == ligne.id)
        .order_by(EvenementJournal.id)
    ).all()
    assert journal == ["prendre_en_charge", "declarer_recevable", "reviser_avis", "declarer_non_recevable"]

    # Le porteur ne voit ni le panneau ni l'avis avant la décision
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert "Hors priorités" not in page and 'id="instruction"' not in page


def test_page_d_action_sans_javascript(client, connexion, db, monde, transmise):
    """Chaque action a sa page (lien direct, réaffichage après erreur), au titre unique."""
    ligne = ligne_de(db, transmise.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    prise = client.get(f"/instruction/lignes/{ligne.id}/prendre-en-charge")
    assert prise.status_code == 200 and "Prendre la ligne en charge" in titre(prise)
    assert f'value="{ligne.version}"' in html(prise) and "novalidate" in html(prise)
    recevable = client.get(f"/instruction/lignes/{ligne.id}/recevable")
    assert recevable.status_code == 200 and "n’est pas possible" in html(
        recevable
    )  # pas encore prise en charge
    assert titre(recevable) != titre(prise)
    assert client.get(f"/instruction/lignes/{ligne.id}/inconnue").status_code == 404
    assert client.get("/instruction/lignes/999999/recevable").status_code == 404


def test_un_financeur_n_agit_pas_sur_la_ligne_d_un_autre(client, connexion, db, monde, transmise):
    commune = ligne_de(db, transmise.id, monde.commune)
    version = commune.version
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert f'id="ligne-{commune.id}"' not in page  # pas de panneau pour la ligne de la commune
    for action in ("prendre-en-charge", "recevable", "non-recevable", "gestionnaire"):
        assert client.get(f"/instruction/lignes/{commune.id}/{action}").status_code == 403
        reponse = client.post(
            f"/instruction/lignes/{commune.id}/{action}",
            data=champs(
                f"{action}-{commune.id}", version=version, montant="100", commentaire="x", gestionnaire_id=0
            ),
        )
        assert reponse.status_code == 403, action
    assert ligne_de(db, transmise.id, monde.commune).statut == L.sollicitee
    connexion.deconnexion()

    # Partenaire (lecture seule), porteur : aucune action ; partenaire d'un autre contrat : dossier inexistant
    for role, attendu in (("partenaire_caf", 403), ("signataire", 403), ("partenaire_autre_contrat", 404)):
        connexion.en_tant_que(getattr(monde, role))
        reponse = client.post(
            f"/instruction/lignes/{commune.id}/prendre-en-charge",
            data=champs(f"prendre-en-charge-{commune.id}", version=version),
        )
        assert reponse.status_code == attendu, role
        connexion.deconnexion()
    assert ligne_de(db, transmise.id, monde.commune).version == version


def test_deux_instructeurs_sur_la_meme_ligne_un_seul_gagne(app, db, monde, transmise):
    collegue = utilisateur("instructeur2.etat@test.fr", prenom="Camille", nom="Martin")
    db.session.add(
        MembreOrganisation(
            utilisateur_id=collegue.id, organisation_id=monde.etat.id, role=RoleOrganisation.instructeur
        )
    )
    db.session.commit()
    ligne = ligne_de(db, transmise.id, monde.etat)
    premier, second = app.test_client(), app.test_client()
    Connexion(premier).en_tant_que(monde.instructeur_etat)
    Connexion(second).en_tant_que(collegue)
    # Les deux ont la page du dossier sous les yeux, avec la même version
    for client in (premier, second):
        assert f'name="prendre-en-charge-{ligne.id}-version" type="hidden" value="{ligne.version}"' in html(
            client.get(f"/dossiers/{transmise.id}")
        )
    lue = ligne.version
    url = f"/instruction/lignes/{ligne.id}/prendre-en-charge"
    assert premier.post(url, data=champs(f"prendre-en-charge-{ligne.id}", version=lue)).status_code == 302
    reponse = second.post(url, data=champs(f"prendre-en-charge-{ligne.id}", version=lue))
    assert reponse.status_code == 409
    assert "modifié entre-temps par quelqu’un d’autre" in html(reponse) and "Action non enregistrée" in html(
        reponse
    )

    # Puis deux avis simultanés : le second garde sa saisie et voit l'état actuel
    ligne = ligne_de(db, transmise.id, monde.etat)
    lue = ligne.version
    url = f"/instruction/lignes/{ligne.id}/recevable"
    prefixe = f"recevable-{ligne.id}"
    assert premier.post(url, data=champs(prefixe, version=lue, montant="5000")).status_code == 302
    reponse = second.post(url, data=champs(prefixe, version=lue, montant="4 000", commentaire="Mon avis"))
    assert reponse.status_code == 409
    page = html(reponse)
    assert "modifié entre-temps" in page and 'value="4 000"' in page and "Mon avis" in page
    assert 'data-statut="recevable"' in page  # l'état actuel

    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.montant_propose == Decimal("5000")
    journal = db.session.scalars(
        select(EvenementJournal).where(EvenementJournal.ligne_id == ligne.id).order_by(EvenementJournal.id)
    ).all()
    assert [(e.declencheur, e.acteur_id) for e in journal] == [
        ("prendre_en_charge", monde.instructeur_etat.id),
        ("declarer_recevable", monde.instructeur_etat.id),
    ]


def test_designer_un_gestionnaire(client, connexion, db, monde, transmise):
    collegue = utilisateur("instructeur2.etat@test.fr", prenom="Camille", nom="Martin")
    db.session.add(
        MembreOrganisation(
            utilisateur_id=collegue.id, organisation_id=monde.etat.id, role=RoleOrganisation.instructeur
        )
    )
    db.session.commit()
    ligne = ligne_de(db, transmise.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert (
        "Camille Martin" in page and "Prénom instructeur.commune" not in page
    )  # les seuls instructeurs de l'État

    prefixe = f"gestionnaire-{ligne.id}"
    url = f"/instruction/lignes/{ligne.id}/gestionnaire"
    # Un instructeur d'une autre organisation n'est pas un choix possible
    reponse = client.post(
        url, data=champs(prefixe, version=ligne.version, gestionnaire_id=monde.instructeur_commune.id)
    )
    assert reponse.status_code == 422 and ligne_de(db, transmise.id, monde.etat).gestionnaire_id is None

    reponse = client.post(url, data=champs(prefixe, version=ligne.version, gestionnaire_id=collegue.id))
    assert reponse.status_code == 302
    ligne = ligne_de(db, transmise.id, monde.etat)
    assert ligne.gestionnaire_id == collegue.id and ligne.statut == L.sollicitee
    evenement = db.session.scalars(
        select(EvenementJournal).where(EvenementJournal.declencheur == "assigner_gestionnaire")
    ).one()
    assert (evenement.statut_avant, evenement.statut_apres) == ("sollicitee", "sollicitee")
    assert evenement.acteur_id == monde.instructeur_etat.id and evenement.organisation_id == monde.etat.id
    assert evenement.commentaire == "Gestionnaire : Camille Martin."
    # La liste du financeur nomme le gestionnaire sur la ligne de la demande, et seulement là
    liste = html(client.get("/instruction/"))
    rangee = liste.split(f'data-demande="{transmise.numero}"')[1].split("</tr>")[0]
    assert '<span class="fr-text--xs">Gestionnaire : Camille Martin</span>' in rangee
    assert liste.count("Gestionnaire : ") == 1
    *anomalies, nombre = empreintes.verifier()  # la ligne de journal est scellée dans la chaîne du dossier
    assert anomalies == [] and nombre >= 3
    courriel = db.session.scalar(select(Courriel).where(Courriel.destinataire == collegue.email))
    assert courriel.sujet == f"Dossier {transmise.numero} : vous en êtes gestionnaire"
    assert f"vous a désigné gestionnaire du dossier {transmise.numero}" in courriel.corps
    assert f"pour {monde.etat.nom}." in courriel.corps and f"/dossiers/{transmise.id}" in courriel.corps
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert "Gestionnaire désigné" in page  # dans l'historique, en français

    # Version périmée : conflit, rien n'est écrit
    reponse = client.post(url, data=champs(prefixe, version=ligne.version - 1, gestionnaire_id=0))
    assert (
        reponse.status_code == 409 and ligne_de(db, transmise.id, monde.etat).gestionnaire_id == collegue.id
    )
    # Retirer le gestionnaire
    reponse = client.post(url, data=champs(prefixe, version=ligne.version, gestionnaire_id=0))
    assert reponse.status_code == 302 and ligne_de(db, transmise.id, monde.etat).gestionnaire_id is None

    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert "Gestionnaire désigné" not in page and "Camille Martin" not in page  # interne au financeur


def test_gestionnaire_par_le_service_verifie_le_droit(db, monde, transmise):
    ligne = ligne_de(db, transmise.id, monde.etat)
    with pytest.raises(NonAutorise):
        service.assigner_gestionnaire(ligne.id, monde.instructeur_commune.id, monde.instructeur_commune)
    with pytest.raises(Conflit):
        service.assigner_gestionnaire(ligne.id, None, monde.instructeur_etat, version=ligne.version + 1)
    service.assigner_gestionnaire(
        ligne.id, monde.instructeur_etat.id, monde.instructeur_etat, version=ligne.version
    )
    service.assigner_gestionnaire(ligne.id, monde.instructeur_etat.id, monde.instructeur_etat)  # inchangé
    assert (
        db.session.scalars(
            select(EvenementJournal.id).where(EvenementJournal.declencheur == "assigner_gestionnaire")
        )
        .all()
        .__len__()
        == 1
    )


# --- Actions sur le dossier ------------------------------------------------------------------


def test_demander_des_complements_puis_retour_en_instruction(client, connexion, db, monde, transmise):
    ligne = ligne_de(db, transmise.id, monde.etat)
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    demande = db.session.get(Demande, transmise.id)
    connexion.en_tant_que(monde.instructeur_etat)
    assert "Demander des compléments au porteur" in html(client.get(f"/dossiers/{demande.id}"))
    url = f"/instruction/dossiers/{demande.id}/complements"
    prefixe = f"complements-{demande.id}"
    reponse = client.post(url, data=champs(prefixe, version=demande.version, commentaire=""))
    assert reponse.status_code == 422 and "Écrivez le message adressé au porteur." in html(reponse)
    reponse = client.post(
        url, data=champs(prefixe, version=demande.version, commentaire="Joignez le budget 2024.")
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == D.a_completer
    courriel = db.session.scalar(
        select(Courriel).where(Courriel.destinataire == "signataire@test.fr").order_by(Courriel.id.desc())
    )
    assert courriel.sujet == f"Demande {demande.numero} : compléments demandés"
    assert "\n\nJoignez le budget 2024.\n\n" in courriel.corps  # le message de l'instructeur, cité
    assert "Joignez le budget 2024." in courriel.corps_html
    # Pour le financeur, le dossier attend le porteur : il passe dans « Suivies »
    assert comptes(client.get("/instruction/")) == {"a_traiter": 0, "suivies": 1, "terminees": 0}
    connexion.deconnexion()

    connexion.en_tant_que(monde.signataire)
    assert "Joignez le budget 2024." in html(
        client.get(f"/dossiers/{demande.id}")
    )  # le message lui est adressé
    connexion.deconnexion()
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.en_instruction
    connexion.en_tant_que(monde.instructeur_etat)
    assert comptes(client.get("/instruction/")) == {"a_traiter": 1, "suivies": 0, "terminees": 0}


@pytest.mark.parametrize("role", ["instructeur_commune", "pilote"])
def test_classer_sans_suite_par_un_instructeur_ou_le_pilote(client, connexion, db, monde, transmise, role):
    demande = db.session.get(Demande, transmise.id)
    url = f"/instruction/dossiers/{demande.id}/classer-sans-suite"
    prefixe = f"classer-sans-suite-{demande.id}"
    connexion.en_tant_que(monde.partenaire_caf)
    assert "Classer sans suite" not in html(client.get(f"/dossiers/{demande.id}"))
    assert client.post(url, data=champs(prefixe, version=demande.version, commentaire="x")).status_code == 403
    connexion.deconnexion()

    connexion.en_tant_que(getattr(monde, role))
    assert "Classer sans suite" in html(client.get(f"/dossiers/{demande.id}"))
    reponse = client.post(url, data=champs(prefixe, version=demande.version, commentaire=""))
    assert reponse.status_code == 422 and "Indiquez le motif du classement sans suite." in html(reponse)
    reponse = client.post(
        url, data=champs(prefixe, version=demande.version, commentaire="Action déjà financée")
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == D.classee_sans_suite
    assert {ligne.statut for ligne in demande.lignes_financement} == {L.abandonnee}
    # Déjà classée : l'action n'est plus proposée ; un second envoi (page périmée) donne un conflit
    assert "Classer sans suite" not in html(client.get(f"/dossiers/{demande.id}"))
    reponse = client.post(url, data=champs(prefixe, version=demande.version, commentaire="Encore"))
    assert reponse.status_code == 409


# --- Notes -----------------------------------------------------------------------------------


def test_notes_partagees_et_privees(app, client, connexion, db, monde, transmise):
    url = f"/instruction/dossiers/{transmise.id}/notes"
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    assert 'id="notes"' in page and "Ajouter la note" in page
    reponse = client.post(
        url, data=champs("note", texte="", visibilite="partagee", organisation_id=monde.etat.id)
    )
    assert reponse.status_code == 422 and "Écrivez le texte de la note." in html(reponse)
    for texte, visibilite in (("Note partagée de l’État", "partagee"), ("Secret de la préfecture", "privee")):
        reponse = client.post(
            url, data=champs("note", texte=texte, visibilite=visibilite, organisation_id=monde.etat.id)
        )
        assert reponse.status_code == 302 and reponse.headers["Location"].endswith("#notes")
    # Écrire au nom d'une organisation dont on n'est pas membre : refusé
    reponse = client.post(
        url, data=champs("note", texte="Usurpation", visibilite="partagee", organisation_id=monde.commune.id)
    )
    assert reponse.status_code in (403, 422)
    connexion.deconnexion()

    connexion.en_tant_que(monde.instructeur_commune)
    client.post(
        url,
        data=champs(
            "note", texte="Réservé à la ville", visibilite="privee", organisation_id=monde.commune.id
        ),
    )
    connexion.deconnexion()
    notes = {n.texte: n for n in db.session.scalars(select(Note))}
    assert notes.keys() == {"Note partagée de l’État", "Secret de la préfecture", "Réservé à la ville"}
    assert (
        notes["Secret de la préfecture"].partagee is False
        and notes["Secret de la préfecture"].auteur_id == monde.instructeur_etat.id
    )

    lisibles = {
        "instructeur_etat": {"Note partagée de l’État", "Secret de la préfecture"},
        "instructeur_commune": {"Note partagée de l’État", "Réservé à la ville"},
        "partenaire_caf": {"Note partagée de l’État"},
        "pilote": {"Note partagée de l’État", "Secret de la préfecture"},  # pilote pour le compte de l'État
        "admin_national": {"Note partagée de l’État"},
        "signataire": set(),
        "contributeur": set(),
    }
    for role, attendues in lisibles.items():
        connexion.en_tant_que(getattr(monde, role))
        page = html(client.get(f"/dossiers/{transmise.id}"))
        assert {texte for texte in notes if texte in page} == attendues, role
        connexion.deconnexion()

    # Le porteur n'écrit pas de notes ; un partenaire d'un autre contrat ne voit pas le dossier
    connexion.en_tant_que(monde.signataire)
    assert (
        client.post(
            url, data=champs("note", texte="x", visibilite="partagee", organisation_id=monde.etat.id)
        ).status_code
        == 403
    )
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.get(url).status_code == 404
    assert (
        client.post(
            url, data=champs("note", texte="x", visibilite="partagee", organisation_id=monde.caf.id)
        ).status_code
        == 404
    )
    connexion.deconnexion()

    # Un partenaire du contrat écrit une note partagée que tous lisent
    connexion.en_tant_que(monde.partenaire_caf)
    client.post(
        url, data=champs("note", texte="Avis de la CAF", visibilite="partagee", organisation_id=monde.caf.id)
    )
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    assert "Avis de la CAF" in html(client.get(f"/dossiers/{transmise.id}"))


# --- Autres demandes de la structure -------------------------------------------------------------


def test_autres_demandes_de_la_structure_visibles_seulement(client, connexion, db, monde, transmise):
    precedente_campagne = Campagne(
        contrat_id=monde.contrat.id,
        exercice=monde.campagne.exercice - 1,
        libelle="Campagne précédente",
        date_ouverture=date(2020, 1, 1),
        date_cloture=date(2020, 2, 1),
    )
    db.session.add(precedente_campagne)
    db.session.commit()
    autre_campagne = campagne_autre_contrat(db, monde, monde.campagne.exercice)
    meme_annee = dossier(db, monde, "Autre action cette année", {monde.commune: (L.sollicitee, "900")})
    passee = dossier(
        db,
        monde,
        "Action de l’an dernier",
        {monde.etat: (L.avance_versee, "1000")},
        statut=D.a_justifier,
        campagne=precedente_campagne,
    )
    passee.lignes_financement[0].montant_vote = Decimal("800")
    db.session.commit()
    ailleurs = dossier(
        db, monde, "Action dans le Gard", {monde.caf: (L.sollicitee, "300")}, campagne=autre_campagne
    )
    brouillon = dossier(db, monde, "Brouillon caché", {}, statut=D.brouillon)
    voisine = dossier(
        db, monde, "Action de la voisine", {monde.etat: (L.sollicitee, "1")}, structure=monde.autre_structure
    )

    for role in ("instructeur_etat", "partenaire_caf", "pilote"):
        connexion.en_tant_que(getattr(monde, role))
        page = html(client.get(f"/dossiers/{transmise.id}"))
        assert "Autres demandes de la structure" in page
        assert meme_annee.intitule in page and passee.intitule in page, role
        assert 'data-statut="a_justifier"' in page and "800,00\xa0€" in page
        for cache in (ailleurs, brouillon, voisine):
            assert cache.intitule not in page, (role, cache.intitule)
        connexion.deconnexion()

    # Le partenaire de l'autre contrat voit sa demande, pas celles du contrat de test
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    page = html(client.get(f"/dossiers/{ailleurs.id}"))
    assert "Action dans le Gard" in page
    assert meme_annee.intitule not in page and passee.intitule not in page and transmise.intitule not in page
    connexion.deconnexion()

    connexion.en_tant_que(monde.signataire)
    assert "Autres demandes de la structure" not in html(client.get(f"/dossiers/{transmise.id}"))


# --- Enveloppes ----------------------------------------------------------------------------------


def test_enveloppes_par_financeur_contrat_et_exercice(client, connexion, db, monde):
    votee = dossier(
        db,
        monde,
        "Action votée",
        {monde.etat: (L.avance_versee, "6000"), monde.commune: (L.refusee, "100")},
        statut=D.versee,
    )
    votee.lignes_financement[0].montant_vote = Decimal("4000")
    votee.lignes_financement[0].montant_verse = Decimal("1500")
    votee.lignes_financement[1].montant_vote = Decimal("0")
    dossier(db, monde, "En instruction", {monde.etat: (L.recevable, "2000")}, statut=D.instruite)
    db.session.commit()

    def lignes_du_tableau(reponse):
        corps = re.search(r'<table id="enveloppes">.*?</table>', html(reponse), re.S)
        if corps is None:
            return []
        return [
            [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rangee, re.S)
            ]
            for rangee in re.findall(r"<tr>(.*?)</tr>", corps.group(0).split("<tbody>")[1], re.S)
        ]

    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get("/instruction/enveloppes")
    assert reponse.status_code == 200
    assert lignes_du_tableau(reponse) == [
        [
            "Préfecture du Nord (État – P147)",
            "59 - Contrat de test (CV-TEST-1)",
            str(monde.campagne.exercice),
            "50\u202f000,00\xa0€",
            "4\u202f000,00\xa0€",
            "1\u202f500,00\xa0€",
            "46\u202f000,00\xa0€",
        ]
    ]
    assert "Ville de Lille" not in html(reponse)
    connexion.deconnexion()

    connexion.en_tant_que(monde.pilote)  # tous les financeurs de son contrat
    lignes = lignes_du_tableau(client.get(f"/instruction/enveloppes?exercice={monde.campagne.exercice}"))
    assert [(ligne[0], ligne[-1]) for ligne in lignes] == [
        ("Préfecture du Nord (État – P147)", "46\u202f000,00\xa0€"),
        ("Ville de Lille", "20\u202f000,00\xa0€"),
    ]
    assert (
        lignes_du_tableau(client.get("/instruction/enveloppes?exercice=1999")) == lignes
    )  # inconnu : ignoré
    connexion.deconnexion()

    for role in ("partenaire_caf", "partenaire_autre_contrat"):  # pas d'enveloppe pour ces organisations
        connexion.en_tant_que(getattr(monde, role))
        reponse = client.get("/instruction/enveloppes")
        assert reponse.status_code == 200 and lignes_du_tableau(reponse) == []
        assert "50\u202f000" not in html(reponse)
        connexion.deconnexion()


def test_enveloppes_par_le_service(db, monde):
    assert [(e.organisation, e.reste) for e in service.enveloppes(monde.instructeur_commune)] == [
        ("Ville de Lille", Decimal("20000"))
    ]
    assert service.enveloppes(monde.signataire) == []


def test_le_courriel_des_complements_contient_le_message(db, monde, transmise):
    declencher_demande(
        transmise.id, "demander_complements", monde.instructeur_etat, commentaire="Joignez le RIB."
    )
    courriel = db.session.scalar(
        select(Courriel).where(Courriel.destinataire == "signataire@test.fr").order_by(Courriel.id.desc())
    )
    assert "Joignez le RIB." in courriel.corps


def test_le_porteur_lit_le_meme_statut_sur_le_dossier_et_ses_lignes(client, connexion, db, monde, transmise):
    """Avant la décision, chaque ligne porte le libellé du dossier à la même étape : « Transmise » tant
    qu'aucun instructeur ne l'a prise en charge, « En instruction » ensuite ; l'instructeur lit le sien."""

    def statuts_lus(page: str) -> tuple[str, list[str]]:
        dossier = re.search(r"</h1>\s*<div[^>]*>\s*<p[^>]*>([^<]+)</p>", page).group(1).strip()
        tableau = page.split('id="titre-financeurs"')[1].split("</table>")[0]
        return dossier, [t.strip() for t in re.findall(r'data-statut="[^"]+"[^>]*>([^<]+)<', tableau)]

    connexion.en_tant_que(monde.signataire)
    dossier_lu, lignes_lues = statuts_lus(html(client.get(f"/dossiers/{transmise.id}")))
    assert dossier_lu == "Transmise" and lignes_lues and set(lignes_lues) == {"Transmise"}

    declencher_ligne(ligne_de(db, transmise.id, monde.etat).id, "prendre_en_charge", monde.instructeur_etat)
    dossier_lu, lignes_lues = statuts_lus(html(client.get(f"/dossiers/{transmise.id}")))
    assert dossier_lu == "En instruction" and "En instruction" in lignes_lues
    assert "Prise en charge" not in lignes_lues and "En cours d’instruction" not in lignes_lues

    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert "Prise en charge" in statuts_lus(html(client.get(f"/dossiers/{transmise.id}")))[1]


def test_les_decisions_viennent_apres_ce_sur_quoi_elles_portent(client, connexion, db, monde, transmise):
    """Ordre de lecture de l'instructeur : la demande (financeurs, action, budget, pièces) avant les
    formulaires d'instruction, puis les notes et l'historique ; un lien en tête y mène directement."""
    connexion.en_tant_que(monde.instructeur_etat)
    page = html(client.get(f"/dossiers/{transmise.id}"))
    ordre = [
        page.index(repere)
        for repere in (
            'href="#instruction"',
            'id="titre-financeurs"',
            'id="titre-action"',
            'id="titre-budget"',
            'id="titre-pieces"',
            'data-action="prendre-en-charge"',
            'id="titre-notes"',
            'id="titre-historique"',
        )
    ]
    assert ordre == sorted(ordre)
