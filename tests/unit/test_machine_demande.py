"""La machine de la demande : chaque transition, chaque garde, chaque statut dérivé des lignes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from workflows import DEMANDE, LIGNE, TransitionImpossible, TransitionRefusee
from workflows.gardes import financeurs_participants
from workflows.statuts import StatutDemande as S
from workflows.statuts import StatutLigne as L

from .fabriques import (
    APRES_EXERCICE,
    CLOTURE,
    FINANCEUR_COMMUNE,
    FINANCEUR_ETAT,
    FINANCEUR_HORS_CAMPAGNE,
    JOUR_DEPOT,
    JOUR_VOTE,
    OUVERTURE,
    RESTE_ENVELOPPE,
    Demande,
    charges_et_benevolat,
    declencher_le_cas_permis,
    demande_avec_lignes,
    demande_complete,
    lb,
    ligne,
    paires,
    paires_impossibles,
    par_argument,
    par_champ,
    refuser_par_la_seule_garde,
    triplets_gardes,
)

MOTIF = "L’association a renoncé à l’action faute de local."
MESSAGE = "Merci de détailler le poste « Charges de personnel »."


# --- Un cas permis par couple (déclencheur, source) ---------------------------------------


def _simple(source):
    return demande_complete(statut=source), {}


def _soumission(source):
    return demande_complete(statut=source), {"aujourdhui": JOUR_DEPOT}


def _attestation(source):
    return demande_complete(statut=source), {"aujourdhui": JOUR_DEPOT, "attestation": True}


def _motif(source):
    return demande_complete(statut=source), {"commentaire": MOTIF}


def _message(source):
    return demande_complete(statut=source), {"commentaire": MESSAGE}


def _justification(source):
    return demande_avec_lignes(source, L.engagee), {"attestation": True}


def _cloture(source):
    return demande_avec_lignes(source, L.engagee), {"aujourdhui": APRES_EXERCICE}


def _avec_lignes(*statuts_lignes, **reglages):
    def preparer(source):
        demande = demande_avec_lignes(source, *statuts_lignes)
        for ligne_financement in demande.lignes_financement:
            for attribut, valeur in reglages.items():
                setattr(ligne_financement, attribut, valeur)
        return demande, {}

    return preparer


PERMIS: dict[tuple[str, str], Callable[[str], tuple[Demande, dict]]] = {
    ("soumettre", S.brouillon): _soumission,
    ("modifier", S.attente_attestation): _simple,
    ("attester", S.attente_attestation): _attestation,
    ("attester", S.a_completer): _attestation,
    ("retirer", S.attente_attestation): _motif,
    ("retirer", S.transmise): _motif,
    ("retirer", S.en_instruction): _motif,
    ("retirer", S.a_completer): _motif,
    ("retirer", S.instruite): _motif,
    ("retirer", S.programmee): _motif,
    ("deposer_justification", S.a_justifier): _justification,
    ("deposer_justification", S.justification_a_modifier): _justification,
    ("demander_complements", S.transmise): _message,
    ("demander_complements", S.en_instruction): _message,
    ("demander_complements", S.instruite): _message,
    ("classer_sans_suite", S.transmise): _motif,
    ("classer_sans_suite", S.en_instruction): _motif,
    ("classer_sans_suite", S.a_completer): _motif,
    ("classer_sans_suite", S.instruite): _motif,
    ("classer_sans_suite", S.programmee): _motif,
    ("retourner_justification", S.justification_en_cours): _message,
    ("programmer", S.instruite): _simple,
    ("deprogrammer", S.programmee): _simple,
    ("cloturer_exercice", S.attribuee): _cloture,
    ("cloturer_exercice", S.versee): _cloture,
    ("debuter_instruction", S.transmise): _avec_lignes(L.prise_en_charge, L.sollicitee),
    ("instruire", S.en_instruction): _avec_lignes(L.recevable, L.non_recevable, L.abandonnee),
    ("reprendre_instruction", S.instruite): _avec_lignes(L.recevable, L.prise_en_charge),
    ("attribuer", S.programmee): _avec_lignes(L.votee, L.refusee),
    ("rejeter", S.programmee): _avec_lignes(L.refusee, L.refusee, L.abandonnee),
    # Après correction motivée d'une décision de comité close
    ("attribuer", S.rejetee): _avec_lignes(L.votee, L.refusee),
    ("rejeter", S.attribuee): _avec_lignes(L.refusee, L.abandonnee),
    ("verser", S.attribuee): _avec_lignes(L.avance_versee, L.votee),
    ("valider_justification", S.justification_en_cours): _avec_lignes(
        L.avance_versee, L.refusee, compte_rendu_valide=True
    ),
}


# --- Pour chaque garde, une façon de la faire échouer seule (et le code attendu) ----------


def chaque_ligne(code: str, **champs):
    """La garde échoue par les champs de chacune des lignes de financement de la demande."""

    def casser(demande, kwargs):
        for ligne_financement in demande.lignes_financement:
            for nom, valeur in champs.items():
                setattr(ligne_financement, nom, valeur)
        return code

    return casser


def _desequilibrer(demande, kwargs):
    demande.lignes_budget.append(lb("62", "250.00"))
    return "desequilibre"


def _solliciter_hors_campagne(demande, kwargs):
    # La subvention de la commune est demandée à un financeur sans enveloppe : le budget reste équilibré.
    (commune,) = [lb_ for lb_ in demande.lignes_budget if lb_.financeur_id == FINANCEUR_COMMUNE]
    commune.financeur_id = FINANCEUR_HORS_CAMPAGNE
    return "financeur_hors_campagne"


def _oublier_statuts(demande, kwargs):
    demande.types_pieces_fournies.discard("statuts")
    return "piece_manquante"


def _mal_repondre(demande, kwargs):
    demande.reponses_eligibilite[2] = True
    return "eligibilite_non_conforme"


def _ajouter_ligne_sans_avis(demande, kwargs):
    ligne(L.prise_en_charge, demande=demande)
    return "avis_manquant"


def _ajouter_ligne_non_decidee(demande, kwargs):
    ligne(L.recevable, demande=demande)
    return "decision_manquante"


def _voter_une_ligne(demande, kwargs):
    premiere = demande.lignes_financement[0]
    premiere.statut, premiere.montant_vote = L.votee, Decimal("1.00")
    return "vote_positif"


def _exercice_en_cours(demande, kwargs):
    kwargs["aujourdhui"] = date(demande.annee_fin, 12, 31)
    return "exercice_en_cours"


def _compte_rendu_non_valide(demande, kwargs):
    demande.lignes_financement[0].compte_rendu_valide = False
    return "justification_a_valider"


def _compte_rendu_desequilibre(demande, kwargs):
    demande.compte_rendu.lignes[0].montant_realise += 1
    return "desequilibre"


CASSER = {
    "compte_rendu_conforme": _compte_rendu_desequilibre,
    "formulaire_complet": par_champ("champ_manquant", intitule="   "),
    "budget_equilibre": _desequilibrer,
    "financeurs_participants": _solliciter_hors_campagne,
    "pieces_fournies": _oublier_statuts,
    "eligibilite_conforme": _mal_repondre,
    "campagne_ouverte": par_argument("campagne_close", aujourdhui=CLOTURE + timedelta(days=1)),
    "action_pas_terminee": par_champ(
        "action_terminee", date_debut=date(2025, 1, 6), date_fin=date(2025, 6, 30)
    ),
    "attestation_cochee": par_argument("attestation", attestation=False),
    "motif_fourni": par_argument("motif", commentaire="  \n "),
    "message_fourni": par_argument("message", commentaire=""),
    "une_ligne_prise_en_charge": chaque_ligne("aucune_prise_en_charge", statut=L.sollicitee),
    "toutes_lignes_avisees": _ajouter_ligne_sans_avis,
    "une_ligne_sans_avis": chaque_ligne("toutes_avisees", statut=L.recevable),
    "lignes_decidees": _ajouter_ligne_non_decidee,
    "une_ligne_votee": chaque_ligne("aucun_vote_positif", statut=L.refusee, montant_vote=Decimal("0")),
    "aucune_ligne_votee": _voter_une_ligne,
    "un_versement": chaque_ligne("aucun_versement", montant_verse=None),
    "exercice_termine": _exercice_en_cours,
    "justifications_validees": _compte_rendu_non_valide,
}


def _etat(demande: Demande) -> dict:
    """Ce qu'une transition refusée ne doit pas toucher."""
    return {
        "statut": demande.statut,
        "lignes": [(lf.statut, lf.montant_vote, lf.montant_verse) for lf in demande.lignes_financement],
    }


