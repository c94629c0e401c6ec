"""Export national de la programmation (administration nationale) : une tâche écrit le fichier dans
instance/exports/, la page liste les exports en préparation, prêts ou en erreur, avec leur lien.

Sans Redis la tâche s'exécute pendant la requête ; avec Redis, un travailleur RQ la prend et la page
affiche « en préparation » jusqu'à ce que le fichier soit complet.
"""

from __future__ import annotations

import logging

import click
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm

from dauphin.administration import administrateur_national, bp
from dauphin.services import exports as service
from dauphin.services.programmation import exercices_disponibles

journal = logging.getLogger(__name__)


@bp.route("/exports", methods=["GET", "POST"])
@administrateur_national
def exports():
    form = FlaskForm()
    exercices = exercices_disponibles()
    erreurs: dict[str, str] = {}
    exercice = request.form.get("exercice", type=int)
    format_ = request.form.get("format", "xlsx")
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if exercice not in exercices:
            erreurs["exercice"] = "Choisissez un exercice dans la liste."
        if format_ not in service.FORMATS:
            erreurs["format"] = "Choisissez le format XLSX ou CSV."
        if not erreurs:
            try:
                service.demander_export_national(exercice, format_)
            except Exception:  # sans Redis la tâche tourne ici : son échec est noté dans la liste
                journal.exception("Export national %s (%s) en échec", exercice, format_)
            flash(
                f"L’export de la programmation {exercice} est demandé. "
                "Il apparaît ci-dessous dès qu’il est prêt.",
                "succes",
            )
            return redirect(url_for("administration.exports"))
    code = 422 if erreurs else 200
    return (
        render_template(
            "administration/exports.html",
            form=form,
            form_has_errors=bool(erreurs),
            erreurs=erreurs,
            exercices=exercices,
            exercice=exercice or (exercices[0] if exercices else None),
            format_=format_,
            fichiers=service.exports_nationaux(),
        ),
        code,
    )


@bp.route("/exports/<nom>")
@administrateur_national
def telecharger_export(nom: str):
    chemin = service.chemin_export(nom)
    if chemin is None:
        abort(404)
    mimetype = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if nom.endswith(".xlsx")
        else "text/csv; charset=utf-8"
    )
    return send_file(chemin, mimetype=mimetype, as_attachment=True, download_name=nom, max_age=0)


@bp.cli.command("exporter-programmation")
@click.option("--exercice", type=int, required=True, help="Exercice (année) à exporter.")
@click.option("--format", "format_", type=click.Choice(service.FORMATS), default="xlsx", show_default=True)
def exporter_programmation(exercice: int, format_: str):
    """Écrit l'export national d'un exercice dans instance/exports/ (comme la tâche) et affiche son nom."""
    import time

    debut = time.perf_counter()
    nom = service.demander_export_national(exercice, format_)
    click.echo(f"{nom} : {time.perf_counter() - debut:.1f} s ({service.dossier_exports() / nom})")
