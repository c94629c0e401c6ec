"""Ce que chaque requête payait, fait une fois par processus : le catalogue des messages de WTForms, les
adresses fixes de la mise en page, les sigles expliqués dans les noms des financeurs."""

from __future__ import annotations

import pytest
from flask import request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField
from wtforms.validators import InputRequired

from dauphin.libelles import expliquer_sigles
from dauphin.urls import url_de_demande, url_fixe, url_par_identifiant


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


def test_url_fixe_comme_url_for_et_par_prefixe_de_l_application(app):
    for prefixe in ("", "/portail", ""):  # gardée par préfixe : l'une ne sert pas pour l'autre
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": prefixe}):
            for endpoint, valeurs in (
                ("public.accessibilite", {}),
                ("dsfr.fichier", {"filename": "dsfr.min.css"}),  # avec la version du DSFR
                ("static", {"filename": "css/dauphin.css"}),
            ):
                assert url_fixe(endpoint, **valeurs) == url_for(endpoint, **valeurs)
            assert url_fixe("public.accessibilite") == f"{prefixe}/accessibilite"


def test_sigles_gardes_par_texte_un_markup_et_un_texte_distincts():
    abbr = '<abbr title="quartier prioritaire de la politique de la ville">QPV</abbr>'
    assert expliquer_sigles(Markup("<b>QPV</b>")) == f"<b>{abbr}</b>"  # déjà du HTML : gardé tel quel
    assert expliquer_sigles("<b>QPV</b>") == f"&lt;b&gt;{abbr}&lt;/b&gt;"  # le même texte brut : échappé
    assert expliquer_sigles("<b>QPV</b>") is expliquer_sigles("<b>QPV</b>")


def test_url_de_demande_comme_url_for(app):
    for prefixe in ("", "/portail"):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": prefixe}):
            for endpoint, valeurs in (
                ("dossiers.voir", {}),
                ("demandes.etape", {"etape": "recapitulatif"}),
                ("justification.formulaire", {"etape": None}),  # comme la prochaine étape sans étape
            ):
                for demande_id in (1, 7, 918273645, 1234567):
                    attendu = url_for(endpoint, demande_id=demande_id, **valeurs)
                    assert url_de_demande(endpoint, demande_id, **valeurs) == attendu
            assert url_de_demande("dossiers.voir", 42) == f"{prefixe}/dossiers/42"


def test_url_par_identifiant_comme_url_for(app):
    """Le lien « filtrer sur la structure » de chaque ligne de l'espace d'instruction : les paramètres de la
    page gardés dans leur ordre, la structure remplacée si elle y est déjà, y compris quand une autre valeur
    contient l'identifiant témoin."""
    for prefixe in ("", "/portail"):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": prefixe}):
            for parametres in (
                {},
                {"espace": "financeur-3", "q": "jeunes & cie", "tri": "montant"},
                {"structure": "12", "espace": "financeur-3", "onglet": "suivies"},
                {"q": "918273645", "espace": "pilote"},
                {"cle": "x", "espace": "pilote"},
            ):
                adresse = url_par_identifiant("instruction.corbeille", "structure", **parametres)
                for ident in (1, 77, 918273645):
                    attendu = url_for("instruction.corbeille", **dict(parametres, structure=ident))
                    assert adresse(ident) == attendu
        with app.test_request_context("/"), pytest.raises(ValueError):
            url_par_identifiant("instruction.corbeille", "structure", _external=True)


def test_url_fixe_refuse_une_adresse_absolue(app):
    """Une adresse absolue porte l'hôte de la requête, que la clé du cache n'a pas : refusée."""
    with app.test_request_context("/", base_url="http://a.example"):
        with pytest.raises(ValueError):
            url_fixe("public.accueil", _external=True)
        with pytest.raises(ValueError):
            url_de_demande("dossiers.voir", 1, _external=True)
