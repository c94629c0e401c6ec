"""La trace des lectures (qui a consulté un dossier, téléchargé un document ou un export) : qui la voit."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from dauphin.models import Lecture
from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.regle import Regle


class VoirTraceLectures(Regle):
    """L'administration nationale voit toute la trace ; l'administrateur d'une structure, les lectures des
    dossiers et des documents de sa structure — qui, hors de la structure, a lu ses demandes. Personne
    d'autre : ni les autres membres de la structure, ni les financeurs, partenaires et pilotes (leurs
    propres lectures comprises). Les exports et les procès-verbaux, qui ne sont à aucune structure, ne se
    lisent que dans la liste nationale."""

    modele = Lecture

    def predicat(self, acteur: Acteur, lecture: Lecture) -> bool:
        return voit_les_lectures_de(acteur, lecture.structure_id)

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        if acteur.national:
            return true()
        if not acteur.structures_administrees:
            return false()
        return Lecture.structure_id.in_(sorted(acteur.structures_administrees))


VOIR_TRACE_LECTURES = VoirTraceLectures()


def voit_les_lectures_de(qui, structure_id: int | None) -> bool:
    """`VOIR_TRACE_LECTURES` pour les lectures des dossiers d'une structure, sans les charger : la page
    « Qui a consulté ce dossier » s'ouvre à qui la règle permet de les lire."""
    acteur = acteur_de(qui)
    return acteur.national or (structure_id is not None and structure_id in acteur.structures_administrees)
