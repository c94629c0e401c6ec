"""Formulaire de dépôt d'un document dans le porte-documents d'une structure.

Le formulaire ne contrôle que la saisie ; taille et format du fichier (reconnu par son contenu) sont
des règles du service `dauphin.services.documents`, qui les vérifie pour tout dépôt.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from dauphin.services.documents import (
    FORMATS_PORTE_DOCUMENTS,
    TYPES_PORTE_DOCUMENTS,
    taille_lisible,
    taille_max,
)
from forms.champs import ListeDeChoix, date_facultative, fichier_requis

TYPES = {t.value for t in TYPES_PORTE_DOCUMENTS}


class DepotDocumentForm(FlaskForm):
    # L'ordre compte : le fichier vient en dernier dans le corps envoyé, ce qui permet de retrouver les
    # autres champs d'un envoi trop volumineux (voir dauphin/documents).
    type_piece = ListeDeChoix(
        "Type de document",
        choices=[SelectChoice("", "Sélectionnez un type")]
        + [SelectChoice(t.value, t.libelle) for t in TYPES_PORTE_DOCUMENTS],
        validate_choice=False,
    )
    valable_jusqu_au = date_facultative(
        "Valable jusqu’au (facultatif)", aide="Pour une pièce qui expire (attestation, extrait…)."
    )
    fichier = fichier_requis("Fichier", "Choisissez le fichier à déposer.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taille = taille_lisible(taille_max())
        self.fichier.description = (
            f"Taille maximale : {taille}. Formats acceptés : {FORMATS_PORTE_DOCUMENTS.libelle}."
        )

    def validate_type_piece(self, champ):
        if champ.data not in TYPES:
            raise ValidationError("Choisissez le type du document.")
