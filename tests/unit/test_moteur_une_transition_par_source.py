"""Le moteur refuse deux transitions du même déclencheur depuis le même statut : il évalue les gardes d'une
seule (`Definition.transition`) et dit à la machine de ne pas les refaire."""

from enum import StrEnum

import pytest

from workflows.moteur import Definition, Transition


class Etat(StrEnum):
    brouillon = "brouillon"
    transmise = "transmise"
    rejetee = "rejetee"


def test_deux_transitions_du_meme_declencheur_depuis_le_meme_statut_sont_refusees():
    with pytest.raises(ValueError, match="deux transitions « deposer » depuis « brouillon »"):
        Definition(
            nom="essai",
            etats=Etat,
            initial=Etat.brouillon,
            transitions=(
                Transition("deposer", (Etat.brouillon,), Etat.transmise),
                Transition("deposer", (Etat.brouillon,), Etat.rejetee),
            ),
        )


def test_le_meme_declencheur_depuis_deux_statuts_reste_permis():
    definition = Definition(
        nom="essai",
        etats=Etat,
        initial=Etat.brouillon,
        transitions=(
            Transition("rejeter", (Etat.brouillon,), Etat.rejetee),
            Transition("rejeter", (Etat.transmise,), Etat.rejetee),
        ),
    )
    assert definition.transition(type("Objet", (), {"statut": "transmise"})(), "rejeter").sources == (
        Etat.transmise,
    )
