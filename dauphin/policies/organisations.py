"""Les organisations (financeurs, partenaires) : qui instruit leurs lignes, qui gère leurs jetons d'API,
qui lit les notes d'instruction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from dauphin.models import Demande, LigneFinancement, Note, Organisation
from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.demandes import VOIR_INSTRUCTION
from dauphin.policies.regle import Regle


class InstruireLigne(Regle):
    """Un instructeur du financeur de la ligne : lui seul agit sur elle (avis, gestionnaire, acte,
    engagement, échéancier, paiements). Un financeur n'agit jamais sur la ligne d'un autre."""

    modele = LigneFinancement

    def predicat(self, acteur: Acteur, ligne: LigneFinancement) -> bool:
        return ligne.organisation_id in acteur.instruites

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        if not acteur.instruites:
            return false()
        return LigneFinancement.organisation_id.in_(sorted(acteur.instruites))


INSTRUIRE_LIGNE = InstruireLigne()


def instruit_pour(qui, organisation_id: int) -> bool:
    """`INSTRUIRE_LIGNE` pour une ligne de cette organisation, sans la charger."""
    return organisation_id in acteur_de(qui).instruites


class GererJetons(Regle):
    """Les jetons d'API d'une organisation : ses instructeurs, et l'administration nationale pour toutes."""

    modele = Organisation

    def predicat(self, acteur: Acteur, organisation: Organisation) -> bool:
        return acteur.national or organisation.id in acteur.instruites

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        if acteur.national:
            return true()
        return Organisation.id.in_(sorted(acteur.instruites)) if acteur.instruites else false()


GERER_JETONS = GererJetons()


def gere_des_jetons(qui) -> bool:
    """`GERER_JETONS` permet au moins une organisation (l'entrée « Jetons d'API » de la navigation)."""
    acteur = acteur_de(qui)
    return acteur.national or bool(acteur.instruites)


class LireNote(Regle):
    """Une note d'instruction : jamais au porteur. Partagée, tous ceux qui voient l'instruction du dossier
    la lisent ; privée, les seuls membres de son organisation (et qui pilote le contrat en son nom)."""

    modele = Note

    def predicat(self, acteur: Acteur, note: Note) -> bool:
        return VOIR_INSTRUCTION.predicat(acteur, note.demande) and (
            note.partagee or note.organisation_id in acteur.organisations_des_notes
        )

    def lisibles(self, acteur: Acteur) -> ColumnElement[bool]:
        """La seconde condition seule, pour les notes d'un dossier dont l'instruction est déjà vue (la vue
        d'un dossier) : sans la sous-requête des dossiers visibles."""
        if not acteur.organisations_des_notes:
            return Note.partagee
        return or_(Note.partagee, Note.organisation_id.in_(sorted(acteur.organisations_des_notes)))

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        dossiers = select(Demande.id).where(VOIR_INSTRUCTION.clause(acteur)).correlate(None)
        return and_(Note.demande_id.in_(dossiers), self.lisibles(acteur))


LIRE_NOTE = LireNote()
