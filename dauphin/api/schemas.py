"""Schémas marshmallow de l'API : ils valident les entrées, mettent en forme les sorties et produisent le
document OpenAPI (apispec) — déclarés une seule fois."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates

from dauphin import libelles
from dauphin.api import messages  # noqa: F401 (les messages de validation en français, avant les schémas)
from dauphin.models import ChoixVote, DecisionPoint, FormeJuridique, StatutSeance
from dauphin.services import curseurs, donnees_ouvertes
from dauphin.services.api import DECLENCHEURS_LIGNE
from workflows import StatutDemande, StatutLigne

ID_MAX = 2_147_483_647  # entier SQL : au-delà, la base refuserait la valeur
TEXTE_MAX = 5000


def _sans_caractere_nul(valeur: str) -> None:
    if "\x00" in valeur:
        raise ValidationError("Le texte ne doit pas contenir de caractère nul.")


MONTANT_MAX = 999_999_999_999


def _montant_borne(valeur: Decimal) -> None:
    # Validateur écrit à la main : apispec écrirait les bornes d'un Range sur Decimal en chaînes.
    if not 0 <= valeur <= MONTANT_MAX:
        raise ValidationError(f"Le montant doit être compris entre 0 et {MONTANT_MAX} €.")


def instant_raisonnable(valeur: datetime) -> None:
    if not 1900 <= valeur.year <= 9000:
        raise ValidationError("Indiquez un instant entre 1900 et 9000.")


def modifie_depuis() -> fields.AwareDateTime:
    return fields.AwareDateTime(
        default_timezone=UTC,
        metadata={
            "description": "Seulement ce qui a été modifié depuis cet instant, inclus (ISO 8601, UTC par "
            "défaut) : un logiciel ne relit que ce qui a changé depuis son dernier passage.",
            "example": "2026-03-01T00:00:00Z",
        },
    )


def _curseur_valide(valeur: str) -> None:
    if valeur and curseurs.lire(valeur) is None:  # vide : la première page
        raise ValidationError("Curseur inconnu : reprenez celui qu’a rendu la page précédente (`suivant`).")


def curseur() -> fields.String:
    return fields.String(
        validate=[validate.Length(max=200), _curseur_valide],
        metadata={
            "description": "Le curseur `suivant` de la page précédente (opaque) ; absent : la première page.",
            "example": "MjAyNi0wMy0wMVQxMDowMDowMCswMDowMHw0Mg",
        },
    )


def par_page(defaut: int = 25) -> fields.Integer:
    return fields.Integer(
        load_default=defaut,
        validate=validate.Range(1, 100),
        metadata={"description": "Nombre d’éléments par page, 100 au plus.", "example": 50},
    )


# Un exemple par nom de champ, pour ceux qui n'en déclarent pas (metadata["example"]) : le document
# OpenAPI en donne un à chaque champ simple (`openapi.exemple`, vérifié par tests/test_api_document.py).
EXEMPLES = {
    "id": 42,
    "q": "jeunes quartier",
    "code": "QN06901M",
    "libelle": "Contrat de ville de Lyon",
    "nom": "Préfecture du Rhône",
    "nom_complet": "Camille Martin",
    "siret": "44306184100047",
    "raison_sociale": "Association Les Pentes",
    "sigle": "ALP",
    "numero": "2026-000042",
    "intitule": "Ateliers de quartier",
    "exercice": 2026,
    "contrat": 3,
    "statut": "en_instruction",
    "statut_ligne": "recevable",
    "statut_libelle": "En instruction",
    "version": 3,
    "transmise_le": "2026-02-10T14:03:00+00:00",
    "modifie_le": "2026-03-01T10:00:00+00:00",
    "cree_le": "2026-03-01T10:00:00+00:00",
    "horodatage": "2026-03-01T10:00:00+00:00",
    "objectifs": "Rompre l’isolement des habitants du quartier.",
    "description": "Douze ateliers de cuisine et de couture, de mars à novembre.",
    "public_cible": "Habitants du QPV, familles monoparentales.",
    "nb_beneficiaires": 120,
    "thematique_code": "1.2",
    "date_debut": "2026-03-01",
    "date_fin": "2026-11-30",
    "vote_le": "2026-03-20",
    "convention_requise": False,
    "motif_avis": "Projet conforme au contrat de ville.",
    "montant": "4500.00",
    "declencheur": "declarer_recevable",
    "commentaire": "Bon projet, montant ajusté au budget.",
    "action": "Déclarer recevable",
    "ligne_id": 1207,
    "statut_avant": "prise_en_charge",
    "statut_apres": "recevable",
    "role": "instructeur",
    "partagee": True,
    "texte": "Pièces vérifiées, RAS.",
    "par_page": 50,
    "total": 120,
    "financeur": 3,
    "schema_scdl": "http://localhost/static/schemas/scdl-subventions-2.1.1.json",
    "erreur": "Ressource introuvable, ou hors du périmètre de votre organisation.",
    "details": {"montant": ["Le montant doit être compris entre 0 et 999999999999 €."]},
    "payes": True,
    "ligne": 1207,
    "suite": False,
    # Colonnes SCDL sans exemple dans le schéma officiel
    "idSubvention": "2026-000042-3",
    "pluriannualite": "non",
    "referenceDecision": "Comité de pilotage du 20/03/2026",
    "dispositif": "Politique de la ville",
    "sousDispositif": "Appel à projets 2026",
    "statutLabel": "attribuée",
    "nomOutilInstruction": "Dauphin",
    "nomOutilVersement": "Chorus",
    "cléVersement": "2100123456",
    "descriptionConditionsVersement": "Avance de 50 % à la notification, solde sur compte rendu.",
    "cofinancement": "oui",
    "attribuantsCofinanceurs": "21690123100011",
    "idCofinancement": "2026-000042",
    "evaluation": "Compte rendu financier validé.",
    "dateMiseAJour": "2026-04-15",
}


class Entree(Schema):
    class Meta:
        unknown = RAISE


class Sortie(Schema):
    class Meta:
        ordered = True


# --- Entrées -----------------------------------------------------------------------------------


class FiltresDemandes(Schema):
    class Meta:
        unknown = EXCLUDE  # un paramètre inconnu dans l'URL est ignoré, comme à l'écran

    exercice = fields.Integer(
        validate=validate.Range(2000, 2100), metadata={"description": "Exercice budgétaire (année)."}
    )
    contrat = fields.Integer(
        validate=validate.Range(1, ID_MAX), metadata={"description": "Identifiant du contrat de ville."}
    )
    statut = fields.String(
        validate=validate.OneOf([s.value for s in StatutDemande]),
        metadata={"description": "Statut du dossier."},
    )
    statut_ligne = fields.String(
        validate=validate.OneOf([s.value for s in StatutLigne]),
        metadata={"description": "Statut de la ligne de financement de votre organisation."},
    )
    q = fields.String(
        validate=validate.Length(1, 100),
        metadata={
            "description": "Recherche libre, comme dans l’espace d’instruction : mots de l’intitulé ou du "
            "nom de la structure (plein texte en français, sans accents), numéro (entier ou morceau), "
            "SIRET, sigle. L’ordre reste celui des pages (dernière modification, puis identifiant)."
        },
    )
    modifie_depuis = modifie_depuis()
    apres = curseur()
    par_page = par_page()

    @validates("modifie_depuis")
    def _instant_raisonnable(self, valeur: datetime, **kwargs) -> None:
        instant_raisonnable(valeur)


class Transition(Entree):
    declencheur = fields.String(
        required=True,
        validate=validate.OneOf(DECLENCHEURS_LIGNE),
        metadata={"description": "L’action d’instruction à faire sur la ligne de votre organisation."},
    )
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, ID_MAX),
        metadata={"description": "La version de la ligne que vous avez lue (verrou optimiste)."},
    )
    commentaire = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=TEXTE_MAX), _sans_caractere_nul],
        metadata={"description": "Observations, ou motif (obligatoire pour « declarer_non_recevable »)."},
    )
    montant = fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=_montant_borne,
        metadata={
            "description": "Montant proposé en euros (obligatoire pour « declarer_recevable »).",
            "minimum": 0,
            "maximum": MONTANT_MAX,
        },
    )


# --- Sorties -----------------------------------------------------------------------------------


def montant(**options) -> fields.Decimal:
    """Un montant en sortie : une chaîne décimale exacte (« 4500.50 »), jamais un flottant."""
    metadata = {
        "type": "string",
        "format": "decimal",
        "description": "En euros, deux décimales.",
        "example": "4500.00",
        **options.pop("metadata", {}),
    }
    return fields.Decimal(as_string=True, metadata=metadata, **options)


class Reference(Sortie):
    id = fields.Integer(required=True)
    code = fields.String()
    libelle = fields.String()


class OrganisationRef(Sortie):
    id = fields.Integer(required=True)
    nom = fields.String(required=True)


class StructureRef(Sortie):
    id = fields.Integer(required=True)
    siret = fields.String(required=True)
    raison_sociale = fields.String(required=True)
    sigle = fields.String(allow_none=True)


class JetonRef(Sortie):
    id = fields.Integer(required=True, metadata={"example": 5})
    libelle = fields.String(required=True, metadata={"example": "Logiciel financier"})


class Personne(Sortie):
    id = fields.Integer(required=True)
    nom_complet = fields.String(required=True)


def _libelle_statut(objet) -> str:
    return objet.statut.libelle


class LigneResume(Sortie):
    id = fields.Integer(required=True)
    organisation = fields.Nested(OrganisationRef, required=True)
    statut = fields.String(required=True)
    statut_libelle = fields.Function(_libelle_statut, metadata={"type": "string"})
    version = fields.Integer(required=True)
    montant_demande = montant(required=True)


class Ligne(LigneResume):
    montant_propose = montant(allow_none=True)
    motif_avis = fields.String(allow_none=True)
    montant_vote = montant(allow_none=True)
    vote_le = fields.Date(allow_none=True)
    montant_verse = montant(allow_none=True)
    convention_requise = fields.Boolean()
    gestionnaire = fields.Nested(Personne, allow_none=True)


class DemandeResume(Sortie):
    id = fields.Integer(required=True)
    numero = fields.String(required=True)
    intitule = fields.String(allow_none=True)
    exercice = fields.Integer(required=True)
    statut = fields.String(required=True)
    statut_libelle = fields.Function(_libelle_statut, metadata={"type": "string"})
    version = fields.Integer(required=True)
    structure = fields.Nested(StructureRef, required=True)
    contrat = fields.Nested(Reference, attribute="campagne.contrat", required=True)
    campagne = fields.Nested(Reference, required=True)
    transmise_le = fields.AwareDateTime(allow_none=True)
    modifie_le = fields.AwareDateTime(required=True)
    lignes = fields.List(fields.Nested(LigneResume), attribute="lignes_financement", required=True)


class FiltresListe(Schema):
    """Les paramètres communs des listes : `modifie_depuis`, `apres`, `par_page`."""

    class Meta:
        unknown = EXCLUDE

    modifie_depuis = modifie_depuis()
    apres = curseur()
    par_page = par_page(50)

    @validates("modifie_depuis")
    def _instant_raisonnable(self, valeur: datetime, **kwargs) -> None:
        instant_raisonnable(valeur)


class FiltresProgrammation(FiltresListe):
    class Meta:
        unknown = RAISE

    statut = fields.String(
        validate=validate.OneOf([s.value for s in StatutDemande]),
        metadata={"description": "Seulement les demandes à ce statut."},
    )


class MontantsProgrammation(Sortie):
    demande = montant(required=True)
    propose = montant(required=True)
    vote = montant(required=True)
    verse = montant(required=True)


class MontantsFinanceur(MontantsProgrammation):
    financeur = fields.Integer(
        required=True, metadata={"description": "Identifiant de l’organisation financeuse.", "example": 3}
    )


class ContratProgrammation(Sortie):
    code = fields.String(required=True, metadata={"example": "CV-69-LYON"})
    libelle = fields.String(required=True, metadata={"example": "Contrat de ville de Lyon"})


class StructureProgrammation(Sortie):
    nom = fields.String(required=True, metadata={"example": "Association Les Pentes"})
    siret = fields.String(required=True, metadata={"example": "44306184100047"})


class ThematiqueProgrammation(Sortie):
    code = fields.String(required=True, allow_none=True, metadata={"example": "1.2"})
    libelle = fields.String(required=True, allow_none=True, metadata={"example": "Réussite éducative"})


class DemandeProgrammation(Sortie):
    id = fields.Integer(required=True, metadata={"example": 42})
    numero = fields.String(required=True, metadata={"example": "2026-000042"})
    exercice = fields.Integer(required=True, metadata={"example": 2026})
    contrat = fields.Nested(ContratProgrammation, required=True)
    departement = fields.String(required=True, metadata={"example": "69"})
    structure = fields.Nested(StructureProgrammation, required=True)
    intitule = fields.String(required=True, metadata={"example": "Ateliers de quartier"})
    thematique = fields.Nested(ThematiqueProgrammation, required=True)
    pilier = fields.String(required=True, allow_none=True, metadata={"example": "1"})
    qpv = fields.List(fields.String(), required=True, metadata={"example": ["QN06901M"]})
    statut = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in StatutDemande]),
        metadata={"example": "attribuee"},
    )
    montants = fields.List(
        fields.Nested(MontantsFinanceur),
        required=True,
        metadata={
            "description": "Par financeur (dans l’ordre des colonnes) : demandé, proposé, voté, versé."
        },
    )
    total = fields.Nested(MontantsProgrammation, required=True)


class PilierProgrammation(MontantsProgrammation):
    code = fields.String(required=True, allow_none=True, metadata={"example": "1"})
    libelle = fields.String(required=True, metadata={"example": "Cohésion sociale"})
    nombre = fields.Integer(required=True, metadata={"description": "Nombre de demandes.", "example": 12})


class TotauxProgrammation(Sortie):
    financeurs = fields.List(fields.Nested(MontantsFinanceur), required=True)
    general = fields.Nested(MontantsProgrammation, required=True)
    piliers = fields.List(fields.Nested(PilierProgrammation), required=True)


class EnveloppeProgrammation(Sortie):
    financeur = fields.Integer(required=True, metadata={"example": 3})
    nom = fields.String(required=True, metadata={"example": "Préfecture du Rhône"})
    total = montant(required=True)
    engage = montant(required=True, metadata={"description": "Voté, en euros."})
    verse = montant(required=True)
    reste = montant(required=True)


def suivant() -> fields.String:
    return fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Le curseur de la page suivante, à passer en `apres` ; null : c’était la "
            "dernière page (gardez le dernier curseur et `modifie_depuis` pour votre prochain passage).",
            "example": "MjAyNi0wMy0wMVQxMDowMDowMCswMDowMHw0Mg",
        },
    )


class Programmation(Sortie):
    """La programmation d'une campagne, telle que l'écran « Programmation » la montre (montants en chaînes
    décimales exactes)."""

    campagne = fields.Integer(required=True, metadata={"example": 7})
    exercice = fields.Integer(required=True, metadata={"example": 2026})
    contrat = fields.Nested(Reference, required=True)
    financeurs = fields.List(
        fields.Nested(OrganisationRef), required=True, metadata={"description": "Les colonnes, dans l’ordre."}
    )
    demandes = fields.List(
        fields.Nested(DemandeProgrammation),
        required=True,
        metadata={"description": "Une ligne par demande transmise de la page."},
    )
    total = fields.Integer(
        required=True,
        metadata={
            "description": "Nombre de demandes de la campagne (au `statut` demandé), toutes pages, quel que "
            "soit `modifie_depuis`.",
            "example": 120,
        },
    )
    totaux = fields.Nested(TotauxProgrammation, required=True)
    enveloppes = fields.List(fields.Nested(EnveloppeProgrammation), required=True)
    suivant = suivant()


class ListeDemandes(Sortie):
    demandes = fields.List(fields.Nested(DemandeResume), required=True)
    suivant = suivant()


class Evenement(Sortie):
    id = fields.Integer(required=True)
    horodatage = fields.AwareDateTime(required=True)
    declencheur = fields.String(required=True)
    action = fields.Function(lambda e: libelles.action(e.declencheur), metadata={"type": "string"})
    ligne_id = fields.Integer(allow_none=True)
    statut_avant = fields.String(required=True)
    statut_apres = fields.String(required=True)
    acteur = fields.Nested(Personne, allow_none=True, metadata={"description": "Vide : le système."})
    role = fields.String(required=True)
    organisation = fields.Nested(OrganisationRef, allow_none=True)
    jeton = fields.Nested(
        JetonRef,
        allow_none=True,
        metadata={"description": "Le jeton d’API par lequel l’écriture a été faite."},
    )
    commentaire = fields.String(allow_none=True)


class NoteSortie(Sortie):
    id = fields.Integer(required=True)
    organisation = fields.Nested(OrganisationRef, required=True)
    auteur = fields.Nested(Personne, allow_none=True)
    partagee = fields.Boolean(required=True)
    texte = fields.String(required=True)
    cree_le = fields.AwareDateTime(required=True)


class Qpv(Sortie):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    libelle = fields.String(required=True)


class PosteBudget(Sortie):
    compte = fields.String(
        required=True, metadata={"description": "Compte du plan comptable du CERFA.", "example": "6064"}
    )
    libelle = fields.String(required=True, allow_none=True, metadata={"example": "Fournitures d’ateliers"})
    montant = montant(required=True)
    financeur_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Pour un compte 74 : le financeur.", "example": 3},
    )
    financeur_libelle = fields.String(required=True, allow_none=True, metadata={"example": None})


class DemandeDetail(DemandeResume):
    objectifs = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    public_cible = fields.String(allow_none=True)
    nb_beneficiaires = fields.Integer(allow_none=True)
    thematique_code = fields.String(allow_none=True)
    date_debut = fields.Date(allow_none=True)
    date_fin = fields.Date(allow_none=True)
    qpvs = fields.List(fields.Nested(Qpv))
    lignes = fields.List(fields.Nested(Ligne), attribute="lignes_financement", required=True)
    budget = fields.List(
        fields.Nested(PosteBudget),
        attribute="lignes_budget",
        required=True,
        metadata={"description": "Le budget prévisionnel de l’action, poste par poste."},
    )
    journal = fields.List(fields.Nested(Evenement), required=True)
    notes = fields.List(
        fields.Nested(NoteSortie),
        required=True,
        metadata={"description": "Notes partagées et notes privées de votre organisation."},
    )


# --- Données ouvertes (SCDL Subventions 2.1.1) ----------------------------------------------------


class FiltresSubventions(FiltresListe):
    class Meta:
        unknown = EXCLUDE  # un paramètre inconnu dans l'URL est ignoré, comme à l'écran

    exercice = fields.Integer(
        required=True,
        validate=validate.Range(2000, 2100),
        metadata={"description": "Exercice budgétaire (année) des subventions."},
    )
    financeur = fields.Integer(
        validate=validate.Range(1, ID_MAX),
        metadata={"description": "Seulement les subventions de ce financeur (identifiant d’organisation)."},
    )


def _description_scdl(texte: str) -> str:
    """La description d'une colonne du schéma officiel, sans ses liens (le texte d'un lien Markdown reste,
    l'adresse part) : la documentation ne renvoie vers aucune ressource extérieure."""
    texte = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", texte)
    return re.sub(r"\s*https?://\S+", "", texte).strip()


