"""Formulaires des jetons de l'API : création (nom, titulaire, portée, échéance) et révocation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired

from forms.champs import ConfirmationForm, date_requise, ligne_de_texte, liste_d_identifiants
from forms.demande import CasesACocher


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
    portees = CasesACocher(
        "Portées",
        choices=[],  # les portées de dauphin.policies.jetons, posées par la vue
        default=["lecture"],
        validators=[InputRequired("Cochez au moins une portée.")],
        description="Ce que le jeton peut faire ; une action hors de ses portées est refusée.",
    )
    expire_le = date_requise(
        "Valable jusqu’au",
        "Indiquez la date d’échéance du jeton.",
        aide="Inclus, à minuit heure de Paris ; un an au plus.",
    )


# La confirmation de la révocation : le jeton CSRF suffit.
RevocationForm = ConfirmationForm
