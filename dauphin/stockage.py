"""Le stockage des fichiers : pièces déposées, récépissés, procès-verbaux, convocations, actes, exports,
fichiers des données ouvertes. Une seule interface, deux réalisations choisies par DAUPHIN_STORAGE_URL :

- ``file:///chemin`` (défaut : le dossier d'instance, comme avant) — un disque local, pour un serveur seul ;
- ``s3://seau/prefixe`` — un stockage d'objets S3 (boto3), partagé par plusieurs serveurs d'application.

Les clés sont des chemins relatifs choisis par le portail, jamais par l'usager : ``documents/ab/abcd…``,
``exports/<nom>``, ``donnees-ouvertes/<nom>``. Les téléchargements passent par l'application, après la
vérification des droits (`reponse_fichier`) : aucun lien direct vers le seau n'est jamais donné.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, send_file

CLE_EXTENSION = "dauphin.stockage"
# Les dossiers du stockage (le reste du dossier d'instance — base SQLite, clé secrète, courriels de
# développement — n'en fait pas partie et ne part jamais dans un seau).
DOSSIERS = ("documents/", "exports/", "donnees-ouvertes/")
MORCEAU = 1024 * 1024


class FichierAbsent(LookupError):
    """La clé ne désigne aucun fichier du stockage."""


@dataclass(frozen=True)
class Objet:
    cle: str
    taille: int
    modifie_le: datetime


def verifier_cle(cle: str) -> str:
    parties = cle.split("/")
    if (
        not cle
        or "\\" in cle
        or "\0" in cle
        or any(p in ("", ".", "..") or p.startswith(".") for p in parties)
    ):
        raise ValueError(f"clé de stockage invalide : {cle!r}")
    return cle


class Stockage(ABC):
    """L'interface commune du disque local et du seau S3. `ecrire` est atomique : un fichier à moitié écrit
    n'apparaît jamais."""

    url: str

    @abstractmethod
    def ecrire(self, cle: str, source: bytes | IO[bytes]) -> int: ...

    @abstractmethod
    def ouvrir(self, cle: str) -> tuple[IO[bytes], int]:
        """Le flux du fichier (à fermer) et sa taille ; lève FichierAbsent."""
        ...

    @abstractmethod
    def taille(self, cle: str) -> int | None:
        """La taille du fichier, ou None s'il est absent."""
        ...

    @abstractmethod
    def supprimer(self, cle: str) -> None: ...

    @abstractmethod
    def lister(self, prefixe: str) -> Iterator[Objet]: ...

    @abstractmethod
    def verifier_acces(self) -> None:
        """Lève une exception (avec sa raison) si le stockage ne répond pas : sonde de /sante."""
        ...

    # -- Ce qui découle des opérations de base -----------------------------------------------------

    def existe(self, cle: str) -> bool:
        return self.taille(cle) is not None

    def lire(self, cle: str) -> bytes:
        flux, _ = self.ouvrir(cle)
        with flux:
            return flux.read()

    def empreinte(self, cle: str) -> str:
        """SHA-256 du fichier, lu en flux (jamais entier en mémoire)."""
        flux, _ = self.ouvrir(cle)
        calcul = hashlib.sha256()
        with flux:
            while morceau := flux.read(MORCEAU):
                calcul.update(morceau)
        return calcul.hexdigest()

    def renommer(self, source: str, cible: str) -> None:
        flux, _ = self.ouvrir(source)
        with flux:
            self.ecrire(cible, flux)
        self.supprimer(source)


