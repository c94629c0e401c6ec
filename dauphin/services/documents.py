"""Porte-documents des structures : dépôt contrôlé, stockage hors de la racine web, pièces jointes.

Règles d'un dépôt (issue 3, point 2 ; issue 7, point 3) :
- le type est reconnu **par le contenu** (signature en tête du fichier, structure interne des formats
  bureautiques), jamais par l'extension ni par le Content-Type annoncé par le navigateur ; le type MIME
  enregistré est celui qui a été reconnu ;
- la taille est bornée par ``MAX_CONTENT_LENGTH`` (10 Mo par défaut), vérifiée ici aussi ;
- le fichier est rangé sous une clé aléatoire, hors de la racine web, avec son empreinte SHA-256 ;
- le nom donné par l'usager n'est qu'un libellé : nettoyé pour l'affichage (accents gardés, séparateurs
  de chemin et caractères de contrôle retirés, longueur bornée), jamais utilisé comme chemin.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO

from babel.numbers import format_decimal
from flask import current_app
from sqlalchemy import func, select

from dauphin.extensions import db
from dauphin.models import Demande, Document, PieceJointe, Structure, TypePiece, Utilisateur, maintenant
from dauphin.policies import est_membre_structure
from dauphin.services.erreurs import NonAutorise, Refus
from dauphin.services.workflow import aujourdhui
from dauphin.stockage import reponse_fichier, stockage

# Les pièces que l'on dépose soi-même dans le porte-documents (récépissés et conventions sont produits
# par le portail et rangés avec leur demande).
TYPES_PORTE_DOCUMENTS = tuple(t for t in TypePiece if t.deposee_par_la_structure)

TAILLE_MAX_DEFAUT = 10 * 1024 * 1024
LONGUEUR_MAX_NOM = 150
FORMATS_ACCEPTES = (
    "PDF, image PNG ou JPEG, document Word, Excel ou PowerPoint (.docx, .xlsx, .pptx, .doc, .xls, .ppt) "
    "ou OpenDocument (.odt, .ods, .odp)"
)

MIME_PDF = "application/pdf"
MIME_PNG = "image/png"
MIME_JPEG = "image/jpeg"
MIME_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MIME_DOC = "application/msword"
MIME_XLS = "application/vnd.ms-excel"
MIME_PPT = "application/vnd.ms-powerpoint"
PREFIXE_OPENDOCUMENT = "application/vnd.oasis.opendocument."

# Type reconnu → extensions admises pour le nom affiché ; la première est ajoutée si le nom n'en a aucune
# de la liste (un .docx déposé sous le nom « statuts.pdf » est téléchargé sous « statuts.pdf.docx »).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    MIME_PDF: (".pdf",),
    MIME_PNG: (".png",),
    MIME_JPEG: (".jpg", ".jpeg"),
    MIME_DOCX: (".docx",),
    MIME_XLSX: (".xlsx",),
    MIME_PPTX: (".pptx",),
    MIME_DOC: (".doc",),
    MIME_XLS: (".xls",),
    MIME_PPT: (".ppt",),
    PREFIXE_OPENDOCUMENT + "text": (".odt",),
    PREFIXE_OPENDOCUMENT + "text-template": (".ott",),
    PREFIXE_OPENDOCUMENT + "spreadsheet": (".ods",),
    PREFIXE_OPENDOCUMENT + "spreadsheet-template": (".ots",),
    PREFIXE_OPENDOCUMENT + "presentation": (".odp",),
    PREFIXE_OPENDOCUMENT + "presentation-template": (".otp",),
    PREFIXE_OPENDOCUMENT + "graphics": (".odg",),
}

SIGNATURE_OLE = bytes.fromhex("D0CF11E0A1B11AE1")
SIGNATURE_ZIP = b"PK\x03\x04"
# Entrées d'une archive dont on lit le contenu : bornées, une « bombe » ZIP ne passe pas.
TAILLE_MAX_ENTREE_LUE = 1024 * 1024
# Un document bureautique est une archive ZIP : quelques centaines de Ko peuvent se décompresser en
# centaines de Mo chez l'instructeur qui l'ouvre. Chaque entrée est décompressée pour de vrai (zipfile
# s'arrête à la taille déclarée et vérifie le CRC : une taille qui ment est une archive abîmée), et bornée.
ENTREES_MAX_ARCHIVE = 5_000
TAILLE_MAX_DECOMPRESSEE = 100 * 1024 * 1024  # toutes entrées confondues
RATIO_MAX_ENTREE = 100  # décompressé / compressé, pour une entrée de plus de SEUIL_RATIO
SEUIL_RATIO = 1024 * 1024

# Un module de macros dans un OpenDocument (Basic/<bibliothèque>/<module>.xml, hors index des
# bibliothèques, que certaines versions écrivent même sans macro ; ou un script sous Scripts/).
MACRO_OPENDOCUMENT = re.compile(r"^(Basic/[^/]+/(?!script-lb\.xml$|dialog-lb\.xml$)[^/]+|Scripts/.*[^/])$")

# Partie principale d'un document OOXML → type (type de contenu déclaré, puis nom de la partie).
OOXML_TYPES_DE_CONTENU = (
    ("wordprocessingml.document.main+xml", MIME_DOCX),
    ("spreadsheetml.sheet.main+xml", MIME_XLSX),
    ("presentationml.presentation.main+xml", MIME_PPTX),
)
OOXML_PARTIES = (
    ("word/document.xml", MIME_DOCX),
    ("xl/workbook.xml", MIME_XLSX),
    ("ppt/presentation.xml", MIME_PPTX),
)
# Flux d'un document OLE (noms UTF-16LE dans le répertoire du fichier composé).
OLE_FLUX = (
    ("WordDocument", MIME_DOC),
    ("Workbook", MIME_XLS),
    ("Book", MIME_XLS),
    ("PowerPoint Document", MIME_PPT),
)


# Ce qu'est un fichier d'un type reconnu, dit à l'usager (« « budget.xlsx » est un classeur Excel… »).
NATURES = {
    MIME_PDF: "un PDF",
    MIME_PNG: "une image PNG",
    MIME_JPEG: "une image JPEG",
    MIME_DOCX: "un document Word",
    MIME_DOC: "un document Word",
    MIME_XLSX: "un classeur Excel",
    MIME_XLS: "un classeur Excel",
    MIME_PPTX: "une présentation PowerPoint",
    MIME_PPT: "une présentation PowerPoint",
}


def nature(type_mime: str) -> str:
    if type_mime.startswith(PREFIXE_OPENDOCUMENT):
        return "un document OpenDocument"
    return NATURES.get(type_mime, "un fichier d’un autre format")


@dataclass(frozen=True)
class Formats:
    """Les formats qu'accepte un champ de fichier (reconnus par le contenu) et leur énoncé : la seule
    source de l'aide du champ et des messages de refus."""

    libelle: str
    types: frozenset[str] | None = None  # None : tous les formats reconnus (EXTENSIONS)

    def accepte(self, type_mime: str) -> bool:
        return self.types is None or type_mime in self.types