def _champ_scdl(champ: dict) -> fields.Field:
    """Une colonne du schéma SCDL en champ de sortie, décrite comme le schéma officiel la décrit."""
    metadata = {
        "description": _description_scdl(champ.get("description") or champ.get("title") or champ["name"])
    }
    contraintes = champ.get("constraints", {})
    requis = bool(contraintes.get("required"))
    options = {"required": True} if requis else {"allow_none": True}
    if "enum" in contraintes:  # une colonne facultative peut être vide : null fait partie des valeurs
        metadata["enum"] = contraintes["enum"] if requis else [*contraintes["enum"], None]
    if champ["type"] == "integer":
        if champ.get("example"):
            metadata["example"] = int(champ["example"])
        return fields.Integer(metadata=metadata, **options)
    if champ.get("example"):
        metadata["example"] = champ["example"]
    if champ["type"] == "number":
        metadata.update(type="string", format="decimal")  # un nombre décimal exact, en chaîne
    elif champ["type"] == "date":
        metadata["format"] = "date"
    if contraintes.get("pattern"):
        metadata["pattern"] = contraintes["pattern"]
    if contraintes.get("maxLength"):
        metadata["maxLength"] = contraintes["maxLength"]
    return fields.String(metadata=metadata, **options)


# Une ligne du fichier : les 40 colonnes du schéma officiel (copie du projet), sous leurs noms, dans l'ordre.
SubventionScdl = type(
    "SubventionScdl",
    (Sortie,),
    {
        "__doc__": "Une subvention engagée, au format SCDL Subventions 2.1.1 : la ligne du fichier publié.",
        **{champ["name"]: _champ_scdl(champ) for champ in donnees_ouvertes.schema()["fields"]},
    },
)


