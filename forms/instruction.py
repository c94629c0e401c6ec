"""Formulaires de l'instruction : actions sur une ligne de financement ou sur le dossier, notes, filtres.

Chaque formulaire d'action porte la `version` lue (champ caché) : une action faite sur une page périmée
est refusée par le service (conflit) au lieu d'écraser ce qu'un autre a enregistré entre-temps.
Sur la page d'un dossier plusieurs formulaires coexistent : chacun reçoit un préfixe (`prefixe()`) qui
rend ses identifiants uniques, et la page d'action dédiée réutilise le même préfixe.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SearchField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.demande import MontantField
from forms.validators import FormulaireSimple

TEXTE_MAX = 5000


def sans_espaces(texte):
    return texte.strip() if isinstance(texte, str) else texte


def prefixe(action: str, objet_id: int) -> str:
    return f"{action}-{objet_id}"


class ActionForm(FlaskForm):
    """Une action sans saisie (prendre en charge) : la version lue suffit."""

    version = HiddenField()


class RecevableForm(ActionForm):
    montant = MontantField(
        "Montant proposé (en euros)",
        validators=[InputRequired("Indiquez le montant proposé.")],
        description="Au plus le montant demandé à votre organisation. Exemple : 4 500 ou 4 500,50.",
    )
    commentaire = TextAreaField(
        "Observations (facultatif)",
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="Visibles des financeurs et partenaires du contrat, pas du porteur.",
    )


class NonRecevableForm(ActionForm):
    commentaire = TextAreaField(
        "Motif de non-recevabilité",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le motif de non-recevabilité."), Length(max=TEXTE_MAX)],
        description="Visible des financeurs et partenaires du contrat, pas du porteur avant la décision.",
    )


class RevisionForm(ActionForm):
    commentaire = TextAreaField(
        "Raison de la révision (facultatif)",
        validators=[Optional(), Length(max=TEXTE_MAX)],
        description="La ligne revient « prise en charge » : vous pourrez donner un nouvel avis.",
    )


class CorrectionVoteForm(ActionForm):
    montant = MontantField(
        "Montant voté corrigé (en euros)",
        validators=[InputRequired("Indiquez le montant voté corrigé.")],
        description="Au plus le montant demandé et le reste de votre enveloppe. Exemple : 4 500 ou 4 500,50.",
    )
    commentaire = TextAreaField(
        "Motif de la correction",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le motif de la correction."), Length(max=TEXTE_MAX)],
        description="La décision du comité est close : la correction est journalisée avec son motif.",
    )


class AnnulationVoteForm(ActionForm):
    commentaire = TextAreaField(
        "Motif de l’annulation",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le motif de l’annulation."), Length(max=TEXTE_MAX)],
        description="La ligne devient « refusée » ; la correction est journalisée avec son motif.",
    )


class GestionnaireForm(ActionForm):
    gestionnaire_id = SelectField(
        "Gestionnaire du dossier",
        coerce=int,
        choices=[],
        description="Un instructeur de votre organisation, qui suit ce dossier.",
    )


class ComplementsForm(ActionForm):
    commentaire = TextAreaField(
        "Message au porteur",
        filters=[sans_espaces],
        validators=[
            DataRequired("Écrivez le message adressé au porteur."),
            Length(max=TEXTE_MAX),
        ],
        description="Envoyé par courriel au porteur : dites précisément ce qu’il doit compléter ou modifier.",
    )


class ClassementForm(ActionForm):
    commentaire = TextAreaField(
        "Motif du classement sans suite",
        filters=[sans_espaces],
        validators=[DataRequired("Indiquez le motif du classement sans suite."), Length(max=TEXTE_MAX)],
        description="Communiqué au porteur par courriel. Le classement est définitif.",
    )


class RetourJustificationForm(ActionForm):
    commentaire = TextAreaField(
        "Message au porteur",
        filters=[sans_espaces],
        validators=[DataRequired("Écrivez ce que le porteur doit modifier."), Length(max=TEXTE_MAX)],
        description="Envoyé par courriel au porteur, qui modifie le compte rendu puis l’atteste de nouveau.",
    )


class NoteForm(FlaskForm):
    texte = TextAreaField(
        "Note",
        filters=[sans_espaces],
        validators=[DataRequired("Écrivez le texte de la note."), Length(max=TEXTE_MAX)],
    )
    visibilite = RadioField(
        "Visibilité",
        choices=[
            ("partagee", "Partagée avec tous les partenaires du contrat de ville"),
            ("privee", "Privée : seule mon organisation la lit"),
        ],
        default="partagee",
        validators=[InputRequired("Choisissez qui peut lire la note.")],
    )
    organisation_id = SelectField("Au nom de", coerce=int, choices=[])


class FiltresForm(FormulaireSimple):
    """Filtres de la liste (GET, sans jeton CSRF). Une valeur inconnue est ignorée, jamais une erreur.

    Le statut (du dossier, ou de la ligne de l'organisation : deux groupes d'options dans une même liste)
    est lu et rendu par la vue, WTForms ne sachant pas mêler une option « tous » et des groupes."""

    q = SearchField(
        "Rechercher",
        validators=[Optional(), Length(max=100)],
        # 3 : dauphin.services.instruction.RECHERCHE_MIN (un test vérifie que l'indication le suit)
        description="Numéro, intitulé ou nom de la structure (au moins 3 caractères), ou sigle exact",
    )
    contrat = SelectField("Contrat de ville", choices=[])
    exercice = SelectField("Exercice", choices=[])
    thematique = SelectField("Thématique", choices=[])
    qpv = SelectField("Quartier prioritaire", choices=[])
    gestionnaire = SelectField(
        "Gestionnaire", choices=[("", "Tous les dossiers"), ("moi", "Les dossiers dont je suis gestionnaire")]
    )