FORMATS_PORTE_DOCUMENTS = Formats(FORMATS_ACCEPTES)
# Un document signé à la main : son PDF ou son scan (la convention signée).
FORMATS_SCAN = Formats("PDF, ou image PNG ou JPEG d’un scan", frozenset({MIME_PDF, MIME_PNG, MIME_JPEG}))


class DepotRefuse(Refus):
    """Un dépôt refusé (taille, format, macros, type de pièce, validité) : le message s'affiche à côté du
    champ du fichier, ou du champ `champ` quand il porte sur un autre."""

    def __init__(self, message: str, champ: str = "fichier"):
        super().__init__(message, champ)


class DocumentIndisponible(ValueError):
    """Le document ne peut pas être joint à cette demande (autre structure, archivé, expiré…)."""


# --- Présentation -----------------------------------------------------------------------------------


def taille_lisible(octets: int | None) -> str:
    """Une taille à la française : « 512 octets », « 12,3 ko », « 1,2 Mo »."""
    if octets is None:
        return "—"
    if octets < 1024:
        return f"{format_decimal(octets, locale='fr_FR')} octet{'s' if octets > 1 else ''}"
    for unite, diviseur in (("ko", 1024), ("Mo", 1024**2), ("Go", 1024**3)):
        valeur = octets / diviseur
        if valeur < 1024 or unite == "Go":
            return f"{format_decimal(round(valeur, 1), format='#,##0.#', locale='fr_FR')} {unite}"
    raise AssertionError("inaccessible")


