"""La machine de la ligne de financement : chaque transition, chaque garde, chaque effet sur la ligne."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date
from decimal import Decimal

import pytest

from workflows import LIGNE, TransitionImpossible, TransitionRefusee
from workflows.ligne import SEUIL_CONVENTION
from workflows.statuts import StatutDemande as S
from workflows.statuts import StatutLigne as L

from .fabriques import (
    AVANCE,
    JOUR_VOTE,
    MONTANT_DEMANDE,
    MONTANT_PROPOSE,
    MONTANT_VOTE,
    RESTE_ENVELOPPE,
    LigneFinancement,
    declencher_le_cas_permis,
    demande_complete,
    ligne,
    ligne_au_comite,
    paires,
    paires_impossibles,
    par_argument,
    par_champ,
    refuser_par_la_seule_garde,
    triplets_gardes,
)

CENTIME = Decimal("0.01")
FINE, INSECABLE = "\u202f", "\u00a0"  # séparateurs de format_euros (fr_FR)


def eur(montant: str) -> str:
    """« 1 234,50 » → la forme exacte de format_euros : espace fine pour les milliers, insécable avant €."""
    return montant.replace(" ", FINE) + INSECABLE + "€"


# --- Un cas permis par couple (déclencheur, source) ---------------------------------------


def _simple(source):
    return ligne(source), {}


def _proposition(source):
    return ligne(source), {"montant": MONTANT_PROPOSE}


def _non_recevabilite(source):
    return ligne(source), {"commentaire": "  Action déjà financée par le droit commun.  "}


def _revision(source):
    return ligne(source), {}


def _vote(source):
    return ligne_au_comite(source), {
        "montant": MONTANT_VOTE,
        "reste_enveloppe": RESTE_ENVELOPPE,
        "aujourdhui": JOUR_VOTE,
    }


def _refus(source):
    return ligne_au_comite(source), {"aujourdhui": JOUR_VOTE}


def _correction(source):
    return ligne(source, demande=demande_complete(statut=S.attribuee)), {
        "montant": MONTANT_VOTE - Decimal("100"),
        "reste_enveloppe": RESTE_ENVELOPPE,
        "aujourdhui": JOUR_VOTE,
        "commentaire": "Erreur de saisie au comité : montant rectifié.",
    }


def _annulation(source):
    return ligne(source, demande=demande_complete(statut=S.attribuee)), {
        "aujourdhui": JOUR_VOTE,
        "commentaire": "Le financeur s’est retiré après le comité.",
    }


def _notification(source):
    return ligne(source, convention_requise=False), {}


def _convention(source):
    return ligne(source, convention_requise=True), {}


def _signature(source):
    return ligne(source, convention_signee=True), {}


def _avance(source):
    return ligne(source), {"montant": Decimal("2000.00")}


def _validation_compte_rendu(source):
    return ligne(source, demande=demande_complete(statut=S.justification_en_cours)), {}


def _solde(source):
    bloc = ligne(source, compte_rendu_valide=True)
    return bloc, {"montant": MONTANT_VOTE - (bloc.montant_verse or Decimal("0"))}


PERMIS: dict[tuple[str, str], Callable[[str], tuple[LigneFinancement, dict]]] = {
    ("prendre_en_charge", L.sollicitee): _simple,
    ("declarer_recevable", L.prise_en_charge): _proposition,
    ("declarer_non_recevable", L.prise_en_charge): _non_recevabilite,
    ("reviser_avis", L.recevable): _revision,
    ("reviser_avis", L.non_recevable): _revision,
    ("voter", L.recevable): _vote,
    ("refuser", L.recevable): _refus,
    ("refuser", L.non_recevable): _refus,
    ("corriger_vote", L.votee): _correction,
    ("corriger_vote", L.refusee): _correction,
    ("annuler_vote", L.votee): _annulation,
    ("notifier", L.votee): _notification,
    ("etablir_convention", L.votee): _convention,
    ("signer_convention", L.convention_a_signer): _signature,
    ("verser_avance", L.engagee): _avance,
    ("verser_avance", L.avance_versee): _avance,
    ("valider_compte_rendu", L.engagee): _validation_compte_rendu,
    ("valider_compte_rendu", L.avance_versee): _validation_compte_rendu,
    ("solder", L.engagee): _solde,
    ("solder", L.avance_versee): _solde,
    ("abandonner", L.sollicitee): _simple,
    ("abandonner", L.prise_en_charge): _simple,
    ("abandonner", L.recevable): _simple,
    ("abandonner", L.non_recevable): _simple,
    ("resolliciter", L.abandonnee): _simple,
    ("reexaminer", L.recevable): _simple,
    ("reexaminer", L.non_recevable): _simple,
}


# --- Pour chaque garde, une façon de la faire échouer seule (et le code attendu) ----------


def dossier_en(statut: S, code: str):
    """La garde échoue par le statut du dossier auquel appartient la ligne."""

    def casser(bloc, kwargs):
        bloc.demande.statut = statut
        return code

    return casser


def _proposer_plus_que_demande(bloc, kwargs):
    kwargs["montant"] = bloc.montant_demande + CENTIME
    return "montant_superieur_demande"


def _enveloppe_insuffisante(bloc, kwargs):
    kwargs["reste_enveloppe"] = kwargs["montant"] - CENTIME
    return "enveloppe_depassee"


def _verser_trop(bloc, kwargs):
    kwargs["montant"] = MONTANT_VOTE - (bloc.montant_verse or Decimal("0")) + CENTIME
    return "versement_superieur"


CASSER = {
    "montant_propose_valide": _proposer_plus_que_demande,
    "motif_fourni": par_argument("motif", commentaire=" "),
    "avis_modifiable": dossier_en(S.programmee, "avis_fige"),
    "dossier_programme": dossier_en(S.instruite, "dossier_non_programme"),
    "montant_vote_valide": _enveloppe_insuffisante,
    "decision_corrigeable": dossier_en(S.programmee, "decision_non_corrigeable"),
    "convention_non_requise": par_champ("convention_requise", convention_requise=True),
    "convention_requise": par_champ("convention_inutile", convention_requise=False),
    "convention_signee": par_champ("convention_non_signee", convention_signee=False),
    "versement_valide": _verser_trop,
    "justification_deposee": dossier_en(S.a_justifier, "justification_non_deposee"),
    "solde_valide": par_champ("justification_a_valider", compte_rendu_valide=False),
    "compte_rendu_pas_encore_valide": par_champ("deja_valide", compte_rendu_valide=True),
}


def _etat(bloc: LigneFinancement) -> dict:
    """Tous les champs de la ligne : une transition refusée n'en change aucun."""
    return {f.name: getattr(bloc, f.name) for f in fields(bloc)}