class ListeSubventions(Sortie):
    exercice = fields.Integer(required=True)
    schema_scdl = fields.String(
        required=True, metadata={"description": "Adresse du schéma SCDL (Table Schema) de ces lignes."}
    )
    subventions = fields.List(fields.Nested(SubventionScdl), required=True)
    financeurs_sans_siret = fields.List(
        fields.Nested(OrganisationRef),
        required=True,
        metadata={
            "description": "Financeurs du périmètre qui ont des subventions engagées dans l’exercice mais "
            "pas de SIRET : leurs lignes ne peuvent pas être publiées."
        },
    )
    suivant = suivant()


# --- Engagements, échéancier et paiements ----------------------------------------------------------


def _nature(v) -> str:
    return v.nature.value


class VersementSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 318})
    ligne_id = fields.Integer(required=True, metadata={"example": 1207})
    nature = fields.Function(
        _nature,
        required=True,
        metadata={"type": "string", "enum": ["avance", "solde"], "example": "avance"},
    )
    date_prevue = fields.Date(required=True, metadata={"example": "2026-04-15"})
    montant_prevu = montant(required=True)
    verse_le = fields.Date(
        required=True, allow_none=True, metadata={"description": "Vide : pas encore payée.", "example": None}
    )
    montant_verse = montant(required=True, allow_none=True)
    reference = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Mandat, demande de paiement Chorus…", "example": "DP-2026-001234"},
    )
    enregistre_le = fields.AwareDateTime(required=True, allow_none=True, metadata={"example": None})
    modifie_le = fields.AwareDateTime(required=True, metadata={"example": "2026-04-15T09:30:00+00:00"})


