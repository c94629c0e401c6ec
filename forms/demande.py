"""Formulaires des étapes d'une demande de subvention (CERFA n°12156) : chacun porte la version lue de la
demande (`VersionForm`)."""

from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, FieldList, FormField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms.champs import (
    OUI_NON,
    BoutonsRadio,
    ChoixMultiple,
    ListeDeChoix,
    MontantField,
    Suit,
    VersionForm,
    courriel,
    date_facultative,
    ligne_de_texte,
    nombre_entier,
    numero_de_telephone,
    options,
    texte_libre,
)
from forms.validators import FormulaireSimple


class CasesACocher(ChoixMultiple):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EligibiliteForm(VersionForm):
    """Les questions dépendent de la campagne : ajoutées dynamiquement (voir `eligibilite_form`)."""


def eligibilite_form(questions, donnees=None, reponses=None):
    class Formulaire(EligibiliteForm):
        pass

    for question in questions:
        setattr(
            Formulaire,
            f"question_{question.id}",
            BoutonsRadio(
                question.libelle,
                choices=OUI_NON,
                validators=[Optional()],
            ),
        )
    form = Formulaire(formdata=donnees)
    if donnees is None and reponses:
        for question_id, reponse in reponses.items():
            champ = getattr(form, f"question_{question_id}", None)
            if champ is not None:
                champ.data = "oui" if reponse else "non"
    return form


class StructureEtapeForm(VersionForm):
    responsable_nom = ligne_de_texte("Nom et prénom de la personne chargée de la demande")
    responsable_fonction = ligne_de_texte("Fonction", max=100)
    responsable_email = courriel("Courriel")
    responsable_telephone = numero_de_telephone("Téléphone")
    compte_bancaire_id = ListeDeChoix(
        "Compte bancaire qui recevra la subvention", coerce=int, validate_choice=False
    )

    def validate_compte_bancaire_id(self, champ):
        if champ.data and champ.data not in {choix.value for choix in champ.choices}:
            raise ValidationError("Choisissez un compte bancaire de la structure.")


class ActionForm(VersionForm):
    intitule = ligne_de_texte("Intitulé de l’action", max=250)
    objectifs = texte_libre("Objectifs de l’action")
    description = texte_libre("Description de l’action", max=10000)
    public_cible = texte_libre("Public visé", max=2000)
    nb_beneficiaires = nombre_entier(
        "Nombre de bénéficiaires attendus",
        min=1,
        max=1_000_000,
        message="Indiquez un nombre entre 1 et 1 000 000.",
    )
    qpvs = CasesACocher("Quartiers prioritaires concernés", coerce=int, validate_choice=False)
    thematique_code = ListeDeChoix("Thématique (sous-thème du programme 147)", validators=[Optional()])
    axes = CasesACocher("Axes transversaux", validate_choice=False)
    date_debut = date_facultative("Date de début")
    date_fin = date_facultative("Date de fin", suit=Suit())
    renouvellement = BooleanField("Il s’agit du renouvellement d’une action déjà financée")
    duree_annees = ListeDeChoix(
        "Durée de l’action",
        coerce=int,
        choices=options(
            [
                (1, "Annuelle"),
                (2, "Pluriannuelle : 2 ans"),
                (3, "Pluriannuelle : 3 ans"),
                (4, "Pluriannuelle : 4 ans"),
            ]
        ),
    )
    moyens_humains = texte_libre("Moyens humains mobilisés")
    indicateurs_evaluation = texte_libre("Indicateurs d’évaluation")

    def validate_qpvs(self, champ):
        permis = {choix.value for choix in champ.choices}
        if any(valeur not in permis for valeur in champ.data or []):
            raise ValidationError("Choisissez des quartiers du contrat de ville.")


class LigneLibreForm(FormulaireSimple):
    """Une subvention demandée à un financeur absent de la plateforme (saisie libre)."""

    financeur_libelle = StringField(
        "Financeur",
        validators=[Length(max=200, message="Le nom du financeur compte 200 caractères au plus.")],
    )
    montant = MontantField("Montant", validators=[Optional()])

    def validate_financeur_libelle(self, champ):
        if self.montant.data and not (champ.data or "").strip():
            raise ValidationError("Indiquez le nom du financeur.")

    def validate_montant(self, champ):
        # Un financeur nommé sans montant (ou à 0) serait sinon effacé sans un mot à l'enregistrement.
        if (self.financeur_libelle.data or "").strip() and not champ.data:
            raise ValidationError("Indiquez le montant demandé à ce financeur, ou effacez son nom.")


