"""Commandes `flask …` : diagrammes des workflows, jeux de données, envoi des courriels."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from workflows import MACHINES
from workflows.diagramme import mermaid


class CommandeRefusee(click.ClickException):
    """Le refus d'une commande : une phrase en français sur la sortie d'erreur, code de sortie 1 — ni trace
    Python, ni préfixe « Error: »."""

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def _refus_attendus() -> tuple[type[Exception], ...]:
    from config import ConfigurationInvalide
    from dauphin.seeds.scale import ChargementImpossible
    from dauphin.services.erreurs import Refus

    return (Refus, ConfigurationInvalide, ChargementImpossible)


class Commandes(AppGroup):
    """Un groupe de commandes `flask …` dont les refus attendus (règle métier, configuration, chargement
    impossible) sortent en une phrase : l'opérateur lit la raison, pas une trace de 37 lignes."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _refus_attendus() as erreur:
            raise CommandeRefusee(str(erreur)) from None


workflow = Commandes("workflow", help="Machines à états des demandes.")
seed = Commandes("seed", help="Jeux de données (démonstration, volume national).")
courriels = Commandes("courriels", help="Boîte d'envoi des courriels.")
recepisses = Commandes("recepisses", help="Récépissés de dépôt (PDF).")
journal = Commandes("journal", help="Journal des transitions.")
referentiel = Commandes("referentiel", help="Référentiel national : import des contrats de ville et des QPV.")
exercice = Commandes("exercice", help="Fin d’exercice : clôture et comptes rendus financiers.")
lectures = Commandes("lectures", help="Trace des lectures des dossiers, documents et exports.")
sessions = Commandes("sessions", help="Sessions ouvertes des comptes.")
comptes = Commandes("comptes", help="Comptes : double authentification.")
stockage = Commandes("stockage", help="Stockage des fichiers (disque local ou seau S3).")
sauvegarde = Commandes("sauvegarde", help="Sauvegardes : exercice de restauration.")
donnees_ouvertes = Commandes(
    "donnees-ouvertes",
    help="Données ouvertes : données essentielles des subventions (SCDL Subventions 2.1.1).",
)


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
    from dauphin.services.evenements import ranger_les_oublies  # le journal chargé en masse, dans le flux

    click.echo(f"{ranger_les_oublies()} ligne(s) du journal rangée(s) dans le flux des changements.")


@courriels.command("envoyer")
def envoyer():
    """Envoie les courriels en attente (à planifier toutes les minutes si Redis est absent)."""
    from dauphin.services.courriels import envoyer_tous

    click.echo(envoyer_tous())


@recepisses.command("rattraper")
def rattraper_recepisses():
    """Produit les récépissés manquants (tâche perdue, Redis en panne) ; à planifier si Redis est absent."""
    from dauphin.taches import rattraper_recepisses as rattraper

    click.echo(f"{rattraper()} récépissé(s) produit(s).")


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


api = Commandes("api", help="API JSON : jetons des organisations.")
jeton = Commandes("jeton", help="Jetons de l'API (créer, lister, révoquer).")
api.add_command(jeton)


def _compte(email: str):
    from sqlalchemy import func, select

    from dauphin.extensions import db
    from dauphin.models import Utilisateur

    utilisateur = db.session.scalar(select(Utilisateur).where(func.lower(Utilisateur.email) == email.lower()))
    if utilisateur is None:
        raise CommandeRefusee(f"Aucun compte « {email} ».")
    return utilisateur


