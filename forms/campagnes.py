"""Formulaire d'une campagne (appel à projets) : champs généraux, questions d'éligibilité, pièces
requises, financeurs participants et leur enveloppe.

Les pièces et les enveloppes dépendent du contrat : `campagne_form()` ajoute un champ par type de pièce
et par financeur possible. Ajouter un champ général (un seuil, par exemple) : le déclarer dans
`CampagneForm`, l'ajouter à `CHAMPS_GENERAUX` (ordre d'affichage) et à `dauphin.services.campagnes.CHAMPS`.
"""

from __future__ import annotations

import re

from wtforms import BooleanField, FieldList, FormField, HiddenField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from dauphin.models.structures import TypePiece
from forms.champs import (
    OUI_NON,
    ListeDeChoix,
    MontantField,
    SaisieGardee,
    Suit,
    VersionForm,
    date_requise,
    ligne_de_texte,
    liste_d_identifiants,
    options,
    texte_libre,
)
from forms.validators import FormulaireSimple

EXERCICE_MIN, EXERCICE_MAX = 2015, 2100
QUESTIONS_MAX = 30
# Pièces qu'un porteur fournit au dépôt (la convention et le récépissé viennent après).
PIECES_DEPOT = tuple(type_piece.value for type_piece in TypePiece if type_piece.deposee_par_la_structure)
EXIGENCES = options([("", "Non demandée"), ("obligatoire", "Obligatoire"), ("facultative", "Facultative")])


class AnneeField(SaisieGardee):
    """Une année sur quatre chiffres."""

    inputmode = "numeric"
    message = "Saisissez l’exercice sur quatre chiffres, par exemple 2027."

    def lire(self, texte: str) -> int:
        if not (texte.isascii() and re.fullmatch(r"\d{4}", texte)):
            raise ValueError(texte)
        return int(texte)


class QuestionForm(FormulaireSimple):
    id = HiddenField()
    libelle = texte_libre(
        "Question",
        max=500,
        message_longueur="Une question compte 500 caractères au plus.",
        render_kw={"rows": 2},
    )
    reponse_attendue = ListeDeChoix("Réponse attendue pour être éligible", choices=OUI_NON, default="oui")
    supprimer = BooleanField("Supprimer cette question")

    @property
    def question_id(self) -> int | None:
        valeur = (self.id.data or "").strip()
        return int(valeur) if valeur.isascii() and valeur.isdigit() and len(valeur) < 10 else None

    @property
    def vide(self) -> bool:
        return not self.libelle.data and self.question_id is None


