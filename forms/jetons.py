"""Formulaires des jetons de l'API : création (nom, titulaire, portée, échéance) et révocation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from forms.comptes import sans_espaces_autour

PORTEES = [
    ("lecture", "Lecture seule : lister et lire les demandes de l’organisation"),
    ("lecture_ecriture", "Lecture et écriture : aussi les actions d’instruction sur sa ligne"),
]


class JetonForm(FlaskForm):
    libelle = StringField(
        "Nom du jeton",
        filters=[sans_espaces_autour],
        validators=[DataRequired("Donnez un nom au jeton."), Length(max=100)],
        description="Pour le reconnaître dans la liste : le logiciel ou le service qui l’utilise.",
    )
    titulaire_id = SelectField(
        "Au nom de",
        coerce=int,
        choices=[],
        description="Le compte au nom duquel le jeton agit : le journal des dossiers le retient.",
    )
    portee = RadioField("Portée", choices=PORTEES, default="lecture", validators=[InputRequired()])
    expire_le = DateField(
        "Valable jusqu’au",
        format=["%Y-%m-%d", "%d/%m/%Y"],
        validators=[InputRequired("Indiquez la date d’échéance du jeton.")],
        description="Inclus, à minuit heure de Paris ; un an au plus. Format attendu : jj/mm/aaaa",
    )


class RevocationForm(FlaskForm):
    """La confirmation de la révocation : le jeton CSRF suffit."""
