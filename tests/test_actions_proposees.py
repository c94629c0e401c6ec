"""Aucun écran ne propose une action que le compte ne peut pas faire.

Pour chaque rôle de la matrice des autorisations, chaque page qu'il a le droit de voir est ouverte, et chaque
page où elle mène (un niveau de plus : les étapes d'une demande, les pages d'action) ; chaque lien et chaque
formulaire qu'elles lui montrent est suivi. Aucun ne doit répondre 403 — un bouton qui mène à un
refus est un bouton de trop — ni 404 : un lien mort est une impasse.

Un lien est suivi par GET ; un formulaire dont la route s'ouvre aussi en GET (page de confirmation ou de
saisie) l'est par GET, sans rien changer ; les autres sont envoyés avec leurs seuls champs cachés (le droit
se vérifie avant la saisie), chaque rôle dans un monde neuf.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from dauphin.extensions import db as _db
from dauphin.models import Document
from dauphin.services.documents import cle_du_fichier, effacer, existe
from dauphin.stockage import stockage
from tests.test_matrice_autorisations import MATRICE, ROLES, objets  # noqa: F401 (la fixture)

# Les cibles qui changent la session plutôt qu'un objet : les suivre couperait la visite.
NON_SUIVIES = {"/compte/deconnexion"}
EXTERNES = ("http://", "https://", "mailto:", "tel:", "#", "javascript:")


class Cibles(HTMLParser):
    """Les liens et formulaires du contenu principal d'une page (pas l'en-tête ni le pied de page, communs
    à toutes les pages et vérifiés par tests/test_acces_et_navigation.py) : {(méthode, adresse): champs
    cachés du formulaire}."""

    def __init__(self, page: str):
        super().__init__()
        self.page, self.profondeur_main, self.cibles, self.formulaire = page, 0, {}, None

    def handle_starttag(self, balise, attributs):
        attributs = dict(attributs)
        if balise == "main":
            self.profondeur_main += 1
        if not self.profondeur_main:
            return
        if balise == "a" and attributs.get("href"):
            self._ajouter("GET", attributs["href"])
        elif balise == "form":
            methode = (attributs.get("method") or "GET").upper()
            self.formulaire = self._ajouter(methode, attributs.get("action") or self.page)
        elif balise == "input" and attributs.get("type") == "hidden" and self.formulaire is not None:
            self.formulaire[attributs.get("name")] = attributs.get("value") or ""
        elif balise == "button" and attributs.get("formaction"):
            self._ajouter((attributs.get("formmethod") or "POST").upper(), attributs["formaction"])

    def handle_endtag(self, balise):
        if balise == "main" and self.profondeur_main:
            self.profondeur_main -= 1
        if balise == "form":
            self.formulaire = None

    def _ajouter(self, methode: str, url: str) -> dict | None:
        url = urldefrag(url).url
        if not url or url.startswith(EXTERNES) or url.startswith(("/static/", "/dsfr/")):
            return None
        if not url.startswith("/"):
            url = self.page.rsplit("/", 1)[0] + "/" + url
        return self.cibles.setdefault((methode, url), {})


def _cibles(client, url: str) -> dict[tuple[str, str], dict]:
    reponse = client.get(url)
    if reponse.status_code != 200 or reponse.mimetype != "text/html":
        return {}
    lecteur = Cibles(urlsplit(url).path)
    lecteur.feed(reponse.get_data(as_text=True))
    return lecteur.cibles


def _s_ouvre_en_get(app, url: str) -> bool:
    try:
        app.url_map.bind("localhost").match(urlsplit(url).path, method="GET")
    except HTTPException:
        return False
    return True


@pytest.fixture
def fichiers_sur_le_disque(objets):  # noqa: F811
    """Chaque document déposé existe sur le disque (la fixture de la matrice n'en écrit qu'un) ; ceux
    écrits ici sont effacés à la fin : une clé de stockage peut resservir au test suivant."""
    ecrits = []
    for document in _db.session.scalars(select(Document)):
        if not existe(document.cle_stockage):
            stockage().ecrire(cle_du_fichier(document.cle_stockage), b"%PDF-1.4\n%%EOF\n")
            ecrits.append(document.cle_stockage)
    yield
    for cle in ecrits:
        effacer(cle)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonyme"])
def test_aucune_page_ne_propose_une_action_refusee(
    app,
    connexion,
    client,
    objets,  # noqa: F811 (la fixture importée)
    fichiers_sur_le_disque,
    role,
):
    compte = objets["comptes"][role]
    connexion.en_tant_que(compte)
    pages = {
        entree.url(objets) for entree in MATRICE.values() if entree.methode == "GET" and role in entree.ok
    }
    cibles: dict[tuple[str, str], dict] = {}
    for page in pages:
        cibles.update(_cibles(client, page))
    for methode, url in list(cibles):  # un niveau de plus
        if methode == "GET" and url not in pages and urlsplit(url).path not in NON_SUIVIES:
            cibles.update((cle, champs) for cle, champs in _cibles(client, url).items() if cle not in cibles)
    ecarts = []
    for (methode, url), champs in sorted(cibles.items(), key=lambda c: (c[0][0] != "GET", c[0][1])):
        if urlsplit(url).path in NON_SUIVIES:
            continue
        if methode == "POST" and _s_ouvre_en_get(app, url):
            methode, champs = "GET", None
        reponse = client.open(url, method=methode, data=champs if methode == "POST" else None)
        reponse.close()
        if reponse.status_code in (403, 404):
            ecarts.append(f"{methode} {url} → {reponse.status_code}")
        if methode == "POST":  # une action a pu changer la session : on se reconnecte
            connexion.deconnexion()
            connexion.en_tant_que(compte)
    assert ecarts == [], f"Actions proposées au rôle « {role} » mais refusées :\n" + "\n".join(ecarts)
