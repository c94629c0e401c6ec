"""La règle de décision du comité (workflows/comite.py) : quorum des présents, majorités, égalités,
abstentions, récusations, votes non comptés — sur des nombres, sans base."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.comite import (
    Decompte,
    adopte,
    cloture_prematuree,
    decider,
    presences_a_indiquer,
    quorum_requis,
)


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


def test_sans_quorum_des_presents_le_dossier_est_ajourne_quelles_que_soient_les_voix():
    resultat = decider(Decompte(partenaires=6, pour=2, presents=2), 50, "simple")
    assert (resultat.decision, resultat.quorum_requis) == ("ajourne", 3)
    assert resultat.explication == (
        "Quorum non atteint : 2 partenaire(s) présent(s) ou représenté(s) sur 6 appelé(s), 3 requis "
        "(pour 2, contre 0, abstention 0)."
    )


def test_le_quorum_se_compte_sur_les_presents_pas_sur_les_votes():
    # 4 partenaires, quorum 50 % : deux présents suffisent, même si un seul vote.
    resultat = decider(Decompte(4, pour=1, presents=2), 50, "simple")
    assert resultat.decision == "favorable"
    assert resultat.explication == (
        "Avis favorable (pour 1, contre 0, abstention 0) ; quorum atteint : 2 partenaire(s) présent(s) ou "
        "représenté(s) sur 4 appelé(s), 2 requis."
    )
    # Quatre votes ne font pas le quorum si un seul partenaire siège (les autres votes sont écartés en amont).
    assert decider(Decompte(4, pour=1, presents=1, votes_non_comptes=3), 50, "simple").decision == "ajourne"
    # Présents sans aucun vote : quorum atteint, pas de majorité pour.
    assert decider(Decompte(4, presents=4), 50, "simple").decision == "defavorable"


def test_les_votes_non_comptes_sont_dits():
    resultat = decider(Decompte(3, pour=1, contre=1, presents=2, votes_non_comptes=1), 50, "simple")
    assert resultat.explication.startswith(
        "Avis défavorable (pour 1, contre 1, abstention 0 ; 1 vote(s) d’organisation(s) excusée(s) ou "
        "absente(s) non compté(s)) ; quorum atteint"
    )


def test_la_recusation_sort_l_organisation_du_quorum():
    # 3 partenaires, quorum 100 % : deux présents suffisent si le troisième se récuse.
    assert decider(Decompte(3, pour=2, presents=2), 100, "simple").decision == "ajourne"
    assert decider(Decompte(3, pour=2, recusations=1, presents=2), 100, "simple").decision == "favorable"
    assert decider(Decompte(1, recusations=1), 50, "simple").decision == "ajourne"


def test_feuille_de_presence_incomplete_nommee():
    assert presences_a_indiquer([]) is None
    raison = presences_a_indiquer(["CAF du Nord", "Ville de Lille"])
    assert raison.startswith("Remplissez d’abord la feuille de présence")
    assert raison.endswith("Présence à indiquer pour : CAF du Nord, Ville de Lille.")


def test_regle_inconnue_refusee():
    with pytest.raises(ValueError, match="inconnue"):
        adopte(Decompte(3, pour=3), "unanimite")


@given(
    pour=st.integers(0, 30),
    contre=st.integers(0, 30),
    abstentions=st.integers(0, 30),
    recusations=st.integers(0, 30),
    autres=st.integers(0, 30),
    absents=st.integers(0, 30),
    quorum=st.integers(0, 100),
    regle=st.sampled_from(["simple", "absolue", "deux_tiers"]),
)
def test_decision_toujours_definie_et_coherente(
    pour, contre, abstentions, recusations, autres, absents, quorum, regle
):
    # Siègent : les votants et `autres` (présents sans vote) ; `absents` ne siègent pas.
    presents = pour + contre + abstentions + autres
    decompte = Decompte(
        presents + recusations + absents, pour, contre, abstentions, recusations, presents=presents
    )
    resultat = decider(decompte, quorum, regle)
    assert resultat.decision in {"favorable", "defavorable", "ajourne"}
    assert (resultat.decision == "ajourne") == (presents < resultat.quorum_requis)
    if resultat.decision != "ajourne":
        assert decompte.presents >= resultat.quorum_requis
        # Plus de « pour » que de « contre » est nécessaire à toute majorité.
        assert (resultat.decision == "favorable") <= (pour > contre)
    # Un « pour » de plus (un présent de plus) ne fait jamais passer un avis favorable à défavorable.
    plus = decider(
        Decompte(decompte.partenaires + 1, pour + 1, contre, abstentions, recusations, presents=presents + 1),
        quorum,
        regle,
    )
    if resultat.decision == "favorable":
        assert plus.decision == "favorable"
    # Un absent qui finalement siège (sans voter) ne fait jamais perdre le quorum.
    if absents and resultat.decision != "ajourne":
        venu = Decompte(decompte.partenaires, pour, contre, abstentions, recusations, presents=presents + 1)
        assert decider(venu, quorum, regle).decision != "ajourne"


def test_cloture_prematuree_avant_la_date_de_la_seance_seulement():
    seance = date(2026, 4, 10)
    assert cloture_prematuree(seance, date(2026, 4, 10)) is None
    assert cloture_prematuree(seance, date(2026, 5, 1)) is None
    raison = cloture_prematuree(seance, date(2026, 4, 9))
    assert raison.startswith("La séance du 10/04/2026 n’a pas encore eu lieu")
