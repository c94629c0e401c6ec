"""Formulaires de l'administration nationale : imports du référentiel, organisations, contrats de ville
(partenaires, règles du comité), nomenclature thématique, comptes et rôles."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from forms.champs import (
    RECHERCHE_MAX,
    ListeDeChoix,
    Suit,
    VersionForm,
    courriel,
    date_facultative,
    fichier_requis,
    ligne_de_texte,
    liste_d_identifiants,
    nombre_entier,
    options,
    recherche,
    sans_espaces,
    texte_libre,
)
from forms.validators import FormulaireSimple, Siren, Siret, compacter, format_siren


class Choisi:
    """Une liste dont la première option, de valeur 0, invite à choisir (« — Choisir une organisation — ») :
    elle n'est pas un choix."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, champ):
        if not champ.data:
            raise StopValidation(self.message)


def _liste(libelle: str, message: str, **options) -> ListeDeChoix:
    return liste_d_identifiants(libelle, validators=[InputRequired(message), Choisi(message)], **options)


DEPARTEMENT = re.compile(r"(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2A|2B|97[1-8]|98[4-8])")


class ImportForm(FlaskForm):
    fichier = fichier_requis(
        "Fichier CSV",
        "Choisissez le fichier CSV à importer.",
        description="Séparateur virgule ou point-virgule, UTF-8 ou Windows-1252. "
        "La première ligne nomme les colonnes.",
        render_kw={"accept": ".csv,text/csv"},
    )


class ConfirmationImportForm(FlaskForm):
    """« Confirmer l'import » : le fichier aperçu, scellé (voir `dauphin.services.imports.sceller`)."""

    sceau = HiddenField(validators=[DataRequired("L’aperçu a expiré : choisissez de nouveau le fichier.")])


class ImportContratsForm(ImportForm):
    generation = ListeDeChoix(
        "Génération des contrats",
        choices=options([("2024", "2024–2030 (Engagements Quartiers 2030)"), ("2015", "2015–2023")]),
        default="2024",
    )


class OrganisationForm(VersionForm):
    nom = ligne_de_texte(
        "Nom",
        obligatoire="Indiquez le nom de l’organisation.",
        description="Par exemple : Préfecture du Nord (État – P147).",
    )
    type_organisation = ListeDeChoix("Type d’organisation", choices=[])
    siren = StringField(
        "SIREN (facultatif)",
        filters=[sans_espaces],
        validators=[Optional(), Siren()],
        description="9 chiffres, par exemple 245 900 410.",
    )
    siret = StringField(
        "SIRET (facultatif)",
        filters=[sans_espaces],
        validators=[Optional(), Siret()],
        description="14 chiffres, par exemple 245 900 410 00013 : l’établissement qui attribue les "
        "subventions. Sans lui, les données ouvertes de ses subventions ne peuvent pas être publiées.",
    )
    departement = StringField(
        "Département (facultatif)",
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=3)],
        description="Par exemple 59, 2A ou 974.",
    )
    est_financeur = BooleanField(
        "Financeur : peut recevoir une enveloppe et être sollicité par les porteurs", default=True
    )
    email_contact = courriel("Adresse de contact (facultatif)")
    second_facteur_obligatoire = BooleanField(
        "Double authentification obligatoire pour les membres de l’organisation",
        description="Ses instructeurs et partenaires devront saisir, après leur mot de passe, le code d’une "
        "application d’authentification ; ceux qui ne l’ont pas encore l’activeront à leur prochaine "
        "connexion (leurs sessions ouvertes sont fermées).",
    )

    def validate_siret(self, champ):
        siren = compacter(self.siren.data) if self.siren.data else ""
        saisi = len(siren) == 9 and siren.isdigit()  # un SIREN mal formé a déjà son propre message
        if champ.data and saisi and not compacter(champ.data).startswith(siren):
            raise ValidationError(
                f"Le SIRET commence par le SIREN de l’organisation : {format_siren(siren)} ici. "
                "Corrigez l’un ou l’autre."
            )

    def validate_departement(self, champ):
        if champ.data and not DEPARTEMENT.fullmatch(champ.data):
            raise ValidationError("Département inconnu : saisissez son code, par exemple 59, 2A ou 974.")

    def donnees(self) -> dict:
        from dauphin.models import TypeOrganisation

        siret = compacter(self.siret.data) if self.siret.data else None
        return {
            "nom": self.nom.data,
            "type_organisation": TypeOrganisation(self.type_organisation.data),
            # Le SIREN se déduit du SIRET quand il n'est pas saisi (ses 9 premiers chiffres).
            "siren": compacter(self.siren.data) if self.siren.data else (siret[:9] if siret else None),
            "siret": siret,
            "departement": self.departement.data or None,
            "est_financeur": bool(self.est_financeur.data),
            "email_contact": (self.email_contact.data or "").lower() or None,
            "second_facteur_obligatoire": bool(self.second_facteur_obligatoire.data),
        }


