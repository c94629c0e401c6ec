"""Statuts des demandes et des lignes de financement, stockés par leur valeur.

Les noms des membres sont leurs valeurs : une chaîne lue en base ou dans un formulaire
désigne donc le même état pour `transitions`, qui cherche les états par nom.
"""

from workflows.enumerations import EnumLibelle


class StatutDemande(EnumLibelle):
    brouillon = "brouillon", "Brouillon"
    attente_attestation = "attente_attestation", "En attente d’attestation"
    transmise = "transmise", "Transmise"
    en_instruction = "en_instruction", "En instruction"
    a_completer = "a_completer", "À compléter"
    instruite = "instruite", "Instruite"
    programmee = "programmee", "Programmée en comité"
    attribuee = "attribuee", "Attribuée"
    rejetee = "rejetee", "Rejetée"
    versee = "versee", "Versée"
    a_justifier = "a_justifier", "À justifier"
    justification_en_cours = "justification_en_cours", "Justification en cours"
    justification_a_modifier = "justification_a_modifier", "Justification à modifier"
    justifiee = "justifiee", "Justifiée"
    classee_sans_suite = "classee_sans_suite", "Classée sans suite"
    retiree = "retiree", "Retirée"


# Une demande dans l'un de ces statuts n'attend plus rien de personne.
STATUTS_DEMANDE_FINAUX = frozenset(
    {StatutDemande.rejetee, StatutDemande.justifiee, StatutDemande.classee_sans_suite, StatutDemande.retiree}
)

# Le comité a attribué une subvention : la décision est définitive (acte, versements, compte rendu).
STATUTS_DEMANDE_FINANCEE = (
    StatutDemande.attribuee,
    StatutDemande.versee,
    StatutDemande.a_justifier,
    StatutDemande.justification_en_cours,
    StatutDemande.justification_a_modifier,
    StatutDemande.justifiee,
)


class StatutLigne(EnumLibelle):
    sollicitee = "sollicitee", "Sollicitée"
    prise_en_charge = "prise_en_charge", "Prise en charge"
    recevable = "recevable", "Recevable"
    non_recevable = "non_recevable", "Non recevable"
    votee = "votee", "Votée"
    refusee = "refusee", "Refusée"
    convention_a_signer = "convention_a_signer", "Convention à signer"
    engagee = "engagee", "Engagée"
    avance_versee = "avance_versee", "Avance versée"
    soldee = "soldee", "Soldée"
    abandonnee = "abandonnee", "Sans suite"


# Ce que le porteur lit d'une ligne avant la décision du comité : les avis restent internes aux
# financeurs, la ligne porte donc le libellé du dossier à la même étape (« Transmise » tant qu'aucun
# instructeur ne l'a prise en charge, « En instruction » ensuite). Seule source de ce libellé.
STATUT_LIGNE_VU_DU_PORTEUR = {
    StatutLigne.sollicitee: StatutDemande.transmise,
    StatutLigne.prise_en_charge: StatutDemande.en_instruction,
    StatutLigne.recevable: StatutDemande.en_instruction,
    StatutLigne.non_recevable: StatutDemande.en_instruction,
}


def statut_ligne_vu_du_porteur(statut: StatutLigne) -> StatutLigne | StatutDemande:
    """Le statut d'une ligne tel que le porteur le lit (celui du dossier avant la décision)."""
    return STATUT_LIGNE_VU_DU_PORTEUR.get(statut, statut)


# Lignes qui ont reçu leur avis de recevabilité (ou sont allées au-delà).
STATUTS_LIGNE_AVISEE = frozenset(
    {
        StatutLigne.recevable,
        StatutLigne.non_recevable,
        StatutLigne.votee,
        StatutLigne.refusee,
        StatutLigne.convention_a_signer,
        StatutLigne.engagee,
        StatutLigne.avance_versee,
        StatutLigne.soldee,
    }
)

# Lignes sur lesquelles le comité a décidé (votée ou refusée, et tout ce qui suit le vote).
STATUTS_LIGNE_DECIDEE = STATUTS_LIGNE_AVISEE - {StatutLigne.recevable, StatutLigne.non_recevable}
