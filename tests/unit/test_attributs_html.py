"""`forms.champs.html_params` remplace celui de WTForms (widgets de tous les formulaires) : même HTML au
caractère près, attributs triés, `data_`/`aria_` en tirets, booléens, valeurs (texte, nombre, `Markup`) et
noms échappés. Et les widgets de WTForms s'en servent bien."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import core

from forms.champs import html_params, html_params_de_wtforms

CAS = [
    {},
    {"name": "texte", "id": "f", "class_": "fr-input"},
    {"checked": True, "readonly": False, "name": "case", "abc": "hello"},
    {"data_attr": "user.name", "aria_labeledby": "nom", "aria_describedby": "a b"},
    {"value": 'Cité "Soleil" <b> & l\'île'},
    {"value": Markup('<em title="x">déjà</em> échappé')},
    {"maxlength": 5000, "rows": 3, "value": None, "min": 0, "step": 0.5},
    {"for_": "champ", "data_x_y": "z", "aria_required": "true", "required": True},
    {"<k>": "v", "a&b": 1},
]


@pytest.mark.parametrize("attributs", CAS)
def test_meme_html_que_wtforms(attributs):
    attendu = html_params_de_wtforms(**attributs)
    obtenu = html_params(**attributs)
    assert obtenu == attendu
    assert type(obtenu) is Markup


VALEURS = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.integers(),
    st.none(),
    st.text(max_size=12).map(Markup),
)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), VALEURS, max_size=6))
def test_meme_html_que_wtforms_quels_que_soient_les_attributs(attributs):
    assert html_params(**attributs) == html_params_de_wtforms(**attributs)


def test_les_widgets_de_wtforms_s_en_servent():
    assert core.html_params is html_params
    assert core.Input.html_params is html_params

    class Saisie(Form):
        montant = StringField("Montant", [InputRequired()], render_kw={"inputmode": "decimal"})
        texte = TextAreaField("Texte", [Length(max=50)])
        choix = SelectField("Choix", choices=[SelectChoice("a", 'A "1"'), SelectChoice("b", "B & <b>")])

    form = Saisie(MultiDict({"montant": '4 500 "x"', "texte": "<p>", "choix": "b"}))
    assert form.montant(class_="fr-input") == (
        '<input class="fr-input" id="montant" inputmode="decimal" name="montant" required type="text" '
        'value="4 500 &#34;x&#34;">'
    )
    assert (
        form.texte(rows=3)
        == '<textarea id="texte" maxlength="50" name="texte" rows="3">\r\n&lt;p&gt;</textarea>'
    )
    assert form.choix() == (
        '<select id="choix" name="choix"><option value="a">A &#34;1&#34;</option>'
        '<option selected value="b">B &amp; &lt;b&gt;</option></select>'
    )
    assert form.montant.label() == '<label for="montant">Montant</label>'
