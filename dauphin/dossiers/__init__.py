"""La vue d'un dossier, commune à tous ceux qui y ont droit (porteur, financeurs, partenaires, pilote)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from dauphin.engagements.panneaux import contexte_engagements
from dauphin.extensions import db
from dauphin.instruction.panneaux import contexte_dossier
from dauphin.justification import contexte_dossier as contexte_compte_rendu
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    EvenementJournal,
    LigneBudget,
    LigneFinancement,
    PieceJointe,
)
from dauphin.pdf import dernier_recepisse, recepisse_en_cours
from dauphin.policies import est_membre, peut_voir_demande, qualite_pour, qualites, voit_instruction
from dauphin.services.courriels import non_envoyes_de_la_demande
from dauphin.services.instruction import ACTIONS_JOURNAL
from forms.demande import ActionSimpleForm
from workflows import DEMANDE, StatutLigne
from workflows.budget import COMPTES, Sens, totaux

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

# Ce que le porteur ne voit pas avant la décision : les avis de recevabilité et leurs motifs.
DECLENCHEURS_AVIS = frozenset({"declarer_recevable", "declarer_non_recevable", "reviser_avis", "reexaminer"})
# Et ce qui relève de l'organisation interne des financeurs (gestionnaire nommé).
DECLENCHEURS_INTERNES = DECLENCHEURS_AVIS | {"assigner_gestionnaire"}
STATUTS_AVANT_DECISION = frozenset(
    {StatutLigne.sollicitee, StatutLigne.prise_en_charge, StatutLigne.recevable, StatutLigne.non_recevable}
)


@bp.route("/<int:demande_id>")
@login_required
def voir(demande_id: int):
    demande = (
        db.session.execute(
            select(Demande)
            .where(Demande.id == demande_id)
            .options(
                # Tout ce que la page montre, chargé avec la demande (et non objet par objet dans le gabarit)
                joinedload(Demande.structure),
                joinedload(Demande.thematique),
                joinedload(Demande.compte_rendu),
                # Les deux petites collections (partenaires du contrat, un à trois QPV) jointes elles aussi :
                # une vingtaine de lignes au plus, deux allers-retours de moins (1 ms de CPU mesurée).
                joinedload(Demande.campagne)
                .joinedload(Campagne.contrat)
                .joinedload(ContratDeVille.partenariats),
                joinedload(Demande.qpvs),
                # Une requête par grande collection, ses objets liés (un seul chacun) joints dans la même
                selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
                selectinload(Demande.lignes_financement).joinedload(LigneFinancement.gestionnaire),
                selectinload(Demande.lignes_budget).joinedload(LigneBudget.financeur),
                selectinload(Demande.pieces_jointes).joinedload(PieceJointe.document),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    # 404 aussi quand le dossier existe mais n'est pas visible : on ne révèle pas son existence.
    if demande is None or not peut_voir_demande(current_user, demande):
        abort(404)
    recepisse = dernier_recepisse(demande) if demande.numero else None
    evenements = db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande.id)
        .options(joinedload(EvenementJournal.acteur), joinedload(EvenementJournal.organisation))
        .order_by(EvenementJournal.id)
    ).all()
    instruction_visible = voit_instruction(current_user, demande)
    if not instruction_visible:
        evenements = [e for e in evenements if e.declencheur not in DECLENCHEURS_INTERNES]
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
        instruction_visible=instruction_visible,
        membre=est_membre(current_user, demande),
        peut_retirer=qualite_pour(current_user, "retirer", demande) is not None
        and "retirer" in DEMANDE.possibles(demande),
        recepisse=recepisse,
        recepisse_en_cours=recepisse_en_cours(demande, recepisse),
        action_form=ActionSimpleForm(version=demande.version),
        statuts_avant_decision=STATUTS_AVANT_DECISION,
        actions_journal=ACTIONS_JOURNAL,
        **contexte_engagements(demande),
        # Panneaux d'instruction, notes, autres demandes de la structure : jamais pour le porteur.
        **(contexte_dossier(demande) if instruction_visible else {}),
        # Les notifications pas encore parties (SMTP ou Redis en panne) : une requête, côté instruction.
        courriels_non_envoyes=non_envoyes_de_la_demande(demande.id) if instruction_visible else [],
        **contexte_compte_rendu(demande),
    )