class LigneEngagement(Ligne):
    """Une ligne de financement avec son engagement juridique et son échéancier."""

    demande_id = fields.Integer(required=True, metadata={"example": 42})
    numero_engagement = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Numéro d’engagement juridique (Chorus ou équivalent).",
            "example": "2100123456",
        },
    )
    compte_rendu_valide = fields.Boolean(required=True, metadata={"example": False})
    acte_document_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "La notification ou la convention produite (PDF), à télécharger par "
            "`/documents/{document_id}/contenu`.",
            "example": 512,
        },
    )
    convention_document_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "La convention signée déposée.", "example": None},
    )
    echeancier = fields.List(
        fields.Nested(VersementSortie),
        required=True,
        metadata={"description": "Les échéances prévues et payées, par date prévue."},
    )


class FiltresVersements(FiltresListe):
    ligne = fields.Integer(
        validate=validate.Range(1, ID_MAX),
        metadata={"description": "Seulement les échéances de cette ligne de financement.", "example": 1207},
    )
    payes = fields.Boolean(
        metadata={"description": "true : seulement les paiements ; false : seulement les échéances à payer."}
    )


class ListeVersements(Sortie):
    versements = fields.List(fields.Nested(VersementSortie), required=True)
    suivant = suivant()


def _version_lue(objet: str) -> fields.Integer:
    return fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(0, ID_MAX),
        metadata={
            "description": f"La version {objet} que vous avez lue (verrou optimiste) : si elle a changé "
            "entre-temps, 409 et rien n’est enregistré. Facultative.",
            "example": 7,
        },
    )


