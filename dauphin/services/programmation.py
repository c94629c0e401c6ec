"""Programmation d'un contrat de ville pour un exercice (une campagne), et programmation nationale.

Une ligne par demande transmise : numéro, structure, intitulé, thématique, QPV, statut, et pour chaque
financeur de la campagne les montants demandé, proposé, voté et versé de sa ligne (les lignes « sans
suite » — financeur retiré du budget par le porteur — ne comptent pas). Totaux par financeur et par pilier
de la nomenclature, consommation des enveloppes.

Tout est calculé en SQL, en un nombre de requêtes fixe quel que soit le nombre de demandes :
- les montants de chaque demande sont « pivotés » en une seule requête (une colonne SUM(CASE …) par
  financeur et par montant), sur les seules lignes des demandes du périmètre (campagne ou exercice) ;
- les QPV sont concaténés par demande (string_agg / group_concat) ;
- la page de l'écran est un LIMIT/OFFSET sur l'index `demande (campagne_id, statut)`, celle de l'API une
  page par curseur sur (modifie_le, id) (`programmation_par_curseur`) ; l'export parcourt la même
  requête avec un curseur côté serveur (`yield_per`) : la mémoire ne dépend pas du nombre de lignes.

API sans Flask ni vue (réutilisable par une API JSON) : `programmation()` rend une page et ses totaux en
données simples, `iterer_lignes()` et `iterer_lignes_nationales()` les lignes d'un export.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select, type_coerce

from dauphin.extensions import db
from dauphin.libelles import cle_alphabetique
from dauphin.listes import NUMERO_COMPLET, condition_numero, contient
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    Enveloppe,
    LigneFinancement,
    Organisation,
    Qpv,
    Structure,
    Thematique,
    TypeOrganisation,
    demande_qpv,
)
from dauphin.models.types import Montant
from dauphin.policies import VOIR_PROGRAMMATION
from dauphin.services import curseurs
from workflows import StatutDemande, StatutLigne

ZERO = Decimal("0.00")
CHAMPS = ("demande", "propose", "vote", "verse")
LIBELLES_CHAMPS = {"demande": "demandé", "propose": "proposé", "vote": "voté", "verse": "versé"}


# --- Données rendues ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Montants:
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    vote: Decimal = ZERO
    verse: Decimal = ZERO

    def __add__(self, autre: Montants) -> Montants:
        return Montants(
            self.demande + autre.demande,
            self.propose + autre.propose,
            self.vote + autre.vote,
            self.verse + autre.verse,
        )

    @property
    def non_nul(self) -> bool:
        """Vrai si un des quatre montants n'est pas nul."""
        return bool(self.demande or self.propose or self.vote or self.verse)

    def en_dict(self) -> dict[str, str]:
        return {c: str(getattr(self, c)) for c in CHAMPS}


@dataclass(frozen=True)
class Financeur:
    """Une colonne de financeur : une organisation (campagne) ou un type d'organisation (national)."""

    cle: Any
    nom: str


@dataclass(frozen=True)
class LigneProgrammation:
    demande_id: int
    numero: str
    exercice: int
    contrat_code: str
    contrat_libelle: str
    departement: str
    structure: str
    siret: str
    intitule: str
    thematique_code: str | None
    thematique_libelle: str | None
    pilier_code: str | None
    qpvs: tuple[str, ...]
    statut: StatutDemande
    montants: dict[Any, Montants]  # par clé de financeur
    total: Montants

    @cached_property
    def montants_non_nuls(self) -> list[tuple[Any, Montants]]:
        """Les financeurs de la demande : ceux dont un montant n'est pas nul (dans l'ordre des colonnes).
        Calculé une fois : la page le lit deux fois par ligne (bouton de détail et sous-lignes)."""
        return [(cle, m) for cle, m in self.montants.items() if m.non_nul]

    @cached_property
    def cles_non_nulles(self) -> list[Any]:
        """Les clés de ces financeurs (ids des sous-lignes de détail)."""
        return [cle for cle, _ in self.montants_non_nuls]

    def en_dict(self) -> dict[str, Any]:
        return {
            "id": self.demande_id,
            "numero": self.numero,
            "exercice": self.exercice,
            "contrat": {"code": self.contrat_code, "libelle": self.contrat_libelle},
            "departement": self.departement,
            "structure": {"nom": self.structure, "siret": self.siret},
            "intitule": self.intitule,
            "thematique": {"code": self.thematique_code, "libelle": self.thematique_libelle},
            "pilier": self.pilier_code,
            "qpv": list(self.qpvs),
            "statut": self.statut.value,
            "montants": {str(cle): m.en_dict() for cle, m in self.montants.items()},
            "total": self.total.en_dict(),
        }


