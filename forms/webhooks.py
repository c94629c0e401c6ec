"""Formulaires des webhooks : inscription d'une adresse, désactivation, renvoi d'une livraison."""

from __future__ import annotations

from flask_wtf import FlaskForm

from forms.champs import ConfirmationForm, ligne_de_texte


class AbonnementForm(FlaskForm):
    url = ligne_de_texte(
        "Adresse de réception",
        max=2000,
        obligatoire="Indiquez l’adresse qui recevra les événements.",
        description="Une adresse https:// de votre système, par exemple https://gestion.exemple.fr/dauphin.",
    )


# La confirmation de la désactivation et le bouton « Renvoyer » : le jeton CSRF suffit.
DesactivationForm = ConfirmationForm
RenvoiForm = ConfirmationForm
