"""Copie du stockage vers un seau (`flask stockage migrer`) et exercice de restauration d'une sauvegarde
(`flask sauvegarde verifier`) : les deux vérifient chaque fichier par son empreinte SHA-256.

Ce que la base désigne dans le stockage : les pièces (Document : empreinte et taille en base), les
procès-verbaux et convocations des comités (taille en base), les fichiers publiés des données ouvertes
(empreinte et taille en base). Les exports nationaux, refaits à la demande et effacés après 7 jours, ne
sont désignés par rien : ils sont copiés par la migration, pas attendus d'une restauration.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dauphin.extensions import db
from dauphin.models import Document, PublicationDonneesOuvertes, SeanceComite
from dauphin.services.documents import cle_du_fichier
from dauphin.services.erreurs import Refus
from dauphin.stockage import DOSSIERS, FichierAbsent, Stockage

MORCEAU = 1024 * 1024


@dataclass(frozen=True)
class FichierAttendu:
    cle: str
    sha256: str | None
    taille: int | None
    quoi: str


def fichiers_references() -> Iterator[FichierAttendu]:
    """Chaque fichier que la base désigne, avec ce qu'elle en sait (empreinte, taille)."""
    for id_, cle, sha, taille in db.session.execute(
        select(Document.id, Document.cle_stockage, Document.sha256, Document.taille).order_by(Document.id)
    ):
        yield FichierAttendu(cle_du_fichier(cle), sha, taille, f"document {id_}")
    for seance in db.session.execute(
        select(
            SeanceComite.id,
            SeanceComite.pv_cle_stockage,
            SeanceComite.pv_sha256,
            SeanceComite.pv_taille,
            SeanceComite.convocation_cle_stockage,
            SeanceComite.convocation_sha256,
            SeanceComite.convocation_taille,
        ).order_by(SeanceComite.id)
    ):
        if seance.pv_cle_stockage:
            yield FichierAttendu(
                cle_du_fichier(seance.pv_cle_stockage),
                seance.pv_sha256,
                seance.pv_taille,
                f"procès-verbal de la séance {seance.id}",
            )
        if seance.convocation_cle_stockage:
            yield FichierAttendu(
                cle_du_fichier(seance.convocation_cle_stockage),
                seance.convocation_sha256,
                seance.convocation_taille,
                f"convocation de la séance {seance.id}",
            )
    for id_, nom, sha, taille in db.session.execute(
        select(
            PublicationDonneesOuvertes.id,
            PublicationDonneesOuvertes.nom_fichier,
            PublicationDonneesOuvertes.sha256,
            PublicationDonneesOuvertes.taille,
        ).order_by(PublicationDonneesOuvertes.id)
    ):
        yield FichierAttendu(f"donnees-ouvertes/{nom}", sha, taille, f"publication {id_} ({nom})")


class _Empreinte:
    """Un flux lu une fois, dont on calcule l'empreinte en passant."""

    def __init__(self, flux):
        self.flux, self.calcul, self.octets = flux, hashlib.sha256(), 0

    def read(self, taille: int = -1) -> bytes:
        morceau = self.flux.read(taille)
        self.calcul.update(morceau)
        self.octets += len(morceau)
        return morceau


def controler(stockage: Stockage, attendu: FichierAttendu) -> tuple[int, str | None]:
    """(octets lus, écart en une phrase ou None) pour un fichier attendu."""
    try:
        flux, _ = stockage.ouvrir(attendu.cle)
    except FichierAbsent:
        return 0, f"{attendu.quoi} : fichier absent du stockage ({attendu.cle})"
    lecteur = _Empreinte(flux)
    with flux:
        while lecteur.read(MORCEAU):
            pass
    if attendu.sha256 and lecteur.calcul.hexdigest() != attendu.sha256:
        return lecteur.octets, f"{attendu.quoi} : empreinte SHA-256 différente de celle de la base"
    if attendu.taille is not None and lecteur.octets != attendu.taille:
        return lecteur.octets, f"{attendu.quoi} : {lecteur.octets} octets au lieu de {attendu.taille}"
    return lecteur.octets, None


# --- flask stockage migrer ---------------------------------------------------------------------------