class FichiersLocaux(Stockage):
    """Un dossier du disque. `dossiers` redirige un préfixe ailleurs (DAUPHIN_UPLOAD_FOLDER : documents)."""

    def __init__(self, racine: Path, dossiers: dict[str, Path] | None = None):
        self.racine = Path(racine)
        self.dossiers = dossiers or {}
        self.url = self.racine.as_uri()

    def chemin(self, cle: str) -> Path:
        tete, _, reste = verifier_cle(cle).partition("/")
        if tete in self.dossiers and reste:
            return self.dossiers[tete] / reste
        return self.racine / cle

    def ecrire(self, cle: str, source: bytes | IO[bytes]) -> int:
        fichier = self.chemin(cle)
        fichier.parent.mkdir(parents=True, exist_ok=True)
        temporaire = fichier.with_name(f".{fichier.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(temporaire, "xb") as sortie:
                if isinstance(source, bytes | bytearray):
                    sortie.write(source)
                else:
                    shutil.copyfileobj(source, sortie, MORCEAU)
                sortie.flush()
                os.fsync(sortie.fileno())
                taille = sortie.tell()
            os.chmod(temporaire, 0o640)
            os.replace(temporaire, fichier)
        finally:
            temporaire.unlink(missing_ok=True)
        return taille

    def ouvrir(self, cle: str) -> tuple[IO[bytes], int]:
        try:
            flux = open(self.chemin(cle), "rb")  # noqa: SIM115 (rendu ouvert à l'appelant)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FichierAbsent(cle) from None
        return flux, os.fstat(flux.fileno()).st_size

    def taille(self, cle: str) -> int | None:
        chemin = self.chemin(cle)
        return chemin.stat().st_size if chemin.is_file() else None

    def supprimer(self, cle: str) -> None:
        self.chemin(cle).unlink(missing_ok=True)

    def renommer(self, source: str, cible: str) -> None:
        arrivee = self.chemin(cible)
        arrivee.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.chemin(source), arrivee)
        except FileNotFoundError:
            raise FichierAbsent(source) from None

    def lister(self, prefixe: str) -> Iterator[Objet]:
        """Les fichiers dont la clé commence par `prefixe` (« exports/ »), sans les temporaires cachés."""
        tete = verifier_cle(prefixe.split("/", 1)[0])
        base = self.dossiers.get(tete, self.racine / tete)
        if not base.is_dir():
            return
        for dossier, _, noms in os.walk(base):
            for nom in noms:
                if nom.startswith("."):
                    continue
                chemin = Path(dossier) / nom
                cle = f"{tete}/{chemin.relative_to(base).as_posix()}"
                if cle.startswith(prefixe):
                    etat = chemin.stat()
                    yield Objet(cle, etat.st_size, datetime.fromtimestamp(etat.st_mtime, UTC))

    def verifier_acces(self) -> None:
        self.racine.mkdir(parents=True, exist_ok=True)
        if not os.access(self.racine, os.W_OK):
            raise PermissionError(f"{self.racine} n’est pas accessible en écriture")


class SeauS3(Stockage):
    """Un seau S3 (AWS, Scaleway, OVHcloud, Garage, MinIO…) par boto3 ; un client par processus."""

    def __init__(
        self,
        seau: str,
        prefixe: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        cle_acces: str | None = None,
        secret: str | None = None,
    ):
        self.seau, self.prefixe = seau, prefixe.strip("/")
        self.url = f"s3://{seau}/{self.prefixe}".rstrip("/")
        self._parametres = {
            "endpoint_url": endpoint,
            "region_name": region,
            "aws_access_key_id": cle_acces,
            "aws_secret_access_key": secret,
        }
        self._client = None
        self._pid = None
        self._verrou = threading.Lock()

    @property
    def client(self):
        # Après un fork (gunicorn, travailleur RQ), chaque processus ouvre ses propres connexions.
        if self._client is None or self._pid != os.getpid():
            with self._verrou:
                if self._client is None or self._pid != os.getpid():
                    import boto3
                    from botocore.config import Config as ConfigBotocore

                    self._client = boto3.session.Session().client(
                        "s3",
                        config=ConfigBotocore(
                            connect_timeout=5,
                            read_timeout=30,
                            retries={"max_attempts": 3, "mode": "standard"},
                            s3={"addressing_style": "path"},
                        ),
                        **{k: v for k, v in self._parametres.items() if v},
                    )
                    self._pid = os.getpid()
        return self._client

    def _nom(self, cle: str) -> str:
        verifier_cle(cle)
        return f"{self.prefixe}/{cle}" if self.prefixe else cle

    @staticmethod
    def _absent(erreur) -> bool:
        code = erreur.response.get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def ecrire(self, cle: str, source: bytes | IO[bytes]) -> int:
        if isinstance(source, bytes | bytearray):
            self.client.put_object(Bucket=self.seau, Key=self._nom(cle), Body=bytes(source))
            return len(source)
        compteur = _Compteur(source)
        self.client.upload_fileobj(compteur, self.seau, self._nom(cle))
        return compteur.lus

    def ouvrir(self, cle: str) -> tuple[IO[bytes], int]:
        from botocore.exceptions import ClientError

        try:
            reponse = self.client.get_object(Bucket=self.seau, Key=self._nom(cle))
        except ClientError as erreur:
            if self._absent(erreur):
                raise FichierAbsent(cle) from None
            raise
        return _Flux(reponse["Body"]), reponse["ContentLength"]

    def taille(self, cle: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.seau, Key=self._nom(cle))["ContentLength"]
        except ClientError as erreur:
            if self._absent(erreur):
                return None
            raise

    def supprimer(self, cle: str) -> None:
        self.client.delete_object(Bucket=self.seau, Key=self._nom(cle))

    def renommer(self, source: str, cible: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.copy_object(
                Bucket=self.seau,
                Key=self._nom(cible),
                CopySource={"Bucket": self.seau, "Key": self._nom(source)},
            )
        except ClientError as erreur:
            if self._absent(erreur):
                raise FichierAbsent(source) from None
            raise
        self.supprimer(source)

    def lister(self, prefixe: str) -> Iterator[Objet]:
        avant = f"{self.prefixe}/" if self.prefixe else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.seau, Prefix=avant + prefixe
        )
        for page in pages:
            for objet in page.get("Contents", ()):
                yield Objet(objet["Key"][len(avant) :], objet["Size"], objet["LastModified"])

    def verifier_acces(self) -> None:
        self.client.head_bucket(Bucket=self.seau)


