"""Le diagramme Mermaid se déduit de la définition de chaque machine, sans la modifier."""

from __future__ import annotations

import pytest

from workflows import DEMANDE, LIGNE, MACHINES
from workflows.diagramme import mermaid
from workflows.statuts import StatutDemande as S

from .fabriques import JOUR_DEPOT, demande_complete


def _etiquette(transition) -> str:
    """`declencheur [garde1 & garde2]`, comme transitions affiche une transition gardée."""
    if not transition.gardes:
        return transition.declencheur
    return f"{transition.declencheur} [{' & '.join(g.nom for g in transition.gardes)}]"


def _aretes(texte: str) -> list[tuple[str, str, str]]:
    """(source, destination, étiquette) de chaque arête ; transitions réunit en une ligne
    `a --> b: x | y` les déclencheurs qui relient les deux mêmes états."""
    aretes = []
    for ligne in texte.splitlines():
        ligne = ligne.strip()
        if " --> " not in ligne or ligne.startswith("[*]"):
            continue
        source, _, reste = ligne.partition(" --> ")
        destination, _, etiquettes = reste.partition(": ")
        aretes += [(source, destination, etiquette) for etiquette in etiquettes.split(" | ")]
    return aretes


@pytest.fixture(scope="module", params=MACHINES, ids=lambda d: d.nom)
def definition_et_texte(request):
    return request.param, mermaid(request.param)


def test_bloc_de_titre_puis_diagramme_d_etats(definition_et_texte):
    definition, texte = definition_et_texte
    lignes = texte.splitlines()
    assert lignes[:4] == ["---", definition.nom, "---", "stateDiagram-v2"]
    assert texte.endswith("\n")


def test_un_etat_par_statut_avec_son_libelle_francais(definition_et_texte):
    definition, texte = definition_et_texte
    etats = [ligne.strip() for ligne in texte.splitlines() if ligne.strip().startswith("state ")]
    assert etats == [f'state "{etat.libelle}" as {etat.value}' for etat in definition.etats]


def test_une_arete_par_source_et_declencheur(definition_et_texte):
    definition, texte = definition_et_texte
    attendues = [
        (source.value, t.destination.value, _etiquette(t))
        for t in definition.transitions
        for source in t.sources
    ]
    assert sorted(_aretes(texte)) == sorted(attendues)
    assert len(attendues) == len({(t.declencheur, s) for t in definition.transitions for s in t.sources})


def test_une_ligne_par_arete_simple():
    lignes = [ligne.strip() for ligne in mermaid(LIGNE).splitlines()]
    assert "recevable --> votee: voter [dossier_programme & montant_vote_valide]" in lignes
    assert "abandonnee --> sollicitee: resolliciter" in lignes
    assert "sollicitee --> prise_en_charge: prendre_en_charge" in lignes


def test_etat_initial(definition_et_texte):
    definition, texte = definition_et_texte
    assert f"[*] --> {definition.initial.value}" in [ligne.strip() for ligne in texte.splitlines()]


def test_pas_de_mise_en_couleur_d_un_etat_actif(definition_et_texte):
    _, texte = definition_et_texte
    assert "classDef" not in texte
    assert not any(ligne.strip().startswith("Class ") for ligne in texte.splitlines())


def test_diagramme_de_la_demande_montre_les_gardes_et_les_libelles():
    texte = mermaid(DEMANDE)
    assert '  state "En attente d’attestation" as attente_attestation' in texte.splitlines()
    assert (
        "a_completer --> transmise: attester [formulaire_complet & budget_equilibre & "
        "financeurs_participants & pieces_fournies & eligibilite_conforme & attestation_cochee]"
    ) in [ligne.strip() for ligne in texte.splitlines()]


def test_le_diagramme_ne_modifie_pas_la_machine_partagee():
    evenements = {d.nom: set(d.machine.events) for d in MACHINES}

    premier = mermaid(DEMANDE), mermaid(LIGNE)
    second = mermaid(DEMANDE), mermaid(LIGNE)

    assert premier == second
    assert DEMANDE.machine.models == []
    assert LIGNE.machine.models == []
    assert {d.nom: set(d.machine.events) for d in MACHINES} == evenements
    demande = demande_complete()
    assert DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT) == (
        S.brouillon,
        S.attente_attestation,
    )
    assert DEMANDE.machine.models == []
