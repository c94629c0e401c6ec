"""Validateurs de champs réutilisables : SIRET, SIREN, RNA, IBAN, BIC, code INSEE, code postal, téléphone.

Chacun ne lève que `wtforms.validators.ValidationError`, avec un message français qui dit quoi corriger.
Un champ vide est laissé à `DataRequired` / `Optional` : ces validateurs ne contrôlent que le format.
Les fonctions `normaliser_*` donnent la forme enregistrée (sans espaces, en majuscules) ; le formulaire,
lui, réaffiche toujours la saisie telle qu'elle a été tapée.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as ErreurStdnum
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from wtforms import Form, IntegerField
from wtforms.validators import ValidationError

# Espaces tolérés à la saisie, y compris ceux qu'insèrent les copier-coller (insécable, fine insécable)
_SEPARATEURS = re.compile(r"[\s\u00a0\u202f.\-]+")

# Pays de la zone SEPA (Conseil européen des paiements) : UE, EEE, Suisse, Royaume-Uni, Monaco, Saint-Marin,
# Andorre, Vatican, et les pays entrés depuis 2024. Les territoires français d'outre-mer ont des IBAN « FR ».
PAYS_SEPA = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
        *("IS", "LI", "NO", "CH", "GB", "MC", "SM", "AD", "VA", "GI", "AL", "MD", "ME", "MK"),
    }
)
LONGUEUR_IBAN_FR = 27


class FormulaireSimple(Form):
    """Un formulaire WTForms sans Flask-WTF (sous-formulaire d'une liste, filtres lus en GET) : ses messages
    par défaut (« choix non valide », longueur…) sont en français, comme ceux des `FlaskForm`."""

    class Meta:
        locales = ("fr_FR", "fr")


class NombreEntierField(IntegerField):
    """Un entier ; un nombre démesuré est refusé avec un message au lieu de faire échouer la page
    (`NumberRange` appelle `math.isnan`, qui lève OverflowError au-delà de 10^308)."""

    CHIFFRES_MAX = 15

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-").lstrip("0")) > self.CHIFFRES_MAX:
            self.data = None
            raise ValueError("Ce nombre est trop grand.")
        super().process_formdata(valuelist)


def _texte(valeur) -> str:
    return "" if valeur is None else str(valeur)


def compacter(valeur) -> str:
    """Retire espaces, points et tirets : « 123 456 789 00012 » → « 12345678900012 »."""
    return _SEPARATEURS.sub("", _texte(valeur)).strip()


def format_siret(siret: str) -> str:
    """« 12345678900012 » → « 123 456 789 00012 » (lecture à voix haute, messages)."""
    if len(siret) == 14:
        return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    return siret


def format_siren(siren: str) -> str:
    return f"{siren[:3]} {siren[3:6]} {siren[6:9]}" if len(siren) == 9 else siren


def format_iban(iban: str) -> str:
    """Par groupes de quatre caractères, comme sur un RIB."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def normaliser_siret(valeur) -> str:
    return compacter(valeur)


def normaliser_rna(valeur) -> str:
    return compacter(valeur).upper()


def normaliser_iban(valeur) -> str:
    return compacter(valeur).upper()


def normaliser_bic(valeur) -> str:
    return compacter(valeur).upper()


def normaliser_code(valeur) -> str:
    """Code postal ou code INSEE : sans espaces, en majuscules (2a004 → 2A004)."""
    return compacter(valeur).upper()


class _Format(ABC):
    """Un validateur de format : un champ vide est laissé à `DataRequired` / `Optional` ; `verifier` reçoit la
    saisie et lève ValidationError."""

    def __call__(self, form, field):
        saisie = _texte(field.data)
        if saisie.strip():
            self.verifier(saisie)

    @abstractmethod
    def verifier(self, saisie: str) -> None:
        """Lève ValidationError (message en français) si `saisie`, non vide, n'a pas le format attendu."""


def _chiffres_seuls(texte: str) -> bool:
    return texte.isascii() and texte.isdigit()


def verifier_siren(siren: str) -> None:
    if not _chiffres_seuls(siren):
        raise ValidationError(
            "Le numéro SIREN ne doit contenir que des chiffres (9 chiffres, les espaces sont acceptés)."
        )
    if len(siren) != 9:
        raise ValidationError(f"Le numéro SIREN compte 9 chiffres : vous en avez saisi {len(siren)}.")
    if not stdnum_siren.is_valid(siren):
        raise ValidationError(
            f"Le numéro SIREN {format_siren(siren)} n’est pas valide : vérifiez les 9 chiffres "
            "(la clé de contrôle ne correspond pas)."
        )


def verifier_siret(siret: str) -> None:
    """Lève ValidationError si le SIRET (déjà compacté) n'est pas valide ; le SIREN est contrôlé aussi."""
    if not _chiffres_seuls(siret):
        raise ValidationError(
            "Le numéro SIRET ne doit contenir que des chiffres (14 chiffres, les espaces sont acceptés)."
        )
    if len(siret) != 14:
        raise ValidationError(
            f"Le numéro SIRET compte 14 chiffres (9 pour le SIREN, 5 pour l’établissement) : "
            f"vous en avez saisi {len(siret)}."
        )
    message = (
        f"Le numéro SIRET {format_siret(siret)} n’est pas valide : vérifiez les 14 chiffres "
        "(la clé de contrôle ne correspond pas)."
    )
    if not stdnum_siren.is_valid(siret[:9]):
        raise ValidationError(
            f"{message} Son SIREN {format_siren(siret[:9])} (les 9 premiers chiffres) n’est lui-même pas "
            "valide : l’erreur est probablement dans ces chiffres."
        )
    if not stdnum_siret.is_valid(siret):
        raise ValidationError(message)


class Siret(_Format):
    """14 chiffres, clé de Luhn (règle particulière de La Poste comprise) et SIREN valide."""

    def verifier(self, saisie: str) -> None:
        verifier_siret(normaliser_siret(saisie))


class Siren(_Format):
    def verifier(self, saisie: str) -> None:
        verifier_siren(compacter(saisie))


# W, puis le département (2 caractères : chiffres, ou 2A/2B en Corse, 9x outre-mer), puis 7 chiffres
_RNA = re.compile(r"W\d[\dA-Z]\d{7}")


class Rna(_Format):
    """Numéro du répertoire national des associations : W suivi de 9 caractères (W751234567)."""

    def verifier(self, saisie: str) -> None:
        rna = normaliser_rna(saisie)
        if not rna.startswith("W"):
            raise ValidationError(
                "Le numéro RNA commence par la lettre W, suivie de 9 chiffres, par exemple W751234567. "
                "Il figure sur le récépissé de déclaration de l’association."
            )
        if len(rna) != 10:
            raise ValidationError(
                f"Le numéro RNA compte 10 caractères (W suivi de 9 chiffres, par exemple W751234567) : "
                f"vous en avez saisi {len(rna)}."
            )
        if not _RNA.fullmatch(rna):
            raise ValidationError(
                f"Le numéro RNA {rna} n’est pas valide : après le W viennent 9 chiffres, par exemple "
                "W751234567 (en Corse et outre-mer, le troisième caractère peut être une lettre : "
                "W2A1234567)."
            )


_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}")


