"""Propriétés des formulaires : aucune saisie ne fait lever `validate()`, et les validateurs de
forms/validators.py acceptent ce qui est valide par construction et refusent ce qu'on en altère.

Les formulaires sont découverts dans le paquet forms/ : une classe WTForms ajoutée est couverte d'office, et
le test échoue si le banc générique ne sait pas la construire (sauf si elle figure dans `NON_GENERIQUES`,
avec sa raison). Chaque champ reçoit une valeur tirée selon son type (texte quelconque, caractères de
contrôle, chiffres d'autres écritures, nombres immenses, négatifs, « nan », « 1e999 », dates impossibles,
fichiers…) ou est omis ; `validate()` rend un booléen et des messages en français, et chaque champ
se réaffiche.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import re
import string
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    FieldList,
    FileField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectFieldBase,
    SelectMultipleField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

import forms
from forms import validators as v
from forms.champs import (
    MONTANT_MAX,
    BoutonsRadio,
    ChoixMultiple,
    ListeDeChoix,
    MontantField,
    ecrire_montant,
    lire_montant,
    montant_requis,
)

REGLAGES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Classes qu'on ne peut pas construire sans l'application : aucune aujourd'hui. Une entrée : nom → raison.
NON_GENERIQUES: dict[str, str] = {}

# --- Découverte ------------------------------------------------------------------------------------


def formulaires() -> list[type[Form]]:
    trouves = []
    for module_info in pkgutil.iter_modules(forms.__path__, "forms."):
        module = importlib.import_module(module_info.name)
        for _, classe in inspect.getmembers(module, inspect.isclass):
            if issubclass(classe, Form) and classe.__module__ == module.__name__:
                trouves.append(classe)
    return sorted(trouves, key=lambda c: f"{c.__module__}.{c.__name__}")


FORMULAIRES = formulaires()


def nom(classe) -> str:
    return f"{classe.__module__}.{classe.__name__}"


def test_la_decouverte_trouve_les_formulaires_de_chaque_module():
    modules = {c.__module__ for c in FORMULAIRES}
    attendus = {m.name for m in pkgutil.iter_modules(forms.__path__, "forms.")} - {"forms.__init__"}
    assert modules == attendus
    assert len(FORMULAIRES) >= 60


# --- Valeurs hostiles --------------------------------------------------------------------------------

HOSTILES = [
    "",
    " ",
    "\t\n",
    "\x00",
    "\x1b[31m",
    "\u200b",
    "\u202e",
    "\ufeff1",
    "\u00a0",
    "\u202f",
    "nan",
    "NaN",
    "sNaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
    "1e-999",
    "1E+2",
    "0x10",
    "-1",
    "-0",
    "-0,01",
    "0",
    "00000",
    "1,005",
    "1.5.5",
    "1 000 000 000 000",
    "9" * 400,
    "１２３",  # chiffres pleine chasse
    "٣٤",  # chiffres arabes
    "²³",
    "Ⅻ",
    "𝟗𝟗",
    "31/02/2024",
    "2024-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "31/12/9999",
    "01/01/0001",
    "10000-01-01",
    "2024-1-1",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n{0}",
    "Robert'); DROP TABLE structure;--",
    "=SOMME(A1:A9)",
    "ÉÈÀ€ œ ß",
    "🐬" * 20,
]

texte_hostile = st.one_of(
    st.sampled_from(HOSTILES),
    st.text(max_size=40),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Nd", "No", "Nl"]), max_size=12),
    st.builds(
        lambda motif, n: motif * n,
        st.sampled_from(["9", "é", " ", "a@b.", "\x00", "€"]),
        st.integers(300, 5000),
    ),
)
nombre_texte = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.decimals(min_value=0, max_value=10**9, places=2).map(lambda d: str(d).replace(".", ",")),
)
date_texte = st.one_of(
    st.dates().map(lambda d: d.strftime("%Y-%m-%d")),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(lambda d: d.isoformat()),
)
booleen_texte = st.sampled_from(["y", "on", "1", "true", "True", "oui", "false", "0", "n", "off", ""])


def _choix(champ) -> list[str]:
    choix = champ.choices
    if isinstance(choix, dict):
        choix = [c for groupe in choix.values() for c in groupe]
    return [str(c.value if isinstance(c, SelectChoice) else c) for c in (choix or [])]


def valeurs(champ) -> st.SearchStrategy[list]:
    """Les valeurs qu'un navigateur (ou un attaquant) peut envoyer pour ce champ."""
    if isinstance(champ, FileField):
        fichier = st.builds(
            lambda contenu, nom_fichier: FileStorage(io.BytesIO(contenu), filename=nom_fichier),
            st.binary(max_size=200),
            st.sampled_from(["a.pdf", "", "../../etc/passwd", "é.csv", "x" * 300]),
        )
        return st.lists(st.one_of(fichier, texte_hostile), min_size=1, max_size=1)
    if isinstance(champ, BooleanField):
        un = st.one_of(booleen_texte, texte_hostile)
    elif isinstance(champ, SelectFieldBase):
        un = st.one_of(st.sampled_from(_choix(champ) or [""]), texte_hostile, nombre_texte)
        if isinstance(champ, SelectMultipleField):
            return st.lists(un, max_size=4)
    elif isinstance(champ, DateField | DateTimeField):
        un = st.one_of(date_texte, texte_hostile)
    elif isinstance(champ, IntegerField | DecimalField | FloatField | MontantField) or "inputmode" in (
        champ.render_kw or {}
    ):
        un = st.one_of(nombre_texte, texte_hostile)
    else:
        un = texte_hostile
    return st.lists(un, min_size=1, max_size=2)  # deux valeurs : un même nom envoyé deux fois