@dataclass(frozen=True)
class TotalPilier:
    code: str | None
    libelle: str
    nombre: int
    montants: Montants


@dataclass(frozen=True)
class ConsommationEnveloppe:
    organisation_id: int
    organisation: str
    total: Decimal
    engage: Decimal  # voté
    verse: Decimal

    @property
    def reste(self) -> Decimal:
        return self.total - self.engage

    @property
    def taux(self) -> int:
        """Part engagée de l'enveloppe, en pourcentage entier (0 pour une enveloppe nulle)."""
        return int(self.engage * 100 / self.total) if self.total else 0


@dataclass
class Filtres:
    statut: StatutDemande | None = None
    thematique: str | None = None  # un pilier (« 1 ») vaut lui et ses sous-thèmes
    qpv_id: int | None = None
    financeur_id: int | None = None
    recherche: str | None = None

    @property
    def actifs(self) -> bool:
        return any((self.statut, self.thematique, self.qpv_id, self.financeur_id, self.recherche))

    @cached_property
    def codes_thematiques(self) -> list[str] | None:
        """Les codes du filtre thématique, lus une fois (un pilier : lui et ses sous-thèmes) ; None sans
        filtre thématique."""
        return thematiques_du_filtre(self.thematique) if self.thematique else None


@dataclass
class Programmation:
    campagne_id: int
    exercice: int
    contrat_id: int
    contrat_code: str
    contrat_libelle: str
    financeurs: list[Financeur]
    lignes: list[LigneProgrammation]
    total: int  # demandes correspondant aux filtres (toutes pages)
    page: int
    par_page: int
    totaux_financeurs: dict[int, Montants]
    total_general: Montants
    piliers: list[TotalPilier]
    enveloppes: list[ConsommationEnveloppe] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.par_page))

    @cached_property
    def noms_financeurs(self) -> dict[Any, str]:
        """Le nom de chaque financeur par sa clé : les sous-lignes de détail de la page suivent
        `LigneProgrammation.montants_non_nuls`, déjà dans l'ordre des colonnes (celui de `financeurs`)."""
        return {f.cle: f.nom for f in self.financeurs}

    def en_dict(self) -> dict[str, Any]:
        """Données simples (chaînes, nombres, listes) : prêtes pour une réponse JSON."""
        return {
            "campagne": self.campagne_id,
            "exercice": self.exercice,
            "contrat": {"id": self.contrat_id, "code": self.contrat_code, "libelle": self.contrat_libelle},
            "financeurs": [{"id": f.cle, "nom": f.nom} for f in self.financeurs],
            "demandes": [ligne.en_dict() for ligne in self.lignes],
            "pagination": {"page": self.page, "par_page": self.par_page, "total": self.total},
            "totaux": {
                "financeurs": {str(cle): m.en_dict() for cle, m in self.totaux_financeurs.items()},
                "general": self.total_general.en_dict(),
                "piliers": [
                    {"code": p.code, "libelle": p.libelle, "nombre": p.nombre, **p.montants.en_dict()}
                    for p in self.piliers
                ],
            },
            "enveloppes": [
                {
                    "financeur": e.organisation_id,
                    "nom": e.organisation,
                    "total": str(e.total),
                    "engage": str(e.engage),
                    "verse": str(e.verse),
                    "reste": str(e.reste),
                }
                for e in self.enveloppes
            ],
        }


# --- Requêtes -------------------------------------------------------------------------------------


def _pilier():
    """Le pilier (1er niveau de la nomenclature) de la thématique jointe."""
    return func.coalesce(Thematique.parent_code, Thematique.code)


def _concatener(colonne):
    if db.engine.dialect.name == "postgresql":
        return func.string_agg(colonne, ",")
    return func.group_concat(colonne, ",")


def thematiques_du_filtre(code: str) -> list[str]:
    """Un pilier vaut lui et ses sous-thèmes ; un sous-thème, lui seul."""
    return list(
        db.session.scalars(
            select(Thematique.code).where(or_(Thematique.code == code, Thematique.parent_code == code))
        )
    )