# --- La définition est couverte ----------------------------------------------------------


def test_chaque_transition_de_la_definition_a_son_cas_permis():
    assert set(PERMIS) == paires(DEMANDE)


def test_chaque_garde_de_la_definition_sait_echouer():
    assert {garde for _, _, garde in triplets_gardes(DEMANDE)} <= set(CASSER)


# --- (a) permise quand ses gardes passent ------------------------------------------------


@pytest.mark.parametrize(("declencheur", "source"), sorted(paires(DEMANDE)))
def test_transition_permise(declencheur, source):
    demande = declencher_le_cas_permis(DEMANDE, PERMIS, declencheur, source)
    assert isinstance(demande.statut, S)


# --- (b) refusée par chacune de ses gardes, seule -----------------------------------------


@pytest.mark.parametrize(("declencheur", "source", "garde"), sorted(triplets_gardes(DEMANDE)))
def test_transition_refusee_par_chaque_garde(declencheur, source, garde):
    refus = refuser_par_la_seule_garde(DEMANDE, PERMIS, CASSER, _etat, declencheur, source, garde)
    assert refus.declencheur == declencheur
    assert str(refus) == "; ".join(p.message for p in refus.problemes)


# --- (c) impossible depuis les statuts qui ne sont pas sources ------------------------------


