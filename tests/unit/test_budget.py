"""Budget prévisionnel (CERFA n°12156) : chaque règle bloquante, ses montants exacts, et ses propriétés."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.budget import PLAN_COMPTABLE, ErreurBudget, Sens, format_euros, verifier_budget

from .fabriques import LigneBudget, budget_equilibre, lb

FINE, INSECABLE = "\u202f", "\u00a0"


def eur(montant: str) -> str:
    """« 1 234,50 » → la forme exacte de format_euros : espace fine pour les milliers, insécable avant €."""
    return montant.replace(" ", FINE) + INSECABLE + "€"


def codes(erreurs: list[ErreurBudget]) -> list[str]:
    return [e.code for e in erreurs]


def seule(erreurs: list[ErreurBudget], code: str) -> ErreurBudget:
    (erreur,) = [e for e in erreurs if e.code == code]
    return erreur


# --- format_euros --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("montant", "attendu"),
    [
        ("0", "0,00"),
        ("0.5", "0,50"),
        ("7", "7,00"),
        ("999.99", "999,99"),
        ("1234.5", "1 234,50"),
        ("23000", "23 000,00"),
        ("1000000", "1 000 000,00"),
        ("403000000.10", "403 000 000,10"),
        ("-1234.5", "-1 234,50"),
        ("1E+3", "1 000,00"),
    ],
)
def test_format_euros(montant, attendu):
    assert format_euros(Decimal(montant)) == eur(attendu)


def test_format_euros_separateurs_de_fr_fr():
    assert format_euros(Decimal("1234.50")) == "1\u202f234,50\u00a0€"


# --- Un budget réaliste passe ----------------------------------------------------------------


def test_budget_realiste_equilibre_sans_erreur():
    # Charges 60/61/64/CI + 864 bénévolat ; produits 74 État + 74 commune + 70 + 870.
    assert verifier_budget(budget_equilibre()) == []


def test_verifier_budget_accepte_un_generateur():
    assert verifier_budget(ligne for ligne in budget_equilibre()) == []


# --- Chaque règle bloquante, avec ses montants ------------------------------------------------


def test_desequilibre_donne_les_deux_totaux_et_l_ecart():
    budget = budget_equilibre() + [lb("62", "1234.56")]  # charges 16 234,56 € pour 15 000 € de produits
    erreurs = verifier_budget(budget)
    assert codes(erreurs) == ["desequilibre"]
    assert erreurs[0].message == (
        f"Le total des charges ({eur('16 234,56')}) doit être égal au total des produits "
        f"({eur('15 000,00')}) : écart de {eur('1 234,56')}."
    )


def test_desequilibre_ecart_positif_quand_les_produits_depassent():
    budget = budget_equilibre() + [lb("75", "250.00")]
    assert seule(verifier_budget(budget), "desequilibre").message == (
        f"Le total des charges ({eur('15 000,00')}) doit être égal au total des produits "
        f"({eur('15 250,00')}) : écart de {eur('250,00')}."
    )


def test_contributions_en_nature_86_differentes_de_87():
    budget = budget_equilibre() + [lb("861", "600.00")]  # 86 : 2 600 € ; 87 : 2 000 €
    erreurs = verifier_budget(budget)
    assert codes(erreurs) == ["contributions_desequilibrees"]
    assert erreurs[0].message == (
        f"Les emplois des contributions volontaires en nature (86 : {eur('2 600,00')}) doivent égaler "
        f"les contributions volontaires en nature (87 : {eur('2 000,00')})."
    )


def test_contributions_en_nature_hors_equilibre_charges_produits():
    # Le bénévolat valorisé ne compte ni dans les charges ni dans les produits.
    budget = budget_equilibre() + [lb("862", "400.00"), lb("875", "400.00")]
    assert verifier_budget(budget) == []


def test_montant_negatif():
    budget = budget_equilibre() + [lb("60", "-100.00"), lb("61", "100.00")]
    erreurs = verifier_budget(budget)
    assert [(e.code, e.compte, e.message) for e in erreurs] == [
        ("montant_negatif", "60", "Le montant de la ligne « Achats » ne peut pas être négatif.")
    ]


def test_montant_a_plus_de_deux_decimales():
    budget = budget_equilibre() + [lb("60", "10.005"), lb("70", "10.005")]
    assert [(e.code, e.compte, e.message) for e in verifier_budget(budget)] == [
        ("montant_centimes", "60", "Le montant de la ligne « Achats » a plus de deux décimales."),
        (
            "montant_centimes",
            "70",
            "Le montant de la ligne « Vente de produits finis, de marchandises, prestations de services » "
            "a plus de deux décimales.",
        ),
    ]


def test_montant_manquant():
    budget = budget_equilibre() + [lb("63", None)]
    assert [(e.code, e.message) for e in verifier_budget(budget)] == [
        ("montant_manquant", "Indiquez le montant de la ligne « Impôts et taxes ».")
    ]


def test_aucun_financeur_sollicite():
    budget = [lb("60", "1000.00"), lb("70", "1000.00")]
    erreurs = verifier_budget(budget)
    assert [(e.code, e.compte, e.message) for e in erreurs] == [
        ("aucun_financeur", "74", "Sollicitez au moins un financeur (compte 74).")
    ]


def test_financeur_a_zero_ne_compte_pas_comme_sollicite():
    budget = [lb("60", "1000.00"), lb("70", "1000.00"), lb("74", "0.00", financeur="Région")]
    assert codes(verifier_budget(budget)) == ["aucun_financeur"]


@pytest.mark.parametrize("libelle", [None, "", "   "])
def test_subvention_sans_nom_de_financeur(libelle):
    budget = [
        lb("60", "1000.00"),
        lb("74", "600.00", financeur="État"),
        lb("74", "400.00", financeur=libelle),
    ]
    erreurs = verifier_budget(budget)
    assert [(e.code, e.compte, e.message) for e in erreurs] == [
        ("financeur_sans_nom", "74", "Chaque subvention (compte 74) doit nommer son financeur.")
    ]


def test_subvention_nommee_par_son_seul_identifiant_de_financeur():
    budget = [lb("60", "1000.00"), lb("74", "1000.00", financeur_id=7)]
    assert verifier_budget(budget) == []


def test_financeur_sollicite_au_dela_du_total_des_produits():
    # Une ligne négative (elle-même bloquante) fait passer les produits sous la subvention demandée.
    budget = [lb("60", "500.00"), lb("74", "1000.00", financeur="Département"), lb("70", "-500.00")]
    erreurs = verifier_budget(budget)
    assert codes(erreurs) == ["montant_negatif", "financeur_superieur_produits"]
    assert seule(erreurs, "financeur_superieur_produits").message == (
        f"Le montant demandé à un financeur ({eur('1 000,00')}) dépasse le total des produits "
        f"({eur('500,00')})."
    )
    assert seule(erreurs, "financeur_superieur_produits").compte == "74"


def test_deux_lignes_du_meme_financeur_sont_additionnees():
    budget = [
        lb("60", "1500.00"),
        lb("74", "1000.00", financeur_id=3),
        lb("74", "1000.00", financeur_id=3),
        lb("70", "-500.00"),
    ]
    assert seule(verifier_budget(budget), "financeur_superieur_produits").message == (
        f"Le montant demandé à un financeur ({eur('2 000,00')}) dépasse le total des produits "
        f"({eur('1 500,00')})."
    )


def test_compte_inconnu():
    budget = budget_equilibre() + [lb("69", "100.00")]
    assert [(e.code, e.compte, e.message) for e in verifier_budget(budget)] == [
        ("compte_inconnu", "69", "Le compte « 69 » n’existe pas dans le plan du CERFA.")
    ]


def test_budget_vide():
    assert [(e.code, e.message) for e in verifier_budget([])] == [
        ("budget_vide", "Le budget ne comporte aucune charge."),
        ("aucun_financeur", "Sollicitez au moins un financeur (compte 74)."),
    ]


def test_budget_sans_charge():
    budget = [lb("864", "100.00"), lb("870", "100.00")]
    assert codes(verifier_budget(budget)) == ["budget_vide", "aucun_financeur"]


# --- Propriétés ---------------------------------------------------------------------------------

CHARGES = [c.code for c in PLAN_COMPTABLE if c.sens is Sens.charge and not c.en_nature]
PRODUITS_HORS_74 = [
    c.code for c in PLAN_COMPTABLE if c.sens is Sens.produit and not c.en_nature and c.code != "74"
]
EMPLOIS_86 = [c.code for c in PLAN_COMPTABLE if c.sens is Sens.charge and c.en_nature]
CONTRIBUTIONS_87 = [c.code for c in PLAN_COMPTABLE if c.sens is Sens.produit and c.en_nature]
FINANCEURS = ["État – P147", "Région", "Département", "Commune", "CAF", "Bailleur social", "FSE+"]

centimes = st.integers(min_value=0, max_value=10_000_000_00)  # jusqu'à 10 M€, en centimes


def en_euros(nb_centimes: int) -> Decimal:
    return Decimal(nb_centimes) / 100


@st.composite
def budgets_equilibres(draw) -> list[LigneBudget]:
    """Budgets conformes : montants ≥ 0 à deux décimales, charges = produits, 86 = 87, un financeur > 0."""
    lignes = [
        LigneBudget(draw(st.sampled_from(CHARGES)), en_euros(draw(centimes)))
        for _ in range(draw(st.integers(0, 6)))
    ]
    subventions = [draw(st.integers(1, 10_000_000_00))] + draw(st.lists(centimes, max_size=4))
    for montant in subventions:
        lignes.append(
            LigneBudget("74", en_euros(montant), financeur_libelle=draw(st.sampled_from(FINANCEURS)))
        )
    lignes += [
        LigneBudget(draw(st.sampled_from(PRODUITS_HORS_74)), en_euros(m))
        for m in draw(st.lists(centimes, max_size=4))
    ]
    total_charges = sum((ligne.montant for ligne in lignes if ligne.compte in CHARGES), Decimal("0"))
    total_produits = sum((ligne.montant for ligne in lignes if ligne.compte not in CHARGES), Decimal("0"))
    if total_charges < total_produits:
        lignes.append(LigneBudget(draw(st.sampled_from(CHARGES)), total_produits - total_charges))
    elif total_produits < total_charges:
        lignes.append(LigneBudget(draw(st.sampled_from(PRODUITS_HORS_74)), total_charges - total_produits))
    en_nature = draw(st.lists(centimes, max_size=3))
    lignes += [LigneBudget(draw(st.sampled_from(EMPLOIS_86)), en_euros(m)) for m in en_nature]
    lignes.append(LigneBudget(draw(st.sampled_from(CONTRIBUTIONS_87)), en_euros(sum(en_nature))))
    return draw(st.permutations(lignes))


@given(budgets_equilibres())
def test_propriete_budget_conforme_sans_erreur(lignes):
    assert verifier_budget(lignes) == []


comptes_quelconques = st.sampled_from([c.code for c in PLAN_COMPTABLE] + ["69", "", "7", "740", "ci"])
montants_quelconques = st.one_of(
    st.none(),
    st.decimals(
        min_value=-1_000_000_000, max_value=1_000_000_000, allow_nan=False, allow_infinity=False, places=3
    ),
    st.decimals(min_value=-1_000_000, max_value=1_000_000, allow_nan=False, allow_infinity=False),
)
lignes_quelconques = st.lists(
    st.builds(
        LigneBudget,
        compte=comptes_quelconques,
        montant=montants_quelconques,
        financeur_id=st.one_of(st.none(), st.integers(1, 5)),
        financeur_libelle=st.one_of(st.none(), st.sampled_from(["", "  ", "État", "Commune"])),
    ),
    max_size=12,
)


@given(lignes_quelconques)
def test_propriete_ne_leve_jamais_et_explique_en_francais(lignes):
    erreurs = verifier_budget(lignes)
    assert isinstance(erreurs, list)
    for erreur in erreurs:
        assert isinstance(erreur, ErreurBudget)
        assert erreur.code
        assert erreur.message.strip()
        assert erreur.message[0].isupper() and erreur.message.endswith(".")


def _total(lignes, sens: Sens) -> Decimal:
    sens_par_compte = {c.code: c.sens for c in PLAN_COMPTABLE if not c.en_nature}
    return sum(
        (ligne.montant or Decimal("0") for ligne in lignes if sens_par_compte.get(ligne.compte) is sens),
        Decimal("0"),
    )


@given(lignes_quelconques)
def test_propriete_desequilibre_si_et_seulement_si_les_totaux_different(lignes):
    charges, produits = _total(lignes, Sens.charge), _total(lignes, Sens.produit)
    desequilibres = [e for e in verifier_budget(lignes) if e.code == "desequilibre"]
    assert len(desequilibres) == (1 if charges != produits else 0)
    if desequilibres:
        message = desequilibres[0].message
        assert f"({format_euros(charges)})" in message
        assert f"({format_euros(produits)})" in message
        assert message.endswith(f"écart de {format_euros(abs(charges - produits))}.")
