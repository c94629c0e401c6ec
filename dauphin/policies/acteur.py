"""Qui agit : un compte (ses structures, ses organisations, ses contrats pilotés, l'administration
nationale) ou un jeton d'API (l'organisation du jeton, au rôle qu'y tient son titulaire).

Toutes les règles de `dauphin.policies` lisent un `Acteur` : l'écran et l'API appliquent ainsi les mêmes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session, object_session
from werkzeug.local import LocalProxy

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
    def dans_une_organisation(self) -> bool:
        """Il agit pour une organisation (financeur, partenaire) ou pilote un contrat en son nom : ses
        qualités sur une demande lisent le contrat et les financeurs de celle-ci (`policies.qualites`), et
        les pages qui le savent les chargent avec la demande ; un porteur seul n'en a pas besoin."""
        return bool(self.organisations or self.pilotages)

    @property
    def hors_structure(self) -> bool:
        """Il peut voir des dossiers hors de ses structures (financeur, partenaire, pilote, national)."""
        return bool(self.organisations or self.pilotages or self.national)


ANONYME = Acteur()


def acteur_de(qui) -> Acteur:
    """L'acteur d'un compte (connecté ou anonyme), d'un jeton d'API, ou l'acteur lui-même."""
    if type(qui) is LocalProxy:  # current_user : le compte lu une fois, pas à chaque test qui suit
        qui = qui._get_current_object()
    if isinstance(qui, Acteur):
        return qui
    if isinstance(qui, JetonApi):
        return du_jeton(qui)
    if qui is None or not getattr(qui, "is_authenticated", False):
        return ANONYME
    return _du_compte_memorise(qui)


# L'acteur d'un compte, lu une fois par requête : la vue d'un dossier le demande une trentaine de fois
# (chaque règle, chaque action proposée), et chaque lecture parcourt les rattachements du compte (4 300 appels
# de fonctions Python sur les 45 000 de la vue d'un instructeur). Rangé dans l'environnement de la requête
# (pas dans `g`, qu'un contexte d'application ouvert partage entre requêtes, dans les tests) et jamais hors
# d'une requête. Il est relu dès que la session écrit (flush, ordre UPDATE ou DELETE en masse), finit sa
# transaction (validation ou annulation), relit ou oublie un objet (refresh, expire) ou porte des
# changements pas encore écrits : un rattachement ajouté, retiré ou modifié dans la requête compte aussitôt.
MEMOIRE = "dauphin.acteurs"


def _du_compte_memorise(utilisateur: Utilisateur) -> Acteur:
    if not has_request_context():
        return du_compte(utilisateur)
    memoire = request.environ.setdefault(MEMOIRE, {})
    deja = memoire.get(id(utilisateur))
    # `_is_clean` : rien d'ajouté, de modifié ni de supprimé en attente dans la session (la forme publique,
    # `session.new or session.dirty or session.deleted`, construit trois ensembles à chaque appel)
    session = object_session(utilisateur)
    propre = session is None or session._is_clean()
    if deja is not None and deja[0] is utilisateur and propre:
        return deja[1]
    acteur = du_compte(utilisateur)
    if propre:
        memoire[id(utilisateur)] = (utilisateur, acteur)
    return acteur


def _oublier_les_acteurs(*_):
    if has_request_context():
        request.environ.pop(MEMOIRE, None)


for _evenement in ("after_flush", "after_transaction_end", "after_bulk_update", "after_bulk_delete"):
    event.listen(Session, _evenement, _oublier_les_acteurs)


@event.listens_for(Session, "do_orm_execute")
def _oublier_si_ecriture(etat):
    if not etat.is_select:  # un ordre d'écriture (ORM ou Core) passé par la session
        _oublier_les_acteurs()


@event.listens_for(Mapper, "refresh")
@event.listens_for(Mapper, "expire")
def _oublier_si_relu(*_):
    _oublier_les_acteurs()


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