@pytest.mark.parametrize(("declencheur", "statut"), sorted(paires_impossibles(DEMANDE)))
def test_transition_impossible_hors_de_ses_sources(declencheur, statut):
    demande = demande_avec_lignes(statut, L.avance_versee, L.refusee)
    for ligne_financement in demande.lignes_financement:
        ligne_financement.compte_rendu_valide = True
    # Arguments qui satisferaient toutes les gardes : seul le statut empêche la transition.
    kwargs = {"aujourdhui": JOUR_DEPOT, "attestation": True, "commentaire": MOTIF}

    with pytest.raises(TransitionImpossible) as impossible:
        DEMANDE.declencher(demande, declencheur, **kwargs)

    assert (impossible.value.declencheur, impossible.value.statut) == (declencheur, statut)
    assert demande.statut == statut
    with pytest.raises(TransitionImpossible):
        DEMANDE.problemes(demande, declencheur, **kwargs)


def test_declencheur_inconnu_impossible():
    demande = demande_complete()
    with pytest.raises(TransitionImpossible, match="« publier » est impossible"):
        DEMANDE.declencher(demande, "publier")
    assert demande.statut == S.brouillon


# --- Les gardes de dépôt, en détail -----------------------------------------------------------


def test_soumettre_refuse_liste_tout_ce_qui_manque_avec_son_etape():
    demande = demande_complete(
        intitule=None,
        codes_qpv=[],
        nb_beneficiaires=0,
        date_debut=date(2026, 2, 1),
        date_fin=date(2026, 1, 31),
        lignes_budget=[],
        types_pieces_fournies=set(),
        reponses_eligibilite={},
    )

    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)

    par_code = {}
    for probleme in refus.value.problemes:
        par_code.setdefault(probleme.code, []).append(probleme)
    assert par_code["champ_manquant"][0].champ == "intitule"
    assert par_code["champ_manquant"][0].etape == "action"
    assert par_code["champ_manquant"][0].message == "Renseignez l’intitulé de l’action."
    assert par_code["qpv_manquant"][0].etape == "action"
    assert par_code["beneficiaires"][0].champ == "nb_beneficiaires"
    assert par_code["dates"][0].champ == "date_fin"
    assert {p.etape for p in par_code["budget_vide"]} == {"budget"}
    # Le champ est l'id de l'élément de l'étape (l'ancre du lien de la liste des refus)
    premier = f"financeur_{min(FINANCEUR_ETAT, FINANCEUR_COMMUNE)}"
    assert [(p.etape, p.champ) for p in par_code["aucun_financeur_de_la_campagne"]] == [("budget", premier)]
    assert [p.champ for p in par_code["piece_manquante"]] == ["piece_statuts", "piece_rib"]
    assert all(p.etape == "pieces" for p in par_code["piece_manquante"])
    assert [p.champ for p in par_code["eligibilite_sans_reponse"]] == ["question_1", "question_2"]
    assert demande.statut == S.brouillon


