"""Qui peut faire quoi sur quel objet. Les gardes des workflows disent *quand* ; ce module dit *qui*.

Un utilisateur agit toujours en une qualité précise (signataire de telle structure, instructeur de
tel financeur, pilote de tel contrat…) : c'est elle que le journal retient.
"""

from __future__ import annotations

from dataclasses import dataclass

from dauphin.models import Demande, LigneFinancement, RoleOrganisation, Utilisateur


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
    "voter": frozenset({"pilote"}),  # à la clôture du comité, montant saisi par le financeur
    "refuser": frozenset({"pilote"}),
    "notifier": frozenset({"instructeur"}),
    "etablir_convention": frozenset({"instructeur"}),
    "signer_convention": frozenset({"instructeur"}),
    "verser_avance": frozenset({"instructeur"}),
    "valider_compte_rendu": frozenset({"instructeur"}),
    "solder": frozenset({"instructeur"}),
}


def qualites(utilisateur: Utilisateur, demande: Demande) -> list[Qualite]:
    """Toutes les qualités en lesquelles l'utilisateur intervient sur cette demande."""
    if not utilisateur.is_authenticated:
        return []
    resultat: list[Qualite] = []
    for adhesion in utilisateur.adhesions_structures:
        if adhesion.structure_id == demande.structure_id:
            resultat.append(Qualite(adhesion.role.value, structure_id=demande.structure_id))
            if adhesion.administrateur:
                resultat.append(Qualite("administrateur", structure_id=demande.structure_id))
    contrat = demande.campagne.contrat
    financeurs = {ligne.organisation_id for ligne in demande.lignes_financement}
    partenaires = {p.organisation_id for p in contrat.partenariats}
    for adhesion in utilisateur.adhesions_organisations:
        if adhesion.role == RoleOrganisation.instructeur and adhesion.organisation_id in financeurs:
            resultat.append(Qualite("instructeur", organisation_id=adhesion.organisation_id))
        if adhesion.organisation_id in partenaires:
            resultat.append(Qualite("partenaire", organisation_id=adhesion.organisation_id))
    for pilotage in utilisateur.pilotages:
        if pilotage.contrat_id == contrat.id:
            resultat.append(Qualite("pilote", organisation_id=pilotage.organisation_id))
    if utilisateur.administrateur_national:
        resultat.append(Qualite("administrateur_national"))
    return resultat


def est_membre(utilisateur: Utilisateur, demande: Demande) -> bool:
    return any(q.structure_id for q in qualites(utilisateur, demande))


def peut_voir_demande(utilisateur: Utilisateur, demande: Demande) -> bool:
    """Le porteur voit ses brouillons ; financeurs et partenaires ne voient que ce qui a été transmis."""
    roles = qualites(utilisateur, demande)
    if any(q.structure_id for q in roles):
        return True
    return bool(roles) and demande.numero is not None


def qualite_pour(
    utilisateur: Utilisateur, declencheur: str, demande: Demande, ligne: LigneFinancement | None = None
) -> Qualite | None:
    """La qualité en laquelle l'utilisateur peut déclencher `declencheur`, ou None s'il ne le peut pas."""
    roles = (ROLES_LIGNE if ligne is not None else ROLES_DEMANDE).get(declencheur, frozenset())
    for qualite in qualites(utilisateur, demande):
        if qualite.role not in roles:
            continue
        if (
            ligne is not None
            and qualite.role == "instructeur"
            and qualite.organisation_id != ligne.organisation_id
        ):
            continue  # un financeur n'agit que sur sa propre ligne
        return qualite
    return None