def verifier_iban(iban: str) -> None:
    if not iban.isascii() or not _IBAN.fullmatch(iban):
        raise ValidationError(
            "Un IBAN commence par deux lettres (le pays) et deux chiffres de contrôle, suivis de lettres et "
            "de chiffres, par exemple FR76 3000 6000 0112 3456 7890 189."
        )
    pays = iban[:2]
    if pays not in PAYS_SEPA:
        raise ValidationError(
            f"L’IBAN {format_iban(iban)} est celui d’un compte hors de la zone SEPA (pays « {pays} ») : "
            "la subvention ne peut être versée que sur un compte en France ou dans la zone SEPA."
        )
    if pays == "FR" and len(iban) != LONGUEUR_IBAN_FR:
        raise ValidationError(
            f"Un IBAN français compte {LONGUEUR_IBAN_FR} caractères : vous en avez saisi {len(iban)}. "
            "Recopiez-le depuis le relevé d’identité bancaire (RIB)."
        )
    try:
        stdnum_iban.validate(iban)
    except ErreurStdnum as erreur:
        if isinstance(erreur, stdnum_iban.InvalidChecksum):
            raise ValidationError(
                f"L’IBAN {format_iban(iban)} n’est pas valide : vérifiez chaque caractère "
                "(la clé de contrôle ne correspond pas)."
            ) from None
        raise ValidationError(
            f"L’IBAN {format_iban(iban)} n’a pas le format attendu pour ce pays ({pays}) : "
            "recopiez-le depuis le relevé d’identité bancaire (RIB)."
        ) from None
    except Exception:  # stdnum ne doit jamais faire échouer la page : entrée inattendue
        raise ValidationError(
            f"L’IBAN {format_iban(iban)} n’est pas valide : recopiez-le depuis le relevé d’identité bancaire."
        ) from None