def _noms(prefixe: str, classe) -> list:
    """(nom envoyé, champ non lié) de chaque champ d'une classe de formulaire, listes comprises."""
    instance = classe(formdata=None, meta={"csrf": False})
    return [(prefixe + n, c) for n, c in instance._fields.items()]


@st.composite
def donnees_pour(draw, form) -> list[tuple[str, object]]:
    """Les paires (nom, valeur) d'un envoi : une liste, lisible dans un contre-exemple."""
    paires: list[tuple[str, object]] = []

    class _Ajout:
        @staticmethod
        def add(cle, valeur):
            paires.append((cle, valeur))

    donnees = _Ajout()

    def remplir(nom_envoye, champ):
        if isinstance(champ, SubmitField | HiddenField) and draw(st.booleans()):
            donnees.add(nom_envoye, draw(st.sampled_from(["", "1", "x", "-1"])))
            return
        if isinstance(champ, FieldList):
            for i in range(draw(st.integers(0, 3))):
                sous = champ.unbound_field
                if sous.field_class is FormField:
                    for sous_nom, sous_champ in _noms(f"{nom_envoye}-{i}-", sous.args[0]):
                        remplir(sous_nom, sous_champ)
                else:
                    donnees.add(f"{nom_envoye}-{i}", draw(texte_hostile))
            if draw(st.booleans()):  # un indice hors de l'ordre ou immense
                donnees.add(f"{nom_envoye}-{draw(st.sampled_from(['99', '-1', 'x', '9' * 30]))}", "?")
            return
        if isinstance(champ, FormField):
            for sous_nom, sous_champ in champ._fields.items():
                remplir(f"{nom_envoye}-{sous_nom}", sous_champ)
            return
        if draw(st.integers(0, 5)) == 0:
            return  # champ omis
        for valeur in draw(valeurs(champ)):
            donnees.add(nom_envoye, valeur)

    for nom_champ, champ in form._fields.items():
        remplir(nom_champ, champ)
    return paires


# --- Construire, valider, réafficher -----------------------------------------------------------------

CHOIX_DE_LA_VUE = [(1, "Un"), (2, "Deux")]


def fournir_les_choix(form) -> None:
    """Ce que font les vues : les listes de choix dépendent de la base (organisations, comptes…)."""
    for champ in form:
        if isinstance(champ, FormField):
            fournir_les_choix(champ.form)
        elif isinstance(champ, FieldList):
            for entree in champ.entries:
                if isinstance(entree, FormField):
                    fournir_les_choix(entree.form)
        elif isinstance(champ, SelectFieldBase) and not champ.choices:
            entier = getattr(champ, "coerce", str) is int
            champ.choices = [SelectChoice(c if entier else str(c), libelle) for c, libelle in CHOIX_DE_LA_VUE]


ANGLAIS = re.compile(
    r"\b(This field|Not a valid|Invalid|[Ff]ield must|must be|is required|characters? long|Please|between)\b"
)


def messages(erreurs) -> list:
    if isinstance(erreurs, dict):
        return [m for valeur in erreurs.values() for m in messages(valeur)]
    if isinstance(erreurs, list | tuple):
        return [m for valeur in erreurs for m in messages(valeur)]
    return [erreurs]


