"""La règle de décision du comité de pilotage : quorum et majorité propres à chaque contrat de ville.

Chaque organisation partenaire du contrat a une voix par dossier : pour, contre, abstention — ou elle se
récuse (conflit d'intérêts) et ne compte plus, ni pour le quorum ni pour la majorité.

- Quorum : parmi les partenaires non récusés, au moins `quorum_pourcentage` % ont voté (pour, contre ou
  abstention). Sans quorum, le dossier est ajourné : il pourra passer à une autre séance.
- Majorité (les abstentions ne sont pas des suffrages exprimés) :
  - simple : plus de « pour » que de « contre » ; à égalité, l'avis est défavorable ;
  - absolue : plus de la moitié des votants, abstentions comprises ;
  - deux tiers : au moins deux tiers des suffrages exprimés.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction


@dataclass(frozen=True)
class Decompte:
    partenaires: int
    pour: int = 0
    contre: int = 0
    abstentions: int = 0
    recusations: int = 0

    @property
    def votants(self) -> int:
        return self.pour + self.contre + self.abstentions

    @property
    def exprimes(self) -> int:
        return self.pour + self.contre

    @property
    def appeles(self) -> int:
        """Les partenaires qui pouvaient voter : tous, moins ceux qui se sont récusés."""
        return self.partenaires - self.recusations


@dataclass(frozen=True)
class Resultat:
    decision: str  # favorable | defavorable | ajourne (valeurs de DecisionPoint)
    quorum_requis: int
    explication: str


def quorum_requis(appeles: int, quorum_pourcentage: int) -> int:
    """Le nombre de votants nécessaire, arrondi à l'entier supérieur ; au moins un."""
    requis = -(-appeles * quorum_pourcentage // 100)  # plafond, en entiers
    return max(1, requis)


def adopte(decompte: Decompte, regle: str) -> bool:
    if regle == "simple":
        return decompte.pour > decompte.contre
    if regle == "absolue":
        return 2 * decompte.pour > decompte.votants
    if regle == "deux_tiers":
        return decompte.exprimes > 0 and Fraction(decompte.pour, decompte.exprimes) >= Fraction(2, 3)
    raise ValueError(f"Règle de majorité inconnue : {regle}")


def decider(decompte: Decompte, quorum_pourcentage: int, regle: str) -> Resultat:
    requis = quorum_requis(decompte.appeles, quorum_pourcentage)
    voix = f"pour {decompte.pour}, contre {decompte.contre}, abstention {decompte.abstentions}" + (
        f", récusation {decompte.recusations}" if decompte.recusations else ""
    )
    if decompte.appeles <= 0 or decompte.votants < requis:
        return Resultat(
            "ajourne",
            requis,
            f"Quorum non atteint : {decompte.votants} votant(s) sur {requis} requis ({voix}).",
        )
    if adopte(decompte, regle):
        return Resultat("favorable", requis, f"Avis favorable ({voix}).")
    return Resultat("defavorable", requis, f"Avis défavorable ({voix}).")


def cloture_prematuree(date_seance: date, aujourdhui: date) -> str | None:
    """Pourquoi la séance ne peut pas encore être close (elle n'a pas eu lieu), ou None : ses décisions
    datent du jour de la séance, le procès-verbal le dit, et les votes se recueillent jusqu'à ce jour."""
    if date_seance <= aujourdhui:
        return None
    return (
        f"La séance du {date_seance:%d/%m/%Y} n’a pas encore eu lieu : elle ne peut être close qu’à partir "
        "de ce jour-là, une fois les votes recueillis."
    )
