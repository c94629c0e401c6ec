"""Instruction : l'espace de travail des financeurs, partenaires et pilotes, et ce qui n'est pas une
transition de la machine à états (gestionnaire nommé, notes), plus ce qu'un instructeur consulte pour
décider (autres demandes de la structure) et les enveloppes.

Les transitions elles-mêmes (prendre en charge, avis, compléments, classement) passent par
`dauphin.services.workflow`, qui verrouille, vérifie le droit, journalise et valide.

Espace de travail — une liste par *espace* : une organisation vue comme financeur (les demandes dont
elle a une ligne), une organisation vue comme partenaire (les dossiers des contrats de ville qu'elle a
signés), ou le pilote (les dossiers des contrats qu'il pilote). Chaque requête part d'un seul index :
`ligne_financement (organisation_id, statut)` pour un financeur, `demande (campagne_id, statut)` pour
les contrats. Aucune union « lignes OU contrats » dans un même COUNT : c'est elle qui rendait l'ancienne
corbeille lente.

Onglets d'un financeur — ils suivent ce que le financeur a à faire sur *sa* ligne (L), le dossier (D)
n'intervenant que lorsqu'il attend le porteur :
- « À traiter » : L sollicitée ou prise en charge, et D n'est pas « à compléter » ;
- « Suivies » : L avisée (recevable, non recevable), votée, convention à signer, engagée, avance versée —
  y compris un dossier justifié dont le solde reste à verser par ce financeur — ou L pas encore avisée
  mais D « à compléter » : la main est au porteur, le dossier revient « À traiter » quand il est attesté
  de nouveau ;
- « Terminées » : L refusée, soldée ou sans suite. Un dossier rejeté, classé sans suite ou retiré y est
  toujours : le moteur met ses lignes refusées ou sans suite dans la même transaction ; un financeur
  retiré du budget par le porteur aussi (il n'est plus sollicité).
Ainsi le compte courant se fait sur l'index de la ligne seul (voir `compter_par_onglet`).
Onglets des contrats (partenaire, pilote) sur le seul statut du dossier : « En instruction » (transmise
→ programmée), « Décidées » (attribuée → justification), « Terminées ».
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload, selectinload
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.libelles import cle_alphabetique
from dauphin.listes import NUMERO_COMPLET, colonnes_de_liste, condition_numero
from dauphin.models import (
    Campagne,
    CompteRendu,
    ContratDeVille,
    Demande,
    Enveloppe,
    LigneFinancement,
    MembreOrganisation,
    Note,
    Organisation,
    PartenaireContrat,
    Qpv,
    RoleOrganisation,
    Structure,
    Thematique,
    Utilisateur,
)
from dauphin.policies import (
    INSTRUIRE_LIGNE,
    LIRE_NOTE,
    VOIR_DEMANDE,
    VOIR_ENVELOPPE,
    Qualite,
    acteur_de,
    qualites,
    voit_instruction,
)
from dauphin.services import courriels, curseurs, recherche
from dauphin.services.comptes_rendus import condition_retard_envers
from dauphin.services.erreurs import NonAutorise, Refus
from dauphin.services.programmation import filtrer_dossiers
from dauphin.services.workflow import aujourdhui, journaliser
from dauphin.unite_de_travail import charger_ligne_verrouillee, en_une_transaction
from workflows import StatutDemande, StatutLigne
from workflows.statuts import STATUTS_DEMANDE_FINAUX

L, D = StatutLigne, StatutDemande

# --- Onglets ------------------------------------------------------------------------------

ONGLETS = ("a_traiter", "suivies", "terminees")
LIBELLES_ONGLETS = {
    "financeur": {"a_traiter": "À traiter", "suivies": "Suivies", "terminees": "Terminées"},
    "contrats": {"a_traiter": "En instruction", "suivies": "Décidées", "terminees": "Terminées"},
}
AIDES_ONGLETS = {
    "financeur": {
        "a_traiter": "Votre ligne est sollicitée ou prise en charge et le dossier n’attend pas le porteur.",
        "suivies": "Votre avis est donné, ou le dossier attend des compléments du porteur, ou votre "
        "organisation a voté et le dossier suit son cours (engagement, versements, compte rendu, solde).",
        "terminees": "Votre ligne est refusée, soldée ou sans suite (dossier rejeté, classé sans suite, "
        "retiré, ou votre organisation retirée du budget par le porteur).",
    },
    "contrats": {
        "a_traiter": "Dossiers transmis, en instruction, à compléter, instruits ou programmés en comité.",
        "suivies": "Subvention attribuée : versements et compte rendu financier en cours.",
        "terminees": "Dossiers rejetés, justifiés, classés sans suite ou retirés.",
    },
}

LIGNE_A_TRAITER = (L.sollicitee, L.prise_en_charge)
LIGNE_TERMINEE = (L.refusee, L.soldee, L.abandonnee)
LIGNE_SUIVIE = tuple(s for s in L if s not in LIGNE_A_TRAITER + LIGNE_TERMINEE)
FINAUX = tuple(sorted(STATUTS_DEMANDE_FINAUX))
NON_TRANSMIS = (D.brouillon, D.attente_attestation)
DOSSIER_EN_INSTRUCTION = (D.transmise, D.en_instruction, D.a_completer, D.instruite, D.programmee)
DOSSIER_DECIDE = tuple(s for s in D if s not in DOSSIER_EN_INSTRUCTION + FINAUX + NON_TRANSMIS)


def conditions_onglets(mode: str, *, constantes: bool = False) -> dict[str, ColumnElement[bool]]:
    """La condition SQL de chaque onglet (`_conditions_onglets`), construite une fois par processus : elle ne
    dépend que du mode et de `constantes` (une expression SQLAlchemy ne change pas)."""
    return dict(_conditions_onglets(mode, constantes))


@cache
def _conditions_onglets(mode: str, constantes: bool) -> dict[str, ColumnElement[bool]]:
    """La condition SQL de chaque onglet ; les trois se partagent exactement les lignes de la liste.

    `constantes` : les statuts écrits en toutes lettres dans l'ordre SQL plutôt qu'en paramètres. Sur
    PostgreSQL, c'est ce qui laisse le planificateur prouver qu'une requête d'un onglet d'un financeur
    relève de l'index GIN partiel de cet onglet (migration 0030), même en plan générique (ordre préparé).
    Leurs prédicats y sont ces mêmes conditions (`tests/test_recherche_plafond.py` le vérifie)."""
    if mode == "financeur":  # sur la ligne seule : le statut du dossier y est recopié par la base

        def valeurs(statuts):
            return bindparam(None, list(statuts), expanding=True, literal_execute=constantes)

        attend_le_porteur = LigneFinancement.statut_dossier == bindparam(
            None, D.a_completer, literal_execute=constantes
        )
        return {
            "a_traiter": and_(LigneFinancement.statut.in_(valeurs(LIGNE_A_TRAITER)), ~attend_le_porteur),
            "suivies": or_(
                LigneFinancement.statut.in_(valeurs(LIGNE_SUIVIE)),
                and_(LigneFinancement.statut.in_(valeurs(LIGNE_A_TRAITER)), attend_le_porteur),
            ),
            "terminees": LigneFinancement.statut.in_(valeurs(LIGNE_TERMINEE)),
        }
    return {
        "a_traiter": Demande.statut.in_(DOSSIER_EN_INSTRUCTION),
        "suivies": Demande.statut.in_(DOSSIER_DECIDE),
        "terminees": Demande.statut.in_(FINAUX),
    }


def onglet_de_la_ligne(statut: StatutLigne) -> str:
    """L'onglet d'une ligne d'après son seul statut (« à traiter » devient « suivies » si le dossier est
    à compléter : voir `conditions_onglets`)."""
    if statut in LIGNE_TERMINEE:
        return "terminees"
    return "suivies" if statut in LIGNE_SUIVIE else "a_traiter"


# --- Espaces ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Espace:
    """Ce que liste l'espace de travail : `financeur` (lignes de l'organisation) ou `contrats`."""

    cle: str
    mode: str
    role: str  # instructeur | partenaire | pilote
    libelle: str
    organisation_id: int | None = None
    contrat_ids: tuple[int, ...] = ()

    @property
    def peut_agir(self) -> bool:
        return self.role == "instructeur"


def _lire(requete, parametres: dict | None = None) -> list[Row]:
    """Les rangées d'une lecture de colonnes de l'espace de travail (espaces, comptes, page, listes de
    filtres), lues par la connexion de la session : sans le passage de l'ordre et de ses rangées par l'ORM
    (50 µs de moins par ordre), et toutes d'un coup (`all` : une rangée à la fois, Core appelle psycopg cinq
    fois par rangée). Des colonnes, jamais des objets ; sans autoflush (rien n'attend d'être écrit quand une
    page de l'espace se lit)."""
    return db.session.connection().execute(requete, parametres).all()


# Lue à chaque page de l'espace d'instruction : construite une fois par processus.
_CONTRATS_SIGNES = (
    select(PartenaireContrat.organisation_id, PartenaireContrat.contrat_id)
    .where(PartenaireContrat.organisation_id.in_(bindparam("organisations", expanding=True)))
    .order_by(PartenaireContrat.contrat_id)
)


def espaces(utilisateur: Utilisateur) -> list[Espace]:
    """Les espaces de l'utilisateur, dans l'ordre du sélecteur. Ses rattachements viennent avec le compte
    (`dauphin.charger_utilisateur`) : une requête, pour les contrats signés par ses organisations."""
    adhesions = sorted(
        ((a.organisation_id, a.role, a.organisation.nom) for a in utilisateur.adhesions_organisations),
        key=lambda adhesion: (cle_alphabetique(adhesion[2]), adhesion[0]),
    )
    signes: dict[int, list[int]] = defaultdict(list)
    if adhesions:
        for organisation_id, contrat_id in _lire(
            _CONTRATS_SIGNES, {"organisations": [a[0] for a in adhesions]}
        ):
            signes[organisation_id].append(contrat_id)
    resultat = []
    for organisation_id, role, nom in adhesions:
        if role == RoleOrganisation.instructeur:
            resultat.append(
                Espace(
                    f"financeur-{organisation_id}",
                    "financeur",
                    "instructeur",
                    f"{nom} — demandes adressées à votre organisation",
                    organisation_id,
                )
            )
        if signes.get(organisation_id):
            resultat.append(
                Espace(
                    f"partenaire-{organisation_id}",
                    "contrats",
                    "partenaire",
                    f"{nom} — dossiers des contrats de ville signés",
                    organisation_id,
                    tuple(signes[organisation_id]),
                )
            )
    pilotes = tuple(sorted({p.contrat_id for p in utilisateur.pilotages}))
    if pilotes:
        resultat.append(
            Espace("pilote", "contrats", "pilote", "Dossiers des contrats que vous pilotez", None, pilotes)
        )
    return resultat


# --- Liste : filtres, recherche, tri, comptes par onglet ------------------------------------


@dataclass
class CriteresDemandes:
    """Ce qui restreint une liste de demandes, à l'écran comme dans l'API : le contrat, l'exercice, le statut
    du dossier et celui de la ligne du financeur qui lit."""

    contrat_id: int | None = None
    exercice: int | None = None
    statut_dossier: StatutDemande | None = None
    statut_ligne: StatutLigne | None = None


@dataclass
class Filtres(CriteresDemandes):
    """Les critères de l'espace d'instruction : ceux de toute liste, plus le contenu et le gestionnaire."""

    thematiques: list[str] = field(default_factory=list)  # un pilier : lui et ses sous-thèmes
    qpv_id: int | None = None
    structure_id: int | None = None
    recherche: str | None = None
    gestionnaire_id: int | None = None
    # Les structures dont le nom correspond à la recherche, lues une fois pour le décompte et la page
    structures_trouvees: list[int] | bool | None = field(default=None, repr=False, compare=False)

    @property
    def sur_le_contenu(self) -> bool:
        """Un filtre porte sur le contenu de la demande (thématique, QPV, structure, recherche)."""
        return any((self.thematiques, self.qpv_id, self.structure_id, self.recherche))

    @property
    def sur_la_demande(self) -> bool:
        """Un filtre ne se lit que sur la demande. La structure, l'exercice, le statut du dossier et la
        recherche libre se lisent aussi sur la ligne d'un financeur (elle porte la structure, l'exercice, le
        statut et le vecteur de recherche de sa demande)."""
        return any((self.thematiques, self.qpv_id, self.contrat_id))

    @property
    def actifs(self) -> bool:
        return any(
            (
                self.contrat_id,
                self.exercice,
                self.statut_dossier,
                self.statut_ligne,
                self.thematiques,
                self.qpv_id,
                self.structure_id,
                self.recherche,
                self.gestionnaire_id,
            )
        )


TRIS = {
    "pertinence": "Pertinence",  # avec une recherche : l'ordre par défaut (PostgreSQL ; SQLite : la date)
    "numero": "Numéro",
    "transmise": "Transmise le",
    "structure": "Structure",
    "montant": "Montant demandé",
}


# En deçà, un texte se trouve dans presque tout intitulé et l'index à trigrammes ne sert plus : la
# recherche lirait les 250 000 demandes (près d'une seconde). Seul le sigle exact d'une structure
# (« MJC », « CS ») est alors cherché.
RECHERCHE_MIN = 3


def recherche_courte(texte: str | None) -> bool:
    return bool(texte) and len(texte) < RECHERCHE_MIN


def _echappe(texte: str) -> str:
    return texte.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _motif(texte: str) -> str:
    return f"%{_echappe(texte)}%"


STRUCTURES_EN_LISTE_MAX = 2000  # au-delà, la sous-requête (un texte trop commun : « a », « de »)


def _structures_cherchees(texte: str):
    if recherche_courte(texte):  # le sigle entier, sans la casse : ILIKE sans joker, servi par l'index
        return select(Structure.id).where(Structure.sigle.ilike(_echappe(texte), escape="\\"))
    motif = _motif(texte)
    return select(Structure.id).where(
        or_(Structure.raison_sociale.ilike(motif, escape="\\"), Structure.sigle.ilike(motif, escape="\\"))
    )


def structures_trouvees(filtres: Filtres) -> list[int] | None:
    """Les structures dont la raison sociale ou le sigle contient le texte cherché, lues une fois par
    requête : le décompte des onglets et la page s'en servent (trois parcours des 11 000 structures
    sinon, 7 ms chacun pour un mot fréquent comme « association »). None quand il y en a trop pour une
    liste de paramètres : la sous-requête les remplace.

    Sur PostgreSQL, seules celles que la requête plein texte de la page ne trouve pas déjà par le vecteur de
    recherche, qui porte le nom et le sigle de la structure (« voi » : Voisine ; « jeunes » : Jeunesse)."""
    if filtres.structures_trouvees is None:
        filtres.structures_trouvees = _lire_structures(filtres.recherche or "")
    return None if filtres.structures_trouvees is False else filtres.structures_trouvees


def _lire_structures(texte: str) -> list[int] | bool:
    """Les structures de `structures_trouvees`, ou False s'il y en a trop."""
    if not recherche.plein_texte() or recherche_courte(texte):
        ids = [rang[0] for rang in _lire(_structures_cherchees(texte).limit(STRUCTURES_EN_LISTE_MAX + 1))]
        return False if len(ids) > STRUCTURES_EN_LISTE_MAX else ids
    # Le texte que le vecteur de recherche trouve déjà dans le nom ou le sigle (même analyse que lui) : ces
    # demandes sont trouvées sans la liste. Restent les morceaux de mot : une liste courte (« association » :
    # 855 structures → 0, « ateliers » : 264 → 0), qui n'ajoute plus à chaque onglet la lecture des lignes de
    # centaines de structures. La fonction de la migration 0030 passe par l'index à trigrammes (le
    # planificateur lui préférait la lecture des 11 000 noms).
    requete = _gardee(
        ("structures", texte),
        lambda: select(column("id"), column("entier")).select_from(
            _structures_par_morceau(texte, STRUCTURES_EN_LISTE_MAX + 1)
        ),
    )
    rangees = _lire(requete)
    if len(rangees) > STRUCTURES_EN_LISTE_MAX:
        return False
    return [ident for ident, entier in rangees if not entier]


def _structures_par_morceau(texte: str, maximum: int | None):
    """La fonction SQL de la migration 0030 : (id, entier) des structures dont le nom ou le sigle contient le
    texte, `entier` quand la requête plein texte du texte les trouve déjà par le vecteur de leur nom, tenu
    par la base (`structure.recherche`, migration 0031 : il n'est plus calculé à chaque recherche)."""
    requete = recherche.requete(texte)
    return func.public.dauphin_structures_par_morceau(
        _motif(texte), requete if requete is not None else null(), maximum
    )


CHIFFRE = re.compile(r"\d")  # « 0248 », « 2026 » : un morceau de numéro, ou un mot de l'intitulé
SIRET = re.compile(r"\d{14}")


def condition_recherche(
    filtres: Filtres,
    demande_id: ColumnElement,
    structure_id: ColumnElement,
    numero: ColumnElement,
    exercice: ColumnElement,
    vecteur: ColumnElement,
    *,
    partie: str | None = None,
):
    """La recherche libre : numéro ou intitulé de la demande, raison sociale ou sigle de la structure.

    Exprimée sur les colonnes de la demande ou de la ligne d'un financeur (qui portent numéro, exercice,
    structure et, sur PostgreSQL, le vecteur de recherche de leur demande) : pour un financeur, la recherche
    ne lit que ses lignes. Un numéro entier passe par l'index unique, un SIRET par celui des structures ; un
    texte qui a un chiffre est cherché aussi dans les numéros (`condition_numero` : « 0248 », « 2026 »).

    PostgreSQL : plein texte (`dauphin.services.recherche`) sur l'intitulé et le nom de la structure, plus
    les structures dont le nom ou le sigle contient le texte.
    SQLite : « contient » (LIKE) sur l'intitulé, `condition_numero` sur le numéro, et « contient » sur le
    nom et le sigle des structures (voir `_condition_like`). Un texte de moins de `RECHERCHE_MIN`
    caractères ne cherche que le sigle exact.

    `partie` (PostgreSQL, avec une liste de structures : voir `_compter_jusqu_au_plafond`) : la même
    condition coupée en deux parties disjointes dont l'union est la condition entière — « hors_structures »
    (le vecteur et le numéro), « structures_seules » (la liste des structures, moins ce que trouve l'autre).
    """
    texte = filtres.recherche or ""
    if NUMERO_COMPLET.fullmatch(texte):  # un numéro entier : l'index unique
        return demande_id.in_(select(Demande.id).where(Demande.numero == texte).correlate(None))
    if SIRET.fullmatch(texte):
        return structure_id.in_(select(Structure.id).where(Structure.siret == texte).correlate(None))
    if not recherche.plein_texte() or recherche_courte(texte):
        return _condition_like(filtres, demande_id, structure_id)
    conditions = [recherche.correspond(vecteur, texte)]
    if CHIFFRE.search(texte):  # trigrammes : (organisation_id, numero) des lignes, numero des demandes
        conditions.append(condition_numero(texte, numero, exercice))
    # Le nom ou le sigle d'une structure qui contient le texte (« voi » : Association Voisine), par la
    # liste de ses structures (trigrammes) ; trop nombreuses (« association »), les mots entiers du nom,
    # qui sont dans le vecteur, suffisent.
    structures = structures_trouvees(filtres)
    if partie is not None:
        assert structures, "une partie de la condition : seulement avec une liste de structures"
        hors_structures = or_(*conditions)
        if partie == "hors_structures":
            return hors_structures
        return and_(parmi(structure_id, structures), ~func.coalesce(hors_structures, false(), type_=Boolean))
    if structures is None:  # trop pour une liste : les morceaux par une sous-requête
        morceaux = select(column("id")).select_from(_structures_par_morceau(texte, None))
        morceaux = morceaux.where(~column("entier"))
        conditions.append(structure_id.in_(morceaux))
    elif structures:
        conditions.append(parmi(structure_id, structures))
    return or_(*conditions)


def _condition_like(filtres: Filtres, demande_id: ColumnElement, structure_id: ColumnElement):
    """La recherche sans plein texte (SQLite) : les demandes dont le numéro ou l'intitulé contient le
    texte, et celles des structures trouvées par `structures_trouvees`."""
    texte = filtres.recherche or ""
    structures = structures_trouvees(filtres)
    if structures is None:
        par_structure = structure_id.in_(_structures_cherchees(texte).correlate(None))
    else:
        par_structure = parmi(structure_id, structures) if structures else false()
    if recherche_courte(texte):
        return par_structure
    motif = _motif(texte)
    demandes = select(Demande.id).where(
        or_(
            condition_numero(texte, Demande.numero, Demande.exercice),
            Demande.intitule.ilike(motif, escape="\\"),
        )
    )
    return or_(demande_id.in_(demandes.correlate(None)), par_structure)


def parmi(colonne: ColumnElement, ids: list[int]) -> ColumnElement[bool]:
    """colonne IN (ids) ; sur PostgreSQL, `= ANY(:ids)` : un seul paramètre (un tableau) au lieu de
    centaines, que le pilote, la planification et SQLAlchemy paieraient chacun à chaque requête."""
    if db.session.get_bind().dialect.name == "postgresql":
        return colonne == any_(literal(ids, ARRAY(Integer)))
    return colonne.in_(ids)


def _filtres_ligne(requete: Select, espace: Espace, filtres: Filtres, partie: str | None = None) -> Select:
    requete = requete.where(LigneFinancement.organisation_id == espace.organisation_id)
    if filtres.statut_ligne is not None:
        requete = requete.where(LigneFinancement.statut == filtres.statut_ligne)
    if filtres.statut_dossier is not None:
        requete = requete.where(LigneFinancement.statut_dossier == filtres.statut_dossier)
    if filtres.gestionnaire_id is not None:
        requete = requete.where(LigneFinancement.gestionnaire_id == filtres.gestionnaire_id)
    if filtres.structure_id is not None:
        requete = requete.where(LigneFinancement.structure_id == filtres.structure_id)
    if filtres.exercice is not None:
        requete = requete.where(LigneFinancement.exercice == filtres.exercice)
    if filtres.recherche:
        requete = requete.where(
            condition_recherche(
                filtres,
                LigneFinancement.demande_id,
                LigneFinancement.structure_id,
                LigneFinancement.numero,
                LigneFinancement.exercice,
                recherche.VECTEUR_LIGNE,
                partie=partie,
            )
        )
    return requete


def _requete_lignes(espace: Espace, filtres: Filtres, *colonnes, partie: str | None = None) -> Select:
    """SELECT colonnes FROM ligne_financement WHERE (la ligne du financeur, filtres sur la ligne) ; `partie` :
    voir `condition_recherche`."""
    return _filtres_ligne(select(*colonnes).select_from(LigneFinancement), espace, filtres, partie)


def _campagnes(espace: Espace, filtres: Filtres) -> Select:
    """Les campagnes du périmètre (contrats de l'espace) et des filtres contrat et exercice : l'index
    `demande (campagne_id, statut)` sert alors directement."""
    campagnes = select(Campagne.id)
    if espace.mode != "financeur":
        campagnes = campagnes.where(Campagne.contrat_id.in_(espace.contrat_ids))
    if filtres.contrat_id is not None:
        campagnes = campagnes.where(Campagne.contrat_id == filtres.contrat_id)
    if filtres.exercice is not None:
        campagnes = campagnes.where(Campagne.exercice == filtres.exercice)
    return campagnes


def _requete(espace: Espace, filtres: Filtres, *colonnes, avec_structure: bool = False) -> Select:
    """SELECT colonnes FROM demande [JOIN la ligne du financeur] [JOIN structure] WHERE …

    Seules les demandes transmises (numérotées) : une ligne de financement n'existe qu'à partir de la
    transmission, et `transmise_le` est posée avec le numéro. La condition `transmise_le IS NOT NULL`
    laisse PostgreSQL parcourir l'index (transmise_le, id) à rebours sans passer par les brouillons, dont
    la date vide viendrait en tête du tri décroissant.
    """
    requete = select(*colonnes).select_from(Demande)
    if espace.mode == "financeur":
        requete = _filtres_ligne(
            requete.join(LigneFinancement, LigneFinancement.demande_id == Demande.id), espace, filtres
        )
        if filtres.contrat_id is not None:  # l'exercice est lu sur la ligne (`_filtres_ligne`)
            requete = requete.where(Demande.campagne_id.in_(_campagnes(espace, filtres)))
    else:
        requete = requete.where(
            Demande.campagne_id.in_(_campagnes(espace, filtres)), Demande.numero.is_not(None)
        )
    # Sur la ligne pour un financeur : l'index (organisation, transmise_le) de la page, lu à rebours, ne
    # commence pas par des dates vides (toujours posées ici, une ligne naissant à la transmission).
    transmise_le = LigneFinancement.transmise_le if espace.mode == "financeur" else Demande.transmise_le
    requete = requete.where(transmise_le.is_not(None))
    statut = filtres.statut_dossier if espace.mode != "financeur" else None  # financeur : sur la ligne
    requete = filtrer_dossiers(requete, statut, filtres.thematiques or None, filtres.qpv_id)
    if espace.mode != "financeur":  # pour un financeur : sur ses lignes (`_filtres_ligne`)
        if filtres.structure_id is not None:
            requete = requete.where(Demande.structure_id == filtres.structure_id)
        if filtres.recherche:
            requete = requete.where(
                condition_recherche(
                    filtres,
                    Demande.id,
                    Demande.structure_id,
                    Demande.numero,
                    Demande.exercice,
                    recherche.VECTEUR_DEMANDE,
                )
            )
    if avec_structure:
        requete = requete.join(Structure, Structure.id == Demande.structure_id)
    return requete


# Une recherche ne compte pas au-delà : l'onglet affiche « plus de 1 000 ». Compter exactement les 5 800
# lignes d'un gros financeur qui contiennent « quartier » lisait chacune dans la table (l'index GIN ne dit
# pas leur statut) : 5 400 blocs, le gros du temps de la page ; au plus 1 001 par onglet désormais.
PLAFOND_COMPTE = 1000


class ComptesOnglets(dict):
    """Le nombre de demandes de chaque onglet ; `plafonnes` : les onglets dont le compte s'est arrêté au
    plafond (`PLAFOND_COMPTE`) : il y en a plus, combien n'est pas lu."""

    def __init__(self, comptes, plafonnes=()):
        super().__init__(comptes)
        self.plafonnes = frozenset(plafonnes)

    def texte(self, onglet: str) -> str:
        """Le compte affiché : « 363 », ou « plus de 1 000 » (espace insécable) au-delà du plafond."""
        if onglet in self.plafonnes:
            return f"plus de {PLAFOND_COMPTE:,}".replace(",", "\u00a0")
        return str(self[onglet])


# Les requêtes d'une liste filtrée (recherche, filtres), gardées par tout ce dont elles dépendent : l'espace,
# les critères, les structures trouvées par la recherche et la base. Une page relue (onglet, page suivante,
# retour) ne les reconstruit plus, ni leur clé de cache SQLAlchemy, calculée à chaque exécution d'un objet
# requête neuf et gardée par lui (1 ms pour une recherche). Aussi les requêtes par portée (`_par_portee`).
_LISTES: dict[tuple, object] = {}
LISTES_MAX = 1024


def _figee(valeur):
    """Une valeur de champ d'un acteur ou de filtres, utilisable dans une clé (dict et list en tuples)."""
    if isinstance(valeur, dict):
        return tuple(sorted(valeur.items(), key=lambda paire: paire[0]))
    return tuple(valeur) if isinstance(valeur, list) else valeur


def _cle_liste(espace: Espace, filtres: Filtres, *autres) -> tuple:
    """La clé de `_gardee` : à appeler après `_preparer` (les structures trouvées y entrent). Tous les champs
    des filtres, lus de la classe : un critère ajouté demain entre dans la clé sans qu'on y pense."""
    valeurs = (getattr(filtres, champ.name) for champ in fields(filtres))
    return (
        db.session.get_bind().dialect.name,
        espace,
        *(_figee(valeur) for valeur in valeurs),
        *autres,
    )


def _gardee(cle: tuple, construire):
    requete = _LISTES.get(cle)
    if requete is None:
        if len(_LISTES) >= LISTES_MAX:
            _LISTES.clear()
        requete = _LISTES[cle] = construire()
    return requete


def _preparer(filtres: Filtres) -> None:
    """Lit les structures trouvées par la recherche là où `condition_recherche` les lirait (pas pour un
    numéro ni un SIRET) : elles sont dans la requête, donc dans sa clé (`_cle_liste`)."""
    texte = filtres.recherche
    if texte and not (NUMERO_COMPLET.fullmatch(texte) or SIRET.fullmatch(texte)):
        structures_trouvees(filtres)


_UN, _COMPTE = (
    literal(1),
    func.count(),
)  # colonnes des requêtes gardées : les mêmes objets d'une page à l'autre


def compter_par_onglet(espace: Espace, filtres: Filtres) -> ComptesOnglets:
    """Le nombre de demandes de chaque onglet, filtres compris, en une requête.

    Avec une recherche, chaque onglet compte jusqu'à `PLAFOND_COMPTE` + 1 et s'arrête
    (`_compter_jusqu_au_plafond`) : exact en deçà, « plus de 1 000 » au-delà.

    Cas courant — un financeur, sans filtre propre à la demande : on compte ses lignes par statut de la
    ligne et du dossier (recopié sur la ligne par la base) sur l'index `ligne_financement (organisation_id,
    statut_dossier, statut)` seul. Sinon : la jointure avec la demande, classée par CASE et groupée.
    """
    if filtres.recherche:
        return _compter_jusqu_au_plafond(espace, filtres)
    comptes = ComptesOnglets(dict.fromkeys(ONGLETS, 0))
    conditions = conditions_onglets(espace.mode)
    onglet = case(
        (conditions["terminees"], "terminees"), (conditions["a_traiter"], "a_traiter"), else_="suivies"
    ).label("onglet")
    if espace.mode == "financeur" and not filtres.sur_la_demande:
        # Les lignes seules, classées par leur statut et celui du dossier (recopié sur la ligne) : un
        # parcours de l'index (organisation_id, statut_dossier, statut) seul, ou des lignes trouvées par
        # l'index GIN de la recherche ; jamais les demandes du pays qui ont un statut donné.
        # Groupées par les deux statuts (quelques dizaines de couples), classées ici comme le fait
        # `conditions_onglets` : pas de CASE évalué pour chacune des 23 000 lignes d'un gros financeur.
        statut, dossier = LigneFinancement.statut, LigneFinancement.statut_dossier
        rangees = _lire(
            _gardee(
                _cle_liste(espace, filtres, "compter"),
                lambda: _requete_lignes(espace, filtres, statut, dossier, _COMPTE).group_by(dossier, statut),
            )
        )
        for statut_ligne, statut_dossier, nombre in rangees:
            comptes[_onglet_des_statuts(statut_ligne, statut_dossier)] += nombre
        return comptes
    if espace.mode == "contrats" and not filtres.sur_le_contenu:
        # Les dossiers des contrats, par statut, sur le seul index demande (campagne_id, statut) ; on retire
        # ceux retirés avant d'avoir été transmis (statut « retirée », sans numéro), seuls à n'être pas vus.
        dossiers = select(onglet).where(
            Demande.campagne_id.in_(_campagnes(espace, filtres)), Demande.statut.not_in(NON_TRANSMIS)
        )
        if filtres.statut_dossier is not None:
            dossiers = dossiers.where(Demande.statut == filtres.statut_dossier)
        dossiers = dossiers.subquery()
        jamais_transmis = (
            select(literal("non_transmis", String), func.count())
            .where(Demande.campagne_id.in_(_campagnes(espace, filtres)), Demande.statut == D.retiree)
            .where(Demande.numero.is_(None))
        )
        if filtres.statut_dossier not in (None, D.retiree):
            jamais_transmis = jamais_transmis.where(false())
        par_onglet = select(dossiers.c.onglet, func.count()).group_by(dossiers.c.onglet)
        for nom, nombre in _lire(union_all(par_onglet, jamais_transmis)):
            if nom == "non_transmis":
                comptes["terminees"] -= nombre
            else:
                comptes[nom] += nombre
        return comptes

    def construire():
        classees = _requete(espace, filtres, onglet).subquery()
        return select(classees.c.onglet, func.count()).group_by(classees.c.onglet)

    for nom, nombre in _lire(_gardee(_cle_liste(espace, filtres, "compter"), construire)):
        comptes[nom] = nombre
    return comptes


def _compter_jusqu_au_plafond(espace: Espace, filtres: Filtres) -> ComptesOnglets:
    """Les comptes d'une recherche, chaque onglet arrêté à `PLAFOND_COMPTE` + 1 lignes, en une requête
    (une sous-requête LIMIT par onglet). Sur PostgreSQL, chaque onglet d'un financeur a son index GIN
    partiel (migration 0030) : un onglet ne lit dans la table que ses propres lignes trouvées, au plus
    1 001, au lieu de toutes les lignes trouvées du financeur.

    Quand des structures sont trouvées par un morceau de leur nom (« jeunes » : 556 structures « Jeunesse… »
    à 250 000 demandes), leur liste, répétée dans chaque onglet, y faisait relire par l'index (organisation,
    structure) les lignes de ces structures, une descente par structure et par statut : 10 500 blocs. La
    condition est alors coupée en deux parties disjointes (`condition_recherche`, `partie`) : le vecteur et
    le numéro, comptés ainsi par onglet ; les lignes de la liste que le vecteur ne trouve pas, lues une fois
    et classées par leurs deux statuts comme le fait `compter_par_onglet` (4 300 blocs en tout). La somme,
    arrêtée au plafond, est le compte de la condition entière : mêmes nombres, même « plus de »."""
    _preparer(filtres)
    sur_les_lignes = espace.mode == "financeur" and not filtres.sur_la_demande
    en_deux = sur_les_lignes and recherche.plein_texte() and _liste_de_structures(filtres)
    partie = "hors_structures" if en_deux else None

    def par_onglet():
        conditions = conditions_onglets(espace.mode, constantes=True)
        sous_requetes = []
        if sur_les_lignes:  # la même pour les trois onglets, construite une fois
            toutes = _requete_lignes(espace, filtres, _UN, partie=partie)
        else:
            toutes = _requete(espace, filtres, _UN)
        for nom in ONGLETS:
            trouvees = toutes.where(conditions[nom]).limit(PLAFOND_COMPTE + 1).subquery()
            sous_requetes.append(select(func.count()).select_from(trouvees).scalar_subquery())
        return select(*sous_requetes)

    requete = _gardee(_cle_liste(espace, filtres, "plafond", partie), par_onglet)
    (comptes_lus,) = _lire(requete)  # une rangée
    nombres = dict(zip(ONGLETS, comptes_lus, strict=True))
    if en_deux:
        statut, dossier = LigneFinancement.statut, LigneFinancement.statut_dossier
        par_les_structures = _gardee(
            _cle_liste(espace, filtres, "structures_seules"),
            lambda: _requete_lignes(
                espace, filtres, statut, dossier, _COMPTE, partie="structures_seules"
            ).group_by(dossier, statut),
        )
        for statut_ligne, statut_dossier, nombre in _lire(par_les_structures):
            nombres[_onglet_des_statuts(statut_ligne, statut_dossier)] += nombre
    comptes = {nom: min(n, PLAFOND_COMPTE + 1) for nom, n in nombres.items()}
    return ComptesOnglets(comptes, {nom for nom, n in comptes.items() if n > PLAFOND_COMPTE})


def _liste_de_structures(filtres: Filtres) -> bool:
    """La recherche plein texte trouve aussi des structures par un morceau de leur nom, passées en liste
    (`condition_recherche`)."""
    texte = filtres.recherche or ""
    if NUMERO_COMPLET.fullmatch(texte) or SIRET.fullmatch(texte) or recherche_courte(texte):
        return False
    return bool(structures_trouvees(filtres))


def _onglet_des_statuts(statut_ligne: StatutLigne, statut_dossier: StatutDemande) -> str:
    """L'onglet d'une ligne d'un financeur d'après son statut et celui du dossier (`conditions_onglets`)."""
    nom = onglet_de_la_ligne(statut_ligne)
    if nom == "a_traiter" and statut_dossier == D.a_completer:
        return "suivies"  # la main est au porteur
    return nom


def montant_total_demande():
    """Somme des montants demandés aux financeurs encore sollicités (sous-requête corrélée)."""
    return (
        select(func.coalesce(func.sum(LigneFinancement.montant_demande), 0))
        .where(LigneFinancement.demande_id == Demande.id, LigneFinancement.statut != L.abandonnee)
        .correlate(Demande)
        .scalar_subquery()
    )


class PageDeListe(Pagination):
    """Une page dont les éléments et le total sont déjà lus (numéros de page, liens DSFR de Pagination).

    `plafonnee` : le total n'est pas connu (compte arrêté au plafond d'une recherche) ; `suite` dit s'il
    y a une page après celle-ci (une ligne de plus a été lue). Les numéros s'arrêtent alors à la page
    suivante, et il n'y a pas de « dernière page »."""

    plafonnee = False
    suite = False

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]

    @property
    def pages(self) -> int:
        if self.plafonnee:
            return self.page + (1 if self.suite else 0)
        return super().pages

    @property
    def has_next(self) -> bool:
        return self.suite if self.plafonnee else super().has_next


