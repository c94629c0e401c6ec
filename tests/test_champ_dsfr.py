"""Le composant « champ » écrit en Python (dauphin.dsfr.champ) rend, octet pour octet, le HTML de l'ancienne
macro dsfr.champ (gardée ici seulement, comme oracle) : chaque champ de chaque formulaire de forms/, vierge
puis soumis avec des données invalides (erreurs affichées), avec et sans indication ni paramètres."""

# ruff: noqa: E501 (l'oracle garde les lignes de l'ancienne macro telles quelles)

from __future__ import annotations

import contextlib
import inspect
import pkgutil
from importlib import import_module

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import FieldList, FormField
from wtforms.fields.choices import SelectChoice

import forms
from dauphin.dsfr import champ

# L'ancienne macro, telle qu'elle était dans macros/dsfr.html (oracle du test).
ANCIENNE_MACRO = """
{%- macro champ(field, indication=None) -%}
{%- set type_champ = field.type -%}
{%- if type_champ in ('HiddenField', 'CSRFTokenField') -%}
{{ field(**kwargs) }}
{%- elif type_champ == 'SubmitField' -%}
<button class="fr-btn" type="submit" id="{{ field.id }}" name="{{ field.name }}" value="{{ field.label.text }}">{{ field.label.text }}</button>
{%- else -%}
{%- set indication = indication or field.description or None -%}
{%- set id_erreur = field.id ~ '-erreur' -%}
{%- set id_indication = field.id ~ '-indication' -%}
{%- set erreurs = field.errors if field.errors is sequence and field.errors is not mapping else [] -%}
{%- set attrs = dict(kwargs) -%}
{%- set decrit_par = [] -%}
{%- if attrs['aria-describedby'] is defined %}{% set _ = decrit_par.append(attrs['aria-describedby']) %}{% endif -%}
{%- if erreurs %}{% set _ = decrit_par.append(id_erreur) %}{% endif -%}
{%- if decrit_par %}{% set _ = attrs.update({'aria-describedby': decrit_par|join(' ')}) %}{% endif -%}
{%- if erreurs %}{% set _ = attrs.update({'aria-invalid': 'true'}) %}{% endif -%}
{%- if field.flags.required %}{% set _ = attrs.update({'required': true, 'aria-required': 'true'}) %}{% endif -%}
{#- Le libellé (avec son indication) et le message d’erreur, communs à tous les genres de champ. -#}
{%- set libelle %}{{ field.label.text }}
    {%- if indication %}<span class="fr-hint-text" id="{{ id_indication }}">{{ indication }}</span>{% endif %}{% endset -%}
{%- set message_erreur %}{% if erreurs %}<p id="{{ id_erreur }}" class="fr-error-text">{{ erreurs|join(' ') }}</p>{% endif %}{% endset -%}

{%- if type_champ in ('RadioField', 'BoutonsRadio') -%}
{#- Boutons radio : un fieldset DSFR, la légende porte le libellé. -#}
{%- set _ = attrs.pop('aria-describedby', None) -%}
{%- set _ = attrs.pop('aria-invalid', None) -%}
{%- set _ = attrs.pop('aria-required', None) -%}
{%- set _ = attrs.pop('class_', None) -%}
<fieldset class="fr-fieldset{% if erreurs %} fr-fieldset--error{% endif %}" id="{{ field.id }}" {% if erreurs %}aria-labelledby="{{ field.id }}-legende {{ id_erreur }}" role="group"{% else %}aria-labelledby="{{ field.id }}-legende"{% endif %}>
  <legend class="fr-fieldset__legend fr-fieldset__legend--regular" id="{{ field.id }}-legende">
    {{ libelle }}
  </legend>
  {%- for option in field %}
  <div class="fr-fieldset__element">
    <div class="fr-radio-group">
      {{ option(**attrs) }}
      <label class="fr-label" for="{{ option.id }}">{{ option.label.text }}</label>
    </div>
  </div>
  {%- endfor %}
  {{ message_erreur }}
</fieldset>

{%- else -%}
{#- Case à cocher, liste, fichier ou saisie : un groupe DSFR fr-<genre>-group avec libellé, champ et message. -#}
{%- set genre = 'checkbox' if type_champ == 'BooleanField'
    else 'select' if 'Select' in type_champ or type_champ in ('ListeDeChoix', 'ChoixMultiple')
    else 'upload' if 'FileField' in type_champ else 'input' -%}
{%- if genre == 'checkbox' -%}
{%- set _ = attrs.pop('class_', None) -%}
{%- else -%}
{%- set erreur_saisie = ' fr-input--error' if genre == 'input' and erreurs else '' -%}
{%- set _ = attrs.update({'class_': ('fr-' ~ genre ~ erreur_saisie ~ ' ' ~ attrs.get('class_', ''))|trim}) -%}
{%- endif -%}
<div class="fr-{{ genre }}-group{% if erreurs %} fr-{{ genre }}-group--error{% endif %}">
  {%- if genre == 'checkbox' %}
  {{ field(**attrs) }}
  {%- endif %}
  <label class="fr-label" for="{{ field.id }}">
    {{ libelle }}
  </label>
  {%- if genre != 'checkbox' %}
  {{ field(**attrs) }}
  {%- endif %}
  {{ message_erreur }}
</div>
{%- endif -%}
{%- endif -%}
{%- endmacro %}
"""

