"""Énumérations à libellé, communes aux statuts des machines et aux modèles (qui en stockent la valeur)."""

from enum import StrEnum


class EnumLibelle(StrEnum):
    """Une énumération stockée par sa valeur, chaque valeur déclarée avec son libellé français :
    `pour = "pour", "Pour"`."""

    libelle: str

    def __new__(cls, valeur: str, libelle: str):
        membre = str.__new__(cls, valeur)
        membre._value_ = valeur
        membre.libelle = libelle
        return membre