# Les tris servis par un index dont la clé est une colonne (date de transmission, numéro) : curseur possible
TRIS_PAR_CURSEUR = ("transmise", "numero")


def _ordre(cle, departage, ordre: str) -> tuple:
    return (cle.asc(), departage.asc()) if ordre == "asc" else (cle.desc(), departage.desc())


def ecrire_curseur(sens: str, valeur, ident: int) -> str:
    """Un curseur opaque : le sens (« apres », « avant ») et la clé (valeur du tri, id) d'une ligne."""
    valeur = "d" + valeur.isoformat() if isinstance(valeur, datetime) else "s" + str(valeur)
    return curseurs.emballer([sens, valeur, ident])


def lire_curseur(curseur: str | None) -> tuple[str, object, int] | None:
    """Le curseur relu, ou None s'il est absent ou illisible (la page se lit alors par son numéro)."""
    lu = curseurs.deballer(curseur)
    if not isinstance(lu, list) or len(lu) != 3:
        return None
    sens, valeur, ident = lu
    if (
        sens not in ("apres", "avant")
        or not isinstance(ident, int)
        or not isinstance(valeur, str)
        or not valeur
    ):
        return None
    try:
        return sens, (datetime.fromisoformat(valeur[1:]) if valeur[0] == "d" else valeur[1:]), ident
    except ValueError:
        return None