@pytest.mark.parametrize(
    "attribut",
    [
        "responsable_nom",
        "responsable_email",
        "compte_bancaire_id",
        "intitule",
        "objectifs",
        "description",
        "public_cible",
        "nb_beneficiaires",
        "thematique_code",
        "date_debut",
        "date_fin",
        "moyens_humains",
        "indicateurs_evaluation",
    ],
)
def test_chaque_champ_cerfa_obligatoire_bloque_la_soumission(attribut):
    demande = demande_complete()
    setattr(demande, attribut, None)
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert [(p.code, p.champ) for p in refus.value.problemes] == [("champ_manquant", attribut)]


def test_piece_facultative_non_exigee_et_message_de_piece_manquante():
    demande = demande_complete(types_pieces_fournies={"statuts"})  # ni RIB, ni rapport d'activité
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert [p.message for p in refus.value.problemes] == ["Joignez la pièce « Relevé d’identité bancaire »."]


def test_eligibilite_reponse_contraire_dit_la_reponse_attendue():
    demande = demande_complete(reponses_eligibilite={1: False, 2: False})
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    (probleme,) = refus.value.problemes
    assert probleme.code == "eligibilite_non_conforme"
    assert "la campagne demande la réponse « oui »" in probleme.message


# --- Les financeurs sollicités participent à la campagne -----------------------------------------

DEPOTS = [("soumettre", S.brouillon), ("attester", S.attente_attestation), ("attester", S.a_completer)]
HORS_CAMPAGNE = "Un financeur sollicité ne participe pas à cette campagne : indiquez-le en ligne libre."
AUCUN_DE_LA_CAMPAGNE = "Sollicitez au moins un des financeurs de la campagne (compte 74)."


def _budget(*subventions: tuple[str, int | None]) -> list:
    """Budget de 15 000 €, équilibré quand ses subventions `(montant, financeur_id)` font 13 000 €.
    Une subvention sans identifiant est une ligne libre : financeur nommé, absent de la liste."""
    return [
        *charges_et_benevolat(),
        *(
            lb("74", montant, financeur_id, financeur=f"Financeur n° {financeur_id or 'libre'}")
            for montant, financeur_id in subventions
        ),
        lb("70", "2000.00"),
        lb("870", "2000.00"),
    ]


@pytest.mark.parametrize(("declencheur", "source"), DEPOTS)
@pytest.mark.parametrize(
    ("subventions", "attendus"),
    [
        ([("8000.00", FINANCEUR_ETAT), ("5000.00", FINANCEUR_HORS_CAMPAGNE)], ["financeur_hors_campagne"]),
        ([("13000.00", None)], ["aucun_financeur_de_la_campagne"]),
        ([("0.00", FINANCEUR_ETAT), ("13000.00", None)], ["aucun_financeur_de_la_campagne"]),
        (
            [("13000.00", FINANCEUR_HORS_CAMPAGNE)],
            ["financeur_hors_campagne", "aucun_financeur_de_la_campagne"],
        ),
    ],
    ids=[
        "un-hors-campagne",
        "que-des-lignes-libres",
        "financeur-de-la-campagne-a-zero",
        "seul-hors-campagne",
    ],
)
def test_financeurs_participants_refuse_chaque_depot(declencheur, source, subventions, attendus):
    demande, kwargs = PERMIS[(declencheur, source)](source)
    demande.lignes_budget = _budget(*subventions)

    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, declencheur, **kwargs)

    messages = {
        "financeur_hors_campagne": HORS_CAMPAGNE,
        "aucun_financeur_de_la_campagne": AUCUN_DE_LA_CAMPAGNE,
    }
    champs = {  # les lignes libres des autres financeurs, le premier financeur de la campagne
        "financeur_hors_campagne": "libres",
        "aucun_financeur_de_la_campagne": f"financeur_{min(demande.campagne.financeurs_ids)}",
    }
    assert [(p.code, p.message, p.etape, p.champ) for p in refus.value.problemes] == [
        (code, messages[code], "budget", champs[code]) for code in attendus
    ]
    assert demande.statut == source


