"""Les structures porteuses : qui en est membre. (L'administrateur est relu sous le verrou de la structure
par `services.structures.charger_pour_administrateur` : la règle s'y lit au moment d'écrire.)"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from dauphin.models import Structure
from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.regle import Regle


class MembreDeLaStructure(Regle):
    """Membre de la structure, quel que soit son rôle (administrateur, signataire, contributeur) : il voit
    sa fiche, son porte-documents et toutes ses demandes."""

    modele = Structure

    def predicat(self, acteur: Acteur, structure: Structure) -> bool:
        return structure.id in acteur.structures

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        return Structure.id.in_(sorted(acteur.structures)) if acteur.structures else false()


MEMBRE_DE_LA_STRUCTURE = MembreDeLaStructure()


def est_membre_structure(qui, structure_id: int) -> bool:
    """`MEMBRE_DE_LA_STRUCTURE` sans charger la structure."""
    return structure_id in acteur_de(qui).structures
