"""Référentiel national chargé par les deux jeux de données : nomenclature P147, axes transversaux,
contrats de ville 2015–2023 (fichier public de l'ANCT copié dans data/)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dauphin.extensions import db
from dauphin.models import AxeTransversal, Thematique

FICHIER_CONTRATS = Path(__file__).parent / "data" / "contrats_de_ville_2015_2023.csv"

# Nomenclature thématique du programme 147 (pilier, puis sous-thèmes)
THEMATIQUES = (
    ("1", "Cohésion sociale", None),
    ("1.1", "Éducation", "1"),
    ("1.2", "Santé", "1"),
    ("1.3", "Parentalité et droits sociaux", "1"),
    ("1.4", "Culture", "1"),
    ("1.5", "Lien social, citoyenneté, participation (dont jeunesse, sport et loisirs)", "1"),
    ("1.6", "Lutte contre les discriminations", "1"),
    ("2", "Emploi et développement économique", None),
    ("2.1", "Emploi", "2"),
    ("2.2", "Développement économique", "2"),
    ("3", "Cadre de vie et renouvellement urbain", None),
    ("3.1", "Cadre de vie", "3"),
    ("3.2", "Tranquillité publique", "3"),
    ("4", "Pilotage, ingénierie, évaluation", None),
)
SOUS_THEMES = tuple(code for code, _, parent in THEMATIQUES if parent)

AXES_TRANSVERSAUX = (
    ("jeunesse", "Jeunesse"),
    ("egalite_femmes_hommes", "Égalité entre les femmes et les hommes"),
    ("lutte_discriminations", "Lutte contre les discriminations"),
    ("valeurs_republique", "Valeurs de la République et citoyenneté"),
)


@dataclass(frozen=True)
class LigneContrat:
    code: str
    libelle: str
    siren_porteur: str
    departement: str
    population_qpv: int


def lire_contrats() -> list[LigneContrat]:
    with FICHIER_CONTRATS.open(encoding="utf-8", newline="") as fichier:
        return [
            LigneContrat(
                ligne["code_cv"],
                ligne["libelle"],
                ligne["siren_porteur"],
                ligne["departement"],
                int(ligne["population_qpv"] or 0),
            )
            for ligne in csv.DictReader(fichier)
        ]


def charger_nomenclature() -> None:
    """Idempotent : n'ajoute que ce qui manque."""
    existants = set(db.session.scalars(select(Thematique.code)))
    for ordre, (code, libelle, parent) in enumerate(THEMATIQUES):
        if code not in existants:
            db.session.add(Thematique(code=code, libelle=libelle, parent_code=parent, ordre=ordre))
    axes = set(db.session.scalars(select(AxeTransversal.code)))
    for code, libelle in AXES_TRANSVERSAUX:
        if code not in axes:
            db.session.add(AxeTransversal(code=code, libelle=libelle))
    db.session.flush()
