"""Budget prévisionnel de l'action selon le plan comptable du CERFA n°12156, et ses règles bloquantes.

Les lignes sont des objets (ORM ou simples) portant `compte`, `montant` (Decimal),
`financeur_id` et `financeur_libelle` (ligne de classe 74 : un financeur par ligne).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Sens(StrEnum):
    charge = "charge"
    produit = "produit"


@dataclass(frozen=True)
class Compte:
    code: str
    libelle: str
    sens: Sens
    en_nature: bool = False  # contributions volontaires en nature (86 / 87)


PLAN_COMPTABLE: tuple[Compte, ...] = (
    Compte("60", "Achats", Sens.charge),
    Compte("61", "Services extérieurs", Sens.charge),
    Compte("62", "Autres services extérieurs", Sens.charge),
    Compte("63", "Impôts et taxes", Sens.charge),
    Compte("64", "Charges de personnel", Sens.charge),
    Compte("65", "Autres charges de gestion courante", Sens.charge),
    Compte("66", "Charges financières", Sens.charge),
    Compte("67", "Charges exceptionnelles", Sens.charge),
    Compte("68", "Dotation aux amortissements", Sens.charge),
    Compte("CI", "Charges indirectes affectées à l’action", Sens.charge),
    Compte("860", "Secours en nature", Sens.charge, True),
    Compte("861", "Mise à disposition gratuite de biens et services", Sens.charge, True),
    Compte("862", "Prestations", Sens.charge, True),
    Compte("864", "Personnel bénévole", Sens.charge, True),
    Compte("70", "Vente de produits finis, de marchandises, prestations de services", Sens.produit),
    Compte("73", "Dotations et produits de tarification", Sens.produit),
    Compte("74", "Subventions d’exploitation", Sens.produit),
    Compte("75", "Autres produits de gestion courante (cotisations, dons manuels, mécénat)", Sens.produit),
    Compte("76", "Produits financiers", Sens.produit),
    Compte("77", "Produits exceptionnels", Sens.produit),
    Compte("78", "Reprises sur amortissements et provisions", Sens.produit),
    Compte("870", "Bénévolat", Sens.produit, True),
    Compte("871", "Prestations en nature", Sens.produit, True),
    Compte("875", "Dons en nature", Sens.produit, True),
)
COMPTES = {c.code: c for c in PLAN_COMPTABLE}
COMPTE_SUBVENTIONS = "74"
CENTIME = Decimal("0.01")
ESPACE_FINE = "\u202f"  # séparateur de milliers en fr_FR
ESPACE_INSECABLE = "\u00a0"


def format_euros(montant: Decimal) -> str:
    """1234.5 → « 1 234,50 € » (espace fine insécable pour les milliers, comme fr_FR)."""
    signe = "-" if montant < 0 else ""  # « -0,00 € » pour un montant négatif arrondi à zéro, comme avant
    # Les milliers groupés par le format (« 1,234.50 »), puis séparateurs à la française : une liste de
    # demandes en écrit des centaines.
    texte = f"{abs(montant).quantize(CENTIME):,f}".replace(",", ESPACE_FINE).replace(".", ",")
    return f"{signe}{texte}{ESPACE_INSECABLE}€"


def a_plus_de_deux_decimales(montant: Decimal) -> bool:
    return montant != montant.quantize(CENTIME)


@dataclass(frozen=True)
class Totaux:
    charges: Decimal
    produits: Decimal
    contributions_charges: Decimal  # 86
    contributions_produits: Decimal  # 87
    par_financeur: dict  # clé (financeur_id ou libellé) → montant demandé


def totaux(lignes: Iterable) -> Totaux:
    charges = produits = c86 = c87 = Decimal("0")
    par_financeur: dict = {}
    for ligne in lignes:
        compte = COMPTES.get(ligne.compte)
        montant = ligne.montant or Decimal("0")
        if compte is None:
            continue
        if compte.sens is Sens.charge:
            if compte.en_nature:
                c86 += montant
            else:
                charges += montant
        elif compte.en_nature:
            c87 += montant
        else:
            produits += montant
        if compte.code == COMPTE_SUBVENTIONS:
            cle = _cle_financeur(ligne)
            par_financeur[cle] = par_financeur.get(cle, Decimal("0")) + montant
    return Totaux(charges, produits, c86, c87, par_financeur)


def desequilibres(t: Totaux, realise: bool = False) -> list[tuple[str, str]]:
    """Les règles d'équilibre communes au budget prévisionnel et au tableau du compte rendu financier (sur
    le réalisé, `realise`) : au moins une charge, charges = produits, 86 = 87. Rend (code, message)."""
    charges, produits = ("charges réalisées", "produits réalisés") if realise else ("charges", "produits")
    erreurs = []
    if t.charges <= 0:
        erreurs.append(
            ("tableau_vide", "Le tableau ne comporte aucune charge réalisée.")
            if realise
            else ("budget_vide", "Le budget ne comporte aucune charge.")
        )
    if t.charges != t.produits:
        erreurs.append(
            (
                "desequilibre",
                f"Le total des {charges} ({format_euros(t.charges)}) doit être égal au total des {produits} "
                f"({format_euros(t.produits)}) : écart de {format_euros(abs(t.charges - t.produits))}.",
            )
        )
    if t.contributions_charges != t.contributions_produits:
        erreurs.append(
            (
                "contributions_desequilibrees",
                f"Les emplois des contributions volontaires en nature (86 : "
                f"{format_euros(t.contributions_charges)}) doivent égaler les contributions volontaires "
                f"en nature (87 : {format_euros(t.contributions_produits)}).",
            )
        )
    return erreurs


@dataclass(frozen=True)
class ErreurBudget:
    code: str
    message: str
    compte: str | None = None


def _cle_financeur(ligne):
    """Le financeur d'une ligne de subvention : son identifiant, sinon son nom saisi (vide : aucun)."""
    return ligne.financeur_id or (ligne.financeur_libelle or "").strip()