def format_court(type_mime: str | None) -> str:
    """« PDF », « DOCX », « JPG »… d'après le type reconnu (pour le détail d'un lien de téléchargement)."""
    extensions = EXTENSIONS.get(type_mime or "")
    return extensions[0].lstrip(".").upper() if extensions else "Fichier"


def taille_max() -> int:
    return current_app.config.get("MAX_CONTENT_LENGTH") or TAILLE_MAX_DEFAUT


def message_trop_volumineux(nom_fichier: str | None = None) -> str:
    fichier = f"Le fichier « {nom_affichable(nom_fichier)} »" if nom_fichier else "Le fichier"
    return (
        f"{fichier} dépasse la taille maximale autorisée ({taille_lisible(taille_max())}). "
        "Réduisez-le (PDF compressé, scan en résolution plus faible) puis déposez-le de nouveau."
    )


def _nomme(nom_fichier: str | None) -> str:
    return f"« {nom_affichable(nom_fichier)} »" if nom_fichier else "Ce fichier"


def message_format_refuse(
    nom_fichier: str | None, type_mime: str | None, formats: Formats = FORMATS_PORTE_DOCUMENTS
) -> str:
    """Quel fichier est refusé, et pourquoi : ce qu'il est (ou n'est pas), puis ce que le champ accepte."""
    fichier = _nomme(nom_fichier)
    extension = os.path.splitext(nom_fichier or "")[1].lower()
    annonce = next((t for t, extensions in EXTENSIONS.items() if extension in extensions), None)
    if type_mime is not None:
        raison = f"{fichier} est {nature(type_mime)}, un format que ce champ n’accepte pas"
    elif annonce is not None:
        raison = (
            f"{fichier} n’est pas {nature(annonce)} : son contenu n’en est pas un (fichier renommé ou "
            "abîmé ?)"
        )
    else:
        raison = (
            f"{fichier} n’est pas d’un format reconnu : son contenu n’est ni un PDF, ni une image, ni un "
            "document bureautique"
        )
    return f"{raison}. Formats acceptés : {formats.libelle}."


CARACTERES_INTERDITS = re.compile(r'[<>:"|?*]')


def nom_affichable(nom: str | None, type_mime: str | None = None) -> str:
    """Le nom donné par l'usager, nettoyé pour l'affichage et le téléchargement — jamais un chemin.

    Garde les accents (contrairement à `secure_filename`), retire tout ce qui précède un séparateur de
    chemin, les caractères de contrôle et de mise en forme (dont les inversions de sens d'écriture qui
    déguisent « fdp.exe » en « exe.pdf »), borne la longueur en gardant l'extension, et ajoute
    l'extension du type reconnu quand le nom n'en porte pas une qui lui corresponde.
    """
    nom = unicodedata.normalize("NFC", nom or "")
    nom = re.split(r"[/\\]", nom)[-1]
    nom = "".join(" " if c.isspace() else c for c in nom if unicodedata.category(c)[0] != "C" or c.isspace())
    nom = CARACTERES_INTERDITS.sub("_", nom)
    nom = re.sub(r"\s+", " ", nom).strip(" .")
    base, point, extension = nom.rpartition(".")
    if not point or not base or len(extension) > 10 or " " in extension:
        base, extension = nom, ""
    extension = f".{extension}" if extension else ""
    attendues = EXTENSIONS.get(type_mime or "")
    if attendues and extension.lower() not in attendues:
        base, extension = f"{base}{extension}", attendues[0]
    base = base.strip(" .") or "document"
    base = base[: LONGUEUR_MAX_NOM - len(extension)].rstrip(" .") or "document"
    return f"{base}{extension}"


# --- Reconnaissance du type par le contenu ------------------------------------------------------------