def defauts(form) -> list[str]:
    """Ce qui ne va pas pour l'usager quand `validate()` passe sur cette saisie : refus muet, message vide ou
    en anglais. (Une exception, elle, fait échouer le test.) Le formulaire doit aussi se réafficher."""
    resultat = form.validate()
    tous = messages(form.errors)
    trouves = [] if resultat or tous else ["validate() rend False sans dire pourquoi"]
    trouves += [f"Message vide : {m!r}" for m in tous if not (isinstance(m, str) and m.strip())]
    trouves += [f"Message en anglais : {m!r}" for m in tous if isinstance(m, str) and ANGLAIS.search(m)]
    for champ in form:
        str(champ())  # le formulaire se réaffiche avec la saisie, quelle qu'elle soit
    return trouves


def construire(classe, donnees):
    form = classe(formdata=MultiDict(donnees), meta={"csrf": False})
    fournir_les_choix(form)
    return form


@pytest.mark.parametrize("classe", [c for c in FORMULAIRES if nom(c) not in NON_GENERIQUES], ids=nom)
def test_chaque_formulaire_est_instanciable_par_le_banc(app, classe):
    with app.test_request_context(method="POST"):
        assert defauts(construire(classe, MultiDict())) == []


@pytest.mark.proprietes
@pytest.mark.parametrize("classe", [c for c in FORMULAIRES if nom(c) not in NON_GENERIQUES], ids=nom)
def test_aucune_saisie_ne_fait_lever_validate(app, classe):
    with app.test_request_context(method="POST"):
        modele = construire(classe, MultiDict())

    @REGLAGES
    @given(donnees=donnees_pour(modele))
    @example(
        donnees=[(n, "9" * 400) for n in modele._fields]
    )  # OverflowError (NumberRange), InvalidOperation
    @example(donnees=[(n, "x" * 201) for n in modele._fields])  # messages de longueur en anglais
    def essai(donnees):
        with app.test_request_context(method="POST"):
            assert defauts(construire(classe, donnees)) == []

    essai()


# Formulaires fabriqués par une fonction (champs selon la campagne, le budget, le compte rendu…)


@dataclass
class _Objet:
    id: int = 1
    libelle: str = "Question"
    nom: str = "Financeur"
    code: str = "60"
    ordre: int = 1
    compte: str = "60"
    financeur_libelle: str | None = None
    financeur_id: int | None = None
    obligatoire: bool = True
    type_piece: object = None
    lignes: list = field(default_factory=list)


def _fabriques():
    from dauphin.models import TypePiece
    from forms.campagnes import campagne_form
    from forms.compte_rendu import compte_rendu_form
    from forms.demande import budget_form, eligibilite_form, pieces_form
    from workflows.budget import PLAN_COMPTABLE

    piece = _Objet(type_piece=TypePiece.statuts)
    piece.libelle = "Statuts"
    compte_rendu = _Objet(
        lignes=[_Objet(ordre=1, compte="60"), _Objet(ordre=2, compte="74", financeur_libelle="État")]
    )
    return {
        "campagne_form": lambda d: campagne_form([("statuts", "Statuts")], [(1, "État"), (2, "Ville")], d),
        "compte_rendu_form": lambda d: compte_rendu_form(compte_rendu, [_Objet(id=3, code="QN05901M")], d),
        "eligibilite_form": lambda d: eligibilite_form([_Objet(id=1), _Objet(id=2)], d),
        "budget_form": lambda d: budget_form(PLAN_COMPTABLE, [_Objet(id=1), _Objet(id=2)], d),
        "pieces_form": lambda d: pieces_form([piece], {}, d),
    }


def _champs(form):
    for champ in form:
        if isinstance(champ, FormField):
            yield from _champs(champ.form)
        elif isinstance(champ, FieldList):
            for entree in champ.entries:
                yield from _champs(entree.form) if isinstance(entree, FormField) else [entree]
        else:
            yield champ


