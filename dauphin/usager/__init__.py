"""Espace des porteurs : les demandes de leurs structures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
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
from dauphin.policies import acteur_de
from dauphin.services import comptes_rendus
from dauphin.services.demandes import a_attester, prochaine_action
from dauphin.usager.tableau import lignes_du_tableau
from dauphin.vues import exiger
from forms.demande import ActionSimpleForm
from workflows.statuts import STATUTS_LIGNE_DECIDEE, StatutLigne

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
_DEMANDES = (
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
)


class CompteRenduLu(NamedTuple):
    echeance: date


class DemandeLue:
    """Une demande de la page, lue en rangée : ce que lisent `lignes_du_tableau` et `prochaine_action`
    (`titre` et `annee_fin` sont les propriétés mêmes de `Demande`)."""

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
        ) = rang
        self.compte_rendu = None if echeance is None else CompteRenduLu(echeance)
        self.structure = structures[self.structure_id]


_NOMBRE = select(func.count(Demande.id)).where(Demande.structure_id.in_(_SES_STRUCTURES))


_LIGNES = (
    select(
        LigneFinancement.demande_id,
        LigneFinancement.id,
        LigneFinancement.statut,
        LigneFinancement.montant_demande,
        LigneFinancement.montant_vote,
        LigneFinancement.statut.in_(STATUTS_LIGNE_DECIDEE).label("decidee"),  # LigneFinancement.decidee
        # Le nom du financeur par sous-requête corrélée (une sonde de sa clé par ligne), pas par jointure :
        # PostgreSQL joignait par hachage, en lisant toute la table des organisations à chaque affichage.
        select(Organisation.nom)
        .where(Organisation.id == LigneFinancement.organisation_id)
        .scalar_subquery()
        .label("financeur"),
    )
    .where(
        LigneFinancement.demande_id.in_(bindparam("demandes", expanding=True)),
        LigneFinancement.statut != StatutLigne.abandonnee,  # Demande.lignes_actives
    )
    .order_by(LigneFinancement.id)
)


def lignes_de_la_page(demandes) -> dict[int, tuple[list, Decimal | None, Decimal | None]]:
    """Par demande : ses lignes actives (rangées), le montant sollicité (None sans ligne) et le montant voté
    (None tant qu'aucun financeur n'a décidé), comme `Demande.lignes_actives`, `montant_sollicite` et
    `montant_vote`."""
    par_demande: dict[int, list] = {demande.id: [] for demande in demandes}
    if par_demande:
        for ligne in db.session.execute(_LIGNES, {"demandes": list(par_demande)}):
            par_demande[ligne.demande_id].append(ligne)
    resultat = {}
    for ident, lignes in par_demande.items():
        sollicite, vote = montants_des_lignes(lignes)
        resultat[ident] = (lignes, sollicite if lignes else None, vote)
    return resultat


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
        _DEMANDES, _NOMBRE, parametres, lambda rangees: [DemandeLue(rang, par_id) for rang in rangees]
    )
    actions = {demande.id: prochaine_action(demande, current_user) for demande in page.items}
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
        # Les comptes rendus attendus, les retards d'abord : affichés en tête du tableau de bord.
        comptes_rendus=comptes_rendus.a_rendre(structures),
        a_attester=a_attester(current_user),  # les demandes soumises qui attendent sa signature
        form=ActionSimpleForm(),
    )
