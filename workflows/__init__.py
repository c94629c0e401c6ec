"""Machines à états de Dauphin, sans Flask ni base de données : testables sur des objets simples."""

from workflows.demande import DEMANDE
from workflows.gardes import Probleme
from workflows.ligne import LIGNE
from workflows.moteur import Definition, TransitionImpossible, TransitionRefusee
from workflows.statuts import StatutDemande, StatutLigne

MACHINES = (DEMANDE, LIGNE)

__all__ = [
    "DEMANDE",
    "LIGNE",
    "MACHINES",
    "Definition",
    "Probleme",
    "StatutDemande",
    "StatutLigne",
    "TransitionImpossible",
    "TransitionRefusee",
]
