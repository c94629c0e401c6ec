"""Lire les champs d'un formulaire HTML rendu, comme un navigateur les enverrait (sans JavaScript)."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Lecteur(HTMLParser):
    def __init__(self, action: str | None):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.dans_formulaire = False
        self.champs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_valeur: str | None = None
        self._premiere_option: str | None = None
        self._textarea: str | None = None
        self._texte: list[str] = []

    def handle_starttag(self, balise, attributs):
        a = dict(attributs)
        if balise == "form":
            self.dans_formulaire = a.get("method", "get").lower() == "post" and (
                self.action is None or a.get("action") in (None, "", self.action)
            )
        if not self.dans_formulaire:
            return
        if balise == "input" and a.get("name"):
            genre = a.get("type", "text")
            if genre in ("checkbox", "radio"):
                if "checked" in a:
                    self.champs.append((a["name"], a.get("value", "y")))
            elif genre not in ("submit", "button", "file"):
                self.champs.append((a["name"], a.get("value") or ""))
        elif balise == "select":
            self._select, self._select_valeur, self._premiere_option = a.get("name"), None, None
        elif balise == "option" and self._select:
            if self._premiere_option is None:
                self._premiere_option = a.get("value", "")
            if "selected" in a:
                self._select_valeur = a.get("value", "")
        elif balise == "textarea":
            self._textarea, self._texte = a.get("name"), []

    def handle_endtag(self, balise):
        if balise == "form":
            self.dans_formulaire = False
        elif balise == "select" and self._select:
            valeur = self._select_valeur if self._select_valeur is not None else self._premiere_option
            self.champs.append((self._select, valeur or ""))
            self._select = None
        elif balise == "textarea" and self._textarea:
            self.champs.append((self._textarea, "".join(self._texte).removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None

    def handle_data(self, donnees):
        if self._textarea:
            self._texte.append(donnees)


def champs(html: str, action: str | None = None) -> dict[str, str]:
    """Les champs des formulaires POST de la page (ou de celui dont l'action est `action`)."""
    lecteur = _Lecteur(action)
    lecteur.feed(html)
    return dict(lecteur.champs)


# --- Lire une réponse du client de test ---------------------------------------------------------


def html(reponse) -> str:
    return reponse.get_data(as_text=True)


def titre(reponse) -> str:
    return re.search(r"<title>(.*?)</title>", html(reponse), re.S).group(1).strip()


def erreur_du_champ(reponse, identifiant: str) -> str | None:
    trouve = re.search(
        rf'<p id="{re.escape(identifiant)}-erreur" class="fr-error-text">(.*?)</p>', html(reponse), re.S
    )
    return trouve.group(1).strip() if trouve else None
