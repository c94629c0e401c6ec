"""Le moteur commun aux machines : une machine `transitions` construite une fois à l'import.

La machine ne garde aucun objet (`model=None`) : on la déclenche sur l'objet voulu avec
`machine.events[nom].trigger(objet, **kwargs)`. Elle n'est jamais modifiée après sa
construction, donc partagée sans risque entre les fils d'exécution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from transitions import Machine, MachineError

from workflows.gardes import GARDES_VERIFIEES, Garde, Probleme


@dataclass(frozen=True)
class Transition:
    declencheur: str
    sources: tuple[StrEnum, ...]
    destination: StrEnum
    gardes: tuple[Garde, ...] = ()
    effets: tuple[Callable, ...] = ()  # appelés avec EventData après le changement d'état
    systeme: bool = False  # déclenchée par le moteur lui-même (statut dérivé), jamais par un usager


class TransitionImpossible(Exception):
    """Le déclencheur n'existe pas depuis l'état actuel de l'objet."""

    def __init__(self, declencheur: str, statut):
        self.declencheur, self.statut = declencheur, statut
        super().__init__(f"« {declencheur} » est impossible depuis le statut « {statut} ».")


class TransitionRefusee(Exception):
    """Une ou plusieurs gardes refusent la transition ; `problemes` dit pourquoi."""

    def __init__(self, declencheur: str, problemes: list[Probleme]):
        self.declencheur, self.problemes = declencheur, problemes
        super().__init__("; ".join(p.message for p in problemes))


@dataclass
class Definition:
    nom: str
    etats: type[StrEnum]
    initial: StrEnum
    transitions: tuple[Transition, ...]
    attribut: str = "statut"
    machine: Machine = field(init=False, repr=False)

    def __post_init__(self):
        self.machine = Machine(model=None, **self.arguments_machine())
        self._par_source = {}
        for t in self.transitions:
            for source in t.sources:
                # Une seule transition par (déclencheur, statut) : `declencher` évalue les gardes de
                # celle-ci et dit à la machine de ne pas les refaire ; une seconde, la machine la choisirait
                # sans garde.
                if (t.declencheur, source) in self._par_source:
                    raise ValueError(f"{self.nom} : deux transitions « {t.declencheur} » depuis « {source} »")
                self._par_source[(t.declencheur, source)] = t

    def arguments_machine(self) -> dict:
        """Ce qui définit la machine `transitions`, pour le moteur comme pour son diagramme."""
        return {
            "states": self.etats,
            "initial": self.initial,
            "transitions": self.arguments_transitions(),
            "auto_transitions": False,
            "send_event": True,
            "model_attribute": self.attribut,
        }

    def arguments_transitions(self) -> list[dict]:
        return [
            {
                "trigger": t.declencheur,
                "source": list(t.sources),
                "dest": t.destination,
                "conditions": [g.condition() for g in t.gardes],
                "after": list(t.effets),
            }
            for t in self.transitions
        ]

    @property
    def declencheurs(self) -> set[str]:
        return {t.declencheur for t in self.transitions}

    @property
    def declencheurs_systeme(self) -> set[str]:
        return {t.declencheur for t in self.transitions if t.systeme}

    def statut(self, objet) -> StrEnum:
        return self.etats(getattr(objet, self.attribut))

    def transition(self, objet, declencheur: str) -> Transition:
        statut = self.statut(objet)
        transition = self._par_source.get((declencheur, statut))
        if transition is None:
            raise TransitionImpossible(declencheur, statut)
        return transition

    def problemes(self, objet, declencheur: str, **kwargs) -> list[Probleme]:
        """Ce qui empêche `declencheur` maintenant (liste vide : permis)."""
        transition = self.transition(objet, declencheur)
        return [p for g in transition.gardes for p in g.verifier(objet, kwargs)]

    def possibles(self, objet, systeme: bool = False) -> list[str]:
        """Les déclencheurs qui existent depuis l'état actuel (gardes non évaluées)."""
        statut = self.statut(objet)
        return [t.declencheur for t in self.transitions if statut in t.sources and t.systeme == systeme]

    def declencher(self, objet, declencheur: str, **kwargs) -> tuple[StrEnum, StrEnum]:
        """Fait la transition ou lève TransitionImpossible / TransitionRefusee. Rend (avant, après)."""
        avant = self.statut(objet)
        problemes = self.problemes(objet, declencheur, **kwargs)
        if problemes:
            raise TransitionRefusee(declencheur, problemes)
        try:
            # Les gardes viennent d'être évaluées sur cet objet : la machine ne les refait pas.
            fait = self.machine.events[declencheur].trigger(objet, **kwargs, **{GARDES_VERIFIEES: True})
        except MachineError as erreur:  # ne devrait pas arriver : transition() a vérifié
            raise TransitionImpossible(declencheur, avant) from erreur
        if not fait:
            raise TransitionRefusee(declencheur, self.problemes(objet, declencheur, **kwargs))
        return avant, self.statut(objet)

    def suivre_derivations(self, objet, **kwargs) -> list[tuple[str, StrEnum, StrEnum]]:
        """Déclenche les transitions système permises, jusqu'à ce qu'aucune ne le soit.

        Rend la liste (déclencheur, avant, après) à journaliser.
        """
        faites = []
        for _ in range(len(self.transitions)):  # borne : pas de boucle infinie possible
            for declencheur in self.possibles(objet, systeme=True):
                if not self.problemes(objet, declencheur, **kwargs):
                    avant, apres = self.declencher(objet, declencheur, **kwargs)
                    faites.append((declencheur, avant, apres))
                    break
            else:
                return faites
        return faites
