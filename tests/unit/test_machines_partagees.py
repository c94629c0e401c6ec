"""Les machines sont construites une fois et partagées : elles ne retiennent aucun objet."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from workflows import DEMANDE, LIGNE
from workflows.statuts import StatutDemande as S
from workflows.statuts import StatutLigne as L

from .fabriques import JOUR_DEPOT, RESTE_ENVELOPPE, demande_avec_lignes, demande_complete, ligne


def test_mille_objets_aucun_retenu_par_les_machines():
    demandes = [demande_complete() for _ in range(1_000)]
    lignes = [ligne(L.sollicitee) for _ in range(1_000)]

    for demande in demandes:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    for bloc in lignes:
        LIGNE.declencher(bloc, "prendre_en_charge")

    assert DEMANDE.machine.models == []
    assert len(LIGNE.machine.models) == 0
    assert {d.statut for d in demandes} == {S.attente_attestation}
    assert {b.statut for b in lignes} == {L.prise_en_charge}


def test_chaque_objet_garde_son_propre_statut():
    premiere, seconde = demande_complete(), demande_complete()
    DEMANDE.declencher(premiere, "soumettre", aujourdhui=JOUR_DEPOT)
    assert (premiere.statut, seconde.statut) == (S.attente_attestation, S.brouillon)
    DEMANDE.declencher(seconde, "soumettre", aujourdhui=JOUR_DEPOT)
    DEMANDE.declencher(seconde, "modifier")
    assert (premiere.statut, seconde.statut) == (S.attente_attestation, S.brouillon)


def test_declenchements_concurrents_depuis_plusieurs_fils():
    demandes = [demande_complete() for _ in range(400)]

    def parcourir(demande):
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
        return DEMANDE.declencher(demande, "attester", aujourdhui=JOUR_DEPOT, attestation=True)

    with ThreadPoolExecutor(max_workers=8) as fils:
        resultats = list(fils.map(parcourir, demandes))

    assert set(resultats) == {(S.attente_attestation, S.transmise)}
    assert DEMANDE.machine.models == []


def test_statut_chaine_brute_comme_lu_en_sql():
    demande = demande_complete(statut="brouillon")
    avant, apres = DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert (avant, apres) == (S.brouillon, S.attente_attestation)
    assert isinstance(avant, S)
    assert demande.statut == "attente_attestation"
    assert DEMANDE.possibles(demande) == ["modifier", "attester", "retirer"]


def test_ligne_au_statut_chaine_brute():
    bloc = ligne("recevable", demande=demande_complete(statut="programmee"))
    assert LIGNE.declencher(bloc, "voter", montant=Decimal("500"), reste_enveloppe=RESTE_ENVELOPPE) == (
        L.recevable,
        L.votee,
    )
    assert bloc.montant_vote == Decimal("500")


def test_derivations_avec_statuts_chaines_brutes():
    demande = demande_avec_lignes("transmise", "recevable", "non_recevable", "abandonnee")
    assert DEMANDE.suivre_derivations(demande) == [
        ("debuter_instruction", S.transmise, S.en_instruction),
        ("instruire", S.en_instruction, S.instruite),
    ]