@dataclass
class BilanMigration:
    source: str
    destination: str
    copies: int = 0
    verifies: int = 0
    octets: int = 0
    ecarts: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lignes = [
            f"Stockage copié de {self.source} vers {self.destination} : {self.copies} fichier(s) copié(s), "
            f"{self.verifies} vérifié(s) par leur empreinte SHA-256, {self.octets} octets."
        ]
        if self.ecarts:
            lignes.append(f"{len(self.ecarts)} écart(s) :")
            lignes += [f"  - {ecart}" for ecart in self.ecarts]
        return "\n".join(lignes)


def migrer(source: Stockage, destination: Stockage) -> BilanMigration:
    """Copie chaque fichier des dossiers du stockage, puis relit la copie et compare son empreinte à celle
    de l'original (et, pour ce que la base désigne, à celle de la base)."""
    if source.url == destination.url:
        raise Refus(f"La destination est le stockage actuel ({source.url}) : rien à copier.")
    try:
        destination.verifier_acces()
    except Exception as erreur:
        raise Refus(f"La destination {destination.url} ne répond pas : {erreur}") from None
    attendus = {a.cle: a for a in fichiers_references()}
    bilan = BilanMigration(source.url, destination.url)
    for dossier in DOSSIERS:
        for objet in source.lister(dossier):
            flux, _ = source.ouvrir(objet.cle)
            lecteur = _Empreinte(flux)
            with flux:
                destination.ecrire(objet.cle, lecteur)
            bilan.copies += 1
            bilan.octets += lecteur.octets
            empreinte = lecteur.calcul.hexdigest()
            if destination.empreinte(objet.cle) != empreinte:
                bilan.ecarts.append(f"{objet.cle} : la copie relue diffère de l'original")
                continue
            attendu = attendus.pop(objet.cle, None)
            if attendu is not None and attendu.sha256 and attendu.sha256 != empreinte:
                bilan.ecarts.append(f"{attendu.quoi} : l'original n'a déjà plus l'empreinte de la base")
                continue
            bilan.verifies += 1
    bilan.ecarts += [f"{a.quoi} : absent du stockage d'origine ({a.cle})" for a in attendus.values()]
    return bilan


# --- flask sauvegarde verifier -----------------------------------------------------------------------


@dataclass
class BilanVerification:
    fichier: str
    tables: int = 0
    lignes: int = 0
    lignes_journal: int = 0
    fichiers: int = 0
    octets: int = 0
    duree: float = 0.0
    ecarts: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        etat = "intacte" if not self.ecarts else f"{len(self.ecarts)} écart(s)"
        lignes = [
            f"Sauvegarde {self.fichier} restaurée dans une base temporaire et vérifiée "
            f"en {self.duree:.1f} s : {etat}.",
            f"  {self.tables} tables, {self.lignes} lignes comptées et comparées à la sauvegarde ;",
            f"  journal : {self.lignes_journal} lignes vérifiées (chaîne d'empreintes) ;",
            f"  stockage : {self.fichiers} fichier(s) désigné(s) par la base présent(s), "
            f"{self.octets} octets relus et comparés à leur empreinte ou leur taille.",
        ]
        lignes += [f"  - {ecart}" for ecart in self.ecarts]
        return "\n".join(lignes)


LIGNE_COPY = re.compile(r'^COPY (?:"?(\w+)"?\.)?"?([\w]+)"? \(')


def lignes_de_la_sauvegarde(fichier: str, environnement: dict) -> dict[str, int]:
    """Le nombre de lignes de chaque table selon la sauvegarde elle-même (blocs COPY relus par pg_restore),
    indépendamment de la restauration."""
    comptes: dict[str, int] = {}
    with subprocess.Popen(
        ["pg_restore", "--data-only", "--file=-", fichier],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environnement,
    ) as processus:
        table = None
        for brute in processus.stdout:
            if table is None:
                if brute.startswith(b"COPY "):
                    trouve = LIGNE_COPY.match(brute.decode("utf-8", "replace"))
                    if trouve:
                        table = trouve.group(2)
                        comptes[table] = 0
            elif brute == b"\\.\n":
                table = None
            else:
                comptes[table] += 1
        erreurs = processus.stderr.read().decode("utf-8", "replace").strip()
    if processus.returncode:
        raise Refus(f"pg_restore ne lit pas {fichier} : {erreurs or 'format inconnu'}.")
    return comptes


def _connexion_libpq(url) -> tuple[list[str], dict]:
    """Arguments et variables d'environnement de pg_restore pour l'URL SQLAlchemy (mot de passe caché)."""
    environnement = dict(os.environ)
    if url.password:
        environnement["PGPASSWORD"] = str(url.password)
    arguments = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 5432}"]
    if url.username:
        arguments.append(f"--username={url.username}")
    return arguments, environnement


