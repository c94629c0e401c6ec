"""Tableau de bord national : demandes déposées, actions financées et montants votés, comptes rendus
saisis et validés — par exercice, par région et département (du contrat de ville) et par pilier thématique.

Les agrégats sont faits en SQL (GROUP BY exercice, ou département × pilier pour un exercice) : quatre
requêtes au plus, quel que soit le volume. Les régions s'en déduisent par la table des départements
(`dauphin.territoires`), sur quelques centaines de rangées déjà agrégées.

Définitions (issues des statuts du moteur) :
- déposée : transmise (numérotée) ;
- financée : attribuée — au moins une ligne votée > 0 € — ou au-delà (versée, à justifier, justification) ;
- montant voté : somme des montants votés des lignes ;
- compte rendu saisi : justification en cours, à modifier ou justifiée ; validé : demande justifiée
  (validé par chaque financeur) ; validations par les financeurs : lignes `compte_rendu_valide` (une
  par financeur qui a validé le compte rendu, même si d'autres ne l'ont pas encore fait).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, select, type_coerce

from dauphin.extensions import db
from dauphin.models import Campagne, ContratDeVille, Demande, LigneFinancement, Thematique
from dauphin.models.types import Montant
from dauphin.territoires import libelle_region, normaliser_departement, region
from workflows import StatutDemande as D
from workflows.statuts import STATUTS_DEMANDE_FINANCEE

FINANCEES = STATUTS_DEMANDE_FINANCEE
CR_SAISIS = (D.justification_en_cours, D.justification_a_modifier, D.justifiee)
CR_VALIDES = (D.justifiee,)


@dataclass
class Indicateurs:
    deposees: int = 0
    financees: int = 0
    montant_vote: Decimal = Decimal("0.00")
    cr_saisis: int = 0
    cr_valides: int = 0
    validations_financeurs: int = 0

    def ajouter(self, autre: Indicateurs) -> None:
        self.deposees += autre.deposees
        self.financees += autre.financees
        self.montant_vote += autre.montant_vote
        self.cr_saisis += autre.cr_saisis
        self.cr_valides += autre.cr_valides
        self.validations_financeurs += autre.validations_financeurs


@dataclass
class Rangee:
    cle: str
    libelle: str
    indicateurs: Indicateurs = field(default_factory=Indicateurs)


@dataclass
class TableauDeBord:
    exercice: int | None
    par_exercice: list[Rangee]
    par_region: list[Rangee]
    par_departement: list[Rangee]
    par_pilier: list[Rangee]
    total: Indicateurs


def _pilier():
    return func.coalesce(Thematique.parent_code, Thematique.code)


def _lire(requete, groupes, exercice: int | None, detail: bool):
    """Les demandes transmises de l'exercice, groupées ; avec `detail`, les jointures du département
    (contrat) et du pilier, dont la série par exercice n'a pas besoin."""
    requete = requete.where(Demande.numero.is_not(None)).group_by(*groupes)
    if detail:
        requete = (
            requete.join(Campagne, Campagne.id == Demande.campagne_id)
            .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
            .outerjoin(Thematique, Thematique.code == Demande.thematique_code)
        )
    if exercice is not None:
        requete = requete.where(Demande.exercice == exercice)
    return db.session.execute(requete).all()


def _comptes(*groupes, exercice: int | None, detail: bool = True):
    """Comptes sur la demande, groupés par `groupes` : un passage sur les demandes transmises."""
    requete = (
        select(
            *groupes,
            func.count(),
            func.sum(case((Demande.statut.in_(FINANCEES), 1), else_=0)),
            func.sum(case((Demande.statut.in_(CR_SAISIS), 1), else_=0)),
            func.sum(case((Demande.statut.in_(CR_VALIDES), 1), else_=0)),
        )
    ).select_from(Demande)
    return _lire(requete, groupes, exercice, detail)


