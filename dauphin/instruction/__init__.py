"""Espace des financeurs et partenaires : les demandes adressées à leur organisation."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from dauphin.listes import paginer_demandes
from dauphin.models import Campagne, Demande, LigneFinancement, PartenaireContrat, RoleOrganisation
from workflows import StatutLigne

bp = Blueprint("instruction", __name__, url_prefix="/instruction")


@bp.route("/")
@login_required
def corbeille():
    adhesions = current_user.adhesions_organisations
    if not adhesions:
        abort(403)
    instruites = [a.organisation_id for a in adhesions if a.role == RoleOrganisation.instructeur]
    toutes = [a.organisation_id for a in adhesions]
    statut = request.args.get("statut") or None
    if statut is not None and statut not in StatutLigne.__members__:
        statut = None
    adressees = select(LigneFinancement.demande_id).where(LigneFinancement.organisation_id.in_(instruites))
    if statut:
        adressees = adressees.where(LigneFinancement.statut == StatutLigne(statut))
    filtres = [Demande.id.in_(adressees)]
    if not statut:
        # Partenaires : tous les dossiers transmis des contrats que leur organisation a signés.
        contrats = select(PartenaireContrat.contrat_id).where(PartenaireContrat.organisation_id.in_(toutes))
        filtres.append(Demande.campagne_id.in_(select(Campagne.id).where(Campagne.contrat_id.in_(contrats))))
    page = paginer_demandes(
        select(Demande)
        .where(Demande.numero.is_not(None), or_(*filtres))
        .order_by(Demande.transmise_le.desc(), Demande.id.desc())
    )
    return render_template(
        "instruction/corbeille.html", adhesions=adhesions, page=page, statut=statut, statuts=list(StatutLigne)
    )
