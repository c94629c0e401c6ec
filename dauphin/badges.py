"""Badges de statut mémorisés, pour les listes qui en affichent un ou deux par ligne ; le bouton de détail
des lignes écrites en Python (`bouton_detail`).

La macro `badge_statut` de macros/dsfr.html reste la seule source du composant ; mais l'appeler coûte
environ 40 µs (deux macros imbriquées, `xmlattr`) et une page de 25 demandes l'appelle 50 fois. Son HTML ne
dépend que du statut, de la taille et de la balise : la globale `badge_statut` le fait rendre une fois par
la macro elle-même, puis le relit. Même HTML au caractère près (tests/unit/test_badges.py)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable

from jinja2 import Environment
from markupsafe import Markup

from forms.champs import echapper


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


# Les témoins mis à la place des textes du bouton de détail : des caractères que l'échappement laisse
# tels quels et qu'aucun texte du gabarit ne contient.
_TEMOINS = {nom: f"\x00{nom}\x00" for nom in ("controles", "libelle", "precision")}
_BOUTONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def bouton_detail(env: Environment) -> Callable[[str, str, Iterable, str], str]:
    """La macro `bouton_detail` de macros/dsfr.html, pour les lignes d'une liste écrites en Python : mêmes
    arguments, même HTML au caractère près (tests/unit/test_tableaux_en_python.py). La macro, seule source du
    composant, est rendue une fois par version du gabarit avec des témoins à la place de ses textes ; chaque
    ligne remplit ensuite ce modèle de ses textes échappés (3 µs, et non 30 par un appel de macro). Si le
    gabarit ne se prête plus à ce modèle (un témoin absent ou répété), chaque appel rend la macro."""
    gabarit = env.get_template("macros/dsfr.html")
    bouton = _BOUTONS.get(gabarit)
    if bouton is None:
        bouton = _BOUTONS[gabarit] = _bouton_en_modele(gabarit.module.bouton_detail)
    return bouton


def _bouton_en_modele(macro) -> Callable[[str, str, Iterable, str], str]:
    # Les clés dans aria-controls : « prefixe ~ cle » séparés d'une espace ; ici, une seule clé sans préfixe.
    rendu = str(macro(_TEMOINS["libelle"], "", [_TEMOINS["controles"]], _TEMOINS["precision"]))
    if any(rendu.count(temoin) != 1 for temoin in _TEMOINS.values()):
        # Un str, comme `remplir` : « "<br>" + Markup » échapperait le « <br> » de l'appelant.
        return lambda libelle, prefixe, cles, precision: str(macro(libelle, prefixe, cles, precision))
    modele = rendu.replace("{", "{{").replace("}", "}}")
    for nom, temoin in _TEMOINS.items():
        modele = modele.replace(temoin, "{" + nom + "}")

    def remplir(libelle: str, prefixe: str, cles: Iterable, precision: str) -> str:
        return modele.format(
            controles=echapper(" ".join([f"{prefixe}{cle}" for cle in cles])),
            libelle=echapper(libelle),
            precision=echapper(precision),
        )

    return remplir
