"""Les listes de choix de forms.champs (`ListeDeChoix`, `ChoixMultiple`, `BoutonsRadio`) : le même HTML et les
mêmes erreurs que les champs de WTForms qu'elles remplacent, sans renormaliser leurs options à chaque rendu
ni à chaque validation ; une liste de tuples reste signalée (dépréciée par WTForms 3.3)."""

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, RadioField, SelectField, SelectMultipleField
from wtforms.fields import choices as wtforms_choices
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import core as widgets_core

from forms.champs import (
    OUI_NON,
    BoutonsRadio,
    ChoixMultiple,
    ListeDeChoix,
    ListeLongue,
    options,
    options_enum,
)
from forms.validators import FormulaireSimple
from workflows import StatutDemande

TEXTES = [
    SelectChoice("", "— Choisir —"),
    SelectChoice("a", "Quartier « Les Îles » & co"),
    SelectChoice("b", 'Cité "Soleil" <b>', {"disabled": True}),
    SelectChoice("c"),
]
ENTIERS = [SelectChoice(0, "— Aucun —"), SelectChoice(1, "Un"), SelectChoice(2, "Deux")]
GROUPES = [
    SelectChoice("", "Tous"),
    SelectChoice("depose", "Déposé", optgroup="Statut du dossier"),
    SelectChoice("vote", "Voté", optgroup="Statut de la ligne"),
]
SAISIES = [None, [], [""], ["a"], ["b"], ["c"], ["zzz"], ["1"], ["2"], ["x"], ["a", "c"], ["1", "zzz"]]


def _paire(classe_wtforms, classe_maison, choix, saisie, **options):
    """Le même champ, chez WTForms et ici, sur la même saisie, dans un formulaire aux messages français."""

    class Formulaire(FormulaireSimple):
        wtforms = classe_wtforms("Choix", choices=list(choix), **options)
        maison = classe_maison("Choix", choices=list(choix), **options)

    donnees = (
        None if saisie is None else MultiDict([(nom, v) for nom in ("wtforms", "maison") for v in saisie])
    )
    formulaire = Formulaire(donnees)
    formulaire.validate()
    return formulaire.wtforms, formulaire.maison


def _rendu(champ, **kwargs) -> tuple[str, list, object]:
    """Ce que l'usager voit et ce que la vue lit : le HTML (nom du champ ramené au même), erreurs, données."""
    return champ(**kwargs).replace("maison", "wtforms"), champ.errors, champ.data


@pytest.mark.parametrize("saisie", SAISIES, ids=repr)
@pytest.mark.parametrize(
    ("choix", "options"),
    [
        (TEXTES, {}),
        (ENTIERS, {"coerce": int}),
        (GROUPES, {}),
        (TEXTES, {"validate_choice": False}),
        (TEXTES, {"invalid_choice_message": "Choisissez un quartier de la liste."}),
    ],
    ids=["textes", "entiers", "groupes", "sans-controle", "message"],
)
def test_meme_html_et_memes_erreurs_que_wtforms(choix, options, saisie):
    for classe_wtforms, classe_maison, attributs in (
        (SelectField, ListeDeChoix, {"class_": "fr-select"}),
        (RadioField, BoutonsRadio, {}),
        (SelectMultipleField, ChoixMultiple, {}),
    ):
        champ_wtforms, champ_maison = _paire(classe_wtforms, classe_maison, choix, saisie, **options)
        assert _rendu(champ_maison, **attributs) == _rendu(champ_wtforms, **attributs), classe_maison


def test_le_message_d_un_choix_impossible_est_en_francais():
    _, champ = _paire(SelectField, ListeDeChoix, TEXTES, ["zzz"])
    assert champ.errors == ["N'est pas un choix valide."]
    _, champ = _paire(SelectMultipleField, ChoixMultiple, TEXTES, ["a", "zzz"])
    assert champ.errors == ["«\u00a0zzz\u00a0» n'est pas un choix valide pour ce champ."]


def test_les_options_ne_sont_pas_renormalisees_au_rendu_ni_a_la_validation(monkeypatch):
    """Le coût que ces champs évitent : `SelectChoice.from_input` et `_normalize_iter_choice` par option, à
    chaque passe, et `inspect.signature` à chaque rendu d'une liste déroulante."""

    def interdit(*args, **kwargs):
        raise AssertionError("appel évité par forms.champs")

    class Formulaire(Form):
        liste = ListeDeChoix("Liste", choices=TEXTES)
        longue = ListeDeChoix("Longue", choices=TEXTES, widget=ListeLongue())
        groupes = ListeDeChoix("Groupes", choices=GROUPES)
        radio = BoutonsRadio("Radio", choices=OUI_NON)
        multiple = ChoixMultiple("Multiple", choices=ENTIERS, coerce=int)

    formulaire = Formulaire(
        MultiDict({"liste": "a", "longue": "299", "radio": "oui", "multiple": "1", "groupes": "vote"})
    )
    formulaire.longue.choices = [SelectChoice(str(i), f"Quartier {i}") for i in range(300)]
    monkeypatch.setattr(SelectChoice, "from_input", interdit)
    monkeypatch.setattr(wtforms_choices, "_normalize_iter_choice", interdit)
    monkeypatch.setattr(widgets_core, "get_signature", interdit)
    assert formulaire.validate(), formulaire.errors
    for champ in formulaire:
        assert "<" in champ()
    groupes = formulaire.groupes()
    assert '<optgroup label="Statut de la ligne"><option selected value="vote">Voté</option>' in groupes


def test_des_tuples_poses_par_une_vue_restent_signales():
    """Donnés à la déclaration, WTForms les signale ; posés par une vue (`champ.choices = …`), il se tait :
    ces champs les signalent au premier usage, et la suite change l'avertissement en erreur (pyproject)."""
    formulaire = type("F", (Form,), {"liste": ListeDeChoix("Liste", choices=[])})()
    formulaire.liste.choices = [("a", "A"), ("b", "B")]
    with pytest.warns(DeprecationWarning, match="Passing SelectField choices as tuples is deprecated"):
        html = formulaire.liste()
    assert '<option value="a">A</option>' in html
    with pytest.warns(DeprecationWarning, match="as tuples"):
        ListeDeChoix("Liste", choices=[("a", "A")]).bind(formulaire, "autre")


def test_options_et_options_enum():
    assert options([("oui", "Oui"), (2, "Deux")]) == [SelectChoice("oui", "Oui"), SelectChoice(2, "Deux")]
    statuts = options_enum(StatutDemande)
    assert statuts[0] == SelectChoice("brouillon", "Brouillon")
    assert [s.value for s in statuts] == [s.value for s in StatutDemande]
