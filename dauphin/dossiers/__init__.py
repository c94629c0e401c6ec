"""La vue d'un dossier, commune à tous ceux qui y ont droit (porteur, financeurs, partenaires, pilote).

Chaque bouton n'y est proposé qu'à qui peut s'en servir maintenant : les transitions du porteur par
`dauphin.demandes.transitions_proposees`, les actions d'instruction par `dauphin.instruction.panneaux`.
"""

from decimal import Decimal
from typing import NamedTuple

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from dauphin import euros, horodatage, libelles
from dauphin.demandes import transitions_proposees
from dauphin.dossiers.tableaux import (
    rangees_de_l_historique,
    rangees_des_autres_demandes,
    rangees_des_financeurs,
)
from dauphin.engagements.panneaux import contexte_engagements
from dauphin.extensions import db
from dauphin.instruction.panneaux import contexte_dossier
from dauphin.justification import contexte_dossier as contexte_compte_rendu
from dauphin.lectures import noter
from dauphin.libelles import statut as libelle_statut
from dauphin.listes import page_courante
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    EvenementJournal,
    JetonApi,
    LigneBudget,
    LigneFinancement,
    Note,
    Organisation,
    PieceJointe,
    Structure,
    Utilisateur,
)
from dauphin.pdf import RecepisseLu, colonnes_du_dernier_recepisse, recepisse_en_cours
from dauphin.policies import (
    acteur_de,
    est_membre,
    peut_voir_demande,
    qualites,
    voit_instruction,
    voit_les_lectures_de,
)
from dauphin.services import lectures
from dauphin.services.courriels import colonne_des_non_envoyes, non_envoyes_de_la_demande
from dauphin.services.demandes import peut_renouveler
from dauphin.vues import demande_visible, exiger
from forms.demande import ActionSimpleForm
from workflows.budget import COMPTES, Sens, totaux

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

# Ce que le porteur ne voit pas avant la décision : les avis de recevabilité et leurs motifs.
DECLENCHEURS_AVIS = frozenset({"declarer_recevable", "declarer_non_recevable", "reviser_avis", "reexaminer"})
# Et ce qui relève de l'organisation interne des financeurs (gestionnaire nommé).
DECLENCHEURS_INTERNES = DECLENCHEURS_AVIS | {"assigner_gestionnaire"}


# La demande avec tout ce que la page montre, chargé avec elle (et non objet par objet dans le gabarit). La
# requête et ses options de chargement sont construites une fois, à l'import, et non à chaque vue : 850 appels
# de fonctions Python de moins par vue (sur 7 500 pour charger la demande). Le dernier récépissé (lien et
# date) et l'existence de courriels non envoyés viennent avec elle, par des sous-requêtes corrélées : deux
# requêtes de moins (la liste des courriels n'est lue que s'il y en a).
# L'existence de pièces jointes et de notes vient aussi avec la demande (sous-requêtes corrélées, une sonde
# d'index chacune) : un dossier sans pièces ou sans notes n'a pas de requête de plus pour les lire.
_DOSSIER_SANS_PARTENAIRES = (
    select(
        Demande,
        *colonnes_du_dernier_recepisse(),
        colonne_des_non_envoyes(),
        select(PieceJointe.id).where(PieceJointe.demande_id == Demande.id).exists().label("a_des_pieces"),
        select(Note.id).where(Note.demande_id == Demande.id).exists().label("a_des_notes"),
    )
    .options(
        # De la structure, la page n'écrit que le nom (les règles lisent demande.structure_id).
        joinedload(Demande.structure).load_only(Structure.raison_sociale, Structure.sigle),
        joinedload(Demande.thematique),
        joinedload(Demande.compte_rendu),
        joinedload(Demande.campagne).joinedload(Campagne.contrat),
        # Les petites collections (un à trois QPV ; partenaires du contrat, plus bas) jointes elles aussi :
        # une vingtaine de lignes au plus, deux allers-retours de moins (1 ms de CPU mesurée).
        joinedload(Demande.qpvs),
    )
    .where(Demande.id == bindparam("demande_id"))
)
# Les partenaires du contrat ne servent qu'aux qualités d'un acteur qui a des organisations ou des pilotages
# (`policies.qualites`) : le porteur seul lit la demande sans eux, une rangée par QPV au lieu d'une par
# partenaire et par QPV.
_DOSSIER = _DOSSIER_SANS_PARTENAIRES.options(
    joinedload(Demande.campagne).joinedload(Campagne.contrat).joinedload(ContratDeVille.partenariats)
)

