"""Les listes affichent les badges de statut par la globale `badge_statut` (mémorisée, dauphin/badges.py) au
lieu d'appeler la macro `dsfr.badge_statut` à chaque ligne : le HTML doit rester celui de la macro, pour
chaque statut de chaque énumération, chaque taille et chaque balise, et une valeur brute (texte)."""

import pytest

import dauphin.models  # noqa: F401  (toutes les énumérations à libellé sont déclarées)
from dauphin.badges import BadgesStatut
from workflows.enumerations import EnumLibelle


def _sous_classes(classe):
    for sous_classe in classe.__subclasses__():
        yield sous_classe
        yield from _sous_classes(sous_classe)


STATUTS = [membre for enumeration in _sous_classes(EnumLibelle) for membre in enumeration]
STATUTS += ["transmise", "etat_inconnu", 'a"<b>&']


@pytest.fixture
def env(app):
    return app.jinja_env


def test_le_badge_memorise_est_celui_de_la_macro(env):
    assert len(STATUTS) > 50
    badges = BadgesStatut(env)
    gabarit = env.from_string(
        '{% import "macros/dsfr.html" as dsfr %}{{ dsfr.badge_statut(statut, petit=petit, balise=balise) }}'
    )
    for _ in range(2):  # le second tour lit les badges mémorisés
        for statut in STATUTS:
            for petit in (False, True):
                for balise in ("p", "span"):
                    attendu = gabarit.render(statut=statut, petit=petit, balise=balise)
                    assert badges(statut, petit=petit, balise=balise) == attendu, (statut, petit, balise)
    brut = str(badges(STATUTS[-1]))
    assert "<b>" not in brut and "&amp;lt;" not in brut  # échappé une fois, ni zéro ni deux


def test_deux_enumerations_de_meme_valeur_gardent_chacune_son_libelle(env):
    badges = BadgesStatut(env)
    memes_valeurs = {}
    for statut in STATUTS[:-3]:
        memes_valeurs.setdefault(statut.value, []).append(statut)
    paires = [membres for membres in memes_valeurs.values() if len({m.libelle for m in membres}) > 1]
    for membres in paires:
        for membre in membres:
            assert f">{membre.libelle}<" in badges(membre, petit=True)
