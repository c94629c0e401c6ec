"""Formulaires du comité de pilotage : séance, ordre du jour, vote d'une organisation, montant d'une ligne.

Chaque formulaire porte la version lue (champ caché) : un vote ou un montant saisi sur une page périmée
est refusé avec un message de conflit au lieu d'écraser la saisie d'un collègue.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from forms.demande import CasesACocher, MontantField
from forms.instruction import TEXTE_MAX, sans_espaces


class SeanceForm(FlaskForm):
    campagne_id = SelectField(
        "Campagne",
        coerce=int,
        choices=[],
        validators=[InputRequired("Choisissez la campagne dont les dossiers passent en comité.")],
        description="Le contrat de ville et l’exercice de la séance.",
    )
    date_seance = DateField(
        "Date de la séance",
        validators=[InputRequired("Indiquez la date de la séance (jj/mm/aaaa).")],
    )
    lieu = StringField(
        "Lieu (facultatif)",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
    )


class VersionForm(FlaskForm):
    """Une action sur la séance sans autre saisie (ouvrir le vote, clore, retirer un point)."""

    version = HiddenField()


class InscriptionForm(VersionForm):
    demandes = CasesACocher(
        "Dossiers instruits à inscrire à l’ordre du jour",
        coerce=int,
        validators=[InputRequired("Cochez au moins un dossier.")],
    )


class VoteForm(VersionForm):
    choix = RadioField(
        "Vote de votre organisation",
        choices=[
            ("pour", "Pour"),
            ("contre", "Contre"),
            ("abstention", "Abstention"),
            ("recusation", "Ne prend pas part au vote (conflit d’intérêts)"),
        ],
        validators=[InputRequired("Choisissez pour, contre, abstention ou récusation.")],
    )
    motif = TextAreaField(
        "Raison de la récusation",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="Obligatoire en cas de récusation : par exemple un élu membre du bureau de la structure.",
    )


class MontantForm(VersionForm):
    montant = MontantField(
        "Montant proposé au vote (en euros)",
        validators=[InputRequired("Indiquez le montant, 0 si votre organisation ne finance pas.")],
        description="Au plus le montant demandé et le reste de votre enveloppe.",
    )