class Iban(_Format):
    """IBAN d'un compte de la zone SEPA, clé de contrôle (modulo 97) et structure du pays vérifiées."""

    def verifier(self, saisie: str) -> None:
        verifier_iban(normaliser_iban(saisie))


_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


class Bic(_Format):
    """BIC (code SWIFT) : 8 ou 11 caractères, dont le code pays en 5e et 6e positions."""

    def verifier(self, saisie: str) -> None:
        code = normaliser_bic(saisie)
        if len(code) not in (8, 11):
            raise ValidationError(
                f"Le BIC compte 8 ou 11 caractères, par exemple CRLYFRPP ou CRLYFRPPXXX : "
                f"vous en avez saisi {len(code)}."
            )
        if not code.isascii() or not _BIC.fullmatch(code):
            raise ValidationError(
                f"Le BIC {code} n’a pas le bon format : 4 lettres pour la banque, 2 lettres pour le pays, "
                "puis 2 et éventuellement 3 lettres ou chiffres, par exemple CRLYFRPPXXX."
            )
        try:
            stdnum_bic.validate(code)
        except Exception:
            raise ValidationError(
                f"Le BIC {code} n’est pas valide : le code pays « {code[4:6]} » (5e et 6e caractères) "
                "n’existe pas."
            ) from None


class CodePostal(_Format):
    def verifier(self, saisie: str) -> None:
        code = normaliser_code(saisie)
        if not (_chiffres_seuls(code) and len(code) == 5) or code.startswith("00"):
            raise ValidationError("Le code postal compte 5 chiffres, par exemple 59000.")


# Départements 01 à 95 (2A et 2B pour la Corse), puis outre-mer 97x et 98x
_INSEE = re.compile(r"(0[1-9]|[1-8]\d|9[0-8]|2A|2B)\d{3}")


class CodeInsee(_Format):
    """Code officiel géographique de la commune (5 caractères ; 2A/2B en Corse)."""

    def verifier(self, saisie: str) -> None:
        code = normaliser_code(saisie)
        if code.isascii() and re.fullmatch(r"20\d{3}", code):
            raise ValidationError(
                "En Corse, le code INSEE commence par 2A (Corse-du-Sud) ou 2B (Haute-Corse), par exemple "
                "2A004 pour Ajaccio : ce n’est pas le code postal."
            )
        if not code.isascii() or not _INSEE.fullmatch(code):
            raise ValidationError(
                "Le code INSEE de la commune compte 5 caractères, par exemple 59350 pour Lille ou 2A004 pour "
                "Ajaccio ; ce n’est pas le code postal."
            )


class Telephone(_Format):
    """Un numéro joignable : 10 chiffres en France (03 20 00 00 00) ou au format international (+33…)."""

    def verifier(self, saisie: str) -> None:
        numero = compacter(saisie).replace("(", "").replace(")", "")
        chiffres = numero[1:] if numero.startswith("+") else numero
        if not _chiffres_seuls(chiffres):
            raise ValidationError(
                "Le numéro de téléphone ne contient que des chiffres (et un + au début pour "
                "l’international), par exemple 03 20 00 00 00."
            )
        if numero.startswith("+"):
            if not 8 <= len(chiffres) <= 15:
                raise ValidationError(
                    "Un numéro international compte de 8 à 15 chiffres après le +, "
                    "par exemple +33 3 20 00 00 00."
                )
        elif len(chiffres) != 10 or not chiffres.startswith("0"):
            raise ValidationError("Un numéro français compte 10 chiffres et commence par 0 : 03 20 00 00 00.")
