"""Le verrou dit vrai : chaque dépendance épinglée dans pyproject.toml figure dans requirements.lock à la même
version, avec ses empreintes (make install l'installe avec --require-hashes). Un épinglage changé sans
`make lock` ferait installer autre chose que ce qui est écrit : ce test le voit."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]


def _nom(paquet: str) -> str:
    """Le nom normalisé d'un paquet (PEP 503), sans ses extras."""
    return re.sub(r"[-_.]+", "-", paquet.split("[")[0]).lower()


def _epinglees() -> dict[str, str]:
    projet = tomllib.loads((RACINE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    exigences = [*projet["dependencies"], *projet["optional-dependencies"]["dev"]]
    epinglees = {}
    for exigence in exigences:
        nom, separateur, version = exigence.partition("==")
        assert separateur, f"{exigence} : toute dépendance directe est épinglée (==)"
        epinglees[_nom(nom)] = version.strip()
    return epinglees


def _verrouillees() -> dict[str, tuple[str, int]]:
    """{nom: (version, nombre d'empreintes)} lus dans requirements.lock."""
    texte = (RACINE / "requirements.lock").read_text(encoding="utf-8")
    paquets = {}
    for bloc in re.split(r"\n(?=[A-Za-z0-9])", texte):
        entete = re.match(r"([A-Za-z0-9][A-Za-z0-9_.\-\[\]]*)==([^\s;\\]+)", bloc)
        if entete:
            paquets[_nom(entete[1])] = (entete[2], bloc.count("--hash=sha256:"))
    return paquets


def test_chaque_dependance_epinglee_est_verrouillee_a_la_meme_version():
    epinglees, verrouillees = _epinglees(), _verrouillees()
    assert len(epinglees) > 30
    ecarts = {
        nom: (version, verrouillees.get(nom, ("absente", 0))[0])
        for nom, version in epinglees.items()
        if verrouillees.get(nom, ("absente", 0))[0] != version
    }
    assert ecarts == {}, f"pyproject.toml et requirements.lock divergent (lancer make lock) : {ecarts}"


def test_chaque_paquet_du_verrou_porte_ses_empreintes():
    sans_empreinte = [nom for nom, (_, empreintes) in _verrouillees().items() if empreintes == 0]
    assert len(_verrouillees()) > 100
    assert sans_empreinte == []
