"""Aucune saisie ne provoque d'erreur serveur : chaque route POST des écrans, saisie au hasard.

Les routes sont tirées de la carte de l'application (toute route POST hors /api/ — que couvre déjà
schemathesis — et hors fichiers statiques) ; leurs adresses et les rôles qui y ont droit viennent de la
matrice des autorisations (tests/test_matrice_autorisations.py), sur ses vrais objets. Pour chaque route, un
compte qui y a droit se connecte, ouvre la page qui porte le formulaire, en lit les champs tels qu'un
navigateur les enverrait, puis hypothesis envoie des variantes : champ omis, valeur d'origine, autre option
proposée, texte quelconque, caractères de contrôle, nombres immenses ou négatifs, « nan », « 1e999 », dates
impossibles, fichiers arbitraires. Aucune réponse n'est une erreur 500 et aucune exception ne s'échappe.

Un monde par famille de routes (blueprint) : les routes qui retirent un droit passent en dernier.
DAUPHIN_PROPRIETES_EXEMPLES règle le nombre d'envois par route (15 par défaut).
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import g
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dauphin.extensions import limiter
from dauphin.instruction.actions import ACTIONS_DEMANDE, ACTIONS_LIGNE
from dauphin.services.demandes import ETAPES
from tests.clients import ClientIsole
from tests.connexions import se_connecter
from tests.test_formulaires_proprietes import date_texte, nombre_texte, texte_hostile
from tests.test_matrice_autorisations import MATRICE, objets  # noqa: F401  (la fixture des objets)

BILAN: dict[str, Counter] = {}  # statuts obtenus par route (pytest -s affiche le bilan en fin de module)
EXEMPLES = int(os.environ.get("DAUPHIN_PROPRIETES_EXEMPLES", "15"))
REGLAGES = settings(
    max_examples=EXEMPLES,
    deadline=None,
    database=None,  # une stratégie par formulaire : rien à rejouer d'une route à l'autre
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Le compte qui agit : le premier de cette liste à qui la matrice ouvre la route.
PREFERENCE = (
    "signataire",
    "administrateur",
    "instructeur",
    "pilote",
    "admin_national",
    "contributeur",
    "admin_autre_structure",
    "instructeur_autre_financeur",
    "partenaire_autre_contrat",
)
ROLE = {
    "structures.demander_acces": "admin_autre_structure",  # l'accès à une structure dont on n'est pas
    "structures.inscrire": "admin_autre_structure",
    "comptes.invitation": "admin_autre_structure",  # accepter une vraie invitation
    "comptes.reinitialiser_mot_de_passe": "anonyme",  # un vrai lien reçu par courriel
}
# Ordre dans une famille : ce qui prépare d'abord, ce qui retire un droit ou un objet à la fin.
PREMIERS = (
    "demandes.etape",
    "demandes.soumettre",
    "demandes.attester",
    "instruction.action_ligne",
    "comites.nouvelle",
    "comites.inscrire",
    "comites.convoquer",
    "comites.presences",
    "comites.ouvrir",
    "comites.voter",
    "comites.saisir_montant",
    "engagements.acte",
    "engagements.convention_signee",
    "engagements.engagement",
    "engagements.prevoir",
    "engagements.paiement",
)
DERNIERS = (
    "auth.deconnexion",
    "demandes.retirer",
    "instruction.action_dossier",
    "comites.retirer_point",
    "comites.clore",
    "engagements.supprimer",
    "jetons.revoquer",
    "structures.changer_role",
    "structures.retirer_membre",
    "structures.transmettre_administration",
    "administration.supprimer_thematique",
    "administration.activation_thematique",
    "administration.retirer_partenaire",
    "administration.activation_compte",
    "administration.retirer_role",
    "administration.retirer_pilotage",
    "administration.activation_organisation",
)


def _champs_de_l_action(url: str) -> list[str]:
    """Les noms (préfixés) des champs du formulaire WTForms d'une action d'instruction."""
    from dauphin.instruction.actions import formulaire

    *_, objet_id, slug = url.split("/")
    action = ACTIONS_LIGNE.get(slug) or ACTIONS_DEMANDE[slug]
    return [champ.name for champ in formulaire(action, int(objet_id), 0)]


# Formulaires qu'aucune page ne montre dans l'état des objets de test (ni au départ, ni après les envois
# précédents) : envoyés avec les noms des champs du formulaire WTForms de la vue. Endpoint → (raison, noms).
SANS_PAGE: dict[str, tuple[str, object]] = {
    # Sessions et double authentification (tests/test_sessions.py, tests/test_second_facteur.py)
    "auth.code": ("montré seulement entre le mot de passe et le code d'une connexion", lambda url: ["code"]),
    "auth.activer_second_facteur": (
        "montré seulement au milieu de la connexion d'un compte à qui elle est obligatoire",
        lambda url: ["code"],
    ),
    "comptes.desactiver_second_facteur": (
        "proposé une fois la double authentification activée",
        lambda url: ["desactivation-code", "desactivation-mot_de_passe"],
    ),
    "comptes.renouveler_codes_secours": (
        "proposé une fois la double authentification activée",
        lambda url: ["codes-code", "codes-mot_de_passe"],
    ),
    "comptes.fermer_les_autres_sessions": ("proposé quand une autre session est ouverte", lambda url: []),
    "administration.reinitialiser_second_facteur": (
        "proposé pour un compte qui a activé la double authentification",
        lambda url: ["version"],
    ),
    "administration.confirmer_import": (
        "le bouton « Confirmer l'import » n'apparaît que sur l'aperçu d'un fichier envoyé",
        lambda url: ["sceau"],
    ),
    "administration.supprimer_thematique": (
        "proposée seulement pour une thématique qu'aucune demande n'utilise (1.5 l'est)",
        lambda url: ["version"],
    ),
    "comites.inscrire": (
        "aucun autre dossier instruit à inscrire : le seul est déjà à l'ordre du jour",
        lambda url: ["version", "demandes"],
    ),
    "comites.clore": (
        "la confirmation n'est proposée qu'une fois la feuille de présence complète (les envois au hasard "
        "de la feuille la laissent en général incomplète)",
        lambda url: ["version"],
    ),
    "justification.cloture": (
        "la confirmation n'est proposée que s'il reste des demandes financées à clôturer",
        lambda url: ["annee", "confirmation"],
    ),
    "instruction.action_ligne": (
        "révision, correction et annulation du vote, validation du compte rendu : selon l'état de la ligne",
        _champs_de_l_action,
    ),
    "instruction.action_dossier": (
        "renvoi du compte rendu : seulement un compte rendu déposé",
        _champs_de_l_action,
    ),
    "demandes.etape": (
        "le récapitulatif n'a pas de formulaire à lui : la soumission a sa route (les étapes ont leur page)",
        lambda url: [],
    ),
    "demandes.attester": (
        "l'attestation n'est proposée qu'à une demande soumise ; les envois des étapes ont pu rendre le "
        "brouillon insoumettable",
        lambda url: _noms("forms.demande", "AttestationForm"),
    ),
    "demandes.modifier": ("remettre en brouillon : une demande soumise", lambda url: ["version"]),
    "demandes.renouveler": (
        "proposé seulement quand la campagne d'un exercice suivant est ouverte (pas dans ce monde)",
        lambda url: ["version"],
    ),
    "administration.relancer_courriels": (
        "le bouton n'est proposé que s'il reste des courriels en attente d'envoi",
        lambda url: [],
    ),
    "documents.restaurer": (
        "seulement un document archivé (celui des tests est joint à une demande)",
        lambda url: [],
    ),
    "engagements.relancer_acte": (
        "seulement un acte établi et pas encore signé",
        lambda url: [f"acte-{url.split('/')[3]}-version", f"acte-{url.split('/')[3]}-regime"],
    ),
    "engagements.supprimer": (
        "seulement une échéance d'une ligne votée qui n'a jamais été payée",
        lambda url: [f"supprimer-{url.split('/')[3]}-version", f"supprimer-{url.split('/')[3]}-regime"],
    ),
}


def _noms(module: str, classe: str) -> list[str]:
    import importlib

    return [champ.name for champ in getattr(importlib.import_module(module), classe)()]


@dataclass
class Cas:
    endpoint: str
    url: str
    role: str


def _variantes(endpoint: str, o: dict) -> list[tuple[str, str]]:
    """(adresse, compte) à essayer pour une route : l'adresse de la matrice et les autres valeurs de ses
    paramètres, chacune sur un objet dans l'état où l'action est possible."""
    role = _role(endpoint)
    if endpoint == "demandes.etape":
        return [(f"/demandes/{o['brouillon']}/etape/{nom}", role) for nom, _ in ETAPES]
    if endpoint == "instruction.action_ligne":
        votees = {"corriger-vote", "annuler-vote", "valider-compte-rendu"}
        variantes = []
        for slug in ACTIONS_LIGNE:
            if slug == "prendre-en-charge":  # la ligne de la commune attend encore son instructeur
                variantes.append((f"/instruction/lignes/{o['ligne_commune']}/{slug}", "instructeur_commune"))
            else:
                variantes.append(
                    (f"/instruction/lignes/{o['ligne_votee'] if slug in votees else o['ligne']}/{slug}", role)
                )
        return variantes
    if endpoint == "instruction.action_dossier":
        cle = {"retourner-compte-rendu": "justifier"}  # un compte rendu à renvoyer
        return [
            (f"/instruction/dossiers/{o[cle.get(slug, 'demande')]}/{slug}", role) for slug in ACTIONS_DEMANDE
        ]
    if endpoint == "administration.importer":
        return [("/administration/imports/contrats", role), ("/administration/imports/qpv", role)]
    if endpoint == "administration.organisation":
        return [("/administration/organisations/nouvelle", role), (MATRICE[endpoint].url(o), role)]
    if endpoint == "administration.thematique":
        return [("/administration/thematiques/nouvelle", role), (MATRICE[endpoint].url(o), role)]
    if endpoint == "comptes.invitation":
        return [(o["lien_invitation"], role)]
    if endpoint == "comptes.reinitialiser_mot_de_passe":
        return [(o["lien_reinitialisation"], role)]
    if endpoint.startswith("engagements."):  # la ligne votée : l'acte, l'engagement et les versements
        return [(MATRICE[endpoint].url({**o, "ligne": o["ligne_votee"]}), role)]
    return [(MATRICE[endpoint].url(o), role)]


def _role(endpoint: str) -> str:
    if endpoint in ROLE:
        return ROLE[endpoint]
    entree = MATRICE[endpoint]
    if entree.anonyme == "ok" and entree.methode == "GET" and "anonyme" in entree.ok:
        return "anonyme"  # pages publiques : connexion, inscription, renvoi du lien
    return next(role for role in PREFERENCE if role in entree.ok)


def routes_post(app) -> list[str]:
    return sorted(
        {
            regle.endpoint
            for regle in app.url_map.iter_rules()
            if "POST" in regle.methods and not regle.endpoint.startswith(("api.", "static", "dsfr."))
        }
    )


def _rang(endpoint: str) -> tuple[int, int]:
    if endpoint in PREMIERS:
        return (0, PREMIERS.index(endpoint))
    if endpoint in DERNIERS:
        return (2, DERNIERS.index(endpoint))
    return (1, 0)


# --- Lire les formulaires d'une page -----------------------------------------------------------------


@dataclass
class Champ:
    genre: str = "text"
    valeurs: list[str] = field(default_factory=list)  # telles qu'envoyées sans rien toucher
    options: list[str] = field(default_factory=list)


class _Formulaires(HTMLParser):
    """Chaque formulaire POST de la page : son action et ses champs (nom → Champ)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.formulaires: list[tuple[str, dict[str, Champ]]] = []
        self._champs: dict[str, Champ] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _champ(self, nom: str, genre: str) -> Champ:
        return self._champs.setdefault(nom, Champ(genre))

    def handle_starttag(self, balise, attributs):
        a = {cle: (valeur or "") for cle, valeur in attributs}
        if balise == "form":
            if a.get("method", "get").lower() == "post":
                self._champs = {}
                self.formulaires.append((a.get("action") or self.page, self._champs))
            return
        if self._champs is None:
            return
        nom = a.get("name")
        if balise == "input" and nom:
            genre = a.get("type", "text")
            champ = self._champ(nom, genre)
            if genre in ("checkbox", "radio"):
                champ.options.append(a.get("value", "on"))
                if "checked" in a:
                    champ.valeurs.append(a.get("value", "on"))
            elif genre in ("submit", "button"):
                champ.options.append(a.get("value", ""))
            else:
                champ.valeurs.append(a.get("value", ""))
        elif balise == "button" and nom:
            self._champ(nom, "submit").options.append(a.get("value", ""))
        elif balise == "select" and nom:
            self._select = nom
            self._champ(nom, "select")
        elif balise == "option" and self._select:
            champ = self._champs[self._select]
            champ.options.append(a.get("value", ""))
            if "selected" in a:
                champ.valeurs.append(a.get("value", ""))
        elif balise == "textarea" and nom:
            self._textarea = nom
            self._champ(nom, "textarea").valeurs.append("")

    def handle_endtag(self, balise):
        if balise == "form":
            self._champs = None
        elif balise == "select" and self._select:
            champ = self._champs[self._select]
            if not champ.valeurs and champ.options:
                champ.valeurs.append(champ.options[0])
            self._select = None
        elif balise == "textarea":
            self._textarea = None

    def handle_data(self, donnees):
        if self._textarea and self._champs is not None:
            champ = self._champs[self._textarea]
            champ.valeurs[-1] += donnees


