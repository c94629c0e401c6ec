"""La navigation principale : chaque rôle voit ses propres écrans."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from flask import current_app, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from dauphin.policies import Acteur, acteur_de, gere_des_jetons
from dauphin.urls import urls_fixes


class Lien(NamedTuple):
    libelle: str
    url: str
    actif: bool


# (libellé, endpoint, blueprints où l'entrée est active, à qui elle s'adresse)
ENTREES: tuple[tuple[str, str, str, Callable[[Acteur], bool]], ...] = (
    (
        "Mes demandes",
        "usager.tableau_de_bord",
        "usager,demandes,documents,justification",
        lambda a: bool(a.structures),
    ),
    # Les porteurs gèrent leurs structures ; un compte sans rattachement y inscrit la sienne.
    (
        "Mes structures",
        "structures.mes_structures",
        "structures",
        lambda a: bool(a.structures) or not a.hors_structure,
    ),
    ("Instruction", "instruction.corbeille", "instruction", lambda a: a.dans_une_organisation),
    ("Comités", "comites.liste", "comites", lambda a: a.dans_une_organisation),
    ("Pilotage", "pilotage.contrats", "pilotage,justification", lambda a: bool(a.pilotages)),
    # Les organisations signataires consultent la programmation des contrats (le pilote y accède depuis son
    # espace de pilotage).
    (
        "Programmation",
        "pilotage.programmations",
        "pilotage",
        lambda a: bool(a.organisations and not a.pilotages),
    ),
    ("Administration", "administration.accueil", "administration", lambda a: a.national),
    ("Jetons d’API", "jetons.liste", "jetons,webhooks", gere_des_jetons),
)


CYCLE_DE_VIE = "public.cycle_de_vie"
# Les adresses de la navigation, calculées une fois par processus et par préfixe (`urls_fixes`).
ADRESSES = {endpoint: (endpoint, {}) for endpoint in (*(e[1] for e in ENTREES), CYCLE_DE_VIE)}

# Les adresses fixes de la mise en page (base.html), par clé : une seule recherche par page.
MISE_EN_PAGE = {
    "dsfr_css": ("dsfr.fichier", {"filename": "dsfr.min.css"}),
    "icones_css": ("dsfr.fichier", {"filename": "utility/icons/icons.min.css"}),
    "dauphin_css": ("static", {"filename": "css/dauphin.css"}),
    "apple_touch_icon": ("dsfr.fichier", {"filename": "favicon/apple-touch-icon.png"}),
    "favicon_svg": ("dsfr.fichier", {"filename": "favicon/favicon.svg"}),
    "favicon_ico": ("dsfr.fichier", {"filename": "favicon/favicon.ico"}),
    "manifeste": ("dsfr.fichier", {"filename": "favicon/manifest.webmanifest"}),
    "accueil": ("public.accueil", {}),
    "connexion": ("auth.connexion", {}),
    "mon_compte": ("comptes.mon_compte", {}),
    "deconnexion": ("auth.deconnexion", {}),
    "accessibilite": ("public.accessibilite", {}),
    "mentions_legales": ("public.mentions_legales", {}),
    "donnees_personnelles": ("public.donnees_personnelles", {}),
    "donnees_ouvertes": ("public.donnees_ouvertes_page", {}),
    "etat_session": ("auth.etat_session", {}),
    "prolonger_session": ("auth.prolonger_session", {}),
    "dsfr_module_js": ("dsfr.fichier", {"filename": "dsfr.module.min.js"}),
    "dsfr_nomodule_js": ("dsfr.fichier", {"filename": "dsfr.nomodule.min.js"}),
    "evitement_js": ("static", {"filename": "js/evitement.js"}),
    "tableaux_js": ("static", {"filename": "js/tableaux.js"}),
    "session_js": ("static", {"filename": "js/session.js"}),
}


def liens_de_la_mise_en_page() -> Mapping[str, str]:
    """Pour base.html : `_fixes['dsfr_css']` vaut `url_fixe('dsfr.fichier', filename='dsfr.min.css')`."""
    return urls_fixes("mise en page", MISE_EN_PAGE)


def morceau_fixe(nom: str) -> Markup:
    """Un morceau de base.html qui ne dépend que des adresses fixes (`_fixes`) : le pied de page, les
    feuilles de style (gabarits de mise_en_page/). Rendu une fois par processus et par préfixe, puis relu
    tel quel, au lieu de refaire à chaque page ses boucles et l'échappement de chaque adresse. En
    développement (gabarits relus quand ils changent), rendu à chaque page, comme `badges.BadgesStatut`."""
    app = current_app._get_current_object()
    rendus = app.extensions.setdefault("dauphin.morceaux_fixes", {})
    cle = (nom, request.script_root)
    rendu = rendus.get(cle)
    if rendu is None:
        rendu = Markup(app.jinja_env.get_template(nom).render(_fixes=liens_de_la_mise_en_page()))
        if not app.jinja_env.auto_reload:
            rendus[cle] = rendu
    return rendu


def entrees(utilisateur) -> list[tuple[str, str, str]]:
    """(libellé, endpoint, blueprint) des espaces auxquels l'utilisateur a droit."""
    acteur = acteur_de(utilisateur)
    return [
        (libelle, endpoint, blueprints) for libelle, endpoint, blueprints, pour in ENTREES if pour(acteur)
    ]


def navigation() -> list[Lien]:
    try:
        utilisateur = current_user._get_current_object()
        if not utilisateur or not utilisateur.is_authenticated:
            return []
        urls, blueprint = urls_fixes("navigation", ADRESSES), request.blueprint
        liens = [
            Lien(libelle, urls[endpoint], blueprint in blueprints.split(","))
            for libelle, endpoint, blueprints in entrees(utilisateur)
        ]
    except SQLAlchemyError:  # la page d'erreur 500 ne doit pas dépendre de la base
        return []
    liens.append(Lien("Cycle de vie d’une demande", urls[CYCLE_DE_VIE], request.endpoint == CYCLE_DE_VIE))
    return liens