@jeton.command("creer")
@click.option(
    "--organisation",
    "organisation_id",
    type=int,
    help="N° de l'organisation ; facultatif si le compte n'en gère qu'une (le refus dit lesquelles il gère).",
)
@click.option("--par", "createur", required=True, help="Adresse du compte qui crée le jeton (journalisé).")
@click.option("--au-nom-de", "titulaire", help="Adresse du titulaire (administrateur national seulement).")
@click.option("--libelle", required=True, help="Nom du jeton (le logiciel qui l'utilise).")
@click.option(
    "--portee",
    "portees",
    multiple=True,
    type=click.Choice(["lecture", "instruction", "comite", "paiement"]),
    default=("lecture",),
    show_default=True,
    help="Portée du jeton (répétable : --portee lecture --portee paiement).",
)
@click.option("--jours", type=click.IntRange(1, 365), default=90, show_default=True, help="Validité.")
def jeton_creer(organisation_id, createur, titulaire, libelle, portees, jours):
    """Crée un jeton et l'affiche une seule fois (seule son empreinte est gardée)."""
    from datetime import timedelta

    from dauphin.services import api as service
    from dauphin.services.erreurs import NonAutorise, Refus
    from dauphin.services.workflow import aujourdhui

    auteur = _compte(createur)
    gerees = service.organisations_gerees(auteur)
    if organisation_id is None:
        if len(gerees) != 1:
            raise CommandeRefusee(
                f"Précisez --organisation : {auteur.email} gère les jetons de "
                + (_liste_organisations(gerees) if gerees else "aucune organisation")
                + "."
            )
        organisation_id = gerees[0].id
    try:
        jeton_cree, clair = service.creer_jeton(
            auteur,
            organisation_id,
            libelle=libelle,
            portees=portees,
            expire_le=aujourdhui() + timedelta(days=jours),
            titulaire_id=_compte(titulaire).id if titulaire else None,
        )
    except Refus as erreur:
        raise CommandeRefusee(str(erreur)) from erreur
    except NonAutorise as erreur:
        raise CommandeRefusee(
            f"{auteur.email} ne gère pas les jetons de l'organisation n° {organisation_id} ; il gère ceux de "
            + (_liste_organisations(gerees) if gerees else "aucune organisation")
            + "."
        ) from erreur
    click.echo(
        f"Jeton n° {jeton_cree.id} « {jeton_cree.libelle} » pour {jeton_cree.organisation.nom}, "
        f"au nom de {jeton_cree.titulaire.nom_complet}, "
        f"portées : {jeton_cree.libelle_portees.lower()}, "
        f"valable jusqu'au {jeton_cree.expire_le:%Y-%m-%d %H:%M} UTC."
    )
    click.echo("À copier maintenant, il ne sera plus affiché :", err=True)
    click.echo(clair)


def _liste_organisations(organisations) -> str:
    premieres = ", ".join(f"{o.nom} (n° {o.id})" for o in organisations[:10])
    return premieres + (f" et {len(organisations) - 10} autres" if len(organisations) > 10 else "")


@jeton.command("lister")
@click.option("--organisation", "organisation_id", type=int, help="Seulement cette organisation.")
def jeton_lister(organisation_id):
    """Les jetons (jamais en clair) : préfixe, organisation, titulaire, portée, échéance, état."""
    from sqlalchemy import select

    from dauphin.extensions import db
    from dauphin.models import JetonApi

    requete = select(JetonApi).order_by(JetonApi.id)
    if organisation_id:
        requete = requete.where(JetonApi.organisation_id == organisation_id)
    for j in db.session.scalars(requete):
        etat = "révoqué" if j.revoque_le else ("expiré" if j.expire() else "actif")
        click.echo(
            f"{j.id}\t{j.prefixe}…\t{j.organisation.nom}\t{j.titulaire.email}\t{j.portees}\t"
            f"{j.expire_le:%Y-%m-%d}\t{etat}\t{j.libelle}"
        )


@jeton.command("revoquer")
@click.argument("jeton_id", type=int)
@click.option("--par", "auteur", required=True, help="Adresse du compte qui révoque (journalisé).")
def jeton_revoquer(jeton_id, auteur):
    """Révoque un jeton (immédiat et définitif)."""
    from werkzeug.exceptions import NotFound

    from dauphin.services import api as service

    try:
        j = service.revoquer_jeton(jeton_id, _compte(auteur))
    except NotFound as erreur:
        raise CommandeRefusee(f"Jeton {jeton_id} introuvable pour {auteur}.") from erreur
    click.echo(f"Jeton n° {j.id} « {j.libelle} » révoqué le {j.revoque_le:%Y-%m-%d %H:%M} UTC.")


def _rapport_import(importer, fichier, **options) -> None:
    from dauphin.services.erreurs import Refus

    try:
        rapport = importer(fichier.read_bytes(), fichier.name, None, **options)
    except Refus as erreur:  # le fichier entier est refusé
        click.echo(f"Fichier refusé : {erreur}", err=True)
        raise SystemExit(1) from None
    click.echo(rapport.texte())
    if rapport.rejets:  # un script qui enchaîne les imports doit savoir que celui-ci n'a rien écrit
        raise SystemExit(1)


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


