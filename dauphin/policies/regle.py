"""Une règle d'accès, écrite une fois sous ses deux formes côte à côte :

- `permet(qui, objet)` : le prédicat Python, pour un objet déjà chargé (une page, une action) ;
- `portee(qui)` : la clause SQL sur le modèle de la règle, pour les listes, les décomptes, les exports, les
  téléchargements et l'API — `select(Modele).where(regle.portee(qui))`.

`tests/test_regles_proprietes.py` génère des mondes (contrats, financeurs, partenaires, structures, comptes
de tous les rôles) et vérifie pour chaque règle de `REGLES` que les deux formes disent la même chose de
chaque objet : une forme changée seule fait échouer la suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, select

from dauphin.policies.acteur import Acteur, acteur_de

REGLES: list[Regle] = []


class Regle(ABC):
    modele: ClassVar[type]
    description: ClassVar[str] = ""

    def __init__(self):
        REGLES.append(self)  # une instance par règle, au niveau du module : VOIR_DEMANDE = VoirDemande()

    def permet(self, qui, objet: Any) -> bool:
        return objet is not None and self.predicat(acteur_de(qui), objet)

    def portee(self, qui) -> ColumnElement[bool]:
        return self.clause(acteur_de(qui))

    def visibles(self, qui) -> Select:
        return select(self.modele).where(self.portee(qui))

    @abstractmethod
    def predicat(self, acteur: Acteur, objet: Any) -> bool:
        """La règle en Python, sur un objet chargé."""

    @abstractmethod
    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        """La même règle en SQL, sur les colonnes de `modele`."""
