"""La sonde `/sante` des répartiteurs de charge, l'identifiant de requête (X-Request-ID) et les journaux
JSON (DAUPHIN_LOG_FORMAT=json)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import func, select

import config as configuration
from dauphin.journaux import AjoutDuContexte, formateur_json
from dauphin.models.lectures import Lecture
from dauphin.stockage import CLE_EXTENSION, FichiersLocaux
from tests.s3 import port_libre

REDIS_LOCAL = "redis://127.0.0.1:6379/15"


def test_sante_en_mode_embarque_sans_session_ni_trace(app, client, db):
    lectures = db.session.scalar(select(func.count()).select_from(Lecture))
    reponse = client.get("/sante")
    assert reponse.status_code == 200, reponse.json
    assert reponse.json == {
        "base": {"etat": "ok"},
        "redis": {"etat": "non utilisé", "raison": "DAUPHIN_REDIS_URL vide : tâches dans le processus"},
        "stockage": {"etat": "ok"},
    }
    assert "Set-Cookie" not in reponse.headers and reponse.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(func.count()).select_from(Lecture)) == lectures


def test_sante_503_quand_redis_ou_le_stockage_sont_en_panne(app, client, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_LOCAL)
    assert client.get("/sante").json["redis"] == {"etat": "ok"}

    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port_libre()}/0")  # personne n'écoute
    reponse = client.get("/sante")
    assert reponse.status_code == 503 and reponse.json["redis"]["etat"] == "en panne"
    assert reponse.json["redis"]["raison"].startswith("ConnectionError")
    assert reponse.json["base"] == {"etat": "ok"}

    monkeypatch.setitem(app.config, "REDIS_URL", None)
    bloque = tmp_path / "pas-un-dossier"
    bloque.write_text("un fichier là où le stockage attend un dossier")
    monkeypatch.setitem(app.extensions, CLE_EXTENSION, FichiersLocaux(bloque))
    reponse = client.get("/sante")
    assert reponse.status_code == 503 and reponse.json["stockage"]["etat"] == "en panne"


def test_sante_503_quand_le_seau_n_existe_pas(app, client, monkeypatch, serveur_s3):
    from dauphin.stockage import SeauS3
    from tests.s3 import ACCES

    monkeypatch.setitem(
        app.extensions, CLE_EXTENSION, SeauS3("seau-jamais-cree", endpoint=serveur_s3, **ACCES)
    )
    reponse = client.get("/sante")
    assert reponse.status_code == 503 and reponse.json["stockage"]["etat"] == "en panne"


def test_identifiant_de_requete_repris_ou_cree(client):
    assert client.get("/sante", headers={"X-Request-ID": "lb-1234"}).headers["X-Request-ID"] == "lb-1234"
    cree = client.get("/sante").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", cree)
    # Un en-tête déraisonnable (trop long, caractères de contrôle) est remplacé, pas recopié.
    remplace = client.get("/sante", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", remplace)


def test_journal_json_une_ligne_par_message_avec_requete_et_compte(app, client, connexion, db, monde):
    """Une pièce dont le fichier manque : l'erreur journalisée porte l'identifiant de la requête et le
    compte connecté."""
    from dauphin.models import Document, TypePiece

    document = Document(
        structure_id=monde.structure.id,
        type_piece=TypePiece.statuts,
        nom_fichier="statuts.pdf",
        cle_stockage="ab" + "0" * 46,
        type_mime="application/pdf",
        taille=10,
        sha256="0" * 64,
    )
    db.session.add(document)
    db.session.commit()
    sortie = io.StringIO()
    gestionnaire = logging.StreamHandler(sortie)
    gestionnaire.setFormatter(formateur_json())
    gestionnaire.addFilter(AjoutDuContexte())
    racine = logging.getLogger()
    racine.addHandler(gestionnaire)
    try:
        connexion.en_tant_que(monde.contributeur)
        reponse = client.get(f"/documents/{document.id}/telecharger", headers={"X-Request-ID": "req-42"})
    finally:
        racine.removeHandler(gestionnaire)
    assert reponse.status_code == 404
    lignes = [json.loads(ligne) for ligne in sortie.getvalue().splitlines()]
    absent = [ligne for ligne in lignes if "Fichier absent du stockage" in ligne["message"]]
    assert absent, lignes
    assert absent[0]["request_id"] == "req-42" and absent[0]["user_id"] == monde.contributeur.id
    assert absent[0]["level"] == "ERROR" and absent[0]["logger"] == "dauphin.documents"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", absent[0]["time"])


def test_format_des_journaux_refuse_en_une_phrase(monkeypatch):
    monkeypatch.setenv("DAUPHIN_LOG_FORMAT", "xml")
    with pytest.raises(
        configuration.ConfigurationInvalide, match="DAUPHIN_LOG_FORMAT doit valoir text ou json"
    ):
        configuration.charger("test")