def _demandes(portee: ColumnElement[bool], filtres: Filtres | None) -> Select:
    """SELECT demande.id du périmètre (demandes transmises) et des filtres : sous-requête réutilisée."""
    return _filtrer(select(Demande.id), portee, filtres)


def filtrer_dossiers(
    requete: Select, statut: StatutDemande | None, thematiques: list[str] | None, qpv_id: int | None
) -> Select:
    """Les filtres sur le dossier que la programmation et les listes d'instruction partagent : statut,
    codes thématiques (None : pas de filtre ; une liste vide : aucun dossier), quartier prioritaire."""
    if statut is not None:
        requete = requete.where(Demande.statut == statut)
    if thematiques is not None:
        requete = requete.where(Demande.thematique_code.in_(thematiques))
    if qpv_id is not None:
        requete = requete.where(
            Demande.id.in_(select(demande_qpv.c.demande_id).where(demande_qpv.c.qpv_id == qpv_id))
        )
    return requete


def _filtrer(requete: Select, portee: ColumnElement[bool], filtres: Filtres | None) -> Select:
    """Les conditions du périmètre et des filtres, posées sur une requête qui lit `demande`.

    Posées directement (plutôt que `demande_id IN (…)`), elles laissent PostgreSQL partir de l'index
    `demande (campagne_id, statut)` puis descendre aux lignes par leur index (demande_id, …) : sans quoi il
    parcourt les 750 000 lignes de financement pour une campagne de quelques milliers de demandes."""
    requete = requete.where(portee, Demande.numero.is_not(None))
    filtres = filtres or Filtres()
    requete = filtrer_dossiers(requete, filtres.statut, filtres.codes_thematiques, filtres.qpv_id)
    if filtres.financeur_id is not None:
        requete = requete.where(
            Demande.id.in_(
                select(LigneFinancement.demande_id).where(
                    LigneFinancement.organisation_id == filtres.financeur_id,
                    LigneFinancement.statut != StatutLigne.abandonnee,
                )
            )
        )
    if filtres.recherche:
        texte = filtres.recherche.strip()
        if NUMERO_COMPLET.fullmatch(texte):
            requete = requete.where(Demande.numero == texte)
        else:
            requete = requete.where(
                or_(
                    condition_numero(texte, Demande.numero, Demande.exercice),
                    contient(texte, Demande.intitule),
                    Demande.structure_id.in_(
                        select(Structure.id).where(
                            or_(
                                contient(texte, Structure.raison_sociale, Structure.sigle),
                                Structure.siret == texte.replace(" ", ""),
                            )
                        )
                    ),
                )
            )
    return requete


def _lignes_actives():
    return LigneFinancement.statut != StatutLigne.abandonnee


def _requete_lignes(portee: ColumnElement[bool], filtres: Filtres | None, cle, cles: list) -> Select:
    """Une ligne par demande : identité, thématique, QPV concaténés et montants pivotés par financeur.

    `cle` : l'expression qui range une ligne de financement sous un financeur (organisation_id, ou le
    type de l'organisation pour la programmation nationale) ; `cles` : les valeurs à mettre en colonnes.
    """
    perimetre = select(Demande.id).where(portee, Demande.numero.is_not(None))
    colonnes_montants = []
    for i, valeur in enumerate(cles):
        for champ, colonne in (
            ("demande", LigneFinancement.montant_demande),
            ("propose", LigneFinancement.montant_propose),
            ("vote", LigneFinancement.montant_vote),
            ("verse", LigneFinancement.montant_verse),
        ):
            colonnes_montants.append(
                type_coerce(func.sum(case((cle == valeur, colonne))), Montant()).label(f"m{i}_{champ}")
            )
    montants = select(LigneFinancement.demande_id, *colonnes_montants).where(
        LigneFinancement.demande_id.in_(perimetre), _lignes_actives()
    )
    if cle is not LigneFinancement.organisation_id:  # rangées par type d'organisation
        montants = montants.join(Organisation, Organisation.id == LigneFinancement.organisation_id)
    montants = montants.group_by(LigneFinancement.demande_id).subquery("montants")
    qpvs = (
        select(demande_qpv.c.demande_id, _concatener(Qpv.code).label("codes"))
        .join(Qpv, Qpv.id == demande_qpv.c.qpv_id)
        .where(demande_qpv.c.demande_id.in_(perimetre))
        .group_by(demande_qpv.c.demande_id)
        .subquery("qpvs")
    )
    return (
        select(
            Demande.id,
            Demande.numero,
            Demande.exercice,
            ContratDeVille.code,
            ContratDeVille.libelle,
            ContratDeVille.departement,
            Structure.raison_sociale,
            Structure.sigle,
            Structure.siret,
            Demande.intitule,
            Demande.thematique_code,
            Thematique.libelle,
            _pilier().label("pilier"),
            qpvs.c.codes,
            Demande.statut,
            *[montants.c[f"m{i}_{champ}"] for i in range(len(cles)) for champ in CHAMPS],
        )
        .select_from(Demande)
        .join(Campagne, Campagne.id == Demande.campagne_id)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .join(Structure, Structure.id == Demande.structure_id)
        .outerjoin(Thematique, Thematique.code == Demande.thematique_code)
        .outerjoin(qpvs, qpvs.c.demande_id == Demande.id)
        .outerjoin(montants, montants.c.demande_id == Demande.id)
        .where(Demande.id.in_(_demandes(portee, filtres)))
    )