CHOIX = [
    SelectChoice("1", "Choisir"),
    SelectChoice("2", "Première <option>"),
    SelectChoice("3", "Seconde & « fin »"),
]
VARIANTES = [
    ({}, None),
    ({"rows": 3}, None),
    ({"class_": "fr-mt-2w", "disabled": True}, None),
    ({"aria-describedby": "aide-externe", "autocomplete": "off"}, "Une indication <b>échappée</b>"),
    ({"inputmode": "numeric"}, Markup("Une indication <em>déjà sûre</em>")),
]


def classes_de_formulaires() -> list[type]:
    classes = {}
    for module in pkgutil.iter_modules(forms.__path__):
        for _, classe in inspect.getmembers(import_module(f"forms.{module.name}"), inspect.isclass):
            if issubclass(classe, Form) and classe.__module__.startswith("forms."):
                classes[f"{classe.__module__}.{classe.__qualname__}"] = classe
    return [classes[nom] for nom in sorted(classes)]


def champs_de(formulaire):
    for field in formulaire:
        if isinstance(field, FormField):
            yield from champs_de(field.form)
        elif isinstance(field, FieldList):
            if not field.entries:
                field.append_entry()
            for entree in field.entries:
                yield from (champs_de(entree.form) if isinstance(entree, FormField) else [entree])
        else:
            if getattr(field, "choices", 0) is None:
                field.choices = CHOIX
            yield field


def instances(classe):
    """Le formulaire vierge (avec son jeton CSRF), puis soumis avec des données invalides et validé."""
    try:
        vierge = classe(meta={"csrf": True}) if issubclass(classe, forms.champs.FlaskForm) else classe()
    except TypeError:
        pytest.skip(f"{classe.__name__} demande des paramètres")
    yield vierge
    for valeur in ("", "x<&>\"'", "-1"):
        donnees = MultiDict({field.name: valeur for field in champs_de(vierge)})
        soumis = (
            classe(donnees, meta={"csrf": False})
            if hasattr(classe, "validate_on_submit")
            else classe(donnees)
        )
        list(champs_de(soumis))
        with contextlib.suppress(Exception):
            soumis.validate()
        for field in champs_de(soumis):
            if not field.errors and not isinstance(field.errors, dict):
                field.errors = ["Message <b>avec</b> balise", Markup("Message <i>sûr</i>")]
        yield soumis


@pytest.mark.parametrize("classe", classes_de_formulaires(), ids=lambda classe: classe.__qualname__)
def test_le_composant_rend_le_html_de_l_ancienne_macro(app, classe):
    oracle = app.jinja_env.from_string(ANCIENNE_MACRO).module.champ
    vus = 0
    with app.test_request_context("/"):
        for formulaire in instances(classe):
            for field in champs_de(formulaire):
                for parametres, indication in VARIANTES:
                    attendu = oracle(field, indication, **parametres)
                    obtenu = champ(field, indication, **parametres)
                    assert isinstance(obtenu, Markup)
                    assert str(obtenu) == str(attendu), (field.name, field.type, parametres)
                    vus += 1
    if not vus:
        pytest.skip(f"{classe.__name__} : aucun champ (classe de base)")