# --- La définition est couverte ----------------------------------------------------------


def test_chaque_transition_de_la_definition_a_son_cas_permis():
    assert set(PERMIS) == paires(LIGNE)


def test_chaque_garde_de_la_definition_sait_echouer():
    assert {garde for _, _, garde in triplets_gardes(LIGNE)} <= set(CASSER)


# --- (a) permise quand ses gardes passent ------------------------------------------------


@pytest.mark.parametrize(("declencheur", "source"), sorted(paires(LIGNE)))
def test_transition_permise(declencheur, source):
    bloc = declencher_le_cas_permis(LIGNE, PERMIS, declencheur, source)
    assert isinstance(bloc.statut, L)


# --- (b) refusée par chacune de ses gardes, seule -----------------------------------------


@pytest.mark.parametrize(("declencheur", "source", "garde"), sorted(triplets_gardes(LIGNE)))
def test_transition_refusee_par_chaque_garde(declencheur, source, garde):
    refus = refuser_par_la_seule_garde(LIGNE, PERMIS, CASSER, _etat, declencheur, source, garde)
    assert refus.declencheur == declencheur


# --- (c) impossible depuis les statuts qui ne sont pas sources ------------------------------


@pytest.mark.parametrize(("declencheur", "statut"), sorted(paires_impossibles(LIGNE)))
def test_transition_impossible_hors_de_ses_sources(declencheur, statut):
    bloc = ligne(statut, compte_rendu_valide=True, convention_signee=True)
    kwargs = {"montant": Decimal("1.00"), "reste_enveloppe": RESTE_ENVELOPPE, "commentaire": "Motif."}
    avant = _etat(bloc)

    with pytest.raises(TransitionImpossible) as impossible:
        LIGNE.declencher(bloc, declencheur, **kwargs)

    assert (impossible.value.declencheur, impossible.value.statut) == (declencheur, statut)
    assert _etat(bloc) == avant