MONTANTS_NULS = Montants()  # partagé (immuable) par les financeurs qu'une demande ne sollicite pas


@lru_cache(maxsize=256)
def _requete_de_page(_dialecte: str, cles: tuple) -> Select:
    """La requête des lignes d'une page (`_requete_lignes` sur les demandes du paramètre `ids`), construite
    une fois par jeu de financeurs (et par dialecte : `_concatener` en dépend) au lieu d'une fois par
    page : 4 colonnes par financeur, 7 000 appels de fonctions Python pour une campagne de six financeurs."""
    ids = bindparam("ids", expanding=True)
    return _requete_lignes(Demande.id.in_(ids), None, LigneFinancement.organisation_id, list(cles))


def _ligne(rangee, cles: list) -> LigneProgrammation:
    montants: dict[Any, Montants] = {}
    demande = propose = vote = verse = ZERO
    for i, valeur in enumerate(cles):
        base = 15 + 4 * i
        d, p, v, ve = rangee[base : base + 4]
        if d is None and p is None and v is None and ve is None:  # financeur non sollicité
            montants[valeur] = MONTANTS_NULS
            continue
        m = montants[valeur] = Montants(
            ZERO if d is None else d,
            ZERO if p is None else p,
            ZERO if v is None else v,
            ZERO if ve is None else ve,
        )
        demande, propose, vote, verse = (
            demande + m.demande,
            propose + m.propose,
            vote + m.vote,
            verse + m.verse,
        )
    total = Montants(demande, propose, vote, verse)
    sigle = rangee[7]
    return LigneProgrammation(
        demande_id=rangee[0],
        numero=rangee[1],
        exercice=rangee[2],
        contrat_code=rangee[3],
        contrat_libelle=rangee[4],
        departement=rangee[5],
        structure=f"{rangee[6]} ({sigle})" if sigle else rangee[6],
        siret=rangee[8],
        intitule=rangee[9] or "Demande sans intitulé",
        thematique_code=rangee[10],
        thematique_libelle=rangee[11],
        pilier_code=rangee[12],
        qpvs=tuple(sorted(rangee[13].split(","))) if rangee[13] else (),
        statut=StatutDemande(rangee[14]),
        montants=montants,
        total=total,
    )


def _somme(colonne):
    return type_coerce(func.coalesce(func.sum(colonne), 0), Montant())


def _sommes():
    return (
        _somme(LigneFinancement.montant_demande),
        _somme(LigneFinancement.montant_propose),
        _somme(LigneFinancement.montant_vote),
        _somme(LigneFinancement.montant_verse),
    )


@dataclass
class SommesCampagne:
    """Ce qu'une campagne somme sur ses lignes de financement, lu en un seul parcours des lignes de ses
    demandes (`sommes_campagne`) : ses financeurs, les totaux par financeur et par pilier, la consommation
    des enveloppes. Auparavant quatre requêtes relisaient chacune ces mêmes 2 600 lignes (966 demandes)."""

    financeurs: list[Financeur]
    totaux_financeurs: dict[int, Montants]
    piliers: list[TotalPilier]
    enveloppes: list[ConsommationEnveloppe]


