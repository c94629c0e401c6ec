"""Formulaires de l'instruction : actions sur une ligne de financement ou sur le dossier, notes, filtres.

Chaque formulaire d'action porte la `version` lue (champ caché) : une action faite sur une page périmée
est refusée par le service (conflit) au lieu d'écraser ce qu'un autre a enregistré entre-temps.
Sur la page d'un dossier plusieurs formulaires coexistent : chacun reçoit un préfixe (`prefixe()`) qui
rend ses identifiants uniques, et la page d'action dédiée réutilise le même préfixe.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired

from forms.champs import (
    BoutonsRadio,
    ListeDeChoix,
    VersionForm,
    liste_d_identifiants,
    montant_requis,
    motif,
    options,
    recherche,
    texte_libre,
)
from forms.validators import FormulaireSimple

# Une action sans saisie (prendre en charge) : la version lue suffit.
ActionForm = VersionForm


def prefixe(action: str, objet_id: int) -> str:
    return f"{action}-{objet_id}"


class RecevableForm(VersionForm):
    montant = montant_requis(
        "Montant proposé (en euros)",
        "Indiquez le montant proposé.",
        description="Au plus le montant demandé à votre organisation. Exemple : 4 500 ou 4 500,50.",
    )
    commentaire = texte_libre(
        "Observations (facultatif)",
        description="Visibles des financeurs et partenaires du contrat, pas du porteur.",
    )


class NonRecevableForm(VersionForm):
    commentaire = motif(
        "de non-recevabilité",
        description="Visible des financeurs et partenaires du contrat, pas du porteur avant la décision.",
    )


class RevisionForm(VersionForm):
    commentaire = texte_libre(
        "Raison de la révision (facultatif)",
        description="La ligne revient « prise en charge » : vous pourrez donner un nouvel avis.",
    )


class CorrectionVoteForm(VersionForm):
    montant = montant_requis(
        "Montant voté corrigé (en euros)",
        "Indiquez le montant voté corrigé.",
        description="Au plus le montant demandé et le reste de votre enveloppe. Exemple : 4 500 ou 4 500,50.",
    )
    commentaire = motif(
        "de la correction",
        description="La décision du comité est close : la correction est journalisée avec son motif.",
    )


class AnnulationVoteForm(VersionForm):
    commentaire = motif(
        "de l’annulation",
        description="La ligne devient « refusée » ; la correction est journalisée avec son motif.",
    )


class GestionnaireForm(VersionForm):
    gestionnaire_id = liste_d_identifiants(
        "Gestionnaire du dossier",
        description="Un instructeur de votre organisation, qui suit ce dossier.",
    )


class ComplementsForm(VersionForm):
    commentaire = texte_libre(
        "Message au porteur",
        obligatoire="Écrivez le message adressé au porteur.",
        description="Envoyé par courriel au porteur : dites précisément ce qu’il doit compléter ou modifier.",
    )


class ClassementForm(VersionForm):
    commentaire = motif(
        "du classement sans suite",
        description="Communiqué au porteur par courriel. Le classement est définitif.",
    )


class RetourJustificationForm(VersionForm):
    commentaire = texte_libre(
        "Message au porteur",
        obligatoire="Écrivez ce que le porteur doit modifier.",
        description="Envoyé par courriel au porteur, qui modifie le compte rendu puis l’atteste de nouveau.",
    )


class NoteForm(FlaskForm):
    texte = texte_libre("Note", obligatoire="Écrivez le texte de la note.")
    visibilite = BoutonsRadio(
        "Visibilité",
        choices=options(
            [
                ("partagee", "Partagée avec tous les partenaires du contrat de ville"),
                ("privee", "Privée : seule mon organisation la lit"),
            ]
        ),
        default="partagee",
        validators=[InputRequired("Choisissez qui peut lire la note.")],
    )
    organisation_id = liste_d_identifiants("Au nom de")


class FiltresForm(FormulaireSimple):
    """Filtres de la liste (GET, sans jeton CSRF). Une valeur inconnue est ignorée, jamais une erreur.

    Le statut (du dossier, ou de la ligne de l'organisation : deux groupes d'options dans une même liste)
    est lu et rendu par la vue, WTForms ne sachant pas mêler une option « tous » et des groupes."""

    q = recherche(
        # 3 : dauphin.services.instruction.RECHERCHE_MIN (un test vérifie que l'indication le suit)
        description="Numéro, intitulé ou nom de la structure (au moins 3 caractères), ou sigle exact",
    )
    contrat = ListeDeChoix("Contrat de ville", choices=[])
    exercice = ListeDeChoix("Exercice", choices=[])
    thematique = ListeDeChoix("Thématique", choices=[])
    qpv = ListeDeChoix("Quartier prioritaire", choices=[])
    gestionnaire = ListeDeChoix(
        "Gestionnaire",
        choices=options([("", "Tous les dossiers"), ("moi", "Les dossiers dont je suis gestionnaire")]),
    )