def page_demandes(
    espace: Espace,
    filtres: Filtres,
    onglet: str,
    total: int,
    *,
    tri: str = "transmise",
    ordre: str = "desc",
    page: int = 1,
    par_page: int = 25,
    curseur: str | None = None,
    plafonne: bool = False,
) -> Pagination:
    """Une page de l'onglet, paginée en SQL. Le total vient de `compter_par_onglet` (pas de second COUNT) ;
    `plafonne` : ce total s'est arrêté au plafond d'une recherche, il y a plus de lignes (la page en lit une
    de plus pour savoir s'il en existe une suivante, et la dernière page ne se calcule pas).

    En deux temps : les numéros (id) des demandes de la page, triés et limités, puis ces 25 demandes
    avec ce que la liste affiche. Joindre la structure et le contrat dans la requête triée les ferait
    lire pour toutes les lignes candidates (1 300 « à traiter » pour un gros financeur) avant le tri :
    mesuré à 6,8 ms contre 3,9 ms sans ces jointures (README, « Mesures »). Chargement groupé comme
    `dauphin.listes.paginer_demandes`, plus le gestionnaire des lignes : le nombre de requêtes ne
    dépend pas du nombre de lignes.
    """
    _preparer(filtres)
    cle_page = _cle_liste(espace, filtres, "page", onglet, tri, ordre)

    def construire(ordre=ordre):
        if espace.mode == "financeur" and not filtres.sur_la_demande and tri != "structure":
            # Les lignes du financeur seules (elles portent la date, le numéro, le montant, les deux statuts
            # et le vecteur) : une page lue par son numéro saute les précédentes dans l'index seul, sans lire
            # la demande de chacune (8 000 lectures pour la page 291 des « terminées » à 250 000 demandes).
            requete = _requete_lignes(espace, filtres, LigneFinancement.demande_id).where(
                LigneFinancement.transmise_le.is_not(None),
                conditions_onglets(espace.mode, constantes=True)[onglet],  # l'index partiel de l'onglet
            )
        else:
            requete = _requete(espace, filtres, Demande.id, avec_structure=tri == "structure").where(
                conditions_onglets(espace.mode)[onglet]
            )
        # Un financeur trie sur ses lignes, qui portent numéro et date de transmission de leur demande
        # (index ix_ligne_financement_organisation_numero et _transmise) : PostgreSQL lit ses lignes dans
        # l'ordre de l'index et s'arrête à la page.
        sur_la_ligne = espace.mode == "financeur"
        departage = LigneFinancement.demande_id if sur_la_ligne else Demande.id
        par_pertinence = False
        if tri == "pertinence" and filtres.recherche and recherche.plein_texte():
            # Le rang (ts_rank) des seules lignes trouvées par l'index GIN, puis la date : les plus récentes
            # d'abord à pertinence égale. Toujours décroissant.
            vecteur = recherche.VECTEUR_LIGNE if sur_la_ligne else recherche.VECTEUR_DEMANDE
            date = LigneFinancement.transmise_le if sur_la_ligne else Demande.transmise_le
            requete = requete.order_by(
                recherche.rang(vecteur, filtres.recherche).desc(), date.desc(), departage.desc()
            )
            ordre, cle, par_pertinence = None, None, True
        elif tri == "numero":
            cle = LigneFinancement.numero if sur_la_ligne else Demande.numero
            # Toujours vrai ici (numéro posé à la transmission) : PostgreSQL saute alors les brouillons, sans
            # numéro, qu'il trouvait en tête de l'index des numéros parcouru à rebours.
            requete = requete.where(cle.is_not(None))
        elif tri == "structure":
            cle = func.lower(Structure.raison_sociale)  # ordre alphabétique, pas celui des majuscules
        elif tri == "montant":
            cle = LigneFinancement.montant_demande if sur_la_ligne else montant_total_demande()
        else:
            cle = LigneFinancement.transmise_le if sur_la_ligne else Demande.transmise_le
        if cle is not None:
            requete = requete.order_by(*_ordre(cle, departage, ordre))
        return requete, cle, departage, par_pertinence, ordre

    requete, cle, departage, par_pertinence, ordre = _gardee(cle_page, construire)
    # Par curseur (keyset) quand le tri suit une colonne indexée : la page suivante, la précédente et la
    # dernière se lisent à partir de la clé d'une ligne, sans OFFSET qui relirait toutes les pages d'avant
    # (page 291 des « terminées » d'un gros financeur : 7 250 lignes lues pour en montrer 25).
    par_curseur = tri in TRIS_PAR_CURSEUR
    lu = lire_curseur(curseur) if par_curseur else None
    dernieres = max(1, -(-total // par_page))
    if par_curseur and lu is None and page > 1 and page == dernieres and not plafonne:
        lu = ("fin", None, None)
    lire = par_page + 1 if plafonne else par_page  # une de plus : y a-t-il une page suivante ?
    suite = True  # en lisant à rebours (« page précédente »), la page d'où l'on vient suit
    if lu is not None:
        sens, valeur, ident = lu
        inverse = sens in ("avant", "fin")
        if sens == "fin":
            page, limite = dernieres, total - (dernieres - 1) * par_page or par_page
        else:
            limite = par_page if inverse else lire
            apres_dans_l_ordre = (ordre == "asc") != inverse  # > si croissant, < sinon
            borne, repere = tuple_(cle, departage), tuple_(literal(valeur, cle.type), literal(ident, Integer))
            requete = requete.where(borne > repere if apres_dans_l_ordre else borne < repere)
        if inverse:
            requete = requete.order_by(None).order_by(
                *_ordre(cle, departage, "desc" if ordre == "asc" else "asc")
            )
        rangs = _lire(requete.add_columns(cle).limit(limite))
        if inverse:
            rangs.reverse()
        else:
            suite, rangs = len(rangs) > par_page, rangs[:par_page]
    else:
        colonnes = (cle,) if par_curseur else ()
        decalage = (max(page, 1) - 1) * par_page
        rangs = _lire(
            _gardee(
                (*cle_page, lire, decalage),
                lambda: requete.add_columns(*colonnes).limit(lire).offset(decalage),
            )
        )
        suite, rangs = len(rangs) > par_page, rangs[:par_page]
    ids = [rang[0] for rang in rangs]
    pagination = PageDeListe(
        page=max(page, 1), per_page=par_page, max_per_page=None, error_out=False, total=total, items=ids
    )
    pagination.plafonnee, pagination.suite = plafonne, suite
    pagination.curseur_precedent = pagination.curseur_suivant = None
    pagination.par_pertinence = par_pertinence  # rangée par ts_rank (PostgreSQL), pas par date
    if par_curseur and rangs:
        pagination.curseur_precedent = ecrire_curseur("avant", rangs[0][1], rangs[0][0])
        pagination.curseur_suivant = ecrire_curseur("apres", rangs[-1][1], rangs[-1][0])
    # Pour un financeur : sa seule ligne de chaque demande (statut, montant, nom du gestionnaire) et le
    # libellé du contrat, par demande. Des colonnes, pas des objets : la liste n'en lit que ces valeurs, et
    # construire 25 lignes de financement et leurs gestionnaires (fiches entières) coûtait plus que leur
    # requête. Lues avec les demandes (jointure sur sa ligne, une par demande) : une requête de moins.
    pagination.lignes = {}
    # (structure, financeur) → numéros des demandes en retard de compte rendu envers lui
    # (`comptes_rendus.retards_envers`), lus avec la page d'un financeur
    pagination.retards = {}
    if ids and espace.mode == "financeur":
        demandes = {}
        # Des rangées (`_lire`) : sans le passage de chaque rangée par le chargement de l'ORM
        for rang in _lire(
            _CHARGEMENT_FINANCEUR,
            {"ids": ids, "organisation_id": espace.organisation_id, "jour": aujourdhui()},
        ):
            demandes[rang.demande_id] = DemandeDeLaListe.de_la_rangee(rang)
            pagination.lignes[rang.demande_id] = rang
            if rang.retards:  # numéros de même forme (2026-000123) : l'ordre du texte est celui de la base
                cle = (rang.structure_id, espace.organisation_id)
                pagination.retards[cle] = sorted(rang.retards.split(" "))
        pagination.items = [demandes[i] for i in ids if i in demandes]  # une demande transmise reste
    elif ids:
        demandes = {d.id: d for d in db.session.scalars(_CHARGEMENT_CONTRATS, {"ids": ids})}
        pagination.items = [demandes[i] for i in ids if i in demandes]
    return pagination


# Les requêtes qui complètent une page (`page_demandes`), construites une fois, à l'import : les
# identifiants et le financeur en paramètres, leur clé de cache (options de chargement comprises) n'est
# plus calculée à chaque page.
_CHARGEMENT = (
    select(Demande)
    .where(Demande.id.in_(bindparam("ids", expanding=True)))
    .options(
        colonnes_de_liste(Demande.transmise_le),
        # Le nom de la structure et le libellé du contrat, pas leurs fiches entières
        joinedload(Demande.structure, innerjoin=True).load_only(Structure.raison_sociale, Structure.sigle),
        joinedload(Demande.campagne, innerjoin=True)
        .load_only(Campagne.contrat_id)
        .joinedload(Campagne.contrat, innerjoin=True)
        .load_only(ContratDeVille.libelle),
    )
)
_CHARGEMENT_CONTRATS = _CHARGEMENT.options(  # tous les financeurs sollicités et leurs montants
    selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation)
)
_gestionnaire = aliased(Utilisateur)
_tardive, _ligne_tardive = aliased(Demande), aliased(LigneFinancement)
# Les retards de compte rendu de la structure de chaque demande envers le financeur (la requête
# `comptes_rendus.retards_envers`, corrélée) : une colonne de la page plutôt qu'un aller-retour de plus.
# Numéros séparés par une espace (ils n'en ont pas) ; NULL sans retard.
_RETARDS_DE_LA_STRUCTURE = (
    select(func.aggregate_strings(_tardive.numero, " "))
    .join(CompteRendu, CompteRendu.demande_id == _tardive.id)
    .join(_ligne_tardive, _ligne_tardive.demande_id == _tardive.id)
    .where(
        _tardive.structure_id == Demande.structure_id,
        _ligne_tardive.organisation_id == bindparam("organisation_id"),
        condition_retard_envers(bindparam("jour"), _tardive, _ligne_tardive),
    )
    .correlate(Demande)
    .scalar_subquery()
)


class StructureDeLaListe(NamedTuple):
    """La structure d'une demande de la liste d'un financeur, ce qu'en lit la page (`nom` : la propriété même
    de `Structure`)."""

    raison_sociale: str
    sigle: str | None
    nom = vars(Structure)["nom"]


class DemandeDeLaListe(NamedTuple):
    """Une demande de la liste d'un financeur, lue en rangée : ce qu'en lisent la page et ses lignes
    (instruction/tableau.py ; `titre` : la propriété même de `Demande`)."""

    id: int
    numero: str | None
    intitule: str | None
    structure_id: int
    exercice: int
    statut: StatutDemande
    transmise_le: datetime | None
    structure: StructureDeLaListe
    titre = vars(Demande)["titre"]

    @classmethod
    def de_la_rangee(cls, rang) -> DemandeDeLaListe:
        return cls(
            rang.demande_id,
            rang.numero,
            rang.intitule,
            rang.structure_id,
            rang.exercice,
            rang.statut_demande,
            rang.transmise_le,
            StructureDeLaListe(rang.raison_sociale, rang.sigle),
        )


# Les demandes d'un financeur, chacune avec sa ligne (`pagination.lignes` : `statut` est celui de la ligne)
# et le libellé de son contrat, en colonnes : ni la demande, ni sa structure, ni la campagne et le contrat
# construits en objets (`DemandeDeLaListe`).
_CHARGEMENT_FINANCEUR = (
    select(
        LigneFinancement.demande_id,
        LigneFinancement.statut,
        LigneFinancement.montant_demande,
        _gestionnaire.nom_complet.label("gestionnaire"),
        ContratDeVille.libelle.label("contrat"),
        _RETARDS_DE_LA_STRUCTURE.label("retards"),
        Demande.numero,
        Demande.intitule,
        Demande.structure_id,
        Demande.exercice,
        Demande.statut.label("statut_demande"),
        Demande.transmise_le,
        Structure.raison_sociale,
        Structure.sigle,
    )
    .select_from(Demande)
    .join(
        LigneFinancement,
        and_(
            LigneFinancement.demande_id == Demande.id,
            LigneFinancement.organisation_id == bindparam("organisation_id"),
        ),
    )
    .join(Structure, Structure.id == Demande.structure_id)
    .join(Campagne, Campagne.id == Demande.campagne_id)
    .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
    .outerjoin(_gestionnaire, _gestionnaire.id == LigneFinancement.gestionnaire_id)
    # Les identifiants posés aussi sur la ligne : le plan générique (ordre préparé) lit alors les 25 lignes
    # par l'index unique (demande_id, organisation_id), au lieu de toutes celles du financeur (2 300 à
    # 25 000 demandes, 1,9 ms au lieu de 0,35), dont il ne connaît pas le nombre.
    .where(
        Demande.id.in_(bindparam("ids", expanding=True)),
        LigneFinancement.demande_id.in_(bindparam("ids", expanding=True)),
    )
)


@dataclass
class OptionsFiltres:
    contrats: list[tuple[int, str]]
    exercices: list[int]
    thematiques: list  # lignes (code, parent_code, libelle)
    qpvs: list  # lignes (id, code, libelle)


def options_filtres(espace: Espace, contrat_id: int | None = None) -> OptionsFiltres:
    """Les valeurs proposées par les listes de filtres, limitées au périmètre de l'espace : contrats (et
    exercices), quartiers de ces contrats et thématiques actives, en une requête (`_OPTIONS_FINANCEUR`)."""
    if espace.mode == "financeur":
        rangees = _lire(_OPTIONS_FINANCEUR, {"organisation_id": espace.organisation_id})
    else:
        rangees = _lire(_OPTIONS_CONTRATS, {"contrats": list(espace.contrat_ids)})
    lignes, qpvs, thematiques = [], [], []
    par_genre = (lignes, qpvs, thematiques)
    for rangee in rangees:
        par_genre[rangee.genre].append(rangee)
    contrats = sorted({(r.id, f"{r.libelle} ({r.code})") for r in lignes}, key=lambda c: c[1])
    exercices = sorted({r.nombre for r in lignes}, reverse=True)
    if contrat_id in {c[0] for c in contrats}:  # les quartiers du seul contrat choisi
        qpvs = [q for q in qpvs if q.nombre == contrat_id]
    return OptionsFiltres(contrats, exercices, thematiques, qpvs)


# Les listes de filtres (`options_filtres`), lues à chaque page de l'espace d'instruction : une requête,
# construite une fois par processus, le financeur ou les contrats en paramètres. Trois genres de rangées
# de mêmes colonnes (UNION ALL) : 0, les contrats du périmètre et l'exercice de chaque campagne (`nombre`) ;
# 1, les quartiers de ces contrats (leur contrat dans `nombre`), par libellé et code ; 2, les thématiques
# actives (leur pilier dans `parent_code`), par ordre et code. Les rangées se lisent par leurs noms (id,
# code, libelle, parent_code), comme les lignes des trois requêtes qu'elle remplace.


def _options(perimetre) -> Select:
    """`perimetre` : complète la requête des contrats et de leurs campagnes (jointure, condition). Lue une
    fois (CTE) pour les contrats et pour leurs quartiers."""
    rien = null().cast(String)
    contrats = perimetre(
        select(ContratDeVille.id, ContratDeVille.code, ContratDeVille.libelle, Campagne.exercice).join(
            Campagne, Campagne.contrat_id == ContratDeVille.id
        )
    ).cte("perimetre")
    branches = (
        select(
            literal(0).label("genre"),
            contrats.c.id,
            contrats.c.code,
            contrats.c.libelle,
            rien.label("parent_code"),
            contrats.c.exercice.label("nombre"),
            null().cast(Integer).label("tri_ordre"),
            rien.label("tri_libelle"),
        ),
        select(
            literal(1), Qpv.id, Qpv.code, Qpv.libelle, rien, Qpv.contrat_id, null().cast(Integer), Qpv.libelle
        ).where(Qpv.contrat_id.in_(select(contrats.c.id))),
        select(
            literal(2),
            null().cast(Integer),
            Thematique.code,
            Thematique.libelle,
            Thematique.parent_code,
            null().cast(Integer),
            Thematique.ordre,
            rien,
        ).where(Thematique.actif),
    )
    options = union_all(*branches).subquery()
    return select(
        options.c.genre,
        options.c.id,
        options.c.code,
        options.c.libelle,
        options.c.parent_code,
        options.c.nombre,
    ).order_by(options.c.genre, options.c.tri_ordre, options.c.tri_libelle, options.c.code)


_OPTIONS_FINANCEUR = _options(
    lambda contrats: contrats.join(Enveloppe, Enveloppe.campagne_id == Campagne.id).where(
        Enveloppe.organisation_id == bindparam("organisation_id")
    )
)
_OPTIONS_CONTRATS = _options(
    lambda contrats: contrats.where(ContratDeVille.id.in_(bindparam("contrats", expanding=True)))
)


# --- Ce que l'instructeur consulte pour décider -----------------------------------------------


HISTORIQUE_MAX = 50


@dataclass(frozen=True)
class AutreDemande:
    """Une ligne du tableau « autres demandes de la structure » (lue en une requête, sans objets ORM)."""

    id: int
    numero: str | None
    titre: str
    contrat: str
    exercice: int
    statut: StatutDemande
    montant_demande: Decimal
    montant_vote: Decimal | None  # None : aucun financeur n'a encore voté


@dataclass
class AutresDemandes:
    meme_exercice: list[AutreDemande]
    precedentes: list[AutreDemande]
    tronque: bool


# Les colonnes du tableau, le libellé du contrat et les montants sommés par des sous-requêtes (la somme des
# votes est NULL tant qu'aucun n'est connu) ; la demande en paramètres. Construite une fois, complétée de la
# clause de visibilité de l'acteur par `_par_portee`.
_AUTRES_DEMANDES = (
    select(
        Demande.id,
        Demande.numero,
        Demande.intitule,
        ContratDeVille.libelle,
        Demande.exercice,
        Demande.statut,
        select(func.coalesce(func.sum(LigneFinancement.montant_demande), 0))
        .where(LigneFinancement.demande_id == Demande.id)
        .correlate(Demande)
        .scalar_subquery(),
        select(func.sum(LigneFinancement.montant_vote))
        .where(LigneFinancement.demande_id == Demande.id)
        .correlate(Demande)
        .scalar_subquery(),
    )
    .join(Campagne, Campagne.id == Demande.campagne_id)
    .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
    .where(
        Demande.structure_id == bindparam("structure_id"),
        Demande.id != bindparam("demande_id"),
        Demande.exercice <= bindparam("exercice"),
    )
    .order_by(Demande.exercice.desc(), Demande.numero.desc())
    .limit(HISTORIQUE_MAX + 1)
)


def _par_portee(nom: str, acteur, construire) -> Select:
    """Une requête dont la clause de visibilité dépend de l'acteur, construite une fois par portée (gardée
    par `_gardee`) et non à chaque vue. La clé est tout l'acteur, identifiant compris, lu de la classe : un
    rattachement ajouté demain y entre, et une règle qui lirait l'identifiant du compte ne pourrait pas
    servir la clause d'un autre compte aux mêmes rattachements."""
    cle = ("portee", nom, *(_figee(getattr(acteur, champ.name)) for champ in fields(acteur)))
    return _gardee(cle, lambda: construire(acteur))


def autres_demandes(demande: Demande, utilisateur: Utilisateur) -> AutresDemandes:
    """Les autres demandes de la structure cet exercice et les exercices précédents, que l'utilisateur
    a le droit de voir (un partenaire du contrat A ne voit rien du contrat B). Une seule requête, lue par
    la connexion (Core), sans l'autoflush de la session : une lecture pour une vue GET ; un appelant qui a
    des changements en attente dans la session doit d'abord faire `db.session.flush()`."""
    requete = _par_portee(
        "autres_demandes", acteur_de(utilisateur), lambda a: _AUTRES_DEMANDES.where(VOIR_DEMANDE.clause(a))
    )
    # Des colonnes seules, lues au niveau Core (sans le passage par l'ORM de la session).
    parametres = {
        "structure_id": demande.structure_id,
        "demande_id": demande.id,
        "exercice": demande.exercice,
    }
    lignes = db.session.connection().execute(requete, parametres).all()
    trouvees = [
        AutreDemande(
            id=i,
            numero=numero,
            titre=intitule or "Demande sans intitulé",
            contrat=contrat,
            exercice=exercice,
            statut=statut,
            montant_demande=Decimal(demande_total),
            montant_vote=vote_total,
        )
        for i, numero, intitule, contrat, exercice, statut, demande_total, vote_total in lignes
    ]
    tronque = len(trouvees) > HISTORIQUE_MAX
    trouvees = trouvees[:HISTORIQUE_MAX]
    return AutresDemandes(
        [d for d in trouvees if d.exercice == demande.exercice],
        [d for d in trouvees if d.exercice < demande.exercice],
        tronque,
    )


# --- Gestionnaire nommé -------------------------------------------------------------------------


def ligne_assignable(ligne: LigneFinancement) -> bool:
    """Un gestionnaire se désigne tant que le financeur est sollicité (ligne pas sans suite)."""
    return ligne.statut != L.abandonnee


def peut_assigner(utilisateur: Utilisateur, ligne: LigneFinancement) -> bool:
    """Un instructeur du financeur de la ligne, tant que la ligne n'est pas sans suite."""
    return ligne_assignable(ligne) and INSTRUIRE_LIGNE.permet(utilisateur, ligne)


_INSTRUCTEURS_ACTIFS = (
    MembreOrganisation.organisation_id.in_(bindparam("organisations", expanding=True)),
    MembreOrganisation.role == RoleOrganisation.instructeur,
    Utilisateur.actif,
)
_INSTRUCTEURS = (
    select(MembreOrganisation.organisation_id, Utilisateur)
    .join(Utilisateur, Utilisateur.id == MembreOrganisation.utilisateur_id)
    .where(*_INSTRUCTEURS_ACTIFS)
    .order_by(Utilisateur.nom, Utilisateur.prenom, Utilisateur.id)
)
# Les mêmes, en rangées de trois colonnes (organisation, identifiant, nom complet « prénom nom » comme
# `Utilisateur.nom_complet`) : la liste du gestionnaire sur la vue d'un dossier n'a besoin que de cela, sans
# objets de l'ORM (ni empreinte de mot de passe ou secret TOTP lus pour rien).
_NOMS_DES_INSTRUCTEURS = _INSTRUCTEURS.with_only_columns(
    MembreOrganisation.organisation_id,
    Utilisateur.id,
    Utilisateur.nom_complet.label("nom_complet"),
)


def instructeurs(organisation_ids) -> dict[int, list[Utilisateur]]:
    """Les instructeurs actifs de chaque organisation (choix du gestionnaire), en une requête."""
    resultat: dict[int, list[Utilisateur]] = defaultdict(list)
    if not organisation_ids:
        return resultat
    for organisation_id, utilisateur in db.session.execute(
        _INSTRUCTEURS, {"organisations": list(organisation_ids)}
    ):
        resultat[organisation_id].append(utilisateur)
    return resultat


def noms_des_instructeurs(organisation_ids) -> dict[int, list[Row]]:
    """Comme `instructeurs`, en rangées (`id`, `nom_complet`) : pour les choix du gestionnaire. Lu par la
    connexion (Core), sans l'autoflush de la session : une lecture pour une vue GET ; un appelant qui a des
    changements en attente dans la session doit d'abord faire `db.session.flush()`."""
    resultat: dict[int, list[Row]] = defaultdict(list)
    for rangee in db.session.connection().execute(
        _NOMS_DES_INSTRUCTEURS, {"organisations": list(organisation_ids)}
    ):
        resultat[rangee.organisation_id].append(rangee)
    return resultat


def assigner_gestionnaire(
    ligne_id: int, gestionnaire_id: int | None, utilisateur: Utilisateur, *, version: int | str | None = None
) -> LigneFinancement:
    """Désigne (ou retire, avec None) le gestionnaire nommé d'une ligne, parmi les instructeurs du financeur.

    Ce n'est pas un changement de statut : le journal en garde une ligne « assigner_gestionnaire » dont le
    statut avant et après est le même, écrite dans la même transaction. Le gestionnaire désigné par un
    collègue en est informé par courriel.
    """

    def operation():
        demande, ligne = charger_ligne_verrouillee(ligne_id, version)
        if not peut_assigner(utilisateur, ligne):
            raise NonAutorise("assigner_gestionnaire")
        gestionnaire = None
        if gestionnaire_id is not None:
            gestionnaire = next(
                (
                    u
                    for u in instructeurs([ligne.organisation_id])[ligne.organisation_id]
                    if u.id == gestionnaire_id
                ),
                None,
            )
            if gestionnaire is None:
                raise Refus("Choisissez un instructeur de votre organisation.", "gestionnaire_id")
        if ligne.gestionnaire_id == gestionnaire_id:
            return ligne  # rien ne change : ni écriture ni journal
        ligne.gestionnaire_id = gestionnaire_id
        commentaire = (
            f"Gestionnaire : {gestionnaire.nom_complet}." if gestionnaire else "Gestionnaire retiré."
        )
        qualite = Qualite("instructeur", organisation_id=ligne.organisation_id)
        journaliser(
            demande,
            ligne,
            "assigner_gestionnaire",
            ligne.statut,
            ligne.statut,
            utilisateur,
            qualite,
            commentaire,
        )
        if gestionnaire is not None and gestionnaire.id != utilisateur.id:
            courriels.ecrire_message(
                "gestionnaire_designe",
                gestionnaire.email,
                demande,
                auteur=utilisateur.nom_complet,
                financeur=ligne.organisation.nom,
            )
        return ligne

    return en_une_transaction(operation)


# --- Notes partagées et privées ---------------------------------------------------------------

ROLES_NOTES = frozenset({"instructeur", "partenaire", "pilote"})


def organisations_pour_notes(utilisateur: Utilisateur, demande: Demande) -> list[Organisation]:
    """Au nom de quelles organisations l'utilisateur peut écrire une note sur ce dossier."""
    if demande.numero is None:
        return []
    ids = {q.organisation_id for q in qualites(utilisateur, demande) if q.role in ROLES_NOTES}
    ids.discard(None)
    if not ids:
        return []
    # Les organisations de ses rattachements sont chargées avec le compte ; celle d'un pilotage, à lire.
    connues = {a.organisation_id: a.organisation for a in utilisateur.adhesions_organisations}
    if ids <= connues.keys():
        organisations = [connues[i] for i in ids]
    else:
        organisations = db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))).all()
    return sorted(organisations, key=lambda o: (cle_alphabetique(o.nom), o.id))


