"""Ressources du Système de design de l'État (DSFR) servies par l'application.

Le paquet npm ``@gouvfr/dsfr`` est installé dans ``node_modules/`` (``npm ci --ignore-scripts``,
lancé par ``make run``) et n'est pas copié dans le dépôt. Ce blueprint sert son dossier ``dist``
sous ``/dsfr/`` : ``url_for("dsfr.fichier", filename="dsfr.min.css")``.

Les URL produites portent la version du DSFR (``?v=1.15.3``) : le cache navigateur peut donc être
long sans risquer de garder d'anciens fichiers après une montée de version.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory

#: Racine du projet : le dossier parent du paquet ``dauphin/``.
RACINE_PROJET = Path(__file__).resolve().parent.parent

#: Emplacement par défaut du dossier ``dist`` du DSFR.
DSFR_DIST_PAR_DEFAUT = RACINE_PROJET / "node_modules" / "@gouvfr" / "dsfr" / "dist"

#: Durée de cache par défaut des fichiers du DSFR (un an, en secondes).
DUREE_CACHE_PAR_DEFAUT = 365 * 24 * 3600

bp = Blueprint("dsfr", __name__, url_prefix="/dsfr")


def _dossier_dist(app: Flask) -> Path:
    """Chemin absolu du dossier ``dist`` du DSFR (un chemin relatif part de la racine du projet)."""
    dossier = Path(app.config["DSFR_DIST"])
    if not dossier.is_absolute():
        dossier = RACINE_PROJET / dossier
    return dossier


def _version(dossier: Path) -> str | None:
    """Version du paquet installé, lue dans son ``package.json`` (``None`` si illisible)."""
    try:
        with (dossier.parent / "package.json").open(encoding="utf-8") as fichier:
            return json.load(fichier).get("version")
    except (OSError, ValueError):
        return None


@bp.route("/<path:filename>", endpoint="fichier", methods=["GET"])
def fichier(filename: str):
    """Sert un fichier du dossier ``dist`` du DSFR ; 404 si le fichier ou le dossier manque."""
    dossier = current_app.extensions["dauphin.dsfr"]["dossier"]
    if not dossier.is_dir():
        abort(404)
    # send_from_directory refuse les chemins qui sortent du dossier (404).
    return send_from_directory(dossier, filename, max_age=current_app.config["DSFR_CACHE_MAX_AGE"])


@bp.url_defaults
def _ajouter_version(endpoint: str, values: dict) -> None:
    """Ajoute ``?v=<version du DSFR>`` aux URL des fichiers du DSFR (invalidation du cache)."""
    version = current_app.extensions["dauphin.dsfr"]["version"]
    if version and "v" not in values:
        values["v"] = version


def init_app(app: Flask) -> None:
    """Enregistre le blueprint ``dsfr`` ; avertit au démarrage si le DSFR n'est pas installé."""
    app.config.setdefault("DSFR_DIST", str(DSFR_DIST_PAR_DEFAUT))
    app.config.setdefault("DSFR_CACHE_MAX_AGE", DUREE_CACHE_PAR_DEFAUT)

    dossier = _dossier_dist(app)
    version = _version(dossier)
    app.extensions["dauphin.dsfr"] = {"dossier": dossier, "version": version}

    if not (dossier / "dsfr.min.css").is_file():
        app.logger.warning(
            "DSFR introuvable dans %s : les pages s'afficheront sans le Système de design de l'État "
            "et /dsfr/… répondra 404. Installez-le avec « make run » ou « npm ci --ignore-scripts » "
            "à la racine du projet (ou réglez DSFR_DIST).",
            dossier,
        )

    app.register_blueprint(bp)