@pytest.mark.parametrize(("declencheur", "source"), DEPOTS)
@pytest.mark.parametrize(
    "subventions",
    [
        [("8000.00", FINANCEUR_ETAT), ("5000.00", None)],
        [("13000.00", FINANCEUR_COMMUNE)],
        [("6000.00", FINANCEUR_ETAT), ("2000.00", FINANCEUR_ETAT), ("5000.00", FINANCEUR_COMMUNE)],
        [("8000.00", FINANCEUR_ETAT), ("5000.00", FINANCEUR_COMMUNE), ("0.00", FINANCEUR_HORS_CAMPAGNE)],
    ],
    ids=[
        "un-financeur-et-une-ligne-libre",
        "un-seul-des-deux",
        "meme-financeur-deux-fois",
        "hors-campagne-a-zero",
    ],
)
def test_financeurs_participants_permet(declencheur, source, subventions):
    demande, kwargs = PERMIS[(declencheur, source)](source)
    demande.lignes_budget = _budget(*subventions)
    assert DEMANDE.problemes(demande, declencheur, **kwargs) == []
    assert DEMANDE.declencher(demande, declencheur, **kwargs)[0] == source


def test_plusieurs_financeurs_hors_campagne_un_seul_probleme():
    demande = demande_complete(
        lignes_budget=_budget(
            ("8000.00", FINANCEUR_ETAT),
            ("3000.00", FINANCEUR_HORS_CAMPAGNE),
            ("2000.00", FINANCEUR_HORS_CAMPAGNE + 1),
        )
    )
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert [p.code for p in refus.value.problemes] == ["financeur_hors_campagne"]


def test_financeurs_lus_dans_la_campagne_de_la_demande():
    demande = demande_complete()
    demande.campagne.financeurs_ids = [FINANCEUR_ETAT]  # la commune n'a pas (ou plus) d'enveloppe
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert [p.code for p in refus.value.problemes] == ["financeur_hors_campagne"]

    demande.campagne.financeurs_ids = [FINANCEUR_ETAT, FINANCEUR_COMMUNE, FINANCEUR_HORS_CAMPAGNE]
    assert DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT) == (
        S.brouillon,
        S.attente_attestation,
    )


def test_campagne_sans_enveloppe_refuse_tout_depot():
    demande = demande_complete()
    demande.campagne.financeurs_ids = []
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    assert [p.code for p in refus.value.problemes] == [
        "financeur_hors_campagne",
        "aucun_financeur_de_la_campagne",
    ]


def test_subvention_sans_montant_ne_sollicite_pas_le_financeur():
    demande = demande_complete(lignes_budget=_budget((None, FINANCEUR_ETAT), (None, FINANCEUR_HORS_CAMPAGNE)))
    assert [p.code for p in financeurs_participants.verifier(demande, {})] == [
        "aucun_financeur_de_la_campagne"
    ]


def test_seules_les_subventions_du_compte_74_sollicitent_un_financeur():
    # Un identifiant de financeur resté sur une ligne d'un autre compte (70 : prestations) ne compte pas.
    demande = demande_complete(lignes_budget=_budget(("13000.00", None)))
    demande.lignes_budget.append(lb("70", "100.00", financeur_id=FINANCEUR_ETAT))
    demande.lignes_budget.append(lb("70", "100.00", financeur_id=FINANCEUR_HORS_CAMPAGNE))
    assert [p.code for p in financeurs_participants.verifier(demande, {})] == [
        "aucun_financeur_de_la_campagne"
    ]


@pytest.mark.parametrize("jour", [OUVERTURE, CLOTURE], ids=["jour-ouverture", "jour-cloture"])
def test_campagne_ouverte_bornes_incluses(jour):
    demande = demande_complete()
    assert DEMANDE.declencher(demande, "soumettre", aujourdhui=jour) == (S.brouillon, S.attente_attestation)
    assert DEMANDE.declencher(demande, "attester", aujourdhui=jour, attestation=True)[1] == S.transmise


def test_campagne_close_le_lendemain_de_la_cloture_avec_la_date():
    demande = demande_complete()
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=CLOTURE + timedelta(days=1))
    (probleme,) = refus.value.problemes
    assert probleme.code == "campagne_close"
    assert "16/01/2026" in probleme.message
    assert demande.statut == S.brouillon


def test_campagne_pas_encore_ouverte_la_veille_avec_la_date():
    demande = demande_complete()
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "soumettre", aujourdhui=OUVERTURE - timedelta(days=1))
    assert [(p.code, p.message) for p in refus.value.problemes] == [
        ("campagne_pas_ouverte", "La campagne n’ouvre que le 03/11/2025.")
    ]


def test_campagne_close_entre_soumission_et_attestation():
    demande = demande_complete()
    DEMANDE.declencher(demande, "soumettre", aujourdhui=CLOTURE)
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "attester", aujourdhui=CLOTURE + timedelta(days=1), attestation=True)
    assert [p.code for p in refus.value.problemes] == ["campagne_close"]
    assert demande.statut == S.attente_attestation


