"""Formulaires de la structure : inscription par SIRET, fiche, compte bancaire, membres, demande d'accès.

Les champs réaffichent toujours ce qui a été tapé (y compris un nombre illisible) : une erreur ne fait
rien perdre. Les méthodes `donnees_*` rendent les valeurs normalisées que les services enregistrent.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional, ValidationError

from forms.champs import (
    AIDE_COURRIEL,
    BoutonsRadio,
    ListeDeChoix,
    SaisieGardee,
    courriel,
    ligne_de_texte,
    numero_de_telephone,
    options,
    texte_libre,
)
from forms.champs import (
    ConfirmationForm as ConfirmationForm,  # re-exporté : le bouton confirmé par un POST des vues
)
from forms.validators import (
    Bic,
    CodeInsee,
    CodePostal,
    Iban,
    Rna,
    Siret,
    compacter,
    normaliser_bic,
    normaliser_code,
    normaliser_iban,
    normaliser_rna,
    normaliser_siret,
)

CHOISIR = SelectChoice("", "— Choisir —")
CIVILITES = options([("Mme", "Madame"), ("M.", "Monsieur")])
# Valeurs de RoleStructure et de FormeJuridique (dauphin.models) : forms/ ne dépend pas de l'application ;
# les services convertissent en énumérations et la vue fournit les libellés des formes juridiques.
SIGNATAIRE, CONTRIBUTEUR, ASSOCIATION = "signataire", "contributeur", "association"
CHOIX_ROLES = options(
    [
        (SIGNATAIRE, "Signataire : atteste les demandes sur l’honneur et les transmet"),
        (CONTRIBUTEUR, "Contributeur : prépare les demandes, sans pouvoir les attester"),
    ]
)


def _texte(valeur: str | None) -> str | None:
    valeur = (valeur or "").strip()
    return valeur or None


class EntierField(SaisieGardee):
    """Un nombre entier positif saisi à la française (« 1 200 »)."""

    message = "Saisissez un nombre entier positif, par exemple 12 (ou laissez vide)."
    MAXIMUM = 10_000_000

    def lire(self, texte: str) -> int:
        if not texte.isascii() or not texte.isdigit():
            raise ValueError(texte)
        valeur = int(texte)
        if valeur > self.MAXIMUM:
            raise ValueError(texte)
        return valeur


class EtpField(SaisieGardee):
    """Un nombre d'équivalents temps plein (« 2,5 »)."""

    message = "Saisissez un nombre d’équivalents temps plein, par exemple 2,5 (deux décimales au plus)."

    def ecrire(self, valeur) -> str:
        texte = f"{Decimal(valeur):.2f}".rstrip("0").rstrip(".")
        return texte.replace(".", ",")

    def lire(self, texte: str) -> Decimal:
        if re.fullmatch(r"\d{1,5}([.,]\d{1,2})?", texte) is None:
            raise ValueError(texte)
        return Decimal(texte.replace(",", "."))


