"""Règles du compte rendu financier (CERFA n°15059), sans Flask ni base : le réalisé face au prévu pour
chaque poste du budget, l'écart en euros et en pourcentage, l'explication exigée au-delà du seuil de la
campagne, et les mêmes règles d'équilibre que le budget prévisionnel.

Un poste est un objet (ORM ou simple) portant `compte`, `montant_prevu`, `montant_realise` (Decimal ou
None), `explication`, `financeur_id`, `financeur_libelle`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from workflows.budget import COMPTES, a_plus_de_deux_decimales, desequilibres, totaux

SEUIL_PAR_DEFAUT = Decimal("15")
CENTIEME = Decimal("0.01")


def ecart_euros(prevu: Decimal, realise: Decimal | None) -> Decimal | None:
    if realise is None:
        return None
    return realise - (prevu or Decimal("0"))


def ecart_pourcentage(prevu: Decimal, realise: Decimal | None) -> Decimal | None:
    """(réalisé − prévu) / prévu × 100, arrondi au centième (la moitié s'éloigne de zéro) ; None si le
    prévu est nul (un écart sur rien ne s'exprime pas en pourcentage) ou le réalisé non saisi."""
    if realise is None or not prevu:
        return None
    return ((realise - prevu) * 100 / prevu).quantize(CENTIEME, rounding=ROUND_HALF_UP)


def explication_requise(prevu: Decimal, realise: Decimal | None, seuil: Decimal) -> bool:
    """Au-delà du seuil, strictement : 15,00 % n'en demande pas, 15,01 % en demande une. On compare
    l'écart tel qu'il est affiché (arrondi au centième). Un poste non prévu mais réalisé en demande une."""
    if realise is None:
        return False
    if not prevu:
        return realise > 0
    return abs(ecart_pourcentage(prevu, realise)) > seuil


def echeance(annee_fin: int, date_fin: date | None = None) -> date:
    """Le compte rendu est dû dans les six mois qui suivent la fin de l'exercice où l'action s'achève
    (loi 2000-321, art. 10) : le 30 juin suivant la dernière année de l'action (ou de ses dates, si elles
    ont été reportées au-delà)."""
    fin = max(annee_fin, date_fin.year if date_fin else annee_fin)
    return date(fin + 1, 6, 30)


@dataclass(frozen=True)
class ErreurCompteRendu:
    code: str
    message: str
    champ: str | None = None  # nom du champ du formulaire en cause


@dataclass(frozen=True)
class _Realise:
    """Un poste vu comme une ligne de budget dont le montant est le réalisé (pour `budget.totaux`)."""

    compte: str
    montant: Decimal | None
    financeur_id: int | None
    financeur_libelle: str | None


def libelle_poste(poste) -> str:
    compte = COMPTES.get(poste.compte)
    nom = f"{poste.compte} — {compte.libelle if compte else poste.compte}"
    financeur = getattr(poste, "nom_financeur", None) or poste.financeur_libelle
    return f"{nom} : {financeur}" if financeur else nom


def totaux_realises(postes: Iterable):
    return totaux(_Realise(p.compte, p.montant_realise, p.financeur_id, p.financeur_libelle) for p in postes)


def totaux_prevus(postes: Iterable):
    return totaux(_Realise(p.compte, p.montant_prevu, p.financeur_id, p.financeur_libelle) for p in postes)


def verifier_tableau(postes: Iterable, seuil: Decimal) -> list[ErreurCompteRendu]:
    """Le tableau financier : chaque réalisé saisi (0 accepté), positif, en centimes ; l'explication
    au-delà du seuil ; charges = produits ; 86 = 87."""
    postes = list(postes)
    erreurs: list[ErreurCompteRendu] = []
    for poste in postes:
        champ = f"realise_{poste.cle}" if hasattr(poste, "cle") else None
        nom = libelle_poste(poste)
        if poste.montant_realise is None:
            erreurs.append(
                ErreurCompteRendu(
                    "realise_manquant", f"Indiquez le montant réalisé de « {nom} » (0 si aucun).", champ
                )
            )
            continue
        if poste.montant_realise < 0:
            erreurs.append(
                ErreurCompteRendu("realise_negatif", f"Le réalisé de « {nom} » est négatif.", champ)
            )
        elif a_plus_de_deux_decimales(poste.montant_realise):
            erreurs.append(
                ErreurCompteRendu(
                    "realise_centimes", f"Le réalisé de « {nom} » a plus de deux décimales.", champ
                )
            )
        if (
            explication_requise(poste.montant_prevu, poste.montant_realise, seuil)
            and not (poste.explication or "").strip()
        ):
            pourcentage = ecart_pourcentage(poste.montant_prevu, poste.montant_realise)
            ecart = (
                f"{pourcentage:+.2f} %".replace(".", ",")
                if pourcentage is not None
                else "poste non prévu au budget"
            )
            erreurs.append(
                ErreurCompteRendu(
                    "explication_manquante",
                    f"Expliquez l’écart de « {nom} » ({ecart}, au-delà du seuil de "
                    f"{str(seuil).replace('.', ',')} %).",
                    f"explication_{poste.cle}" if hasattr(poste, "cle") else None,
                )
            )
    if any(p.montant_realise is None for p in postes):
        return erreurs
    return erreurs + [
        ErreurCompteRendu(code, message) for code, message in desequilibres(totaux_realises(postes), True)
    ]


def verifier_compte_rendu(compte_rendu, seuil: Decimal) -> list[ErreurCompteRendu]:
    """Tout ce qui empêche d'attester le compte rendu : selon que l'action a été réalisée ou non."""
    if not compte_rendu.action_realisee:
        if not (compte_rendu.motif_non_realisation or "").strip():
            return [
                ErreurCompteRendu(
                    "motif_non_realisation",
                    "Expliquez pourquoi l’action n’a pas été réalisée.",
                    "motif_non_realisation",
                )
            ]
        return []
    erreurs = []
    if not (compte_rendu.bilan or "").strip():
        erreurs.append(ErreurCompteRendu("bilan", "Décrivez ce qui a été réalisé.", "bilan"))
    if not (compte_rendu.public_atteint or "").strip():
        erreurs.append(ErreurCompteRendu("public", "Décrivez le public atteint.", "public_atteint"))
    return erreurs + verifier_tableau(compte_rendu.lignes, seuil)
