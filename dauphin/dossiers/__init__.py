"""La vue d'un dossier, commune à tous ceux qui y ont droit (porteur, financeurs, partenaires, pilote)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dauphin.extensions import db
from dauphin.models import Demande, EvenementJournal, LigneBudget, LigneFinancement
from dauphin.policies import peut_voir_demande, qualites
from workflows.budget import COMPTES, Sens, totaux

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")


@bp.route("/<int:demande_id>")
@login_required
def voir(demande_id: int):
    demande = db.session.scalar(
        select(Demande)
        .where(Demande.id == demande_id)
        .options(
            selectinload(Demande.lignes_financement).selectinload(LigneFinancement.organisation),
            selectinload(Demande.lignes_budget).selectinload(LigneBudget.financeur),
            selectinload(Demande.qpvs),
        )
    )
    # 404 aussi quand le dossier existe mais n'est pas visible : on ne révèle pas son existence.
    if demande is None or not peut_voir_demande(current_user, demande):
        abort(404)
    evenements = db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande.id)
        .options(selectinload(EvenementJournal.acteur), selectinload(EvenementJournal.organisation))
        .order_by(EvenementJournal.id)
    ).all()
    lignes_financement = {ligne.id: ligne for ligne in demande.lignes_financement}
    charges = [
        lb
        for lb in demande.lignes_budget
        if COMPTES.get(lb.compte) and COMPTES[lb.compte].sens is Sens.charge
    ]
    produits = [
        lb
        for lb in demande.lignes_budget
        if COMPTES.get(lb.compte) and COMPTES[lb.compte].sens is Sens.produit
    ]
    return render_template(
        "dossiers/voir.html",
        demande=demande,
        evenements=evenements,
        lignes_financement=lignes_financement,
        charges=charges,
        produits=produits,
        totaux=totaux(demande.lignes_budget),
        comptes=COMPTES,
        qualites=qualites(current_user, demande),
    )
