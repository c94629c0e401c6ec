"""Exercice de restauration : `flask sauvegarde verifier --depuis FICHIER` restaure un pg_dump dans une base
temporaire, compte les lignes de chaque table, vérifie le journal et chaque fichier désigné par la base."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dauphin.models import TypePiece
from dauphin.services import documents
from dauphin.services.workflow import declencher_demande
from dauphin.stockage import stockage
from tests.fabriques_db import demande_complete

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_refus_en_une_phrase_sur_sqlite(monkeypatch, tmp_path):
    from dauphin import create_app

    monkeypatch.setenv("DAUPHIN_TEST_DATABASE_URL", "sqlite://")
    app = create_app("test")
    dump = tmp_path / "dauphin.dump"
    dump.write_bytes(b"PGDMP")
    resultat = app.test_cli_runner().invoke(args=["sauvegarde", "verifier", "--depuis", str(dump)])
    assert resultat.exit_code == 1
    assert "elle demande PostgreSQL (DAUPHIN_DATABASE_URL), pas SQLite" in resultat.output


def url_libpq(app) -> str:
    return (
        make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql").render_as_string(False)
    )


@pytest.mark.transactions_reelles
def test_restauration_verifiee_puis_fichier_manquant_signale(app, db, monde, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump et pg_restore : l'exercice de restauration ne se fait que sur PostgreSQL")
    demande = demande_complete(monde)
    for jointe in demande.pieces_jointes:  # la fabrique ne range pas de fichier : on range le sien
        stockage().ecrire(documents.cle_du_fichier(jointe.document.cle_stockage), PDF)
        jointe.document.taille, jointe.document.sha256 = len(PDF), hashlib.sha256(PDF).hexdigest()
    db.session.commit()
    declencher_demande(demande.id, "soumettre", monde.signataire)  # une ligne de journal chaînée
    piece = documents.stocker(monde.structure, TypePiece.statuts, "statuts.pdf", PDF, "application/pdf")
    db.session.commit()
    dump = tmp_path / "dauphin.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", url_libpq(app)], check=True)
    lignes = db.session.execute(text("SELECT count(*) FROM journal")).scalar_one()
    assert lignes >= 1

    runner = app.test_cli_runner()
    resultat = runner.invoke(
        args=["sauvegarde", "verifier", "--depuis", str(dump), "--source", url_libpq(app)]
    )
    assert resultat.exit_code == 0, resultat.output
    assert "vérifiée en" in resultat.output and ": intacte." in resultat.output
    assert f"journal : {lignes} lignes vérifiées" in resultat.output
    assert "stockage : 2 fichier(s) désigné(s) par la base présent(s)" in resultat.output
    # La base temporaire est effacée.
    restantes = db.session.execute(
        text("SELECT count(*) FROM pg_database WHERE datname LIKE 'dauphin_verif_%'")
    )
    assert restantes.scalar_one() == 0

    documents.effacer(piece.cle_stockage)
    resultat = runner.invoke(args=["sauvegarde", "verifier", "--depuis", str(dump)])
    assert resultat.exit_code == 1
    assert f"document {piece.id} : fichier absent du stockage" in resultat.output
