"""Comités de pilotage : le pilote prépare la séance, envoie la convocation, tient la feuille de présence
et clôt la séance ; les partenaires votent, les financeurs saisissent le montant de leur ligne. Les règles :
dauphin/services/comites.py et workflows/comite.py.

Chaque envoi passe par `dauphin.vues` : un refus réaffiche la séance avec la saisie et son message (422),
un conflit avec l'état actuel de la séance (409).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from dauphin import pdf
from dauphin.extensions import db
from dauphin.lectures import noter
from dauphin.listes import page_courante
from dauphin.models import (
    ChoixVote,
    LigneFinancement,
    PointOrdreDuJour,
    SeanceComite,
    StatutLigne,
    StatutSeance,
    VoteComite,
)
from dauphin.policies import INSTRUIRE_LIGNE, VOIR_SEANCE, acteur_de, pilote
from dauphin.services import comites as service
from dauphin.services import documents, lectures
from dauphin.services.workflow import aujourdhui
from dauphin.vues import charger_ou_404, exiger, traiter_bouton, traiter_formulaire
from forms.comites import (
    InscriptionForm,
    MontantForm,
    SeanceForm,
    VersionForm,
    VoteForm,
    presences_form,
    saisie_des_presences,
)
from workflows.comite import quorum_requis

bp = Blueprint("comites", __name__, url_prefix="/comites")


def _seance_visible(seance_id: int) -> SeanceComite:
    """La séance, si l'utilisateur voit son contrat ; celle d'un autre contrat n'existe pas pour lui."""
    return charger_ou_404(SeanceComite, seance_id, lambda seance: VOIR_SEANCE.permet(current_user, seance))


def _point_visible(seance_id: int, point_id: int) -> tuple[SeanceComite, PointOrdreDuJour]:
    """Pour un vote ou un montant : la séance et le point seuls (la page entière n'est chargée que pour
    réafficher un formulaire en erreur)."""
    seance = _seance_visible(seance_id)
    return seance, charger_ou_404(PointOrdreDuJour, point_id, lambda point: point.seance_id == seance.id)


def _seance_du_pilote(seance_id: int) -> SeanceComite:
    seance = _seance_visible(seance_id)
    exiger(pilote(current_user, seance.contrat_id))
    return seance


@bp.route("/")
@login_required
def liste():
    acteur = acteur_de(current_user)
    exiger(acteur.hors_structure)  # pilotes, membres d'une organisation, administration nationale
    page = db.paginate(
        service.seances_visibles(current_user), page=page_courante(), per_page=20, error_out=False
    )
    return render_template("comites/liste.html", page=page, pilote=bool(acteur.contrats_pilotes))


@bp.route("/nouvelle", methods=["GET", "POST"])
@login_required
def nouvelle():
    contrats = acteur_de(current_user).contrats_pilotes
    exiger(bool(contrats))
    form = SeanceForm()
    campagnes = service.campagnes_du_contrat(contrats)
    form.campagne_id.choices = [SelectChoice(c.id, f"{c.contrat.libelle} — {c.libelle}") for c in campagnes]
    return traiter_formulaire(
        form,
        executer=lambda: service.creer_seance(
            current_user, form.campagne_id.data, form.date_seance.data, form.lieu.data
        ),
        rendre=lambda code, _: (
            render_template("comites/nouvelle.html", form=form, campagnes=campagnes),
            code,
        ),
        succes="Séance créée : inscrivez les dossiers instruits à son ordre du jour.",
        suite=lambda seance: url_for(".voir", seance_id=seance.id),
    )


# --- La page de la séance -----------------------------------------------------------------------


def _form_vote(point: PointOrdreDuJour, organisation_id: int, vote: VoteComite | None) -> VoteForm:
    valeurs = (
        {"version": vote.version, "choix": vote.choix.value, "motif": vote.motif_recusation}
        if vote
        else {"version": ""}
    )
    return VoteForm(prefix=f"vote-{point.id}-{organisation_id}", formdata=None, **valeurs)


def _form_montant(point: PointOrdreDuJour, ligne: LigneFinancement) -> MontantForm:
    saisie = next((m for m in point.montants if m.ligne_id == ligne.id), None)
    valeurs = {"version": saisie.version, "montant": saisie.montant} if saisie else {"version": ""}
    return MontantForm(prefix=f"montant-{point.id}-{ligne.id}", formdata=None, **valeurs)


