"""Export national de la programmation (administration nationale) : une tâche écrit le fichier dans
le dossier exports/ du stockage (disque ou seau), la page liste les exports en préparation, prêts ou en
erreur, avec leur lien.

Sans Redis la tâche s'exécute pendant la requête ; avec Redis, un travailleur RQ la prend et la page
affiche « en préparation » jusqu'à ce que le fichier soit complet.
"""

from __future__ import annotations

import logging

import click
from flask import abort, render_template, url_for
from flask_login import current_user

from dauphin.administration import administrateur_national, bp
from dauphin.lectures import noter
from dauphin.services import exports as service
from dauphin.services import lectures
from dauphin.services.programmation import exercices_disponibles
from dauphin.stockage import reponse_fichier, stockage
from dauphin.vues import traiter_formulaire
from forms.administration import ExportNationalForm

journal = logging.getLogger(__name__)


@bp.route("/exports", methods=["GET", "POST"])
@administrateur_national
def exports():
    exercices = exercices_disponibles()
    form = ExportNationalForm()
    form.exercices = tuple(exercices)

    def demander() -> str:
        exercice = form.exercice.data
        try:
            service.demander_export_national(int(exercice), form.format.data)
        except Exception:  # sans Redis la tâche tourne ici : son échec est noté dans la liste
            journal.exception("Export national %s (%s) en échec", exercice, form.format.data)
        return exercice

    def rendre(code: int, _conflit):
        erreurs = {
            nom: messages[0] for nom, messages in form.errors.items()
        }  # le gabarit les nomme par champ
        saisi = form.exercice.data or ""
        page = render_template(
            "administration/exports.html",
            form=form,
            form_has_errors=bool(erreurs),
            erreurs=erreurs,
            exercices=exercices,
            # Une année saisie (4 chiffres) reste choisie ; toute autre saisie, même de 5 000 chiffres, non.
            exercice=int(saisi)
            if saisi.isdigit() and len(saisi) == 4
            else (exercices[0] if exercices else None),
            format_=form.format.data,
            fichiers=service.exports_nationaux(),
        )
        return page, code

    return traiter_formulaire(
        form,
        executer=demander,
        rendre=rendre,
        succes=lambda exercice: (
            f"L’export de la programmation {exercice} est demandé. Il apparaît ci-dessous dès qu’il est prêt."
        ),
        suite=url_for("administration.exports"),
    )


@bp.route("/exports/<nom>")
@administrateur_national
def telecharger_export(nom: str):
    cle = service.cle_export(nom)
    if cle is None:
        abort(404)
    exercice, format_ = service.NOM_EXPORT.fullmatch(nom).group(1, 4)
    noter(
        lectures.lecture_d_export(
            current_user,
            f"Export national de la programmation {exercice} ({format_.upper()})",
            {"fichier": nom, "exercice": int(exercice), "format": format_},
        )
    )
    mimetype = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if nom.endswith(".xlsx")
        else "text/csv; charset=utf-8"
    )
    return reponse_fichier(cle, mimetype=mimetype, download_name=nom, max_age=0)


@bp.cli.command("exporter-programmation")
@click.option("--exercice", type=int, required=True, help="Exercice (année) à exporter.")
@click.option("--format", "format_", type=click.Choice(service.FORMATS), default="xlsx", show_default=True)
def exporter_programmation(exercice: int, format_: str):
    """Écrit l'export national d'un exercice dans le stockage (comme la tâche) et affiche son nom."""
    import time

    debut = time.perf_counter()
    nom = service.demander_export_national(exercice, format_)
    click.echo(f"{nom} : {time.perf_counter() - debut:.1f} s ({stockage().url}/{service.DOSSIER}{nom})")
