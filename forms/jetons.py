"""Formulaires des jetons de l'API : création (nom, titulaire, portée, échéance) et révocation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from forms.champs import ConfirmationForm, date_requise, ligne_de_texte, liste_d_identifiants

PORTEES = [
    ("lecture", "Lecture seule : lister et lire les demandes de l’organisation"),
    ("lecture_ecriture", "Lecture et écriture : aussi les actions d’instruction sur sa ligne"),
]


class JetonForm(FlaskForm):
    libelle = ligne_de_texte(
        "Nom du jeton",
        max=100,
        obligatoire="Donnez un nom au jeton.",
        description="Pour le reconnaître dans la liste : le logiciel ou le service qui l’utilise.",
    )
    titulaire_id = liste_d_identifiants(
        "Au nom de",
        description="Le compte au nom duquel le jeton agit : le journal des dossiers le retient.",
    )
    portee = RadioField("Portée", choices=PORTEES, default="lecture", validators=[InputRequired()])
    expire_le = date_requise(
        "Valable jusqu’au",
        "Indiquez la date d’échéance du jeton.",
        aide="Inclus, à minuit heure de Paris ; un an au plus.",
    )


# La confirmation de la révocation : le jeton CSRF suffit.
RevocationForm = ConfirmationForm
