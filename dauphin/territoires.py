"""Départements et régions (code officiel géographique de l'INSEE, régions issues de la réforme de 2016).

La table d'un département vers sa région sert aux agrégats nationaux (tableau de bord) : le contrat de
ville ne connaît que son département.
"""

from __future__ import annotations

REGIONS = {
    "84": "Auvergne-Rhône-Alpes",
    "27": "Bourgogne-Franche-Comté",
    "53": "Bretagne",
    "24": "Centre-Val de Loire",
    "94": "Corse",
    "44": "Grand Est",
    "32": "Hauts-de-France",
    "11": "Île-de-France",
    "28": "Normandie",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "52": "Pays de la Loire",
    "93": "Provence-Alpes-Côte d’Azur",
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "COM": "Collectivités d’outre-mer",
}

_PAR_REGION = {
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "27": "21 25 39 58 70 71 89 90",
    "53": "22 29 35 56",
    "24": "18 28 36 37 41 45",
    "94": "2A 2B",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "32": "02 59 60 62 80",
    "11": "75 77 78 91 92 93 94 95",
    "28": "14 27 50 61 76",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "52": "44 49 53 72 85",
    "93": "04 05 06 13 83 84",
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
    "COM": "975 977 978 986 987 988",
}

REGION_DU_DEPARTEMENT = {
    departement: region for region, codes in _PAR_REGION.items() for departement in codes.split()
}

HORS_REGION = "Département inconnu"


def normaliser_departement(code: str | None) -> str:
    """« 1 » → « 01 » ; les codes à trois chiffres (outre-mer) et la Corse restent tels quels."""
    code = (code or "").strip().upper()
    return code.zfill(2) if code.isdigit() and len(code) < 2 else code


def region(code_departement: str | None) -> str | None:
    """Le code de la région du département, ou None s'il est inconnu."""
    return REGION_DU_DEPARTEMENT.get(normaliser_departement(code_departement))


def libelle_region(code_region: str | None) -> str:
    return REGIONS.get(code_region or "", HORS_REGION)
