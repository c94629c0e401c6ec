"""Formulaires de l'administration nationale : imports du référentiel, organisations, contrats de ville
(partenaires, règles du comité), nomenclature thématique, comptes et rôles."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from forms.campagnes import sans_espaces
from forms.validators import FormulaireSimple, NombreEntierField, Siren, compacter


class Choisi:
    """Une liste dont la première option, de valeur 0, invite à choisir (« — Choisir une organisation — ») :
    elle n'est pas un choix."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, champ):
        if not champ.data:
            raise StopValidation(self.message)


def _liste(libelle: str, message: str, **options) -> SelectField:
    return SelectField(
        libelle, coerce=int, choices=[], validators=[InputRequired(message), Choisi(message)], **options
    )


DEPARTEMENT = re.compile(r"(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2A|2B|97[1-8]|98[4-8])")


class ImportForm(FlaskForm):
    fichier = FileField(
        "Fichier CSV",
        validators=[FileRequired("Choisissez le fichier CSV à importer.")],
        description="Séparateur virgule ou point-virgule, UTF-8 ou Windows-1252. "
        "La première ligne nomme les colonnes.",
        render_kw={"accept": ".csv,text/csv"},
    )
    simulation = BooleanField(
        "Simulation : vérifier le fichier et afficher le rapport sans rien enregistrer",
    )


class ImportContratsForm(ImportForm):
    generation = SelectField(
        "Génération des contrats",
        choices=[("2024", "2024–2030 (Engagements Quartiers 2030)"), ("2015", "2015–2023")],
        default="2024",
    )


class OrganisationForm(FlaskForm):
    version = HiddenField()
    nom = StringField(
        "Nom",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le nom de l’organisation."), Length(max=200)],
        description="Par exemple : Préfecture du Nord (État – P147).",
    )
    type_organisation = SelectField("Type d’organisation", choices=[])
    siren = StringField(
        "SIREN (facultatif)",
        filters=[sans_espaces],
        validators=[Optional(), Siren()],
        description="9 chiffres, par exemple 245 900 410.",
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
    email_contact = EmailField(
        "Adresse de contact (facultatif)",
        filters=[sans_espaces],
        validators=[
            Optional(),
            Email(
                "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )

    def validate_departement(self, champ):
        if champ.data and not DEPARTEMENT.fullmatch(champ.data):
            raise ValidationError("Département inconnu : saisissez son code, par exemple 59, 2A ou 974.")

    def donnees(self) -> dict:
        from dauphin.models import TypeOrganisation

        return {
            "nom": self.nom.data,
            "type_organisation": TypeOrganisation(self.type_organisation.data),
            "siren": compacter(self.siren.data) if self.siren.data else None,
            "departement": self.departement.data or None,
            "est_financeur": bool(self.est_financeur.data),
            "email_contact": (self.email_contact.data or "").lower() or None,
        }


class VersionForm(FlaskForm):
    """Une action sans saisie (activer, désactiver, supprimer) avec la version lue."""

    version = HiddenField()


class _Activation:
    # Le bouton porte « actif » : 1 pour (ré)activer, 0 pour désactiver.
    actif = HiddenField()

    @property
    def activer(self) -> bool:
        return self.actif.data == "1"


class ActivationForm(_Activation, VersionForm):
    """Activer ou désactiver une organisation ou un code thématique, avec la version lue."""


class ReglesComiteForm(FlaskForm):
    version = HiddenField()
    quorum_pourcentage = NombreEntierField(
        "Quorum (en % des organisations partenaires)",
        validators=[
            InputRequired("Indiquez le quorum, en pourcentage."),
            NumberRange(min=1, max=100, message="Le quorum est un pourcentage entre 1 et 100."),
        ],
        description="Part des organisations partenaires qui doivent avoir voté pour que le vote "
        "soit valable.",
    )
    regle_majorite = SelectField("Règle de majorité", choices=[])


class PartenaireForm(FlaskForm):
    organisation_id = _liste("Organisation", "Choisissez l’organisation à ajouter.")


class ThematiqueForm(FlaskForm):
    version = HiddenField()
    code = StringField(
        "Code",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le code.")],
        description="Un pilier (5) ou un sous-thème de pilier existant (1.7).",
    )
    libelle = StringField(
        "Libellé",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le libellé."), Length(max=200)],
    )
    ordre = NombreEntierField(
        "Ordre d’affichage",
        default=0,
        validators=[
            InputRequired("Indiquez l’ordre d’affichage (0 par défaut)."),
            NumberRange(min=0, max=9999, message="L’ordre est un nombre entre 0 et 9999."),
        ],
    )

    def validate_code(self, champ):
        if champ.data and not re.fullmatch(r"[1-9]\d?(\.[1-9]\d?)?", champ.data):
            raise ValidationError("Le code est un numéro de pilier (5) ou de sous-thème (1.7).")


class RechercheForm(FormulaireSimple):
    """Recherche d'une liste (GET, sans jeton) ; une valeur inconnue est ignorée."""

    q = SearchField("Rechercher", filters=[sans_espaces], validators=[Optional(), Length(max=100)])
    statut = SelectField("Statut", choices=[], validate_choice=False)


class RoleOrganisationForm(FlaskForm):
    organisation_id = _liste("Organisation", "Choisissez l’organisation.")
    role = SelectField(
        "Rôle",
        choices=[
            ("instructeur", "Instructeur : instruit la ligne de l’organisation"),
            ("partenaire", "Partenaire : lit, note et vote"),
        ],
    )


class PilotageForm(FlaskForm):
    contrat_id = _liste("Contrat de ville", "Choisissez le contrat de ville.")
    organisation_id = _liste(
        "Au nom de l’organisation",
        "Choisissez l’organisation.",
        description="Une organisation partenaire du contrat (préfecture, EPCI, commune…).",
    )


class DesactivationForm(_Activation, FlaskForm):
    motif = TextAreaField(
        "Motif (facultatif)",
        filters=[sans_espaces],
        validators=[Optional(), Length(max=500)],
        description="Conservé dans l’historique du compte.",
    )


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
