"""`ROLES_PAR_LA_DEMANDE` (dauphin/policies/demandes.py) dit à `qualite_pour` quand lire contrat et financeurs
de la demande : il doit contenir tous les rôles que `qualites` tire de la demande elle-même. Un rôle ajouté
dans ce bloc sans l'être à l'ensemble laisserait `qualite_pour` refuser ce qu'il permet."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dauphin.models import RoleOrganisation
from dauphin.policies.acteur import Acteur
from dauphin.policies.demandes import ROLES_PAR_LA_DEMANDE, qualites
from workflows import StatutLigne

STRUCTURE, CONTRAT, INSTRUCTEUR, PARTENAIRE, PILOTE = 1, 10, 100, 200, 300


def _demande():
    """Une demande en mémoire, ce que `qualites` en lit : les deux organisations sont financeurs et
    partenaires du contrat."""
    contrat = SimpleNamespace(
        id=CONTRAT, partenariats=[SimpleNamespace(organisation_id=o) for o in (INSTRUCTEUR, PARTENAIRE)]
    )
    lignes = [
        SimpleNamespace(organisation_id=o, statut=StatutLigne.sollicitee) for o in (INSTRUCTEUR, PARTENAIRE)
    ]
    return SimpleNamespace(
        structure_id=STRUCTURE, campagne=SimpleNamespace(contrat=contrat), lignes_financement=lignes
    )


# Toutes les qualités à la fois : membre de la structure, instructeur d'un financeur, membre d'un partenaire,
# pilote du contrat, administration nationale.
TOUT = Acteur(
    structures={STRUCTURE: ("signataire", "administrateur")},
    organisations={INSTRUCTEUR: RoleOrganisation.instructeur, PARTENAIRE: RoleOrganisation.partenaire},
    pilotages=((CONTRAT, PILOTE),),
    national=True,
)


@pytest.mark.parametrize("pour_agir", [False, True])
def test_les_roles_tires_de_la_demande_sont_tous_dans_roles_par_la_demande(pour_agir):
    demande = _demande()
    avec = {q.role for q in qualites(TOUT, demande, pour_agir=pour_agir)}
    sans = {q.role for q in qualites(TOUT, demande, pour_agir=pour_agir, par_la_demande=False)}
    assert avec - sans == ROLES_PAR_LA_DEMANDE  # chacun produit ici, aucun de trop dans l'ensemble
    assert sans.isdisjoint(ROLES_PAR_LA_DEMANDE)
