"""Le widget `ListeLongue` (filtres de l'espace d'instruction) écrit les options sans `html_params` : son HTML
doit rester celui du widget `Select` de WTForms, options choisies, valeurs et libellés à échapper compris."""

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import Select

from forms.champs import ListeDeChoix, ListeLongue

CHOIX = [
    SelectChoice("", "Tous"),
    SelectChoice("12", "Quartier « Les Îles » & co"),
    SelectChoice("13", 'Cité "Soleil" <b>'),
    SelectChoice("a'b"),
    SelectChoice("vide", ""),
    SelectChoice("deja", Markup("<em>Déjà</em> échappé")),
    SelectChoice(True, "Vrai"),
    SelectChoice(7, "Sept"),
]
ENTIERS = [SelectChoice(0, "— Aucun —"), SelectChoice(7, "Sept"), SelectChoice(12, "Douze & <co>")]


def _champ(classe, widget, valeur, choix=CHOIX, **options):
    class Filtres(Form):
        qpv = classe("Quartier prioritaire", choices=choix, widget=widget, **options)

    return Filtres(MultiDict({"qpv": valeur}) if valeur is not None else None).qpv


@pytest.mark.parametrize("classe", [ListeDeChoix, SelectField])
@pytest.mark.parametrize(
    ("choix", "options"),
    [(CHOIX, {}), (ENTIERS, {"coerce": int}), (CHOIX, {"validators": [InputRequired()]})],
    ids=["textes", "entiers", "requis"],
)
def test_meme_html_que_le_widget_de_wtforms(classe, choix, options):
    """`ListeDeChoix` : les options écrites en une passe ; `SelectField` : par `render_option`."""
    for valeur in (None, "", "12", "13", "a'b", "True", "7", "0", "vide", "deja", "inconnu"):
        liste_longue = _champ(classe, ListeLongue(), valeur, choix, **options)
        select = _champ(SelectField, Select(), valeur, choix, **options)
        assert liste_longue() == select(), valeur
        classe_css = {"class_": "fr-select", "aria_describedby": "aide"}
        assert liste_longue(**classe_css) == select(**classe_css)


@pytest.mark.parametrize("classe", [ListeDeChoix, SelectField])
def test_une_option_avec_ses_attributs_ou_un_groupe_passe_par_wtforms(classe):
    for choix in (
        [SelectChoice("1", "Un", {"disabled": True}), SelectChoice("2", "Deux")],
        [SelectChoice("", "Tous"), SelectChoice("1", "Un", optgroup="Groupe")],
    ):

        class Filtres(Form):
            avec = classe("Avec", widget=ListeLongue(), choices=choix)
            sans = SelectField("Avec", widget=Select(), choices=choix)

        formulaire = Filtres()
        assert formulaire.avec().replace('id="avec" name="avec"', "") == formulaire.sans().replace(
            'id="sans" name="sans"', ""
        )
        assert "disabled" in formulaire.avec() or "<optgroup" in formulaire.avec()
