"""Espace des porteurs : les demandes de leurs structures."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dauphin.listes import colonnes_de_liste, paginer_demandes
from dauphin.models import Demande
from dauphin.policies import acteur_de
from dauphin.services import comptes_rendus
from dauphin.services.demandes import a_attester, prochaine_action
from dauphin.vues import exiger
from forms.demande import ActionSimpleForm
from workflows.statuts import statut_ligne_vu_du_porteur

bp = Blueprint("usager", __name__, url_prefix="/mes-demandes")


@bp.route("/")
@login_required
def tableau_de_bord():
    structures = sorted(acteur_de(current_user).structures)
    exiger(bool(structures))  # l'espace des porteurs : les membres d'une structure
    page = paginer_demandes(
        select(Demande)
        .where(Demande.structure_id.in_(structures))
        .order_by(Demande.exercice.desc(), Demande.id.desc())
        .options(
            colonnes_de_liste(Demande.duree_annees),  # durée : l'année de fin, pour le compte rendu
            selectinload(Demande.compte_rendu),  # l'échéance, pour la prochaine étape
        )
    )
    actions = {demande.id: prochaine_action(demande, current_user) for demande in page.items}
    return render_template(
        "usager/tableau_de_bord.html",
        adhesions=current_user.adhesions_structures,
        page=page,
        actions=actions,
        # Les comptes rendus attendus, les retards d'abord : affichés en tête du tableau de bord.
        comptes_rendus=comptes_rendus.a_rendre(structures),
        a_attester=a_attester(current_user),  # les demandes soumises qui attendent sa signature
        form=ActionSimpleForm(),
        statut_ligne_vu_du_porteur=statut_ligne_vu_du_porteur,  # le statut de chaque financeur, au détail
    )
