"""Formulaires du compte rendu financier (CERFA n°15059), du report des dates et de la clôture."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from forms.demande import MontantField
from forms.instruction import TEXTE_MAX, sans_espaces
from forms.validators import NombreEntierField
from workflows.compte_rendu import libelle_poste

NOMBRE = [Optional(), NumberRange(min=0, max=1_000_000, message="Indiquez un nombre entre 0 et 1 000 000.")]


class CompteRenduFormBase(FlaskForm):
    version = HiddenField()
    action_realisee = RadioField(
        "L’action a-t-elle été réalisée ?",
        choices=[("oui", "Oui, en tout ou partie"), ("non", "Non, l’action n’a pas été réalisée")],
        default="oui",
        validators=[InputRequired("Indiquez si l’action a été réalisée.")],
    )
    motif_non_realisation = TextAreaField(
        "Pourquoi l’action n’a-t-elle pas été réalisée ?",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="Les sommes déjà versées seront à reverser à chaque financeur.",
    )
    bilan = TextAreaField(
        "Ce qui a été réalisé",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=10000)],
        description="Les activités menées, leur calendrier, les écarts avec le projet initial.",
    )
    public_atteint = TextAreaField(
        "Le public atteint",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="Qui a participé (âge, sexe, situation), et comment vous l’avez mesuré.",
    )
    beneficiaires_hors_qpv = NombreEntierField("Bénéficiaires hors quartier prioritaire", validators=NOMBRE)
    attestation = BooleanField(
        "J’atteste sur l’honneur l’exactitude de ce compte rendu financier et sa conformité aux comptes "
        "de la structure."
    )
    # Le bouton pressé : « Enregistrer, attester et déposer » (name="attester"), sinon le brouillon.
    attester = BooleanField()

    def validate_attestation(self, champ):
        if self.attester.data and not champ.data:
            raise ValidationError("Cochez l’attestation sur l’honneur pour déposer le compte rendu.")


def compte_rendu_form(compte_rendu, qpvs, donnees=None):
    """Un champ par quartier de l'action (bénéficiaires), un réalisé et une explication par poste."""

    class Formulaire(CompteRenduFormBase):
        pass

    for qpv in qpvs:
        setattr(
            Formulaire, f"qpv_{qpv.id}", NombreEntierField(f"{qpv.libelle} ({qpv.code})", validators=NOMBRE)
        )
    for poste in compte_rendu.lignes:
        setattr(Formulaire, f"realise_{poste.ordre}", MontantField(f"Réalisé — {libelle_poste(poste)}"))
        setattr(
            Formulaire,
            f"explication_{poste.ordre}",
            TextAreaField(
                f"Explication de l’écart — {libelle_poste(poste)}",
                filters=[sans_espaces],
                validators=[Optional(), Length(max=TEXTE_MAX)],
            ),
        )
    form = Formulaire(formdata=donnees)
    if donnees is None:
        form.version.data = compte_rendu.version
        form.action_realisee.data = "oui" if compte_rendu.action_realisee else "non"
        form.motif_non_realisation.data = compte_rendu.motif_non_realisation
        form.bilan.data = compte_rendu.bilan
        form.public_atteint.data = compte_rendu.public_atteint
        form.beneficiaires_hors_qpv.data = compte_rendu.beneficiaires_hors_qpv
        nombres = {b.qpv_id: b.nombre for b in compte_rendu.beneficiaires_qpv}
        for qpv in qpvs:
            getattr(form, f"qpv_{qpv.id}").data = nombres.get(qpv.id)
        for poste in compte_rendu.lignes:
            getattr(form, f"realise_{poste.ordre}").data = poste.montant_realise
            getattr(form, f"explication_{poste.ordre}").data = poste.explication
    return form


class ReportForm(FlaskForm):
    date_debut = DateField(
        "Nouvelle date de début",
        validators=[InputRequired("Indiquez la date de début.")],
        description="Format attendu : jj/mm/aaaa",
    )
    date_fin = DateField(
        "Nouvelle date de fin",
        validators=[InputRequired("Indiquez la date de fin.")],
        description="Format attendu : jj/mm/aaaa",
    )
    motif = TextAreaField(
        "Pourquoi décaler l’action ?",
        filters=[sans_espaces],
        validators=[
            InputRequired("Expliquez pourquoi les dates doivent être décalées."),
            Length(max=TEXTE_MAX),
        ],
    )

    def validate_date_fin(self, champ):
        if champ.data and self.date_debut.data and champ.data < self.date_debut.data:
            raise ValidationError("La date de fin doit suivre la date de début.")


class DecisionReportForm(FlaskForm):
    decision = RadioField(
        "Votre réponse",
        choices=[("accepter", "Accepter le report"), ("refuser", "Refuser le report")],
        validators=[InputRequired("Choisissez d’accepter ou de refuser.")],
    )
    reponse = TextAreaField(
        "Message au porteur",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="Obligatoire en cas de refus.",
    )

    def validate_reponse(self, champ):
        if self.decision.data == "refuser" and not champ.data:
            raise ValidationError("Écrivez le message adressé au porteur.")


class ClotureForm(FlaskForm):
    annee = NombreEntierField(
        "Exercice à clôturer",
        validators=[
            InputRequired("Indiquez l’exercice."),
            NumberRange(min=2000, max=2100, message="Exercice invalide."),
        ],
    )
    confirmation = BooleanField(
        "Je confirme : les demandes financées listées passent « à justifier » et leurs porteurs sont "
        "prévenus."
    )

    def validate_confirmation(self, champ):
        if not champ.data:
            raise ValidationError("Cochez la confirmation pour clôturer l’exercice.")