class ChampsStructure(FlaskForm):
    """La fiche d'identité de la structure (CERFA n°12156, parties 1 à 3)."""

    siret = StringField(
        "Numéro SIRET",
        validators=[DataRequired("Saisissez le numéro SIRET de la structure."), Siret()],
        description="14 chiffres, les espaces sont acceptés. Vous le trouvez sur l’avis de situation au "
        "répertoire Sirene (annuaire-entreprises.data.gouv.fr).",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    forme_juridique = ListeDeChoix(
        "Forme juridique",
        choices=[CHOISIR],  # complété par la vue (voir `avec_formes`)
        validators=[DataRequired("Choisissez la forme juridique.")],
    )
    rna = StringField(
        "Numéro RNA",
        validators=[Rna()],
        description="Obligatoire pour une association : W suivi de 9 chiffres, par exemple W751234567.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    raison_sociale = ligne_de_texte(
        "Raison sociale",
        obligatoire="Saisissez la raison sociale (le nom officiel).",
        render_kw={"autocomplete": "organization"},
    )
    sigle = ligne_de_texte("Sigle (facultatif)", max=50)
    adresse = ligne_de_texte(
        "Adresse du siège",
        max=250,
        obligatoire="Saisissez l’adresse du siège.",
        description="Numéro et voie, complément éventuel",
        render_kw={"autocomplete": "street-address"},
    )
    code_postal = StringField(
        "Code postal",
        validators=[DataRequired("Saisissez le code postal."), CodePostal()],
        description="5 chiffres",
        render_kw={"inputmode": "numeric", "autocomplete": "postal-code"},
    )
    commune = ligne_de_texte(
        "Commune", max=100, obligatoire="Saisissez la commune.", render_kw={"autocomplete": "address-level2"}
    )
    code_insee = StringField(
        "Code INSEE de la commune",
        validators=[DataRequired("Saisissez le code INSEE de la commune."), CodeInsee()],
        description="5 caractères, différent du code postal (Lille : 59350 ; Ajaccio : 2A004)",
        render_kw={"autocomplete": "off"},
    )
    email = courriel("Courriel de la structure (facultatif)", render_kw={"autocomplete": "email"})
    telephone = numero_de_telephone()
    representant_civilite = BoutonsRadio("Civilité (facultatif)", choices=CIVILITES, validate_choice=False)
    representant_nom = ligne_de_texte("Nom", max=100, obligatoire="Saisissez le nom du représentant légal.")
    representant_prenom = ligne_de_texte(
        "Prénom", max=100, obligatoire="Saisissez le prénom du représentant légal."
    )
    representant_qualite = ligne_de_texte(
        "Qualité",
        max=100,
        obligatoire="Saisissez la qualité du représentant légal.",
        description="Par exemple : président, présidente, maire, directeur général",
    )
    nb_benevoles = EntierField("Bénévoles", validators=[Optional()])
    nb_salaries = EntierField("Salariés", validators=[Optional()])
    etp_salaries = EtpField("Salariés en équivalent temps plein (ETP)", validators=[Optional()])
    nb_volontaires = EntierField("Volontaires (service civique…)", validators=[Optional()])
    nb_adherents = EntierField("Adhérents", validators=[Optional()])
    agrements = texte_libre(
        "Agréments administratifs (facultatif)",
        max=500,
        description="Type d’agrément, autorité qui l’a délivré et date, par exemple : jeunesse et éducation "
        "populaire, préfecture du Nord, 12/03/2019",
    )
    reconnue_utilite_publique = BooleanField("La structure est reconnue d’utilité publique")

    def avec_formes(self, formes: list[SelectChoice]):
        """Les formes juridiques proposées (`options_enum` de l'énumération du modèle)."""
        self.forme_juridique.choices = [CHOISIR, *formes]
        return self

    def validate_rna(self, champ):
        if self.forme_juridique.data == ASSOCIATION and not compacter(champ.data):
            raise ValidationError(
                "Le numéro RNA est obligatoire pour une association : il figure sur le récépissé de "
                "déclaration en préfecture (W suivi de 9 chiffres)."
            )

    def validate_representant_civilite(self, champ):
        if champ.data and champ.data not in {civilite.value for civilite in CIVILITES}:
            raise ValidationError("Choisissez Madame ou Monsieur.")

    def validate_nb_salaries(self, champ):
        if champ.data == 0 and self.etp_salaries.data:
            raise ValidationError("Vous indiquez des ETP salariés : précisez le nombre de salariés.")

    def donnees_structure(self) -> dict:
        siret = normaliser_siret(self.siret.data)
        return {
            "siret": siret,
            "siren": siret[:9],
            "rna": normaliser_rna(self.rna.data) or None,
            "forme_juridique": self.forme_juridique.data,
            "raison_sociale": self.raison_sociale.data.strip(),
            "sigle": _texte(self.sigle.data),
            "adresse": self.adresse.data.strip(),
            "code_postal": normaliser_code(self.code_postal.data),
            "commune": self.commune.data.strip(),
            "code_insee": normaliser_code(self.code_insee.data),
            "email": (_texte(self.email.data) or "").lower() or None,
            "telephone": _texte(self.telephone.data),
            "representant_civilite": self.representant_civilite.data or None,
            "representant_nom": self.representant_nom.data.strip(),
            "representant_prenom": self.representant_prenom.data.strip(),
            "representant_qualite": self.representant_qualite.data.strip(),
            "agrements": _texte(self.agrements.data),
            "reconnue_utilite_publique": bool(self.reconnue_utilite_publique.data),
            "nb_benevoles": self.nb_benevoles.data,
            "nb_salaries": self.nb_salaries.data,
            "etp_salaries": self.etp_salaries.data,
            "nb_volontaires": self.nb_volontaires.data,
            "nb_adherents": self.nb_adherents.data,
        }


class ChampsCompteBancaire(FlaskForm):
    titulaire = ligne_de_texte(
        "Titulaire du compte",
        obligatoire="Saisissez le titulaire du compte, tel qu’écrit sur le RIB.",
        description="Tel qu’il figure sur le relevé d’identité bancaire (RIB)",
    )
    iban = StringField(
        "IBAN",
        validators=[DataRequired("Saisissez l’IBAN du compte."), Iban()],
        description="Compte en France ou dans la zone SEPA ; les espaces sont acceptés, par exemple "
        "FR76 3000 6000 0112 3456 7890 189",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    bic = StringField(
        "BIC",
        validators=[DataRequired("Saisissez le BIC (code SWIFT) de la banque."), Bic()],
        description="8 ou 11 caractères, par exemple CRLYFRPPXXX",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    domiciliation = ligne_de_texte("Domiciliation (facultatif)", description="Nom de l’agence bancaire")

    def donnees_compte(self) -> dict:
        return {
            "titulaire": self.titulaire.data.strip(),
            "iban": normaliser_iban(self.iban.data),
            "bic": normaliser_bic(self.bic.data),
            "domiciliation": _texte(self.domiciliation.data),
        }


class InscriptionStructureForm(ChampsStructure, ChampsCompteBancaire):
    role_declarant = BoutonsRadio(
        "Êtes-vous habilité à signer pour la structure ?",
        choices=[
            SelectChoice(
                SIGNATAIRE,
                "Oui : je suis son représentant légal, ou j’ai reçu délégation pour signer en son nom",
            ),
            SelectChoice(CONTRIBUTEUR, "Non : je prépare les demandes, une autre personne les signera"),
        ],
        validators=[InputRequired("Indiquez si vous êtes habilité à signer pour la structure.")],
        description="Seul un signataire peut attester une demande sur l’honneur et la transmettre.",
    )


class ModifierStructureForm(ChampsStructure):
    # Empreinte de la fiche telle qu'elle a été lue : une modification concurrente est détectée à l'envoi.
    empreinte = HiddenField()


class CompteBancaireForm(ChampsCompteBancaire):
    pass


class DemandeAccesForm(FlaskForm):
    message = texte_libre(
        "Message à l’administrateur (facultatif)",
        max=1000,
        message_longueur="Le message compte 1 000 caractères au plus.",
        description="Présentez-vous : votre fonction dans la structure, pourquoi vous demandez l’accès.",
    )


class InvitationForm(FlaskForm):
    email = courriel(
        "Adresse électronique de la personne invitée",
        obligatoire="Saisissez l’adresse électronique de la personne à inviter.",
        description=AIDE_COURRIEL,
    )
    role = BoutonsRadio(
        "Rôle dans la structure",
        choices=CHOIX_ROLES,
        validators=[InputRequired("Choisissez le rôle de la personne invitée.")],
    )


class RoleForm(FlaskForm):
    # Le choix est vérifié par AnyOf, en français (celui de SelectField dit « Not a valid choice »).
    role = ListeDeChoix(
        "Rôle",
        choices=CHOIX_ROLES,
        validate_choice=False,
        validators=[AnyOf([SIGNATAIRE, CONTRIBUTEUR], "Choisissez un rôle : signataire ou contributeur.")],
    )


class DecisionAccesForm(FlaskForm):
    role = BoutonsRadio(
        "Rôle à lui donner si vous acceptez",
        choices=CHOIX_ROLES,
        default=CONTRIBUTEUR,
        validators=[InputRequired("Choisissez le rôle à donner.")],
    )
    # « accepter » ou « refuser » : porté par le bouton cliqué, jamais rendu comme champ (pas de hidden_tag)
    decision = StringField()

    def validate_decision(self, champ):
        if champ.data not in ("accepter", "refuser"):
            raise ValidationError("Choisissez d’accepter ou de refuser la demande.")