# Les trois grandes collections, chacune par sa requête construite une fois (ses objets liés, un seul
# chacun, joints dans la même), rangée dans la demande par `set_committed_value` comme le ferait un
# chargeur : `selectinload` construisait à chaque vue sa requête et en recalculait la clé de cache (options
# comprises), un tiers du CPU du chargement. Même tri que les relations (`Demande.lignes_*`).
_PAR_DEMANDE = bindparam("demande_id")
_COLLECTIONS = (
    (
        "lignes_financement",
        select(LigneFinancement)
        .options(
            # De l'organisation d'une ligne, les pages n'écrivent que le nom (les règles lisent
            # ligne.organisation_id) ; celles de l'utilisateur sont déjà chargées entières avec son compte.
            joinedload(LigneFinancement.organisation).load_only(Organisation.nom),
            # Du gestionnaire nommé, la page n'écrit que le nom.
            joinedload(LigneFinancement.gestionnaire).load_only(Utilisateur.prenom, Utilisateur.nom),
        )
        .where(LigneFinancement.demande_id == _PAR_DEMANDE)
        .order_by(LigneFinancement.id),
    ),
    (
        # Objets de l'ORM pour un membre de la structure seul (les gardes de ses transitions lisent le
        # budget) ; pour les autres, la page ne fait que l'afficher : rangées de `_BUDGET`.
        "lignes_budget",
        select(LigneBudget)
        # Du financeur d'une ligne du budget, la page n'écrit que le nom.
        .options(joinedload(LigneBudget.financeur).load_only(Organisation.nom))
        .where(LigneBudget.demande_id == _PAR_DEMANDE)
        .order_by(LigneBudget.ordre),
    ),
    (
        "pieces_jointes",
        select(PieceJointe)
        .options(joinedload(PieceJointe.document))
        .where(PieceJointe.demande_id == _PAR_DEMANDE)
        .order_by(PieceJointe.id),
    ),
)


# Les lignes du budget de qui n'est pas membre de la structure (financeurs, partenaires, pilote), que la page
# ne fait qu'afficher : en rangées (SQL seul, sans objets de l'ORM), des seules colonnes que la page et
# `workflows.budget.totaux` lisent, le nom du financeur joint (NULL sans financeur, comme la relation) ; même
# tri que la relation. Une vingtaine de lignes par demande : 0,2 ms de CPU de moins par vue d'instructeur.
_BUDGET = (
    select(
        LigneBudget.compte,
        LigneBudget.libelle,
        LigneBudget.montant,
        LigneBudget.financeur_id,
        LigneBudget.financeur_libelle,
        Organisation.nom.label("financeur"),
    )
    .outerjoin(Organisation, Organisation.id == LigneBudget.financeur_id)
    .where(LigneBudget.demande_id == _PAR_DEMANDE)
    .order_by(LigneBudget.ordre)
)


class LigneDuBudgetLue(NamedTuple):
    """Une ligne du budget telle que la page la lit, rangée de `_BUDGET` ou objet de l'ORM."""

    compte: str
    libelle: str | None
    montant: Decimal
    financeur_id: int | None
    financeur_libelle: str | None
    financeur: str | None  # le nom du financeur sur la plateforme


class DossierLu(NamedTuple):
    demande: Demande
    recepisse: RecepisseLu | None  # le dernier, une fois la demande transmise
    courriels_non_envoyes: bool  # s'il y en a, leur liste est lue pour l'instruction
    a_des_notes: bool  # sinon, les notes ne sont pas lues
    # Rangées de `_BUDGET` (hors de la structure), ou None : le budget est `demande.lignes_budget`.
    budget: list[Row] | None


def _dossier_visible(demande_id: int) -> DossierLu:
    """La demande et ce que la page en montre, avec son dernier récépissé et l'existence de courriels non
    envoyés ; 404 aussi quand elle existe mais n'est pas visible : on ne révèle pas son existence."""
    # L'identifiant en paramètre d'une requête construite une fois : sa clé de cache (options de chargement
    # comprises) est calculée une fois par processus et non à chaque vue.
    acteur = acteur_de(current_user)
    requete = _DOSSIER if acteur.dans_une_organisation else _DOSSIER_SANS_PARTENAIRES
    rangee = db.session.execute(requete, {"demande_id": demande_id}).unique().one_or_none()
    if rangee is None:
        abort(404)
    demande, recepisse_id, recepisse_depose_le, courriels_non_envoyes, a_des_pieces, a_des_notes = rangee
    # Avant la règle de visibilité, qui lit les lignes de financement (qualités d'instructeur).
    parametres = {"demande_id": demande_id}
    budget = None
    for relation, requete in _COLLECTIONS:
        if relation == "pieces_jointes" and not a_des_pieces:
            set_committed_value(demande, relation, [])
        elif relation == "lignes_budget" and not est_membre(current_user, demande):
            # Le budget en rangées ; la relation reste à charger (personne ne la lit sur cette page).
            budget = db.session.connection().execute(_BUDGET, parametres).all()
        else:
            set_committed_value(demande, relation, db.session.scalars(requete, parametres).all())
    if not peut_voir_demande(current_user, demande):
        abort(404)
    recepisse = None
    if demande.numero is not None and recepisse_id is not None:
        recepisse = RecepisseLu(recepisse_id, recepisse_depose_le)
    return DossierLu(demande, recepisse, courriels_non_envoyes, a_des_notes, budget)


