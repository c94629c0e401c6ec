"""Libellés français des valeurs techniques affichées à l'écran (rôles, actions, statuts)."""

import unicodedata

from workflows import StatutDemande, StatutLigne

MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

ROLES = {
    "signataire": "Signataire",
    "contributeur": "Contributeur",
    "administrateur": "Administrateur de la structure",
    "instructeur": "Instructeur",
    "partenaire": "Partenaire",
    "pilote": "Pilote",
    "administrateur_national": "Administrateur national",
    "systeme": "Automatique",
}

ACTIONS = {
    "soumettre": "Soumise pour attestation",
    "modifier": "Remise en brouillon",
    "attester": "Attestée sur l’honneur et transmise",
    "retirer": "Retirée par le porteur",
    "deposer_justification": "Compte rendu financier déposé",
    "demander_complements": "Compléments demandés",
    "classer_sans_suite": "Classée sans suite",
    "retourner_justification": "Compte rendu financier renvoyé",
    "programmer": "Inscrite à l’ordre du jour du comité",
    "deprogrammer": "Retirée de l’ordre du jour du comité",
    "cloturer_exercice": "Exercice clôturé",
    "debuter_instruction": "Instruction commencée",
    "instruire": "Instruction terminée",
    "reprendre_instruction": "Instruction reprise",
    "attribuer": "Subvention attribuée",
    "rejeter": "Demande rejetée",
    "verser": "Premier versement",
    "valider_justification": "Compte rendu financier validé",
    "prendre_en_charge": "Ligne prise en charge",
    "assigner_gestionnaire": "Gestionnaire désigné",
    "declarer_recevable": "Déclarée recevable",
    "declarer_non_recevable": "Déclarée non recevable",
    "reviser_avis": "Avis révisé",
    "voter": "Montant voté",
    "refuser": "Refusée par le comité",
    "corriger_vote": "Décision du comité corrigée",
    "annuler_vote": "Vote annulé (correction)",
    "notifier": "Notifiée",
    "etablir_convention": "Convention établie",
    "signer_convention": "Convention signée",
    "verser_avance": "Avance versée",
    "valider_compte_rendu": "Compte rendu financier validé par le financeur",
    "solder": "Soldée",
    "abandonner": "Ligne sans suite",
    "enregistrer_engagement": "Numéro d’engagement juridique enregistré",
    "prevoir_versement": "Échéance prévue",
    "supprimer_echeance": "Échéance retirée",
    "demander_report_dates": "Report des dates de l’action demandé",
    "accepter_report_dates": "Report des dates accepté",
    "refuser_report_dates": "Report des dates refusé",
}


def statut(valeur: str) -> str:
    for enum in (StatutDemande, StatutLigne):
        if valeur in enum.__members__:
            return enum(valeur).libelle
    return valeur


def cle_alphabetique(texte: str) -> str:
    """Clé de tri alphabétique à la française, sans dépendre de la collation de la base : « État »
    se range avec les E, « île » avec « Ivry », majuscules et minuscules confondues."""
    decompose = unicodedata.normalize("NFKD", texte)
    return "".join(c for c in decompose if not unicodedata.combining(c)).casefold()