def _sommes_par_financeur_et_pilier(portee, filtres: Filtres | None) -> list:
    """(financeur, pilier, sans suite ?, sommes des quatre montants) des lignes des demandes du périmètre
    et des filtres : une requête groupée, une rangée par triplet (quelques dizaines)."""
    pilier = _pilier()
    sans_suite = LigneFinancement.statut == StatutLigne.abandonnee
    return db.session.execute(
        _filtrer(
            select(LigneFinancement.organisation_id, pilier, sans_suite, *_sommes())
            .select_from(Demande)
            .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
            .outerjoin(Thematique, Thematique.code == Demande.thematique_code),
            portee,
            filtres,
        ).group_by(LigneFinancement.organisation_id, pilier, sans_suite)
    ).all()


def _totaux_et_piliers(portee, filtres: Filtres | None, rangees) -> tuple[dict, list[TotalPilier]]:
    """Les totaux par financeur et par pilier (lignes actives) tirés des rangées groupées, et le nombre
    de demandes de chaque pilier (une requête sur les seules demandes)."""
    totaux: dict[int, Montants] = {}
    par_pilier: dict[str | None, Montants] = {}
    for organisation_id, code, sans_suite, *sommes in rangees:
        if sans_suite:
            continue
        montants = Montants(*sommes)
        totaux[organisation_id] = totaux.get(organisation_id, Montants()) + montants
        par_pilier[code] = par_pilier.get(code, Montants()) + montants
    pilier = _pilier()
    nombres = db.session.execute(
        _filtrer(
            select(pilier, func.count())
            .select_from(Demande)
            .outerjoin(Thematique, Thematique.code == Demande.thematique_code),
            portee,
            filtres,
        ).group_by(pilier)
    ).all()
    libelles = dict(db.session.execute(select(Thematique.code, Thematique.libelle)).all())
    piliers = [
        TotalPilier(
            code,
            libelles.get(code, "Sans thématique") if code else "Sans thématique",
            nombre,
            par_pilier.get(code, Montants()),
        )
        for code, nombre in nombres
    ]
    return totaux, sorted(piliers, key=lambda p: (p.code is None, p.code or ""))


def sommes_campagne(campagne_id: int) -> SommesCampagne:
    """Les financeurs, totaux (sans filtre) et enveloppes d'une campagne, en quatre petites requêtes dont
    une seule lit les lignes de financement (au lieu de quatre lectures de ces lignes)."""
    portee = Demande.campagne_id == campagne_id
    rangees = _sommes_par_financeur_et_pilier(portee, None)
    totaux, piliers = _totaux_et_piliers(portee, None, rangees)
    # Vote et versé par financeur, lignes sans suite comprises : ce qui est engagé sur l'enveloppe
    engages: dict[int, tuple[Decimal, Decimal]] = {}
    for organisation_id, _, _, _, _, vote, verse in rangees:
        avant = engages.get(organisation_id, (ZERO, ZERO))
        engages[organisation_id] = (avant[0] + vote, avant[1] + verse)
    enveloppes = db.session.execute(
        select(Enveloppe.organisation_id, Organisation.nom, Enveloppe.montant)
        .join(Organisation, Organisation.id == Enveloppe.organisation_id)
        .where(Enveloppe.campagne_id == campagne_id)
    ).all()
    noms = {organisation_id: nom for organisation_id, nom, _ in enveloppes}
    sans_enveloppe = [i for i in totaux if i not in noms]  # sollicités hors enveloppe
    if sans_enveloppe:
        noms.update(
            db.session.execute(
                select(Organisation.id, Organisation.nom).where(Organisation.id.in_(sans_enveloppe))
            ).all()
        )
    financeurs = sorted(
        (Financeur(i, noms[i]) for i in {*noms}), key=lambda f: (cle_alphabetique(f.nom), f.cle)
    )
    consommation = [
        ConsommationEnveloppe(organisation_id, nom, total, *engages.get(organisation_id, (ZERO, ZERO)))
        for organisation_id, nom, total in sorted(
            enveloppes, key=lambda e: (cle_alphabetique(e.nom), e.organisation_id)
        )
    ]
    return SommesCampagne(financeurs, totaux, piliers, consommation)


class CampagneLue(NamedTuple):
    """Ce que la programmation dit de sa campagne et de son contrat."""

    id: int
    exercice: int
    contrat_id: int
    code: str
    libelle: str

    @classmethod
    def de(cls, campagne: Campagne) -> CampagneLue:
        """D'une campagne déjà chargée avec son contrat (l'écran l'a lue pour vérifier les droits)."""
        return cls(
            campagne.id,
            campagne.exercice,
            campagne.contrat_id,
            campagne.contrat.code,
            campagne.contrat.libelle,
        )