# L'historique ne fait que s'afficher : lu en rangées (SQL seul, sans objets de l'ORM ni carte des
# identités), des seules colonnes que la page écrit, par une requête construite une fois. Le nom complet de
# l'acteur est celui de `Utilisateur.nom_complet` (« prénom nom ») ; acteur, organisation et jeton sont
# vides (NULL) quand la ligne du journal n'en a pas, comme les relations de l'ORM.
_HISTORIQUE = (
    select(
        EvenementJournal.horodatage,
        Utilisateur.nom_complet.label("acteur"),
        Organisation.nom.label("organisation"),
        EvenementJournal.role,
        JetonApi.libelle.label("jeton"),
        EvenementJournal.ligne_id,
        EvenementJournal.declencheur,
        EvenementJournal.statut_avant,
        EvenementJournal.statut_apres,
        EvenementJournal.commentaire,
    )
    .outerjoin(Utilisateur, Utilisateur.id == EvenementJournal.acteur_id)
    .outerjoin(Organisation, Organisation.id == EvenementJournal.organisation_id)
    .outerjoin(JetonApi, JetonApi.id == EvenementJournal.jeton_id)
    .where(EvenementJournal.demande_id == _PAR_DEMANDE)
    .order_by(EvenementJournal.id)
)


class LigneDHistorique(NamedTuple):
    """Une rangée de l'historique, ses cellules écrites ici et non dans le gabarit : le même texte (le
    gabarit échappe chaque cellule en entier, comme il échappait chaque valeur : les séparateurs n'ont rien
    à échapper), une soixantaine d'appels de fonctions Python de moins par rangée."""

    date: str
    qui: str  # « acteur (organisation) » ; « Dauphin » pour le système
    role: str  # « rôle », suivi de « , par l’API (jeton « … ») » pour une écriture par l'API
    objet: str  # « Dossier » ou « Ligne <financeur> »
    action: str
    statuts: str  # « avant → après »
    commentaire: str


def _ligne_d_historique(evenement: Row, noms_des_lignes: dict[int, str]) -> LigneDHistorique:
    qui = "Dauphin" if evenement.acteur is None else evenement.acteur
    if evenement.organisation is not None:
        qui += f" ({evenement.organisation})"
    role = libelles.role(evenement.role)
    if evenement.jeton is not None:
        role += f", par l’API (jeton « {evenement.jeton} »)"
    objet = f"Ligne {noms_des_lignes.get(evenement.ligne_id, '')}" if evenement.ligne_id else "Dossier"
    declencheur = evenement.declencheur
    return LigneDHistorique(
        horodatage(evenement.horodatage),
        qui,
        role,
        objet,
        libelles.action(declencheur),
        f"{libelle_statut(evenement.statut_avant)} → {libelle_statut(evenement.statut_apres)}",
        evenement.commentaire or "",
    )


def _historique(demande: Demande, instruction_visible: bool) -> list[LigneDHistorique]:
    """Le journal du dossier ; sans les avis ni l'organisation interne des financeurs pour le porteur. Lu par
    la connexion (Core), sans l'autoflush de la session : une lecture pour une vue GET ; un appelant qui a
    des changements en attente dans la session doit d'abord faire `db.session.flush()`."""
    evenements = db.session.connection().execute(_HISTORIQUE, {"demande_id": demande.id}).all()
    noms_des_lignes = {ligne.id: ligne.organisation.nom for ligne in demande.lignes_financement}
    return [
        _ligne_d_historique(e, noms_des_lignes)
        for e in evenements
        if instruction_visible or e.declencheur not in DECLENCHEURS_INTERNES
    ]


class LigneDuBudget(NamedTuple):
    intitule: str  # « compte — libellé du compte : financeur (précision) »
    montant: str  # en euros


def _ligne_du_budget(ligne: LigneDuBudgetLue | Row) -> LigneDuBudget:
    """Une rangée du tableau, écrite ici et non dans le gabarit : le texte est le même (le gabarit l'échappe
    en entier, comme il échappait chaque valeur : les séparateurs n'ont rien à échapper), en une vingtaine
    d'appels de fonctions Python de moins par ligne du budget, une vingtaine de lignes par demande."""
    intitule = f"{ligne.compte} — {COMPTES[ligne.compte].libelle}"
    if ligne.financeur_id is not None:  # la relation `LigneBudget.financeur` (clé étrangère)
        intitule += f" : {ligne.financeur}"
    elif ligne.financeur_libelle:
        intitule += f" : {ligne.financeur_libelle}"
    if ligne.libelle:
        intitule += f" ({ligne.libelle})"
    return LigneDuBudget(intitule, euros(ligne.montant))


