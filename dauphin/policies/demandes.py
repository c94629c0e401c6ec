"""Les demandes : qui les voit, qui voit leur instruction, en quelle qualité on intervient sur un dossier
et qui peut en déclencher chaque transition. Les gardes des workflows disent *quand* ; ce module dit *qui*.

Un utilisateur agit toujours en une qualité précise (signataire de telle structure, instructeur de tel
financeur, pilote de tel contrat…) : c'est elle que le journal retient.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, select, true

from dauphin.models import Campagne, Demande, LigneFinancement, PartenaireContrat
from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.regle import Regle
from workflows import StatutLigne


@dataclass(frozen=True)
class Qualite:
    role: str
    organisation_id: int | None = None
    structure_id: int | None = None


SYSTEME = Qualite("systeme")

MEMBRES = frozenset({"signataire", "contributeur"})
RESPONSABLES = frozenset({"signataire", "administrateur"})
ROLES_INSTRUCTION = frozenset({"instructeur", "partenaire", "pilote", "administrateur_national"})
# Les qualités tirées de la demande elle-même (ses financeurs, son contrat), hors de la structure : tous les
# rôles du bloc `par_la_demande` de `qualites` (tests/unit/test_roles_par_la_demande.py le vérifie).
ROLES_PAR_LA_DEMANDE = frozenset({"instructeur", "partenaire", "pilote"})

# Qui peut déclencher quoi (les transitions « système » n'ont pas d'entrée : aucun usager ne les déclenche)
ROLES_DEMANDE: dict[str, frozenset[str]] = {
    "soumettre": MEMBRES,
    "modifier": MEMBRES,
    "attester": frozenset({"signataire"}),
    "retirer": RESPONSABLES,
    "deposer_justification": frozenset({"signataire"}),
    "demander_complements": frozenset({"instructeur"}),
    "classer_sans_suite": frozenset({"instructeur", "pilote"}),
    "retourner_justification": frozenset({"instructeur"}),
    "programmer": frozenset({"pilote"}),
    "deprogrammer": frozenset({"pilote"}),
    "cloturer_exercice": frozenset({"pilote"}),
}
ROLES_LIGNE: dict[str, frozenset[str]] = {
    "prendre_en_charge": frozenset({"instructeur"}),
    "declarer_recevable": frozenset({"instructeur"}),
    "declarer_non_recevable": frozenset({"instructeur"}),
    "reviser_avis": frozenset({"instructeur"}),
    # Chaque financeur décide de sa propre ligne. À l'écran, le vote passe par le comité de pilotage : le
    # financeur y saisit son montant, et la clôture de la séance par le pilote déclenche ces transitions
    # pour toutes les lignes à l'ordre du jour (dauphin/services/comites.py, journal : le pilote).
    "voter": frozenset({"instructeur"}),
    "refuser": frozenset({"instructeur"}),
    # Correction motivée d’une décision close, par le financeur pour sa propre ligne.
    "corriger_vote": frozenset({"instructeur"}),
    "annuler_vote": frozenset({"instructeur"}),
    "notifier": frozenset({"instructeur"}),
    "etablir_convention": frozenset({"instructeur"}),
    # La convention signée est déposée par le signataire de la structure (son représentant légal ou son
    # délégué, celui qui atteste), ou par l'instructeur du financeur quand elle lui revient par courrier.
    "signer_convention": frozenset({"instructeur", "signataire"}),
    "verser_avance": frozenset({"instructeur"}),
    "valider_compte_rendu": frozenset({"instructeur"}),
    "solder": frozenset({"instructeur"}),
}

DECLENCHEURS_FINANCEURS_DU_VOTE = frozenset({"retourner_justification"})


# --- Les qualités d'un acteur sur un dossier ------------------------------------------------------


def qualites(qui, demande: Demande, pour_agir: bool = False, par_la_demande: bool = True) -> list[Qualite]:
    """Toutes les qualités en lesquelles l'acteur intervient sur cette demande.

    `pour_agir` : un financeur dont la ligne est sans suite (retiré du budget) voit encore le dossier
    mais n'y agit plus. `par_la_demande=False` : sans celles de `ROLES_PAR_LA_DEMANDE` (ni contrat ni
    financeurs lus : la demande peut n'être qu'une rangée qui a `structure_id`).
    """
    acteur = acteur_de(qui)
    resultat: list[Qualite] = []
    for role in acteur.structures.get(demande.structure_id, ()):
        resultat.append(Qualite(role, structure_id=demande.structure_id))
    # Un porteur seul n'a pas à lire contrat et financeurs.
    if par_la_demande and acteur.dans_une_organisation:
        contrat = demande.campagne.contrat
        financeurs = {
            ligne.organisation_id
            for ligne in demande.lignes_financement
            if not pour_agir or ligne.statut != StatutLigne.abandonnee
        }
        partenaires = {p.organisation_id for p in contrat.partenariats}
        for organisation_id in acteur.organisations:
            if organisation_id in acteur.instruites and organisation_id in financeurs:
                resultat.append(Qualite("instructeur", organisation_id=organisation_id))
            if organisation_id in partenaires:
                resultat.append(Qualite("partenaire", organisation_id=organisation_id))
        for contrat_id, organisation_id in acteur.pilotages:
            if contrat_id == contrat.id:
                resultat.append(Qualite("pilote", organisation_id=organisation_id))
    if acteur.national:
        resultat.append(Qualite("administrateur_national"))
    return resultat


def est_membre(qui, demande: Demande) -> bool:
    """Membre de la structure de la demande (les qualités venues de la structure, sans le reste)."""
    return demande.structure_id in acteur_de(qui).structures


# --- Voir l'instruction, voir le dossier ----------------------------------------------------------


class VoirInstruction(Regle):
    """Les qualités hors de la structure : financeur sollicité (instructeur de l'organisation d'une
    ligne), membre d'une organisation partenaire du contrat, pilote du contrat, administration nationale.
    Elles montrent les avis des financeurs, les notes et l'instruction, que le porteur ne voit pas : il
    connaît l'issue par la décision du comité."""

    modele = Demande

    def predicat(self, acteur: Acteur, demande: Demande) -> bool:
        return any(q.role in ROLES_INSTRUCTION for q in qualites(acteur, demande))

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        if acteur.national:
            return true()
        conditions = []
        if acteur.instruites:
            # EXISTS corrélé, pas IN (sous-requête) : sous un OR, PostgreSQL matérialiserait toutes les
            # lignes du financeur (23 000 pour le plus gros, 76 ms) pour filtrer les quelques demandes d'une
            # structure ; EXISTS sonde l'index unique (demande_id, organisation_id), moins d'une ms.
            conditions.append(
                select(LigneFinancement.id)
                .where(
                    LigneFinancement.demande_id == Demande.id,
                    # Les financeurs écrits dans l'ordre et non passés en paramètres : préparé, son plan
                    # générique ne sait pas combien de lignes a le financeur (47 en moyenne) et hachait
                    # toutes celles du plus gros (2 300 à 25 000 demandes, 0,3 ms) au lieu de sonder l'index.
                    LigneFinancement.organisation_id.in_(
                        bindparam("instruites", sorted(acteur.instruites), literal_execute=True)
                    ),
                )
                .exists()
            )
        if acteur.membre_de:
            conditions.append(
                Demande.campagne_id.in_(
                    select(Campagne.id)
                    .join(PartenaireContrat, PartenaireContrat.contrat_id == Campagne.contrat_id)
                    .where(PartenaireContrat.organisation_id.in_(sorted(acteur.membre_de)))
                    .correlate(None)
                )
            )
        if acteur.contrats_pilotes:
            conditions.append(
                Demande.campagne_id.in_(
                    select(Campagne.id)
                    .where(Campagne.contrat_id.in_(sorted(acteur.contrats_pilotes)))
                    .correlate(None)
                )
            )
        return or_(*conditions) if conditions else false()