@pytest.mark.parametrize(
    "declencheur, source", [("soumettre", S.brouillon), ("attester", S.attente_attestation)]
)
def test_action_deja_terminee_refusee_au_depot_sur_la_date_de_fin(declencheur, source):
    """Une campagne rouverte ne reçoit pas une action finie : refus sur le champ date de fin, avec la date ;
    une action qui finit le jour même est encore acceptée."""
    demande = demande_complete(
        statut=source, date_debut=date(2025, 3, 1), date_fin=JOUR_DEPOT - timedelta(days=1)
    )
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, declencheur, aujourdhui=JOUR_DEPOT, attestation=True)
    assert [(p.code, p.etape, p.champ) for p in refus.value.problemes] == [
        ("action_terminee", "action", "date_fin")
    ]
    assert "14/12/2025" in refus.value.problemes[0].message and demande.statut == source
    demande.date_fin = JOUR_DEPOT
    assert DEMANDE.declencher(demande, declencheur, aujourdhui=JOUR_DEPOT, attestation=True)[0] == source


def test_reponse_aux_complements_possible_apres_cloture_de_la_campagne():
    demande = demande_complete(statut=S.a_completer)
    apres = DEMANDE.declencher(demande, "attester", aujourdhui=date(2026, 3, 2), attestation=True)
    assert apres == (S.a_completer, S.transmise)


@pytest.mark.parametrize("valeur", [None, "on", 1, "true"])
def test_attestation_doit_etre_exactement_cochee(valeur):
    demande = demande_complete(statut=S.attente_attestation)
    with pytest.raises(TransitionRefusee) as refus:
        DEMANDE.declencher(demande, "attester", aujourdhui=JOUR_DEPOT, attestation=valeur)
    assert [p.code for p in refus.value.problemes] == ["attestation"]


# --- Clôture d'exercice (actions pluriannuelles) ----------------------------------------------


@pytest.mark.parametrize(
    ("annee_fin", "jour", "permis"),
    [
        (2026, date(2026, 12, 31), False),
        (2026, date(2027, 1, 1), True),
        (2027, date(2027, 1, 1), False),  # action 2026-2027 : la première année ne suffit pas
        (2027, date(2027, 12, 31), False),
        (2027, date(2028, 1, 1), True),
    ],
)
def test_cloturer_exercice_selon_annee_de_fin(annee_fin, jour, permis):
    demande = demande_avec_lignes(S.versee, L.avance_versee, annee_fin=annee_fin)
    if permis:
        assert DEMANDE.declencher(demande, "cloturer_exercice", aujourdhui=jour) == (S.versee, S.a_justifier)
    else:
        with pytest.raises(TransitionRefusee) as refus:
            DEMANDE.declencher(demande, "cloturer_exercice", aujourdhui=jour)
        assert [(p.code, p.message) for p in refus.value.problemes] == [
            ("exercice_en_cours", f"L’exercice {annee_fin} de l’action n’est pas terminé.")
        ]
        assert demande.statut == S.versee


# --- Statuts dérivés des lignes ---------------------------------------------------------------


def test_transmise_en_instruction_des_qu_une_ligne_est_prise_en_charge():
    demande = demande_avec_lignes(S.transmise, L.sollicitee, L.sollicitee)
    assert DEMANDE.suivre_derivations(demande) == []

    LIGNE.declencher(demande.lignes_financement[1], "prendre_en_charge")

    assert DEMANDE.suivre_derivations(demande) == [("debuter_instruction", S.transmise, S.en_instruction)]
    assert demande.statut == S.en_instruction


def test_instruite_quand_chaque_ligne_non_abandonnee_a_son_avis():
    demande = demande_avec_lignes(S.en_instruction, L.prise_en_charge, L.prise_en_charge, L.abandonnee)
    etat, commune, _ = demande.lignes_financement

    LIGNE.declencher(etat, "declarer_recevable", montant=Decimal("6000"))
    assert DEMANDE.suivre_derivations(demande) == []
    assert demande.statut == S.en_instruction

    LIGNE.declencher(commune, "declarer_non_recevable", commentaire="Hors des priorités communales.")
    assert DEMANDE.suivre_derivations(demande) == [("instruire", S.en_instruction, S.instruite)]
    assert demande.statut == S.instruite


