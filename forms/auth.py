"""Connexion."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from forms.comptes import champ_email


class ConnexionForm(FlaskForm):
    email = champ_email()
    mot_de_passe = PasswordField(
        "Mot de passe", validators=[DataRequired("Saisissez votre mot de passe."), Length(max=200)]
    )
    valider = SubmitField("Se connecter")
