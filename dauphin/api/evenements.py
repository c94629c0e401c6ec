"""Le flux des changements : `GET /api/v1/evenements?apres=<curseur>&limite=N`.

Les événements (transitions et changements journalisés) des dossiers que l'organisation du jeton voit,
dans l'ordre de leur validation, chacun une fois : voir `dauphin.services.evenements`."""

from __future__ import annotations

from flask import g
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from dauphin.api import bp, registre
from dauphin.api.openapi import operation
from dauphin.api.schemas import Sortie
from dauphin.services import evenements as service

EXEMPLE_CURSEUR = "eyJ2IjogMSwgInAiOiA0MTgyfQ"


class FiltresEvenements(Schema):
    class Meta:
        unknown = EXCLUDE

    apres = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "Le `curseur` de la réponse précédente ; absent : depuis le début du flux.",
            "example": EXEMPLE_CURSEUR,
        },
    )
    limite = fields.Integer(
        load_default=service.LIMITE_DEFAUT,
        validate=validate.Range(1, service.LIMITE_MAX),
        metadata={"description": f"Événements par page, {service.LIMITE_MAX} au plus.", "example": 100},
    )


class OrganisationEvenement(Sortie):
    id = fields.Integer(required=True, metadata={"example": 3})
    nom = fields.String(required=True, metadata={"example": "Préfecture de la Seine-Saint-Denis"})


class JetonEvenement(Sortie):
    id = fields.Integer(required=True, metadata={"example": 12})
    libelle = fields.String(required=True, metadata={"example": "Logiciel financier"})


class DemandeEvenement(Sortie):
    id = fields.Integer(required=True, metadata={"example": 1204})
    numero = fields.String(required=True, metadata={"example": "2026-001204"})


class LigneEvenement(Sortie):
    id = fields.Integer(required=True, metadata={"example": 3377})
    financeur = fields.Nested(OrganisationEvenement, required=True)


class ActeurEvenement(Sortie):
    role = fields.String(
        required=True,
        metadata={
            "description": "La qualité en laquelle il a agi : signataire, contributeur, administrateur, "
            "instructeur, partenaire, pilote, administrateur_national, ou systeme (statut dérivé, tâche).",
            "example": "instructeur",
        },
    )
    nom = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Vide : le système.", "example": "Anne Martin"},
    )
    organisation = fields.Nested(
        OrganisationEvenement,
        required=True,
        allow_none=True,
        metadata={"description": "L'organisation au nom de laquelle il a agi (vide pour un porteur)."},
    )
    jeton = fields.Nested(
        JetonEvenement,
        required=True,
        allow_none=True,
        metadata={"description": "Le jeton d'API par lequel il a agi ; vide pour une action à l'écran."},
    )


class EvenementFlux(Sortie):
    """Un événement du flux : le corps de chaque webhook a exactement cette forme."""

    id = fields.Integer(
        required=True,
        metadata={"description": "Identifiant stable (clé de dédoublonnage).", "example": 4182},
    )
    type = fields.String(
        required=True,
        metadata={
            "description": "« demande.<action> » ou « ligne.<action> » (action : le déclencheur du workflow "
            "ou le changement journalisé, par exemple ligne.voter, ligne.verser_avance, demande.attester, "
            "ligne.enregistrer_engagement).",
            "example": "ligne.voter",
        },
    )
    action = fields.String(required=True, metadata={"description": "Libellé français.", "example": "Voter"})
    date = fields.String(
        required=True,
        metadata={
            "format": "date-time",
            "description": "Instant, UTC.",
            "example": "2026-04-14T09:12:03.520000Z",
        },
    )
    demande = fields.Nested(DemandeEvenement, required=True)
    ligne = fields.Nested(
        LigneEvenement,
        required=True,
        allow_none=True,
        metadata={"description": "La ligne de financement concernée ; vide pour un événement du dossier."},
    )
    statut_avant = fields.String(required=True, metadata={"example": "recevable"})
    statut_apres = fields.String(
        required=True,
        metadata={
            "description": "Égal à `statut_avant` pour un changement sans transition (engagement, échéance).",
            "example": "votee",
        },
    )
    acteur = fields.Nested(ActeurEvenement, required=True)
    commentaire = fields.String(
        required=True, allow_none=True, metadata={"example": "Montant voté en comité du 14/04/2026."}
    )


class PageEvenements(Sortie):
    evenements = fields.List(fields.Nested(EvenementFlux), required=True)
    curseur = fields.String(
        required=True,
        metadata={
            "description": "À renvoyer en `apres` à la requête suivante (à garder même si la page est vide).",
            "example": EXEMPLE_CURSEUR,
        },
    )
    suite = fields.Boolean(
        required=True,
        metadata={"description": "Vrai : d'autres événements attendent déjà, relancez tout de suite."},
    )


@operation(
    bp,
    registre,
    "/evenements",
    resume="Suivre le flux des changements",
    etiquette="Flux des changements",
    parametres=FiltresEvenements,
    reponse=PageEvenements,
    portee="lecture",
)
def lister_evenements(filtres: dict):
    """Chaque transition et chaque changement journalisé (dépôt, attestation, avis, vote et décision du
    comité, acte, engagement, échéancier, versements, compte rendu validé ou renvoyé…) des dossiers que
    l’organisation voit, dans l’ordre de leur validation, chacun avec un identifiant stable. Reprendre avec
    le `curseur` de la dernière réponse ne manque rien et ne redonne rien, même quand des transactions
    valident dans un autre ordre que celui de leurs identifiants. Le travail du porteur avant la
    transmission n’y figure pas. Un curseur illisible : 400."""
    try:
        apres = service.position_du_curseur(filtres.get("apres"))
    except service.CurseurInvalide as erreur:
        raise ValidationError({"apres": [str(erreur)]}) from None
    evenements, reprise, suite = service.lire(g.jeton, apres, filtres["limite"])
    return {"evenements": evenements, "curseur": service.curseur(reprise), "suite": suite}
