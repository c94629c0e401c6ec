"""Programmation d'un contrat de ville pour un exercice : l'écran et ses exports XLSX et CSV.

Le pilote du contrat, les organisations signataires (en lecture) et l'administration nationale la voient ;
les autres reçoivent 403, une campagne inconnue 404. Les vues lisent la requête et appellent
`dauphin.services.programmation` (données) et `dauphin.services.exports` (fichiers).
"""

from __future__ import annotations

import tempfile

from flask import Response, abort, render_template, request, send_file, stream_with_context
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from dauphin.extensions import db
from dauphin.lectures import noter
from dauphin.listes import page_courante
from dauphin.models import Campagne, Qpv, Thematique
from dauphin.pilotage import bp
from dauphin.policies import VOIR_CONTRAT, acteur_de
from dauphin.services import exports, lectures
from dauphin.services import programmation as service
from dauphin.vues import charger_ou_404, exiger
from workflows import StatutDemande

PAR_PAGE = 50
STATUTS_PROPOSES = [
    s for s in StatutDemande if s not in (StatutDemande.brouillon, StatutDemande.attente_attestation)
]


_AVEC_CONTRAT = (joinedload(Campagne.contrat),)


def _campagne_filtree(campagne_id: int) -> tuple[Campagne, str, service.SommesCampagne, service.Filtres]:
    """La campagne (404 ; 403 pour qui ne voit pas son contrat), la qualité de l'utilisateur, les sommes de
    la campagne (ses financeurs, totaux et enveloppes) et les filtres de l'URL : ce que lisent l'écran et
    ses exports."""
    # Avec son contrat : la politique le lit, la programmation aussi (une requête et non trois).
    campagne = charger_ou_404(Campagne, campagne_id, options=_AVEC_CONTRAT)
    qualite = VOIR_CONTRAT.qualite(current_user, campagne.contrat)
    exiger(qualite is not None)
    sommes = service.sommes_campagne(campagne.id)
    return campagne, qualite, sommes, _filtres(sommes.financeurs)


def _filtres(financeurs: list[service.Financeur]) -> service.Filtres:
    """Les filtres de l'URL ; une valeur inconnue (lien ancien, URL modifiée) est ignorée."""
    filtres = service.Filtres()
    statut = request.args.get("statut", "")
    if statut in StatutDemande.__members__ and StatutDemande(statut) in STATUTS_PROPOSES:
        filtres.statut = StatutDemande(statut)
    thematique = request.args.get("thematique", "")
    if thematique and db.session.get(Thematique, thematique) is not None:
        filtres.thematique = thematique
    qpv_id = request.args.get("qpv", type=int)
    if qpv_id:
        filtres.qpv_id = qpv_id
    financeur_id = request.args.get("financeur", type=int)
    if financeur_id in {f.cle for f in financeurs}:
        filtres.financeur_id = financeur_id
    recherche = (request.args.get("q") or "").strip()[:100]
    filtres.recherche = recherche or None
    return filtres


def _parametres(filtres: service.Filtres) -> dict[str, str]:
    parametres = {
        "statut": filtres.statut.value if filtres.statut else None,
        "thematique": filtres.thematique,
        "qpv": filtres.qpv_id,
        "financeur": filtres.financeur_id,
        "q": filtres.recherche,
    }
    return {cle: str(valeur) for cle, valeur in parametres.items() if valeur}


@bp.route("/programmation/")
@login_required
def programmations():
    """Les campagnes dont l'utilisateur voit la programmation, avec leur nombre de demandes transmises."""
    exiger(acteur_de(current_user).hors_structure)  # pilote, membre d'une organisation, national
    exercices = service.exercices_disponibles()
    exercice = request.args.get("exercice", type=int)
    exercice = exercice if exercice in exercices else None
    departement = (request.args.get("departement") or "").strip()[:3] or None
    requete = service.campagnes_visibles(current_user, exercice, departement)
    total = db.session.scalar(select(func.count()).select_from(requete.subquery()))
    page = Page(page_courante(), PAR_PAGE, total)
    lignes = db.session.execute(requete.limit(PAR_PAGE).offset((page.page - 1) * PAR_PAGE)).all()
    return render_template(
        "pilotage/programmations.html",
        page=page,
        lignes=lignes,
        exercices=exercices,
        exercice=exercice,
        departement=departement,
        parametres={k: v for k, v in {"exercice": exercice, "departement": departement}.items() if v},
    )


