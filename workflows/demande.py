"""La machine de la demande de subvention (le dossier), telle que DOMAIN.md la décrit."""

from workflows.gardes import (
    action_pas_terminee,
    attestation_cochee,
    aucune_ligne_votee,
    budget_equilibre,
    campagne_ouverte,
    compte_rendu_conforme,
    eligibilite_conforme,
    exercice_termine,
    financeurs_participants,
    formulaire_complet,
    justifications_validees,
    lignes_decidees,
    message_fourni,
    motif_fourni,
    pieces_fournies,
    toutes_lignes_avisees,
    un_versement,
    une_ligne_prise_en_charge,
    une_ligne_sans_avis,
    une_ligne_votee,
)
from workflows.moteur import Definition, Transition
from workflows.statuts import StatutDemande as S

AVANT_DECISION = (S.transmise, S.en_instruction, S.a_completer, S.instruite, S.programmee)
DEPOT = (formulaire_complet, budget_equilibre, financeurs_participants, pieces_fournies, eligibilite_conforme)
# Un premier dépôt, pas la réponse à une demande de compléments : la campagne ouverte, l'action pas finie.
NOUVEAU_DEPOT = (campagne_ouverte, action_pas_terminee)

DEMANDE = Definition(
    nom="Demande de subvention",
    etats=S,
    initial=S.brouillon,
    transitions=(
        # Porteur
        Transition("soumettre", (S.brouillon,), S.attente_attestation, (*DEPOT, *NOUVEAU_DEPOT)),
        Transition("modifier", (S.attente_attestation,), S.brouillon),
        Transition(
            "attester", (S.attente_attestation,), S.transmise, (*DEPOT, *NOUVEAU_DEPOT, attestation_cochee)
        ),
        # Réponse à une demande de compléments : le signataire atteste de nouveau.
        # Le dossier revient « transmis » ; les statuts dérivés le remettent aussitôt où en sont ses lignes.
        Transition("attester", (S.a_completer,), S.transmise, (*DEPOT, attestation_cochee)),
        Transition("retirer", (S.attente_attestation, *AVANT_DECISION), S.retiree, (motif_fourni,)),
        Transition(
            "deposer_justification",
            (S.a_justifier, S.justification_a_modifier),
            S.justification_en_cours,
            (compte_rendu_conforme, attestation_cochee),
        ),
        # Instructeurs
        Transition(
            "demander_complements",
            (S.transmise, S.en_instruction, S.instruite),
            S.a_completer,
            (message_fourni,),
        ),
        Transition("classer_sans_suite", AVANT_DECISION, S.classee_sans_suite, (motif_fourni,)),
        Transition(
            "retourner_justification",
            (S.justification_en_cours,),
            S.justification_a_modifier,
            (message_fourni,),
        ),
        # Pilote
        Transition("programmer", (S.instruite,), S.programmee),
        Transition("deprogrammer", (S.programmee,), S.instruite),
        Transition("cloturer_exercice", (S.attribuee, S.versee), S.a_justifier, (exercice_termine,)),
        # Statuts dérivés des lignes de financement
        Transition(
            "debuter_instruction",
            (S.transmise,),
            S.en_instruction,
            (une_ligne_prise_en_charge,),
            systeme=True,
        ),
        Transition("instruire", (S.en_instruction,), S.instruite, (toutes_lignes_avisees,), systeme=True),
        Transition(
            "reprendre_instruction", (S.instruite,), S.en_instruction, (une_ligne_sans_avis,), systeme=True
        ),
        Transition(
            "attribuer",
            (S.programmee, S.rejetee),
            S.attribuee,
            (lignes_decidees, une_ligne_votee),
            systeme=True,
        ),
        Transition(
            "rejeter",
            (S.programmee, S.attribuee),
            S.rejetee,
            (lignes_decidees, aucune_ligne_votee),
            systeme=True,
        ),
        Transition("verser", (S.attribuee,), S.versee, (un_versement,), systeme=True),
        Transition(
            "valider_justification",
            (S.justification_en_cours,),
            S.justifiee,
            (justifications_validees,),
            systeme=True,
        ),
    ),
)