@exercice.command("cloturer")
@click.argument("annee", type=click.IntRange(2000, 2100))
def cloturer_exercice(annee: int):
    """Passe « à justifier » les demandes financées dont la dernière année d'action est ANNEE (ou avant).

    Idempotent : une seconde exécution ne déplace rien et le dit."""
    from dauphin.services.comptes_rendus import cloturer
    from dauphin.services.erreurs import Refus

    try:
        click.echo(str(cloturer(annee)))
    except Refus as erreur:
        raise CommandeRefusee(str(erreur)) from erreur


@exercice.command("relancer")
@click.option("--jours-avant", type=click.IntRange(1, 180), default=30, show_default=True)
def relancer_comptes_rendus(jours_avant: int):
    """Rappels par courriel des comptes rendus attendus (avant l'échéance) ou en retard (après), une fois
    chacun : à planifier chaque jour."""
    from dauphin.services.comptes_rendus import relancer

    click.echo(str(relancer(jours_avant=jours_avant)))


@lectures.command("purger")
@click.option(
    "--jours",
    type=click.IntRange(min=1),
    default=None,
    help="Effacer les lectures plus anciennes que ce nombre de jours (défaut : DAUPHIN_READ_TRACE_DAYS).",
)
def purger_lectures(jours: int | None):
    """Efface la trace des lectures au-delà de sa durée de conservation : planifiée chaque nuit par
    `rq cron … dauphin.planification`, ou à planifier chaque jour par cron sans Redis."""
    from dauphin.services.lectures import purger

    duree = jours or current_app.config["DUREE_TRACE_LECTURES_JOURS"]
    click.echo(f"{purger(duree)} lecture(s) de plus de {duree} jours effacée(s).")


@sessions.command("purger")
def purger_sessions():
    """Efface les sessions fermées, expirées ou d'un mot de passe changé, de tous les comptes : à planifier
    chaque jour (chaque connexion efface déjà celles de son compte)."""
    from dauphin.services.sessions import purger

    nombre = purger()
    click.echo(f"{nombre} session{'s' if nombre > 1 else ''} effacée{'s' if nombre > 1 else ''}.")


@comptes.command("reinitialiser-second-facteur")
@click.argument("email")
def reinitialiser_second_facteur(email: str):
    """Efface la double authentification du compte EMAIL (téléphone et codes de secours perdus) et ferme ses
    sessions ; pour le dernier administrateur national, les autres passent par l'écran du compte. Tracé à
    l'historique du compte (« ligne de commande »), annoncé au titulaire par courriel."""
    from sqlalchemy import select

    from dauphin.extensions import db
    from dauphin.models import Utilisateur
    from dauphin.services import second_facteur
    from dauphin.services.comptes import normaliser_email
    from dauphin.services.erreurs import Refus

    compte = db.session.scalar(select(Utilisateur).where(Utilisateur.email == normaliser_email(email)))
    if compte is None:
        raise CommandeRefusee(f"Aucun compte n’a l’adresse {email}.")
    try:
        # Le lien du courriel se construit comme dans une requête (BASE_URL + chemin de la route)
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            second_facteur.reinitialiser(None, compte.id)
    except Refus as erreur:
        raise CommandeRefusee(str(erreur)) from erreur
    click.echo(
        f"Double authentification de {compte.email} réinitialisée ; ses sessions sont fermées. Elle "
        "l’activera de nouveau à sa prochaine connexion si elle lui est obligatoire."
    )