def _lire_entree(archive: zipfile.ZipFile, nom: str) -> bytes:
    info = archive.getinfo(nom)
    if info.file_size > TAILLE_MAX_ENTREE_LUE:
        raise zipfile.BadZipFile(f"entrée {nom} trop grande")
    with archive.open(info) as entree:
        return entree.read(TAILLE_MAX_ENTREE_LUE + 1)[:TAILLE_MAX_ENTREE_LUE]


class ArchiveDemesuree(DepotRefuse):
    """Une archive bureautique qui se décompresse au-delà des bornes : refusée avec son nom (voir
    `verifier_contenu`)."""


def _verifier_decompression(archive: zipfile.ZipFile) -> None:
    """Lève `ArchiveDemesuree` si l'archive a trop d'entrées, si une entrée est compressée à l'excès ou
    si le total décompressé dépasse TAILLE_MAX_DECOMPRESSEE — d'après les tailles déclarées, puis en
    décompressant réellement (par morceaux, sans jamais garder plus d'un morceau en mémoire)."""
    entrees = archive.infolist()
    if len(entrees) > ENTREES_MAX_ARCHIVE:
        raise ArchiveDemesuree(f"contient plus de {ENTREES_MAX_ARCHIVE} fichiers internes")
    total = 0
    for info in entrees:
        if info.file_size > SEUIL_RATIO and info.file_size > RATIO_MAX_ENTREE * max(info.compress_size, 1):
            raise ArchiveDemesuree(
                f"contient un fichier interne compressé plus de {RATIO_MAX_ENTREE} fois ({info.filename})"
            )
        total += info.file_size
    if total > TAILLE_MAX_DECOMPRESSEE:
        raise ArchiveDemesuree(f"se décompresse en plus de {taille_lisible(TAILLE_MAX_DECOMPRESSEE)}")
    for info in entrees:
        if info.is_dir():
            continue
        with archive.open(info) as entree:
            while entree.read(1024 * 1024):
                pass


def _type_zip(contenu: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(contenu)) as archive:
            _verifier_decompression(archive)
            noms = set(archive.namelist())
            if "mimetype" in noms:  # OpenDocument : l'entrée « mimetype » dit le type
                declare = _lire_entree(archive, "mimetype").decode("ascii", "replace").strip()
                if declare not in EXTENSIONS or not declare.startswith(PREFIXE_OPENDOCUMENT):
                    return None
                if any(MACRO_OPENDOCUMENT.match(n) for n in noms):
                    raise DepotRefuse(
                        "Ce document contient des macros : enregistrez-le sans macros puis déposez-le de "
                        "nouveau."
                    )
                return declare
            if "[Content_Types].xml" in noms:  # Office Open XML
                types = _lire_entree(archive, "[Content_Types].xml").decode("utf-8", "replace")
                if "macroEnabled" in types or any(n.lower().endswith("vbaproject.bin") for n in noms):
                    raise DepotRefuse(
                        "Ce document contient des macros : enregistrez-le au format .docx, .xlsx ou .pptx "
                        "sans macros puis déposez-le de nouveau."
                    )
                for type_de_contenu, mime in OOXML_TYPES_DE_CONTENU:
                    if type_de_contenu in types:
                        return mime
                for partie, mime in OOXML_PARTIES:
                    if partie in noms:
                        return mime
            return None
    except DepotRefuse:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        KeyError,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ):
        return None  # archive illisible ou corrompue : ce n'est pas un document bureautique


def _type_ole(contenu: bytes) -> str | None:
    if "_VBA_PROJECT".encode("utf-16-le") in contenu:
        raise DepotRefuse(
            "Ce document contient des macros : enregistrez-le sans macros (ou au format PDF) puis "
            "déposez-le de nouveau."
        )
    for flux, mime in OLE_FLUX:
        if (flux + "\0").encode("utf-16-le") in contenu:
            return mime
    return None  # autre fichier composé (installateur .msi, etc.)


def detecter_type(contenu: bytes) -> str | None:
    """Le type MIME reconnu d'après le contenu, ou None si le format n'est pas accepté.

    Lève `DepotRefuse` pour un document bureautique qui contient des macros.
    """
    if contenu.startswith(b"%PDF-"):
        return MIME_PDF
    if contenu.startswith(b"\x89PNG\r\n\x1a\n"):
        return MIME_PNG
    if contenu.startswith(b"\xff\xd8\xff"):
        return MIME_JPEG
    if contenu.startswith(SIGNATURE_ZIP):
        return _type_zip(contenu)
    if contenu.startswith(SIGNATURE_OLE):
        return _type_ole(contenu)
    return None


