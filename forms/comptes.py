"""Création de compte, nouvel envoi du lien de confirmation, acceptation d'une invitation ; mot de passe
oublié, réinitialisation et changement du mot de passe (mêmes règles qu'à la création du compte)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from forms.champs import AIDE_COURRIEL, ConfirmationForm, courriel, ligne_de_texte

LONGUEUR_MIN_MOT_DE_PASSE = 12


def champ_email(libelle: str = "Adresse électronique") -> EmailField:
    """L'adresse du compte (une adresse collée avec des espaces autour reste valable)."""
    return courriel(libelle, obligatoire="Saisissez votre adresse électronique.", description=AIDE_COURRIEL)


def champ_mot_de_passe(libelle: str = "Mot de passe") -> PasswordField:
    """Un nouveau mot de passe : les règles de la création de compte, partout où on en choisit un."""
    return PasswordField(
        libelle,
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


def champ_confirmation(libelle: str = "Confirmation du mot de passe") -> PasswordField:
    return PasswordField(
        libelle,
        validators=[
            DataRequired("Saisissez de nouveau le mot de passe."),
            EqualTo("mot_de_passe", message="Les deux mots de passe ne sont pas identiques."),
        ],
    )


def verifier_pas_l_adresse(mot_de_passe: str | None, email: str | None) -> None:
    mot_de_passe = (mot_de_passe or "").strip().lower()
    if mot_de_passe and mot_de_passe == (email or "").strip().lower():
        raise ValidationError("Le mot de passe ne doit pas être votre adresse électronique.")


class InscriptionForm(FlaskForm):
    prenom = ligne_de_texte(
        "Prénom",
        max=100,
        obligatoire="Saisissez votre prénom.",
        message_longueur="Le prénom compte 100 caractères au plus.",
    )
    nom = ligne_de_texte(
        "Nom",
        max=100,
        obligatoire="Saisissez votre nom.",
        message_longueur="Le nom compte 100 caractères au plus.",
    )
    email = champ_email()
    mot_de_passe = champ_mot_de_passe()
    confirmation = champ_confirmation()

    def validate_mot_de_passe(self, champ):
        verifier_pas_l_adresse(champ.data, self.email.data)


class RenvoiConfirmationForm(FlaskForm):
    email = champ_email()


# Un bouton qui envoie un POST (jeton CSRF compris) : accepter une invitation.
ConfirmerForm = ConfirmationForm


class MotDePasseOublieForm(FlaskForm):
    email = champ_email()


class ReinitialisationForm(FlaskForm):
    """Nouveau mot de passe choisi par le lien reçu. `email_compte` : l’adresse du compte (réglée par la
    vue)."""

    email_compte: str | None = None
    mot_de_passe = champ_mot_de_passe("Nouveau mot de passe")
    confirmation = champ_confirmation("Confirmation du nouveau mot de passe")

    def validate_mot_de_passe(self, champ):
        verifier_pas_l_adresse(champ.data, self.email_compte)


class ChangementMotDePasseForm(FlaskForm):
    """Depuis « Mon compte » : le mot de passe actuel (vérifié par le service), puis le nouveau deux fois.
    `email_compte` : l’adresse du compte (réglée par la vue)."""

    email_compte: str | None = None
    actuel = PasswordField(
        "Mot de passe actuel",
        validators=[
            DataRequired("Saisissez votre mot de passe actuel."),
            Length(max=200, message="Le mot de passe compte 200 caractères au plus."),
        ],
    )
    mot_de_passe = champ_mot_de_passe("Nouveau mot de passe")
    confirmation = champ_confirmation("Confirmation du nouveau mot de passe")

    def validate_mot_de_passe(self, champ):
        verifier_pas_l_adresse(champ.data, self.email_compte)
        if champ.data and champ.data == self.actuel.data:
            raise ValidationError("Choisissez un mot de passe différent du mot de passe actuel.")
