"""Ressources du Système de design de l'État (DSFR) servies par l'application.

Le paquet npm ``@gouvfr/dsfr`` est installé dans ``node_modules/`` (``npm ci --ignore-scripts``,
lancé par ``make run``) et n'est pas copié dans le dépôt. Ce blueprint sert son dossier ``dist``
sous ``/dsfr/`` : ``url_for("dsfr.fichier", filename="dsfr.min.css")``.

Les URL produites portent la version du DSFR (``?v=1.15.3``) : le cache navigateur peut donc être
long sans risquer de garder d'anciens fichiers après une montée de version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from markupsafe import Markup, escape

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


# Composant « champ » : le groupe DSFR d'un champ WTForms, écrit une fois ici ; la macro dsfr.champ l'appelle.
# Même HTML, octet pour octet, que l'ancienne macro (espaces compris) ; valeurs échappées comme l'autoescape.


def _suite(valeur) -> bool:
    """Le test Jinja ``sequence`` (longueur et indexation)."""
    try:
        len(valeur)
        valeur.__getitem__  # noqa: B018
    except Exception:  # noqa: BLE001
        return False
    return True


def _joindre(elements: list, separateur: str = " "):
    """Le filtre Jinja ``join`` sous autoescape : Markup si un élément l'est (les autres échappés)."""
    if any(hasattr(element, "__html__") for element in elements):
        return Markup(separateur).join(elements)
    return separateur.join(map(str, elements))


def champ(field, indication=None, **kwargs) -> Markup:
    """Champ WTForms en groupe DSFR (saisie, zone de texte, liste, case, radios, fichier), erreurs liées."""
    type_champ = field.type
    if type_champ in ("HiddenField", "CSRFTokenField"):
        return escape(field(**kwargs))
    if type_champ == "SubmitField":
        texte = escape(field.label.text)
        return Markup(
            f'<button class="fr-btn" type="submit" id="{escape(field.id)}" name="{escape(field.name)}"'
            f' value="{texte}">{texte}</button>'
        )
    indication = indication or field.description or None
    id_champ = escape(field.id)
    id_erreur = f"{field.id}-erreur"
    erreurs = field.errors if _suite(field.errors) and not isinstance(field.errors, Mapping) else []
    attrs = dict(kwargs)
    decrit_par = []
    if "aria-describedby" in attrs:
        decrit_par.append(attrs["aria-describedby"])
    if erreurs:
        decrit_par.append(id_erreur)
    if decrit_par:
        attrs["aria-describedby"] = _joindre(decrit_par)
    if erreurs:
        attrs["aria-invalid"] = "true"
    if field.flags.required:
        attrs["required"] = True
        attrs["aria-required"] = "true"
    # Libellé (avec son indication) et message d'erreur, communs à tous les genres de champ.
    libelle = escape(field.label.text)
    if indication:
        indication = escape(indication)
        libelle = f'{libelle}<span class="fr-hint-text" id="{id_champ}-indication">{indication}</span>'
    message = ""
    if erreurs:
        message = f'<p id="{escape(id_erreur)}" class="fr-error-text">{escape(_joindre(erreurs))}</p>'
    if type_champ in ("RadioField", "BoutonsRadio"):
        # Boutons radio : un fieldset DSFR, la légende porte le libellé.
        for cle in ("aria-describedby", "aria-invalid", "aria-required", "class_"):
            attrs.pop(cle, None)
        if erreurs:
            entete = (
                f'<fieldset class="fr-fieldset fr-fieldset--error" id="{id_champ}"'
                f' aria-labelledby="{id_champ}-legende {escape(id_erreur)}" role="group">'
            )
        else:
            entete = f'<fieldset class="fr-fieldset" id="{id_champ}" aria-labelledby="{id_champ}-legende">'
        morceaux = [
            entete,
            f'\n  <legend class="fr-fieldset__legend fr-fieldset__legend--regular" id="{id_champ}-legende">'
            f"\n    {libelle}\n  </legend>",
        ]
        for option in field:
            morceaux.append(
                '  <div class="fr-fieldset__element">\n    <div class="fr-radio-group">\n'
                f'      {escape(option(**attrs))}\n      <label class="fr-label" for="{escape(option.id)}">'
                f"{escape(option.label.text)}</label>\n    </div>\n  </div>"
            )
        morceaux.append(f"  {message}\n</fieldset>")
        return Markup("".join(morceaux))
    # Case, liste, fichier ou saisie : un groupe fr-<genre>-group avec libellé, champ et message.
    if type_champ == "BooleanField":
        genre = "checkbox"
        attrs.pop("class_", None)
    else:
        if "Select" in type_champ or type_champ in ("ListeDeChoix", "ChoixMultiple"):
            genre = "select"
        elif "FileField" in type_champ:
            genre = "upload"
        else:
            genre = "input"
        classes = f"fr-{genre} fr-input--error" if genre == "input" and erreurs else f"fr-{genre}"
        # Une classe donnée s'ajoute (l'opérateur ~ de Jinja, puis trim).
        attrs["class_"] = _concatener(classes, " ", attrs["class_"]).strip() if "class_" in attrs else classes
    saisie = escape(field(**attrs))
    etiquette = f'  <label class="fr-label" for="{id_champ}">\n    {libelle}\n  </label>'
    groupe = f" fr-{genre}-group--error" if erreurs else ""
    corps = f"  {saisie}{etiquette}" if genre == "checkbox" else f"{etiquette}  {saisie}"
    return Markup(f'<div class="fr-{genre}-group{groupe}">{corps}  {message}\n</div>')


def _concatener(*elements):
    """L'opérateur Jinja ``~`` sous autoescape : Markup si un élément l'est."""
    if any(hasattr(element, "__html__") for element in elements):
        return Markup("").join(elements)
    return "".join(map(str, elements))
