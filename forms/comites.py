"""Formulaires du comité de pilotage : séance, ordre du jour, vote d'une organisation, montant d'une ligne,
feuille de présence.

Chaque formulaire porte la version lue (champ caché) : un vote ou un montant saisi sur une page périmée
est refusé avec un message de conflit au lieu d'écraser la saisie d'un collègue. `VersionForm` seul sert
aux actions sans autre saisie (ouvrir le vote, clore, retirer un point).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Optional

from forms.champs import (
    BoutonsRadio,
    VersionForm,
    date_requise,
    ligne_de_texte,
    liste_d_identifiants,
    montant_requis,
    options,
    texte_libre,
)
from forms.demande import CasesACocher


class SeanceForm(FlaskForm):
    campagne_id = liste_d_identifiants(
        "Campagne",
        validators=[InputRequired("Choisissez la campagne dont les dossiers passent en comité.")],
        description="Le contrat de ville et l’exercice de la séance.",
    )
    date_seance = date_requise("Date de la séance", "Indiquez la date de la séance (jj/mm/aaaa).")
    lieu = ligne_de_texte("Lieu (facultatif)", message_longueur="200 caractères au plus.")


class InscriptionForm(VersionForm):
    demandes = CasesACocher(
        "Dossiers instruits à inscrire à l’ordre du jour",
        coerce=int,
        validators=[InputRequired("Cochez au moins un dossier.")],
    )


class VoteForm(VersionForm):
    choix = BoutonsRadio(
        "Vote de votre organisation",
        choices=options(
            [
                ("pour", "Pour"),
                ("contre", "Contre"),
                ("abstention", "Abstention"),
                ("recusation", "Ne prend pas part au vote (conflit d’intérêts)"),
            ]
        ),
        validators=[InputRequired("Choisissez pour, contre, abstention ou récusation.")],
    )
    motif = texte_libre(
        "Raison de la récusation",
        description="Obligatoire en cas de récusation : par exemple un élu membre du bureau de la structure.",
    )


class MontantForm(VersionForm):
    montant = montant_requis(
        "Montant proposé au vote (en euros)",
        "Indiquez le montant, 0 si votre organisation ne finance pas.",
        description="Au plus le montant demandé et le reste de votre enveloppe.",
    )


CHOIX_PRESENCE = options(
    [
        ("present", "Présente"),
        ("represente", "Représentée"),
        ("excuse", "Excusée"),
        ("absent", "Absente"),
    ]
)


def presences_form(partenaires, presences: dict, version=None, *, envoye=False):
    """La feuille de présence : pour chaque organisation partenaire (`partenaires`, dans l'ordre de la
    page), sa présence (« presence_<id> », facultative : pas encore indiquée) et la personne qui siège
    (« representant_<id> »). À l'affichage, les valeurs de `presences` {organisation : PresenceComite} et
    la `version` de la séance ; `envoye` : la saisie de la requête."""

    class Formulaire(VersionForm):
        pass

    for organisation in partenaires:
        setattr(
            Formulaire,
            f"presence_{organisation.id}",
            BoutonsRadio(organisation.nom, choices=CHOIX_PRESENCE, validators=[Optional()]),
        )
        setattr(
            Formulaire,
            f"representant_{organisation.id}",
            ligne_de_texte(
                f"Personne qui siège pour {organisation.nom} (facultatif)",
                description="Son nom et sa fonction, si l’organisation est présente ou représentée.",
                message_longueur="200 caractères au plus.",
            ),
        )
    if envoye:
        return Formulaire()
    valeurs = {"version": version}
    for organisation_id, presence in presences.items():
        valeurs[f"presence_{organisation_id}"] = presence.statut.value
        valeurs[f"representant_{organisation_id}"] = presence.representant
    return Formulaire(formdata=None, **valeurs)


def saisie_des_presences(form, partenaires) -> dict[int, tuple[str | None, str | None]]:
    """{organisation : (présence, personne qui siège)} tels que le formulaire validé les a lus."""
    return {
        organisation.id: (
            form[f"presence_{organisation.id}"].data,
            form[f"representant_{organisation.id}"].data,
        )
        for organisation in partenaires
    }