VOIR_INSTRUCTION = VoirInstruction()


class VoirDemande(Regle):
    """Le porteur voit toutes les demandes de ses structures, brouillons compris ; hors de la structure, on
    ne voit que les demandes transmises (numérotées), et seulement avec une qualité d'instruction."""

    modele = Demande

    def predicat(self, acteur: Acteur, demande: Demande) -> bool:
        if est_membre(acteur, demande):
            return True
        return demande.numero is not None and VOIR_INSTRUCTION.predicat(acteur, demande)

    def clause(self, acteur: Acteur) -> ColumnElement[bool]:
        hors_structure = (
            and_(Demande.numero.is_not(None), VOIR_INSTRUCTION.clause(acteur))
            if acteur.hors_structure
            else false()
        )
        if not acteur.structures:
            return hors_structure
        return or_(Demande.structure_id.in_(sorted(acteur.structures)), hors_structure)


VOIR_DEMANDE = VoirDemande()


def peut_voir_demande(qui, demande: Demande) -> bool:
    return VOIR_DEMANDE.permet(qui, demande)


def voit_instruction(qui, demande: Demande) -> bool:
    return VOIR_INSTRUCTION.permet(qui, demande)


# --- Agir : la qualité en laquelle on déclenche une transition ------------------------------------


def _a_vote(demande: Demande, qualite: Qualite) -> bool:
    return qualite.role != "instructeur" or any(
        ligne.organisation_id == qualite.organisation_id and (ligne.montant_vote or 0) > 0
        for ligne in demande.lignes_financement
    )


def qualite_pour(
    qui, declencheur: str, demande: Demande, ligne: LigneFinancement | None = None
) -> Qualite | None:
    """La qualité en laquelle l'acteur peut déclencher `declencheur`, ou None s'il ne le peut pas."""
    roles = (ROLES_LIGNE if ligne is not None else ROLES_DEMANDE).get(declencheur, frozenset())
    # Un déclencheur réservé à la structure (attester, soumettre…) : ni financeurs ni contrat à lire.
    par_la_demande = not roles.isdisjoint(ROLES_PAR_LA_DEMANDE)
    for qualite in qualites(qui, demande, pour_agir=True, par_la_demande=par_la_demande):
        if qualite.role not in roles:
            continue
        if (
            ligne is not None
            and qualite.role == "instructeur"
            and qualite.organisation_id != ligne.organisation_id
        ):
            continue  # un financeur n'agit que sur sa propre ligne
        if declencheur in DECLENCHEURS_FINANCEURS_DU_VOTE and not _a_vote(demande, qualite):
            continue  # le compte rendu ne concerne que les financeurs qui ont voté une subvention
        return qualite
    return None
