"""Statuts des demandes et des lignes de financement, stockés par leur valeur.

Les noms des membres sont leurs valeurs : une chaîne lue en base ou dans un formulaire
désigne donc le même état pour `transitions`, qui cherche les états par nom.
"""

from enum import StrEnum


class StatutDemande(StrEnum):
    brouillon = "brouillon"
    attente_attestation = "attente_attestation"
    transmise = "transmise"
    en_instruction = "en_instruction"
    a_completer = "a_completer"
    instruite = "instruite"
    programmee = "programmee"
    attribuee = "attribuee"
    rejetee = "rejetee"
    versee = "versee"
    a_justifier = "a_justifier"
    justification_en_cours = "justification_en_cours"
    justification_a_modifier = "justification_a_modifier"
    justifiee = "justifiee"
    classee_sans_suite = "classee_sans_suite"
    retiree = "retiree"

    @property
    def libelle(self) -> str:
        return LIBELLES_DEMANDE[self]


LIBELLES_DEMANDE = {
    StatutDemande.brouillon: "Brouillon",
    StatutDemande.attente_attestation: "En attente d’attestation",
    StatutDemande.transmise: "Transmise",
    StatutDemande.en_instruction: "En instruction",
    StatutDemande.a_completer: "À compléter",
    StatutDemande.instruite: "Instruite",
    StatutDemande.programmee: "Programmée en comité",
    StatutDemande.attribuee: "Attribuée",
    StatutDemande.rejetee: "Rejetée",
    StatutDemande.versee: "Versée",
    StatutDemande.a_justifier: "À justifier",
    StatutDemande.justification_en_cours: "Justification en cours",
    StatutDemande.justification_a_modifier: "Justification à modifier",
    StatutDemande.justifiee: "Justifiée",
    StatutDemande.classee_sans_suite: "Classée sans suite",
    StatutDemande.retiree: "Retirée",
}

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


class StatutLigne(StrEnum):
    sollicitee = "sollicitee"
    prise_en_charge = "prise_en_charge"
    recevable = "recevable"
    non_recevable = "non_recevable"
    votee = "votee"
    refusee = "refusee"
    convention_a_signer = "convention_a_signer"
    engagee = "engagee"
    avance_versee = "avance_versee"
    soldee = "soldee"
    abandonnee = "abandonnee"

    @property
    def libelle(self) -> str:
        return LIBELLES_LIGNE[self]


LIBELLES_LIGNE = {
    StatutLigne.sollicitee: "Sollicitée",
    StatutLigne.prise_en_charge: "Prise en charge",
    StatutLigne.recevable: "Recevable",
    StatutLigne.non_recevable: "Non recevable",
    StatutLigne.votee: "Votée",
    StatutLigne.refusee: "Refusée",
    StatutLigne.convention_a_signer: "Convention à signer",
    StatutLigne.engagee: "Engagée",
    StatutLigne.avance_versee: "Avance versée",
    StatutLigne.soldee: "Soldée",
    StatutLigne.abandonnee: "Sans suite",
}

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
