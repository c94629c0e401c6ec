"""Le README et docs/ disent vrai : chaque variable DAUPHIN_* de config.py y est décrite (et rien d'autre),
chaque lien vers un fichier du dépôt mène à un fichier qui existe, à un titre qui existe, et le README reste
court (issue 17 : un nouveau venu trouve d'abord les deux commandes et les comptes de démonstration)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
README = RACINE / "README.md"
DOCUMENTS = [README, *sorted((RACINE / "docs").glob("*.md"))]
LIEN = re.compile(r"\]\(([^)\s]+)\)")


def _variables_lues_par_config() -> set[str]:
    """Les noms lus par `_env`, `_env_int` et `_env_bool` dans config.py, préfixés de DAUPHIN_."""
    arbre = ast.parse((RACINE / "config.py").read_text(encoding="utf-8"))
    return {
        f"DAUPHIN_{appel.args[0].value}"
        for appel in ast.walk(arbre)
        if isinstance(appel, ast.Call)
        and isinstance(appel.func, ast.Name)
        and appel.func.id.startswith("_env")
        and appel.args
        and isinstance(appel.args[0], ast.Constant)
    }


def _section(texte: str, titre: str) -> str:
    debut = texte.index(f"\n## {titre}\n")
    fin = texte.find("\n## ", debut + 1)
    return texte[debut : fin if fin != -1 else None]


def _ancre(titre: str) -> str:
    """L'ancre que GitHub donne à un titre : minuscules, ponctuation ôtée, espaces changées en tirets."""
    return re.sub(r"[^\w\- ]", "", titre.strip().lower()).replace(" ", "-")


def _ancres(document: Path) -> set[str]:
    texte = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.S)
    return {_ancre(titre) for titre in re.findall(r"^#{1,6} (.+)$", texte, flags=re.M)}


def test_chaque_variable_de_config_est_decrite_dans_le_readme():
    variables = _variables_lues_par_config()
    assert "DAUPHIN_SECRET_KEY" in variables and "DAUPHIN_TEST_DATABASE_URL" in variables
    tableau = _section(README.read_text(encoding="utf-8"), "Configuration")
    decrites = set(re.findall(r"`(DAUPHIN_[A-Z0-9_]+)`", tableau))
    assert variables - decrites == set(), "variables de config.py absentes du README, « Configuration »"
    assert decrites - variables == set(), "variables décrites dans le README que config.py ne lit pas"


def test_les_liens_vers_le_depot_menent_a_un_fichier_et_a_un_titre():
    verifies = 0
    for document in DOCUMENTS:
        for cible in LIEN.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", cible):
                continue  # adresse externe
            chemin, _, ancre = cible.partition("#")
            fichier = (document.parent / chemin).resolve() if chemin else document
            assert fichier.is_file(), f"{document.name} : lien mort vers {cible}"
            if ancre:
                assert ancre in _ancres(fichier), f"{document.name} : pas de titre « #{ancre} » dans {chemin}"
            verifies += 1
    assert verifies >= 4  # le README mène au moins à chacun des documents de docs/


def test_le_readme_mene_a_chaque_document_de_docs():
    liens = {cible.partition("#")[0] for cible in LIEN.findall(README.read_text(encoding="utf-8"))}
    for document in DOCUMENTS[1:]:
        assert f"docs/{document.name}" in liens, f"docs/{document.name} n'est pas cité par le README"


def test_le_readme_reste_court():
    assert len(README.read_text(encoding="utf-8").split()) <= 3000