# --- Effets sur la ligne -----------------------------------------------------------------------


def test_declarer_recevable_enregistre_le_montant_propose():
    bloc = ligne(L.prise_en_charge)
    LIGNE.declencher(bloc, "declarer_recevable", montant="7250.50")  # tel que saisi dans un formulaire
    assert bloc.montant_propose == Decimal("7250.50")
    assert isinstance(bloc.montant_propose, Decimal)
    assert bloc.motif_avis is None


def test_declarer_non_recevable_enregistre_le_motif_sans_montant():
    bloc = ligne(L.prise_en_charge, montant_propose=Decimal("100"))
    LIGNE.declencher(bloc, "declarer_non_recevable", commentaire="  Action hors du contrat de ville.\n")
    assert bloc.motif_avis == "Action hors du contrat de ville."
    assert bloc.montant_propose is None


@pytest.mark.parametrize("source", [L.recevable, L.non_recevable])
def test_reviser_avis_efface_l_avis(source):
    bloc = ligne(source)
    assert (bloc.montant_propose, bloc.motif_avis) != (None, None)
    LIGNE.declencher(bloc, "reviser_avis")
    assert (bloc.statut, bloc.montant_propose, bloc.motif_avis) == (L.prise_en_charge, None, None)


def test_nouvel_avis_recevable_apres_non_recevabilite_efface_le_motif():
    bloc = ligne(L.non_recevable)
    LIGNE.declencher(bloc, "reviser_avis")
    LIGNE.declencher(bloc, "declarer_recevable", montant=Decimal("5000"))
    assert (bloc.montant_propose, bloc.motif_avis) == (Decimal("5000"), None)


@pytest.mark.parametrize("statut_dossier", [S.en_instruction, S.instruite])
def test_avis_modifiable_pendant_l_instruction(statut_dossier):
    bloc = ligne(L.recevable, demande=demande_complete(statut=statut_dossier))
    assert LIGNE.declencher(bloc, "reviser_avis") == (L.recevable, L.prise_en_charge)


@pytest.mark.parametrize("statut_dossier", sorted(set(S) - {S.en_instruction, S.instruite}))
def test_avis_fige_hors_instruction(statut_dossier):
    bloc = ligne(L.recevable, demande=demande_complete(statut=statut_dossier))
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "reviser_avis")
    assert [p.code for p in refus.value.problemes] == ["avis_fige"]
    assert bloc.montant_propose == MONTANT_PROPOSE


def test_voter_enregistre_montant_et_date():
    bloc = ligne_au_comite(L.recevable)
    LIGNE.declencher(
        bloc, "voter", montant=Decimal("6500"), reste_enveloppe=RESTE_ENVELOPPE, aujourdhui=JOUR_VOTE
    )
    assert (bloc.montant_vote, bloc.vote_le) == (Decimal("6500"), JOUR_VOTE)


def test_voter_sans_date_retient_aujourd_hui():
    bloc = ligne_au_comite(L.recevable)
    LIGNE.declencher(bloc, "voter", montant=Decimal("6500"), reste_enveloppe=RESTE_ENVELOPPE)
    assert bloc.vote_le == date.today()


@pytest.mark.parametrize("source", [L.recevable, L.non_recevable])
def test_refuser_vote_zero(source):
    bloc = ligne_au_comite(source)
    LIGNE.declencher(bloc, "refuser", aujourdhui=JOUR_VOTE)
    assert (bloc.statut, bloc.montant_vote, bloc.vote_le) == (L.refusee, Decimal("0"), JOUR_VOTE)


# --- Vote et refus : seulement en comité ---------------------------------------------------------

COMITE = [("voter", L.recevable), ("refuser", L.recevable), ("refuser", L.non_recevable)]


