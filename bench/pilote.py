"""Le client HTTP d'un utilisateur simulé : connexion par le vrai formulaire (jeton CSRF compris),
lecture des formulaires d'une page comme le ferait un navigateur, requêtes chronométrées."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

ENTETE_REQUETES_SQL = "X-Requetes-SQL"


class ErreurScenario(RuntimeError):
    """Réponse inattendue (statut, formulaire introuvable) : comptée comme erreur du scénario."""


class _LecteurFormulaires(HTMLParser):
    """Les champs de chaque <form> d'une page, avec les valeurs qu'un navigateur enverrait."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.formulaires: list[dict] = []
        self._courant: dict | None = None
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._premiere_option: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, balise, attributs):
        a = {k: (v if v is not None else "") for k, v in attributs}
        if balise == "form":
            self._courant = {
                "action": a.get("action", ""),
                "methode": a.get("method", "get").lower(),
                "champs": [],
                "cases": [],  # toutes les cases à cocher, cochées ou non
            }
            self.formulaires.append(self._courant)
        elif self._courant is None:
            return
        elif balise == "input" and a.get("name"):
            genre = a.get("type", "text").lower()
            if genre == "checkbox":
                self._courant["cases"].append(a["name"])
            if genre in ("checkbox", "radio") and "checked" not in a:
                return
            if genre in ("submit", "button", "file", "image", "reset"):
                return
            self._courant["champs"].append((a["name"], a.get("value", "on" if genre == "checkbox" else "")))
        elif balise == "select" and a.get("name"):
            self._select = a["name"]
        elif balise == "option" and self._select:
            valeur = a.get("value")
            self._premiere_option.setdefault(self._select, valeur or "")
            if "selected" in a:
                self._courant["champs"].append((self._select, valeur or ""))
                self._premiere_option[self._select] = None  # choisie explicitement
        elif balise == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._courant["champs"].append((self._textarea, ""))

    def handle_data(self, texte):
        if self._textarea and self._courant:
            nom, valeur = self._courant["champs"][-1]
            self._courant["champs"][-1] = (nom, valeur + texte)

    def handle_endtag(self, balise):
        if balise == "select" and self._select:
            premiere = self._premiere_option.pop(self._select, None)
            if premiere is not None and self._courant is not None:
                self._courant["champs"].append((self._select, premiere))
            self._select = None
        elif balise == "textarea":
            self._textarea = None
        elif balise == "form":
            self._courant = None


def formulaires(html: str) -> list[dict]:
    lecteur = _LecteurFormulaires()
    lecteur.feed(html)
    return lecteur.formulaires


def formulaire(html: str, action_contient: str | None = None) -> dict:
    """Le premier formulaire POST dont l'action contient `action_contient` ; sans elle, celui qui se
    renvoie à la page elle-même (pas d'attribut action), comme le formulaire d'une étape."""
    for f in formulaires(html):
        if f["methode"] != "post":
            continue
        if (action_contient is None and not f["action"]) or (
            action_contient and action_contient in f["action"]
        ):
            return f
    raise ErreurScenario(f"formulaire « {action_contient or 'de la page'} » introuvable")


def donnees(form: dict, **remplacements) -> dict[str, list[str]]:
    """Les champs du formulaire, certains remplacés (les autres gardent la valeur affichée)."""
    champs: dict[str, list[str]] = {}
    for nom, valeur in form["champs"]:
        if nom not in remplacements:
            champs.setdefault(nom, []).append(valeur)
    for nom, valeur in remplacements.items():
        champs[nom] = [str(valeur)]
    return champs


@dataclass
class Mesure:
    duree_ms: float
    statut: int
    requetes_sql: int | None


@dataclass
class Utilisateur:
    """Un navigateur simulé : ses cookies, et les mesures des requêtes qu'il a faites."""

    base: str
    email: str
    mot_de_passe: str
    client: httpx.Client = field(init=False)

    def __post_init__(self):
        self.client = httpx.Client(base_url=self.base, follow_redirects=False, timeout=120.0)

    def fermer(self) -> None:
        self.client.close()

    def requete(self, methode: str, url: str, attendu: tuple[int, ...] = (200,), **kwargs):
        debut = time.perf_counter()
        reponse = self.client.request(methode, url, **kwargs)
        reponse.read()
        duree = (time.perf_counter() - debut) * 1000
        sql = reponse.headers.get(ENTETE_REQUETES_SQL)
        mesure = Mesure(duree, reponse.status_code, int(sql) if sql is not None else None)
        if reponse.status_code not in attendu:
            raise ErreurScenario(f"{methode} {url} : {reponse.status_code} (attendu {attendu})", mesure)
        return reponse, mesure

    def get(self, url: str, **kwargs):
        return self.requete("GET", url, **kwargs)

    def post_formulaire(
        self,
        page: str,
        action_contient: str | None = None,
        attendu=(302, 303),
        entetes: dict | None = None,
        **remplacements,
    ):
        """GET de la page (non chronométré dans les résultats), puis POST du formulaire tel qu'un
        navigateur l'enverrait ; renvoie la réponse et la mesure du POST."""
        reponse, _ = self.get(page)
        return self.envoyer(reponse, action_contient, attendu, entetes, **remplacements)

    def envoyer(
        self, page, action_contient: str | None = None, attendu=(302, 303), entetes=None, **remplacements
    ):
        """POST d'un formulaire d'une page déjà lue."""
        form = formulaire(page.text, action_contient)
        cible = urljoin(str(page.url), form["action"]) if form["action"] else str(page.url)
        return self.requete(
            "POST", cible, attendu=attendu, data=donnees(form, **remplacements), headers=entetes or {}
        )

    def se_connecter(self) -> None:
        """Par le vrai formulaire : GET (jeton CSRF dans la session), POST, redirection attendue."""
        self.post_formulaire("/compte/connexion", email=self.email, mot_de_passe=self.mot_de_passe)
