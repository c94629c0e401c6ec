"""Espace des porteurs : les demandes de leurs structures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import load_only

from dauphin.extensions import db
from dauphin.listes import (
    DECALAGE,
    LIMITE,
    nombre_total,
    paginer_demandes,
)
from dauphin.models import (
    Campagne,
    CompteRendu,
    ContratDeVille,
    Demande,
    LigneFinancement,
    Organisation,
    Structure,
)
from dauphin.models.demandes import montants_des_lignes
from dauphin.policies import acteur_de, qualite_pour
from dauphin.services.comptes_rendus import EN_ATTENTE_DU_PORTEUR
from dauphin.services.demandes import prochaine_action
from dauphin.services.workflow import aujourdhui
from dauphin.usager.tableau import lignes_du_tableau
from dauphin.vues import exiger
from forms.demande import ActionSimpleForm
from workflows.statuts import STATUTS_LIGNE_DECIDEE, StatutDemande, StatutLigne

bp = Blueprint("usager", __name__, url_prefix="/mes-demandes")

# Les requêtes du tableau de bord, construites une fois par processus (leurs paramètres : les structures du
# porteur, la page) : les construire et calculer leur clé de cache coûtait à chaque affichage autant que de
# lire leurs lignes.
_SES_STRUCTURES = bindparam("structures", expanding=True)
# Nom et SIRET, tout ce que la page en lit : ses rattachements, ses demandes et ses comptes rendus les
# trouvent ensuite dans la session, sans une requête par structure.
_STRUCTURES = (
    select(Structure)
    .where(Structure.id.in_(_SES_STRUCTURES))
    .options(load_only(Structure.raison_sociale, Structure.sigle, Structure.siret))
)


# Les demandes de la page en rangées, pas en objets : la page ne fait que les afficher. Ni la campagne ni le
# contrat construits en objets (le libellé du contrat, seul lu, vient en colonne), ni la structure (celles du
# porteur sont déjà lues, `_STRUCTURES`) ; l'échéance du compte rendu (un au plus par demande), jointe, pour
# la prochaine étape. Le même chemin pour un porteur qui est aussi financeur, partenaire ou pilote : sa
# prochaine étape (attester) ne dépend que de ses rôles dans la structure (`qualite_pour`), pas des
# financeurs ni du contrat de la demande.
_PAGE = (
    select(
        Demande.id,
        nombre_total(),
        Demande.numero,
        Demande.intitule,
        Demande.structure_id,
        Demande.exercice,
        Demande.statut,
        Demande.duree_annees,
        ContratDeVille.libelle,
        CompteRendu.echeance,
    )
    .join(Campagne, Campagne.id == Demande.campagne_id)
    .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
    .outerjoin(CompteRendu, CompteRendu.demande_id == Demande.id)
    .where(Demande.structure_id.in_(_SES_STRUCTURES))
    .order_by(Demande.exercice.desc(), Demande.id.desc())
    .limit(LIMITE)
    .offset(DECALAGE)
    .subquery("page")
)
# Et leurs lignes de financement actives (`Demande.lignes_actives`), dans la même requête : une rangée par
# ligne (une, sans ligne, pour une demande qui n'en a pas), dans l'ordre des demandes puis des lignes. Une
# requête de plus coûtait plus que les colonnes de la demande répétées sur chacune de ses lignes.
_DEMANDES = (
    select(
        _PAGE,
        LigneFinancement.id,
        LigneFinancement.statut,
        LigneFinancement.montant_demande,
        LigneFinancement.montant_vote,
        LigneFinancement.statut.in_(STATUTS_LIGNE_DECIDEE),  # LigneFinancement.decidee
        # Le nom du financeur par sous-requête corrélée (une sonde de sa clé par ligne), pas par jointure :
        # PostgreSQL joignait par hachage, en lisant toute la table des organisations à chaque affichage.
        select(Organisation.nom).where(Organisation.id == LigneFinancement.organisation_id).scalar_subquery(),
    )
    .select_from(_PAGE)
    .outerjoin(
        LigneFinancement,
        and_(
            LigneFinancement.demande_id == _PAGE.c.id,
            LigneFinancement.statut != StatutLigne.abandonnee,
        ),
    )
    .order_by(_PAGE.c.exercice.desc(), _PAGE.c.id.desc(), LigneFinancement.id)
)
_NOMBRE = select(func.count(Demande.id)).where(Demande.structure_id.in_(_SES_STRUCTURES))


class CompteRenduLu(NamedTuple):
    echeance: date


class LigneLue(NamedTuple):
    """Une ligne de financement active, ce qu'en lit `lignes_du_tableau` (et `montants_des_lignes`)."""

    id: int
    statut: StatutLigne
    montant_demande: Decimal
    montant_vote: Decimal | None
    decidee: bool
    financeur: str


