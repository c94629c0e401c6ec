"""Le widget `ListeLongue` (filtres de l'espace d'instruction) écrit les options sans `html_params` : son HTML
doit rester celui du widget `Select` de WTForms, options choisies, valeurs et libellés à échapper compris."""

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from forms.champs import ListeLongue

CHOIX = [
    SelectChoice("", "Tous"),
    SelectChoice("12", "Quartier « Les Îles » & co"),
    SelectChoice("13", 'Cité "Soleil" <b>'),
    SelectChoice("a'b"),
    SelectChoice(True, "Vrai"),
    SelectChoice(7, "Sept"),
]


def _champ(widget, valeur, **options):
    class Filtres(Form):
        qpv = SelectField("Quartier prioritaire", choices=CHOIX, widget=widget, **options)

    return Filtres(MultiDict({"qpv": valeur}) if valeur is not None else None).qpv


def test_meme_html_que_le_widget_de_wtforms():
    for valeur in (None, "", "12", "13", "a'b", "True", "7", "inconnu"):
        assert _champ(ListeLongue(), valeur)() == _champ(Select(), valeur)(), valeur
        classe = {"class_": "fr-select"}
        assert _champ(ListeLongue(), valeur)(**classe) == _champ(Select(), valeur)(**classe)


def test_une_option_avec_ses_attributs_passe_par_wtforms():
    options = {"choices": [SelectChoice("1", "Un", {"disabled": True}), SelectChoice("2", "Deux")]}

    class Filtres(Form):
        avec = SelectField("Avec", widget=ListeLongue(), **options)
        sans = SelectField("Avec", widget=Select(), **options)

    formulaire = Filtres()
    assert formulaire.avec().replace('id="avec" name="avec"', "") == formulaire.sans().replace(
        'id="sans" name="sans"', ""
    )
    assert "disabled" in formulaire.avec()
