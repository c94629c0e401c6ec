"""Objets simples tenant lieu des objets ORM que lisent les gardes de `workflows`.

`demande_complete()` rend une demande que toutes les gardes de dépôt acceptent ;
`ligne(statut)` une ligne de financement cohérente avec son statut, rattachée à une demande.
Chaque test part de là et ne change que ce qu'il vérifie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from workflows import TransitionRefusee
from workflows.moteur import Definition
from workflows.statuts import StatutDemande as S
from workflows.statuts import StatutLigne as L

# --- Calendrier d'une campagne type ---------------------------------------------------

OUVERTURE = date(2025, 11, 3)
CLOTURE = date(2026, 1, 16)
JOUR_DEPOT = date(2025, 12, 15)  # pendant la campagne
ANNEE_ACTION = 2026
APRES_EXERCICE = date(2027, 1, 4)  # l'exercice 2026 est terminé
JOUR_VOTE = date(2026, 4, 14)

# --- Montants d'une ligne type ---------------------------------------------------------

MONTANT_DEMANDE = Decimal("10000.00")
MONTANT_PROPOSE = Decimal("8000.00")
MONTANT_VOTE = Decimal("8000.00")
AVANCE = Decimal("3000.00")
RESTE_ENVELOPPE = Decimal("50000.00")

# --- Financeurs (identifiants d'organisation) -------------------------------------------

FINANCEUR_ETAT = 1  # enveloppe dans la campagne type
FINANCEUR_COMMUNE = 2  # enveloppe dans la campagne type
FINANCEUR_HORS_CAMPAGNE = 9  # un financeur sans enveloppe dans la campagne type


@dataclass
class PieceRequise:
    type_piece: str
    libelle: str
    obligatoire: bool = True


@dataclass
class Question:
    id: int
    libelle: str
    reponse_attendue: bool


@dataclass
class Campagne:
    date_ouverture: date = OUVERTURE
    date_cloture: date = CLOTURE
    pieces_requises: list[PieceRequise] = field(
        default_factory=lambda: [
            PieceRequise("statuts", "Statuts de l’association"),
            PieceRequise("rib", "Relevé d’identité bancaire"),
            PieceRequise("rapport_activite", "Dernier rapport d’activité", obligatoire=False),
        ]
    )
    questions_eligibilite: list[Question] = field(
        default_factory=lambda: [
            Question(1, "L’action bénéficie-t-elle aux habitants d’un quartier prioritaire ?", True),
            Question(2, "L’action relève-t-elle du seul droit commun ?", False),
        ]
    )
    # Les organisations qui ont une enveloppe dans la campagne : les deux financeurs du budget type.
    financeurs_ids: list[int] = field(default_factory=lambda: [FINANCEUR_ETAT, FINANCEUR_COMMUNE])


@dataclass
class LigneBudget:
    compte: str
    montant: Decimal | None
    financeur_id: int | None = None
    financeur_libelle: str | None = None


def lb(compte: str, montant: str | None, financeur_id: int | None = None, financeur: str | None = None):
    """Ligne de budget en une ligne : `lb("74", "8000", financeur="État")`."""
    return LigneBudget(compte, None if montant is None else Decimal(montant), financeur_id, financeur)


def charges_et_benevolat() -> list[LigneBudget]:
    """Les charges du budget type (15 000 €, dont 700 € de charges indirectes) et son bénévolat (2 000 €)."""
    return [
        lb("60", "1500.00"),
        lb("61", "800.00"),
        lb("64", "12000.00"),
        lb("CI", "700.00"),
        lb("864", "2000.00"),
    ]


def budget_equilibre() -> list[LigneBudget]:
    """Budget réaliste d'une action de quartier : 15 000 € de charges, 2 000 € de bénévolat,
    deux subventions demandées aux deux financeurs de la campagne type."""
    return [
        *charges_et_benevolat(),
        lb("74", "8000.00", financeur_id=FINANCEUR_ETAT, financeur="État – P147"),
        lb("74", "5000.00", financeur_id=FINANCEUR_COMMUNE, financeur="Commune de Saint-Denis"),
        lb("70", "2000.00"),
        lb("870", "2000.00"),
    ]


@dataclass
class PosteCompteRendu:
    """Un poste du tableau financier du compte rendu : le réalisé face au prévu."""

    compte: str
    montant_prevu: Decimal
    montant_realise: Decimal | None
    explication: str | None = None
    financeur_id: int | None = None
    financeur_libelle: str | None = None
    cle: int = 1  # le rang du poste dans le formulaire (`explication_<cle>`)


@dataclass
class CompteRendu:
    """Compte rendu financier conforme : le réalisé est le prévu."""

    action_realisee: bool = True
    motif_non_realisation: str | None = None
    bilan: str | None = "Quarante ateliers tenus."
    public_atteint: str | None = "38 habitantes du quartier."
    lignes: list[PosteCompteRendu] = field(
        default_factory=lambda: [
            PosteCompteRendu(b.compte, b.montant, b.montant, None, b.financeur_id, b.financeur_libelle)
            for b in budget_equilibre()
        ]
    )


@dataclass(eq=False)  # comme un objet ORM : identité, pas égalité de valeurs
class Demande:
    statut: S | str = S.brouillon
    # Champs CERFA (voir gardes.CHAMPS_OBLIGATOIRES)
    responsable_nom: str | None = "Awa Diallo"
    responsable_email: str | None = "awa.diallo@asso-exemple.fr"
    compte_bancaire_id: int | None = 42
    intitule: str | None = "Ateliers sociolinguistiques au Franc-Moisin"
    objectifs: str | None = "Favoriser l’autonomie des habitantes dans leurs démarches."
    description: str | None = "Deux ateliers hebdomadaires de français à visée sociale."
    public_cible: str | None = "Femmes de 25 à 60 ans résidant dans le quartier"
    nb_beneficiaires: int | None = 40
    thematique_code: str | None = "1.5"
    date_debut: date | None = date(ANNEE_ACTION, 2, 1)
    date_fin: date | None = date(ANNEE_ACTION, 12, 31)
    moyens_humains: str | None = "Une formatrice salariée et trois bénévoles."
    indicateurs_evaluation: str | None = "Assiduité, progression aux évaluations DELF."
    # Le reste du dossier
    codes_qpv: list[str] = field(default_factory=lambda: ["QN09301M"])
    lignes_budget: list[LigneBudget] = field(default_factory=budget_equilibre)
    types_pieces_fournies: set[str] = field(default_factory=lambda: {"statuts", "rib"})
    campagne: Campagne = field(default_factory=Campagne)
    reponses_eligibilite: dict[int, bool] = field(default_factory=lambda: {1: True, 2: False})
    lignes_financement: list[LigneFinancement] = field(default_factory=list)
    annee_fin: int = ANNEE_ACTION
    compte_rendu: CompteRendu | None = field(default_factory=CompteRendu)


@dataclass(eq=False)
class LigneFinancement:
    statut: L | str = L.sollicitee
    montant_demande: Decimal = MONTANT_DEMANDE
    montant_propose: Decimal | None = None
    motif_avis: str | None = None
    montant_vote: Decimal | None = None
    vote_le: date | None = None
    montant_verse: Decimal | None = None
    compte_rendu_valide: bool = False
    convention_requise: bool = False
    convention_signee: bool = False
    demande: Demande | None = field(default=None, repr=False)


def demande_complete(**overrides) -> Demande:
    """Demande que toutes les gardes de dépôt acceptent (statut brouillon par défaut)."""
    return Demande(**overrides)


RECEVABLE_OU_APRES = {L.recevable, L.votee, L.convention_a_signer, L.engagee, L.avance_versee, L.soldee}
VOTEE_OU_APRES = {L.votee, L.convention_a_signer, L.engagee, L.avance_versee, L.soldee}


def ligne(statut: L | str = L.sollicitee, *, demande: Demande | None = None, **overrides) -> LigneFinancement:
    """Ligne de financement dont les montants sont cohérents avec `statut`.

    Sans `demande`, la ligne est rattachée à une demande en instruction dont elle est la seule ligne.
    """
    etat = L(statut)
    valeurs: dict = {}
    if etat in RECEVABLE_OU_APRES:
        valeurs["montant_propose"] = MONTANT_PROPOSE
    if etat is L.non_recevable:
        valeurs["motif_avis"] = "Action hors du champ de la campagne."
    if etat in VOTEE_OU_APRES:
        valeurs.update(montant_vote=MONTANT_VOTE, vote_le=JOUR_VOTE)
    if etat is L.refusee:
        valeurs.update(montant_vote=Decimal("0"), vote_le=JOUR_VOTE)
    if etat is L.convention_a_signer:
        valeurs["convention_requise"] = True
    if etat is L.avance_versee:
        valeurs["montant_verse"] = AVANCE
    if etat is L.soldee:
        valeurs.update(montant_verse=MONTANT_VOTE, compte_rendu_valide=True)
    valeurs.update(overrides)
    resultat = LigneFinancement(statut=statut, **valeurs)
    if demande is None:
        demande = demande_complete(statut=S.en_instruction)
    rattacher(resultat, demande)
    return resultat


def ligne_au_comite(statut: L | str = L.recevable, **overrides) -> LigneFinancement:
    """Ligne rattachée à une demande programmée en comité : seul moment où l'on vote ou refuse."""
    return ligne(statut, demande=demande_complete(statut=S.programmee), **overrides)


