"""Ce que chaque requête payait, fait une fois par processus : le catalogue des messages de WTForms."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField
from wtforms.validators import InputRequired


class _Formulaire(FlaskForm):
    class Meta:
        csrf = False

    nombre = IntegerField()
    obligatoire = IntegerField(validators=[InputRequired()])


def _erreurs(app) -> tuple[dict, object]:
    with app.test_request_context("/", method="POST"):
        app.preprocess_request()
        form = _Formulaire(formdata=MultiDict({"nombre": "douze"}))
        form.validate()
        return form.errors, request.wtforms_translations


def test_messages_de_wtforms_en_francais_lus_une_fois_par_processus(app):
    erreurs, catalogue = _erreurs(app)
    assert erreurs == {"nombre": ["N'est pas un entier valide."], "obligatoire": ["Ce champ est requis."]}
    _, catalogue_suivant = _erreurs(app)
    assert catalogue_suivant is catalogue  # le même objet : pas relu à la requête suivante
