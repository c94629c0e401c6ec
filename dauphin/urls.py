"""`url_fixe` : l'adresse d'une page ou d'un fichier qui ne dépend que de ses arguments, calculée une fois."""

from __future__ import annotations

from flask import current_app, request, url_for


def url_fixe(endpoint: str, **valeurs) -> str:
    """`url_for` pour une adresse qui ne dépend que de ses arguments (fichiers du DSFR et de l'application,
    pages sans paramètre), calculée une fois par processus et par préfixe de l'application (SCRIPT_NAME) au
    lieu d'une fois par page : la mise en page de chaque page en écrit une vingtaine, à 20 à 60 µs chacune
    (les fichiers du DSFR portent leur version, voir `dsfr.py`). Jamais pour une adresse qui dépend de la
    requête (page suivante, filtres) : elle serait servie à tous telle que la première requête l'a faite."""
    urls = current_app.extensions.setdefault("dauphin.urls_fixes", {})
    cle = (request.script_root, endpoint, *sorted(valeurs.items()))
    url = urls.get(cle)
    if url is None:
        url = urls[cle] = url_for(endpoint, **valeurs)
    return url