class CampagneForm(VersionForm):
    CHAMPS_GENERAUX = ("contrat_id", "libelle", "exercice", "date_ouverture", "date_cloture", "description")

    contrat_id = liste_d_identifiants(
        "Contrat de ville", validators=[InputRequired("Choisissez le contrat de ville.")]
    )
    libelle = ligne_de_texte(
        "Intitulé de la campagne",
        obligatoire="Indiquez l’intitulé de la campagne.",
        message_longueur="L’intitulé compte 200 caractères au plus.",
        description="Par exemple : Appel à projets 2027 du contrat de ville de Lille.",
    )
    exercice = AnneeField("Exercice (année de réalisation des actions)", description="Par exemple 2027.")
    date_ouverture = date_requise("Ouverture du dépôt", "Indiquez la date d’ouverture du dépôt.")
    date_cloture = date_requise(
        "Clôture du dépôt (incluse)",
        "Indiquez la date de clôture du dépôt.",
        aide="Le dépôt reste possible jusqu’à minuit, heure de Paris.",
        suit=Suit("date_ouverture", "La date de clôture doit suivre la date d’ouverture."),
    )
    description = texte_libre(
        "Présentation de l’appel à projets (facultatif)",
        max=10000,
        message_longueur="La présentation compte 10 000 caractères au plus.",
    )
    questions = FieldList(FormField(QuestionForm), min_entries=0, max_entries=QUESTIONS_MAX)

    def validate_exercice(self, champ):
        if champ.process_errors:
            raise StopValidation()
        if champ.data is None:
            raise StopValidation("Indiquez l’exercice de la campagne.")
        if not EXERCICE_MIN <= champ.data <= EXERCICE_MAX:
            raise ValidationError(f"L’exercice est une année entre {EXERCICE_MIN} et {EXERCICE_MAX}.")

    def validate_questions(self, champ):
        for entree in champ.entries:
            question = entree.form
            if question.question_id is not None and not question.libelle.data and not question.supprimer.data:
                question.libelle.errors.append("Écrivez la question, ou cochez « Supprimer cette question ».")
                raise ValidationError("Une question est vide.")

    # --- Champs ajoutés selon le contrat ---------------------------------------------------------

    def champs_pieces(self):
        return [getattr(self, nom) for nom in self._noms_pieces]

    def champs_enveloppes(self):
        return [getattr(self, nom) for nom in self._noms_enveloppes]

    def champ_piece(self, type_piece: str):
        return getattr(self, f"piece_{type_piece}", None)

    def champ_enveloppe(self, organisation_id: int):
        return getattr(self, f"enveloppe_{organisation_id}", None)

    def pieces_choisies(self) -> dict[str, bool]:
        """{type de pièce: obligatoire} pour les pièces demandées."""
        return {
            nom.removeprefix("piece_"): getattr(self, nom).data == "obligatoire"
            for nom in self._noms_pieces
            if getattr(self, nom).data in ("obligatoire", "facultative")
        }

    def enveloppes_saisies(self) -> dict[int, object]:
        """{organisation: montant} pour les financeurs dont l'enveloppe est remplie."""
        return {
            int(nom.removeprefix("enveloppe_")): getattr(self, nom).data
            for nom in self._noms_enveloppes
            if getattr(self, nom).data is not None
        }

    def libelle_de_question(self, champ: str | None):
        """Le champ « Question » de l'entrée que nomme `question_<id>` (un problème du service sur une
        question déjà enregistrée), ou None."""
        if not (champ or "").startswith("question_"):
            return None
        identifiant = champ.removeprefix("question_")
        entree = next(
            (e.form for e in self.questions.entries if str(e.form.question_id) == identifiant), None
        )
        return entree.libelle if entree is not None else None

    def numeroter_questions(self) -> None:
        """Chaque champ d'une question nomme son numéro (« Question 2 », « Réponse attendue à la question
        2 ») : un lecteur d'écran qui va de champ en champ sait à quelle question il est."""
        for numero, entree in enumerate(self.questions.entries, start=1):
            question = entree.form
            question.libelle.label.text = f"Question {numero}"
            question.reponse_attendue.label.text = (
                f"Réponse attendue à la question {numero} pour être éligible"
            )
            question.supprimer.label.text = f"Supprimer la question {numero}"

    def questions_gardees(self) -> list[QuestionForm]:
        return [e.form for e in self.questions.entries if not e.form.supprimer.data and e.form.libelle.data]


def campagne_form(types_pieces, financeurs, donnees=None, **kwargs) -> CampagneForm:
    """Le formulaire avec un choix par type de pièce et un montant par financeur possible.

    `types_pieces` : [(valeur, libellé)] ; `financeurs` : [(id, nom)]."""

    class Formulaire(CampagneForm):
        _noms_pieces = tuple(f"piece_{valeur}" for valeur, _ in types_pieces)
        _noms_enveloppes = tuple(f"enveloppe_{organisation_id}" for organisation_id, _ in financeurs)

    for valeur, libelle in types_pieces:
        setattr(Formulaire, f"piece_{valeur}", ListeDeChoix(libelle, choices=EXIGENCES, default=""))
    for organisation_id, nom in financeurs:
        setattr(
            Formulaire,
            f"enveloppe_{organisation_id}",
            MontantField(
                f"Enveloppe de {nom} (en euros)",
                description="Laissez vide si ce financeur ne participe pas à la campagne.",
            ),
        )
    return Formulaire(formdata=donnees, **kwargs)
