"""Libellés français des valeurs techniques affichées à l'écran (rôles, actions, statuts)."""

import functools
import re
import unicodedata
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from forms.validators import format_siren, format_siret
from workflows import StatutDemande, StatutLigne

# L'heure légale du portail : les horodatages (UTC en base) sont écrits et les jours comptés à Paris.
FUSEAU = "Europe/Paris"
PARIS = ZoneInfo(FUSEAU)

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


def role(valeur: str) -> str:
    """Le libellé d'un rôle du journal ou d'une lecture (filtre `libelle_role`) ; la valeur si inconnue."""
    return ROLES.get(valeur, valeur)


def action(declencheur: str) -> str:
    """Le libellé d'une action du journal (filtre `libelle_action`, historique, API) ; le déclencheur si
    inconnu."""
    return ACTIONS.get(declencheur, declencheur)


def statut(valeur: str) -> str:
    for enum in (StatutDemande, StatutLigne):
        if valeur in enum.__members__:
            return enum(valeur).libelle
    return valeur


@functools.lru_cache(maxsize=4096)  # des noms de financeurs, toujours les mêmes, triés à chaque page
def cle_alphabetique(texte: str) -> str:
    """Clé de tri alphabétique à la française, sans dépendre de la collation de la base : « État »
    se range avec les E, « île » avec « Ivry », majuscules et minuscules confondues."""
    decompose = unicodedata.normalize("NFKD", texte)
    return "".join(c for c in decompose if not unicodedata.combining(c)).casefold()


# Les sigles que lit un porteur, expliqués là où ils paraissent (<abbr title>, ou une note « Sigles »).
SIGLES = {
    "QPV": "quartier prioritaire de la politique de la ville",
    "P147": "programme 147 « Politique de la ville » du budget de l’État",
    "CERFA": "formulaire administratif officiel, désigné par son numéro : n° 12156 pour la demande de "
    "subvention, n° 15059 pour le compte rendu financier",
}
_SIGLE = re.compile(r"\b(" + "|".join(SIGLES) + r")\b")


@functools.lru_cache(maxsize=4096, typed=True)  # typed : un Markup n'est pas échappé, un str l'est
def expliquer_sigles(texte) -> Markup:
    """Le texte échappé, chaque sigle connu balisé <abbr title="…"> (filtre Jinja `sigles`). Gardé par
    texte : une liste écrit le nom de chaque financeur de chaque demande, toujours les mêmes."""
    return Markup(
        _SIGLE.sub(lambda m: f'<abbr title="{escape(SIGLES[m.group(1)])}">{m.group(1)}</abbr>', escape(texte))
    )


def sigles_de(*textes) -> list[tuple[str, str]]:
    """(sigle, explication) des sigles présents dans ces textes, dans l'ordre où ils paraissent."""
    trouves = _SIGLE.findall(" ".join(str(t) for t in textes if t))
    return [(sigle, SIGLES[sigle]) for sigle in dict.fromkeys(trouves)]


def quantite(nombre: int, nom: str, pluriel: str | None = None) -> str:
    """« 1 demande », « 2 demandes », « 0 demande » (le singulier jusqu'à 1, en français)."""
    return f"{nombre} {nom if abs(nombre) < 2 else pluriel or nom + 's'}"


def siret_lisible(siret: str) -> str:
    """« 123 456 789 00012 », groupes séparés par des espaces insécables : le numéro ne se coupe pas en fin
    de ligne (filtre Jinja `siret`, pages, courriels et PDF)."""
    return format_siret(siret).replace(" ", "\u00a0")


def siren_lisible(siren: str) -> str:
    return format_siren(siren).replace(" ", "\u00a0")
