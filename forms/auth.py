"""Connexion."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class ConnexionForm(FlaskForm):
    email = EmailField(
        "Adresse électronique",
        validators=[
            DataRequired("Saisissez votre adresse électronique."),
            Email(
                "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
                check_deliverability=False,
            ),
            Length(max=254),
        ],
        description="Format attendu : nom@domaine.fr",
    )
    mot_de_passe = PasswordField(
        "Mot de passe", validators=[DataRequired("Saisissez votre mot de passe."), Length(max=200)]
    )
    valider = SubmitField("Se connecter")