def _formulaires(seance: SeanceComite, votantes: list[int], votes: dict, soumis: dict) -> dict:
    """Les formulaires de la page : le vote de chaque organisation de l'utilisateur sur chaque point, le
    montant de chaque ligne recevable de ses financeurs ; ceux de `soumis` (envoyés, en erreur) gardent la
    saisie."""
    financeuses = acteur_de(current_user).instruites
    formulaires: dict = {}
    for point in seance.points:
        for organisation_id in votantes:
            formulaires[("vote", point.id, organisation_id)] = _form_vote(
                point, organisation_id, votes[point.id].get(organisation_id)
            )
        for ligne in point.demande.lignes_financement:
            if ligne.organisation_id in financeuses and ligne.statut == StatutLigne.recevable:
                formulaires[("montant", point.id, ligne.id)] = _form_montant(point, ligne)
    return {**formulaires, **soumis}


def _preparation(seance: SeanceComite, soumis: dict) -> dict:
    """Ce que le pilote fait sur une séance en préparation : inscrire des dossiers, retirer un point, ouvrir
    le vote. Personne d'autre ne se voit proposer ces formulaires."""
    if not (pilote(current_user, seance.contrat_id) and seance.statut is StatutSeance.preparation):
        return {"inscription": None, "inscriptibles": []}
    inscription = soumis.get("inscription")
    if inscription is None:
        inscription = InscriptionForm(formdata=None, version=seance.version)
    inscriptibles = service.dossiers_inscriptibles(seance)
    inscription.demandes.choices = [SelectChoice(d.id, d.numero) for d in inscriptibles]
    return {"inscription": inscription, "inscriptibles": inscriptibles}


def _tenue(seance: SeanceComite, feuille: service.FeuilleDePresence, soumis: dict) -> dict:
    """Ce que le pilote fait jusqu'à la clôture : tenir la feuille de présence, envoyer la convocation."""
    if not (pilote(current_user, seance.contrat_id) and seance.statut is not StatutSeance.close):
        return {"presences": None}
    presences = soumis.get("presences")
    if presences is None:
        presences = presences_form(feuille.partenaires, feuille.presences, seance.version)
    return {"presences": presences}


def _page(seance: SeanceComite, code: int = 200, conflit: str | None = None, soumis: dict | None = None):
    """La séance ; `soumis` : le formulaire envoyé qui revient avec sa saisie et ses erreurs, sous sa clé
    (« inscription », « presences », ou (« vote », point, organisation), ou (« montant », point, ligne))."""
    soumis = soumis or {}
    feuille, resultats = service.resultats(seance)
    votantes = service.organisations_votantes(current_user, seance.contrat_id)
    votes = service.votes_par_point(seance)
    formulaires = _formulaires(seance, votantes, votes, soumis)
    jour = aujourdhui()
    quorum, _ = service.regles(seance)
    return (
        render_template(
            "comites/seance.html",
            seance=seance,
            pilote=pilote(current_user, seance.contrat_id),
            feuille=feuille,
            partenaires=len(feuille.partenaires),
            quorum=quorum,
            quorum_requis=quorum_requis(len(feuille.partenaires), quorum),
            votes_non_comptes=service.votes_non_comptes(seance, feuille),
            convocation_impossible=service.convocation_impossible(seance, jour),
            convocation_perimee=service.convocation_perimee(seance),
            resultats=resultats,
            votes=votes,
            formulaires=formulaires,
            disponibles=service.disponibles(seance, acteur_de(current_user).instruites),
            action=VersionForm(formdata=None, version=seance.version),
            erreur=any(form.errors for form in formulaires.values()),
            conflit=conflit,
            organisations_votantes=votantes,
            cloture_pas_encore=service.cloture_impossible(seance, feuille, jour),
            StatutSeance=StatutSeance,
            ChoixVote=ChoixVote,
            **_preparation(seance, soumis),
            **_tenue(seance, feuille, soumis),
        ),
        code,
    )


def _sur_la_page(seance_id: int, cle, form):
    """Le `rendre` d'un formulaire de la page : la séance relue, le formulaire envoyé à sa place."""
    return lambda code, conflit: _page(service.charger(seance_id), code, conflit, {cle: form})


