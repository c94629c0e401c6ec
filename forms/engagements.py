"""Formulaires de l'engagement d'une ligne votée (acte, convention signée, numéro d'engagement) et de ses
versements (échéancier, paiement). Chaque formulaire porte la `version` de la ligne lue (champ caché) :
une saisie faite sur une page périmée est refusée (conflit) au lieu d'écraser un autre enregistrement.
"""

from __future__ import annotations

import re

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from dauphin.services.documents import FORMATS_SCAN
from forms.champs import (
    ListeDeChoix,
    VersionForm,
    date_requise,
    fichier_requis,
    ligne_de_texte,
    montant_requis,
    options,
)

# Numéro d'engagement juridique : EJ Chorus (10 chiffres) ou numéro d'engagement d'une collectivité.
NUMERO_ENGAGEMENT = re.compile(r"[A-Z0-9][A-Z0-9./-]{2,29}")


def normaliser_numero(texte):
    return re.sub(r"\s+", "", texte).upper() if isinstance(texte, str) else texte


class ActeForm(VersionForm):
    """Établir la notification ou la convention : l'acte que l'usager avait sous les yeux voyage avec le
    formulaire ; si un autre vote a changé le régime entre-temps, c'est un conflit, pas une substitution."""

    regime = HiddenField()


class ConventionSigneeForm(VersionForm):
    fichier = fichier_requis(
        "Convention signée",
        "Choisissez le fichier de la convention signée.",
        description="La convention signée par le représentant légal de la structure. Formats acceptés : "
        f"{FORMATS_SCAN.libelle}.",
    )


class EngagementForm(VersionForm):
    numero_engagement = StringField(
        "Numéro d’engagement juridique",
        filters=[normaliser_numero],
        validators=[DataRequired("Indiquez le numéro d’engagement juridique."), Length(max=30)],
        description="Le numéro de l’engagement juridique dans votre système comptable : EJ Chorus "
        "(10 chiffres, par exemple 2104567890) ou numéro d’engagement de la collectivité.",
    )

    def validate_numero_engagement(self, champ):
        if champ.data and not NUMERO_ENGAGEMENT.fullmatch(champ.data):
            raise ValidationError(
                "Le numéro d’engagement s’écrit avec des chiffres et des lettres (3 à 30 caractères ; "
                "tiret, point et barre oblique admis)."
            )


class EcheanceForm(VersionForm):
    nature = ListeDeChoix(
        "Nature",
        choices=options([("avance", "Avance"), ("solde", "Solde")]),
        validators=[InputRequired("Choisissez la nature de l’échéance.")],
        description="Le solde n’est payable qu’après validation du compte rendu financier.",
    )
    date_prevue = date_requise("Date prévue", "Indiquez la date prévue du versement.")
    montant = montant_requis(
        "Montant prévu (en euros)",
        "Indiquez le montant prévu.",
        description="L’échéancier ne peut pas dépasser le montant voté. Exemple : 4 800 ou 4 800,50.",
    )


class VersementForm(VersionForm):
    verse_le = date_requise("Date du paiement", "Indiquez la date du paiement.")
    montant = montant_requis(
        "Montant versé (en euros)",
        "Indiquez le montant versé.",
        description="Le total versé ne peut pas dépasser le montant voté ; le solde est exactement le reste "
        "à verser.",
    )
    reference = ligne_de_texte(
        "Référence du paiement",
        max=50,
        obligatoire="Indiquez la référence du paiement.",
        description="Numéro de mandat, de demande de paiement Chorus ou de virement.",
    )
