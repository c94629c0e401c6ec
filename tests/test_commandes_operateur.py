"""Ce que lit un opérateur quand une commande ou le démarrage est refusé : une phrase en français sur la
sortie d'erreur, code de sortie 1, jamais une trace Python (ni le préfixe anglais « Error: » de click)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dauphin.services.workflow import declencher_demande
from tests.fabriques_db import demande_complete

RACINE = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def lancer(commande: list[str], tmp_path: Path, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUPHIN_")}
    env.update(FLASK_APP="wsgi", DAUPHIN_INSTANCE_PATH=str(tmp_path), **variables)
    return subprocess.run(commande, cwd=RACINE, env=env, capture_output=True, text=True, timeout=60)


def une_phrase(resultat) -> str:
    assert resultat.returncode == 1, resultat.stderr
    assert "Traceback" not in resultat.stderr and "Error:" not in resultat.stderr, resultat.stderr
    return resultat.stderr


@pytest.mark.parametrize(
    ("variables", "attendu"),
    [
        (
            {"DAUPHIN_ENV": "production"},
            "Dauphin ne démarre pas : DAUPHIN_SECRET_KEY est obligatoire en production",
        ),
        ({"DAUPHIN_ENV": "essai"}, "Dauphin ne démarre pas : DAUPHIN_ENV inconnu : essai"),
        (
            {"DAUPHIN_DATABASE_PARALLEL_WORKERS": "deux"},
            "Dauphin ne démarre pas : DAUPHIN_DATABASE_PARALLEL_WORKERS doit être un nombre entier "
            "(reçu : « deux »)",
        ),
        (
            {"DAUPHIN_STORAGE_URL": "/srv/dauphin"},
            "Dauphin ne démarre pas : DAUPHIN_STORAGE_URL « /srv/dauphin » : seuls file:///chemin et "
            "s3://seau/prefixe sont acceptés.",
        ),
        (
            {"DAUPHIN_LOG_FORMAT": "JSON-lines"},
            "Dauphin ne démarre pas : DAUPHIN_LOG_FORMAT doit valoir text ou json",
        ),
    ],
)
def test_un_demarrage_refuse_dit_pourquoi_en_une_phrase(tmp_path, variables, attendu):
    sortie = une_phrase(lancer([str(BIN / "flask"), "routes"], tmp_path, **variables))
    assert sortie.strip().startswith(attendu) and len(sortie.strip().splitlines()) == 1


def test_gunicorn_s_arrete_en_une_phrase_au_lieu_de_relancer_ses_travailleurs(tmp_path):
    """Le maître vérifie la configuration (gunicorn.conf.py) : pas de boucle de travailleurs qui échouent."""
    resultat = lancer(
        [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "wsgi:app"], tmp_path, DAUPHIN_ENV="production"
    )
    sortie = une_phrase(resultat)
    assert "Dauphin ne démarre pas : DAUPHIN_SECRET_KEY est obligatoire en production" in sortie
    assert "Booting worker" not in sortie


def test_une_commande_refusee_sort_en_une_phrase(app, db, monde):
    declencher_demande(demande_complete(monde).id, "soumettre", monde.contributeur)
    runner = app.test_cli_runner()

    volume = runner.invoke(args=["seed", "scale", "--requests", "10"])
    assert volume.exit_code == 1
    assert volume.stderr.startswith("Chargement du volume refusé : la base contient déjà 1 demande(s).")
    assert "Traceback" not in volume.output and "Error" not in volume.output

    inconnu = runner.invoke(
        args=[
            "api",
            "jeton",
            "creer",
            "--organisation",
            "1",
            "--par",
            "personne@exemple.fr",
            "--libelle",
            "x",
        ]
    )
    assert inconnu.exit_code == 1 and inconnu.stderr.strip() == "Aucun compte « personne@exemple.fr »."


def test_un_travailleur_gunicorn_met_l_application_chargee_hors_du_ramasse_miettes():
    """gunicorn.conf.py : après le chargement de l'application dans le travailleur, ses objets sont gelés
    (`gc.freeze`), et une collecte complète ne les parcourt plus."""
    import gc
    import runpy

    reglages = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        reglages["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # l'application et ses dépendances, déjà importées ici
    finally:
        gc.unfreeze()