def verifier_contenu(
    contenu: bytes, nom_fichier: str | None = None, formats: Formats = FORMATS_PORTE_DOCUMENTS
) -> str:
    """Contrôle taille et format (parmi `formats`) ; rend le type MIME reconnu ou lève `DepotRefuse`, dont
    le message nomme le fichier et dit pourquoi il est refusé."""
    if len(contenu) > taille_max():
        raise DepotRefuse(message_trop_volumineux(nom_fichier))
    if not contenu:
        raise DepotRefuse(f"{_nomme(nom_fichier)} est vide (0 octet). Formats acceptés : {formats.libelle}.")
    try:
        type_mime = detecter_type(contenu)
    except ArchiveDemesuree as demesure:
        raise DepotRefuse(
            f"{_nomme(nom_fichier)} {demesure.message} : ce n’est pas un document bureautique ordinaire. "
            "Enregistrez-le de nouveau depuis votre logiciel, ou en PDF, puis déposez-le."
        ) from None
    if type_mime is None or not formats.accepte(type_mime):
        raise DepotRefuse(message_format_refuse(nom_fichier, type_mime, formats))
    return type_mime


def lire_borne(fichier: bytes | IO[bytes], nom_fichier: str | None = None) -> bytes:
    """Lit au plus la taille maximale (+1 octet pour savoir qu'elle est dépassée)."""
    lu = fichier if isinstance(fichier, bytes | bytearray) else fichier.read(taille_max() + 1)
    contenu = bytes(lu)
    if len(contenu) > taille_max():
        raise DepotRefuse(message_trop_volumineux(nom_fichier))
    return contenu


# --- Stockage ---------------------------------------------------------------------------------------


def cle_du_fichier(cle: str) -> str:
    """La clé du fichier dans le stockage (dauphin/stockage.py) pour la clé rangée en base ; celle-ci vient
    de la base, jamais de l'usager."""
    if not cle or any(c in cle for c in "/\\\0") or cle.startswith("."):
        raise ValueError(f"clé de stockage invalide : {cle!r}")
    return f"documents/{cle[:2]}/{cle}"


def ranger(contenu: bytes) -> str:
    """Écrit un contenu produit par le portail sous une clé aléatoire neuve, et rend la clé."""
    cle = secrets.token_hex(24)
    stockage().ecrire(cle_du_fichier(cle), contenu)
    return cle


def lire(cle: str) -> bytes:
    return stockage().lire(cle_du_fichier(cle))


def existe(cle: str) -> bool:
    return stockage().existe(cle_du_fichier(cle))


def effacer(cle: str) -> None:
    stockage().supprimer(cle_du_fichier(cle))


def reponse_telechargement(cle: str, *, mimetype: str, download_name: str, **options):
    """Le fichier envoyé en flux par l'application — appelée après la vérification des droits. Lève
    FichierAbsent (ou ValueError pour une clé invalide)."""
    return reponse_fichier(cle_du_fichier(cle), mimetype=mimetype, download_name=download_name, **options)


def reponse_piece(document: Document):
    """La réponse qui envoie une pièce déposée, à l'écran comme par l'API, après la vérification des
    droits. Rien ne s'exécute, même ouverte dans le navigateur : pas de devinette du type, bac à sable
    strict ; rien en cache partagé (RIB, comptes). Lève FichierAbsent (ou ValueError : clé invalide)."""
    reponse = reponse_telechargement(
        document.cle_stockage,
        mimetype=document.type_mime,
        download_name=document.nom_fichier,
        etag=document.sha256,
        last_modified=document.depose_le,
    )
    reponse.headers["X-Content-Type-Options"] = "nosniff"
    reponse.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    reponse.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    reponse.headers["Cache-Control"] = "private, no-store"
    return reponse


