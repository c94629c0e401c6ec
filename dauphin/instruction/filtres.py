"""Les filtres de l'espace de travail, lus dans l'adresse de la page (GET) : une valeur inconnue (lien
ancien, saisie dans l'adresse) est ignorée, jamais une erreur ; une recherche trop courte reste dans le
champ, avec l'explication."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from dauphin.services import instruction as service
from forms.instruction import FiltresForm
from workflows import StatutDemande, StatutLigne

ANNEES_ADMISES = range(2000, 2101)


def statuts_proposes(espace: service.Espace) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(libellé du groupe, ((valeur, libellé), …)) pour la liste des statuts."""
    return _statuts_du_mode(espace.mode)


@cache
def _statuts_du_mode(mode: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Ceux de `statuts_proposes`, qui ne dépendent que du mode de l'espace : écrits une fois par processus
    (deux fois par page sinon, pour la liste et pour lire le statut choisi)."""
    groupes = [
        (
            "Statut du dossier",
            tuple((s.value, s.libelle) for s in StatutDemande if s not in service.NON_TRANSMIS),
        )
    ]
    if mode == "financeur":
        groupes.append(
            ("Statut de la ligne de votre organisation", tuple((s.value, s.libelle) for s in StatutLigne))
        )
    return tuple(groupes)


@cache
def _valeurs_de_statut(mode: str) -> frozenset[str]:
    return frozenset(valeur for _, choix in _statuts_du_mode(mode) for valeur, _ in choix)


@dataclass
class FiltresLus:
    form: FiltresForm
    filtres: service.Filtres
    statut: str  # la valeur retenue de la liste des statuts ("" : tous)


def _proposer(form: FiltresForm, options: service.OptionsFiltres, exercice_demande: int | None) -> None:
    form.contrat.choices = [SelectChoice("", "Tous les contrats")] + [
        SelectChoice(str(i), libelle) for i, libelle in options.contrats
    ]
    exercices = list(options.exercices)
    if exercice_demande in ANNEES_ADMISES and exercice_demande not in exercices:
        exercices = sorted([*exercices, exercice_demande], reverse=True)  # exercice sans enveloppe : gardé
    form.exercice.choices = [SelectChoice("", "Tous les exercices")] + [
        SelectChoice(str(a), str(a)) for a in exercices
    ]
    form.thematique.choices = [SelectChoice("", "Toutes les thématiques")] + [
        SelectChoice(t.code, ("\u2003" if t.parent_code else "") + f"{t.code} — {t.libelle}")
        for t in options.thematiques
    ]
    form.qpv.choices = [SelectChoice("", "Tous les quartiers")] + [
        SelectChoice(str(q.id), f"{q.libelle} ({q.code})") for q in options.qpvs
    ]


def _entier(valeur: str | None) -> int | None:
    return int(valeur) if valeur else None


def _filtres(
    form: FiltresForm, options: service.OptionsFiltres, espace, utilisateur_id: int
) -> service.Filtres:
    filtres = service.Filtres(
        contrat_id=_entier(form.contrat.data),
        exercice=_entier(form.exercice.data),
        qpv_id=_entier(form.qpv.data),
        recherche=(form.q.data or "").strip() or None,
    )
    if form.thematique.data:  # un pilier : lui et ses sous-thèmes
        code = form.thematique.data
        filtres.thematiques = [t.code for t in options.thematiques if code in (t.code, t.parent_code)]
    if espace.mode == "financeur" and form.gestionnaire.data == "moi":
        filtres.gestionnaire_id = utilisateur_id
    return filtres


def _statut(args: MultiDict, espace, filtres: service.Filtres) -> str:
    statut = args.get("statut") or ""
    if statut not in _valeurs_de_statut(espace.mode):
        return ""
    if statut in StatutDemande.__members__:
        filtres.statut_dossier = StatutDemande(statut)
    else:
        filtres.statut_ligne = StatutLigne(statut)
    return statut


def lire(args: MultiDict, espace, options: service.OptionsFiltres, utilisateur_id: int) -> FiltresLus:
    form = FiltresForm(args)
    _proposer(form, options, args.get("exercice", type=int))
    form.validate()
    for champ in (form.q, form.contrat, form.exercice, form.thematique, form.qpv, form.gestionnaire):
        if champ.errors:  # une valeur inconnue est ignorée
            champ.data, champ.errors = "", []
    filtres = _filtres(form, options, espace, utilisateur_id)
    if service.recherche_courte(filtres.recherche):  # le texte reste dans le champ, avec l'explication
        form.q.errors = [
            f"Saisissez au moins {service.RECHERCHE_MIN} caractères pour chercher dans les numéros, "
            "les intitulés et les noms des structures. Avec moins, seul le sigle exact d’une structure "
            "est cherché."
        ]
    statut = _statut(args, espace, filtres)
    filtres.structure_id = args.get("structure", type=int)
    return FiltresLus(form, filtres, statut)