def _vers_le_point(seance: SeanceComite, point: PointOrdreDuJour) -> str:
    return url_for(".voir", seance_id=seance.id, _anchor=f"point-{point.id}")


@bp.route("/<int:seance_id>")
@login_required
def voir(seance_id: int):
    seance = service.charger(seance_id)  # tout ce que la page montre, en quelques requêtes
    if not VOIR_SEANCE.permet(current_user, seance):
        abort(404)
    return _page(seance)


# --- Préparation, par le pilote -------------------------------------------------------------------


@bp.route("/<int:seance_id>/inscrire", methods=["POST"])
@login_required
def inscrire(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = InscriptionForm()
    form.demandes.choices = [SelectChoice(d.id, d.numero) for d in service.dossiers_inscriptibles(seance)]
    return traiter_formulaire(
        form,
        executer=lambda: service.inscrire(seance.id, form.demandes.data, current_user, form.version.data),
        rendre=_sur_la_page(seance.id, "inscription", form),
        succes=lambda nombre: f"{nombre} dossier(s) inscrit(s) à l’ordre du jour.",
        suite=url_for(".voir", seance_id=seance.id, _anchor="ordre-du-jour"),
        version=lambda: seance.version,
        perimee=service.SEANCE_CHANGEE,
    )


@bp.route("/<int:seance_id>/points/<int:point_id>/retirer", methods=["POST"])
@login_required
def retirer_point(seance_id: int, point_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    return traiter_bouton(
        form,
        executer=lambda: service.retirer_point(seance.id, point_id, current_user, form.version.data),
        succes="Dossier retiré de l’ordre du jour : il redevient « instruit ».",
        suite=url_for(".voir", seance_id=seance.id, _anchor="ordre-du-jour"),
    )


@bp.route("/<int:seance_id>/ouvrir", methods=["POST"])
@login_required
def ouvrir(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    return traiter_bouton(
        form,
        executer=lambda: service.ouvrir_vote(seance.id, current_user, form.version.data),
        succes="Vote ouvert : les partenaires du contrat en sont prévenus par courriel.",
        suite=url_for(".voir", seance_id=seance.id),
    )


# --- Convocation et feuille de présence, par le pilote jusqu'à la clôture -------------------------


@bp.route("/<int:seance_id>/convocation", methods=["POST"])
@login_required
def convoquer(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    return traiter_bouton(
        form,
        executer=lambda: service.convoquer(seance.id, current_user, form.version.data),
        succes=lambda envoyee: (
            f"Convocation n° {envoyee.convocation_numero} envoyée aux membres des organisations "
            "partenaires ; son PDF est en cours de production."
        ),
        suite=url_for(".voir", seance_id=seance.id, _anchor="convocation"),
    )


@bp.route("/<int:seance_id>/convocation.pdf")
@login_required
def convocation(seance_id: int):
    """La dernière convocation envoyée, à qui voit la séance (VOIR_SEANCE) ; produite sur place si sa tâche
    n'est pas encore passée : le lien du courriel ne mène jamais à une impasse."""
    seance = _seance_visible(seance_id)
    if seance.convocation_numero is None:
        abort(404)
    numero = seance.convocation_numero
    cle = seance.convocation_cle_stockage or pdf.enregistrer_convocation(seance.id, numero)
    if cle is None:
        abort(404)  # remplacée à l'instant par un envoi plus récent : le lien se rouvre
    return documents.reponse_telechargement(
        cle,
        mimetype="application/pdf",
        download_name=f"convocation-comite-{seance.date_seance.isoformat()}-{seance.id}-n{numero}.pdf",
    )


@bp.route("/<int:seance_id>/presences", methods=["POST"])
@login_required
def presences(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    partenaires = service.feuille_de_presence(seance).partenaires
    form = presences_form(partenaires, {}, envoye=True)
    return traiter_formulaire(
        form,
        executer=lambda: service.enregistrer_presences(
            seance.id, saisie_des_presences(form, partenaires), current_user, form.version.data
        ),
        rendre=_sur_la_page(seance.id, "presences", form),
        succes="Feuille de présence enregistrée.",
        suite=url_for(".voir", seance_id=seance.id, _anchor="presences"),
        version=lambda: seance.version,
        perimee=service.SEANCE_CHANGEE,
        impossible=lambda: (
            "La séance est close : sa feuille de présence ne se modifie plus."
            if seance.statut is StatutSeance.close
            else None
        ),
    )


# --- Pendant le vote : les partenaires votent, les financeurs saisissent leur montant --------------


@bp.route("/<int:seance_id>/points/<int:point_id>/vote/<int:organisation_id>", methods=["POST"])
@login_required
def voter(seance_id: int, point_id: int, organisation_id: int):
    seance, point = _point_visible(seance_id, point_id)
    exiger(organisation_id in service.organisations_votantes(current_user, seance.contrat_id))
    form = VoteForm(prefix=f"vote-{point.id}-{organisation_id}")
    # La version comparée est celle du vote de l'organisation : le service la vérifie et nomme qui a voté.
    return traiter_formulaire(
        form,
        executer=lambda: service.voter(
            point.id, organisation_id, form.choix.data, form.motif.data, current_user, form.version.data
        ),
        rendre=_sur_la_page(seance.id, ("vote", point.id, organisation_id), form),
        succes=f"Vote enregistré pour le dossier {point.demande.numero}.",
        suite=_vers_le_point(seance, point),
    )


@bp.route("/<int:seance_id>/points/<int:point_id>/lignes/<int:ligne_id>/montant", methods=["POST"])
@login_required
def saisir_montant(seance_id: int, point_id: int, ligne_id: int):
    seance, point = _point_visible(seance_id, point_id)
    ligne = charger_ou_404(LigneFinancement, ligne_id, lambda ligne: ligne.demande_id == point.demande_id)
    exiger(INSTRUIRE_LIGNE.permet(current_user, ligne))  # un financeur ne saisit que sa propre ligne
    form = MontantForm(prefix=f"montant-{point.id}-{ligne.id}")
    return traiter_formulaire(
        form,
        executer=lambda: service.saisir_montant(
            point.id, ligne.id, form.montant.data, current_user, form.version.data
        ),
        rendre=_sur_la_page(seance.id, ("montant", point.id, ligne.id), form),
        succes=f"Montant enregistré pour le dossier {point.demande.numero}.",
        suite=_vers_le_point(seance, point),
    )


# --- Clôture et procès-verbal -------------------------------------------------------------------


@bp.route("/<int:seance_id>/clore", methods=["GET", "POST"])
@login_required
def clore(seance_id: int):
    seance = _seance_du_pilote(seance_id)
    form = VersionForm()
    if not form.is_submitted():
        form.version.data = seance.version

    def rendre(code: int, conflit: str | None):
        actuelle = service.charger(seance_id)
        feuille, resultats = service.resultats(actuelle)
        quorum, _ = service.regles(actuelle)
        return render_template(
            "comites/clore.html",
            seance=actuelle,
            form=form,
            resultats=resultats,
            partenaires=len(feuille.partenaires),
            feuille=feuille,
            quorum=quorum,
            quorum_requis=quorum_requis(len(feuille.partenaires), quorum),
            # Un montant que la garde du vote refuse (enveloppe, montant demandé) : la séance n'est pas close.
            erreur=" ".join(form.form_errors),
            conflit=conflit,
            # Ce qui empêche de clore : séance pas encore tenue, feuille de présence incomplète.
            pas_encore=service.cloture_impossible(actuelle, feuille, aujourdhui()),
            presences_incompletes=not feuille.complete,
            StatutSeance=StatutSeance,
        ), code

    return traiter_formulaire(
        form,
        executer=lambda: service.clore(seance.id, current_user, form.version.data),
        rendre=rendre,
        succes="Séance close : décisions enregistrées, porteurs prévenus ; le procès-verbal est en cours de "
        "production.",
        suite=url_for(".voir", seance_id=seance.id),
        version=lambda: seance.version,
        perimee=service.SEANCE_CHANGEE,
    )


@bp.route("/<int:seance_id>/proces-verbal.pdf")
@login_required
def proces_verbal(seance_id: int):
    seance = _seance_visible(seance_id)
    if seance.pv_cle_stockage is None:
        abort(404)
    noter(lectures.lecture_du_proces_verbal(current_user, seance))
    return documents.reponse_telechargement(
        seance.pv_cle_stockage,
        mimetype="application/pdf",
        download_name=f"proces-verbal-comite-{seance.date_seance.isoformat()}-{seance.id}.pdf",
    )