def _cle(adresse: str) -> str:
    morceaux = urlsplit(adresse)
    return morceaux.path + (f"?{morceaux.query}" if morceaux.query else "")


def formulaires(html: str, page: str) -> dict[str, dict[str, Champ]]:
    lecteur = _Formulaires(page)
    lecteur.feed(html)
    resultat: dict[str, dict[str, Champ]] = {}
    for action, champs in lecteur.formulaires:
        resultat.setdefault(_cle(action), champs)
    return resultat


# --- Ce qu'on envoie ---------------------------------------------------------------------------------

CSV = st.builds(
    lambda entete, lignes: (entete + "\n" + "\n".join(lignes)).encode(),
    st.sampled_from(
        [
            "code_cv;libelle;siren_porteur;departement;population_qpv",
            "code_qp,lib_qp,insee_dep,insee_com,siren_epci,code_cv",
            "",
            "a;b",
        ]
    ),
    st.lists(
        st.lists(st.one_of(texte_hostile, nombre_texte), min_size=1, max_size=6).map(";".join), max_size=4
    ),
)
fichier = st.builds(
    lambda contenu, nom: (io.BytesIO(contenu), nom),
    st.one_of(
        st.binary(max_size=300),
        CSV,
        st.sampled_from([b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n", b"\xef\xbb\xbf", b"PK\x03\x04"]),
    ),
    st.sampled_from(["piece.pdf", "contrats.csv", "", "../../x.pdf", "é" * 300 + ".pdf", "a\x00.pdf"]),
)


def valeurs_du_champ(champ: Champ) -> st.SearchStrategy[list]:
    if champ.genre == "file":
        return st.one_of(st.lists(fichier, min_size=1, max_size=1), st.just([]))
    hostile = st.one_of(texte_hostile, nombre_texte, date_texte)
    choix = [st.just(champ.valeurs), st.lists(hostile, min_size=1, max_size=2), st.just([])]
    if champ.options:
        choix.append(st.lists(st.sampled_from(champ.options), min_size=1, max_size=3, unique=True))
    if champ.genre == "hidden":  # la version lue : gardée le plus souvent, pour aller au-delà du conflit
        choix = [st.just(champ.valeurs)] * 3 + choix
    return st.one_of(*choix)


def envoi(champs: dict[str, Champ]) -> st.SearchStrategy[list[tuple[str, object]]]:
    noms = sorted(champs)
    return st.tuples(*(valeurs_du_champ(champs[nom]) for nom in noms)).map(
        lambda valeurs: [(nom, valeur) for nom, liste in zip(noms, valeurs, strict=True) for valeur in liste]
    )


def _multidict(paires):
    from werkzeug.datastructures import MultiDict

    copie = []
    for nom, valeur in paires:
        if isinstance(valeur, tuple):  # un fichier : un flux neuf à chaque envoi
            flux, nom_fichier = valeur
            valeur = (io.BytesIO(flux.getvalue()), nom_fichier)
        copie.append((nom, valeur))
    return MultiDict(copie)


# --- Le banc -----------------------------------------------------------------------------------------


class _Erreurs(logging.Handler):
    """Les exceptions que le gestionnaire d'erreurs de l'application journalise avant de rendre la 500."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.enregistrements: list[logging.LogRecord] = []

    def emit(self, enregistrement):
        self.enregistrements.append(enregistrement)


@pytest.fixture
def erreurs_journalisees():
    recepteur = _Erreurs()
    journal = logging.getLogger("dauphin")
    journal.addHandler(recepteur)
    yield recepteur
    journal.removeHandler(recepteur)


@pytest.fixture
def objets_etendus(app, objets, monde, db):  # noqa: F811  (la fixture importée de la matrice)
    """Les objets de la matrice, plus une ligne votée (engagement, corrections), la ligne de la commune pas
    encore prise en charge et un vrai lien d'invitation."""
    from dauphin.models import Demande, Invitation, RoleStructure
    from dauphin.services.comptes import lien_invitation, lien_reinitialisation
    from tests.fabriques_db import utilisateur

    lignes = db.session.get(Demande, objets["demande"]).lignes_financement
    etat = next(lf.organisation_id for lf in lignes if lf.id == objets["ligne"])
    commune = next(lf.id for lf in lignes if lf.organisation_id == monde.commune.id)
    justifier = db.session.get(Demande, objets["justifier"])
    votee = next(lf for lf in justifier.lignes_financement if lf.organisation_id == etat)
    invitation = Invitation(  # adressée à un compte existant, qui peut l'accepter
        structure_id=objets["structure"],
        email=monde.signataire_autre.email,
        role=RoleStructure.contributeur,
        invite_par_id=objets["comptes"]["administrateur"].id,
        expire_le=db.session.get(Invitation, objets["invitation"]).expire_le,
    )
    db.session.add(invitation)
    db.session.commit()
    oublieux = utilisateur("oublieux@test.fr")  # son propre compte : le réinitialiser ne gêne personne
    db.session.add(oublieux)
    db.session.commit()
    with app.test_request_context():
        lien = _cle(lien_invitation(invitation))
        reinitialisation = _cle(lien_reinitialisation(oublieux))
    comptes = {**objets["comptes"], "instructeur_commune": monde.instructeur_commune}
    return {
        **objets,
        "comptes": comptes,
        "ligne_votee": votee.id,
        "ligne_commune": commune,
        "lien_invitation": lien,
        "lien_reinitialisation": reinitialisation,
    }


@pytest.fixture(scope="module", autouse=True)
def _bilan():
    yield
    for route, statuts in sorted(BILAN.items()):
        print(f"{route} : {dict(sorted(statuts.items()))}")


def test_chaque_route_post_des_ecrans_est_couverte(app):
    routes = routes_post(app)
    assert len(routes) >= 60
    assert set(routes) <= set(MATRICE), "Route POST sans entrée dans la matrice des autorisations"
    familles = {endpoint.split(".")[0] for endpoint in routes}
    assert familles == set(FAMILLES), "Famille de routes POST sans test : ajoutez-la à FAMILLES"


FAMILLES = (
    "administration",
    "auth",
    "comites",
    "comptes",
    "demandes",
    "documents",
    "engagements",
    "instruction",
    "jetons",
    "justification",
    "pilotage",
    "structures",
    "webhooks",
)


@pytest.mark.proprietes
@pytest.mark.parametrize("famille", FAMILLES)
def test_aucune_saisie_ne_provoque_d_erreur_serveur(
    app, client, objets_etendus, erreurs_journalisees, famille
):
    o = objets_etendus
    endpoints = sorted((e for e in routes_post(app) if e.split(".")[0] == famille), key=_rang)
    cas = [Cas(e, url, role) for e in endpoints for url, role in _variantes(e, o)]
    client_isole = ClientIsole(client)
    # Les formulaires tels que le monde neuf les montre : une action que les envois précédents ont rendue
    # impossible (la page ne la propose plus) est quand même essayée, avec les champs de ce premier relevé.
    releve: dict[tuple[str, str], tuple[str, dict[str, Champ]]] = {}
    for role in dict.fromkeys(un.role for un in cas):
        _connecter(client_isole, o, role)
        pages = dict.fromkeys(page for un in cas if un.role == role for page in _pages_candidates(app, o, un))
        for page in pages:
            for action, champs in _formulaires_de(client_isole, page).items():
                releve.setdefault((role, action), (page, champs))
    echecs: list[str] = []
    for un in cas:
        try:
            _essayer(app, client_isole, o, un, releve, erreurs_journalisees)
        except Exception as erreur:  # on essaie toutes les routes, puis on les signale toutes
            notes = "\n".join(getattr(erreur, "__notes__", []))
            echecs.append(
                f"POST {un.url} ({un.endpoint}, {un.role}) : {type(erreur).__name__}: {erreur}\n{notes}"
            )
    assert not echecs, "\n\n".join(echecs)


def _connecter(client, o, role):
    limiter.reset()  # les saisies refusées de la page de connexion ne comptent pas contre le banc
    g.pop("_login_user", None)
    client.post("/compte/deconnexion")
    if role != "anonyme":
        reponse = se_connecter(client, o["comptes"][role].email)
        assert reponse.status_code == 302, f"Connexion impossible pour {role} ({reponse.status_code})"


def _pages_candidates(app, o, un: Cas) -> list[str]:
    pages = []
    if "GET" in next(r.methods for r in app.url_map.iter_rules() if r.endpoint == un.endpoint):
        pages.append(un.url)
    pages += [
        f"/dossiers/{o['demande']}",
        f"/dossiers/{o['justifier']}",
        f"/demandes/{o['brouillon']}/etape/recapitulatif",
        f"/administration/comptes/{o['contributeur_id']}",
        f"/administration/comptes/{o['pilote_id']}",
        f"/administration/comptes/{o['instructeur_id']}",
        "/administration/organisations",
        "/",
    ]
    famille = un.endpoint.split(".")[0]
    for endpoint, entree in MATRICE.items():
        if entree.methode == "GET" and un.role in entree.ok and endpoint.split(".")[0] == famille:
            pages.append(entree.url(o))
    for endpoint in (
        "structures.voir",
        "comites.voir",
        "documents.porte_documents",
        "usager.tableau_de_bord",
    ):
        if un.role in MATRICE[endpoint].ok:
            pages.append(MATRICE[endpoint].url(o))
    return list(dict.fromkeys(pages))


def _formulaires_de(client, page: str) -> dict[str, dict[str, Champ]]:
    g.pop("_login_user", None)
    reponse = client.get(page)
    assert reponse.status_code < 500, f"GET {page} : erreur {reponse.status_code}"
    if reponse.status_code != 200 or "text/html" not in reponse.content_type:
        return {}
    return formulaires(reponse.get_data(as_text=True), _cle(page))


def _essayer(app, client, o, un: Cas, releve, erreurs: _Erreurs) -> None:
    _connecter(client, o, un.role)
    cible = _cle(un.url)
    champs = None
    if (un.role, cible) in releve:
        page, champs = releve[(un.role, cible)]
        champs = _formulaires_de(client, page).get(cible, champs)  # la version et les options du moment
    else:  # un envoi précédent (ouvrir le vote, soumettre, archiver…) a pu faire apparaître le formulaire
        for page in _pages_candidates(app, o, un):
            champs = _formulaires_de(client, page).get(cible)
            if champs is not None:
                break
    if champs is None and un.endpoint in SANS_PAGE:
        with app.test_request_context():
            champs = {nom: Champ() for nom in SANS_PAGE[un.endpoint][1](un.url) if nom != "csrf_token"}
    if champs is None:
        raise AssertionError(f"Aucune page ne porte le formulaire de {un.url} pour {un.role}")

    def partout(valeur):  # la même valeur dans chaque champ saisi ; la version lue est gardée
        return [
            (nom, (c.valeurs[0] if c.valeurs else "") if c.genre == "hidden" else valeur)
            for nom, c in sorted(champs.items())
            if c.genre != "file"
        ]

    @REGLAGES
    @given(paires=envoi(champs))
    @example(paires=[(nom, c.valeurs[0] if c.valeurs else "") for nom, c in sorted(champs.items())])
    @example(paires=partout("9" * 40))  # montant de 40 chiffres : InvalidOperation (MontantField)
    @example(paires=partout("9" * 400))  # entier au-delà de 10^308 : OverflowError (NumberRange)
    @example(paires=partout("99999999999999999999"))  # identifiant hors des bornes d'une clé
    @example(paires=partout("-1"))
    @example(paires=partout("9999-12-31"))
    @example(paires=partout("\x00"))
    def essai(paires):
        erreurs.enregistrements.clear()
        g.pop("_login_user", None)
        reponse = client.post(un.url, data=_multidict(paires), content_type="multipart/form-data")
        BILAN.setdefault(f"{un.endpoint} {un.url}", Counter())[reponse.status_code] += 1
        if reponse.status_code >= 500:
            traces = "\n".join(
                logging.Formatter().formatException(e.exc_info) for e in erreurs.enregistrements if e.exc_info
            )
            raise AssertionError(f"Erreur {reponse.status_code}\n{traces}")
        if reponse.status_code in (409, 422) and reponse.mimetype == "text/html":
            # Une saisie renvoyée le dit une fois en tête du titre : jamais « Erreur : Erreur : », ni rien
            titre_page = re.search(r"<title>(.*?)</title>", reponse.get_data(as_text=True), re.S)
            attendu = r"(Erreur|Conflit) : (?!(Erreur|Conflit) : )"
            assert titre_page and re.match(attendu, titre_page.group(1)), (un.url, titre_page)
        if (
            un.endpoint == "auth.deconnexion"
            or reponse.status_code == 302
            and "/compte/connexion" in (reponse.headers.get("Location", ""))
        ):
            _connecter(client, o, un.role)  # déconnecté par l'envoi : on se reconnecte pour le suivant

    essai()


# --- Contre-exemples trouvés, gardés tels quels ----------------------------------------------------------


def test_piece_choisie_pour_un_autre_type_refusee_a_cote_du_champ(client, connexion, db, monde):
    """Les statuts retirés et le même document choisi comme « liste des dirigeants » : l'insertion de la
    nouvelle pièce passait avant la suppression de l'ancienne (IntegrityError, erreur 500)."""
    from tests.fabriques_db import demande_complete

    demande = demande_complete(monde)
    document_id = demande.pieces_jointes[0].document_id
    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        f"/demandes/{demande.id}/etape/pieces",
        data={"version": demande.version, "piece_statuts": "0", "piece_liste_dirigeants": str(document_id)},
    )
    assert reponse.status_code == 422
    assert "Choisissez l’un des documents proposés pour cette pièce." in reponse.get_data(as_text=True)


@pytest.mark.parametrize("campagne_id", ["", "x", "99999999999999999999", "-1"])
def test_nouvelle_demande_sans_campagne_lisible(client, connexion, monde, campagne_id):
    """Sans identifiant de campagne, `Session.get(Campagne, None)` avertissait (erreur sous pytest) ; hors des
    bornes d'une clé, SQLite lève OverflowError : la réponse est une 404."""
    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        "/demandes/nouvelle", data={"structure_id": monde.structure.id, "campagne_id": campagne_id}
    )
    assert reponse.status_code == 404