def budget_form(comptes, financeurs, donnees=None, lignes_existantes=None, nb_libres=3):
    """Un champ par compte du plan du CERFA (hors 74), un par financeur de la campagne, des lignes libres."""

    class Formulaire(VersionForm):
        libres = FieldList(FormField(LigneLibreForm), min_entries=nb_libres, max_entries=20)

    for compte in comptes:
        if compte.code != "74":
            setattr(Formulaire, f"compte_{compte.code}", MontantField(f"{compte.code} — {compte.libelle}"))
    for financeur in financeurs:
        setattr(Formulaire, f"financeur_{financeur.id}", MontantField(f"74 — {financeur.nom}"))
    form = Formulaire(formdata=donnees)
    if donnees is None and lignes_existantes is not None:
        libres = []
        for ligne in lignes_existantes:
            if ligne.compte == "74" and ligne.financeur_id:
                champ = getattr(form, f"financeur_{ligne.financeur_id}", None)
            elif ligne.compte == "74":
                libres.append(ligne)
                continue
            else:
                champ = getattr(form, f"compte_{ligne.compte}", None)
            if champ is not None:
                champ.data = (champ.data or Decimal("0")) + ligne.montant
        while len(form.libres.entries) < len(libres) + 1 and len(form.libres.entries) < 20:
            form.libres.append_entry()
        for entree, ligne in zip(form.libres.entries, libres, strict=False):
            entree.form.financeur_libelle.data = ligne.financeur_libelle
            entree.form.montant.data = ligne.montant
    return form


class _DocumentPropose:
    def __init__(self, permis: set):
        self.permis = permis

    def __call__(self, form, field):
        if field.data not in self.permis:
            raise ValidationError("Choisissez l’un des documents proposés pour cette pièce.")


class PiecesForm(VersionForm):
    """Un choix de document du porte-documents par pièce requise : ajouté dynamiquement."""


def pieces_form(pieces_requises, documents_par_type, donnees=None, choisis=None):
    class Formulaire(PiecesForm):
        pass

    for piece in pieces_requises:
        choix = [SelectChoice(0, "— Choisir un document du porte-documents —")] + [
            SelectChoice(document.id, f"{document.nom_fichier} (déposé le {document.depose_le:%d/%m/%Y})")
            for document in documents_par_type.get(piece.type_piece, [])
        ]
        deja_joint = (choisis or {}).get(piece.type_piece.value)
        setattr(
            Formulaire,
            f"piece_{piece.type_piece.value}",
            ListeDeChoix(
                piece.libelle + ("" if piece.obligatoire else " (facultatif)"),
                coerce=int,
                choices=choix,
                default=0,
                # La pièce déjà jointe reste acceptée même si elle n'est plus proposée (expirée depuis) ;
                # un autre document, ou celui d'un autre type, est refusé à côté du champ.
                validate_choice=False,
                validators=[_DocumentPropose({option.value for option in choix} | {deja_joint})],
            ),
        )
    form = Formulaire(formdata=donnees)
    if donnees is None and choisis:
        for type_piece, document_id in choisis.items():
            champ = getattr(form, f"piece_{type_piece}", None)
            if champ is not None:
                champ.data = document_id
    return form


class AttestationForm(VersionForm):
    declarations = BooleanField(
        "J’atteste que la structure est en règle au regard de ses déclarations et paiements fiscaux "
        "et sociaux.",
        validators=[InputRequired("Cette attestation est obligatoire pour transmettre la demande.")],
    )
    engagement_republicain = BooleanField(
        "J’atteste que la structure respecte le contrat d’engagement républicain "
        "(loi n° 2021-1109 du 24 août 2021).",
        validators=[InputRequired("Cette attestation est obligatoire pour transmettre la demande.")],
    )
    exactitude = BooleanField(
        "J’atteste que les informations de cette demande, notamment les financements sollicités auprès des "
        "autres financeurs publics, sont exactes et sincères.",
        validators=[InputRequired("Cette attestation est obligatoire pour transmettre la demande.")],
    )
    commentaire = texte_libre(
        "Réponse à l’instructeur (facultatif)",
        description="Expliquez ce que vous avez modifié, le cas échéant.",
    )


class MotifForm(VersionForm):
    commentaire = texte_libre("Motif", obligatoire=InputRequired("Indiquez le motif."))


# Un bouton d'action (soumettre, remettre en brouillon…) avec la version lue.
ActionSimpleForm = VersionForm