def stocker(
    structure: Structure,
    type_piece: TypePiece,
    nom_fichier: str,
    contenu: bytes,
    type_mime: str,
    depose_par_id: int | None = None,
    *,
    valable_jusqu_au: date | None = None,
    demande_id: int | None = None,
) -> Document:
    """Range un contenu déjà contrôlé (ou produit par le portail) et ajoute son Document à la session.

    Ne valide pas la transaction. Pour un dépôt d'usager, passer par `deposer`, qui contrôle tout.
    """
    cle = ranger(contenu)
    document = Document(
        structure_id=structure.id,
        type_piece=type_piece,
        nom_fichier=nom_affichable(nom_fichier, type_mime),
        cle_stockage=cle,
        type_mime=type_mime,
        taille=len(contenu),
        sha256=hashlib.sha256(contenu).hexdigest(),
        valable_jusqu_au=valable_jusqu_au,
        demande_id=demande_id,
        depose_par_id=depose_par_id,
    )
    db.session.add(document)
    return document


def date_du_jour() -> date:
    return aujourdhui()


def deposer(
    structure_id: int,
    utilisateur: Utilisateur,
    type_piece: TypePiece | str,
    fichier: bytes | IO[bytes],
    nom_fichier: str | None,
    *,
    valable_jusqu_au: date | None = None,
) -> Document:
    """Dépôt d'un document dans le porte-documents par un membre de la structure (validé en base).

    Lève `NonAutorise` si l'utilisateur n'est pas membre, `DepotRefuse` (message en français, champ du
    formulaire concerné) si le type de pièce, la date de validité, la taille ou le format ne vont pas.
    """
    structure = db.session.get(Structure, structure_id)
    if structure is None or not est_membre_structure(utilisateur, structure_id):
        raise NonAutorise("deposer")
    try:
        type_piece = TypePiece(type_piece)
    except ValueError:
        type_piece = None
    if type_piece not in TYPES_PORTE_DOCUMENTS:
        raise DepotRefuse("Choisissez le type du document.", champ="type_piece")
    if valable_jusqu_au is not None and valable_jusqu_au < date_du_jour():
        raise DepotRefuse(
            "La date de fin de validité est déjà passée : déposez un document en cours de validité.",
            champ="valable_jusqu_au",
        )
    contenu = lire_borne(fichier, nom_fichier)
    type_mime = verifier_contenu(contenu, nom_fichier)
    document = stocker(
        structure,
        type_piece,
        nom_fichier or "",
        contenu,
        type_mime,
        depose_par_id=utilisateur.id,
        valable_jusqu_au=valable_jusqu_au,
    )
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        effacer(document.cle_stockage)
        raise
    return document


# --- Porte-documents ----------------------------------------------------------------------------------


def document_du_porte_documents(document_id: int, utilisateur: Utilisateur) -> Document | None:
    """Le document s'il est dans le porte-documents d'une structure dont l'utilisateur est membre."""
    document = db.session.get(Document, document_id)
    if document is None or document.demande_id is not None:
        return None
    if not est_membre_structure(utilisateur, document.structure_id):
        return None
    return document


def porte_documents(structure_id: int, *, avec_archives: bool = False) -> dict[TypePiece, list[Document]]:
    """Les documents de la structure par type (dans l'ordre de `TYPES_PORTE_DOCUMENTS`), récents d'abord.

    Tous les types y figurent, même sans document. Les pièces propres à une demande (récépissé,
    convention) n'en font pas partie.
    """
    requete = select(Document).where(Document.structure_id == structure_id, Document.demande_id.is_(None))
    if not avec_archives:
        requete = requete.where(Document.archive_le.is_(None))
    resultat: dict[TypePiece, list[Document]] = {t: [] for t in TYPES_PORTE_DOCUMENTS}
    for document in db.session.scalars(requete.order_by(Document.depose_le.desc(), Document.id.desc())):
        resultat.setdefault(document.type_piece, []).append(document)
    return resultat


def nombre_archives(structure_id: int) -> int:
    return db.session.scalar(
        select(func.count(Document.id)).where(
            Document.structure_id == structure_id,
            Document.demande_id.is_(None),
            Document.archive_le.is_not(None),
        )
    )


