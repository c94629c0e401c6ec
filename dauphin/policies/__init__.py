"""Qui peut faire quoi sur quel objet — chaque règle une fois.

Une règle (`regle.Regle`) se lit sous deux formes écrites côte à côte : le prédicat Python pour un objet
chargé (`permet`) et la clause SQL pour les listes, les décomptes, les exports, les téléchargements et
l'API (`portee`). Elle s'applique à un `Acteur` : un compte ou un jeton d'API (`acteur.acteur_de`), de
sorte que l'écran et l'API voient la même chose. `REGLES` les recense toutes ; un test de propriétés
vérifie sur des mondes générés que les deux formes de chacune s'accordent.

Les gardes des workflows disent *quand* une transition est possible ; ce paquet dit *qui* peut la faire.
"""

from dauphin.policies.acteur import Acteur, acteur_de
from dauphin.policies.contrats import (
    PILOTER_CONTRAT,
    VOIR_CONTRAT,
    VOIR_ENVELOPPE,
    VOIR_PROGRAMMATION,
    VOIR_SEANCE,
    pilote,
)
from dauphin.policies.demandes import (
    DECLENCHEURS_FINANCEURS_DU_VOTE,
    MEMBRES,
    RESPONSABLES,
    ROLES_DEMANDE,
    ROLES_INSTRUCTION,
    ROLES_LIGNE,
    SYSTEME,
    VOIR_DEMANDE,
    VOIR_INSTRUCTION,
    Qualite,
    est_membre,
    peut_voir_demande,
    qualite_pour,
    qualites,
    voit_instruction,
)
from dauphin.policies.documents import TELECHARGER_DOCUMENT, peut_telecharger
from dauphin.policies.lectures import VOIR_TRACE_LECTURES, voit_les_lectures_de
from dauphin.policies.organisations import (
    GERER_JETONS,
    INSTRUIRE_LIGNE,
    LIRE_NOTE,
    gere_des_jetons,
    instruit_pour,
)
from dauphin.policies.regle import REGLES, Regle
from dauphin.policies.structures import MEMBRE_DE_LA_STRUCTURE, est_membre_structure

__all__ = [
    "DECLENCHEURS_FINANCEURS_DU_VOTE",
    "GERER_JETONS",
    "INSTRUIRE_LIGNE",
    "LIRE_NOTE",
    "MEMBRE_DE_LA_STRUCTURE",
    "MEMBRES",
    "PILOTER_CONTRAT",
    "REGLES",
    "RESPONSABLES",
    "ROLES_DEMANDE",
    "ROLES_INSTRUCTION",
    "ROLES_LIGNE",
    "SYSTEME",
    "TELECHARGER_DOCUMENT",
    "VOIR_CONTRAT",
    "VOIR_DEMANDE",
    "VOIR_ENVELOPPE",
    "VOIR_INSTRUCTION",
    "VOIR_PROGRAMMATION",
    "VOIR_SEANCE",
    "VOIR_TRACE_LECTURES",
    "Acteur",
    "Qualite",
    "Regle",
    "acteur_de",
    "est_membre",
    "est_membre_structure",
    "gere_des_jetons",
    "instruit_pour",
    "peut_telecharger",
    "peut_voir_demande",
    "pilote",
    "qualite_pour",
    "qualites",
    "voit_instruction",
    "voit_les_lectures_de",
]
