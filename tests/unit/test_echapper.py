"""`dauphin.socle.echapper_en_markup`, l'échappement des `{{ … }}` des gabarits : le même Markup que
`markupsafe.escape`, quelle que soit la valeur ; et les gabarits de l'application s'en servent bien."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from dauphin.socle import Gabarit, echapper_en_markup
from workflows.statuts import StatutDemande


class AvecHtml:
    def __html__(self):
        return "<b>déjà sûr</b>"

    def __repr__(self):  # l'identifiant du cas : le même dans chaque worker de pytest-xdist
        return "AvecHtml()"


class Texte(str):
    """Une sous-classe de str (ce n'est pas un texte « simple » : markupsafe la convertit)."""


VALEURS = [
    "",
    'Cité "Soleil" <b> & l\'île',
    "&amp; déjà échappé ?",
    Markup('<em>sûr</em> & "x"'),
    AvecHtml(),
    Texte("<i>sous-classe</i>"),
    None,
    0,
    -12,
    3.5,
    True,
    Decimal("1234.50"),
    StatutDemande.transmise,
    ["<a>", "b"],
]


@pytest.mark.parametrize("valeur", VALEURS, ids=repr)
def test_meme_markup_que_markupsafe(valeur):
    obtenu = echapper_en_markup(valeur)
    assert obtenu == escape(valeur) and type(obtenu) is Markup


@given(st.text())
def test_meme_markup_que_markupsafe_quel_que_soit_le_texte(texte):
    obtenu = echapper_en_markup(texte)
    assert obtenu == escape(texte) and type(obtenu) is Markup
    assert "<" not in obtenu and ">" not in obtenu and '"' not in obtenu  # rien d'actif dans la page


def test_un_texte_hostile_est_neutralise():
    assert echapper_en_markup('<script>alert("x")</script> & \'') == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;"
    )


def test_les_gabarits_de_l_application_echappent_par_echapper(app):
    env = app.jinja_env
    gabarit = env.from_string('<p title="{{ a }}">{{ b }}{{ c }}</p>')
    assert isinstance(gabarit, Gabarit)
    assert gabarit.root_render_func.__globals__["escape"] is echapper_en_markup
    assert (
        gabarit.render(a='"x" & <y>', b=Markup("<br>"), c=7)
        == '<p title="&#34;x&#34; &amp; &lt;y&gt;"><br>7</p>'
    )
    assert env.get_template("dossiers/voir.html").root_render_func.__globals__["escape"] is echapper_en_markup
