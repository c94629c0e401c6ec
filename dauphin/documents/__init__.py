"""Porte-documents des structures : dépôt contrôlé, téléchargement réservé aux personnes autorisées.

Routes :
- ``/documents/structure/<id>`` (GET, POST) : le porte-documents, et son formulaire de dépôt ;
- ``/documents/<id>/archiver`` (GET : confirmation, POST) et ``/documents/<id>/restaurer`` (POST) ;
- ``/documents/<id>/telecharger`` : le fichier, pour qui peut le voir (`policies.peut_telecharger`) ;
  hors de la structure, le téléchargement est tracé (`dauphin.lectures`).

Qui n'y a pas droit reçoit une 404 : on ne révèle pas l'existence d'une structure ni d'un document.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wsgi import get_input_stream

from dauphin.extensions import db
from dauphin.lectures import noter
from dauphin.models import Document, Structure
from dauphin.policies import est_membre_structure, peut_telecharger
from dauphin.services import documents as service
from dauphin.services import lectures
from dauphin.stockage import FichierAbsent
from dauphin.vues import traiter_bouton, traiter_formulaire
from forms.documents import DepotDocumentForm

bp = Blueprint("documents", __name__, url_prefix="/documents")
journal = logging.getLogger(__name__)

# Envoi trop volumineux : on relit le début du corps pour retrouver les champs saisis avant le fichier,
# puis on lit (sans le garder) le reste, borné, pour que le navigateur reçoive bien la page d'erreur au
# lieu d'une « connexion réinitialisée ».
DEBUT_LU = 64 * 1024
VIDANGE_MAX = 64 * 1024 * 1024

bp.add_app_template_filter(service.taille_lisible, "taille_fichier")
bp.add_app_template_filter(service.format_court, "format_fichier")


def _structure_du_membre(structure_id: int) -> Structure | None:
    structure = db.session.get(Structure, structure_id)
    if structure is None or not est_membre_structure(current_user, structure_id):
        return None
    return structure


def _page(structure: Structure, form: DepotDocumentForm, statut: int = 200):
    avec_archives = request.args.get("archives") == "1"
    par_type = service.porte_documents(structure.id, avec_archives=avec_archives)
    deposants = service.deposants([d for liste in par_type.values() for d in liste])
    return (
        render_template(
            "documents/porte_documents.html",
            structure=structure,
            form=form,
            par_type=par_type,
            deposants=deposants,
            avec_archives=avec_archives,
            nombre_archives=service.nombre_archives(structure.id),
            aujourdhui=service.date_du_jour(),
            action_form=FlaskForm(formdata=None),  # jetons CSRF des boutons (rien à relire)
        ),
        statut,
    )


@bp.route("/structure/<int:structure_id>", methods=["GET", "POST"])
@login_required
def porte_documents(structure_id: int):
    structure = _structure_du_membre(structure_id) or abort(404)
    form = DepotDocumentForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.deposer(
            structure.id,
            current_user,
            form.type_piece.data,
            form.fichier.data.stream,
            form.fichier.data.filename,
            valable_jusqu_au=form.valable_jusqu_au.data,
        ),
        rendre=lambda code, _: _page(structure, form, code),
        succes=lambda document: (
            f"Le document « {document.nom_fichier} » est déposé dans le porte-documents "
            f"({document.type_piece.libelle})."
        ),
        suite=url_for(".porte_documents", structure_id=structure.id),
    )


def _champs_avant_le_fichier() -> tuple[MultiDict, str | None]:
    """Les champs texte envoyés avant le fichier, et le nom du fichier, relus du début du corps."""
    frontiere = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not frontiere:
        return MultiDict(), None
    flux = get_input_stream(request.environ, max_content_length=None)
    decodeur = MultipartDecoder(frontiere.encode("latin-1"), max_form_memory_size=DEBUT_LU)
    decodeur.receive_data(flux.read(DEBUT_LU))
    lus = _lire_jusqu_au_fichier(decodeur)
    restant = VIDANGE_MAX
    while restant > 0 and (bloc := flux.read(min(restant, 1024 * 1024))):
        restant -= len(bloc)
    return lus


def _lire_jusqu_au_fichier(decodeur: MultipartDecoder) -> tuple[MultiDict, str | None]:
    champs: MultiDict = MultiDict()
    nom, valeur, evenement = None, b"", decodeur.next_event()
    while not isinstance(evenement, NeedData | Epilogue):
        if isinstance(evenement, File):
            return champs, evenement.filename  # le fichier vient en dernier : inutile d'aller plus loin
        if isinstance(evenement, Field):
            nom, valeur = evenement.name, b""
        elif isinstance(evenement, Data) and nom is not None:
            valeur += evenement.data
            if not evenement.more_data:
                champs.add(nom, valeur.decode("utf-8", "replace"))
                nom = None
        evenement = decodeur.next_event()
    return champs, None


@bp.errorhandler(RequestEntityTooLarge)
def envoi_trop_volumineux(erreur: RequestEntityTooLarge):
    """Un envoi au-delà de MAX_CONTENT_LENGTH : le formulaire réaffiché avec le message à côté du champ."""
    db.session.rollback()
    if request.endpoint != "documents.porte_documents" or request.method != "POST":
        return erreur
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    structure = _structure_du_membre(request.view_args["structure_id"])
    if structure is None:
        return render_template("errors/404.html"), 404
    try:
        champs, nom_fichier = _champs_avant_le_fichier()
    except Exception:  # un corps illisible ne doit pas empêcher d'afficher le message
        journal.warning("Envoi trop volumineux illisible sur %s", request.path, exc_info=True)
        champs, nom_fichier = MultiDict(), None
    champs.pop("fichier", None)
    form = DepotDocumentForm(formdata=champs)
    form.fichier.errors = [service.message_trop_volumineux(nom_fichier)]
    return _page(structure, form, 413)


def _document_du_membre(document_id: int):
    document = service.document_du_porte_documents(document_id, current_user)
    if document is None:
        abort(404)
    return document


@bp.route("/<int:document_id>/archiver", methods=["GET", "POST"])
@login_required
def archiver(document_id: int):
    document = _document_du_membre(document_id)
    form = FlaskForm()
    return traiter_formulaire(
        form,
        executer=lambda: service.archiver(document, current_user),  # déjà archivé : rien à refaire
        rendre=lambda code, _: (
            render_template(
                "documents/archiver.html",
                document=document,
                structure=db.session.get(Structure, document.structure_id),
                demandes=service.demandes_utilisant(document),
                form=form,
            ),
            code,
        ),
        succes=f"Le document « {document.nom_fichier} » est archivé : il n’apparaît plus dans le "
        "porte-documents, et les demandes qui l’utilisent le gardent.",
        suite=url_for(".porte_documents", structure_id=document.structure_id),
    )


@bp.route("/<int:document_id>/restaurer", methods=["POST"])
@login_required
def restaurer(document_id: int):
    document = _document_du_membre(document_id)
    return traiter_bouton(
        FlaskForm(),
        executer=lambda: service.restaurer(document, current_user),
        succes=f"Le document « {document.nom_fichier} » est de retour dans le porte-documents.",
        suite=url_for(".porte_documents", structure_id=document.structure_id, archives=1),
    )


@bp.route("/<int:document_id>/telecharger")
@login_required
def telecharger(document_id: int):
    document = db.session.get(Document, document_id)
    if document is None or not peut_telecharger(current_user, document):
        abort(404)
    # Hors de la structure (financeur, partenaire, pilote, national), le téléchargement est tracé ;
    # `dossier` : la demande dont la page offrait le lien (une pièce peut être jointe à plusieurs).
    try:
        reponse = service.reponse_piece(document)
    except (ValueError, FichierAbsent):
        journal.error("Fichier absent du stockage pour le document %s", document.id)
        abort(404)
    noter(lectures.lecture_du_document(current_user, document, request.args.get("dossier", type=int)))
    return reponse