@donnees_ouvertes.command("publier")
@click.option("--exercice", "annee", type=click.IntRange(2000, 2100), required=True, help="Exercice (année).")
@click.option(
    "--financeur",
    "organisation_id",
    type=click.IntRange(min=1),
    help="Id. de l'organisation (défaut : toutes).",
)
@click.option(
    "--sortie",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    required=True,
    help="Dossier où écrire une copie des fichiers.",
)
def publier_donnees_ouvertes(annee: int, organisation_id: int | None, sortie: Path):
    """Publie les données essentielles des subventions engagées de l'exercice : un fichier CSV par financeur
    (<SIRET>_<exercice>_subventions.csv), listé sur /donnees-ouvertes/ et copié dans SORTIE.

    Code de sortie 1, en une phrase, si rien ne peut être publié ou si un financeur n'a pas de SIRET (les
    autres sont publiés)."""
    from dauphin.libelles import quantite
    from dauphin.services import donnees_ouvertes as service

    bilan = service.publier(annee, organisation_id, sortie=sortie)
    for publication in bilan.publications:
        click.echo(
            f"{sortie / publication.nom_fichier} : {publication.organisation.nom}, "
            f"{quantite(publication.nb_lignes, 'ligne')}, {publication.taille} octets."
        )
    if bilan.en_attente:
        attente = "attend son acte" if bilan.en_attente == 1 else "attendent leur acte"
        click.echo(
            f"{quantite(bilan.en_attente, 'ligne votée', 'lignes votées')} de l'exercice {attente} "
            "(notification ou convention signée) : publiée(s) dès qu'il sera établi."
        )
    if bilan.sans_siret:
        noms = ", ".join(f"« {f.nom} » (n° {f.id})" for f in bilan.sans_siret)
        raise CommandeRefusee(
            f"Non publiés faute de SIRET : {noms} ; renseignez-le dans Administration, Organisations, "
            "puis relancez la commande."
        )


webhooks = Commandes("webhooks", help="Flux des changements et webhooks des organisations.")


@webhooks.command("livrer")
def livrer_webhooks():
    """Distribue le flux aux adresses inscrites et livre les envois dus (à planifier chaque minute si Redis
    est absent)."""
    from dauphin.taches import webhooks as tache

    bilan = tache()
    click.echo(
        f"{bilan['distribuees']} distribuée(s), {bilan['livrees']} livrée(s), {bilan['echecs']} en échec."
    )


@webhooks.command("ranger")
def ranger_flux():
    """Donne leur rang dans le flux aux lignes du journal écrites en masse (après `flask seed scale`)."""
    from dauphin.services.evenements import ranger_les_oublies

    click.echo(f"{ranger_les_oublies()} ligne(s) du journal rangée(s) dans le flux.")


@stockage.command("migrer")
@click.option(
    "--vers", "vers", required=True, help="Stockage de destination : s3://seau/prefixe ou file:///chemin."
)
def migrer_stockage(vers: str):
    """Copie tous les fichiers du stockage actuel vers un autre (un seau S3 : variables DAUPHIN_S3_*) et
    vérifie chaque copie par son empreinte SHA-256 ; code de sortie 1 au moindre écart."""
    from dauphin.services.erreurs import Refus
    from dauphin.services.sauvegarde import migrer
    from dauphin.stockage import UrlDeStockageInvalide, depuis_url, parametres_s3
    from dauphin.stockage import stockage as actuel

    try:
        destination = depuis_url(vers, s3=parametres_s3(current_app.config))
    except UrlDeStockageInvalide as erreur:
        raise Refus(str(erreur).replace("DAUPHIN_STORAGE_URL", "--vers")) from None
    bilan = migrer(actuel(), destination)
    click.echo(str(bilan))
    if bilan.ecarts:
        raise SystemExit(1)
    click.echo(f"Pour s'en servir : DAUPHIN_STORAGE_URL={destination.url}")


@sauvegarde.command("verifier")
@click.option("--depuis", "fichier", required=True, help="Fichier de sauvegarde (pg_dump --format=custom).")
@click.option("--source", default=None, help="URL de la base sauvegardée, pour comparer aussi ses lignes.")
def verifier_sauvegarde(fichier: str, source: str | None):
    """Restaure la sauvegarde dans une base temporaire et la vérifie : lignes par table, journal, fichiers
    désignés présents dans le stockage avec leur empreinte. Code de sortie 1 au moindre écart."""
    from dauphin.services.sauvegarde import verifier_sauvegarde as verifier

    bilan = verifier(fichier, source=source, journal=click.echo)
    click.echo(str(bilan))
    if bilan.ecarts:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    for groupe in (
        workflow,
        seed,
        courriels,
        recepisses,
        journal,
        api,
        referentiel,
        exercice,
        lectures,
        sessions,
        comptes,
        donnees_ouvertes,
        webhooks,
        stockage,
        sauvegarde,
    ):
        app.cli.add_command(groupe)
