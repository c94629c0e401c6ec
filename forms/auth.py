"""Connexion."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from forms.comptes import champ_email


class ConnexionForm(FlaskForm):
    email = champ_email()
    mot_de_passe = PasswordField(
        "Mot de passe", validators=[DataRequired("Saisissez votre mot de passe."), Length(max=200)]
    )
    valider = SubmitField("Se connecter")


MESSAGE_CODE_VIDE = "Saisissez le code à 6 chiffres affiché par votre application, ou un code de secours."


class CodeForm(FlaskForm):
    """Le second temps de la connexion : un code de l'application, ou un code de secours."""

    code = StringField(
        "Code de vérification",
        validators=[DataRequired(MESSAGE_CODE_VIDE), Length(max=40)],
        description="Le code à 6 chiffres affiché maintenant par votre application d’authentification. "
        "Vous n’y avez plus accès ? Saisissez l’un de vos codes de secours (par exemple abcd-efgh-jkmn).",
    )


class ActivationSecondFacteurForm(FlaskForm):
    """Confirmer l'activation de la double authentification par un premier code de l'application."""

    code = StringField(
        "Code à 6 chiffres affiché par l’application",
        validators=[
            DataRequired("Saisissez le code à 6 chiffres affiché par l’application."),
            Length(max=40),
        ],
        description="Par exemple 123456. Il change toutes les 30 secondes.",
    )


class ConfirmationIdentiteForm(FlaskForm):
    """Désactiver la double authentification ou renouveler les codes de secours : un code, ou le mot de
    passe actuel (l'un des deux suffit)."""

    code = StringField(
        "Code de vérification (facultatif si vous saisissez votre mot de passe)",
        validators=[Optional(), Length(max=40)],
        description="Le code à 6 chiffres de votre application, ou un code de secours.",
    )
    mot_de_passe = PasswordField("Ou votre mot de passe actuel", validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        valide = super().validate(extra_validators)
        if valide and not (self.code.data or "").strip() and not self.mot_de_passe.data:
            self.code.errors = [*self.code.errors, "Saisissez un code de vérification ou votre mot de passe."]
            return False
        return valide