class _Activation:
    # Le bouton porte « actif » : 1 pour (ré)activer, 0 pour désactiver.
    actif = HiddenField()

    @property
    def activer(self) -> bool:
        return self.actif.data == "1"


class ActivationForm(_Activation, VersionForm):
    """Activer ou désactiver une organisation ou un code thématique, avec la version lue."""


class ReglesComiteForm(VersionForm):
    quorum_pourcentage = nombre_entier(
        "Quorum (en % des organisations partenaires)",
        min=1,
        max=100,
        message="Le quorum est un pourcentage entre 1 et 100.",
        requis="Indiquez le quorum, en pourcentage.",
        description="Part des organisations partenaires appelées (non récusées) qui doivent être "
        "présentes ou représentées à la séance pour que le comité décide.",
    )
    regle_majorite = ListeDeChoix("Règle de majorité", choices=[])


class PartenaireForm(FlaskForm):
    organisation_id = _liste("Organisation", "Choisissez l’organisation à ajouter.")


class ThematiqueForm(VersionForm):
    code = StringField(
        "Code",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le code.")],
        description="Un pilier (5) ou un sous-thème de pilier existant (1.7).",
    )
    libelle = ligne_de_texte("Libellé", obligatoire="Indiquez le libellé.")
    ordre = nombre_entier(
        "Ordre d’affichage",
        min=0,
        max=9999,
        message="L’ordre est un nombre entre 0 et 9999.",
        requis="Indiquez l’ordre d’affichage (0 par défaut).",
        default=0,
    )

    def validate_code(self, champ):
        if champ.data and not re.fullmatch(r"[1-9]\d?(\.[1-9]\d?)?", champ.data):
            raise ValidationError("Le code est un numéro de pilier (5) ou de sous-thème (1.7).")


class RechercheForm(FormulaireSimple):
    """Recherche d'une liste (GET, sans jeton) ; une valeur inconnue est ignorée."""

    q = recherche()
    statut = ListeDeChoix("Statut", choices=[], validate_choice=False)


class FiltresLecturesForm(FormulaireSimple):
    """Les filtres de la trace des lectures (GET) : compte, dossier, période."""

    compte = ligne_de_texte(
        "Compte",
        max=RECHERCHE_MAX,
        description="Adresse électronique, nom ou prénom du compte, ou nom du jeton d’API",
    )
    dossier = ligne_de_texte(
        "Numéro du dossier",
        max=20,
        message_longueur="Un numéro de dossier compte 20 caractères au plus.",
        description="Le numéro complet, par exemple 2026-000123",
    )
    du = date_facultative("Lues à partir du")
    au = date_facultative("Jusqu’au", suit=Suit("du", "La fin de la période doit suivre son début."))


class RoleOrganisationForm(FlaskForm):
    organisation_id = _liste("Organisation", "Choisissez l’organisation.")
    role = ListeDeChoix(
        "Rôle",
        choices=options(
            [
                ("instructeur", "Instructeur : instruit la ligne de l’organisation"),
                ("partenaire", "Partenaire : lit, note et vote"),
            ]
        ),
    )


class PilotageForm(FlaskForm):
    contrat_id = _liste("Contrat de ville", "Choisissez le contrat de ville.")
    organisation_id = _liste(
        "Au nom de l’organisation",
        "Choisissez l’organisation.",
        description="Une organisation partenaire du contrat (préfecture, EPCI, commune…).",
    )


class DesactivationForm(_Activation, FlaskForm):
    motif = texte_libre("Motif (facultatif)", max=500, description="Conservé dans l’historique du compte.")


class ExportNationalForm(FlaskForm):
    """L'export national d'un exercice. `exercices` : ceux des campagnes, réglés par la vue."""

    exercices: tuple[int, ...] = ()
    exercice = StringField("Exercice")
    format = StringField("Format", default="xlsx")

    def validate_exercice(self, champ):
        if champ.data not in {str(annee) for annee in self.exercices}:
            raise ValidationError("Choisissez un exercice dans la liste.")

    def validate_format(self, champ):
        if champ.data not in ("xlsx", "csv"):
            raise ValidationError("Choisissez le format XLSX ou CSV.")