def rattacher(ligne_financement: LigneFinancement, demande: Demande) -> None:
    ligne_financement.demande = demande
    if not any(autre is ligne_financement for autre in demande.lignes_financement):
        demande.lignes_financement.append(ligne_financement)


def demande_avec_lignes(statut: S | str, *statuts_lignes: L | str, **overrides) -> Demande:
    """Demande au statut donné, portant une ligne de financement par statut de ligne donné."""
    demande = demande_complete(statut=statut, **overrides)
    for statut_ligne in statuts_lignes:
        ligne(statut_ligne, demande=demande)
    return demande


# --- Lecture des définitions (pour que les cas de test suivent les machines) -----------


def paires(definition: Definition) -> set[tuple[str, str]]:
    """Les couples (déclencheur, source) de la définition."""
    return {(t.declencheur, s.value) for t in definition.transitions for s in t.sources}


def triplets_gardes(definition: Definition) -> set[tuple[str, str, str]]:
    """Les triplets (déclencheur, source, garde) : chaque garde de chaque transition, depuis chaque source."""
    return {
        (t.declencheur, s.value, g.nom) for t in definition.transitions for s in t.sources for g in t.gardes
    }


def paires_impossibles(definition: Definition) -> set[tuple[str, str]]:
    """Les couples (déclencheur, statut) où le déclencheur n'existe pas."""
    existantes = paires(definition)
    return {
        (declencheur, etat.value)
        for declencheur in definition.declencheurs
        for etat in definition.etats
        if (declencheur, etat.value) not in existantes
    }


