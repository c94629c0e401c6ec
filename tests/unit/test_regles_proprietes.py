"""Propriétés des règles du budget prévisionnel et du compte rendu financier, pour tous montants.

Complètent tests/unit/test_budget.py et tests/test_compte_rendu.py : totaux en décimaux exacts (jamais de
dérive de virgule flottante), un centime d'écart suffit au déséquilibre, l'explication d'un écart exigée
exactement au-delà du seuil (tel qu'il est affiché, au centième de point), et pas avant.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from workflows.budget import PLAN_COMPTABLE, Sens, format_euros, totaux, verifier_budget
from workflows.compte_rendu import (
    ecart_pourcentage,
    explication_requise,
    totaux_realises,
    verifier_tableau,
)

from .fabriques import LigneBudget
from .fabriques import PosteCompteRendu as Poste

CHARGES = [c.code for c in PLAN_COMPTABLE if c.sens is Sens.charge and not c.en_nature]
PRODUITS = [c.code for c in PLAN_COMPTABLE if c.sens is Sens.produit and not c.en_nature and c.code != "74"]
centimes = st.integers(min_value=0, max_value=10**11)  # jusqu'à un milliard d'euros


def euros(nb_centimes: int) -> Decimal:
    return Decimal(nb_centimes) / 100


@given(st.lists(st.tuples(st.sampled_from(CHARGES + PRODUITS + ["74"]), centimes), max_size=40))
@example([("60", 10)] * 10 + [("70", 100)])  # dix fois 0,10 € : exactement 1,00 €, sans dérive
def test_totaux_exacts_en_decimaux(postes):
    lignes = [LigneBudget(compte, euros(c), financeur_libelle="État") for compte, c in postes]
    t = totaux(lignes)
    attendu_charges = sum(c for compte, c in postes if compte in CHARGES)
    attendu_produits = sum(c for compte, c in postes if compte not in CHARGES)
    assert isinstance(t.charges, Decimal) and isinstance(t.produits, Decimal)
    assert t.charges == euros(attendu_charges) and t.produits == euros(attendu_produits)
    assert t.charges == t.charges.quantize(Decimal("0.01"))


@given(centimes.filter(lambda c: c > 0), st.sampled_from([-1, 1]), st.sampled_from(CHARGES))
def test_un_centime_d_ecart_suffit_au_desequilibre(total, sens, compte):
    lignes = [
        LigneBudget(compte, euros(total)),
        LigneBudget("74", euros(total) + sens * Decimal("0.01"), financeur_libelle="État"),
    ]
    desequilibres = [e for e in verifier_budget(lignes) if e.code == "desequilibre"]
    assert len(desequilibres) == 1
    assert desequilibres[0].message.endswith(f"écart de {format_euros(Decimal('0.01'))}.")
    lignes[1] = LigneBudget("74", euros(total), financeur_libelle="État")
    assert [e.code for e in verifier_budget(lignes)] == []


def manque_explication(postes, seuil) -> bool:
    return any(e.code == "explication_manquante" for e in verifier_tableau(postes, seuil))


seuils = st.decimals(min_value=0, max_value=100, places=2)


@given(st.integers(1, 10**7), seuils, st.sampled_from([-1, 1]))
@example(100, Decimal("15"), 1)  # 10 000 € prévus : 11 500 € n'exige rien, 11 501 € une explication
def test_explication_exigee_exactement_au_dela_du_seuil(centaines, seuil, sens):
    """Prévu : un multiple de 100 € (un centime du prévu pèse alors au plus 0,01 point). Réalisé à seuil
    exact d'écart : rien n'est exigé ; un centième de point au-delà, l'explication est exigée."""
    prevu = Decimal(centaines) * 100
    au_seuil = prevu + sens * prevu * seuil / 100
    au_dela = prevu + sens * prevu * (seuil + Decimal("0.01")) / 100
    if au_dela < 0:  # un réalisé négatif est une autre erreur
        return
    assert ecart_pourcentage(prevu, au_seuil) == sens * seuil
    assert not explication_requise(prevu, au_seuil, seuil)
    assert not manque_explication([Poste("60", prevu, au_seuil)], seuil)
    assert explication_requise(prevu, au_dela, seuil)
    assert manque_explication([Poste("60", prevu, au_dela)], seuil)
    assert manque_explication([Poste("60", prevu, au_dela, explication=" \n\t")], seuil)
    assert not manque_explication([Poste("60", prevu, au_dela, explication="Un animateur de plus.")], seuil)


montants = st.decimals(min_value=0, max_value=10**9, places=2)


@given(st.lists(st.tuples(st.sampled_from(CHARGES + PRODUITS), montants, montants), max_size=8), seuils)
def test_explication_manquante_si_et_seulement_si_requise_et_absente(postes, seuil):
    tableau = [
        Poste(compte, prevu, realise, explication=None if i % 2 else "Écart expliqué.", cle=i)
        for i, (compte, prevu, realise) in enumerate(postes)
    ]
    erreurs = {e.champ for e in verifier_tableau(tableau, seuil) if e.code == "explication_manquante"}
    attendus = {
        f"explication_{p.cle}"
        for p in tableau
        if explication_requise(p.montant_prevu, p.montant_realise, seuil) and not p.explication
    }
    assert erreurs == attendus


@given(st.lists(st.tuples(st.sampled_from(CHARGES + PRODUITS), montants, montants), min_size=1, max_size=8))
def test_totaux_realises_exacts_et_equilibre(postes):
    tableau = [Poste(compte, prevu, realise, cle=i) for i, (compte, prevu, realise) in enumerate(postes)]
    t = totaux_realises(tableau)
    assert t.charges == sum((p.montant_realise for p in tableau if p.compte in CHARGES), Decimal("0"))
    assert t.produits == sum((p.montant_realise for p in tableau if p.compte not in CHARGES), Decimal("0"))
    desequilibre = any(e.code == "desequilibre" for e in verifier_tableau(tableau, Decimal("100")))
    assert desequilibre == (t.charges != t.produits)