class Engagement(Entree):
    numero = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=30), _sans_caractere_nul],
        metadata={"description": "Numéro d’engagement juridique (EJ) de la ligne.", "example": "2100123456"},
    )
    version = _version_lue("de la ligne")


class NouvelleEcheance(Entree):
    nature = fields.String(
        required=True,
        validate=validate.OneOf(["avance", "solde"]),
        metadata={"description": "Avance, ou solde (un seul par ligne).", "example": "avance"},
    )
    date_prevue = fields.Date(required=True, metadata={"example": "2026-04-15"})
    montant = fields.Decimal(
        required=True,
        validate=_montant_borne,
        metadata={
            "description": "Montant prévu en euros ; le total prévu reste borné par le montant voté.",
            "minimum": 0,
            "maximum": MONTANT_MAX,
            "example": "3000.00",
        },
    )
    version = _version_lue("de la ligne")


class Paiement(Entree):
    verse_le = fields.Date(
        required=True,
        metadata={
            "description": "Date du paiement : ni future, ni antérieure au vote.",
            "example": "2026-04-15",
        },
    )
    montant = fields.Decimal(
        required=True,
        validate=_montant_borne,
        metadata={
            "description": "Montant payé en euros (peut différer du montant prévu).",
            "minimum": 0,
            "maximum": MONTANT_MAX,
            "example": "3000.00",
        },
    )
    reference = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=50), _sans_caractere_nul],
        metadata={"description": "Mandat, demande de paiement Chorus…", "example": "DP-2026-001234"},
    )
    version = _version_lue("de la ligne")


