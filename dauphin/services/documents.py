"""Stockage des fichiers déposés, hors de la racine web, sous une clé aléatoire (jamais le nom donné)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import current_app

from dauphin.extensions import db
from dauphin.models import Document, Structure, TypePiece


def chemin(cle: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / cle[:2] / cle


def stocker(
    structure: Structure,
    type_piece: TypePiece,
    nom_fichier: str,
    contenu: bytes,
    type_mime: str,
    depose_par_id: int | None = None,
) -> Document:
    cle = secrets.token_hex(24)
    fichier = chemin(cle)
    fichier.parent.mkdir(parents=True, exist_ok=True)
    fichier.write_bytes(contenu)
    document = Document(
        structure_id=structure.id,
        type_piece=type_piece,
        nom_fichier=Path(nom_fichier).name[:255],
        cle_stockage=cle,
        type_mime=type_mime,
        taille=len(contenu),
        sha256=hashlib.sha256(contenu).hexdigest(),
        depose_par_id=depose_par_id,
    )
    db.session.add(document)
    return document