def _lue(ligne: LigneBudget) -> LigneDuBudgetLue:
    financeur = ligne.financeur.nom if ligne.financeur_id is not None else None
    return LigneDuBudgetLue(
        ligne.compte, ligne.libelle, ligne.montant, ligne.financeur_id, ligne.financeur_libelle, financeur
    )


def _budget(dossier: DossierLu) -> dict:
    """Les lignes du budget rangées en charges et en produits, et leurs totaux."""
    lignes = dossier.budget
    if lignes is None:
        lignes = [_lue(ligne) for ligne in dossier.demande.lignes_budget]
    charges, produits = [], []
    for ligne in lignes:
        compte = COMPTES.get(ligne.compte)
        if compte is not None and compte.sens is Sens.charge:
            charges.append(_ligne_du_budget(ligne))
        elif compte is not None and compte.sens is Sens.produit:
            produits.append(_ligne_du_budget(ligne))
    return {"charges": charges, "produits": produits, "totaux": totaux(lignes)}


def _porteur(demande: Demande) -> dict:
    """Ce que la page propose à un membre de la structure : attester, retirer, renouveler — s'il le peut
    maintenant. Rien à calculer pour qui n'est pas membre : la page ne lui montre pas ces boutons."""
    if not est_membre(current_user, demande):
        return {"membre": False}
    proposees = transitions_proposees(demande)
    # Renouveler : une demande transmise, pas encore renouvelée, quand une campagne suivante est ouverte.
    renouvelable = peut_renouveler(demande)
    return {
        "membre": True,
        "peut_attester": "attester" in proposees,
        "peut_retirer": "retirer" in proposees,
        "peut_renouveler": renouvelable,
        "action_form": ActionSimpleForm(version=demande.version) if renouvelable else None,
    }


def _instruction(dossier: DossierLu, instruction_visible: bool) -> dict:
    """Panneaux d'instruction, notes (lues s'il y en a), autres demandes de la structure et notifications pas
    encore parties (SMTP ou Redis en panne ; lues seulement s'il y en a) : jamais pour le porteur."""
    if not instruction_visible:
        return {"courriels_non_envoyes": []}
    demande = dossier.demande
    non_envoyes = non_envoyes_de_la_demande(demande.id) if dossier.courriels_non_envoyes else []
    return {**contexte_dossier(demande, avec_notes=dossier.a_des_notes), "courriels_non_envoyes": non_envoyes}


@bp.route("/<int:demande_id>")
@login_required
def voir(demande_id: int):
    dossier = _dossier_visible(demande_id)
    demande, recepisse = dossier.demande, dossier.recepisse
    instruction_visible = voit_instruction(current_user, demande)
    if instruction_visible:  # financeur, partenaire, pilote, national : la consultation est tracée
        noter(lectures.lecture_du_dossier(current_user, demande))
    return render_template(
        "dossiers/voir.html",
        demande=demande,
        evenements=_historique(demande, instruction_visible),
        qualites=qualites(current_user, demande),
        instruction_visible=instruction_visible,
        consultations_visibles=voit_les_lectures_de(current_user, demande.structure_id),
        recepisse=recepisse,
        recepisse_en_cours=recepisse_en_cours(demande, recepisse),
        rangees_des_financeurs=rangees_des_financeurs(demande.lignes_financement, instruction_visible),
        rangees_des_autres_demandes=rangees_des_autres_demandes,
        rangees_de_l_historique=rangees_de_l_historique,
        **_budget(dossier),
        **_porteur(demande),
        **contexte_engagements(demande),
        **_instruction(dossier, instruction_visible),
        **contexte_compte_rendu(demande),
    )


@bp.route("/<int:demande_id>/consultations")
@login_required
def consultations(demande_id: int):
    """Qui a consulté ce dossier et téléchargé ses pièces (hors membres de la structure) : pour
    l'administrateur de la structure et l'administration nationale (`policies.VOIR_TRACE_LECTURES`)."""
    demande = demande_visible(demande_id)
    exiger(voit_les_lectures_de(current_user, demande.structure_id))
    page = lectures.page_du_dossier(current_user, demande, page_courante(), current_app.config["PAGE_TAILLE"])
    return render_template(
        "dossiers/consultations.html",
        demande=demande,
        page=page,
        duree=current_app.config["DUREE_TRACE_LECTURES_JOURS"],
    )
