"""Espace des porteurs : les demandes de leurs structures."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, load_only

from dauphin.extensions import db
from dauphin.listes import (
    DECALAGE,
    LIMITE,
    chargements_de_liste,
    colonnes_de_liste,
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


def _demandes(avec_lignes: bool):
    chargements = (
        colonnes_de_liste(Demande.duree_annees),  # durée : l'année de fin, pour le compte rendu
        # L'échéance du compte rendu, pour la prochaine étape : jointe (un au plus par demande).
        joinedload(Demande.compte_rendu).load_only(CompteRendu.echeance),
    )
    if avec_lignes:
        chargements += chargements_de_liste()
    else:  # la structure seule : le libellé du contrat est une colonne, les lignes des rangées
        chargements += (
            joinedload(Demande.structure, innerjoin=True).load_only(
                Structure.raison_sociale, Structure.sigle, Structure.siret
            ),
        )
    return (
        select(Demande, nombre_total(), ContratDeVille.libelle.label("contrat"))
        .join(Campagne, Campagne.id == Demande.campagne_id)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .where(Demande.structure_id.in_(_SES_STRUCTURES))
        .order_by(Demande.exercice.desc(), Demande.id.desc())
        .options(*chargements)
        .limit(LIMITE)
        .offset(DECALAGE)
    )


# Ni la campagne ni le contrat de chaque demande construits en objets : le libellé du contrat, seul lu, vient
# en colonne. Les lignes de financement de la page sont lues en rangées (`lignes_de_la_page`) : construire une
# soixantaine de lignes entières et leurs financeurs coûtait plus que tout le reste de la requête. Seul un
# porteur qui est aussi financeur, partenaire ou pilote charge tout en objets, comme les autres listes :
# `prochaine_action` cherche alors ses qualités sur la demande (ses financeurs, les partenaires du contrat),
# sans une requête par demande.
_DEMANDES = _demandes(avec_lignes=False)
_DEMANDES_ET_LIGNES = _demandes(avec_lignes=True)
_NOMBRE = select(func.count(Demande.id)).where(Demande.structure_id.in_(_SES_STRUCTURES))


_LIGNES = (
    select(
        LigneFinancement.demande_id,
        LigneFinancement.id,
        LigneFinancement.statut,
        LigneFinancement.montant_demande,
        LigneFinancement.montant_vote,
        LigneFinancement.statut.in_(STATUTS_LIGNE_DECIDEE).label("decidee"),  # LigneFinancement.decidee
        Organisation.nom.label("financeur"),
    )
    .join(Organisation, Organisation.id == LigneFinancement.organisation_id)
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
    requete = _DEMANDES_ET_LIGNES if acteur.dans_une_organisation else _DEMANDES
    page = paginer_demandes(requete, _NOMBRE, parametres)
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
            {rang[0].id: rang.contrat for rang in page.rangees},
        ),
        # Les comptes rendus attendus, les retards d'abord : affichés en tête du tableau de bord.
        comptes_rendus=comptes_rendus.a_rendre(structures),
        a_attester=a_attester(current_user),  # les demandes soumises qui attendent sa signature
        form=ActionSimpleForm(),
    )