def _campagne(campagne_id: int) -> CampagneLue | None:
    rangee = db.session.execute(
        select(Campagne.id, Campagne.exercice, ContratDeVille.id, ContratDeVille.code, ContratDeVille.libelle)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .where(Campagne.id == campagne_id)
    ).one_or_none()
    return None if rangee is None else CampagneLue(*rangee)


def programmation(
    campagne_id: int,
    filtres: Filtres | None = None,
    *,
    page: int = 1,
    par_page: int = 50,
    sommes: SommesCampagne | None = None,
    campagne: CampagneLue | None = None,
) -> Programmation | None:
    """La programmation d'une campagne : une page de demandes, les totaux (sur toutes les demandes
    filtrées) et la consommation des enveloppes (sur toute la campagne). None : campagne inconnue.

    Dix requêtes au plus, quel que soit le nombre de demandes. Les droits sont vérifiés par l'appelant
    (`policies.VOIR_CONTRAT.qualite`). `sommes` : celles de la campagne (`sommes_campagne`), si l'appelant
    les a déjà lues (ses financeurs valident le filtre par financeur) — pas deux fois les mêmes requêtes ;
    `campagne` de même (`CampagneLue.de`), si l'appelant l'a chargée."""
    campagne = campagne if campagne is not None else _campagne(campagne_id)
    if campagne is None:
        return None
    portee = Demande.campagne_id == campagne_id
    page = max(1, page)
    # D'abord les identifiants de la page (index), puis le détail de ces seules demandes : les montants et
    # les QPV ne sont agrégés que pour elles, par les index de leurs lignes.
    ids = db.session.scalars(
        _demandes(portee, filtres).order_by(Demande.numero).limit(par_page).offset((page - 1) * par_page)
    ).all()
    return _programmation(campagne, portee, filtres, sommes, ids, page, par_page)


def programmation_par_curseur(
    campagne_id: int,
    filtres: Filtres | None = None,
    *,
    apres: str | None = None,
    par_page: int = 50,
    modifie_depuis: datetime | None = None,
) -> tuple[Programmation, str | None] | None:
    """La programmation d'une campagne pour l'API : une page de demandes dans l'ordre de leur dernière
    modification, (modifie_le, id), et le curseur de la suivante (None : la dernière) ; avec
    `modifie_depuis`, les seules demandes modifiées depuis cet instant (toute écriture sur une ligne ou
    un versement réécrit `demande.modifie_le`). Le nombre de demandes, les totaux et les enveloppes
    restent ceux de toute la campagne (filtrée par `filtres`), comme à l'écran. None : campagne inconnue."""
    campagne = _campagne(campagne_id)
    if campagne is None:
        return None
    portee = Demande.campagne_id == campagne_id
    requete = _filtrer(select(Demande.id, Demande.modifie_le), portee, filtres)
    if modifie_depuis is not None:
        requete = requete.where(Demande.modifie_le >= modifie_depuis)
    rangees, suivant = curseurs.page(
        requete, Demande.modifie_le, Demande.id, apres, par_page, lambda r: db.session.execute(r).all()
    )
    ids = [rangee.id for rangee in rangees]
    return _programmation(campagne, portee, filtres, None, ids, 1, par_page), suivant


def _programmation(campagne, portee, filtres, sommes, ids: list[int], page: int, par_page: int):
    """La programmation dont la page est faite des demandes `ids`, dans cet ordre. Sans filtre, les totaux
    sont ceux de `sommes_campagne` ; avec, ils sont relus sur les demandes filtrées (une requête groupée
    sur leurs lignes, une sur les demandes)."""
    sommes = sommes if sommes is not None else sommes_campagne(campagne.id)
    financeurs = sommes.financeurs
    cles = [f.cle for f in financeurs]
    rang = {ident: i for i, ident in enumerate(ids)}
    requete = _requete_de_page(db.engine.dialect.name, tuple(cles))
    rangees = sorted(db.session.execute(requete, {"ids": ids}), key=lambda rangee: rang[rangee[0]])
    if filtres is not None and filtres.actifs:
        totaux, piliers = _totaux_et_piliers(
            portee, filtres, _sommes_par_financeur_et_pilier(portee, filtres)
        )
    else:
        totaux, piliers = sommes.totaux_financeurs, sommes.piliers
    # Le nombre de demandes filtrées : chacune est comptée dans un seul pilier (celui de sa thématique, ou
    # « sans thématique »), sous les mêmes conditions (`_filtrer`) — pas de requête de décompte de plus.
    total = sum(pilier.nombre for pilier in piliers)
    general = Montants()
    for montants in totaux.values():
        general = general + montants
    return Programmation(
        campagne_id=campagne.id,
        exercice=campagne.exercice,
        contrat_id=campagne.contrat_id,
        contrat_code=campagne.code,
        contrat_libelle=campagne.libelle,
        financeurs=financeurs,
        lignes=[_ligne(r, cles) for r in rangees],
        total=total,
        page=page,
        par_page=par_page,
        totaux_financeurs=totaux,
        total_general=general,
        piliers=piliers,
        enveloppes=sommes.enveloppes,
    )


