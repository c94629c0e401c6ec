"""Espace des porteurs : les demandes de leurs structures."""

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
from dauphin.models import CompteRendu, Demande, Structure
from dauphin.policies import acteur_de
from dauphin.services import comptes_rendus
from dauphin.services.demandes import a_attester, prochaine_action
from dauphin.vues import exiger
from forms.demande import ActionSimpleForm
from workflows.statuts import statut_ligne_vu_du_porteur

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
_DEMANDES = (
    select(Demande, nombre_total())
    .where(Demande.structure_id.in_(_SES_STRUCTURES))
    .order_by(Demande.exercice.desc(), Demande.id.desc())
    .options(
        colonnes_de_liste(Demande.duree_annees),  # durée : l'année de fin, pour le compte rendu
        # L'échéance du compte rendu, pour la prochaine étape : jointe (un au plus par demande).
        joinedload(Demande.compte_rendu).load_only(CompteRendu.echeance),
        *chargements_de_liste(),
    )
    .limit(LIMITE)
    .offset(DECALAGE)
)
_NOMBRE = select(func.count(Demande.id)).where(Demande.structure_id.in_(_SES_STRUCTURES))


@bp.route("/")
@login_required
def tableau_de_bord():
    structures = sorted(acteur_de(current_user).structures)
    exiger(bool(structures))  # l'espace des porteurs : les membres d'une structure
    parametres = {"structures": structures}
    # Gardées dans une variable : la session ne retient pas un objet que plus rien ne référence.
    ses_structures = db.session.scalars(_STRUCTURES, parametres).all()
    page = paginer_demandes(_DEMANDES, _NOMBRE, parametres)
    actions = {demande.id: prochaine_action(demande, current_user) for demande in page.items}
    return render_template(
        "usager/tableau_de_bord.html",
        adhesions=current_user.adhesions_structures,
        structures=ses_structures,
        page=page,
        actions=actions,
        # Les comptes rendus attendus, les retards d'abord : affichés en tête du tableau de bord.
        comptes_rendus=comptes_rendus.a_rendre(structures),
        a_attester=a_attester(current_user),  # les demandes soumises qui attendent sa signature
        form=ActionSimpleForm(),
        statut_ligne_vu_du_porteur=statut_ligne_vu_du_porteur,  # le statut de chaque financeur, au détail
    )