@pytest.mark.parametrize("statut_dossier", sorted(set(S) - {S.programmee}))
@pytest.mark.parametrize(("declencheur", "source"), COMITE)
def test_vote_et_refus_seulement_pour_un_dossier_programme(declencheur, source, statut_dossier):
    bloc = ligne(source, demande=demande_complete(statut=statut_dossier))
    kwargs = {"montant": MONTANT_VOTE, "reste_enveloppe": RESTE_ENVELOPPE, "aujourdhui": JOUR_VOTE}
    avant = _etat(bloc)

    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, declencheur, **kwargs)

    assert [(p.code, p.message) for p in refus.value.problemes] == [
        ("dossier_non_programme", "Seul un dossier inscrit à l’ordre du jour d’un comité peut être voté.")
    ]
    assert _etat(bloc) == avant


@pytest.mark.parametrize(("declencheur", "source"), COMITE)
def test_vote_et_refus_pour_un_dossier_programme_au_statut_chaine(declencheur, source):
    bloc = ligne(source, demande=demande_complete(statut="programmee"))  # tel que lu en base
    kwargs = {"montant": MONTANT_VOTE, "reste_enveloppe": RESTE_ENVELOPPE, "aujourdhui": JOUR_VOTE}
    assert LIGNE.declencher(bloc, declencheur, **kwargs)[0] == source


def test_vote_hors_comite_et_montant_invalide_dit_les_deux():
    bloc = ligne(L.recevable)  # dossier en instruction
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "voter", montant=Decimal("0"), reste_enveloppe=RESTE_ENVELOPPE)
    assert [p.code for p in refus.value.problemes] == ["dossier_non_programme", "montant_nul"]


# --- Seuil de la convention (23 000 € par financeur, structure et an) ---------------------------


def test_seuil_de_la_convention():
    assert Decimal("23000.00") == SEUIL_CONVENTION


@pytest.mark.parametrize(
    ("deja_vote", "montant", "convention"),
    [
        (None, "23000.00", False),
        (None, "23000.01", True),
        (Decimal("0"), "23000.00", False),
        (Decimal("15000"), "8000.00", False),
        (Decimal("15000"), "8000.01", True),
        (Decimal("14999.99"), "8000.01", False),
        (Decimal("22999.99"), "0.01", False),
        (Decimal("23000.00"), "0.01", True),
        (Decimal("30000"), "500.00", True),
        (15000, "8000.01", True),  # un entier, comme une somme SQL sans décimales
        ("15000.00", "8000.00", False),
    ],
)
def test_vote_convention_requise_au_dela_de_23000_cumules(deja_vote, montant, convention):
    bloc = ligne_au_comite(L.recevable, montant_demande=Decimal("30000.00"))
    kwargs = {"montant": montant, "reste_enveloppe": RESTE_ENVELOPPE, "aujourdhui": JOUR_VOTE}
    if deja_vote is not None:
        kwargs["deja_vote_structure"] = deja_vote

    LIGNE.declencher(bloc, "voter", **kwargs)

    assert (bloc.statut, bloc.montant_vote, bloc.convention_requise) == (
        L.votee,
        Decimal(montant),
        convention,
    )


@pytest.mark.parametrize("deja_vote", [None, Decimal("0")])
def test_vote_sans_cumul_connu_compte_le_seul_montant_vote(deja_vote):
    bloc = ligne_au_comite(L.recevable, montant_demande=Decimal("30000.00"))
    LIGNE.declencher(
        bloc, "voter", montant="23000.01", reste_enveloppe=RESTE_ENVELOPPE, deja_vote_structure=deja_vote
    )
    assert bloc.convention_requise is True


@pytest.mark.parametrize(
    ("convention_avant", "deja_vote", "convention"),
    [(True, Decimal("0"), False), (False, Decimal("20000"), True)],
)
def test_le_vote_decide_de_la_convention(convention_avant, deja_vote, convention):
    bloc = ligne_au_comite(L.recevable, convention_requise=convention_avant)
    LIGNE.declencher(
        bloc, "voter", montant=MONTANT_VOTE, reste_enveloppe=RESTE_ENVELOPPE, deja_vote_structure=deja_vote
    )
    assert bloc.convention_requise is convention