def transition_de(definition: Definition, declencheur: str, source: str):
    (transition,) = [
        t for t in definition.transitions if t.declencheur == declencheur and source in t.sources
    ]
    return transition


# --- Casser une garde, seule : une façon de la faire échouer, qui rend le code de problème attendu ------


def par_argument(code: str, **arguments):
    """La garde échoue par un argument du déclencheur (`commentaire`, `aujourdhui`, …)."""

    def casser(objet, kwargs):
        kwargs.update(arguments)
        return code

    return casser


def par_champ(code: str, **champs):
    """La garde échoue par un champ de l'objet : la demande, ou la ligne de financement."""

    def casser(objet, kwargs):
        for nom, valeur in champs.items():
            setattr(objet, nom, valeur)
        return code

    return casser


# --- Les trois vérifications communes aux deux machines, à partir de leurs cas permis et cassés ---------


def declencher_le_cas_permis(machine: Definition, permis: dict, declencheur: str, source):
    """Le cas permis de (`declencheur`, `source`) : aucune garde n'objecte, la transition mène à sa
    destination. Rend l'objet transité."""
    objet, kwargs = permis[(declencheur, source)](source)
    destination = transition_de(machine, declencheur, source).destination
    assert machine.problemes(objet, declencheur, **kwargs) == []

    assert machine.declencher(objet, declencheur, **kwargs) == (source, destination)
    assert objet.statut == destination
    return objet


def refuser_par_la_seule_garde(
    machine: Definition, permis, casser, etat, declencheur: str, source, garde: str
):
    """Le cas permis, cassé pour `garde` (`casser[garde]`) : la garde visée échoue, et elle seule — le refus
    lui est bien imputable ; la transition est refusée avec ce code et ne change rien à l'objet (`etat`).
    Rend le refus."""
    objet, kwargs = permis[(declencheur, source)](source)
    code = casser[garde](objet, kwargs)
    gardes = {g.nom: g for g in transition_de(machine, declencheur, source).gardes}
    assert {p.code for p in gardes[garde].verifier(objet, kwargs)} == {code}
    assert all(g.verifier(objet, kwargs) == [] for nom, g in gardes.items() if nom != garde)
    avant = etat(objet)

    with pytest.raises(TransitionRefusee) as refus:
        machine.declencher(objet, declencheur, **kwargs)

    assert {p.code for p in refus.value.problemes} == {code}
    assert etat(objet) == avant
    return refus.value
