"""Les courriels du portail, en gabarits Jinja : un dossier par message, templates/courriels/<nom>/
(sujet.txt, corps.txt, corps.html), et le catalogue qui dit pour chacun qui le reçoit, quand, et avec
quelles données d'exemple l'administration nationale le relit (Administration → Modèles de courriels).

Le rendu est strict (StrictUndefined) : une variable oubliée fait échouer l'écriture du courriel, et donc
la transaction qui le motive, plutôt que de partir avec un trou. Le HTML est échappé, le texte ne l'est
pas ; le sujet tient sur une ligne, à la longueur de sa colonne. Les deux corps héritent de
templates/courriels/_base/ et disent la même chose (un test le vérifie pour chaque message).

Un message sur une demande reçoit `demande` (numéro, titre…) et `lien`, l'adresse de son dossier, sauf
si l'appel en donne un autre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from dauphin.libelles import PARIS, siret_lisible
from dauphin.models import Courriel, NatureVersement, RoleStructure
from workflows.budget import format_euros

DOSSIER = "courriels"
LONGUEUR_SUJET = Courriel.__table__.c.sujet.type.length  # 250


@dataclass(frozen=True)
class Message:
    """Une entrée du catalogue : le nom de son dossier de gabarits, à qui il part, quand (une phrase,
    pour la page d'aperçu), et les valeurs d'exemple avec lesquelles on le relit."""

    nom: str
    destinataires: str
    quand: str
    exemple: dict


@dataclass(frozen=True)
class Rendu:
    sujet: str
    texte: str
    html: str


# --- Rendu -----------------------------------------------------------------------------------------


def _date(valeur: date | datetime) -> str:
    """« 30/06/2027 » ; un horodatage est lu à l'heure de Paris : « 12/12/2026 à 18h30 »."""
    if isinstance(valeur, datetime):
        return valeur.astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")
    return valeur.strftime("%d/%m/%Y")


def _lignes(texte: str) -> Markup:
    """Un texte saisi (motif, message) dans le HTML : échappé, ses retours à la ligne gardés."""
    return Markup("<br>\n").join(escape(texte).splitlines())


_environnement = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environnement.filters.update(euros=format_euros, date=_date, lignes=_lignes, siret=siret_lisible)


def une_ligne(sujet: str) -> str:
    """Le sujet sur une ligne et à la longueur de la colonne : un nom de structure ou de personne saisi
    (200 caractères, retours à la ligne forgés) ne fait jamais échouer la transaction."""
    sujet = " ".join(sujet.split())
    if len(sujet) > LONGUEUR_SUJET:
        sujet = sujet[: LONGUEUR_SUJET - 1] + "…"
    return sujet


def lien_dossier(demande) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/dossiers/{demande.id}"


def rendre(nom: str, demande=None, **contexte) -> Rendu:
    """Le sujet et les deux corps du message `nom`. KeyError pour un message absent du catalogue ;
    jinja2.UndefinedError pour une variable que le gabarit attend et que l'appel ne donne pas."""
    if nom not in CATALOGUE:
        raise KeyError(nom)
    if demande is not None:
        contexte = {"demande": demande, "lien": lien_dossier(demande), **contexte}
    gabarit = f"{DOSSIER}/{nom}/"
    sujet = une_ligne(_environnement.get_template(gabarit + "sujet.txt").render(contexte))
    return Rendu(
        sujet=sujet,
        texte=_environnement.get_template(gabarit + "corps.txt").render(contexte, sujet=sujet),
        html=_environnement.get_template(gabarit + "corps.html").render(contexte, sujet=sujet),
    )


class Chemin(str):
    """Dans les valeurs d'exemple, un lien du portail : complété par BASE_URL au moment de l'aperçu."""


def apercu(nom: str) -> Rendu:
    """Le message rendu avec ses valeurs d'exemple, comme le recevrait son destinataire."""
    base = current_app.config["BASE_URL"].rstrip("/")
    exemple = {
        cle: base + valeur if isinstance(valeur, Chemin) else valeur
        for cle, valeur in CATALOGUE[nom].exemple.items()
    }
    return rendre(nom, **exemple)


def dossiers_de_gabarits() -> set[str]:
    """Les dossiers de templates/courriels/ (hors _base, la mise en page commune)."""
    racine = Path(_environnement.loader.searchpath[0]) / DOSSIER
    return {chemin.name for chemin in racine.iterdir() if chemin.is_dir() and not chemin.name.startswith("_")}


# --- Catalogue -------------------------------------------------------------------------------------

# Valeurs d'exemple partagées : une demande, des personnes, une structure, un financeur.
_DEMANDE = SimpleNamespace(id=1234, numero="2026-000042", titre="Ateliers d’écriture au collège Jean-Moulin")
_STRUCTURE = "Association Les Ateliers du Mirail"
_FINANCEUR = "Préfecture de la Haute-Garonne"
_PORTEUR = {"demande": _DEMANDE}
_MOTIF = "Le budget ne détaille pas les frais de personnel.\nJoignez le dernier rapport d’activité."

STRUCTURE_PORTEUSE = (
    "Les membres de la structure porteuse, la personne chargée de la demande et l’adresse de la structure"
)
INSTRUCTEURS_SOLLICITES = "Les instructeurs des financeurs sollicités par la demande"
SIGNATAIRES = "Les signataires de la structure porteuse"

_DEMANDES = [  # écrits par les transitions du dossier (services/courriels.py, PAR_DECLENCHEUR)
    Message(
        "demande_a_attester",
        SIGNATAIRES,
        "Quand un membre de la structure soumet la demande : elle attend l’attestation d’un signataire.",
        {"demande": SimpleNamespace(**vars(_DEMANDE), structure=SimpleNamespace(nom=_STRUCTURE))},
    ),
    Message(
        "demande_transmise",
        STRUCTURE_PORTEUSE,
        "Quand le signataire atteste la demande : elle est transmise aux financeurs avec son numéro.",
        _PORTEUR,
    ),
    Message(
        "demande_a_instruire",
        INSTRUCTEURS_SOLLICITES,
        "À chaque attestation de la demande par le signataire, la première comme celles qui suivent des "
        "compléments.",
        _PORTEUR,
    ),
    Message(
        "complements_demandes",
        STRUCTURE_PORTEUSE,
        "Quand un instructeur demande des compléments ; son message est repris dans le courriel.",
        {**_PORTEUR, "commentaire": _MOTIF},
    ),
    Message(
        "demande_classee_sans_suite",
        STRUCTURE_PORTEUSE,
        "Quand un instructeur ou le pilote classe la demande sans suite, avec son motif.",
        {**_PORTEUR, "commentaire": "L’action a déjà été financée sur un autre programme."},
    ),
    Message(
        "demande_retiree",
        INSTRUCTEURS_SOLLICITES,
        "Quand le porteur retire sa demande avant la décision, avec son motif.",
        {**_PORTEUR, "commentaire": "L’intervenant principal n’est plus disponible cette année."},
    ),
    Message(
        "subvention_attribuee",
        STRUCTURE_PORTEUSE,
        "À la clôture du comité de pilotage, quand au moins un financeur a voté un montant pour la demande.",
        _PORTEUR,
    ),
    Message(
        "demande_non_retenue",
        STRUCTURE_PORTEUSE,
        "À la clôture du comité de pilotage, quand aucun financeur n’a voté de montant pour la demande.",
        _PORTEUR,
    ),
]

_INSTRUCTION = [
    Message(
        "gestionnaire_designe",
        "L’instructeur désigné gestionnaire",
        "Quand un instructeur désigne un collègue de son organisation gestionnaire de sa ligne de "
        "financement (pas quand il se désigne lui-même).",
        {**_PORTEUR, "auteur": "Claire Martin", "financeur": _FINANCEUR},
    ),
    Message(
        "vote_comite_ouvert",
        "Les membres des organisations partenaires du contrat de ville",
        "Quand le pilote ouvre le vote d’une séance du comité de pilotage.",
        {
            "date_seance": date(2026, 4, 14),
            "contrat": "Contrat de ville de Toulouse Métropole",
            "campagne": "Appel à projets 2026",
            "nombre_points": 12,
            "lien": Chemin("/comites/7"),
        },
    ),
    Message(
        "convocation_comite",
        "Les membres des organisations partenaires du contrat de ville",
        "Quand le pilote envoie la convocation d’une séance du comité de pilotage, ou une convocation à "
        "jour après un changement de l’ordre du jour ; le PDF se télécharge par le lien.",
        {
            "date_seance": date(2026, 4, 14),
            "lieu": "Hôtel de ville, salle du conseil",
            "contrat": "Contrat de ville de Toulouse Métropole",
            "campagne": "Appel à projets 2026",
            "nombre_points": 12,
            "numero": 2,
            "lien": Chemin("/comites/7/convocation.pdf"),
            "lien_seance": Chemin("/comites/7"),
        },
    ),
]

_ENGAGEMENTS = [
    Message(
        "convention_a_signer",
        STRUCTURE_PORTEUSE,
        "Quand un financeur établit l’acte d’une subvention qui porte son cumul annuel pour la structure "
        "au-delà de 23 000 € : une convention à signer.",
        {**_PORTEUR, "financeur": _FINANCEUR, "montant": Decimal("25000")},
    ),
    Message(
        "notification_subvention",
        STRUCTURE_PORTEUSE,
        "Quand un financeur établit l’acte d’une subvention jusqu’à 23 000 € par an pour la structure : "
        "une notification.",
        {**_PORTEUR, "financeur": _FINANCEUR, "montant": Decimal("8500")},
    ),
    Message(
        "convention_signee_enregistree",
        STRUCTURE_PORTEUSE,
        "Quand la convention signée est enregistrée, déposée par la structure ou par le financeur.",
        {**_PORTEUR, "financeur": _FINANCEUR, "montant": Decimal("25000")},
    ),
    Message(
        "convention_signee_deposee",
        "Les instructeurs du financeur de la convention",
        "Quand la structure dépose elle-même la convention signée.",
        {**_PORTEUR, "structure": _STRUCTURE},
    ),
    Message(
        "versement_enregistre",
        STRUCTURE_PORTEUSE,
        "Quand un financeur enregistre un versement (avance ou solde).",
        {
            **_PORTEUR,
            "financeur": _FINANCEUR,
            "nature": NatureVersement.avance,
            "montant": Decimal("12500"),
            "verse_le": date(2026, 6, 2),
            "reference": "VIR-2026-0613",
            "total_verse": Decimal("12500"),
            "montant_vote": Decimal("25000"),
            "reste": Decimal("12500"),
        },
    ),
]

_COMPTES_RENDUS = [
    Message(
        "compte_rendu_a_deposer",
        STRUCTURE_PORTEUSE,
        "À la clôture de l’exercice de l’action : son compte rendu financier est attendu.",
        {**_PORTEUR, "echeance": date(2027, 6, 30), "lien": Chemin("/comptes-rendus/1234")},
    ),
    Message(
        "compte_rendu_depose",
        INSTRUCTEURS_SOLLICITES,
        "Quand le porteur dépose le compte rendu financier de l’action.",
        _PORTEUR,
    ),
    Message(
        "compte_rendu_valide",
        STRUCTURE_PORTEUSE,
        "Quand le dernier financeur valide le compte rendu financier : le dossier est justifié.",
        _PORTEUR,
    ),
    Message(
        "compte_rendu_a_modifier",
        STRUCTURE_PORTEUSE,
        "Quand un financeur renvoie le compte rendu financier au porteur, avec son message.",
        {**_PORTEUR, "commentaire": "Détaillez les frais de personnel.\nExpliquez l’écart sur les achats."},
    ),
    Message(
        "rappel_compte_rendu",
        STRUCTURE_PORTEUSE,
        "Dans le mois qui précède l’échéance du compte rendu financier encore attendu (une fois par "
        "échéance).",
        {**_PORTEUR, "echeance": date(2027, 6, 30), "lien": Chemin("/comptes-rendus/1234")},
    ),
    Message(
        "compte_rendu_en_retard",
        STRUCTURE_PORTEUSE,
        "L’échéance passée, si le compte rendu financier n’est toujours pas déposé (une fois par échéance).",
        {**_PORTEUR, "echeance": date(2027, 6, 30), "lien": Chemin("/comptes-rendus/1234")},
    ),
    Message(
        "report_dates_demande",
        INSTRUCTEURS_SOLLICITES,
        "Quand le porteur demande à décaler les dates de l’action.",
        {
            **_PORTEUR,
            "date_debut": date(2026, 9, 1),
            "date_fin": date(2027, 6, 30),
            "motif": "Le collège a reporté les ateliers à la rentrée.",
        },
    ),
    Message(
        "report_dates_accepte",
        STRUCTURE_PORTEUSE,
        "Quand un financeur qui a voté accepte le report des dates de l’action.",
        {
            **_PORTEUR,
            "date_debut": date(2026, 9, 1),
            "date_fin": date(2027, 6, 30),
            "echeance": date(2027, 12, 31),
            "reponse": None,
        },
    ),
    Message(
        "report_dates_refuse",
        STRUCTURE_PORTEUSE,
        "Quand un financeur qui a voté refuse le report des dates de l’action, avec son message.",
        {
            **_PORTEUR,
            "date_debut": date(2026, 9, 1),
            "date_fin": date(2027, 6, 30),
            "reponse": "L’exercice 2026 doit être justifié avant tout nouveau calendrier.",
        },
    ),
]

_COMPTES = [
    Message(
        "confirmation_adresse",
        "La personne qui crée son compte",
        "À l’inscription sans invitation, et à chaque demande d’un nouveau lien de confirmation.",
        {"prenom": "Inès", "heures": 48, "lien": Chemin("/compte/confirmation/jeton-d-exemple")},
    ),
    Message(
        "compte_existant",
        "La personne qui s’inscrit",
        "Quand quelqu’un demande à créer un compte, ou un nouveau lien de confirmation, avec l’adresse "
        "d’un compte déjà confirmé.",
        {"prenom": "Inès", "lien": Chemin("/compte/connexion")},
    ),
    Message(
        "reinitialisation_mot_de_passe",
        "Le titulaire du compte",
        "Quand il demande à choisir un nouveau mot de passe (« Mot de passe oublié »).",
        {
            "prenom": "Inès",
            "duree": "1 heure",
            "lien": Chemin("/compte/mot-de-passe/reinitialiser/jeton-d-exemple"),
        },
    ),
    Message(
        "mot_de_passe_modifie",
        "Le titulaire du compte",
        "Quand son mot de passe change, depuis « Mon compte » ou par le lien de réinitialisation.",
        {"prenom": "Inès", "lien": Chemin("/compte/mot-de-passe/oublie")},
    ),
    Message(
        "verrouillage_connexion",
        "Le titulaire du compte",
        "Quand la connexion à son compte est bloquée après trop d’essais refusés (mot de passe, ou code de "
        "double authentification après un mot de passe juste) ; une fois par période de blocage.",
        {
            "prenom": "Inès",
            "etape": "mot_de_passe",
            "minutes": 15,
            "adresse_ip": "203.0.113.7",
            "horodatage": datetime.fromisoformat("2026-12-12T17:30:00+00:00"),
            "lien": Chemin("/compte/mot-de-passe/oublie"),
        },
    ),
    Message(
        "second_facteur_modifie",
        "Le titulaire du compte",
        "Quand sa double authentification est activée, désactivée ou réinitialisée par l’administration "
        "nationale, quand il renouvelle ses codes de secours, et quand il se connecte avec un code de "
        "secours.",
        {
            "prenom": "Inès",
            "evenement": "code_secours",
            "restants": 9,
            "lien": Chemin("/compte/double-authentification"),
        },
    ),
]

_STRUCTURES = [
    Message(
        "invitation_structure",
        "L’adresse invitée",
        "Quand l’administrateur d’une structure invite une personne à la rejoindre.",
        {
            "auteur": "Paul Durand",
            "structure": _STRUCTURE,
            "siret": "73282932000074",
            "role": RoleStructure.signataire,
            "expire_le": datetime.fromisoformat("2026-12-12T17:30:00+00:00"),
            "lien": Chemin("/compte/invitation/jeton-d-exemple"),
        },
    ),
    Message(
        "invitation_acceptee",
        "Le membre qui a envoyé l’invitation",
        "Quand la personne invitée accepte l’invitation et rejoint la structure.",
        {
            "prenom": "Paul",
            "membre": "Inès Moreau",
            "email": "ines.moreau@exemple.fr",
            "structure": _STRUCTURE,
            "role": RoleStructure.signataire,
            "lien": Chemin("/structures/8"),
        },
    ),
    Message(
        "demande_acces",
        "L’administrateur de la structure",
        "Quand une personne demande à rejoindre une structure déjà inscrite.",
        {
            "prenom": "Paul",
            "demandeur": "Inès Moreau",
            "email": "ines.moreau@exemple.fr",
            "structure": _STRUCTURE,
            "message": "Je suis la nouvelle trésorière.",
            "lien": Chemin("/structures/8/acces/3"),
        },
    ),
    Message(
        "acces_accepte",
        "La personne qui a demandé l’accès",
        "Quand l’administrateur de la structure accepte sa demande d’accès.",
        {
            "prenom": "Inès",
            "auteur": "Paul Durand",
            "structure": _STRUCTURE,
            "role": RoleStructure.contributeur,
            "lien": Chemin("/structures/8"),
        },
    ),
    Message(
        "acces_refuse",
        "La personne qui a demandé l’accès",
        "Quand l’administrateur de la structure refuse sa demande d’accès.",
        {"prenom": "Inès", "structure": _STRUCTURE},
    ),
    Message(
        "membre_retire",
        "Le membre retiré",
        "Quand l’administrateur de la structure retire un membre (pas quand un membre la quitte de "
        "lui-même).",
        {"prenom": "Inès", "auteur": "Paul Durand", "structure": _STRUCTURE},
    ),
    Message(
        "administration_transmise",
        "Le membre qui devient administrateur de la structure",
        "Quand l’administrateur de la structure lui transmet l’administration.",
        {"prenom": "Inès", "auteur": "Paul Durand", "structure": _STRUCTURE, "lien": Chemin("/structures/8")},
    ),
]

# Par famille, dans l'ordre de la page d'aperçu
FAMILLES: list[tuple[str, list[Message]]] = [
    ("Dépôt et décision des demandes", _DEMANDES),
    ("Instruction et comité de pilotage", _INSTRUCTION),
    ("Actes et versements", _ENGAGEMENTS),
    ("Compte rendu financier", _COMPTES_RENDUS),
    ("Comptes", _COMPTES),
    ("Structures : membres, invitations, demandes d’accès", _STRUCTURES),
]
CATALOGUE: dict[str, Message] = {message.nom: message for _, messages in FAMILLES for message in messages}