@pytest.mark.parametrize(
    ("montant", "permis", "refuse", "code"),
    [
        ("8000.00", "notifier", "etablir_convention", "convention_inutile"),
        ("8000.01", "etablir_convention", "notifier", "convention_requise"),
    ],
)
def test_apres_le_vote_notification_ou_convention_selon_le_cumul(montant, permis, refuse, code):
    bloc = ligne_au_comite(L.recevable)
    LIGNE.declencher(
        bloc, "voter", montant=montant, reste_enveloppe=RESTE_ENVELOPPE, deja_vote_structure=Decimal("15000")
    )
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, refuse)
    assert [p.code for p in refus.value.problemes] == [code]
    assert LIGNE.declencher(bloc, permis)[0] == L.votee


def test_refus_ne_touche_pas_a_la_convention():
    bloc = ligne_au_comite(L.recevable)
    LIGNE.declencher(bloc, "refuser", deja_vote_structure=Decimal("30000"))
    assert (bloc.statut, bloc.montant_vote, bloc.convention_requise) == (L.refusee, Decimal("0"), False)


# --- Transitions système : abandon, nouvelle sollicitation, réexamen ---------------------------


def test_transitions_systeme_de_la_ligne():
    assert LIGNE.declencheurs_systeme == {"abandonner", "resolliciter", "reexaminer"}


@pytest.mark.parametrize(
    ("statut", "systeme"),
    [
        (L.abandonnee, ["resolliciter"]),
        (L.recevable, ["abandonner", "reexaminer"]),
        (L.non_recevable, ["abandonner", "reexaminer"]),
    ],
)
def test_transitions_systeme_jamais_proposees_a_l_usager(statut, systeme):
    bloc = ligne(statut)
    assert LIGNE.possibles(bloc, systeme=True) == systeme
    assert not set(systeme) & set(LIGNE.possibles(bloc))


def test_financeur_retire_puis_de_nouveau_sollicite_reprend_l_instruction():
    bloc = ligne(L.sollicitee, demande=demande_complete(statut=S.a_completer))
    LIGNE.declencher(bloc, "abandonner")

    assert LIGNE.declencher(bloc, "resolliciter") == (L.abandonnee, L.sollicitee)

    LIGNE.declencher(bloc, "prendre_en_charge")
    LIGNE.declencher(bloc, "declarer_recevable", montant=Decimal("6000"))
    assert (bloc.statut, bloc.montant_propose) == (L.recevable, Decimal("6000"))


@pytest.mark.parametrize("source", [L.recevable, L.non_recevable])
@pytest.mark.parametrize("statut_dossier", [S.a_completer, S.transmise, S.en_instruction])
def test_reexaminer_efface_l_avis_meme_quand_l_avis_est_fige(source, statut_dossier):
    # Le montant demandé a changé en réponse aux compléments : l'avis est à refaire, quel que soit le
    # statut du dossier (reviser_avis, geste du financeur, n'est permis qu'en instruction).
    bloc = ligne(source, demande=demande_complete(statut=statut_dossier))
    assert (bloc.montant_propose, bloc.motif_avis) != (None, None)

    assert LIGNE.declencher(bloc, "reexaminer") == (source, L.prise_en_charge)

    assert (bloc.statut, bloc.montant_propose, bloc.motif_avis) == (L.prise_en_charge, None, None)


def test_reexamen_puis_nouvel_avis():
    bloc = ligne(L.non_recevable, demande=demande_complete(statut=S.a_completer))
    LIGNE.declencher(bloc, "reexaminer")
    LIGNE.declencher(bloc, "declarer_recevable", montant=Decimal("9000"))
    assert (bloc.statut, bloc.montant_propose, bloc.motif_avis) == (L.recevable, Decimal("9000"), None)


@pytest.mark.parametrize("source", [L.engagee, L.avance_versee])
def test_valider_compte_rendu_marque_la_ligne_sans_changer_son_statut(source):
    bloc = ligne(source, demande=demande_complete(statut=S.justification_en_cours))
    assert bloc.compte_rendu_valide is False
    assert LIGNE.declencher(bloc, "valider_compte_rendu") == (source, source)
    assert (bloc.statut, bloc.compte_rendu_valide) == (source, True)


@pytest.mark.parametrize("statut_dossier", sorted(set(S) - {S.justification_en_cours}))
def test_valider_compte_rendu_seulement_une_fois_depose(statut_dossier):
    bloc = ligne(L.avance_versee, demande=demande_complete(statut=statut_dossier))
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "valider_compte_rendu")
    assert [(p.code, p.message) for p in refus.value.problemes] == [
        ("justification_non_deposee", "Le compte rendu financier n’a pas été déposé.")
    ]
    assert bloc.compte_rendu_valide is False