def test_transmise_directement_instruite_en_deux_etapes_journalisees():
    demande = demande_avec_lignes(S.transmise, L.recevable, L.non_recevable)
    assert DEMANDE.suivre_derivations(demande) == [
        ("debuter_instruction", S.transmise, S.en_instruction),
        ("instruire", S.en_instruction, S.instruite),
    ]


DEBUTER = ("debuter_instruction", S.transmise, S.en_instruction)
INSTRUIRE = ("instruire", S.en_instruction, S.instruite)


@pytest.mark.parametrize(
    ("statuts_lignes", "derivations", "statut_final"),
    [
        ((L.sollicitee, L.sollicitee), [], S.transmise),
        ((L.prise_en_charge, L.sollicitee), [DEBUTER], S.en_instruction),
        ((L.recevable, L.prise_en_charge), [DEBUTER], S.en_instruction),
        ((L.recevable, L.non_recevable, L.abandonnee), [DEBUTER, INSTRUIRE], S.instruite),
    ],
    ids=["aucune-prise-en-charge", "une-prise-en-charge", "un-avis-sur-deux", "tous-les-avis"],
)
def test_reponse_aux_complements_retransmise_puis_remise_ou_en_sont_les_lignes(
    statuts_lignes, derivations, statut_final
):
    demande = demande_avec_lignes(S.a_completer, *statuts_lignes)

    apres = DEMANDE.declencher(demande, "attester", aujourdhui=date(2026, 2, 20), attestation=True)

    assert apres == (S.a_completer, S.transmise)
    assert DEMANDE.suivre_derivations(demande) == derivations
    assert demande.statut == statut_final
    assert [lf.statut for lf in demande.lignes_financement] == list(statuts_lignes)


def test_reponse_aux_complements_avec_lignes_resynchronisees():
    # Le porteur a changé la subvention de l'État (avis à refaire) et sollicite de nouveau un financeur
    # qu'il avait retiré : le service met les lignes à jour, puis la demande est attestée.
    demande = demande_avec_lignes(S.a_completer, L.recevable, L.non_recevable, L.abandonnee)
    etat, commune, revenu = demande.lignes_financement
    LIGNE.declencher(etat, "reexaminer")
    LIGNE.declencher(revenu, "resolliciter")

    DEMANDE.declencher(demande, "attester", aujourdhui=date(2026, 2, 20), attestation=True)

    assert DEMANDE.suivre_derivations(demande) == [DEBUTER]
    LIGNE.declencher(etat, "declarer_recevable", montant=Decimal("7000"))
    LIGNE.declencher(revenu, "prendre_en_charge")
    assert DEMANDE.suivre_derivations(demande) == []
    LIGNE.declencher(revenu, "declarer_non_recevable", commentaire="Hors des priorités.")
    assert DEMANDE.suivre_derivations(demande) == [INSTRUIRE]
    assert commune.statut == L.non_recevable


def test_retour_en_instruction_quand_un_avis_est_revise():
    demande = demande_avec_lignes(S.instruite, L.recevable, L.non_recevable)
    LIGNE.declencher(demande.lignes_financement[0], "reviser_avis")

    assert DEMANDE.suivre_derivations(demande) == [("reprendre_instruction", S.instruite, S.en_instruction)]
    assert demande.statut == S.en_instruction


def test_programmee_reste_programmee_tant_que_des_lignes_sont_seulement_recevables():
    demande = demande_avec_lignes(S.programmee, L.recevable, L.recevable)
    assert DEMANDE.suivre_derivations(demande) == []
    assert demande.statut == S.programmee


def test_programmee_attribuee_quand_tout_est_decide_et_une_ligne_votee():
    demande = demande_avec_lignes(S.programmee, L.recevable, L.non_recevable)
    etat, commune = demande.lignes_financement

    LIGNE.declencher(
        etat, "voter", montant=Decimal("7500"), reste_enveloppe=RESTE_ENVELOPPE, aujourdhui=JOUR_VOTE
    )
    assert DEMANDE.suivre_derivations(demande) == []  # la commune n'a pas encore décidé

    LIGNE.declencher(commune, "refuser", aujourdhui=JOUR_VOTE)
    assert DEMANDE.suivre_derivations(demande) == [("attribuer", S.programmee, S.attribuee)]