class RetourCompteRendu(Entree):
    commentaire = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=TEXTE_MAX), _sans_caractere_nul],
        metadata={
            "description": "Ce que le porteur doit modifier (envoyé par courriel).",
            "example": "Joignez le détail des dépenses de personnel.",
        },
    )
    version = _version_lue("du dossier")


# --- Campagnes, enveloppes, comité, structures, comptes rendus, pièces ------------------------------


def valeur_enum(attribut: str, enumeration, exemple, **options) -> fields.Function:
    """La valeur (code) d'une énumération du modèle, avec la liste des valeurs possibles."""
    valeurs = [e.value for e in enumeration]
    nullable = options.get("allow_none", False)

    def lire(objet):
        valeur = getattr(objet, attribut)
        return valeur.value if valeur is not None else None

    return fields.Function(
        lire,
        required=True,
        metadata={"type": "string", "enum": [*valeurs, None] if nullable else valeurs, "example": exemple},
        **options,
    )


def _modifie_le() -> fields.AwareDateTime:
    return fields.AwareDateTime(required=True, metadata={"example": "2026-03-01T10:00:00+00:00"})


class CampagneSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 7})
    contrat = fields.Nested(Reference, required=True)
    exercice = fields.Integer(required=True, metadata={"example": 2026})
    libelle = fields.String(required=True, metadata={"example": "Appel à projets 2026"})
    description = fields.String(required=True, allow_none=True, metadata={"example": "Priorité à l’emploi."})
    date_ouverture = fields.Date(required=True, metadata={"example": "2026-01-05"})
    date_cloture = fields.Date(required=True, metadata={"example": "2026-02-15"})
    modifie_le = _modifie_le()


class EnveloppeSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 12})
    campagne_id = fields.Integer(required=True, metadata={"example": 7})
    organisation = fields.Nested(OrganisationRef, required=True)
    montant = montant(required=True)
    modifie_le = _modifie_le()


class VoteSortie(Sortie):
    organisation_id = fields.Integer(required=True, metadata={"example": 3})
    choix = valeur_enum("choix", ChoixVote, "pour")
    vote_le = fields.AwareDateTime(required=True, metadata={"example": "2026-03-20T10:15:00+00:00"})


class MontantDecide(Sortie):
    ligne_id = fields.Integer(required=True, metadata={"example": 1207})
    montant = montant(required=True)


class PointSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 88})
    rang = fields.Integer(required=True, metadata={"example": 1})
    demande_id = fields.Integer(required=True, metadata={"example": 42})
    numero = fields.String(
        attribute="demande.numero", required=True, allow_none=True, metadata={"example": "2026-000042"}
    )
    decision = valeur_enum("decision", DecisionPoint, "favorable", allow_none=True)
    voix_pour = fields.Integer(required=True, allow_none=True, metadata={"example": 5})
    voix_contre = fields.Integer(required=True, allow_none=True, metadata={"example": 0})
    abstentions = fields.Integer(required=True, allow_none=True, metadata={"example": 1})
    recusations = fields.Integer(required=True, allow_none=True, metadata={"example": 0})
    votes = fields.List(fields.Nested(VoteSortie), required=True)
    montants = fields.List(
        fields.Nested(MontantDecide),
        required=True,
        metadata={"description": "Le montant que chaque financeur a saisi en séance pour sa ligne."},
    )


class SeanceSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 4})
    contrat_id = fields.Integer(required=True, metadata={"example": 3})
    campagne_id = fields.Integer(required=True, metadata={"example": 7})
    date_seance = fields.Date(required=True, metadata={"example": "2026-03-20"})
    lieu = fields.String(required=True, allow_none=True, metadata={"example": "Hôtel de ville, salle 2"})
    statut = valeur_enum("statut", StatutSeance, "close")
    close_le = fields.AwareDateTime(required=True, allow_none=True, metadata={"example": None})
    points = fields.List(
        fields.Nested(PointSortie), required=True, metadata={"description": "L’ordre du jour."}
    )
    modifie_le = _modifie_le()


class StructureSortie(StructureRef):
    siren = fields.String(required=True, metadata={"example": "443061841"})
    rna = fields.String(required=True, allow_none=True, metadata={"example": "W691234567"})
    forme_juridique = valeur_enum("forme_juridique", FormeJuridique, "association")
    adresse = fields.String(required=True, metadata={"example": "12 rue des Pentes"})
    code_postal = fields.String(required=True, metadata={"example": "69001"})
    commune = fields.String(required=True, metadata={"example": "Lyon"})
    code_insee = fields.String(required=True, metadata={"example": "69381"})
    modifie_le = _modifie_le()


