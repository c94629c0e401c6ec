"""Les documents déposés : qui peut les télécharger."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select

from dauphin.extensions import db
from dauphin.models import Demande, Document, PieceJointe
from dauphin.policies.acteur import Acteur
from dauphin.policies.demandes import VOIR_DEMANDE
from dauphin.policies.regle import Regle


class TelechargerDocument(Regle):
    """Les membres de sa structure ; et, pour un document propre à une demande (`Document.demande_id` :
    récépissé, convention) ou joint à une demande (`PieceJointe`), quiconque voit cette demande
    (`VOIR_DEMANDE` : financeurs, partenaires du contrat, pilote, administration nationale, et jamais un
    brouillon hors de la structure). Personne d'autre."""

    modele = Document

    def predicat(self, acteur: Acteur, document: Document) -> bool:
        if document.structure_id in acteur.structures:
            return True
        if not acteur.hors_structure:
            return False  # hors de la structure, seuls ces rôles voient des demandes
        liees = db.session.scalars(
            select(Demande).where(
                or_(
                    Demande.id == document.demande_id,
                    Demande.id.in_(
                        select(PieceJointe.demande_id).where(PieceJointe.document_id == document.id)
                    ),
                )
            )
        )
        return any(VOIR_DEMANDE.predicat(acteur, demande) for demande in liees)

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        de_la_structure = (
            Document.structure_id.in_(sorted(acteur.structures)) if acteur.structures else false()
        )
        if not acteur.hors_structure:
            return de_la_structure
        visibles = select(Demande.id).where(VOIR_DEMANDE.clause(acteur)).correlate(None)
        return or_(
            de_la_structure,
            Document.demande_id.in_(visibles),
            Document.id.in_(
                select(PieceJointe.document_id).where(PieceJointe.demande_id.in_(visibles)).correlate(None)
            ),
        )


TELECHARGER_DOCUMENT = TelechargerDocument()


def peut_telecharger(qui, document: Document) -> bool:
    return TELECHARGER_DOCUMENT.permet(qui, document)
