"""Dans Chromium (Playwright) : chaque écran HTML du portail, tiré de la carte des routes, est audité avec
axe-core (RGAA/WCAG A-AA) ; la moindre violation fait échouer le test.

Le monde et les adresses sont ceux de la matrice des autorisations (tests/test_matrice_autorisations.py) :
pour chaque route GET, un rôle qui y a droit (l'anonyme pour une page publique) se connecte par le vrai
formulaire — une connexion par rôle —, ouvre l'adresse, obtient un 200 en HTML, et axe-core audite la page.
Une route GET ajoutée sans être auditée ni exclue ici, avec sa raison, fait échouer le test."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from dauphin.instruction.actions import ACTIONS_DEMANDE, ACTIONS_LIGNE
from dauphin.models import ReportDates, StatutReport
from dauphin.services.demandes import ETAPES
from tests import test_matrice_autorisations as matrice
from tests.connexions import code_dans_le_navigateur
from tests.navigateur import (
    DANS_CHROMIUM,
    ViolationsAccessibilite,
    auditer_accessibilite,
    serveur_local,
)
from tests.navigateur import navigateur as ouvrir_navigateur

pytestmark = DANS_CHROMIUM


@pytest.fixture
def objets(db, monde):
    """Les objets de la matrice des autorisations, validés pour de bon : le serveur local les lit."""
    return matrice.construire_objets(monde)


# Routes GET qui ne rendent pas d'écran HTML, chacune avec sa raison.
EXCLUSIONS = {
    "static": "fichiers statiques",
    "dsfr.fichier": "fichiers du système de design (CSS, JS, polices, icônes)",
    "documents.telecharger": "téléchargement d'une pièce (le fichier déposé)",
    "comites.proces_verbal": "procès-verbal en PDF",
    "comites.convocation": "convocation au comité en PDF",
    "pilotage.export_csv": "export CSV de la programmation",
    "pilotage.export_xlsx": "export XLSX de la programmation",
    "administration.telecharger_export": "téléchargement d'un export XLSX produit",
    "public.fichier_donnees_ouvertes": "fichier CSV des données ouvertes (téléchargement)",
    "sante": "sonde JSON des répartiteurs de charge (tests/test_sante_et_journaux.py)",
    # L'API répond en JSON ; sa documentation (api.documentation) est un écran du portail, auditée.
    "api.lister_demandes": "API JSON",
    "api.lire_demande": "API JSON",
    "api.lire_programmation": "API JSON",
    "api.lister_subventions": "API JSON",
    "api.lister_evenements": "API JSON",
    "webhooks.choisir_organisation": "redirection vers le formulaire de l'organisation choisie (aucun écran)",
    "api.lire_ligne": "API JSON",
    "api.lister_versements": "API JSON",
    "api.lister_campagnes": "API JSON",
    "api.lister_enveloppes": "API JSON",
    "api.lister_seances": "API JSON",
    "api.lister_structures": "API JSON",
    "api.lister_comptes_rendus": "API JSON",
    "api.lister_pieces": "API JSON",
    "api.telecharger_document": "API : contenu d'une pièce (le fichier déposé)",
    "api.openapi": "description OpenAPI en JSON",
    "auth.etat_session": "état de la session en JSON (pour js/session.js)",
    # Le second temps de la connexion ne s'ouvre qu'entre le mot de passe et le code : ses écrans sont
    # audités dans ce parcours (tests/test_navigateur_sessions.py).
    "auth.code": "second temps de la connexion, audité par tests/test_navigateur_sessions.py",
    "auth.activer_second_facteur": "activation imposée à la connexion, même parcours",
}

# Des liens signés invalides : l'écran d'erreur, servi à tous avec son statut, est audité lui aussi.
STATUTS_ATTENDUS = {
    "comptes.confirmer": 404,
    "comptes.invitation": 404,
    "comptes.reinitialiser_mot_de_passe": 404,
}

# Les routes à plusieurs écrans : chaque valeur de leur paramètre (étapes du dépôt, actions d'instruction),
# et les variantes « nouvelle » des formulaires de l'administration.
VARIANTES = {
    "demandes.etape": [lambda o, e=etape: f"/demandes/{o['brouillon']}/etape/{e}" for etape, _ in ETAPES],
    "administration.organisation": [lambda o: "/administration/organisations/nouvelle"],
    "administration.thematique": [lambda o: "/administration/thematiques/nouvelle"],
    # La trace des lectures filtrée, avec une date refusée (message à côté du champ)
    "administration.lectures": [lambda o: "/administration/lectures?compte=instructeur&du=31/02/2026"],
    "instruction.action_ligne": [
        lambda o, a=action: f"/instruction/lignes/{o['ligne']}/{a}" for action in ACTIONS_LIGNE
    ],
    "instruction.action_dossier": [
        # Renvoyer le compte rendu : un financeur qui a voté, sur le dossier à justifier.
        lambda o, a=action: f"/instruction/dossiers/{o[DOSSIER_DE_L_ACTION.get(a, 'demande')]}/{a}"
        for action in ACTIONS_DEMANDE
    ],
}

DOSSIER_DE_L_ACTION = {"retourner-compte-rendu": "justifier"}

# Le rôle qui voit l'écran lui-même, là où le premier rôle autorisé serait redirigé ailleurs.
ROLES_IMPOSES = {
    # L'instructeur d'une seule organisation va droit à la création du jeton.
    "jetons.choisir_organisation": "admin_national",
    # Un membre de la structure est renvoyé vers elle : le formulaire est pour qui n'en est pas.
    "structures.demander_acces": "admin_autre_structure",
    # Les appels à projets sont l'écran du porteur : les autres comptes sont renvoyés vers l'accueil.
    "demandes.campagnes": "administrateur",
    # L'administration nationale l'a déjà : elle est renvoyée vers la gestion de la double authentification.
    "comptes.activer_second_facteur": "administrateur",
}


@contextmanager
def _report_repondu(db, objets):
    """La demande de report n'est proposée qu'au porteur dont aucune n'attend de réponse ; le monde de la
    matrice en a une en attente (l'écran du financeur qui y répond) : le temps de l'écran du porteur, elle
    est refusée."""
    report = db.session.get(ReportDates, objets["report"])
    report.statut = StatutReport.refuse
    db.session.commit()
    try:
        yield
    finally:
        report.statut = StatutReport.en_attente
        db.session.commit()


# Les écrans qui n'existent que dans un état du dossier que le monde de la matrice n'a pas : l'état est posé
# le temps de l'écran, puis défait.
ETATS = {"justification.report": _report_repondu}

# Un écran change selon qui le regarde (le dossier du porteur n'est pas celui du financeur) : il est audité
# pour un rôle de chaque famille qui y a droit — le premier de la famille, pour se connecter le moins
# souvent possible. Les étapes et actions (VARIANTES) le sont pour le premier rôle seulement.
FAMILLES = (
    ("administrateur", "signataire", "contributeur", "admin_autre_structure"),  # porteurs
    ("instructeur", "instructeur_autre_financeur", "partenaire_autre_contrat"),  # financeurs
    ("pilote",),
    ("admin_national",),
)
# Les pages publiques sont auditées pour l'anonyme ; l'accueil, qui s'adapte au compte, pour chaque famille.
PUBLIQUES_PAR_FAMILLE = {"public.accueil"}


def routes_get(app) -> dict[str, list]:
    routes: dict[str, list] = {}
    for regle in app.url_map.iter_rules():
        if "GET" in regle.methods:
            routes.setdefault(regle.endpoint, []).append(regle.rule)
    return routes


def roles_pour(endpoint: str) -> list[str]:
    entree = matrice.MATRICE[endpoint]
    if endpoint in ROLES_IMPOSES:
        return [ROLES_IMPOSES[endpoint]]
    if endpoint in STATUTS_ATTENDUS:
        return ["anonyme"]
    if entree.anonyme == "ok" and endpoint not in PUBLIQUES_PAR_FAMILLE:
        return ["anonyme"]
    roles = ["anonyme"] if entree.anonyme == "ok" else []
    for famille in FAMILLES:
        roles += [role for role in famille if role in entree.ok][:1]
    return roles


def ecrans_a_auditer(app, objets) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """Par rôle, les (endpoint, adresse) à auditer ; et les routes exclues, avec leur raison."""
    par_role: dict[str, list[tuple[str, str]]] = {}
    exclues: dict[str, str] = {}
    sans_entree = []
    for endpoint in sorted(routes_get(app)):
        if endpoint in EXCLUSIONS:
            exclues[endpoint] = EXCLUSIONS[endpoint]
            continue
        if endpoint not in matrice.MATRICE:
            sans_entree.append(endpoint)
            continue
        adresse = matrice.MATRICE[endpoint].url(objets)
        variantes = [variante(objets) for variante in VARIANTES.get(endpoint, [])]
        premier, *autres = roles_pour(endpoint)
        for chemin in dict.fromkeys([adresse, *variantes]):
            par_role.setdefault(premier, []).append((endpoint, chemin))
        for role in autres:
            par_role.setdefault(role, []).append((endpoint, adresse))
    assert sans_entree == [], f"Routes GET ni auditées ni exclues (ajoutez-les à la matrice) : {sans_entree}"
    return par_role, exclues


@contextmanager
def _tel_quel(db, objets):
    yield


def se_connecter(page, adresse, email):
    page.goto(adresse + "/compte/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill("mot-de-passe-de-test")
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    code_dans_le_navigateur(page, email)
    assert "/compte/connexion" not in page.url, f"connexion refusée pour {email}"


def test_chaque_ecran_est_audite(app, db, objets, artefacts):
    par_role, exclues = ecrans_a_auditer(app, objets)
    comptes = {role: compte.email for role, compte in objets["comptes"].items()}
    db.session.commit()
    dossier = artefacts / "tous-les-ecrans"
    dossier.mkdir(exist_ok=True)
    audites: set[str] = set()
    echecs: list[str] = []
    debut = time.monotonic()
    with serveur_local(app) as adresse, ouvrir_navigateur(dossier) as page:
        for role, ecrans in sorted(par_role.items(), key=lambda r: r[0] != "anonyme"):
            page.context.clear_cookies()
            if role != "anonyme":
                se_connecter(page, adresse, comptes[role])
            for endpoint, chemin in ecrans:
                with ETATS.get(endpoint, _tel_quel)(db, objets):
                    reponse = page.goto(adresse + chemin)
                nom = f"{endpoint} ({role})"
                attendu = STATUTS_ATTENDUS.get(endpoint, 200)
                type_contenu = reponse.headers.get("content-type", "")
                if reponse.status != attendu or not type_contenu.startswith("text/html"):
                    echecs.append(
                        f"{nom} {chemin} : {reponse.status} {type_contenu} (attendu {attendu} HTML)"
                    )
                    continue
                if reponse.request.redirected_from is not None:
                    echecs.append(f"{nom} {chemin} : redirigé vers {page.url}, l'écran n'est pas audité")
                    continue
                try:
                    auditer_accessibilite(page, nom)
                except ViolationsAccessibilite as violations:
                    echecs.append(str(violations))
                audites.add(endpoint)
    duree = time.monotonic() - debut
    nombre = sum(len(ecrans) for ecrans in par_role.values())
    print(f"\n{nombre} écrans audités ({len(audites)} routes, {len(par_role)} rôles) en {duree:.0f} s")
    for endpoint, raison in sorted(exclues.items()):
        print(f"exclue : {endpoint} — {raison}")
    assert echecs == [], "\n".join(echecs)
    oubliees = set(routes_get(app)) - audites - set(exclues)
    assert oubliees == set(), f"Routes GET ni auditées ni exclues : {sorted(oubliees)}"