class _Compteur:
    """Un flux lu par boto3, dont on compte les octets."""

    def __init__(self, flux: IO[bytes]):
        self.flux, self.lus = flux, 0

    def read(self, taille: int = -1) -> bytes:
        morceau = self.flux.read(taille)
        self.lus += len(morceau)
        return morceau


class _Flux:
    """Le corps d'une réponse S3 comme un fichier : lu par morceaux, fermé après l'envoi. Pas de `fileno` :
    le serveur WSGI ne tente pas `sendfile` sur une socket HTTP."""

    def __init__(self, corps):
        self.corps = corps

    def read(self, taille: int = -1) -> bytes:
        return self.corps.read(None if taille is None or taille < 0 else taille)

    def close(self) -> None:
        self.corps.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- Choix par la configuration -----------------------------------------------------------------------


class UrlDeStockageInvalide(ValueError):
    pass


def depuis_url(url: str, *, s3: dict | None = None, dossiers: dict[str, Path] | None = None) -> Stockage:
    """Le stockage que désigne `url` ; lève UrlDeStockageInvalide avec une phrase française."""
    morceaux = urlsplit(url)
    if morceaux.scheme == "file":
        chemin = unquote(morceaux.path)
        if morceaux.netloc not in ("", "localhost") or not chemin.startswith("/"):
            raise UrlDeStockageInvalide(
                f"DAUPHIN_STORAGE_URL « {url} » : un dossier local s’écrit file:///chemin/absolu."
            )
        return FichiersLocaux(Path(chemin), dossiers)
    if morceaux.scheme == "s3":
        if not morceaux.netloc:
            raise UrlDeStockageInvalide(
                f"DAUPHIN_STORAGE_URL « {url} » : le nom du seau manque (s3://seau/prefixe)."
            )
        return SeauS3(morceaux.netloc, morceaux.path, **(s3 or {}))
    raise UrlDeStockageInvalide(
        f"DAUPHIN_STORAGE_URL « {url} » : seuls file:///chemin et s3://seau/prefixe sont acceptés."
    )


def parametres_s3(config) -> dict:
    return {
        "endpoint": config.get("S3_ENDPOINT_URL"),
        "region": config.get("S3_REGION"),
        "cle_acces": config.get("S3_ACCESS_KEY_ID"),
        "secret": config.get("S3_SECRET_ACCESS_KEY"),
    }


def init_app(app: Flask) -> None:
    url = app.config.get("STORAGE_URL")
    if url:
        stockage = depuis_url(url, s3=parametres_s3(app.config))
    else:  # le comportement d'avant : tout sous instance/, les pièces sous DAUPHIN_UPLOAD_FOLDER
        stockage = FichiersLocaux(Path(app.instance_path), {"documents": Path(app.config["UPLOAD_FOLDER"])})
    app.extensions[CLE_EXTENSION] = stockage

    @app.errorhandler(FichierAbsent)
    def fichier_absent(erreur):
        # La base désigne un fichier que le stockage n'a pas : page introuvable, et l'exploitant prévenu.
        app.logger.error("Fichier absent du stockage : %s", erreur)
        from werkzeug.exceptions import NotFound

        return app.handle_http_exception(NotFound())


def stockage() -> Stockage:
    return current_app.extensions[CLE_EXTENSION]


def reponse_fichier(cle: str, *, mimetype: str, download_name: str, **options):
    """La réponse qui envoie le fichier en flux, depuis le disque ou le seau — à n'appeler qu'après la
    vérification des droits. Lève FichierAbsent."""
    flux, taille = stockage().ouvrir(cle)
    reponse = send_file(flux, mimetype=mimetype, as_attachment=True, download_name=download_name, **options)
    reponse.content_length = taille
    return reponse
