"""Ce que la vue d'un dossier montre en plus aux financeurs, partenaires et pilotes (jamais au porteur) :
un panneau par ligne du financeur de l'utilisateur avec ses actions, les actions sur le dossier, les notes
et les autres demandes de la structure. Appelé par `dauphin.dossiers.voir`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from dauphin.instruction.actions import (
    ACTIONS_LIGNE,
    Action,
    autorisees_sur_le_dossier,
    formulaire,
    ouverte_a_l_instructeur,
    possible,
)
from dauphin.models import Demande, LigneFinancement
from dauphin.policies import INSTRUIRE_LIGNE
from dauphin.services import instruction as service
from forms.instruction import NoteForm

GESTIONNAIRE = "gestionnaire"  # l'action qui désigne le gestionnaire nommé d'une ligne
ACTIONS_DE_L_INSTRUCTEUR = tuple(a for a in ACTIONS_LIGNE.values() if ouverte_a_l_instructeur(a))


# Les champs d'un formulaire qui ne s'écrivent pas un à un (le gabarit les écrit par `hidden_tag()`).
CHAMPS_CACHES = ("HiddenField", "CSRFTokenField")


@dataclass
class Panneau:
    ligne: LigneFinancement
    actions: list[Action] = field(default_factory=list)
    formulaires: dict[str, FlaskForm] = field(default_factory=dict)
    # Par action, les champs de son formulaire que le gabarit écrit un à un : choisis ici et non par des
    # filtres du gabarit (rejectattr, list), une cinquantaine d'appels de fonctions de moins par action.
    champs: dict[str, list] = field(default_factory=dict)


def note_form(organisations) -> NoteForm:
    form = NoteForm(prefix="note")
    form.organisation_id.choices = [SelectChoice(o.id, o.nom) for o in organisations]
    if not form.is_submitted() and organisations:
        form.organisation_id.data = organisations[0].id
    return form


def _panneau(ligne: LigneFinancement, actions: list[Action], equipe) -> Panneau:
    """Les actions que l'utilisateur peut faire maintenant sur la ligne de son financeur, avec leurs
    formulaires."""
    panneau = Panneau(ligne)
    for action in actions:
        form = formulaire(action, ligne.id, ligne.version, equipe)
        if action.slug == GESTIONNAIRE:
            form.gestionnaire_id.data = ligne.gestionnaire_id or 0
        panneau.actions.append(action)
        panneau.formulaires[action.slug] = form
        panneau.champs[action.slug] = [champ for champ in form if champ.type not in CHAMPS_CACHES]
    return panneau


def contexte_dossier(demande: Demande, avec_notes: bool = True) -> dict:
    """avec_notes=False : le dossier n'a pas de notes (lu avec la demande), rien à lire."""
    lignes = [ligne for ligne in demande.lignes_financement if INSTRUIRE_LIGNE.permet(current_user, ligne)]
    # Sur les lignes de son financeur (INSTRUIRE_LIGNE ci-dessus), le droit de faire une action est celui de
    # l'instructeur (`actions.autorisee`) : il ne se revérifie pas action par action.
    proposees = {
        ligne.id: [a for a in ACTIONS_DE_L_INSTRUCTEUR if possible(a, demande, ligne)] for ligne in lignes
    }
    # Les instructeurs (choix du gestionnaire) ne sont lus que pour les lignes où l'on peut en désigner un.
    a_assigner = {
        ligne.organisation_id for ligne in lignes if any(a.slug == GESTIONNAIRE for a in proposees[ligne.id])
    }
    equipes = service.noms_des_instructeurs(a_assigner) if a_assigner else {}
    actions_dossier = [
        a for a in autorisees_sur_le_dossier(current_user, demande) if possible(a, demande, None)
    ]
    organisations = service.organisations_pour_notes(current_user, demande)
    return {
        "panneaux": [
            _panneau(ligne, proposees[ligne.id], equipes.get(ligne.organisation_id)) for ligne in lignes
        ],
        "actions_dossier": actions_dossier,
        "formulaires_dossier": {a.slug: formulaire(a, demande.id, demande.version) for a in actions_dossier},
        "notes": service.notes_visibles(demande, current_user) if avec_notes else [],
        "note_form": note_form(organisations) if organisations else None,
        "autres_demandes": service.autres_demandes(demande, current_user),
    }
