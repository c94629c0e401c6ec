"""Les champs cachés (`HiddenField`, jeton CSRF de Flask-WTF) écrits par `forms.champs.EntreeCachee` : le
même HTML que le widget `HiddenInput` de WTForms, quelle que soit la valeur (échappement, guillemets,
valeur absente, saisie relue), et les rendus avec attributs passés à WTForms tels quels."""

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField
from wtforms.csrf.core import CSRFTokenField
from wtforms.widgets import HiddenInput

from forms.champs import EntreeCachee, VersionForm
from forms.validators import FormulaireSimple

WTFORMS = HiddenInput()
VALEURS = [
    None,
    "",
    "3",
    7,
    0,
    'Cité "Soleil" <b> & l\'île',
    Markup('déjà "sûr" <i>'),
    "é\u00a0ü\nligne",
]


def _formulaire(valeur, saisie=None, **options):
    class Formulaire(FormulaireSimple):
        version = HiddenField(default=valeur, **options)
        jeton_x = HiddenField("Jeton", default=valeur, **options)

    return Formulaire(None if saisie is None else MultiDict(saisie))


def test_tout_hiddenfield_et_le_jeton_csrf_prennent_le_widget_direct():
    assert isinstance(HiddenField.widget, EntreeCachee)
    assert issubclass(CSRFTokenField, HiddenField) and "widget" not in vars(CSRFTokenField)


@pytest.mark.parametrize("valeur", VALEURS, ids=repr)
def test_le_meme_html_que_wtforms(valeur):
    formulaire = _formulaire(valeur)
    for champ in (formulaire.version, formulaire.jeton_x):
        assert str(champ) == WTFORMS(champ)
        assert isinstance(champ(), Markup)


@pytest.mark.parametrize("saisie", ["12", 'a"b<c>&d', ""], ids=repr)
def test_le_meme_html_que_wtforms_apres_une_saisie(saisie):
    formulaire = _formulaire("1", {"version": saisie, "jeton_x": saisie})
    for champ in (formulaire.version, formulaire.jeton_x):
        assert champ() == WTFORMS(champ)


def test_les_attributs_passes_au_rendu_ou_au_champ_passent_par_wtforms():
    formulaire = _formulaire("1", render_kw={"data_role": "version"})
    assert formulaire.version() == WTFORMS(formulaire.version, data_role="version")
    assert 'data-role="version"' in formulaire.version()
    formulaire = _formulaire("1")
    attributs = {"class_": "x", "disabled": True}
    assert formulaire.version(**attributs) == WTFORMS(formulaire.version, **attributs)
    assert formulaire.version(value="2") == WTFORMS(formulaire.version, value="2")


def test_hidden_tag_d_un_formulaire_flask_wtf_avec_son_jeton(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        with app.test_request_context("/"):
            formulaire = VersionForm(version="4")
            attendu = "\n".join(WTFORMS(champ) for champ in (formulaire.version, formulaire.csrf_token))
            assert formulaire.hidden_tag() == attendu
            assert 'name="csrf_token" type="hidden" value="' in attendu
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