TAILLE_LOT = 1000


def iterer_lignes(
    campagne_id: int, filtres: Filtres | None, financeurs: list[Financeur]
) -> Iterator[LigneProgrammation]:
    """Toutes les demandes filtrées d'une campagne, par numéro, lues par lots (curseur côté serveur)."""
    cles = [f.cle for f in financeurs]
    requete = _requete_lignes(
        Demande.campagne_id == campagne_id, filtres, LigneFinancement.organisation_id, cles
    ).order_by(Demande.numero)
    for rangee in db.session.execute(requete.execution_options(yield_per=TAILLE_LOT)):
        yield _ligne(rangee, cles)


TYPES_NATIONAUX = list(TypeOrganisation)


def financeurs_nationaux(exercice: int) -> list[Financeur]:
    """Les types de financeurs sollicités sur l'exercice, dans l'ordre de l'énumération."""
    presents = set(
        db.session.scalars(
            select(Organisation.type_organisation)
            .where(
                Organisation.id.in_(
                    select(LigneFinancement.organisation_id)
                    .join(Demande, Demande.id == LigneFinancement.demande_id)
                    .where(Demande.exercice == exercice)
                )
            )
            .distinct()
        )
    )
    return [Financeur(t, t.libelle) for t in TYPES_NATIONAUX if t in presents]


def iterer_lignes_nationales(exercice: int, financeurs: list[Financeur]) -> Iterator[LigneProgrammation]:
    """Toutes les demandes transmises d'un exercice, tous contrats, montants par type de financeur ;
    par contrat puis numéro, lues par lots (curseur côté serveur : mémoire bornée)."""
    cles = [f.cle for f in financeurs]
    requete = _requete_lignes(
        Demande.exercice == exercice, None, Organisation.type_organisation, cles
    ).order_by(ContratDeVille.code, Demande.numero)
    for rangee in db.session.execute(requete.execution_options(yield_per=TAILLE_LOT)):
        yield _ligne(rangee, cles)


def campagnes_visibles(qui, exercice: int | None = None, departement: str | None = None) -> Select:
    """Les campagnes dont l'acteur voit la programmation (`policies.VOIR_PROGRAMMATION`), les plus récentes
    d'abord : (id, exercice, code et libellé du contrat, nombre de demandes transmises)."""
    transmises = (
        select(func.count())
        .where(Demande.campagne_id == Campagne.id, Demande.numero.is_not(None))
        .correlate(Campagne)
        .scalar_subquery()
    )
    requete = (
        select(Campagne.id, Campagne.exercice, ContratDeVille.code, ContratDeVille.libelle, transmises)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .where(VOIR_PROGRAMMATION.portee(qui))
        .order_by(Campagne.exercice.desc(), ContratDeVille.libelle)
    )
    if exercice:
        requete = requete.where(Campagne.exercice == exercice)
    if departement:
        requete = requete.where(ContratDeVille.couvre_departement(departement))
    return requete


def exercices_disponibles() -> list[int]:
    return list(db.session.scalars(select(Campagne.exercice).distinct().order_by(Campagne.exercice.desc())))


__all__ = [
    "ConsommationEnveloppe",
    "Filtres",
    "Financeur",
    "LigneProgrammation",
    "Montants",
    "Programmation",
    "SommesCampagne",
    "TotalPilier",
    "campagnes_visibles",
    "financeurs_nationaux",
    "iterer_lignes",
    "iterer_lignes_nationales",
    "programmation",
    "programmation_par_curseur",
    "sommes_campagne",
]
