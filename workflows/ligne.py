"""La machine de la ligne de financement : chaque financeur n'agit que sur la sienne."""

from decimal import Decimal

from workflows.gardes import (
    aujourdhui,
    avis_modifiable,
    compte_rendu_pas_encore_valide,
    convention_non_requise,
    convention_requise,
    convention_signee,
    decision_corrigeable,
    dossier_programme,
    justification_deposee,
    montant_propose_valide,
    montant_vote_valide,
    motif_fourni,
    solde_valide,
    versement_valide,
)
from workflows.moteur import Definition, Transition
from workflows.statuts import StatutLigne as L


def _montant(event) -> Decimal:
    return Decimal(str(event.kwargs["montant"]))


def enregistrer_montant_propose(event):
    event.model.montant_propose = _montant(event)
    event.model.motif_avis = None


def enregistrer_non_recevabilite(event):
    event.model.montant_propose = None
    event.model.motif_avis = event.kwargs["commentaire"].strip()


def effacer_avis(event):
    event.model.montant_propose = None
    event.model.motif_avis = None


SEUIL_CONVENTION = Decimal("23000")  # loi 2000-321, décret 2001-495 : au-delà, convention écrite


def enregistrer_vote(event):
    event.model.montant_vote = _montant(event)
    event.model.vote_le = aujourdhui(event.kwargs)
    # Le seuil s'apprécie par financeur, par structure et par an, en cumulant les autres subventions votées.
    cumul = Decimal(str(event.kwargs.get("deja_vote_structure") or 0)) + event.model.montant_vote
    event.model.convention_requise = cumul > SEUIL_CONVENTION


def enregistrer_refus(event):
    event.model.montant_vote = Decimal("0")
    event.model.vote_le = aujourdhui(event.kwargs)


def enregistrer_validation_compte_rendu(event):
    event.model.compte_rendu_valide = True


def enregistrer_versement(event):
    # Sans montant, solde_valide admet un solde de 0 € (tout versé en avances) : même lecture ici.
    montant = _montant(event) if event.kwargs.get("montant") is not None else Decimal("0")
    event.model.montant_verse = (event.model.montant_verse or Decimal("0")) + montant


AVANT_VOTE = (L.sollicitee, L.prise_en_charge, L.recevable, L.non_recevable)

LIGNE = Definition(
    nom="Ligne de financement",
    etats=L,
    initial=L.sollicitee,
    transitions=(
        Transition("prendre_en_charge", (L.sollicitee,), L.prise_en_charge),
        Transition(
            "declarer_recevable",
            (L.prise_en_charge,),
            L.recevable,
            (montant_propose_valide,),
            (enregistrer_montant_propose,),
        ),
        Transition(
            "declarer_non_recevable",
            (L.prise_en_charge,),
            L.non_recevable,
            (motif_fourni,),
            (enregistrer_non_recevabilite,),
        ),
        Transition(
            "reviser_avis",
            (L.recevable, L.non_recevable),
            L.prise_en_charge,
            (avis_modifiable,),
            (effacer_avis,),
        ),
        # Clôture du comité de pilotage
        Transition(
            "voter", (L.recevable,), L.votee, (dossier_programme, montant_vote_valide), (enregistrer_vote,)
        ),
        Transition(
            "refuser", (L.recevable, L.non_recevable), L.refusee, (dossier_programme,), (enregistrer_refus,)
        ),
        # Correction d'une décision du comité déjà close, motivée (tant que la ligne n'est pas engagée)
        Transition(
            "corriger_vote",
            (L.votee, L.refusee),
            L.votee,
            (decision_corrigeable, motif_fourni, montant_vote_valide),
            (enregistrer_vote,),
        ),
        Transition(
            "annuler_vote", (L.votee,), L.refusee, (decision_corrigeable, motif_fourni), (enregistrer_refus,)
        ),
        # Engagement juridique : notification sous le seuil, convention au-delà de 23 000 €
        Transition("notifier", (L.votee,), L.engagee, (convention_non_requise,)),
        Transition("etablir_convention", (L.votee,), L.convention_a_signer, (convention_requise,)),
        Transition("signer_convention", (L.convention_a_signer,), L.engagee, (convention_signee,)),
        Transition(
            "verser_avance",
            (L.engagee, L.avance_versee),
            L.avance_versee,
            (versement_valide,),
            (enregistrer_versement,),
        ),
        # Le financeur valide le compte rendu financier pour sa ligne ; le statut de la ligne ne change pas.
        Transition(
            "valider_compte_rendu",
            (L.engagee,),
            L.engagee,
            (justification_deposee, compte_rendu_pas_encore_valide),
            (enregistrer_validation_compte_rendu,),
        ),
        Transition(
            "valider_compte_rendu",
            (L.avance_versee,),
            L.avance_versee,
            (justification_deposee, compte_rendu_pas_encore_valide),
            (enregistrer_validation_compte_rendu,),
        ),
        Transition(
            "solder", (L.engagee, L.avance_versee), L.soldee, (solde_valide,), (enregistrer_versement,)
        ),
        # Demande retirée ou classée sans suite avant décision, ou financeur retiré du budget
        Transition("abandonner", AVANT_VOTE, L.abandonnee, systeme=True),
        # Le porteur sollicite de nouveau un financeur qu'il avait retiré
        Transition("resolliciter", (L.abandonnee,), L.sollicitee, (), (effacer_avis,), systeme=True),
        # Le montant demandé a changé après l'avis (réponse à une demande de compléments) : avis à refaire
        Transition(
            "reexaminer", (L.recevable, L.non_recevable), L.prise_en_charge, (), (effacer_avis,), systeme=True
        ),
    ),
)