def verifier_sauvegarde(fichier: str, *, source: str | None = None, journal=print) -> BilanVerification:
    from flask import current_app

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        raise Refus(
            "La vérification d'une sauvegarde restaure un fichier pg_dump : elle demande PostgreSQL "
            "(DAUPHIN_DATABASE_URL), pas SQLite — sur SQLite, copiez le fichier de la base."
        )
    if not shutil.which("pg_restore"):
        raise Refus("pg_restore est introuvable : installez les outils clients de PostgreSQL.")
    if not os.path.isfile(fichier):
        raise Refus(f"Le fichier {fichier} n'existe pas.")
    debut = time.monotonic()
    bilan = BilanVerification(fichier)
    arguments, environnement = _connexion_libpq(url)
    attendues = lignes_de_la_sauvegarde(fichier, environnement)
    nom = f"dauphin_verif_{secrets.token_hex(6)}"
    administration = create_engine(url, isolation_level="AUTOCOMMIT")
    with administration.connect() as connexion:
        connexion.execute(text(f'CREATE DATABASE "{nom}"'))
    url_temporaire = url.set(database=nom)
    try:
        journal(f"Restauration de {fichier} dans la base temporaire {nom}…")
        restauration = subprocess.run(
            [
                "pg_restore",
                *arguments,
                f"--dbname={nom}",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                fichier,
            ],
            capture_output=True,
            text=True,
            env=environnement,
        )
        if restauration.returncode:
            raise Refus(f"La restauration de {fichier} a échoué : {restauration.stderr.strip()[:500]}")
        _verifier_la_copie(url_temporaire, attendues, source, bilan)
    finally:
        with administration.connect() as connexion:
            connexion.execute(text(f'DROP DATABASE IF EXISTS "{nom}" WITH (FORCE)'))
        administration.dispose()
    bilan.duree = time.monotonic() - debut
    return bilan


def _compter(moteur) -> dict[str, int]:
    with moteur.connect() as connexion:
        tables = [
            t
            for (t,) in connexion.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            )
        ]
        return {t: connexion.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def _verifier_la_copie(url_temporaire, attendues: dict[str, int], source: str | None, bilan) -> None:
    """Sur la base restaurée : lignes par table, journal, fichiers du stockage (une application neuve
    ouverte sur cette base, avec le même stockage)."""
    from flask import current_app

    import config as configuration
    from dauphin import create_app
    from dauphin.services.empreintes import verifier

    moteur = create_engine(url_temporaire)
    try:
        restaurees = _compter(moteur)
    finally:
        moteur.dispose()
    comparaisons = [("la sauvegarde", attendues)]
    if source:
        moteur_source = create_engine(configuration.url_de_base(source))
        try:
            comparaisons.append(("la base source", _compter(moteur_source)))
        finally:
            moteur_source.dispose()
    for table, nombre in sorted(restaurees.items()):
        for ou, comptes in comparaisons:
            if comptes.get(table, 0) != nombre:
                bilan.ecarts.append(
                    f"table {table} : {nombre} lignes restaurées, {comptes.get(table, 0)} dans {ou}"
                )
    for ou, comptes in comparaisons:
        for table in sorted(set(comptes) - set(restaurees)):
            bilan.ecarts.append(f"table {table} : présente dans {ou}, absente de la restauration")
    bilan.tables, bilan.lignes = len(restaurees), sum(restaurees.values())

    cfg = configuration.charger(current_app.config["ENV_NAME"])
    cfg.SQLALCHEMY_DATABASE_URI = url_temporaire.render_as_string(hide_password=False)
    copie = create_app(cfg)
    copie.extensions["dauphin.stockage"] = current_app.extensions["dauphin.stockage"]
    with copie.app_context():
        try:
            for resultat in verifier():
                if isinstance(resultat, int):
                    bilan.lignes_journal = resultat
                else:
                    bilan.ecarts.append(f"journal : {resultat}")
            stockage = current_app.extensions["dauphin.stockage"]
            for attendu in fichiers_references():
                octets, ecart = controler(stockage, attendu)
                bilan.octets += octets
                if ecart:
                    bilan.ecarts.append(ecart)
                else:
                    bilan.fichiers += 1
        finally:
            db.session.remove()
            db.engine.dispose()