def deposants(documents: Iterable[Document]) -> dict[int, Utilisateur]:
    ids = {d.depose_par_id for d in documents if d.depose_par_id}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(Utilisateur).where(Utilisateur.id.in_(ids)))}


def demandes_utilisant(document: Document) -> list[Demande]:
    """Les demandes auxquelles le document est joint (elles le gardent s'il est archivé)."""
    return list(
        db.session.scalars(
            select(Demande)
            .join(PieceJointe, PieceJointe.demande_id == Demande.id)
            .where(PieceJointe.document_id == document.id)
            .order_by(Demande.id.desc())
        )
    )


def archiver(document: Document, utilisateur: Utilisateur) -> None:
    """Retire le document du porte-documents ; les demandes qui l'ont déjà joint le gardent."""
    if document.demande_id is not None or not est_membre_structure(utilisateur, document.structure_id):
        raise NonAutorise("archiver")
    if document.archive_le is None:
        document.archive_le = maintenant()
        db.session.commit()


def restaurer(document: Document, utilisateur: Utilisateur) -> None:
    """Remet dans le porte-documents un document archivé."""
    if document.demande_id is not None or not est_membre_structure(utilisateur, document.structure_id):
        raise NonAutorise("restaurer")
    if document.archive_le is not None:
        document.archive_le = None
        db.session.commit()


def est_expire(document: Document, jour: date | None = None) -> bool:
    return document.valable_jusqu_au is not None and document.valable_jusqu_au < (jour or date_du_jour())


# --- Pièces jointes d'une demande (API du formulaire de demande) ----------------------------------------


def documents_joignables(structure_id: int, type_piece: TypePiece | None = None) -> list[Document]:
    """Les documents que l'on peut joindre à une demande de la structure : ni archivés, ni expirés."""
    jour = date_du_jour()
    requete = select(Document).where(
        Document.structure_id == structure_id,
        Document.demande_id.is_(None),
        Document.archive_le.is_(None),
        (Document.valable_jusqu_au.is_(None)) | (Document.valable_jusqu_au >= jour),
    )
    if type_piece is not None:
        requete = requete.where(Document.type_piece == type_piece)
    return list(db.session.scalars(requete.order_by(Document.depose_le.desc(), Document.id.desc())))


def joindre(demande: Demande, document_id: int, *, remplacer: bool = True) -> PieceJointe:
    """Joint à la demande un document du porte-documents de sa structure.

    `remplacer` : retire d'abord les autres pièces du même type (sauf « autre pièce », qui peut en
    compter plusieurs). Ne valide pas la transaction : l'appelant a chargé la demande avec son contrôle
    de droit et de version (`services.demandes.charger_pour_modifier`) et valide lui-même. Lève
    `DocumentIndisponible` (message en français) si le document n'est pas joignable.
    """
    document = db.session.get(Document, document_id)
    if document is None or document.structure_id != demande.structure_id or document.demande_id is not None:
        raise DocumentIndisponible("Ce document n’est pas dans le porte-documents de la structure.")
    deja = next((p for p in demande.pieces_jointes if p.document_id == document.id), None)
    if deja is not None:
        return deja
    if document.archive_le is not None:
        raise DocumentIndisponible(
            f"Le document « {document.nom_fichier} » a été archivé : choisissez-en un autre ou déposez-le "
            "de nouveau dans le porte-documents."
        )
    if est_expire(document):
        raise DocumentIndisponible(
            f"Le document « {document.nom_fichier} » n’est plus valable depuis le "
            f"{document.valable_jusqu_au:%d/%m/%Y} : déposez-en une version à jour."
        )
    if remplacer and document.type_piece != TypePiece.autre:
        for piece in [p for p in demande.pieces_jointes if p.type_piece == document.type_piece]:
            demande.pieces_jointes.remove(piece)
    piece = PieceJointe(document_id=document.id, type_piece=document.type_piece)
    demande.pieces_jointes.append(piece)
    return piece


def detacher(demande: Demande, document_id: int) -> bool:
    """Retire la pièce de la demande (le document reste dans le porte-documents). Ne valide pas."""
    pieces = [p for p in demande.pieces_jointes if p.document_id == document_id]
    for piece in pieces:
        demande.pieces_jointes.remove(piece)
    return bool(pieces)
