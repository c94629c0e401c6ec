"""Qui peut faire quoi sur quel objet. Les gardes des workflows disent *quand* ; ce module dit *qui*.

Un utilisateur agit toujours en une qualité précise (signataire de telle structure, instructeur de
tel financeur, pilote de tel contrat…) : c'est elle que le journal retient.
"""

from __future__ import annotations

from dataclasses import dataclass

from dauphin.models import Demande, LigneFinancement, RoleOrganisation, Utilisateur
from workflows import StatutLigne


@dataclass(frozen=True)
class Qualite:
    role: str
    organisation_id: int | None = None
    structure_id: int | None = None


SYSTEME = Qualite("systeme")

MEMBRES = frozenset({"signataire", "contributeur"})
RESPONSABLES = frozenset({"signataire", "administrateur"})

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


def _a_vote(demande: Demande, qualite: Qualite) -> bool:
    return qualite.role != "instructeur" or any(
        ligne.organisation_id == qualite.organisation_id and (ligne.montant_vote or 0) > 0
        for ligne in demande.lignes_financement
    )


def qualites(utilisateur: Utilisateur, demande: Demande, pour_agir: bool = False) -> list[Qualite]:
    """Toutes les qualités en lesquelles l'utilisateur intervient sur cette demande.

    `pour_agir` : un financeur dont la ligne est sans suite (retiré du budget) voit encore le dossier
    mais n'y agit plus.
    """
    if not utilisateur.is_authenticated:
        return []
    resultat: list[Qualite] = []
    for adhesion in utilisateur.adhesions_structures:
        if adhesion.structure_id == demande.structure_id:
            resultat.append(Qualite(adhesion.role.value, structure_id=demande.structure_id))
            if adhesion.administrateur:
                resultat.append(Qualite("administrateur", structure_id=demande.structure_id))
    adhesions_organisations, pilotages = utilisateur.adhesions_organisations, utilisateur.pilotages
    if adhesions_organisations or pilotages:  # un porteur seul n'a pas à lire contrat et financeurs
        contrat = demande.campagne.contrat
        financeurs = {
            ligne.organisation_id
            for ligne in demande.lignes_financement
            if not pour_agir or ligne.statut != StatutLigne.abandonnee
        }
        partenaires = {p.organisation_id for p in contrat.partenariats}
        for adhesion in adhesions_organisations:
            if adhesion.role == RoleOrganisation.instructeur and adhesion.organisation_id in financeurs:
                resultat.append(Qualite("instructeur", organisation_id=adhesion.organisation_id))
            if adhesion.organisation_id in partenaires:
                resultat.append(Qualite("partenaire", organisation_id=adhesion.organisation_id))
        for pilotage in pilotages:
            if pilotage.contrat_id == contrat.id:
                resultat.append(Qualite("pilote", organisation_id=pilotage.organisation_id))
    if utilisateur.administrateur_national:
        resultat.append(Qualite("administrateur_national"))
    return resultat


def est_membre(utilisateur: Utilisateur, demande: Demande) -> bool:
    """Membre de la structure de la demande (les qualités venues de la structure, sans le reste)."""
    return utilisateur.is_authenticated and any(
        adhesion.structure_id == demande.structure_id for adhesion in utilisateur.adhesions_structures
    )


def peut_voir_demande(utilisateur: Utilisateur, demande: Demande) -> bool:
    """Le porteur voit ses brouillons ; financeurs et partenaires ne voient que ce qui a été transmis."""
    if est_membre(utilisateur, demande):
        return True
    return demande.numero is not None and bool(qualites(utilisateur, demande))


ROLES_INSTRUCTION = frozenset({"instructeur", "partenaire", "pilote", "administrateur_national"})


def voit_instruction(utilisateur: Utilisateur, demande: Demande) -> bool:
    """Les avis des financeurs (proposés, non-recevabilité, motifs) ne sont pas montrés au porteur :
    il en connaît l'issue par la décision du comité."""
    return any(q.role in ROLES_INSTRUCTION for q in qualites(utilisateur, demande))


def qualite_pour(
    utilisateur: Utilisateur, declencheur: str, demande: Demande, ligne: LigneFinancement | None = None
) -> Qualite | None:
    """La qualité en laquelle l'utilisateur peut déclencher `declencheur`, ou None s'il ne le peut pas."""
    roles = (ROLES_LIGNE if ligne is not None else ROLES_DEMANDE).get(declencheur, frozenset())
    for qualite in qualites(utilisateur, demande, pour_agir=True):
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


def est_membre_structure(utilisateur: Utilisateur, structure_id: int) -> bool:
    """Membre de la structure, quel que soit son rôle (administrateur, signataire, contributeur)."""
    if not utilisateur.is_authenticated:
        return False
    return any(adhesion.structure_id == structure_id for adhesion in utilisateur.adhesions_structures)


def peut_telecharger(utilisateur: Utilisateur, document) -> bool:
    """Qui peut télécharger un document déposé.

    Les membres de sa structure ; et, pour un document propre à une demande (`Document.demande_id` :
    récépissé, convention) ou joint à une demande (`PieceJointe`), quiconque peut voir cette demande
    (`peut_voir_demande` : financeurs, partenaires du contrat, pilote, administration nationale, et
    jamais un brouillon hors de la structure). Personne d'autre.
    """
    if not utilisateur.is_authenticated:
        return False
    if est_membre_structure(utilisateur, document.structure_id):
        return True
    hors_structure = utilisateur.adhesions_organisations or utilisateur.pilotages
    if not (hors_structure or utilisateur.administrateur_national):
        return False  # hors de la structure, seuls ces rôles voient des demandes
    from sqlalchemy import or_, select

    from dauphin.extensions import db
    from dauphin.models import PieceJointe

    # Hors de la structure, seules les demandes transmises (numérotées) sont visibles.
    demandes = db.session.scalars(
        select(Demande)
        .where(
            Demande.numero.is_not(None),
            or_(
                Demande.id == document.demande_id,
                Demande.id.in_(select(PieceJointe.demande_id).where(PieceJointe.document_id == document.id)),
            ),
        )
        .order_by(Demande.id.desc())
    )
    return any(peut_voir_demande(utilisateur, demande) for demande in demandes)
