"""Le champ DSFR (dauphin.dsfr.champ) face à des valeurs hostiles : même HTML que l’ancienne macro."""

from markupsafe import Markup
from wtforms import BooleanField, Form, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from dauphin.dsfr import champ
from tests.test_champ_dsfr import ANCIENNE_MACRO


class F(Form):
    a = StringField(
        Markup("Lib <abbr>QPV</abbr>"), description=Markup("<em>d</em>"), validators=[DataRequired()]
    )
    b = StringField('L"<>', description='d"<>')
    c = BooleanField("c<")
    d = RadioField("d", choices=[SelectChoice("1", "<un>"), SelectChoice("2", Markup("<b>deux</b>"))])
    e = SelectField("e", choices=[SelectChoice("x", "x<")])
    f = TextAreaField("f")


VARIANTES = [
    {"class_": Markup('<x a="b">')},
    {"class_": None},
    {"aria-describedby": Markup('a" b')},
    {"aria-describedby": 'a" <b>'},
    {"data_x": 'q"<', "title": Markup("&amp;")},
    {"id": 'x"y'},
]


def test_champ_adverse(app):
    oracle = app.jinja_env.from_string(ANCIENNE_MACRO).module.champ
    with app.test_request_context("/"):
        for erreurs in ([], ["e<"], [Markup("<i>s</i>"), "t&"], ("tu<",)):
            form = F()
            for field in form:
                field.errors = erreurs
                for v in VARIANTES:
                    for ind in (None, "", Markup("<b>i</b>"), 'i"<'):
                        assert str(champ(field, ind, **v)) == str(oracle(field, ind, **v)), (
                            field.name,
                            v,
                            ind,
                            erreurs,
                        )