def test_versements_cumules_jusqu_au_solde():
    bloc = ligne(L.engagee)
    assert bloc.montant_verse is None

    LIGNE.declencher(bloc, "verser_avance", montant=Decimal("3000"))
    LIGNE.declencher(bloc, "verser_avance", montant="1500.25")
    assert (bloc.statut, bloc.montant_verse) == (L.avance_versee, Decimal("4500.25"))

    bloc.compte_rendu_valide = True
    LIGNE.declencher(bloc, "solder", montant=Decimal("3499.75"))
    assert (bloc.statut, bloc.montant_verse) == (L.soldee, MONTANT_VOTE)


def test_solde_en_une_fois_sans_avance():
    bloc = ligne(L.engagee, compte_rendu_valide=True)
    LIGNE.declencher(bloc, "solder", montant=MONTANT_VOTE)
    assert (bloc.statut, bloc.montant_verse) == (L.soldee, MONTANT_VOTE)


def test_solde_nul_quand_l_avance_a_tout_verse():
    bloc = ligne(L.avance_versee, montant_verse=MONTANT_VOTE, compte_rendu_valide=True)
    LIGNE.declencher(bloc, "solder", montant=Decimal("0"))
    assert (bloc.statut, bloc.montant_verse) == (L.soldee, MONTANT_VOTE)


def test_solde_sans_montant_quand_tout_est_verse():
    # La garde lit un montant absent comme 0 € : l'effet doit faire de même, sans lever d'erreur.
    bloc = ligne(L.avance_versee, montant_verse=MONTANT_VOTE, compte_rendu_valide=True)
    assert LIGNE.declencher(bloc, "solder") == (L.avance_versee, L.soldee)
    assert (bloc.statut, bloc.montant_verse) == (L.soldee, MONTANT_VOTE)


def test_convention_au_dela_du_seuil_puis_signature():
    bloc = ligne(L.votee, convention_requise=True)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "notifier")
    assert "23 000 €" in str(refus.value)
    LIGNE.declencher(bloc, "etablir_convention")
    with pytest.raises(TransitionRefusee):
        LIGNE.declencher(bloc, "signer_convention")
    bloc.convention_signee = True
    assert LIGNE.declencher(bloc, "signer_convention") == (L.convention_a_signer, L.engagee)


# --- Bornes des montants -------------------------------------------------------------------------


def test_montant_propose_egal_au_demande_permis():
    bloc = ligne(L.prise_en_charge)
    LIGNE.declencher(bloc, "declarer_recevable", montant=MONTANT_DEMANDE)
    assert (bloc.statut, bloc.montant_propose) == (L.recevable, MONTANT_DEMANDE)


def test_montant_propose_un_centime_au_dessus_refuse():
    bloc = ligne(L.prise_en_charge)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "declarer_recevable", montant=Decimal("10000.01"))
    assert [(p.code, p.message, p.champ) for p in refus.value.problemes] == [
        (
            "montant_superieur_demande",
            f"Le montant proposé ({eur('10 000,01')}) dépasse le montant demandé ({eur('10 000,00')}).",
            "montant",
        )
    ]
    assert (bloc.statut, bloc.montant_propose) == (L.prise_en_charge, None)


@pytest.mark.parametrize(
    ("montant", "code"),
    [
        (None, "montant_manquant"),
        (Decimal("0"), "montant_nul"),
        (Decimal("-10"), "montant_nul"),
        (Decimal("100.005"), "montant_centimes"),
    ],
)
@pytest.mark.parametrize("declencheur", ["declarer_recevable", "voter", "verser_avance"])
def test_montant_invalide_refuse(declencheur, montant, code):
    source = {"declarer_recevable": L.prise_en_charge, "voter": L.recevable, "verser_avance": L.engagee}
    dossier = {"declarer_recevable": S.en_instruction, "voter": S.programmee, "verser_avance": S.attribuee}
    bloc = ligne(source[declencheur], demande=demande_complete(statut=dossier[declencheur]))
    kwargs = {"reste_enveloppe": RESTE_ENVELOPPE}
    if montant is not None:
        kwargs["montant"] = montant
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, declencheur, **kwargs)
    assert [p.code for p in refus.value.problemes] == [code]
    assert bloc.statut == source[declencheur]


