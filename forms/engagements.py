"""Formulaires de l'engagement d'une ligne votée (acte, convention signée, numéro d'engagement) et de ses
versements (échéancier, paiement). Chaque formulaire porte la `version` de la ligne lue (champ caché) :
une saisie faite sur une page périmée est refusée (conflit) au lieu d'écraser un autre enregistrement.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from forms.demande import MontantField

FORMAT_DATE = ["%Y-%m-%d", "%d/%m/%Y"]
# Numéro d'engagement juridique : EJ Chorus (10 chiffres) ou numéro d'engagement d'une collectivité.
NUMERO_ENGAGEMENT = re.compile(r"[A-Z0-9][A-Z0-9./-]{2,29}")


def normaliser_numero(texte):
    return re.sub(r"\s+", "", texte).upper() if isinstance(texte, str) else texte


def sans_espaces(texte):
    return texte.strip() if isinstance(texte, str) else texte


class VersionForm(FlaskForm):
    version = HiddenField()


class ActeForm(VersionForm):
    """Établir la notification ou la convention : l'acte que l'usager avait sous les yeux voyage avec le
    formulaire ; si un autre vote a changé le régime entre-temps, c'est un conflit, pas une substitution."""

    regime = HiddenField()


class ConventionSigneeForm(VersionForm):
    fichier = FileField(
        "Convention signée",
        validators=[FileRequired("Choisissez le fichier de la convention signée.")],
        description="La convention signée par le représentant légal de la structure : PDF, ou image PNG ou "
        "JPEG d’un scan.",
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
    nature = SelectField(
        "Nature",
        choices=[("avance", "Avance"), ("solde", "Solde")],
        validators=[InputRequired("Choisissez la nature de l’échéance.")],
        description="Le solde n’est payable qu’après validation du compte rendu financier.",
    )
    date_prevue = DateField(
        "Date prévue",
        format=FORMAT_DATE,
        validators=[InputRequired("Indiquez la date prévue du versement.")],
        description="Format attendu : jj/mm/aaaa",
    )
    montant = MontantField(
        "Montant prévu (en euros)",
        validators=[InputRequired("Indiquez le montant prévu.")],
        description="L’échéancier ne peut pas dépasser le montant voté. Exemple : 4 800 ou 4 800,50.",
    )


class VersementForm(VersionForm):
    verse_le = DateField(
        "Date du paiement",
        format=FORMAT_DATE,
        validators=[InputRequired("Indiquez la date du paiement.")],
        description="Format attendu : jj/mm/aaaa",
    )
    montant = MontantField(
        "Montant versé (en euros)",
        validators=[InputRequired("Indiquez le montant versé.")],
        description="Le total versé ne peut pas dépasser le montant voté ; le solde est exactement le reste "
        "à verser.",
    )
    reference = StringField(
        "Référence du paiement",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez la référence du paiement."), Length(max=50)],
        description="Numéro de mandat, de demande de paiement Chorus ou de virement.",
    )
