"""Commandes `flask …` : diagrammes des workflows, jeux de données, envoi des courriels."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from workflows import MACHINES
from workflows.diagramme import mermaid

workflow = AppGroup("workflow", help="Machines à états des demandes.")
seed = AppGroup("seed", help="Jeux de données (démonstration, volume national).")
courriels = AppGroup("courriels", help="Boîte d'envoi des courriels.")
journal = AppGroup("journal", help="Journal des transitions.")
referentiel = AppGroup("referentiel", help="Référentiel national : import des contrats de ville et des QPV.")


@workflow.command("diagram")
def diagramme():
    """Affiche le diagramme Mermaid (stateDiagram-v2) de chaque machine."""
    for definition in MACHINES:
        click.echo(mermaid(definition))


@seed.command("demo")
def seed_demo():
    """Charge les données de démonstration (idempotent : une seconde fois ne duplique rien)."""
    from dauphin.seeds.demo import charger_demo

    bilan = charger_demo()
    click.echo(bilan)


@seed.command("scale")
@click.option(
    "--requests",
    "nb_demandes",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Nombre de demandes à créer.",
)
@click.option("--seed", "graine", type=int, default=147, show_default=True, help="Graine du générateur.")
def seed_scale(nb_demandes: int, graine: int):
    """Charge un jeu de données de taille nationale (base vide de demandes uniquement)."""
    from dauphin.seeds.scale import charger_volume

    bilan = charger_volume(nb_demandes, graine=graine, journal=click.echo)
    click.echo(bilan)


@courriels.command("envoyer")
def envoyer():
    """Envoie les courriels en attente (à planifier toutes les minutes si Redis est absent)."""
    from dauphin.services.courriels import envoyer_tous

    click.echo(envoyer_tous())


@journal.command("verify")
def verifier_journal():
    """Vérifie la chaîne d'empreintes du journal ; code de sortie 1 et liste des lignes en cause sinon."""
    from dauphin.services.empreintes import verifier

    anomalies = []
    for resultat in verifier():
        if isinstance(resultat, int):
            nombre = resultat
        else:
            anomalies.append(resultat)
            click.echo(str(resultat), err=True)
    if anomalies:
        click.echo(f"{len(anomalies)} anomalie(s) sur {nombre} lignes de journal.", err=True)
        raise SystemExit(1)
    click.echo(f"Journal intègre : {nombre} lignes vérifiées, aucune modifiée ni supprimée.")


def _rapport_import(importer, fichier, **options) -> None:
    from dauphin.services.imports import FichierIllisible

    try:
        rapport = importer(fichier.read_bytes(), fichier.name, None, **options)
    except FichierIllisible as erreur:
        click.echo(f"Fichier refusé : {erreur}", err=True)
        raise SystemExit(1) from None
    click.echo(rapport.texte())


@referentiel.command("importer-contrats")
@click.argument("fichier", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--generation",
    type=click.Choice(["2024", "2015"]),
    default="2024",
    show_default=True,
    help="Génération des contrats : 2024 (2024–2030) ou 2015 (2015–2023).",
)
@click.option("--simulation", is_flag=True, help="Affiche le rapport sans rien enregistrer.")
def importer_contrats(fichier: Path, generation: str, simulation: bool):
    """Ajoute ou met à jour les contrats de ville d'un fichier CSV (idempotent)."""
    from dauphin.services.imports import importer_contrats as importer

    _rapport_import(importer, fichier, generation=int(generation), simulation=simulation)


@referentiel.command("importer-qpv")
@click.argument("fichier", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--simulation", is_flag=True, help="Affiche le rapport sans rien enregistrer.")
def importer_qpv(fichier: Path, simulation: bool):
    """Ajoute ou met à jour les quartiers prioritaires d'un fichier CSV (idempotent)."""
    from dauphin.services.imports import importer_qpv as importer

    _rapport_import(importer, fichier, simulation=simulation)


def init_app(app: Flask) -> None:
    for groupe in (workflow, seed, courriels, journal, referentiel):
        app.cli.add_command(groupe)