_NOTES = (
    select(Note)
    .where(Note.demande_id == bindparam("demande_id"))
    .order_by(Note.id)
    .options(joinedload(Note.auteur), joinedload(Note.organisation))
)


def notes_visibles(demande: Demande, utilisateur: Utilisateur) -> list[Note]:
    """Les notes partagées, et les notes privées des organisations de l'utilisateur. Jamais au porteur.

    `LIRE_NOTE` sur les notes d'un seul dossier, dont l'instruction vient d'être vérifiée visible : reste sa
    seconde condition (`LIRE_NOTE.lisibles`), dans une requête construite une fois par portée (sans la
    sous-requête des dossiers visibles, 2 ms de planification)."""
    if not voit_instruction(utilisateur, demande):
        return []
    requete = _par_portee("notes", acteur_de(utilisateur), lambda a: _NOTES.where(LIRE_NOTE.lisibles(a)))
    return list(db.session.scalars(requete, {"demande_id": demande.id}))


def ajouter_note(
    demande_id: int, utilisateur: Utilisateur, organisation_id: int, texte: str, partagee: bool
) -> Note:
    demande = db.session.get(Demande, demande_id)
    if demande is None:
        raise NotFound()
    if organisation_id not in {o.id for o in organisations_pour_notes(utilisateur, demande)}:
        raise NonAutorise("ajouter_note")
    texte = (texte or "").strip()
    if not texte:
        raise Refus("Écrivez le texte de la note.", "texte")
    note = Note(
        demande_id=demande.id,
        organisation_id=organisation_id,
        auteur_id=utilisateur.id,
        partagee=partagee,
        texte=texte,
    )
    db.session.add(note)
    db.session.commit()
    return note


