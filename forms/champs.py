"""Champs partagés des formulaires : chaque règle de saisie écrite une fois.

- Un texte perd ses espaces de bord et ses caractères de contrôle (`sans_espaces`) et a une longueur
  maximale (`texte_libre`, `ligne_de_texte`, `recherche`).
- Une date s'écrit jj/mm/aaaa, le sélecteur du navigateur envoie aaaa-mm-jj : les deux sont lus, et
  l'indication du format est la même partout (`date_requise`, `date_facultative`).
- Une adresse électronique : même contrôle, même message, 254 caractères au plus (`courriel`).
- Un nombre ou un montant tapé est réaffiché tel quel en cas d'erreur : rien de ce qui a été saisi n'est
  perdu (`SaisieGardee`, `MontantField`, `montant_requis`).
- Un formulaire d'action porte la version lue (`VersionForm`) : une saisie faite sur une page périmée est
  refusée (conflit) au lieu d'écraser ce qu'un autre a enregistré entre-temps.

- Un champ caché (la version lue, le jeton CSRF, les autres champs `HiddenField`) s'écrit directement
  (`EntreeCachee`) : le même HTML que WTForms, sans ses ~200 appels de fonctions par champ.

- Une liste de choix (`ListeDeChoix`, `ChoixMultiple`, `BoutonsRadio`) reçoit des `SelectChoice` (`options`,
  `options_enum`, ou `SelectChoice(valeur, libellé)` pour une liste tirée de la base), jamais des tuples :
  WTForms 3.3 les déprécie (3.4 les refuse), et les reconvertit à chaque rendu et à chaque validation.

`obligatoire` (textes, courriels) : le message d'un champ vide, `DataRequired` (un texte fait d'espaces est
vide), ou un validateur tout fait (`InputRequired(…)`) ; None : champ facultatif (`Optional`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import Enum
from itertools import repeat
from operator import attrgetter, eq

import wtforms.widgets
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice, enum_choices
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import HiddenInput, Select, TextInput
from wtforms.widgets import core as widgets_wtforms

from forms.validators import NombreEntierField, Telephone

TEXTE_MAX = 5000
LIGNE_MAX = 200
RECHERCHE_MAX = 100
COURRIEL_MAX = 254
MESSAGE_COURRIEL = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
AIDE_COURRIEL = "Format attendu : nom@domaine.fr"
FORMATS_DATE = ["%Y-%m-%d", "%d/%m/%Y"]  # le premier est celui du champ rendu (<input type="date">)
AIDE_DATE = "Format attendu : jj/mm/aaaa"
MONTANT_MAX = Decimal("999999999.99")


def sans_espaces(texte):
    """Filtre : espaces de bord retirés, caractères de contrôle (sauf tabulation et retours à la ligne)
    supprimés ; une valeur qui n'est pas un texte passe telle quelle."""
    if not isinstance(texte, str):
        return texte
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", texte).strip()


def _exigence(obligatoire):
    if obligatoire is None:
        return Optional()
    if isinstance(obligatoire, str):
        return DataRequired(obligatoire)
    return obligatoire


def longueur(maximum: int, message: str | None = None) -> Length:
    """La longueur maximale d'un texte, avec le message de la maison (« Ce champ compte 5 000 caractères
    au plus. ») ou celui donné."""
    nombre = f"{maximum:,}".replace(",", "\u00a0")
    return Length(max=maximum, message=message or f"Ce champ compte {nombre} caractères au plus.")


def _texte(classe, libelle, obligatoire, maximum, message_longueur, options):
    return classe(
        libelle,
        filters=[sans_espaces],
        validators=[_exigence(obligatoire), longueur(maximum, message_longueur)],
        **options,
    )


def texte_libre(
    libelle: str, *, obligatoire=None, max: int = TEXTE_MAX, message_longueur: str | None = None, **options
) -> TextAreaField:
    """Une zone de texte (motif, message, description) ; `options` : description, render_kw…"""
    return _texte(TextAreaField, libelle, obligatoire, max, message_longueur, options)


def ligne_de_texte(
    libelle: str, *, obligatoire=None, max: int = LIGNE_MAX, message_longueur: str | None = None, **options
) -> StringField:
    """Un texte d'une ligne (nom, intitulé, référence)."""
    return _texte(StringField, libelle, obligatoire, max, message_longueur, options)