class DemandeLue:
    """Une demande de la page, lue en rangées : ce que lisent `lignes_du_tableau` et `prochaine_action`
    (`titre` et `annee_fin` sont les propriétés mêmes de `Demande`), et ses lignes actives."""

    __slots__ = (
        "id",
        "numero",
        "intitule",
        "structure_id",
        "exercice",
        "statut",
        "duree_annees",
        "contrat",
        "compte_rendu",
        "structure",
        "lignes",
    )
    titre = vars(Demande)["titre"]
    annee_fin = vars(Demande)["annee_fin"]

    def __init__(self, rang, structures: dict):
        (
            self.id,
            _nombre,
            self.numero,
            self.intitule,
            self.structure_id,
            self.exercice,
            self.statut,
            self.duree_annees,
            self.contrat,
            echeance,
        ) = rang[:10]
        self.compte_rendu = None if echeance is None else CompteRenduLu(echeance)
        self.structure = structures[self.structure_id]
        self.lignes = []


def demandes_de_la_page(rangees, structures: dict) -> list[DemandeLue]:
    """Les demandes des rangées de `_DEMANDES` (une par ligne de financement), chacune avec ses lignes."""
    demandes: list[DemandeLue] = []
    demande = None
    for rang in rangees:
        if demande is None or rang[0] != demande.id:
            demande = DemandeLue(rang, structures)
            demandes.append(demande)
        if rang[10] is not None:
            demande.lignes.append(LigneLue._make(rang[10:]))
    return demandes


def lignes_de_la_page(demandes) -> dict[int, tuple[list, Decimal | None, Decimal | None]]:
    """Par demande : ses lignes actives (rangées), le montant sollicité (None sans ligne) et le montant voté
    (None tant qu'aucun financeur n'a décidé), comme `Demande.lignes_actives`, `montant_sollicite` et
    `montant_vote`."""
    resultat = {}
    for demande in demandes:
        lignes = demande.lignes
        sollicite, vote = montants_des_lignes(lignes)
        resultat[demande.id] = (lignes, sollicite if lignes else None, vote)
    return resultat


# Ce que le porteur doit faire hors de la page : les demandes qui attendent son attestation, les comptes
# rendus financiers attendus. Une requête pour les deux (elles en faisaient deux, d'objets) : les demandes de
# ses structures à l'un de ces statuts, en rangées, avec l'échéance de leur compte rendu s'il y en a un.
_A_SUIVRE = (
    select(
        Demande.id,
        Demande.numero,
        Demande.intitule,
        Demande.structure_id,
        Demande.statut,
        CompteRendu.echeance,
    )
    .outerjoin(CompteRendu, CompteRendu.demande_id == Demande.id)
    .where(
        Demande.structure_id.in_(_SES_STRUCTURES),
        Demande.statut.in_((StatutDemande.attente_attestation, *EN_ATTENTE_DU_PORTEUR)),
    )
    .order_by(Demande.id)
)


class DemandeASuivre:
    """Une demande de `_A_SUIVRE`, ce qu'en lisent les alertes du tableau de bord et `qualite_pour`."""

    __slots__ = ("id", "numero", "intitule", "structure_id", "statut", "echeance", "structure")
    titre = vars(Demande)["titre"]

    def __init__(self, rang, structures: dict):
        self.id, self.numero, self.intitule, self.structure_id, self.statut, self.echeance = rang
        self.structure = structures[self.structure_id]


def a_suivre(structures: dict, jour: date | None = None) -> tuple[list, list[tuple]]:
    """Les demandes des `structures` (par identifiant) qui attendent l'attestation du porteur (s'il peut
    attester), par identifiant ; les comptes rendus attendus, (demande, échéance, en retard), les retards
    d'abord (par échéance puis identifiant)."""
    jour = jour or aujourdhui()
    a_attester, a_rendre = [], []
    for rang in db.session.execute(_A_SUIVRE, {"structures": list(structures)}):
        demande = DemandeASuivre(rang, structures)
        if demande.statut == StatutDemande.attente_attestation:
            if qualite_pour(current_user, "attester", demande) is not None:
                a_attester.append(demande)
        elif demande.echeance is not None:  # à justifier : son compte rendu attendu
            a_rendre.append((demande, demande.echeance, demande.echeance < jour))
    a_rendre.sort(key=lambda attendu: (attendu[1], attendu[0].id))
    return a_attester, a_rendre


@bp.route("/")
@login_required
def tableau_de_bord():
    acteur = acteur_de(current_user)
    structures = sorted(acteur.structures)
    exiger(bool(structures))  # l'espace des porteurs : les membres d'une structure
    parametres = {"structures": structures}
    # Gardées dans une variable : la session ne retient pas un objet que plus rien ne référence.
    ses_structures = db.session.scalars(_STRUCTURES, parametres).all()
    par_id = {structure.id: structure for structure in ses_structures}
    page = paginer_demandes(
        _DEMANDES, _NOMBRE, parametres, lambda rangees: demandes_de_la_page(rangees, par_id)
    )
    actions = {demande.id: prochaine_action(demande, current_user) for demande in page.items}
    a_attester, a_rendre = a_suivre(par_id)
    return render_template(
        "usager/tableau_de_bord.html",
        adhesions=current_user.adhesions_structures,
        structures=ses_structures,
        page=page,
        actions=actions,
        lignes=lignes_du_tableau(
            page.items,
            actions,
            lignes_de_la_page(page.items),
            {demande.id: demande.contrat for demande in page.items},
        ),
        # Affichés en tête du tableau de bord : les demandes soumises qui attendent sa signature, les
        # comptes rendus attendus (les retards d'abord).
        a_attester=a_attester,
        comptes_rendus=a_rendre,
        form=ActionSimpleForm(),
    )