def test_programmee_rejetee_quand_tout_est_decide_sans_montant_vote():
    demande = demande_avec_lignes(S.programmee, L.recevable, L.non_recevable, L.abandonnee)
    for ligne_financement in demande.lignes_financement[:2]:
        LIGNE.declencher(ligne_financement, "refuser", aujourdhui=JOUR_VOTE)

    assert DEMANDE.suivre_derivations(demande) == [("rejeter", S.programmee, S.rejetee)]


def test_attribuee_versee_apres_un_versement():
    demande = demande_avec_lignes(S.attribuee, L.engagee, L.refusee)
    assert DEMANDE.suivre_derivations(demande) == []

    LIGNE.declencher(demande.lignes_financement[0], "verser_avance", montant=Decimal("2400"))

    assert DEMANDE.suivre_derivations(demande) == [("verser", S.attribuee, S.versee)]


def test_justifiee_quand_chaque_ligne_financee_a_valide_le_compte_rendu():
    demande = demande_avec_lignes(S.justification_en_cours, L.avance_versee, L.engagee, L.refusee)
    etat, commune, _refusee = demande.lignes_financement

    etat.compte_rendu_valide = True
    assert DEMANDE.suivre_derivations(demande) == []

    commune.compte_rendu_valide = True  # la ligne refusée (0 €) n'a rien à valider
    assert DEMANDE.suivre_derivations(demande) == [
        ("valider_justification", S.justification_en_cours, S.justifiee)
    ]


def test_pas_justifiee_sans_aucune_ligne_financee_a_valider():
    # « Chaque ligne financée a validé » ne doit pas être vrai par vacuité.
    demande = demande_avec_lignes(S.justification_en_cours, L.refusee, L.abandonnee)
    assert DEMANDE.suivre_derivations(demande) == []
    assert demande.statut == S.justification_en_cours


@pytest.mark.parametrize(
    "statut", sorted(set(S) - {s for t in DEMANDE.transitions if t.systeme for s in t.sources})
)
def test_aucune_derivation_depuis_un_statut_sans_transition_systeme(statut):
    # Une ligne votée, versée et justifiée : les gardes de la plupart des dérivations passeraient.
    demande = demande_avec_lignes(statut, L.avance_versee)
    demande.lignes_financement[0].compte_rendu_valide = True
    assert DEMANDE.suivre_derivations(demande) == []
    assert demande.statut == statut


def test_parcours_complet_d_une_demande():
    demande = demande_avec_lignes(S.brouillon, L.sollicitee, L.sollicitee)
    etat, commune = demande.lignes_financement

    DEMANDE.declencher(demande, "soumettre", aujourdhui=JOUR_DEPOT)
    DEMANDE.declencher(demande, "attester", aujourdhui=JOUR_DEPOT, attestation=True)
    LIGNE.declencher(etat, "prendre_en_charge")
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["debuter_instruction"]
    DEMANDE.declencher(demande, "demander_complements", commentaire=MESSAGE)
    DEMANDE.declencher(demande, "attester", aujourdhui=date(2026, 2, 20), attestation=True)
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["debuter_instruction"]
    LIGNE.declencher(etat, "declarer_recevable", montant=Decimal("8000"))
    LIGNE.declencher(commune, "prendre_en_charge")
    LIGNE.declencher(commune, "declarer_recevable", montant=Decimal("5000"))
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["instruire"]
    DEMANDE.declencher(demande, "programmer")
    LIGNE.declencher(etat, "voter", montant=Decimal("8000"), reste_enveloppe=RESTE_ENVELOPPE)
    LIGNE.declencher(commune, "refuser")
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["attribuer"]
    LIGNE.declencher(etat, "notifier")
    LIGNE.declencher(etat, "verser_avance", montant=Decimal("4000"))
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["verser"]
    DEMANDE.declencher(demande, "cloturer_exercice", aujourdhui=APRES_EXERCICE)
    DEMANDE.declencher(demande, "deposer_justification", attestation=True)
    assert DEMANDE.suivre_derivations(demande) == []
    LIGNE.declencher(etat, "valider_compte_rendu")
    assert [d for d, _, _ in DEMANDE.suivre_derivations(demande)] == ["valider_justification"]
    LIGNE.declencher(etat, "solder", montant=Decimal("4000"))

    assert demande.statut == S.justifiee
    assert (etat.statut, etat.montant_verse) == (L.soldee, Decimal("8000"))
    assert (commune.statut, commune.montant_vote) == (L.refusee, Decimal("0"))