def test_chaque_liste_de_choix_est_une_de_forms_champs(app):
    """Une liste de choix de WTForms (SelectField, RadioField…) renormalise ses options à chaque rendu et à
    chaque validation : celles des formulaires sont `ListeDeChoix`, `ChoixMultiple` ou `BoutonsRadio`."""
    with app.test_request_context(method="POST"):
        formulaires = [construire(c, MultiDict()) for c in FORMULAIRES if nom(c) not in NON_GENERIQUES]
        formulaires += [fabriquer(MultiDict()) for fabriquer in _fabriques().values()]
        listes = [
            champ for form in formulaires for champ in _champs(form) if isinstance(champ, SelectFieldBase)
        ]
    assert len(listes) >= 40
    maison = ListeDeChoix | ChoixMultiple | BoutonsRadio
    assert [f"{c.name} ({type(c).__name__})" for c in listes if not isinstance(c, maison)] == []


@pytest.mark.proprietes
@pytest.mark.parametrize(
    "fabrique", ["campagne_form", "compte_rendu_form", "eligibilite_form", "budget_form", "pieces_form"]
)
def test_formulaires_fabriques_aucune_saisie_ne_fait_lever_validate(app, fabrique):
    fabriquer = _fabriques()[fabrique]
    with app.test_request_context(method="POST"):
        modele = fabriquer(MultiDict())

    @REGLAGES
    @given(donnees=donnees_pour(modele))
    @example(donnees=[(n, "9" * 40) for n in modele._fields])  # montant de 40 chiffres : InvalidOperation
    @example(donnees=[("libres-0-financeur_libelle", "x" * 201)])  # « Field cannot be longer… »
    @example(donnees=[("questions-0-reponse_attendue", "peut-être")])  # « Not a valid choice. »
    def essai(donnees):
        with app.test_request_context(method="POST"):
            form = fabriquer(MultiDict(donnees))
            fournir_les_choix(form)
            assert defauts(form) == []

    essai()


# --- Validateurs de forms/validators.py face à python-stdnum ------------------------------------------


class _Champ:
    def __init__(self, data):
        self.data = data


def accepte(validateur, valeur) -> bool:
    try:
        validateur(None, _Champ(valeur))
    except ValidationError as erreur:
        assert str(erreur).strip() and not ANGLAIS.search(str(erreur))
        return False
    return True


chiffres = st.text(string.digits, min_size=1, max_size=1)


def avec_cle_luhn(debut: str) -> str:
    return debut + luhn.calc_check_digit(debut)


siren_valide = (
    st.text(string.digits, min_size=8, max_size=8).map(avec_cle_luhn).filter(lambda s: s != "356000000")
)
siret_valide = st.builds(
    lambda siren, etablissement: avec_cle_luhn(siren + etablissement),
    siren_valide,
    st.text(string.digits, min_size=4, max_size=4),
)
separateurs = st.sampled_from(["", " ", "\u00a0", "\u202f", ".", "-"])


def espacer(numero: str, separateur: str, pas: int = 3) -> str:
    return separateur.join(numero[i : i + pas] for i in range(0, len(numero), pas))


def alterer_un_chiffre(numero: str, position: int, decalage: int) -> str:
    position %= len(numero)
    chiffre = (int(numero[position]) + decalage) % 10
    return numero[:position] + str(chiffre) + numero[position + 1 :]


@given(siret_valide, separateurs)
def test_siret_valide_par_construction_accepte(siret, separateur):
    assert stdnum_siret.is_valid(siret)
    assert accepte(v.Siret(), espacer(siret, separateur))


@given(siret_valide, st.integers(0, 13), st.integers(1, 9))
def test_siret_altere_d_un_chiffre_refuse(siret, position, decalage):
    altere = alterer_un_chiffre(siret, position, decalage)
    assume(not altere.startswith("356000000"))  # La Poste : règle de clé particulière
    assert not accepte(v.Siret(), altere)


@given(st.one_of(st.text(string.digits + " ", max_size=20), st.text(max_size=20)))
@example(".")  # séparateurs seuls : rien à valider, refusé (trouvé par hypothesis)
def test_siret_accepte_exactement_ce_que_stdnum_accepte(saisie):
    compact = v.normaliser_siret(saisie)
    attendu = (
        not saisie.strip()  # vide : accepté (le champ dit s'il est obligatoire) ; « . » seul ne l'est pas
        or compact.isascii()
        and compact.isdigit()
        and stdnum_siret.is_valid(compact)
        and stdnum_siren.is_valid(compact[:9])
    )
    assert accepte(v.Siret(), saisie) == attendu


@given(siren_valide, separateurs, st.integers(0, 8), st.integers(1, 9))
def test_siren_valide_accepte_et_altere_refuse(siren, separateur, position, decalage):
    assert stdnum_siren.is_valid(siren)
    assert accepte(v.Siren(), espacer(siren, separateur))
    assert not accepte(v.Siren(), alterer_un_chiffre(siren, position, decalage))
    assert not accepte(v.Siren(), siren + "0")


