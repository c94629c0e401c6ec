"""Les actions d'instruction : sur la ligne d'un financeur ou sur le dossier, qui peut les faire et quand.

Une action n'est proposée que si l'utilisateur en a le droit (`policies.qualite_pour`, ou instructeur du
financeur pour le gestionnaire) et si elle est possible depuis le statut actuel — gardes comprises, sauf
celles qui portent sur la saisie (montant, motif), que le formulaire demande.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from dauphin.models import Demande, LigneFinancement, Utilisateur
from dauphin.policies import (
    DECLENCHEURS_FINANCEURS_DU_VOTE,
    INSTRUIRE_LIGNE,
    ROLES_DEMANDE,
    ROLES_LIGNE,
    qualite_pour,
    qualites,
)
from dauphin.services import instruction as service
from forms.instruction import (
    ActionForm,
    AnnulationVoteForm,
    ClassementForm,
    ComplementsForm,
    CorrectionVoteForm,
    GestionnaireForm,
    NonRecevableForm,
    RecevableForm,
    RetourJustificationForm,
    RevisionForm,
    prefixe,
)
from workflows import DEMANDE, LIGNE

ASSIGNER = "assigner_gestionnaire"


@dataclass(frozen=True)
class Action:
    slug: str  # dans l'URL
    declencheur: str
    titre: str  # titre de la page d'action
    bouton: str
    formulaire: type[FlaskForm]
    succes: str
    sur_ligne: bool = True
    secondaire: bool = False


ACTIONS_LIGNE = {
    a.slug: a
    for a in (
        Action(
            "prendre-en-charge",
            "prendre_en_charge",
            "Prendre la ligne en charge",
            "Prendre en charge",
            ActionForm,
            "Ligne prise en charge : vous pouvez donner l’avis de recevabilité.",
        ),
        Action(
            "recevable",
            "declarer_recevable",
            "Déclarer la ligne recevable",
            "Déclarer recevable",
            RecevableForm,
            "Ligne déclarée recevable avec le montant proposé.",
        ),
        Action(
            "non-recevable",
            "declarer_non_recevable",
            "Déclarer la ligne non recevable",
            "Déclarer non recevable",
            NonRecevableForm,
            "Ligne déclarée non recevable.",
            secondaire=True,
        ),
        Action(
            "reviser-avis",
            "reviser_avis",
            "Réviser l’avis de recevabilité",
            "Réviser l’avis",
            RevisionForm,
            "Avis retiré : la ligne est de nouveau prise en charge.",
            secondaire=True,
        ),
        Action(
            "corriger-vote",
            "corriger_vote",
            "Corriger le montant voté par le comité",
            "Enregistrer la correction",
            CorrectionVoteForm,
            "Décision corrigée ; la correction et son motif sont au journal du dossier.",
            secondaire=True,
        ),
        Action(
            "annuler-vote",
            "annuler_vote",
            "Annuler le vote de votre organisation",
            "Annuler le vote",
            AnnulationVoteForm,
            "Vote annulé : la ligne est refusée ; l’annulation et son motif sont au journal du dossier.",
            secondaire=True,
        ),
        Action(
            "gestionnaire",
            ASSIGNER,
            "Désigner le gestionnaire du dossier",
            "Enregistrer le gestionnaire",
            GestionnaireForm,
            "Gestionnaire enregistré.",
            secondaire=True,
        ),
        Action(
            "valider-compte-rendu",
            "valider_compte_rendu",
            "Valider le compte rendu financier pour votre ligne",
            "Valider le compte rendu financier",
            ActionForm,
            "Compte rendu financier validé pour votre ligne.",
        ),
    )
}

ACTIONS_DEMANDE = {
    a.slug: a
    for a in (
        Action(
            "complements",
            "demander_complements",
            "Demander des compléments au porteur",
            "Envoyer la demande de compléments",
            ComplementsForm,
            "Demande de compléments envoyée : le dossier est « à compléter » et le porteur est prévenu.",
            sur_ligne=False,
        ),
        Action(
            "classer-sans-suite",
            "classer_sans_suite",
            "Classer la demande sans suite",
            "Classer sans suite",
            ClassementForm,
            "Demande classée sans suite ; le porteur en est informé.",
            sur_ligne=False,
            secondaire=True,
        ),
        Action(
            "retourner-compte-rendu",
            "retourner_justification",
            "Renvoyer le compte rendu financier au porteur",
            "Renvoyer le compte rendu",
            RetourJustificationForm,
            "Compte rendu renvoyé : le dossier est « justification à modifier » et le porteur est prévenu.",
            sur_ligne=False,
            secondaire=True,
        ),
    )
}


def autorisee(
    action: Action, utilisateur: Utilisateur, demande: Demande, ligne: LigneFinancement | None
) -> bool:
    """Le droit de faire l'action, quel que soit le statut actuel (sinon : 403).

    Le statut décide ensuite si l'action est possible (sinon : « plus possible », 409) ; le service des
    transitions revérifie tout au moment d'agir (`policies.qualite_pour`).
    """
    if ligne is not None:  # un financeur n'agit que sur sa propre ligne
        return INSTRUIRE_LIGNE.permet(utilisateur, ligne) and ouverte_a_l_instructeur(action)
    return _autorisee_sur_le_dossier(
        action, utilisateur, demande, {q.role for q in qualites(utilisateur, demande)}
    )


def autorisees_sur_le_dossier(utilisateur: Utilisateur, demande: Demande) -> list[Action]:
    """Les actions sur le dossier que l'utilisateur a le droit de faire (`autorisee`), ses qualités lues une
    fois pour toutes (et non action par action)."""
    roles = {q.role for q in qualites(utilisateur, demande)}
    return [a for a in ACTIONS_DEMANDE.values() if _autorisee_sur_le_dossier(a, utilisateur, demande, roles)]


def _autorisee_sur_le_dossier(
    action: Action, utilisateur: Utilisateur, demande: Demande, roles: set[str]
) -> bool:
    """`roles` : ceux des qualités de l'utilisateur sur la demande (`policies.qualites`)."""
    if action.declencheur in DECLENCHEURS_FINANCEURS_DU_VOTE:
        return qualite_pour(utilisateur, action.declencheur, demande) is not None
    return not roles.isdisjoint(ROLES_DEMANDE.get(action.declencheur, frozenset()))


