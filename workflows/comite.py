"""La règle de décision du comité de pilotage : quorum et majorité propres à chaque contrat de ville.

Chaque organisation partenaire du contrat a une voix par dossier : pour, contre, abstention — ou elle se
récuse (conflit d'intérêts) et ne compte plus, ni pour le quorum ni pour la majorité.

- Présence : le pilote tient la feuille de présence de la séance ; chaque partenaire y est présent,
  représenté, excusé ou absent. Seuls les partenaires présents ou représentés siègent : le vote d'une
  organisation indiquée excusée ou absente n'est pas compté (le décompte le dit).
- Quorum : parmi les partenaires appelés (non récusés), au moins `quorum_pourcentage` % sont présents ou
  représentés à la séance — qu'ils aient voté ou non. Sans quorum, le dossier est ajourné : il pourra passer
  à une autre séance.
- Majorité, sur les votes des partenaires qui siègent (les abstentions ne sont pas des suffrages exprimés) :
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
    """Le décompte d'un dossier. `pour`, `contre`, `abstentions` : les votes des partenaires qui siègent ;
    `presents` : les partenaires appelés (non récusés) présents ou représentés ; `votes_non_comptes` : les
    votes d'organisations excusées ou absentes, écartés."""

    partenaires: int
    pour: int = 0
    contre: int = 0
    abstentions: int = 0
    recusations: int = 0
    presents: int = 0
    votes_non_comptes: int = 0

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
    """Le nombre de partenaires présents ou représentés nécessaire, arrondi à l'entier supérieur ; au moins
    un."""
    requis = -(-appeles * quorum_pourcentage // 100)  # plafond, en entiers
    return max(1, requis)


def quorum_atteint(decompte: Decompte, quorum_pourcentage: int) -> bool:
    return decompte.appeles > 0 and decompte.presents >= quorum_requis(decompte.appeles, quorum_pourcentage)


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
    if decompte.votes_non_comptes:
        voix += (
            f" ; {decompte.votes_non_comptes} vote(s) d’organisation(s) excusée(s) ou absente(s) "
            "non compté(s)"
        )
    presence = (
        f"{decompte.presents} partenaire(s) présent(s) ou représenté(s) sur {max(decompte.appeles, 0)} "
        f"appelé(s), {requis} requis"
    )
    if not quorum_atteint(decompte, quorum_pourcentage):
        return Resultat("ajourne", requis, f"Quorum non atteint : {presence} ({voix}).")
    if adopte(decompte, regle):
        return Resultat("favorable", requis, f"Avis favorable ({voix}) ; quorum atteint : {presence}.")
    return Resultat("defavorable", requis, f"Avis défavorable ({voix}) ; quorum atteint : {presence}.")


def cloture_prematuree(date_seance: date, aujourdhui: date) -> str | None:
    """Pourquoi la séance ne peut pas encore être close (elle n'a pas eu lieu), ou None : ses décisions
    datent du jour de la séance, le procès-verbal le dit, et les votes se recueillent jusqu'à ce jour."""
    if date_seance <= aujourdhui:
        return None
    return (
        f"La séance du {date_seance:%d/%m/%Y} n’a pas encore eu lieu : elle ne peut être close qu’à partir "
        "de ce jour-là, une fois les votes recueillis."
    )


def presences_a_indiquer(sans_presence: list[str]) -> str | None:
    """Pourquoi la séance ne peut pas être close faute de feuille de présence complète (`sans_presence` :
    les partenaires dont la présence n'est pas indiquée), ou None."""
    if not sans_presence:
        return None
    return (
        "Remplissez d’abord la feuille de présence : le quorum se compte sur les partenaires présents ou "
        f"représentés à la séance. Présence à indiquer pour : {', '.join(sans_presence)}."
    )