def numero_de_telephone(libelle: str = "Téléphone (facultatif)") -> StringField:
    """Un numéro de téléphone facultatif, contrôlé partout de la même façon (`Telephone`)."""
    return StringField(
        libelle,
        validators=[Optional(), Telephone(), longueur(20)],
        description="Par exemple 03 20 00 00 00",
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


def motif(de: str, **options) -> TextAreaField:
    """Le motif obligatoire d'une décision : `motif("de la correction")` est intitulé « Motif de la
    correction » et, laissé vide, refusé avec « Indiquez le motif de la correction. »"""
    return texte_libre(f"Motif {de}", obligatoire=f"Indiquez le motif {de}.", **options)


def recherche(**options) -> SearchField:
    """La recherche d'une liste (lue en GET) : facultative."""
    return _texte(SearchField, "Rechercher", None, RECHERCHE_MAX, None, options)


# --- Listes de choix -----------------------------------------------------------------------------------


def options(paires: Iterable[tuple]) -> list[SelectChoice]:
    """Des paires (valeur, libellé) écrites une fois (constante, liste d'un service) en options WTForms."""
    return [SelectChoice(valeur, libelle) for valeur, libelle in paires]


def options_enum(enumeration: type[Enum]) -> list[SelectChoice]:
    """Les membres d'une énumération à libellés (`EnumLibelle`) : valeur, libellé français."""
    return enum_choices(enumeration, label=attrgetter("libelle"))


OUI_NON = options([("oui", "Oui"), ("non", "Non")])

_VALEUR = attrgetter("value")
_GROUPE = attrgetter("optgroup")


class _ChoixNormalises:
    """Ce que WTForms 3.3 refait à chaque rendu et à chaque validation d'une liste de choix, fait une fois.

    `SelectField` repasse ses options dans `SelectChoice.from_input` à chaque lecture (`has_groups`,
    `iter_choices`, `pre_validate` : trois passes par liste et par page), puis chaque `Choice` produit dans
    `_normalize_iter_choice` ; le widget `Select` relit la signature de `render_option` (`inspect`) à chaque
    rendu. Ici, une liste déjà faite de `SelectChoice` (ce que donnent `options`, `options_enum` et les
    vues) est prise telle quelle, et `iter_choices` (qui ne rend que des `Choice`) n'est pas renormalisé.
    Une liste de tuples passe encore par WTForms, avec son avertissement de dépréciation, que la suite de
    tests change en erreur (pyproject.toml), qu'elle soit donnée à la déclaration du champ ou posée par
    une vue."""

    def _choices_from_input(self, choices):
        # type() de chaque option par `map` : aucun appel Python par option (c'est le coût qu'on évite).
        if isinstance(choices, list) and set(map(type, choices)) <= {SelectChoice}:
            return choices
        if choices is not None and not callable(choices):
            self._warn_legacy_choices(choices)
        return super()._choices_from_input(choices)

    def has_groups(self):
        return not set(map(_GROUPE, self._choices_from_input(self.choices) or [])) <= {None}

    def _iter_choices_normalized(self):
        return self.iter_choices()  # des `Choice`, par construction (SelectField.iter_choices)

    def _iter_groups_normalized(self):
        return self.iter_groups()


class ListeDeroulante(Select):
    """Le widget `Select` de WTForms, sans relire par `inspect` la signature de `render_option` à chaque rendu
    (elle est celle de WTForms 3.3 : `render_option(choice, **kwargs)`)."""

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option


# `escape` de markupsafe pour un texte (str), rendu en str : sa fonction C (`_escape_inner`), sans le Markup
# que construit `escape` (son `__new__` est écrit en Python). Un `str.translate` des cinq entités lit sa table
# caractère par caractère : 2 µs pour un nom d'organisation, 16 µs pour une description, contre 0,2 à 0,4 µs
# ici (tests/unit/test_echapper.py compare avec `escape`). En Python à défaut.
try:
    from markupsafe import _escape_inner as echapper
except ImportError:  # pragma: no cover - une version de markupsafe qui ne l'aurait plus

    def echapper(texte: str) -> str:
        return str(escape(texte))


_ATTRIBUTS = attrgetter("render_kw")


class ListeLongue(ListeDeroulante):
    """Le widget `Select` de WTForms, plus rapide pour une liste de centaines d'options (les quartiers d'un
    filtre) ; celui de toute `ListeDeChoix`. Les options d'une `ListeDeChoix` sans groupe ni attribut de plus
    s'écrivent en une passe, sans fabriquer un `Choice` par option ni passer chacune par `render_option`,
    `html_params` et `Markup`. Même HTML, au caractère près (tests/unit/test_liste_longue.py) ; tout autre
    cas passe par le widget de WTForms."""

    def __call__(self, field, **kwargs):
        if self.multiple or not isinstance(field, ListeDeChoix) or field.has_groups():
            return super().__call__(field, **kwargs)
        options = field._choices_from_input(field.choices) or []
        if any(map(_ATTRIBUTS, options)):
            return super().__call__(field, **kwargs)
        # L'ouverture de la liste, comme Select.__call__ (id, attributs de validation des drapeaux).
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for attribut in dir(flags):
            if attribut in self.validation_attrs and attribut not in kwargs:
                kwargs[attribut] = getattr(flags, attribut)
        donnee, convertir = field.data, field.coerce
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for option in options:
            # Une valeur ou un libellé qui n'est pas un simple texte (nombre, booléen, Markup) : `escape`.
            valeur, libelle = option.value, option.label or option.value
            valeur = echapper(valeur) if type(valeur) is str else escape(valeur)
            libelle = echapper(libelle) if type(libelle) is str else escape(libelle)
            choisie = "selected " if convertir(option.value) == donnee else ""
            html.append(f'<option {choisie}value="{valeur}">{libelle}</option>')
        html.append("</select>")
        return Markup("".join(html))

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        libelle = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{libelle}</option>')


class ListeDeChoix(_ChoixNormalises, SelectField):
    """`SelectField` dont les options sont des `SelectChoice` (voir `_ChoixNormalises`), écrites par
    `ListeLongue` (le HTML du widget `Select` de WTForms, en une passe)."""

    widget = ListeLongue()

    def pre_validate(self, form):
        # Comme SelectField.pre_validate (une option dont la valeur convertie égale la donnée), sans fabriquer
        # un `Choice` par option : la comparaison `coerce(valeur) == donnée` faite par `map`.
        if self.process_errors or not self.validate_choice:
            return
        if self.choices is None:
            raise TypeError(self.gettext("Choices cannot be None."))
        valeurs = map(self.coerce, map(_VALEUR, self._choices_from_input(self.choices)))
        if not any(map(eq, valeurs, repeat(self.data))):
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


class ChoixMultiple(_ChoixNormalises, SelectMultipleField):
    """`SelectMultipleField` dont les options sont des `SelectChoice` (voir `_ChoixNormalises`)."""

    widget = ListeDeroulante(multiple=True)


class BoutonsRadio(_ChoixNormalises, RadioField):
    """`RadioField` dont les options sont des `SelectChoice` (voir `_ChoixNormalises`)."""


def liste_d_identifiants(libelle: str, **options) -> ListeDeChoix:
    """Le choix d'un enregistrement (campagne, compte, organisation…) par son identifiant : la vue remplit
    les options (`SelectChoice(id, libellé)`) ; `options` : validators, description…"""
    return ListeDeChoix(libelle, coerce=int, choices=[], **options)


def courriel(libelle: str, *, obligatoire=None, **options) -> EmailField:
    """Une adresse électronique (sans vérifier que le domaine reçoit du courrier)."""
    return EmailField(
        libelle,
        filters=[sans_espaces],
        validators=[
            _exigence(obligatoire),
            Email(MESSAGE_COURRIEL, check_deliverability=False),
            longueur(COURRIEL_MAX, f"L’adresse électronique compte {COURRIEL_MAX} caractères au plus."),
        ],
        **options,
    )


class Suit:
    """Validateur de la fin d'une période : la date saisie ne précède pas celle du champ `debut`."""

    def __init__(
        self, debut: str = "date_debut", message: str = "La date de fin doit suivre la date de début."
    ):
        self.debut, self.message = debut, message

    def __call__(self, form, champ):
        debut = form[self.debut].data
        if champ.data and debut and champ.data < debut:
            raise ValidationError(self.message)


def _date(libelle: str, exigence, aide: str | None, suit: Suit | None, options) -> DateField:
    description = f"{aide} {AIDE_DATE}" if aide else AIDE_DATE
    validateurs = [exigence, suit] if suit else [exigence]
    return DateField(libelle, format=FORMATS_DATE, validators=validateurs, description=description, **options)


def date_requise(
    libelle: str, message: str, *, aide: str | None = None, suit: Suit | None = None, **options
) -> DateField:
    """Une date obligatoire : `message` si rien n'est saisi (une date illisible a son propre message) ;
    `aide` précède l'indication du format ; `suit` : la fin d'une période."""
    return _date(libelle, InputRequired(message), aide, suit, options)


def date_facultative(
    libelle: str, *, aide: str | None = None, suit: Suit | None = None, **options
) -> DateField:
    return _date(libelle, Optional(), aide, suit, options)


def nombre_entier(
    libelle: str, *, min: int, max: int, message: str, requis: str | None = None, **options
) -> NombreEntierField:
    """Un nombre entier entre `min` et `max` (`message` sinon) ; `requis` : le message d'un champ vide
    (InputRequired : 0 est une saisie), None : facultatif."""
    exigence = InputRequired(requis) if requis else Optional()
    return NombreEntierField(
        libelle, validators=[exigence, NumberRange(min=min, max=max, message=message)], **options
    )


def fichier_requis(libelle: str, message: str, **options) -> FileField:
    """Un fichier à envoyer : `message` si aucun n'est choisi."""
    return FileField(libelle, validators=[FileRequired(message)], **options)


# --- Saisies converties, réaffichées telles quelles ---------------------------------------------------


class SaisieGardee(Field, ABC):
    """Un texte converti par `lire` (espaces retirés) ; la saisie est réaffichée telle quelle en cas
    d'erreur. Une saisie que `lire` ne sait pas lire (ValueError, ArithmeticError) est refusée avec
    `message` ; `verifier` lève ValueError avec son propre message pour une valeur lue mais refusée."""

    widget = TextInput()
    inputmode = "decimal"
    message = "Saisissez un nombre."

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update({"inputmode": self.inputmode, "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.saisie: str | None = None

    def _value(self):
        if self.saisie is not None:
            return self.saisie
        return "" if self.data is None else self.ecrire(self.data)

    def ecrire(self, valeur) -> str:
        return str(valeur)

    @abstractmethod
    def lire(self, texte: str):
        """La valeur de `texte` (saisie non vide, sans espaces) ; ValueError ou ArithmeticError sinon."""

    def verifier(self, valeur) -> None:
        """Rien à vérifier de plus par défaut."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.saisie = valuelist[0]
        self.data = None
        texte = re.sub(r"\s", "", valuelist[0] or "")
        if not texte:
            return
        try:
            valeur = self.lire(texte)
        except (ValueError, ArithmeticError):
            raise ValueError(self.message) from None
        if valeur is not None:
            self.verifier(valeur)
        self.data = valeur


def lire_montant(texte: str | None) -> Decimal | None:
    """« 1 234,50 », « 1234.5 », « 1 234 € » → Decimal ; vide → None ; illisible → ValueError."""
    if texte is None:
        return None
    nettoye = re.sub(r"[\s\u00a0\u202f€]", "", texte)
    if not nettoye:
        return None
    if re.fullmatch(r"-?\d+([.,]\d+)?", nettoye) is None:
        raise ValueError(texte)
    try:
        return Decimal(nettoye.replace(",", "."))
    except InvalidOperation as erreur:
        raise ValueError(texte) from erreur


def ecrire_montant(montant: Decimal | None) -> str:
    if montant is None:
        return ""
    entier, _, decimales = f"{montant:,.2f}".replace(",", " ").partition(".")
    return entier if decimales == "00" else f"{entier},{decimales}"


class MontantField(SaisieGardee):
    """Un montant en euros saisi à la française (« 1 250,50 », « 1250.5 € »)."""

    message = "Saisissez un montant en euros, par exemple 1 250,50."

    def ecrire(self, valeur) -> str:
        return ecrire_montant(valeur)

    def lire(self, texte: str) -> Decimal:
        # Une saisie sans chiffre (« € » seul) n'est pas un champ vide : le champ obligatoire l'a acceptée,
        # le service recevrait None (erreur 500 vue par tests/test_routes_proprietes.py).
        valeur = lire_montant(texte)
        if valeur is None:
            raise ValueError(texte)
        return valeur

    def verifier(self, valeur: Decimal) -> None:
        if valeur < 0:
            raise ValueError("Le montant ne peut pas être négatif.")
        # Le plafond avant l'arrondi : au-delà de 28 chiffres, `quantize` lève InvalidOperation.
        if valeur > MONTANT_MAX:
            raise ValueError("Ce montant est trop élevé.")
        if valeur != valeur.quantize(Decimal("0.01")):
            raise ValueError("Le montant s’exprime en euros et centimes (deux décimales au plus).")


class SaisieRequise(InputRequired):
    """`InputRequired` (même attribut `required`) pour un champ à saisie lue (`SaisieGardee`) : des blancs
    seuls (« ␣ », une espace insécable), que `process_formdata` lit comme un champ vide, ne sont pas une
    saisie ; `InputRequired`, qui ne regarde que le texte envoyé, les laissait passer, et le service
    recevait None (erreur 500 sur l'échéancier, trouvée par tests/test_routes_proprietes.py)."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if field.data is None and not field.process_errors:
            field.errors[:] = []
            raise StopValidation(self.message)


def montant_requis(libelle: str, message: str, **options) -> MontantField:
    """Un montant obligatoire : `message` si rien n'est saisi ; `options` : description…"""
    return MontantField(libelle, validators=[SaisieRequise(message)], **options)


# --- Attributs HTML des widgets -------------------------------------------------------------------------


def html_params(**kwargs) -> Markup:
    """`wtforms.widgets.html_params`, même HTML au caractère près (tests/unit/test_attributs_html.py) :
    attributs triés par nom, `data_`/`aria_` en tirets, True seul, False omis, noms et valeurs échappés
    (le guillemet d'une valeur déjà sûre en `&quot;`). Sans le `Markup.format` que WTForms fait par
    attribut (un formateur de chaînes complet) : chaque champ de formulaire rendu passe par ici, une
    quinzaine par vue d'un dossier d'instructeur, le cinquième du temps de son gabarit. Les noms d'attributs,
    ceux des arguments du code, sont nettoyés et échappés une fois par processus (`_nom_d_attribut`) ; un
    texte (str) s'échappe en un appel (`echapper` : les mêmes entités, et plus de guillemet à
    remplacer)."""
    morceaux = []
    for cle, valeur in sorted(kwargs.items()):
        cle = _NOMS_D_ATTRIBUTS.get(cle) or _nom_d_attribut(cle)
        if valeur is True:
            morceaux.append(cle)
        elif valeur is not False:
            texte = echapper(valeur) if type(valeur) is str else str(escape(valeur)).replace('"', "&quot;")
            morceaux.append(f'{cle}="{texte}"')
    return Markup(" ".join(morceaux))


# Nom d'argument (« class_ », « aria_required »…) → nom d'attribut échappé (« class », « aria-required »).
_NOMS_D_ATTRIBUTS: dict[str, str] = {}
_NOMS_D_ATTRIBUTS_MAX = 512  # des noms écrits dans le code ; au-delà, plus rien n'est gardé


def _nom_d_attribut(cle: str) -> str:
    nom = str(escape(widgets_wtforms.clean_key(cle)))
    if len(_NOMS_D_ATTRIBUTS) < _NOMS_D_ATTRIBUTS_MAX:
        _NOMS_D_ATTRIBUTS[cle] = nom
    return nom


# Le module des widgets de WTForms lit `html_params` à chaque appel (zone de texte, liste, option,
# étiquette) ; ses classes `Input` et `Button` en gardent une copie.
html_params_de_wtforms = widgets_wtforms.html_params
widgets_wtforms.html_params = wtforms.widgets.html_params = html_params
widgets_wtforms.Input.html_params = widgets_wtforms.Button.html_params = staticmethod(html_params)


# --- Champs cachés -------------------------------------------------------------------------------------


def _attribut(valeur) -> str:
    """Une valeur d'attribut HTML échappée comme le fait `wtforms.widgets.html_params`."""
    return str(escape(valeur)).replace('"', "&quot;")


class EntreeCachee(HiddenInput):
    """Le widget de tout `HiddenField`, jeton CSRF compris (voir plus bas) : écrit directement
    `<input id=… name=… type="hidden" value=…>`, attributs dans l'ordre alphabétique de `html_params`.
    WTForms y passe ~200 appels de fonctions (tri des attributs, `dir()` des drapeaux du champ,
    `Markup.format` par attribut) ; une vue de dossier en rend une quinzaine. Un rendu avec des attributs
    (`form.version(class_=…)`, `render_kw`), une liste de suggestions ou un champ désactivé passe par
    WTForms, inchangé."""

    def __call__(self, field, **kwargs):
        if kwargs or getattr(field, "_datalist", None) is not None or "disabled" in vars(field.flags):
            return super().__call__(field, **kwargs)
        return Markup(
            f'<input id="{_attribut(field.id)}" name="{_attribut(field.name)}" type="hidden" '
            f'value="{_attribut(field._value())}">'
        )


# Le widget de la classe : les `HiddenField` des formulaires et le jeton CSRF de Flask-WTF
# (`CSRFTokenField`, une sous-classe) le prennent tous, sans que chaque formulaire ait à le nommer.
HiddenField.widget = EntreeCachee()


# --- Formulaires d'action ------------------------------------------------------------------------------


class VersionForm(FlaskForm):
    """Une action sans autre saisie (prendre en charge, ouvrir le vote, désactiver…) avec la version lue ;
    la base des formulaires qui en ont une."""

    version = HiddenField()


class ConfirmationForm(FlaskForm):
    """Un bouton d'action confirmé par un POST (retrait, révocation, acceptation) : le jeton CSRF suffit."""
