"""`url_fixe` : l'adresse d'une page ou d'un fichier qui ne dépend que de ses arguments, calculée une fois."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from flask import current_app, request, url_for


def url_fixe(endpoint: str, **valeurs) -> str:
    """`url_for` pour une adresse qui ne dépend que de ses arguments (fichiers du DSFR et de l'application,
    pages sans paramètre), calculée une fois par processus et par préfixe de l'application (SCRIPT_NAME) au
    lieu d'une fois par page : la mise en page de chaque page en écrit une vingtaine, à 20 à 60 µs chacune
    (les fichiers du DSFR portent leur version, voir `dsfr.py`). Jamais pour une adresse qui dépend de la
    requête (page suivante, filtres) : elle serait servie à tous telle que la première requête l'a faite."""
    _relative(valeurs)
    urls = current_app.extensions.setdefault("dauphin.urls_fixes", {})
    cle = (request.script_root, endpoint, *sorted(valeurs.items()))
    url = urls.get(cle)
    if url is None:
        url = urls[cle] = url_for(endpoint, **valeurs)
    return url


def urls_fixes(nom: str, table: Mapping[str, tuple[str, dict]]) -> Mapping[str, str]:
    """Les adresses de `table` (clé → (endpoint, arguments)), chacune celle de `url_fixe`, rangées ensemble
    sous `nom` : un seul appel et une seule recherche par page pour toutes les adresses de la mise en page
    (base.html en écrit une vingtaine) ou de la navigation, au lieu d'un appel par adresse. Un nom désigne
    une seule table (gardée le temps du processus) : le réutiliser pour une autre lève ValueError, au lieu
    de rendre les adresses de la première."""
    tables = current_app.extensions.setdefault("dauphin.urls_fixes_tables", {})
    if tables.setdefault(nom, table) is not table:
        raise ValueError(f"urls_fixes : « {nom} » désigne déjà une autre table d'adresses.")
    groupes = current_app.extensions.setdefault("dauphin.urls_fixes_groupees", {})
    cle = (request.script_root, nom)
    urls = groupes.get(cle)
    if urls is None:
        urls = groupes[cle] = MappingProxyType(
            {clef: url_fixe(endpoint, **valeurs) for clef, (endpoint, valeurs) in table.items()}
        )
    return urls


SENTINELLE = 918273645  # un identifiant de demande qu'aucune autre partie d'une adresse ne contient


def url_de_demande(endpoint: str, demande_id: int, **valeurs) -> str:
    """`url_for(endpoint, demande_id=demande_id, **valeurs)` pour les lignes d'une liste : l'adresse est
    construite une fois par processus (et par préfixe) avec un identifiant témoin, puis chaque ligne y met
    le sien — une liste de 25 demandes en écrit 50, à 25 µs chacune par `url_for`. Pour une règle dont
    `demande_id` est un entier (`<int:demande_id>`), écrit tel quel dans l'adresse."""
    modele = modele_de_demande(endpoint, **valeurs)
    if modele is None:  # la règle n'écrit pas l'identifiant tel quel
        return url_for(endpoint, demande_id=demande_id, **valeurs)
    return f"{modele[0]}{int(demande_id)}{modele[1]}"


def modele_de_demande(endpoint: str, **valeurs) -> tuple[str, str] | None:
    """L'adresse de `url_de_demande` coupée autour de l'identifiant (avant, après), construite une fois par
    processus (et par préfixe) ; None si la règle ne l'écrit pas tel quel. Pour une liste qui échappe ses
    adresses : les deux morceaux une fois, pas l'adresse de chaque ligne."""
    _relative(valeurs)
    modeles = current_app.extensions.setdefault("dauphin.urls_de_demande", {})
    cle = (request.script_root, endpoint, *sorted(valeurs.items()))
    if cle not in modeles:
        modeles[cle] = _modele(endpoint, "demande_id", valeurs)
    return modeles[cle]