def ouverte_a_l_instructeur(action: Action) -> bool:
    """Une action sur une ligne que l'instructeur du financeur de la ligne a le droit de faire."""
    return action.declencheur == ASSIGNER or "instructeur" in ROLES_LIGNE[action.declencheur]


def possible(action: Action, demande: Demande, ligne: LigneFinancement | None) -> bool:
    """L'action existe depuis le statut actuel et aucune garde hors saisie ne la refuse."""
    if action.declencheur == ASSIGNER:
        return service.ligne_assignable(ligne)
    machine, objet = (LIGNE, ligne) if ligne is not None else (DEMANDE, demande)
    if action.declencheur not in machine.possibles(objet):
        return False
    return not [p for p in machine.problemes(objet, action.declencheur) if p.champ is None]


def formulaire(
    action: Action, objet_id: int, version: int | None = None, equipe: list[Utilisateur] | None = None
) -> FlaskForm:
    """Le formulaire de l'action, préfixé pour que plusieurs tiennent sur la page du dossier."""
    form = action.formulaire(prefix=prefixe(action.slug, objet_id))
    if version is not None and not form.is_submitted():
        form.version.data = version
    if isinstance(form, GestionnaireForm):
        form.gestionnaire_id.choices = [SelectChoice(0, "— Aucun gestionnaire désigné —")] + [
            SelectChoice(u.id, u.nom_complet) for u in (equipe or [])
        ]
    return form
