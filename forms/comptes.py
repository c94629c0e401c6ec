"""Création de compte, nouvel envoi du lien de confirmation, acceptation d'une invitation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

LONGUEUR_MIN_MOT_DE_PASSE = 12

MESSAGE_EMAIL = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."


def sans_espaces_autour(valeur):
    """Filtre : une adresse collée avec des espaces autour reste valable."""
    return valeur.strip() if isinstance(valeur, str) else valeur


def champ_email(libelle: str = "Adresse électronique") -> EmailField:
    return EmailField(
        libelle,
        validators=[
            DataRequired("Saisissez votre adresse électronique."),
            Email(MESSAGE_EMAIL, check_deliverability=False),
            Length(max=254, message="L’adresse électronique compte 254 caractères au plus."),
        ],
        filters=[sans_espaces_autour],
        description="Format attendu : nom@domaine.fr",
    )


class InscriptionForm(FlaskForm):
    prenom = StringField(
        "Prénom",
        validators=[
            DataRequired("Saisissez votre prénom."),
            Length(max=100, message="Le prénom compte 100 caractères au plus."),
        ],
    )
    nom = StringField(
        "Nom",
        validators=[
            DataRequired("Saisissez votre nom."),
            Length(max=100, message="Le nom compte 100 caractères au plus."),
        ],
    )
    email = champ_email()
    mot_de_passe = PasswordField(
        "Mot de passe",
        validators=[
            DataRequired("Choisissez un mot de passe."),
            Length(
                min=LONGUEUR_MIN_MOT_DE_PASSE,
                max=200,
                message=f"Le mot de passe doit compter au moins {LONGUEUR_MIN_MOT_DE_PASSE} caractères "
                "(et 200 au plus).",
            ),
        ],
        description=f"Au moins {LONGUEUR_MIN_MOT_DE_PASSE} caractères. Une phrase de plusieurs mots, "
        "facile à retenir pour vous, est un bon mot de passe.",
    )
    confirmation = PasswordField(
        "Confirmation du mot de passe",
        validators=[
            DataRequired("Saisissez de nouveau le mot de passe."),
            EqualTo("mot_de_passe", message="Les deux mots de passe ne sont pas identiques."),
        ],
    )

    def validate_mot_de_passe(self, champ):
        mot_de_passe = (champ.data or "").strip().lower()
        if mot_de_passe and mot_de_passe == (self.email.data or "").strip().lower():
            raise ValidationError("Le mot de passe ne doit pas être votre adresse électronique.")


class RenvoiConfirmationForm(FlaskForm):
    email = champ_email()


class ConfirmerForm(FlaskForm):
    """Un bouton qui envoie un POST (jeton CSRF compris) : accepter une invitation."""