# --- Enveloppes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LigneEnveloppe:
    organisation: str
    contrat: str
    code_contrat: str
    exercice: int
    total: Decimal
    vote: Decimal
    verse: Decimal

    @property
    def reste(self) -> Decimal:
        return self.total - self.vote


def options_enveloppes(utilisateur: Utilisateur) -> tuple[list[int], list[tuple[int, str]]]:
    perimetre = VOIR_ENVELOPPE.portee(utilisateur)
    lignes = db.session.execute(
        select(Campagne.exercice, ContratDeVille.id, ContratDeVille.libelle, ContratDeVille.code)
        .select_from(Enveloppe)
        .join(Campagne, Campagne.id == Enveloppe.campagne_id)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .where(perimetre)
        .distinct()
    ).all()
    exercices = sorted({r.exercice for r in lignes}, reverse=True)
    contrats = sorted({(r.id, f"{r.libelle} ({r.code})") for r in lignes}, key=lambda c: c[1])
    return exercices, contrats


def _meme_enveloppe(table, campagne_id, organisation_id):
    """Jointure d'une sous-requête sur le couple (campagne, financeur) qui désigne une enveloppe."""
    return and_(table.c.campagne_id == campagne_id, table.c.organisation_id == organisation_id)


def enveloppes(
    utilisateur: Utilisateur, exercice: int | None = None, contrat_id: int | None = None
) -> list[LigneEnveloppe]:
    """Par financeur × contrat × exercice : total, engagé (voté), versé et reste. Une requête : les montants
    des lignes sont agrégés par (campagne, financeur) puis joints aux enveloppes visibles."""
    perimetre = VOIR_ENVELOPPE.portee(utilisateur)
    visibles = (
        select(Enveloppe.campagne_id, Enveloppe.organisation_id)
        .join(Campagne, Campagne.id == Enveloppe.campagne_id)
        .where(perimetre)
    )
    if exercice is not None:
        visibles = visibles.where(Campagne.exercice == exercice)
    if contrat_id is not None:
        visibles = visibles.where(Campagne.contrat_id == contrat_id)
    paires = visibles.subquery()
    montants = (
        select(
            Demande.campagne_id,
            LigneFinancement.organisation_id,
            func.coalesce(func.sum(LigneFinancement.montant_vote), 0).label("vote"),
            func.coalesce(func.sum(LigneFinancement.montant_verse), 0).label("verse"),
        )
        .select_from(Demande)
        .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
        .join(paires, _meme_enveloppe(paires, Demande.campagne_id, LigneFinancement.organisation_id))
        # Redondant avec la jointure, mais part de l'index demande (campagne_id, statut) : seules les
        # demandes des campagnes affichées sont lues.
        .where(Demande.campagne_id.in_(select(paires.c.campagne_id)))
        .group_by(Demande.campagne_id, LigneFinancement.organisation_id)
        .subquery()
    )
    requete = (
        visibles.with_only_columns(
            Organisation.nom,
            ContratDeVille.libelle,
            ContratDeVille.code,
            Campagne.exercice,
            Enveloppe.montant,
            func.coalesce(montants.c.vote, 0),
            func.coalesce(montants.c.verse, 0),
            maintain_column_froms=True,
        )
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .join(Organisation, Organisation.id == Enveloppe.organisation_id)
        .outerjoin(montants, _meme_enveloppe(montants, Enveloppe.campagne_id, Enveloppe.organisation_id))
        .order_by(Campagne.exercice.desc(), ContratDeVille.libelle, Organisation.nom)
    )
    return [
        LigneEnveloppe(nom, libelle, code, annee, Decimal(total), Decimal(vote), Decimal(verse))
        for nom, libelle, code, annee, total, vote, verse in db.session.execute(requete)
    ]
