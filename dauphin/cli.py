"""Commandes `flask …` : diagrammes des workflows, jeux de données, envoi des courriels."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from workflows import MACHINES
from workflows.diagramme import mermaid

workflow = AppGroup("workflow", help="Machines à états des demandes.")
seed = AppGroup("seed", help="Jeux de données (démonstration, volume national).")
courriels = AppGroup("courriels", help="Boîte d'envoi des courriels.")
journal = AppGroup("journal", help="Journal des transitions.")
exercice = AppGroup("exercice", help="Fin d’exercice : clôture et comptes rendus financiers.")


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


@exercice.command("cloturer")
@click.argument("annee", type=click.IntRange(2000, 2100))
def cloturer_exercice(annee: int):
    """Passe « à justifier » les demandes financées dont la dernière année d'action est ANNEE (ou avant).

    Idempotent : une seconde exécution ne déplace rien et le dit."""
    from dauphin.services.comptes_rendus import ExerciceEnCours, cloturer

    try:
        click.echo(str(cloturer(annee)))
    except ExerciceEnCours as erreur:
        raise click.ClickException(str(erreur)) from erreur


@exercice.command("relancer")
@click.option("--jours-avant", type=click.IntRange(1, 180), default=30, show_default=True)
def relancer_comptes_rendus(jours_avant: int):
    """Rappels par courriel des comptes rendus attendus (avant l'échéance) ou en retard (après), une fois
    chacun : à planifier chaque jour."""
    from dauphin.services.comptes_rendus import relancer

    click.echo(str(relancer(jours_avant=jours_avant)))


def init_app(app: Flask) -> None:
    for groupe in (workflow, seed, courriels, journal, exercice):
        app.cli.add_command(groupe)
