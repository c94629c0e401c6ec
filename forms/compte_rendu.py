"""Formulaires du compte rendu financier (CERFA n°15059), du report des dates et de la clôture."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from forms.champs import (
    BoutonsRadio,
    ListeDeChoix,
    MontantField,
    Suit,
    VersionForm,
    date_requise,
    nombre_entier,
    options,
    texte_libre,
)
from workflows.budget import COMPTES
from workflows.compte_rendu import libelle_poste


def _beneficiaires(libelle: str):
    """Un nombre de bénéficiaires, facultatif."""
    return nombre_entier(libelle, min=0, max=1_000_000, message="Indiquez un nombre entre 0 et 1 000 000.")


class CompteRenduFormBase(VersionForm):
    action_realisee = BoutonsRadio(
        "L’action a-t-elle été réalisée ?",
        choices=options([("oui", "Oui, en tout ou partie"), ("non", "Non, l’action n’a pas été réalisée")]),
        default="oui",
        validators=[InputRequired("Indiquez si l’action a été réalisée.")],
    )
    motif_non_realisation = texte_libre(
        "Pourquoi l’action n’a-t-elle pas été réalisée ?",
        description="Les sommes déjà versées seront à reverser à chaque financeur.",
    )
    bilan = texte_libre(
        "Ce qui a été réalisé",
        max=10000,
        description="Les activités menées, leur calendrier, les écarts avec le projet initial.",
    )
    public_atteint = texte_libre(
        "Le public atteint",
        description="Qui a participé (âge, sexe, situation), et comment vous l’avez mesuré.",
    )
    beneficiaires_hors_qpv = _beneficiaires("Bénéficiaires hors quartier prioritaire")
    attestation = BooleanField(
        "J’atteste sur l’honneur l’exactitude de ce compte rendu financier et sa conformité aux comptes "
        "de la structure."
    )
    # Le bouton pressé : « Enregistrer, attester et déposer » (name="attester"), sinon le brouillon.
    attester = BooleanField()
    # Un poste du plan absent du budget, que le porteur ajoute au tableau (bouton « ajouter_poste »).
    poste_a_ajouter = ListeDeChoix("Poste à ajouter", choices=[], validate_choice=False)
    ajouter_poste = BooleanField()

    def validate_poste_a_ajouter(self, champ):
        if self.ajouter_poste.data and not champ.data:
            raise ValidationError("Choisissez le poste à ajouter au tableau.")

    def validate_attestation(self, champ):
        if self.attester.data and not champ.data:
            raise ValidationError("Cochez l’attestation sur l’honneur pour déposer le compte rendu.")


def compte_rendu_form(compte_rendu, qpvs, donnees=None, comptes_a_ajouter=()):
    """Un champ par quartier de l'action (bénéficiaires), un réalisé et une explication par poste, et le
    choix d'un poste du plan à ajouter parmi `comptes_a_ajouter`."""

    class Formulaire(CompteRenduFormBase):
        pass

    for qpv in qpvs:
        setattr(Formulaire, f"qpv_{qpv.id}", _beneficiaires(f"{qpv.libelle} ({qpv.code})"))
    for poste in compte_rendu.lignes:
        setattr(Formulaire, f"realise_{poste.ordre}", MontantField(f"Réalisé — {libelle_poste(poste)}"))
        setattr(
            Formulaire,
            f"explication_{poste.ordre}",
            texte_libre(f"Explication de l’écart — {libelle_poste(poste)}"),
        )
    form = Formulaire(formdata=donnees)
    form.poste_a_ajouter.choices = [SelectChoice("", "Choisir un poste")] + [
        SelectChoice(code, f"{code} — {COMPTES[code].libelle}") for code in comptes_a_ajouter
    ]
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
    date_debut = date_requise("Nouvelle date de début", "Indiquez la date de début.")
    date_fin = date_requise("Nouvelle date de fin", "Indiquez la date de fin.", suit=Suit())
    motif = texte_libre(
        "Pourquoi décaler l’action ?",
        obligatoire=InputRequired("Expliquez pourquoi les dates doivent être décalées."),
    )


class DecisionReportForm(FlaskForm):
    decision = BoutonsRadio(
        "Votre réponse",
        choices=options([("accepter", "Accepter le report"), ("refuser", "Refuser le report")]),
        validators=[InputRequired("Choisissez d’accepter ou de refuser.")],
    )
    reponse = texte_libre("Message au porteur", description="Obligatoire en cas de refus.")

    def validate_reponse(self, champ):
        if self.decision.data == "refuser" and not champ.data:
            raise ValidationError("Écrivez le message adressé au porteur.")


class ClotureForm(FlaskForm):
    annee = nombre_entier(
        "Exercice à clôturer", min=2000, max=2100, message="Exercice invalide.", requis="Indiquez l’exercice."
    )
    confirmation = BooleanField(
        "Je confirme : les demandes financées listées passent « à justifier » et leurs porteurs sont "
        "prévenus."
    )

    def validate_confirmation(self, champ):
        if not champ.data:
            raise ValidationError("Cochez la confirmation pour clôturer l’exercice.")
