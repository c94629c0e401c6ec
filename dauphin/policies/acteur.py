"""Qui agit : un compte (ses structures, ses organisations, ses contrats pilotés, l'administration
nationale) ou un jeton d'API (l'organisation du jeton, au rôle qu'y tient son titulaire).

Toutes les règles de `dauphin.policies` lisent un `Acteur` : l'écran et l'API appliquent ainsi les mêmes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from dauphin.models import JetonApi, RoleOrganisation, Utilisateur


@dataclass(frozen=True)
class Acteur:
    # structure → rôles qu'il y tient : « signataire » ou « contributeur », puis « administrateur »
    structures: dict[int, tuple[str, ...]] = field(default_factory=dict)
    organisations: dict[int, RoleOrganisation] = field(default_factory=dict)  # organisation → rôle
    pilotages: tuple[tuple[int, int], ...] = ()  # (contrat, organisation au nom de laquelle il pilote)
    national: bool = False
    utilisateur_id: int | None = None

    @cached_property
    def instruites(self) -> frozenset[int]:
        """Les organisations dont il est instructeur (il instruit leurs lignes)."""
        return frozenset(o for o, role in self.organisations.items() if role == RoleOrganisation.instructeur)

    @cached_property
    def structures_administrees(self) -> frozenset[int]:
        """Les structures dont il est l'administrateur."""
        return frozenset(s for s, roles in self.structures.items() if "administrateur" in roles)

    @cached_property
    def membre_de(self) -> frozenset[int]:
        return frozenset(self.organisations)

    @cached_property
    def contrats_pilotes(self) -> frozenset[int]:
        return frozenset(contrat for contrat, _ in self.pilotages)

    @cached_property
    def organisations_des_notes(self) -> frozenset[int]:
        """Les organisations dont il lit les notes privées : les siennes, et celles au nom desquelles il
        pilote un contrat."""
        return self.membre_de | {organisation for _, organisation in self.pilotages}

    @property
    def hors_structure(self) -> bool:
        """Il peut voir des dossiers hors de ses structures (financeur, partenaire, pilote, national)."""
        return bool(self.organisations or self.pilotages or self.national)


ANONYME = Acteur()


def acteur_de(qui) -> Acteur:
    """L'acteur d'un compte (connecté ou anonyme), d'un jeton d'API, ou l'acteur lui-même."""
    if isinstance(qui, Acteur):
        return qui
    if isinstance(qui, JetonApi):
        return du_jeton(qui)
    if qui is None or not getattr(qui, "is_authenticated", False):
        return ANONYME
    return du_compte(qui)


def du_compte(utilisateur: Utilisateur) -> Acteur:
    return Acteur(
        structures={
            a.structure_id: (a.role.value, "administrateur") if a.administrateur else (a.role.value,)
            for a in utilisateur.adhesions_structures
        },
        organisations={a.organisation_id: a.role for a in utilisateur.adhesions_organisations},
        pilotages=tuple((p.contrat_id, p.organisation_id) for p in utilisateur.pilotages),
        national=bool(utilisateur.administrateur_national),
        utilisateur_id=utilisateur.id,
    )


def du_jeton(jeton: JetonApi) -> Acteur:
    """Un jeton agit pour son organisation seule, au rôle qu'y tient son titulaire — jamais avec les
    autres rattachements du titulaire (ses structures, ses autres organisations, ses contrats pilotés)."""
    adhesions = jeton.titulaire.adhesions_organisations
    role = next((a.role for a in adhesions if a.organisation_id == jeton.organisation_id), None)
    if role is None or not jeton.titulaire.actif:
        return ANONYME
    return Acteur(organisations={jeton.organisation_id: role}, utilisateur_id=jeton.titulaire_id)