def url_par_identifiant(endpoint: str, cle: str, /, **valeurs) -> Callable[[int], str]:
    """Pour les lignes d'une page : `adresse(ident)` vaut `url_for(endpoint, **dict(valeurs, cle=ident))`.
    L'adresse dépend de la requête (les filtres de la page, dans `valeurs`) : construite une fois par page,
    pas par processus, avec un identifiant témoin que chaque ligne remplace par le sien (25 `url_for` et
    leurs encodages de paramètres de moins par page de liste). `cle` : un paramètre entier."""
    _relative(valeurs)
    modele = _modele(endpoint, cle, valeurs)
    if modele is None:
        return lambda ident: url_for(endpoint, **dict(valeurs, **{cle: ident}))
    avant, apres = modele
    return lambda ident: f"{avant}{int(ident)}{apres}"


# Les textes qu'une adresse écrit tels quels (ni encodés ni échappés) : les valeurs de `url_par_textes`.
_TEXTE_TEL_QUEL = re.compile(r"[A-Za-z0-9_]+")


def url_par_textes(endpoint: str, cles: tuple[str, ...], /, **valeurs) -> Callable[..., str]:
    """Pour les liens d'une page qui ne diffèrent que par quelques paramètres de texte (onglet, tri, ordre) :
    `adresse(*textes)` vaut `url_for(endpoint, **dict(valeurs, **dict(zip(cles, textes))))`. Construite une
    fois par page avec des témoins, que chaque lien remplace par ses textes, quand ceux-ci s'écrivent tels
    quels (lettres, chiffres, « _ ») ; sinon, ou si un témoin n'est pas seul dans l'adresse, `url_for`."""
    _relative(valeurs)
    temoins = [f"Z{SENTINELLE}{i}Z" for i in range(len(cles))]
    adresse = url_for(endpoint, **dict(valeurs, **dict(zip(cles, temoins, strict=True))))
    if any(adresse.count(temoin) != 1 for temoin in temoins):
        return lambda *textes: url_for(endpoint, **dict(valeurs, **dict(zip(cles, textes, strict=True))))
    morceaux = re.split("|".join(temoins), adresse)  # avant, entre… , après ; dans l'ordre de l'adresse
    ordre = sorted(range(len(cles)), key=lambda i: adresse.index(temoins[i]))

    def remplir(*textes: str) -> str:
        if not all(type(texte) is str and _TEXTE_TEL_QUEL.fullmatch(texte) for texte in textes):
            return url_for(endpoint, **dict(valeurs, **dict(zip(cles, textes, strict=True))))
        resultat = [morceaux[0]]
        for rang, i in enumerate(ordre, start=1):
            resultat += (textes[i], morceaux[rang])
        return "".join(resultat)

    return remplir


def _modele(endpoint: str, cle: str, valeurs: dict) -> tuple[str, str] | None:
    """L'adresse écrite avec l'identifiant témoin pour `cle`, coupée autour de lui ; None si la règle ne
    l'écrit pas tel quel, ou qu'une autre valeur de l'adresse le contient."""
    adresse = url_for(endpoint, **dict(valeurs, **{cle: SENTINELLE}))
    if adresse.count(str(SENTINELLE)) != 1:
        return None
    avant, _, apres = adresse.partition(str(SENTINELLE))
    return avant, apres


def _relative(valeurs: dict) -> None:
    """Une adresse absolue dépend de l'hôte et du schéma de la requête, que la clé du cache ne porte pas."""
    if {"_external", "_scheme"} & valeurs.keys():
        raise ValueError("url_fixe, url_de_demande : adresses relatives seulement (url_for pour les autres).")


def parametres_de_lien(args, *exclus: str) -> dict:
    """Les paramètres d'une adresse (request.args, ou un dict) à recopier dans les liens d'une liste
    (pagination, tri, onglets), sans `exclus`, ni les noms que `url_for` se réserve (`endpoint`, et ceux qui
    commencent par « _ » : `_external`, `_anchor`…) : « ?endpoint=x » tapé dans la barre d'adresse donnait
    une erreur 500, « ?_external=1 » des liens absolus. Un MultiDict garde ses valeurs répétées
    (?statut=a&statut=b)."""
    parametres = args.to_dict(flat=False) if hasattr(args, "to_dict") else dict(args or {})
    return {
        cle: valeur
        for cle, valeur in parametres.items()
        if cle != "endpoint" and not cle.startswith("_") and cle not in exclus
    }
