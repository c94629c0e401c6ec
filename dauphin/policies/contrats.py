"""Les contrats de ville et ce qui s'y rattache : qui voit un contrat (ses séances de comité, la
programmation de ses campagnes), qui le pilote, qui voit les enveloppes des financeurs.

La règle d'un contrat s'écrit sur une colonne `contrat_id` quelconque (`sur`) : la séance et la campagne
l'appliquent à la leur, sans jointure de plus.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true

from dauphin.models import Campagne, ContratDeVille, Enveloppe, PartenaireContrat, SeanceComite
from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.regle import Regle


class VoirContrat(Regle):
    """Le pilote du contrat, les membres des organisations qui l'ont signé, l'administration nationale."""

    modele = ContratDeVille

    def predicat(self, acteur: Acteur, contrat: ContratDeVille) -> bool:
        return self.qualite(acteur, contrat) is not None

    def qualite(self, qui, contrat: ContratDeVille) -> str | None:
        """En quelle qualité l'acteur voit le contrat : « pilote », « partenaire » (membre d'une
        organisation signataire : en lecture), « national », ou None s'il ne le voit pas."""
        acteur = acteur_de(qui)
        if contrat.id in acteur.contrats_pilotes:
            return "pilote"
        if any(p.organisation_id in acteur.membre_de for p in contrat.partenariats):
            return "partenaire"
        return "national" if acteur.national else None

    def sur(self, acteur: Acteur, contrat_id: ColumnElement) -> ColumnElement[bool]:
        if acteur.national:
            return true()
        conditions = []
        if acteur.contrats_pilotes:
            conditions.append(contrat_id.in_(sorted(acteur.contrats_pilotes)))
        if acteur.membre_de:
            conditions.append(
                contrat_id.in_(
                    select(PartenaireContrat.contrat_id)
                    .where(PartenaireContrat.organisation_id.in_(sorted(acteur.membre_de)))
                    .correlate(None)
                )
            )
        return or_(*conditions) if conditions else false()

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        return self.sur(acteur, ContratDeVille.id)


VOIR_CONTRAT = VoirContrat()


class PiloterContrat(Regle):
    """Le pilote du contrat : campagnes, séances du comité, clôture d'un exercice."""

    modele = ContratDeVille

    def predicat(self, acteur: Acteur, contrat: ContratDeVille) -> bool:
        return contrat.id in acteur.contrats_pilotes

    def sur(self, acteur: Acteur, contrat_id: ColumnElement) -> ColumnElement[bool]:
        return contrat_id.in_(sorted(acteur.contrats_pilotes)) if acteur.contrats_pilotes else false()

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        return self.sur(acteur, ContratDeVille.id)


PILOTER_CONTRAT = PiloterContrat()


def pilote(qui, contrat_id: int) -> bool:
    """`PILOTER_CONTRAT` sans charger le contrat."""
    return contrat_id in acteur_de(qui).contrats_pilotes


class VoirParSonContrat(Regle):
    """Un objet rattaché à un contrat (`objet.contrat`, colonne `contrat_id`) : qui voit son contrat."""

    def __init__(self, modele: type, description: str):
        self.modele, self.description = modele, description
        super().__init__()

    def predicat(self, acteur: Acteur, objet) -> bool:
        return VOIR_CONTRAT.predicat(acteur, objet.contrat)

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        return VOIR_CONTRAT.sur(acteur, self.modele.contrat_id)


VOIR_SEANCE = VoirParSonContrat(SeanceComite, "Une séance du comité de pilotage.")
VOIR_PROGRAMMATION = VoirParSonContrat(Campagne, "La programmation d'une campagne (et ses exports).")


class VoirEnveloppe(Regle):
    """Les enveloppes de ses organisations (tout membre), et toutes celles des contrats qu'il pilote."""

    modele = Enveloppe

    def predicat(self, acteur: Acteur, enveloppe: Enveloppe) -> bool:
        return (
            enveloppe.organisation_id in acteur.membre_de
            or enveloppe.campagne.contrat_id in acteur.contrats_pilotes
        )

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        conditions = []
        if acteur.membre_de:
            conditions.append(Enveloppe.organisation_id.in_(sorted(acteur.membre_de)))
        if acteur.contrats_pilotes:
            conditions.append(
                Enveloppe.campagne_id.in_(
                    select(Campagne.id)
                    .where(PILOTER_CONTRAT.sur(acteur, Campagne.contrat_id))
                    .correlate(None)
                )
            )
        return or_(*conditions) if conditions else false()


VOIR_ENVELOPPE = VoirEnveloppe()