def test_vote_egal_au_reste_de_l_enveloppe_permis():
    bloc = ligne_au_comite(L.recevable)
    LIGNE.declencher(bloc, "voter", montant=Decimal("1234.50"), reste_enveloppe=Decimal("1234.50"))
    assert (bloc.statut, bloc.montant_vote) == (L.votee, Decimal("1234.50"))


def test_vote_au_dela_du_reste_de_l_enveloppe_refuse_avec_les_montants():
    bloc = ligne_au_comite(L.recevable)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "voter", montant=Decimal("1234.51"), reste_enveloppe=Decimal("1234.50"))
    (probleme,) = refus.value.problemes
    assert probleme.code == "enveloppe_depassee"
    assert (
        probleme.message
        == f"Le montant voté ({eur('1 234,51')}) dépasse le reste de l’enveloppe ({eur('1 234,50')})."
    )
    assert "(1\u202f234,50\u00a0€)" in probleme.message  # la forme « 1 234,50 € » de fr_FR
    assert (bloc.statut, bloc.montant_vote, bloc.vote_le) == (L.recevable, None, None)


def test_vote_au_dela_du_demande_et_de_l_enveloppe_dit_les_deux():
    bloc = ligne_au_comite(L.recevable)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "voter", montant=Decimal("12000"), reste_enveloppe=Decimal("11000"))
    assert [p.message for p in refus.value.problemes] == [
        f"Le montant voté ({eur('12 000,00')}) dépasse le montant demandé ({eur('10 000,00')}).",
        f"Le montant voté ({eur('12 000,00')}) dépasse le reste de l’enveloppe ({eur('11 000,00')}).",
    ]


def test_vote_sans_enveloppe_connue_refuse():
    bloc = ligne_au_comite(L.recevable)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "voter", montant=Decimal("100"))
    assert [p.code for p in refus.value.problemes] == ["enveloppe_inconnue"]


def test_versement_egal_au_reste_a_verser_permis():
    bloc = ligne(L.avance_versee)
    LIGNE.declencher(bloc, "verser_avance", montant=MONTANT_VOTE - AVANCE)
    assert bloc.montant_verse == MONTANT_VOTE


def test_versement_au_dela_du_reste_a_verser_refuse():
    bloc = ligne(L.avance_versee)  # 8 000 € votés, 3 000 € déjà versés
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "verser_avance", montant=Decimal("5000.01"))
    assert [(p.code, p.message) for p in refus.value.problemes] == [
        (
            "versement_superieur",
            f"Le versement ({eur('5 000,01')}) dépasse le reste à verser ({eur('5 000,00')}).",
        )
    ]
    assert (bloc.statut, bloc.montant_verse) == (L.avance_versee, AVANCE)


def test_solde_refuse_avant_validation_du_compte_rendu():
    bloc = ligne(L.avance_versee, compte_rendu_valide=False)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "solder", montant=MONTANT_VOTE - AVANCE)
    assert [p.code for p in refus.value.problemes] == ["justification_a_valider"]
    assert (bloc.statut, bloc.montant_verse) == (L.avance_versee, AVANCE)


@pytest.mark.parametrize("ecart", [-CENTIME, CENTIME])
def test_solde_refuse_s_il_n_est_pas_exactement_le_reste(ecart):
    bloc = ligne(L.avance_versee, compte_rendu_valide=True)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "solder", montant=MONTANT_VOTE - AVANCE + ecart)
    assert [(p.code, p.message) for p in refus.value.problemes] == [
        ("solde_inexact", f"Le solde doit être exactement le reste à verser ({eur('5 000,00')}).")
    ]
    assert (bloc.statut, bloc.montant_verse) == (L.avance_versee, AVANCE)


def test_solde_negatif_refuse_meme_si_le_reste_est_nul():
    bloc = ligne(L.avance_versee, montant_verse=MONTANT_VOTE, compte_rendu_valide=True)
    with pytest.raises(TransitionRefusee) as refus:
        LIGNE.declencher(bloc, "solder", montant=Decimal("-0.01"))
    assert [p.code for p in refus.value.problemes] == ["solde_inexact"]