@bp.route("/programmation/<int:campagne_id>")
@login_required
def programmation(campagne_id: int):
    campagne, qualite, sommes, filtres = _campagne_filtree(campagne_id)
    resultat = service.programmation(
        campagne.id,
        filtres,
        page=page_courante(),
        par_page=PAR_PAGE,
        sommes=sommes,
        campagne=service.CampagneLue.de(campagne),
    )
    # Les options des filtres en rangées (colonnes affichées) et non en objets : deux cents options.
    qpvs = db.session.execute(
        select(Qpv.id, Qpv.code, Qpv.libelle)
        .where(Qpv.contrat_id == campagne.contrat_id)
        .order_by(Qpv.libelle, Qpv.code)
    ).all()
    if filtres.qpv_id and filtres.qpv_id not in {q.id for q in qpvs}:
        abort(404)
    thematiques = db.session.execute(
        select(Thematique.code, Thematique.libelle, Thematique.parent_code)
        .where(Thematique.actif)
        .order_by(Thematique.ordre, Thematique.code)
    ).all()
    parametres = _parametres(filtres)
    return render_template(
        "pilotage/programmation.html",
        campagne=campagne,
        qualite=qualite,
        p=resultat,
        page=Page(resultat.page, resultat.par_page, resultat.total),
        filtres=filtres,
        parametres=parametres,
        statuts=STATUTS_PROPOSES,
        thematiques=thematiques,
        qpvs=qpvs,
    )


class Page:
    """Ce que la macro de pagination DSFR attend d'une page (pages, page, has_prev, iter_pages…)."""

    def __init__(self, page: int, par_page: int, total: int):
        self.total, self.pages = total, max(1, -(-total // par_page))
        self.page = min(max(1, page), self.pages)

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)

    def iter_pages(self):
        from flask_sqlalchemy.pagination import Pagination

        return Pagination.iter_pages(self)


def _nom_fichier(campagne: Campagne, extension: str) -> str:
    return f"programmation-{campagne.contrat.code}-{campagne.exercice}.{extension}"


def _noter_l_export(campagne: Campagne, filtres: service.Filtres, extension: str) -> None:
    """Le téléchargement est tracé : quelle campagne, quel format, quels filtres."""
    noter(
        lectures.lecture_d_export(
            current_user,
            f"Programmation {campagne.exercice} du contrat {campagne.contrat.code} ({extension.upper()})",
            {"campagne": campagne.id, "format": extension, **_parametres(filtres)},
            campagne.contrat,
        )
    )


@bp.route("/programmation/<int:campagne_id>/export.xlsx")
@login_required
def export_xlsx(campagne_id: int):
    """Le classeur d'une campagne (quelques centaines à quelques milliers de demandes) : écrit par
    XlsxWriter en `constant_memory` dans un fichier temporaire, envoyé puis effacé."""
    campagne, _, sommes, filtres = _campagne_filtree(campagne_id)
    financeurs = sommes.financeurs
    _noter_l_export(campagne, filtres, "xlsx")
    synthese = service.programmation(campagne.id, filtres, page=1, par_page=1, sommes=sommes)
    fichier = tempfile.TemporaryFile()  # noqa: SIM115 (send_file le ferme après l’envoi)
    exports.ecrire_xlsx(
        fichier,
        financeurs,
        service.iterer_lignes(campagne.id, filtres, financeurs),
        titre=f"Programmation {campagne.exercice} — {campagne.contrat.libelle} ({campagne.contrat.code})",
        synthese=synthese,
    )
    fichier.seek(0)
    return send_file(
        fichier,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_nom_fichier(campagne, "xlsx"),
        max_age=0,
    )


@bp.route("/programmation/<int:campagne_id>/export.csv")
@login_required
def export_csv(campagne_id: int):
    """Le CSV d'une campagne, envoyé au fil de la lecture (réponse en flux)."""
    campagne, _, sommes, filtres = _campagne_filtree(campagne_id)
    financeurs = sommes.financeurs
    _noter_l_export(campagne, filtres, "csv")
    morceaux = exports.iterer_csv(financeurs, service.iterer_lignes(campagne.id, filtres, financeurs))
    reponse = Response(stream_with_context(morceaux), mimetype="text/csv; charset=utf-8")
    reponse.headers["Content-Disposition"] = f'attachment; filename="{_nom_fichier(campagne, "csv")}"'
    reponse.headers["Cache-Control"] = "no-store"
    return reponse