def _montants(*groupes, exercice: int | None, detail: bool = True):
    """Montants votés, groupés comme `_comptes`."""
    requete = (
        select(
            *groupes,
            type_coerce(func.coalesce(func.sum(LigneFinancement.montant_vote), 0), Montant()),
            # Une validation par ligne (par financeur) : une somme, parallélisable ; compter les demandes
            # distinctes demanderait un tri ou un hachage de plus sur 750 000 lignes.
            func.sum(case((LigneFinancement.compte_rendu_valide, 1), else_=0)),
        )
        .select_from(LigneFinancement)
        .join(Demande, Demande.id == LigneFinancement.demande_id)
    )
    return _lire(requete, groupes, exercice, detail)


def _indicateurs(comptes, montants, n: int) -> dict[tuple, Indicateurs]:
    """Fusionne les deux requêtes sur leurs `n` premières colonnes (la clé de groupe)."""
    resultat: dict[tuple, Indicateurs] = defaultdict(Indicateurs)
    for rangee in comptes:
        cle = tuple(rangee[:n])
        deposees, financees, saisis, valides = rangee[n:]
        i = resultat[cle]
        i.deposees, i.financees = deposees, int(financees or 0)
        i.cr_saisis, i.cr_valides = int(saisis or 0), int(valides or 0)
    for rangee in montants:
        cle = tuple(rangee[:n])
        resultat[cle].montant_vote = Decimal(rangee[n])
        resultat[cle].validations_financeurs = int(rangee[n + 1] or 0)
    return resultat


def exercices() -> list[int]:
    return list(db.session.scalars(select(Campagne.exercice).distinct().order_by(Campagne.exercice.desc())))


def exercice_par_defaut(exercices: list[int], annee: int) -> int | None:
    """L'exercice où s'ouvre le tableau de bord : l'année en cours, sinon le dernier exercice passé, sinon
    le premier à venir (une campagne de l'an prochain déjà créée n'a encore que des zéros)."""
    passes = [e for e in exercices if e <= annee]
    return max(passes) if passes else min(exercices, default=None)


def tableau_de_bord(exercice: int | None) -> TableauDeBord:
    """Les indicateurs de l'exercice (tous exercices avec None), et la série de tous les exercices."""
    par_annee = _indicateurs(
        _comptes(Demande.exercice, exercice=None, detail=False),
        _montants(Demande.exercice, exercice=None, detail=False),
        1,
    )
    par_exercice = [Rangee(str(annee), str(annee), i) for (annee,), i in sorted(par_annee.items())]

    pilier = _pilier()
    detail = _indicateurs(
        _comptes(ContratDeVille.departement, pilier, exercice=exercice),
        _montants(ContratDeVille.departement, pilier, exercice=exercice),
        2,
    )
    libelles = dict(
        db.session.execute(
            select(Thematique.code, Thematique.libelle).where(Thematique.parent_code.is_(None))
        ).all()
    )
    departements: dict[str, Rangee] = {}
    regions: dict[str, Rangee] = {}
    piliers: dict[str, Rangee] = {}
    total = Indicateurs()
    for (departement, code_pilier), i in detail.items():
        departement = normaliser_departement(departement)
        code_region = region(departement) or "?"
        departements.setdefault(
            departement, Rangee(departement, f"{departement} ({libelle_region(region(departement))})")
        ).indicateurs.ajouter(i)
        regions.setdefault(
            code_region, Rangee(code_region, libelle_region(region(departement)))
        ).indicateurs.ajouter(i)
        cle_pilier = code_pilier or "aucun"
        libelle = (
            f"{code_pilier} — {libelles.get(code_pilier, code_pilier)}" if code_pilier else "Sans thématique"
        )
        piliers.setdefault(cle_pilier, Rangee(cle_pilier, libelle)).indicateurs.ajouter(i)
        total.ajouter(i)
    return TableauDeBord(
        exercice=exercice,
        par_exercice=par_exercice,
        par_region=sorted(regions.values(), key=lambda r: r.libelle),
        par_departement=sorted(departements.values(), key=lambda r: (len(r.cle) > 2, r.cle)),
        par_pilier=sorted(piliers.values(), key=lambda r: (r.cle == "aucun", r.cle)),
        total=total,
    )