rna_valide = st.builds(
    lambda departement, numero: f"W{departement}{numero}",
    st.one_of(st.text(string.digits, min_size=2, max_size=2), st.sampled_from(["2A", "2B", "9A"])),
    st.text(string.digits, min_size=7, max_size=7),
)


@given(rna_valide, st.booleans(), separateurs)
def test_rna_valide_accepte(rna, minuscules, separateur):
    assert accepte(v.Rna(), espacer(rna.lower() if minuscules else rna, separateur, 5))


@given(rna_valide, st.sampled_from(["lettre", "court", "long", "chiffre_en_lettre"]))
def test_rna_altere_refuse(rna, alteration):
    altere = {
        "lettre": "X" + rna[1:],
        "court": rna[:-1],
        "long": rna + "1",
        "chiffre_en_lettre": rna[:5] + "Z" + rna[6:],
    }[alteration]
    assert not accepte(v.Rna(), altere)


@st.composite
def iban_francais(draw) -> str:
    """Un IBAN français construit : banque, guichet, compte, clé RIB (modulo 97), clé IBAN (modulo 97)."""
    banque = draw(st.text(string.digits, min_size=5, max_size=5))
    guichet = draw(st.text(string.digits, min_size=5, max_size=5))
    compte = draw(st.text(string.digits, min_size=11, max_size=11))
    cle_rib = 97 - (89 * int(banque) + 15 * int(guichet) + 3 * int(compte)) % 97
    bban = f"{banque}{guichet}{compte}{cle_rib:02d}"
    return "FR" + stdnum_iban.calc_check_digits("FR00" + bban) + bban


@given(iban_francais(), st.sampled_from([" ", "", "\u00a0"]), st.booleans())
def test_iban_valide_par_construction_accepte(iban, separateur, minuscules):
    assert stdnum_iban.is_valid(iban)
    saisie = espacer(iban, separateur, 4)
    assert accepte(v.Iban(), saisie.lower() if minuscules else saisie)


@given(iban_francais(), st.integers(4, 26), st.integers(1, 9))
def test_iban_altere_d_un_chiffre_refuse(iban, position, decalage):
    assert not accepte(v.Iban(), alterer_un_chiffre(iban, position, decalage))


@given(st.one_of(st.text(string.ascii_uppercase + string.digits + " ", max_size=40), st.text(max_size=40)))
@example(".")  # séparateurs seuls : rien à valider, refusé (trouvé par hypothesis)
def test_iban_accepte_exactement_un_iban_sepa_que_stdnum_accepte(saisie):
    compact = v.normaliser_iban(saisie)
    attendu = not saisie.strip() or (
        compact.isascii()
        and stdnum_iban.is_valid(compact)
        and compact[:2] in v.PAYS_SEPA
        and (compact[:2] != "FR" or len(compact) == 27)
    )
    assert accepte(v.Iban(), saisie) == attendu


bic_valide = st.builds(
    lambda banque, pays, lieu, agence: banque + pays + lieu + agence,
    st.text(string.ascii_uppercase, min_size=4, max_size=4),
    st.sampled_from(sorted(v.PAYS_SEPA - {"VA"})),  # codes pays que stdnum connaît
    st.text(string.ascii_uppercase + string.digits, min_size=2, max_size=2),
    st.one_of(st.just(""), st.text(string.ascii_uppercase + string.digits, min_size=3, max_size=3)),
)


@given(bic_valide)
def test_bic_valide_par_construction_accepte(bic):
    assert stdnum_bic.is_valid(bic)
    assert accepte(v.Bic(), bic.lower())


@given(bic_valide, st.sampled_from(["court", "long", "pays", "chiffre"]))
def test_bic_altere_refuse(bic, alteration):
    altere = {
        "court": bic[:7],
        "long": bic + "X" * (12 - len(bic)),
        "pays": bic[:4] + "QQ" + bic[6:],
        "chiffre": "1" + bic[1:],
    }[alteration]
    assert not accepte(v.Bic(), altere)


