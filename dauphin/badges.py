"""Badges de statut mémorisés, pour les listes qui en affichent un ou deux par ligne.

La macro `badge_statut` de macros/dsfr.html reste la seule source du composant ; mais l'appeler coûte
environ 40 µs (deux macros imbriquées, `xmlattr`) et une page de 25 demandes l'appelle 50 fois. Son HTML ne
dépend que du statut, de la taille et de la balise : la globale `badge_statut` le fait rendre une fois par
la macro elle-même, puis le relit. Même HTML au caractère près (tests/unit/test_badges.py)."""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup


class BadgesStatut:
    def __init__(self, env: Environment):
        self.env = env
        self.rendus: dict[tuple, Markup] = {}

    def __call__(self, statut, petit: bool = False, balise: str = "p") -> Markup:
        # Le type compte : deux énumérations peuvent avoir la même valeur et des libellés différents.
        cle = (type(statut), statut, petit, balise)
        rendu = self.rendus.get(cle)
        if rendu is None:
            macro = self.env.get_template("macros/dsfr.html").module.badge_statut
            rendu = Markup(macro(statut, petit=petit, balise=balise))
            if not self.env.auto_reload:  # en développement, un gabarit modifié se relit
                self.rendus[cle] = rendu
        return rendu
