"""La règle de décision du comité (workflows/comite.py) : quorum, majorités, égalités, abstentions,
récusations — sur des nombres, sans base."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.comite import Decompte, adopte, cloture_prematuree, decider, quorum_requis


@pytest.mark.parametrize(
    ("appeles", "pourcentage", "requis"),
    [(3, 50, 2), (4, 50, 2), (5, 50, 3), (3, 100, 3), (10, 33, 4), (1, 50, 1), (0, 50, 1), (3, 0, 1)],
)
def test_quorum_arrondi_a_l_entier_superieur(appeles, pourcentage, requis):
    assert quorum_requis(appeles, pourcentage) == requis


@pytest.mark.parametrize(
    ("regle", "pour", "contre", "abstentions", "attendu"),
    [
        ("simple", 2, 2, 0, False),  # égalité : défavorable
        ("simple", 1, 0, 5, True),  # les abstentions ne comptent pas
        ("simple", 0, 0, 3, False),  # que des abstentions
        ("absolue", 2, 0, 2, False),  # moitié des votants : pas plus de la moitié
        ("absolue", 3, 0, 2, True),
        ("deux_tiers", 2, 1, 0, True),  # exactement deux tiers
        ("deux_tiers", 3, 2, 0, False),
        ("deux_tiers", 0, 0, 4, False),
    ],
)
def test_majorites(regle, pour, contre, abstentions, attendu):
    assert adopte(Decompte(10, pour, contre, abstentions), regle) is attendu


def test_sans_quorum_le_dossier_est_ajourne_quelles_que_soient_les_voix():
    resultat = decider(Decompte(partenaires=6, pour=2), 50, "simple")
    assert (resultat.decision, resultat.quorum_requis) == ("ajourne", 3)
    assert (
        resultat.explication
        == "Quorum non atteint : 2 votant(s) sur 3 requis (pour 2, contre 0, abstention 0)."
    )


def test_la_recusation_sort_l_organisation_du_quorum():
    # 3 partenaires, quorum 100 % : deux votants suffisent si le troisième se récuse.
    assert decider(Decompte(3, pour=2), 100, "simple").decision == "ajourne"
    assert decider(Decompte(3, pour=2, recusations=1), 100, "simple").decision == "favorable"
    assert decider(Decompte(1, recusations=1), 50, "simple").decision == "ajourne"


def test_regle_inconnue_refusee():
    with pytest.raises(ValueError, match="inconnue"):
        adopte(Decompte(3, pour=3), "unanimite")


@given(
    pour=st.integers(0, 30),
    contre=st.integers(0, 30),
    abstentions=st.integers(0, 30),
    recusations=st.integers(0, 30),
    autres=st.integers(0, 30),
    quorum=st.integers(0, 100),
    regle=st.sampled_from(["simple", "absolue", "deux_tiers"]),
)
def test_decision_toujours_definie_et_coherente(
    pour, contre, abstentions, recusations, autres, quorum, regle
):
    decompte = Decompte(
        pour + contre + abstentions + recusations + autres, pour, contre, abstentions, recusations
    )
    resultat = decider(decompte, quorum, regle)
    assert resultat.decision in {"favorable", "defavorable", "ajourne"}
    if resultat.decision != "ajourne":
        assert decompte.votants >= resultat.quorum_requis
        # Plus de « pour » que de « contre » est nécessaire à toute majorité.
        assert (resultat.decision == "favorable") <= (pour > contre)
    # Un « pour » de plus ne fait jamais passer un avis favorable à défavorable.
    plus = decider(
        Decompte(decompte.partenaires + 1, pour + 1, contre, abstentions, recusations), quorum, regle
    )
    if resultat.decision == "favorable" and plus.decision != "ajourne":
        assert plus.decision == "favorable"


def test_cloture_prematuree_avant_la_date_de_la_seance_seulement():
    seance = date(2026, 4, 10)
    assert cloture_prematuree(seance, date(2026, 4, 10)) is None
    assert cloture_prematuree(seance, date(2026, 5, 1)) is None
    raison = cloture_prematuree(seance, date(2026, 4, 9))
    assert raison.startswith("La séance du 10/04/2026 n’a pas encore eu lieu")