@given(st.text(max_size=14))
@example(".")  # séparateurs seuls : rien à valider, refusé (trouvé par hypothesis)
def test_bic_accepte_exactement_ce_que_stdnum_accepte(saisie):
    compact = v.normaliser_bic(saisie)
    attendu = not saisie.strip() or (
        compact.isascii() and len(compact) in (8, 11) and compact.isalnum() and stdnum_bic.is_valid(compact)
    )
    assert accepte(v.Bic(), saisie) == attendu


DEPARTEMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "97", "98"]


@given(st.sampled_from(DEPARTEMENTS), st.text(string.digits, min_size=3, max_size=3), st.booleans())
def test_code_insee_accepte_et_code_postal_corse_refuse(departement, commune, minuscules):
    code = departement + commune
    assert accepte(v.CodeInsee(), code.lower() if minuscules else code)
    assert not accepte(v.CodeInsee(), "20" + commune)  # code postal corse, pas un code INSEE
    assert not accepte(v.CodeInsee(), code + "0")
    assert not accepte(v.CodeInsee(), code[:-1])


@given(st.text(string.digits, min_size=5, max_size=5))
def test_code_postal(code):
    assert accepte(v.CodePostal(), code) == (not code.startswith("00"))


@given(st.text(string.digits, min_size=9, max_size=9), separateurs)
def test_telephone_francais_et_international(chiffres_, separateur):
    assert accepte(v.Telephone(), espacer("0" + chiffres_, separateur, 2))
    assert accepte(v.Telephone(), "+33 " + chiffres_)
    assert not accepte(v.Telephone(), "1" + chiffres_)
    assert not accepte(v.Telephone(), "0" + chiffres_ + "1")


# --- Montants saisis à la française -----------------------------------------------------------------


montant_valide = st.decimals(min_value=0, max_value=MONTANT_MAX, places=2)


class _FormMontant(Form):
    montant = MontantField()


@given(montant_valide, st.sampled_from(["", " €", "\u00a0€"]))
def test_montant_ecrit_puis_relu_a_l_identique(montant, suffixe):
    texte = ecrire_montant(montant) + suffixe
    assert lire_montant(texte) == montant
    form = _FormMontant(MultiDict({"montant": texte}))
    assert form.validate() and form.montant.data == montant
    assert isinstance(form.montant.data, Decimal)


@pytest.mark.parametrize("texte", ["€", " € ", "\u00a0€\u202f", "€€"])
def test_montant_sans_chiffre_refuse_avec_un_message(texte):
    """« € » seul n'est pas vide : un montant obligatoire l'accepterait, le service recevrait None."""
    form = _FormMontant(MultiDict({"montant": texte}))
    assert not form.validate() and form.montant.errors == [MontantField.message]
    assert form.montant.data is None and form.montant._value() == texte  # la saisie reste affichée


class _FormMontantRequis(Form):
    montant = montant_requis("Montant", "Indiquez le montant.")


@pytest.mark.parametrize("texte", ["", " ", "\u00a0", "\u202f\t", "\x1f"])
def test_montant_requis_fait_de_blancs_refuse_comme_vide(texte):
    form = _FormMontantRequis(MultiDict({"montant": texte}))
    assert not form.validate() and form.montant.errors == ["Indiquez le montant."]
    assert form.montant.flags.required  # l'attribut `required` du champ, comme avec InputRequired


@given(montant_valide)
def test_montant_requis_accepte_tout_montant_valide_zero_compris(montant):
    form = _FormMontantRequis(MultiDict({"montant": ecrire_montant(montant)}))
    assert form.validate() and form.montant.data == montant


@given(montant_valide.filter(lambda m: m > 0))
def test_montant_negatif_refuse(montant):
    form = _FormMontant(MultiDict({"montant": "-" + ecrire_montant(montant)}))
    assert not form.validate() and form.montant.errors == ["Le montant ne peut pas être négatif."]


@given(st.decimals(min_value=0, max_value=10**6, places=3).filter(lambda m: m != m.quantize(Decimal("0.01"))))
def test_montant_a_trois_decimales_refuse(montant):
    form = _FormMontant(MultiDict({"montant": str(montant).replace(".", ",")}))
    assert not form.validate() and "deux décimales" in form.montant.errors[0]


@given(st.integers(1, 10**40))
@example(10**39)  # 40 chiffres : `quantize` levait InvalidOperation
def test_montant_au_dela_du_plafond_refuse_avec_un_message(exces):
    form = _FormMontant(MultiDict({"montant": str(int(MONTANT_MAX) + exces)}))
    assert not form.validate() and form.montant.errors == ["Ce montant est trop élevé."]