class PosteCompteRendu(Sortie):
    compte = fields.String(required=True, metadata={"example": "6064"})
    financeur_id = fields.Integer(required=True, allow_none=True, metadata={"example": 3})
    financeur_libelle = fields.String(required=True, allow_none=True, metadata={"example": None})
    montant_prevu = montant(required=True)
    montant_realise = montant(required=True, allow_none=True)
    explication = fields.String(required=True, allow_none=True, metadata={"example": "Achats groupés."})


class CompteRenduSortie(Sortie):
    id = fields.Integer(required=True, metadata={"example": 21})
    demande_id = fields.Integer(required=True, metadata={"example": 42})
    version = fields.Integer(required=True, metadata={"example": 2})
    echeance = fields.Date(required=True, metadata={"example": "2027-06-30"})
    action_realisee = fields.Boolean(required=True, metadata={"example": True})
    bilan = fields.String(required=True, allow_none=True, metadata={"example": "Douze ateliers tenus."})
    public_atteint = fields.String(required=True, allow_none=True, metadata={"example": "140 habitants."})
    depose_le = fields.AwareDateTime(required=True, metadata={"example": "2027-05-12T08:00:00+00:00"})
    postes = fields.List(fields.Nested(PosteCompteRendu), attribute="lignes", required=True)
    modifie_le = _modifie_le()


def _type_piece(piece) -> str:
    return piece.type_piece.value


class PieceSortie(Sortie):
    document_id = fields.Integer(required=True, metadata={"example": 311})
    type_piece = fields.Function(_type_piece, required=True, metadata={"type": "string", "example": "budget"})
    nom_fichier = fields.String(
        attribute="document.nom_fichier", required=True, metadata={"example": "budget.pdf"}
    )
    type_mime = fields.String(
        attribute="document.type_mime", required=True, metadata={"example": "application/pdf"}
    )
    taille = fields.Integer(attribute="document.taille", required=True, metadata={"example": 48213})
    sha256 = fields.String(
        attribute="document.sha256",
        required=True,
        metadata={"example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    )
    depose_le = fields.AwareDateTime(
        attribute="document.depose_le", required=True, metadata={"example": "2026-02-01T09:00:00+00:00"}
    )


class Pieces(Sortie):
    pieces = fields.List(fields.Nested(PieceSortie), required=True)


class FiltresParCampagne(FiltresListe):
    campagne = fields.Integer(
        validate=validate.Range(1, ID_MAX),
        metadata={"description": "Seulement cette campagne.", "example": 7},
    )


def liste(nom: str, schema: type[Schema]) -> type[Schema]:
    """Une page d'éléments et le curseur de la suivante : `{nom: [...], "suivant": …}`."""
    return type(
        "Liste" + schema.__name__.removesuffix("Sortie"),
        (Sortie,),
        {nom: fields.List(fields.Nested(schema), required=True), "suivant": suivant()},
    )


ListeCampagnes = liste("campagnes", CampagneSortie)
ListeEnveloppes = liste("enveloppes", EnveloppeSortie)
ListeSeances = liste("seances", SeanceSortie)
ListeStructures = liste("structures", StructureSortie)
ListeComptesRendus = liste("comptes_rendus", CompteRenduSortie)


# Les trois formes de `details` (des partenaires s'y fient : on ne les change pas), décrites une fois pour le
# document OpenAPI ; la page de documentation les reprend avec un exemple de chacune.
DESCRIPTION_DETAILS = (
    "Précisions, selon l’erreur (lisez `erreur` pour le message d’ensemble) :\n\n"
    "- saisie invalide (400) : un objet `{champ: [messages]}`, chaque champ du corps ou de l’URL en erreur "
    "avec ses messages en français, par exemple "
    '`{"montant": ["Un montant est attendu, avec un point pour les décimales (« 3000.00 »…)"]}` ; le corps '
    "qui n’est pas un objet JSON : le champ `_corps` ;\n"
    '- refus d’une règle sur un champ (422) : un objet `{"champ": …}`, le nom du champ en cause, par '
    '`{"champ": "montant"}` (échéance au-delà du reste à prévoir) ou `{"champ": "numero_engagement"}` '
    "(paiement sans numéro d’engagement) ;\n"
    '- refus du workflow (422) : une liste de problèmes `[{"code": …, "message": …, "champ": …}]`, '
    "`champ` pouvant être null ;\n"
    '- 429 : `{"limite": …}`, la limite de requêtes du jeton ;\n'
    "- sinon : null."
)


class Erreur(Sortie):
    erreur = fields.String(required=True, metadata={"description": "Message en français."})
    details = fields.Raw(allow_none=True, metadata={"description": DESCRIPTION_DETAILS})
