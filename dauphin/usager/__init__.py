"""Espace des porteurs : les demandes de leurs structures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, func, or_, select

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
from dauphin.policies import acteur_de
from dauphin.services.comptes_rendus import attendu, condition_attendu, en_retard
from dauphin.services.demandes import a_attester, condition_a_attester, prochaine_action
from dauphin.services.workflow import aujourdhui
from dauphin.usager.tableau import lignes_du_tableau
from dauphin.vues import exiger
from forms.demande import ActionSimpleForm
from workflows.statuts import STATUTS_LIGNE_DECIDEE, StatutLigne

bp = Blueprint("usager", __name__, url_prefix="/mes-demandes")

# Les requêtes du tableau de bord, construites une fois par processus (leurs paramètres : les structures du
# porteur, la page) : les construire et calculer leur clé de cache coûtait à chaque affichage autant que de
# lire leurs lignes.
_SES_STRUCTURES = bindparam("structures", expanding=True)
# Nom et SIRET, tout ce que la page en lit (ses rattachements, ses demandes et ses comptes rendus), en
# rangées par Core : des objets Structure (pour `adhesion.structure`) coûtaient 0,1 à 0,2 ms de plus à
# SQLAlchemy par affichage.
_STRUCTURES = select(Structure.id, Structure.raison_sociale, Structure.sigle, Structure.siret).where(
    Structure.id.in_(_SES_STRUCTURES)
)


# Les demandes de la page en rangées, pas en objets : la page ne fait que les afficher. Ni la campagne ni le
# contrat construits en objets (le libellé du contrat, seul lu, vient en colonne), ni la structure (celles du
# porteur sont déjà lues, `_STRUCTURES`) ; l'échéance du compte rendu (un au plus par demande), jointe, pour
# la prochaine étape. Le même chemin pour un porteur qui est aussi financeur, partenaire ou pilote : sa
# prochaine étape (attester) ne dépend que de ses rôles dans la structure (`qualite_pour`), pas des
# financeurs ni du contrat de la demande.
#
# Une seule requête pour tout ce que la page lit des demandes (elle en faisait quatre : la page, ses lignes,
# les demandes à attester, les comptes rendus attendus ; chaque requête coûte plus à SQLAlchemy et psycopg que
# les quelques rangées qu'elle lit). Toutes les demandes des structures sont numérotées dans l'ordre du
# tableau (le décompte vient avec elles, comme avant par fonction de fenêtre) ; en sortent celles de la page,
# avec leurs lignes de financement actives (une rangée par ligne), et celles qu'une alerte attend (à
# attester, compte rendu attendu), où qu'elles soient dans le tableau.
_TOUTES = (
    select(
        Demande.id,
        nombre_total(),
        Demande.numero,
        Demande.intitule,
        Demande.structure_id,
        Demande.exercice,
        Demande.statut,
        Demande.duree_annees,
        Demande.campagne_id,
        CompteRendu.echeance,
        func.row_number().over(order_by=(Demande.exercice.desc(), Demande.id.desc())).label("rang"),
    )
    .outerjoin(CompteRendu, CompteRendu.demande_id == Demande.id)
    .where(Demande.structure_id.in_(_SES_STRUCTURES))
    .subquery("demandes")
)
_SUR_LA_PAGE = and_(_TOUTES.c.rang > DECALAGE, _TOUTES.c.rang <= DECALAGE + LIMITE)
# Les règles des alertes, celles des services : à attester (s'il le peut : `lire`), compte rendu attendu.
_A_SUIVRE = or_(condition_a_attester(_TOUTES.c), condition_attendu(_TOUTES.c, _TOUTES.c.echeance))
_DEMANDES = (
    select(
        *(_TOUTES.c[cle] for cle in ("id", "nombre_total", "numero", "intitule", "structure_id", "exercice")),
        *(_TOUTES.c[cle] for cle in ("statut", "duree_annees")),
        ContratDeVille.libelle,
        _TOUTES.c.echeance,
        _SUR_LA_PAGE,
        LigneFinancement.id,
        LigneFinancement.statut,
        LigneFinancement.montant_demande,
        LigneFinancement.montant_vote,
        LigneFinancement.statut.in_(STATUTS_LIGNE_DECIDEE),  # LigneFinancement.decidee
        # Le nom du financeur par sous-requête corrélée (une sonde de sa clé par ligne), pas par jointure :
        # PostgreSQL joignait par hachage, en lisant toute la table des organisations à chaque affichage.
        select(Organisation.nom).where(Organisation.id == LigneFinancement.organisation_id).scalar_subquery(),
    )
    # Campagne et contrat joints aux seules demandes retenues (par leur clé), pas à toutes celles des
    # structures : PostgreSQL les joignait par hachage, en lisant toute la table des campagnes.
    .select_from(_TOUTES)
    .join(Campagne, Campagne.id == _TOUTES.c.campagne_id)
    .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
    .outerjoin(
        LigneFinancement,
        and_(
            LigneFinancement.demande_id == _TOUTES.c.id,
            LigneFinancement.statut != StatutLigne.abandonnee,
            _SUR_LA_PAGE,  # les lignes des seules demandes de la page
        ),
    )
    .where(or_(_SUR_LA_PAGE, _A_SUIVRE))
    .order_by(_TOUTES.c.rang, LigneFinancement.id)
)
_NOMBRE = select(func.count(Demande.id)).where(Demande.structure_id.in_(_SES_STRUCTURES))


class StructureLue(NamedTuple):
    """Une structure du porteur, ce qu'en lit la page (`nom` : la propriété même de `Structure`)."""

    id: int
    raison_sociale: str
    sigle: str | None
    siret: str
    nom = vars(Structure)["nom"]


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
    """Une demande lue en rangées : ce que lisent `lignes_du_tableau`, `prochaine_action` et les alertes
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


class LectureDuTableau:
    """Lit les rangées de `_DEMANDES` (`lire` de `paginer_demandes`) : rend les demandes de la page, chacune
    avec ses lignes, et garde les alertes. `a_attester` : les demandes qui attendent son attestation (s'il
    peut attester), par identifiant ; `a_rendre` : les comptes rendus attendus, (demande, échéance, en
    retard), par échéance puis demande."""

    def __init__(self, structures: dict, utilisateur, jour: date):
        self.structures, self.utilisateur, self.jour = structures, utilisateur, jour
        self.a_attester: list[DemandeLue] = []
        self.a_rendre: list[tuple[DemandeLue, date, bool]] = []

    def __call__(self, rangees) -> list[DemandeLue]:
        page: list[DemandeLue] = []
        demande = None
        for rang in rangees:
            if demande is None or rang[0] != demande.id:
                demande = DemandeLue(rang, self.structures)
                if rang[10]:
                    page.append(demande)
                self._alerte(demande)
            if rang[11] is not None:
                demande.lignes.append(LigneLue._make(rang[11:]))
        self.a_attester.sort(key=lambda demande: demande.id)
        self.a_rendre.sort(key=lambda attendu: (attendu[1], attendu[0].id))
        return page

    def _alerte(self, demande: DemandeLue) -> None:
        if a_attester(demande, self.utilisateur):
            self.a_attester.append(demande)
        elif attendu(demande):
            echeance = demande.compte_rendu.echeance
            self.a_rendre.append((demande, echeance, en_retard(echeance, self.jour)))


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


@bp.route("/")
@login_required
def tableau_de_bord():
    acteur = acteur_de(current_user)
    structures = sorted(acteur.structures)
    exiger(bool(structures))  # l'espace des porteurs : les membres d'une structure
    parametres = {"structures": structures}
    rangees = db.session.connection().execute(_STRUCTURES, parametres)
    par_id = {rang[0]: StructureLue._make(rang) for rang in rangees}
    lecture = LectureDuTableau(par_id, current_user, aujourdhui())
    page = paginer_demandes(_DEMANDES, _NOMBRE, parametres, lecture)
    actions = {demande.id: prochaine_action(demande, current_user) for demande in page.items}
    return render_template(
        "usager/tableau_de_bord.html",
        adhesions=current_user.adhesions_structures,
        structures=par_id,
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
        a_attester=lecture.a_attester,
        comptes_rendus=lecture.a_rendre,
        form=ActionSimpleForm(),
    )
