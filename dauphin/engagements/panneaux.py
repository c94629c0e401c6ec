"""Le panneau « Engagement et versements » de la vue d'un dossier : pour chaque ligne votée, l'acte
(notification ou convention), la convention signée, le numéro d'engagement, l'échéancier et les paiements ;
et, pour qui en a le droit, les formulaires d'action. Appelé par `dauphin.dossiers.voir`.

Tous ceux qui voient le dossier voient ce panneau — le porteur aussi, une fois la décision du comité
définitive — ; seul l'instructeur du financeur agit sur sa ligne, et le signataire de la structure dépose
la convention signée.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_login import current_user

from dauphin.models import Demande, Document, LigneFinancement, TypePiece, Versement
from dauphin.policies import INSTRUIRE_LIGNE, qualite_pour, voit_instruction
from dauphin.services import engagements as service
from forms.engagements import (
    ActeForm,
    ConventionSigneeForm,
    EcheanceForm,
    EngagementForm,
    VersementForm,
)
from workflows import StatutLigne


def _avec_version(form, ligne: LigneFinancement):
    if not form.is_submitted():
        form.version.data = ligne.version
    return form


def formulaire_acte(ligne: LigneFinancement, prefixe: str | None = None) -> ActeForm:
    form = _avec_version(ActeForm(prefix=prefixe or f"acte-{ligne.id}"), ligne)
    if not form.is_submitted() and prefixe is None and ligne.statut == StatutLigne.votee:
        form.regime.data = service.regime(service.convention_requise(ligne))
    return form


def formulaire_convention(ligne: LigneFinancement) -> ConventionSigneeForm:
    return _avec_version(ConventionSigneeForm(prefix=f"convention-{ligne.id}"), ligne)


def formulaire_engagement(ligne: LigneFinancement) -> EngagementForm:
    form = _avec_version(EngagementForm(prefix=f"engagement-{ligne.id}"), ligne)
    if not form.is_submitted():
        form.numero_engagement.data = ligne.numero_engagement
    return form


def formulaire_echeance(ligne: LigneFinancement) -> EcheanceForm:
    return _avec_version(EcheanceForm(prefix=f"echeance-{ligne.id}"), ligne)


def formulaire_paiement(versement: Versement, ligne: LigneFinancement) -> VersementForm:
    form = _avec_version(VersementForm(prefix=f"paiement-{versement.id}"), ligne)
    if not form.is_submitted():
        # Le solde est exactement le reste à verser, quel qu'ait été le montant prévu.
        solde = versement.nature.value == "solde"
        form.montant.data = (ligne.montant_vote - ligne.montant_verse) if solde else versement.montant_prevu
    return form


# --- Qui agit sur la ligne : les vues (403) et le panneau (actions proposées) lisent ces deux fonctions --


def financeur(ligne: LigneFinancement) -> bool:
    """L'instructeur du financeur de la ligne : lui seul établit l'acte, saisit l'engagement, tient
    l'échéancier et enregistre les paiements (`policies.INSTRUIRE_LIGNE`)."""
    return INSTRUIRE_LIGNE.permet(current_user, ligne)


def signe_la_convention(ligne: LigneFinancement) -> bool:
    """Le signataire de la structure, ou l'instructeur du financeur quand la convention lui revient signée
    par courrier (`signer_convention`)."""
    return qualite_pour(current_user, "signer_convention", ligne.demande, ligne) is not None


@dataclass
class BlocLigne:
    """Une ligne votée dans le panneau ; ses `peut_*` : l'action est permise à l'utilisateur et possible
    maintenant (quand : `services.engagements`), sans quoi elle n'est pas proposée."""

    ligne: LigneFinancement
    echeances: list[Versement]
    totaux: service.Totaux
    acte: Document | None = None
    convention_signee: Document | None = None
    financeur: bool = False
    convention_a_venir: bool = False  # régime de la convention (au-delà de 23 000 €)
    formulaires: dict = field(default_factory=dict)

    @property
    def libelle_acte(self) -> str:
        """Le lien de l'acte, d'après son type et l'état de la ligne : la convention n'est « à signer » que
        tant que la structure ne l'a pas déposée signée (elle est alors en lien à part, « Convention
        signée »)."""
        if (
            self.acte.type_piece is TypePiece.convention
            and self.ligne.statut != StatutLigne.convention_a_signer
        ):
            return "Convention établie par le financeur (avant signature)"
        return self.acte.type_piece.libelle

    @property
    def peut_etablir_acte(self) -> bool:
        return self.financeur and service.peut_etablir_acte(self.ligne)

    @property
    def peut_deposer_convention(self) -> bool:
        return self.ligne.statut == StatutLigne.convention_a_signer and signe_la_convention(self.ligne)

    @property
    def peut_saisir_engagement(self) -> bool:
        return self.financeur and self.ligne.statut in service.PAYABLE

    @property
    def peut_relancer_acte(self) -> bool:
        return self.financeur and service.acte_a_relancer(self.ligne)

    @property
    def peut_prevoir(self) -> bool:
        return self.financeur and self.ligne.statut in service.ECHEANCIER_MODIFIABLE

    @property
    def peut_payer(self) -> bool:
        return self.financeur and self.ligne.statut in service.PAYABLE


def _lignes_montrees(demande: Demande) -> list[LigneFinancement]:
    """Les lignes votées ; pour le porteur, seulement quand le comité a rendu sa décision définitive."""
    if not voit_instruction(current_user, demande) and demande.statut not in service.DOSSIER_DECIDE:
        return []
    return [
        ligne
        for ligne in demande.lignes_financement
        if ligne.statut in service.LIGNE_VOTEE and (ligne.montant_vote or 0) > 0
    ]


def _formulaires(bloc: BlocLigne) -> dict:
    """Les formulaires des actions proposées sur la ligne."""
    ligne, formulaires = bloc.ligne, {}
    if bloc.peut_etablir_acte:
        formulaires["acte"] = formulaire_acte(ligne)
    if bloc.peut_deposer_convention:
        formulaires["convention"] = formulaire_convention(ligne)
    if bloc.peut_saisir_engagement:
        formulaires["engagement"] = formulaire_engagement(ligne)
    if bloc.peut_relancer_acte:
        formulaires["relancer"] = formulaire_acte(ligne)
    if bloc.peut_prevoir:
        formulaires["echeance"] = formulaire_echeance(ligne)
        formulaires["supprimer"] = {
            v.id: formulaire_acte(ligne, prefixe=f"supprimer-{v.id}") for v in bloc.echeances if not v.paye
        }
    return formulaires


def contexte_engagements(demande: Demande) -> dict:
    lignes = _lignes_montrees(demande)
    if not lignes:
        return {"blocs_engagement": []}
    echeances = service.echeanciers([ligne.id for ligne in lignes])
    pieces = service.documents_des_lignes(lignes)
    blocs = []
    for ligne in lignes:
        bloc = BlocLigne(
            ligne,
            echeances[ligne.id],
            service.totaux(ligne, echeances[ligne.id]),
            acte=pieces.get(ligne.acte_document_id),
            convention_signee=pieces.get(ligne.convention_document_id),
            financeur=financeur(ligne),
        )
        if bloc.peut_etablir_acte:
            bloc.convention_a_venir = service.convention_requise(ligne)
        bloc.formulaires = _formulaires(bloc)
        blocs.append(bloc)
    return {"blocs_engagement": blocs}