def _problemes_de_ligne(ligne) -> Iterator[tuple[str, str]]:
    """Les règles d'une ligne du budget : (code, message)."""
    compte = COMPTES.get(ligne.compte)
    if compte is None:
        yield "compte_inconnu", f"Le compte « {ligne.compte} » n’existe pas dans le plan du CERFA."
        return
    nom = compte.libelle
    if ligne.montant is None:
        yield "montant_manquant", f"Indiquez le montant de la ligne « {nom} »."
        return
    if ligne.montant < 0:
        yield "montant_negatif", f"Le montant de la ligne « {nom} » ne peut pas être négatif."
    if a_plus_de_deux_decimales(ligne.montant):
        yield "montant_centimes", f"Le montant de la ligne « {nom} » a plus de deux décimales."
    if compte.code == COMPTE_SUBVENTIONS and not _cle_financeur(ligne):
        yield "financeur_sans_nom", "Chaque subvention (compte 74) doit nommer son financeur."


def verifier_budget(lignes: Iterable) -> list[ErreurBudget]:
    """Les règles bloquantes du budget, avec les montants exacts qui diffèrent."""
    lignes = list(lignes)
    erreurs = [
        ErreurBudget(code, message, ligne.compte)
        for ligne in lignes
        for code, message in _problemes_de_ligne(ligne)
    ]
    t = totaux(lignes)
    erreurs += [ErreurBudget(code, message) for code, message in desequilibres(t)]
    sollicites = {cle: m for cle, m in t.par_financeur.items() if cle and m > 0}
    if not sollicites:
        erreurs.append(
            ErreurBudget(
                "aucun_financeur", "Sollicitez au moins un financeur (compte 74).", COMPTE_SUBVENTIONS
            )
        )
    for montant in sollicites.values():
        if montant > t.produits:
            erreurs.append(
                ErreurBudget(
                    "financeur_superieur_produits",
                    f"Le montant demandé à un financeur ({format_euros(montant)}) dépasse le total des "
                    f"produits ({format_euros(t.produits)}).",
                    COMPTE_SUBVENTIONS,
                )
            )
    return erreurs
