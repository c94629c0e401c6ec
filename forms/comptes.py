"""Création de compte, nouvel envoi du lien de confirmation, acceptation d'une invitation ; mot de passe
oublié, réinitialisation et changement du mot de passe (mêmes règles qu'à la création du compte)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError
from zxcvbn import zxcvbn

from forms.champs import AIDE_COURRIEL, ConfirmationForm, courriel, ligne_de_texte

LONGUEUR_MIN_MOT_DE_PASSE = 12
# Score zxcvbn (0 à 4) en dessous duquel un mot de passe est refusé : 3 = « difficile à deviner ».
SCORE_MIN_MOT_DE_PASSE = 3

# Les avertissements de zxcvbn, traduits : ce qui rend le mot de passe facile à deviner.
RAISONS_ZXCVBN = {
    "Straight rows of keys are easy to guess.": "c’est une suite de touches voisines du clavier",
    "Short keyboard patterns are easy to guess.": "c’est un motif du clavier",
    'Repeats like "aaa" are easy to guess.': "il répète le même caractère",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "il répète un même motif",
    'Sequences like "abc" or "6543" are easy to guess.': "c’est une suite (comme « abc » ou « 6543 »)",
    "Recent years are easy to guess.": "il contient une année récente",
    "Dates are often easy to guess.": "il contient une date",
    "This is a top-10 common password.": "c’est l’un des dix mots de passe les plus courants",
    "This is a top-100 common password.": "c’est l’un des cent mots de passe les plus courants",
    "This is a very common password.": "c’est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "c’est un mot courant employé seul",
    "Names and surnames by themselves are easy to guess.": "c’est un prénom ou un nom employé seul",
    "Common names and surnames are easy to guess.": "il contient des prénoms ou des noms courants",
}
RAISON_PAR_DEFAUT = "il serait trouvé en peu d’essais"
RAISON_DONNEES_DU_COMPTE = "il reprend votre nom ou votre adresse électronique"


def champ_email(libelle: str = "Adresse électronique") -> EmailField:
    """L'adresse du compte (une adresse collée avec des espaces autour reste valable)."""
    return courriel(libelle, obligatoire="Saisissez votre adresse électronique.", description=AIDE_COURRIEL)


def donnees_du_compte(form) -> list[str]:
    """Ce qu'un tiers sait du compte (adresse et ses morceaux, prénom, nom) : zxcvbn les tient pour connus."""
    valeurs = [getattr(form, "email_compte", None)]
    valeurs += [getattr(getattr(form, nom, None), "data", None) for nom in ("email", "prenom", "nom")]
    mots = []
    for valeur in filter(None, valeurs):
        valeur = str(valeur).strip().lower()
        mots += [valeur, *re.split(r"[@._+\-\s]+", valeur)]
    return [mot for mot in dict.fromkeys(mots) if len(mot) >= 3]


def raison_mot_de_passe_faible(mot_de_passe: str, donnees: list[str]) -> str | None:
    """Pourquoi ce mot de passe se devine (en français), ou None s'il est assez robuste."""
    # zxcvbn refuse d'estimer au-delà de 72 caractères et échoue sur un saut de ligne après des chiffres
    # (« 12345\n ») : un champ d'une ligne n'en envoie pas depuis un navigateur, on les lit comme des espaces.
    estime = re.sub(r"[\r\n]", " ", mot_de_passe[:72])
    try:
        resultat = zxcvbn(estime, user_inputs=donnees)
    except ValueError:  # une autre saisie que l'estimateur ne sait pas lire : ce n'est pas un mot courant
        return None
    if resultat["score"] >= SCORE_MIN_MOT_DE_PASSE:
        return None
    if any(m.get("dictionary_name") == "user_inputs" for m in resultat["sequence"]):
        return RAISON_DONNEES_DU_COMPTE
    return RAISONS_ZXCVBN.get(resultat["feedback"]["warning"], RAISON_PAR_DEFAUT)


def difficile_a_deviner(form, champ) -> None:
    """Refuse un mot de passe courant ou devinable (estimation zxcvbn), en disant pourquoi."""
    mot_de_passe = champ.data or ""
    if len(mot_de_passe) < LONGUEUR_MIN_MOT_DE_PASSE:
        return  # la longueur a déjà son message
    raison = raison_mot_de_passe_faible(mot_de_passe, donnees_du_compte(form))
    if raison:
        raise ValidationError(
            f"Ce mot de passe est trop facile à deviner : {raison}. Choisissez une phrase de plusieurs "
            "mots peu courants, facile à retenir pour vous."
        )


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
            difficile_a_deviner,
        ],
        description=f"Au moins {LONGUEUR_MIN_MOT_DE_PASSE} caractères. Une phrase de plusieurs mots, "
        "facile à retenir pour vous, est un bon mot de passe ; un mot de passe courant ou devinable "
        "(suite, répétition, date, votre nom) est refusé.",
    )


def champ_confirmation(libelle: str = "Confirmation du mot de passe") -> PasswordField:
    return PasswordField(
        libelle,
        validators=[
            DataRequired("Saisissez de nouveau le mot de passe."),
            EqualTo("mot_de_passe", message="Les deux mots de passe ne sont pas identiques."),
        ],
    )


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
        if champ.data and champ.data == self.actuel.data:
            raise ValidationError("Choisissez un mot de passe différent du mot de passe actuel.")
