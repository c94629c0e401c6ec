"""Après le vote : l'engagement juridique de chaque ligne et ses versements. Chaque financeur n'agit que
sur sa propre ligne.

- **Acte** : sous le seuil de 23 000 € (voté par ce financeur à cette structure pour l'exercice, toutes
  demandes confondues) une notification suffit (`notifier` : votée → engagée) ; au-delà une convention écrite
  est obligatoire (`etablir_convention` : votée → convention à signer). Le PDF est produit par une tâche
  après le commit (`dauphin.taches.generer_acte`) ; la structure est prévenue par courriel.
- **Convention signée** : déposée par le signataire de la structure (représentant légal ou délégué, celui
  qui atteste les demandes) — c'est sa signature qui manque à la convention établie par le financeur — ou
  par l'instructeur du financeur quand elle lui revient par courrier. `signer_convention` : → engagée.
- **Numéro d'engagement juridique** (EJ Chorus…) : saisi par le financeur, journalisé ; exigé avant tout
  versement, comme dans la chaîne de la dépense.
- **Échéancier et versements** : une table `versement` (avances et solde, prévus puis payés). Payer une
  avance déclenche `verser_avance`, payer le solde `solder` (après validation du compte rendu financier de
  la ligne, pour exactement le reste à verser) ; le dossier devient « versé » au premier paiement (statut
  dérivé). Le total prévu et le total payé ne dépassent jamais le montant voté.

Tout passe par `declencher_ligne` (verrou du dossier, droit, transition, journal, commit, puis courriels et
tâches) ou par le même schéma (`en_une_transaction`) pour ce qui n'est pas une transition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, select, update
from werkzeug.exceptions import NotFound

from dauphin import jobs, pdf
from dauphin.extensions import db
from dauphin.models import (
    Demande,
    Document,
    LigneFinancement,
    MembreOrganisation,
    NatureVersement,
    RoleOrganisation,
    TypePiece,
    Utilisateur,
    Versement,
    maintenant,
)
from dauphin.policies import INSTRUIRE_LIGNE, Qualite, qualite_pour
from dauphin.services import courriels, documents, enveloppes
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.services.workflow import aujourdhui as aujourdhui_paris
from dauphin.services.workflow import declencher_ligne, journaliser
from dauphin.unite_de_travail import charger_ligne_verrouillee, en_une_transaction
from workflows import StatutDemande, StatutLigne
from workflows.budget import format_euros
from workflows.ligne import SEUIL_CONVENTION
from workflows.statuts import STATUTS_DEMANDE_FINANCEE

L, D = StatutLigne, StatutDemande

# Le comité a clos sa séance : la décision est définitive, l'acte peut être établi.
DOSSIER_DECIDE = frozenset(STATUTS_DEMANDE_FINANCEE)
LIGNE_ENGAGEE = frozenset({L.engagee, L.avance_versee, L.soldee})
LIGNE_VOTEE = frozenset({L.votee, L.convention_a_signer}) | LIGNE_ENGAGEE
# Statuts où l'échéancier se prépare et où l'on paie
ECHEANCIER_MODIFIABLE = frozenset({L.votee, L.convention_a_signer, L.engagee, L.avance_versee})
PAYABLE = frozenset({L.engagee, L.avance_versee})


# --- Lecture -----------------------------------------------------------------------------------


def cumul_vote(ligne: LigneFinancement) -> Decimal:
    """Ce que ce financeur a voté à cette structure pour cet exercice, cette ligne comprise."""
    demande = ligne.demande
    return enveloppes.vote_a_la_structure(ligne.organisation_id, demande.structure_id, demande.exercice)


def convention_requise(ligne: LigneFinancement) -> bool:
    """Le seuil s'apprécie au moment d'établir l'acte : un vote ultérieur du même financeur à la même
    structure la même année peut faire passer une ligne encore « votée » au régime de la convention."""
    return ligne.convention_requise or cumul_vote(ligne) > SEUIL_CONVENTION


# Quand chaque action est possible (qui peut la faire : `dauphin.policies`, lu par dauphin/engagements).


def peut_etablir_acte(ligne: LigneFinancement) -> bool:
    return (
        ligne.statut == L.votee and ligne.demande.statut in DOSSIER_DECIDE and (ligne.montant_vote or 0) > 0
    )


def acte_a_relancer(ligne: LigneFinancement) -> bool:
    """L'acte est établi mais son PDF manque (tâche perdue) : sa production peut être relancée."""
    return ligne.acte_document_id is None and ligne.statut in (L.convention_a_signer, *LIGNE_ENGAGEE)


def paiement_impossible(versement: Versement, ligne: LigneFinancement) -> str | None:
    """Pourquoi cette échéance ne peut pas être payée maintenant, ou None."""
    if versement.paye:
        return "Ce paiement est déjà enregistré."
    if ligne.statut not in PAYABLE:
        return f"Aucun paiement n’est possible : la ligne est « {ligne.statut.libelle} »."
    return None


# Lues à chaque vue d'un dossier aux lignes votées : construites une fois, les identifiants en paramètre
# étendu (la clé de cache de la requête n'est pas recalculée à chaque vue).
_ECHEANCES = (
    select(Versement)
    .where(Versement.ligne_id.in_(bindparam("lignes", expanding=True)))
    .order_by(Versement.ligne_id, Versement.date_prevue, Versement.id)
)
_DOCUMENTS = select(Document).where(Document.id.in_(bindparam("documents", expanding=True)))


def echeanciers(ligne_ids) -> dict[int, list[Versement]]:
    """Les échéances de chaque ligne, dans l'ordre des dates prévues, en une requête."""
    resultat: dict[int, list[Versement]] = defaultdict(list)
    if not ligne_ids:
        return resultat
    for versement in db.session.scalars(_ECHEANCES, {"lignes": list(ligne_ids)}):
        resultat[versement.ligne_id].append(versement)
    return resultat


@dataclass(frozen=True)
class Totaux:
    vote: Decimal
    prevu: Decimal  # échéances non payées
    verse: Decimal

    @property
    def reste_a_verser(self) -> Decimal:
        return self.vote - self.verse

    @property
    def reste_a_prevoir(self) -> Decimal:
        return self.vote - self.verse - self.prevu


def totaux(ligne: LigneFinancement, echeances: list[Versement]) -> Totaux:
    prevu = sum((v.montant_prevu for v in echeances if not v.paye), Decimal("0"))
    return Totaux(ligne.montant_vote or Decimal("0"), prevu, ligne.montant_verse or Decimal("0"))


def documents_des_lignes(lignes) -> dict[int, Document]:
    ids = {i for ligne in lignes for i in (ligne.acte_document_id, ligne.convention_document_id) if i}
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(_DOCUMENTS, {"documents": list(ids)})}


# --- Courriels ---------------------------------------------------------------------------------


def _ecrire_structure(demande: Demande, message: str, **contexte) -> None:
    for email in courriels._emails_structure(demande):
        courriels.ecrire_message(message, email, demande, **contexte)


def _emails_instructeurs(organisation_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Utilisateur.email)
            .join(MembreOrganisation, MembreOrganisation.utilisateur_id == Utilisateur.id)
            .where(
                MembreOrganisation.organisation_id == organisation_id,
                MembreOrganisation.role == RoleOrganisation.instructeur,
                Utilisateur.actif.is_(True),
            )
            .order_by(Utilisateur.email)
        )
    )


# --- Acte : notification ou convention ------------------------------------------------------------


def regime(convention: bool) -> str:
    return "convention" if convention else "notification"


def etablir_acte(
    ligne_id: int, utilisateur: Utilisateur, *, version=None, regime_lu: str | None = None
) -> LigneFinancement:
    """Notification (sous le seuil) ou convention à signer (au-delà) ; le PDF suit par une tâche.

    `regime_lu` : l'acte que l'usager a vu proposé (« notification » ou « convention ») ; s'il ne
    correspond plus au cumul voté, rien n'est fait (conflit).
    """
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None:
        raise NotFound()
    convention = convention_requise(ligne) if not regime_lu else regime_lu == "convention"

    def avant(demande, ligne):
        if demande.statut not in DOSSIER_DECIDE:
            raise Refus(
                "Le comité de pilotage n’a pas encore clos sa séance sur ce dossier : la décision n’est pas "
                "définitive."
            )
        # Recalculé sous le verrou : un autre vote du même financeur à la même structure a pu passer.
        ligne.convention_requise = convention_requise(ligne)
        if ligne.convention_requise != convention:
            raise Conflit(
                "Le cumul voté à cette structure a changé entre-temps : rechargez la page pour voir "
                "l’acte requis (notification ou convention)."
            )

    def apres(demande, ligne, qualite):
        jobs.planifier("dauphin.taches.generer_acte", ligne.id)
        _ecrire_structure(
            demande,
            "convention_a_signer" if ligne.convention_requise else "notification_subvention",
            financeur=ligne.organisation.nom,
            montant=ligne.montant_vote,
        )

    declencheur = "etablir_convention" if convention else "notifier"
    return declencher_ligne(ligne_id, declencheur, utilisateur, version=version, avant=avant, apres=apres)


def enregistrer_acte(ligne_id: int) -> int | None:
    """Produit le PDF de l'acte de la ligne et le range avec la demande (tâche). Rend l'id du document.

    Sans effet si l'acte existe déjà. La ligne est mise à jour sans changer sa version : une page ouverte
    pendant la production reste valable.
    """
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None or ligne.statut not in (L.convention_a_signer, *LIGNE_ENGAGEE):
        return None
    if ligne.acte_document_id is not None:
        return ligne.acte_document_id
    demande = ligne.demande
    convention = ligne.convention_requise
    contenu = pdf.acte(ligne, convention=convention, cumul=cumul_vote(ligne))
    type_piece = TypePiece.convention if convention else TypePiece.notification
    nom = f"{'convention' if convention else 'notification'}-{demande.numero}-{ligne.organisation_id}.pdf"
    document = documents.stocker(
        demande.structure, type_piece, nom, contenu, documents.MIME_PDF, demande_id=demande.id
    )
    db.session.flush()
    db.session.execute(
        update(LigneFinancement)
        .where(LigneFinancement.id == ligne.id, LigneFinancement.acte_document_id.is_(None))
        .values(acte_document_id=document.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return document.id


def relancer_acte(ligne_id: int, utilisateur: Utilisateur) -> None:
    """L'instructeur relance la production d'un acte manquant (tâche différée par une panne de Redis…)."""
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None:
        raise NotFound()
    if not INSTRUIRE_LIGNE.permet(utilisateur, ligne):
        raise NonAutorise("relancer_acte")
    if acte_a_relancer(ligne):
        jobs.lancer("dauphin.taches.generer_acte", ligne.id)


# --- Convention signée --------------------------------------------------------------------------------


def deposer_convention_signee(
    ligne_id: int, utilisateur: Utilisateur, fichier, nom_fichier: str | None, *, version=None
) -> LigneFinancement:
    """Range la convention signée (contrôlée par son contenu) et engage la ligne (`signer_convention`)."""
    try:
        contenu = documents.lire_borne(fichier, nom_fichier)
        type_mime = documents.verifier_contenu(contenu, nom_fichier, documents.FORMATS_SCAN)
    except documents.DepotRefuse as refus:  # taille, fichier vide, format refusé
        raise Refus(refus.message, "fichier") from refus
    stockes: list[Document] = []

    def avant(demande, ligne):
        document = documents.stocker(
            demande.structure,
            TypePiece.convention_signee,
            nom_fichier or f"convention-signee-{demande.numero}.pdf",
            contenu,
            type_mime,
            depose_par_id=utilisateur.id,
            demande_id=demande.id,
        )
        stockes.append(document)
        db.session.flush()
        ligne.convention_document_id = document.id

    def apres(demande, ligne, qualite):
        _ecrire_structure(
            demande,
            "convention_signee_enregistree",
            financeur=ligne.organisation.nom,
            montant=ligne.montant_vote,
        )
        if qualite.role != "instructeur":
            for email in _emails_instructeurs(ligne.organisation_id):
                courriels.ecrire_message(
                    "convention_signee_deposee", email, demande, structure=demande.structure.nom
                )

    try:
        return declencher_ligne(
            ligne_id, "signer_convention", utilisateur, version=version, avant=avant, apres=apres
        )
    except BaseException:
        for document in stockes:  # rien n'est validé : le fichier rangé ne doit pas rester orphelin
            documents.effacer(document.cle_stockage)
        raise


# --- Numéro d'engagement juridique ----------------------------------------------------------------


def enregistrer_engagement(ligne_id: int, utilisateur: Utilisateur, numero: str, *, version=None):
    """Le numéro d'engagement juridique de la ligne (saisi ou corrigé), journalisé."""

    def operation():
        demande, ligne = charger_ligne_verrouillee(ligne_id, version)
        if not INSTRUIRE_LIGNE.permet(utilisateur, ligne):
            raise NonAutorise("enregistrer_engagement")
        if ligne.statut not in PAYABLE:
            raise Conflit(
                "Le numéro d’engagement se saisit sur une ligne engagée (notifiée ou conventionnée) : "
                f"cette ligne est « {ligne.statut.libelle} »."
            )
        if ligne.numero_engagement == numero:
            return ligne
        ancien = ligne.numero_engagement
        ligne.numero_engagement = numero
        commentaire = f"Numéro d’engagement : {numero}" + (f" (remplace {ancien})." if ancien else ".")
        qualite = Qualite("instructeur", organisation_id=ligne.organisation_id)
        journaliser(
            demande,
            ligne,
            "enregistrer_engagement",
            ligne.statut,
            ligne.statut,
            utilisateur,
            qualite,
            commentaire,
        )
        return ligne

    return en_une_transaction(operation)


# --- Échéancier ---------------------------------------------------------------------------------------


def _qualite_financeur(utilisateur, demande, ligne) -> Qualite:
    qualite = qualite_pour(utilisateur, "verser_avance", demande, ligne)
    if qualite is None:
        raise NonAutorise("echeancier")
    return qualite


def prevoir_echeance(
    ligne_id: int,
    utilisateur: Utilisateur,
    nature: NatureVersement | str,
    date_prevue: date,
    montant: Decimal,
    *,
    version=None,
) -> Versement:
    """Ajoute une échéance à l'échéancier ; le total prévu et versé reste borné par le montant voté."""
    nature = NatureVersement(nature)

    def operation():
        demande, ligne = charger_ligne_verrouillee(ligne_id, version)
        qualite = _qualite_financeur(utilisateur, demande, ligne)
        if ligne.statut not in ECHEANCIER_MODIFIABLE:
            raise Conflit(
                "L’échéancier se modifie entre le vote et le paiement du solde : "
                f"cette ligne est « {ligne.statut.libelle} »."
            )
        echeances = echeanciers([ligne.id])[ligne.id]
        if nature == NatureVersement.avance and montant <= 0:
            raise Refus("Le montant d’une avance doit être supérieur à 0 €.", "montant")
        if nature == NatureVersement.solde and any(v.nature == NatureVersement.solde for v in echeances):
            raise Refus("L’échéancier a déjà un solde : supprimez-le pour le remplacer.", "nature")
        chiffres = totaux(ligne, echeances)
        if montant > chiffres.reste_a_prevoir:
            raise Refus(
                f"Le montant prévu ({format_euros(montant)}) dépasse ce qui reste à prévoir sur le montant "
                "voté "
                f"({format_euros(chiffres.reste_a_prevoir)} sur {format_euros(chiffres.vote)}).",
                "montant",
            )
        versement = Versement(
            ligne_id=ligne.id, nature=nature, date_prevue=date_prevue, montant_prevu=montant
        )
        db.session.add(versement)
        journaliser(
            demande,
            ligne,
            "prevoir_versement",
            ligne.statut,
            ligne.statut,
            utilisateur,
            qualite,
            f"{nature.libelle} de {format_euros(montant)} {nature.accorde('prévu')} le "
            f"{date_prevue:%d/%m/%Y}.",
        )
        return versement

    return en_une_transaction(operation)


def supprimer_echeance(versement_id: int, utilisateur: Utilisateur) -> LigneFinancement:
    """Retire une échéance pas encore payée (un paiement enregistré ne s'efface pas)."""

    def operation():
        versement = db.session.get(Versement, versement_id)
        if versement is None:
            raise NotFound()
        demande, ligne = charger_ligne_verrouillee(versement.ligne_id, None)
        qualite = _qualite_financeur(utilisateur, demande, ligne)
        db.session.refresh(versement)
        if versement.paye:
            raise Conflit(
                "Cette échéance a été payée entre-temps : un paiement enregistré ne se supprime pas."
            )
        db.session.delete(versement)
        journaliser(
            demande,
            ligne,
            "supprimer_echeance",
            ligne.statut,
            ligne.statut,
            utilisateur,
            qualite,
            f"{versement.nature.libelle} de {format_euros(versement.montant_prevu)} "
            f"{versement.nature.accorde('prévu')} le "
            f"{versement.date_prevue:%d/%m/%Y} retirée de l’échéancier.",
        )
        return ligne

    return en_une_transaction(operation)


# --- Paiement ---------------------------------------------------------------------------------------


def enregistrer_paiement(
    versement_id: int,
    utilisateur: Utilisateur,
    verse_le: date,
    montant: Decimal,
    reference: str,
    *,
    version=None,
    aujourdhui: date | None = None,
) -> Versement:
    """Enregistre le paiement d'une échéance : `verser_avance` ou `solder` par le moteur, le versement et
    le journal dans la même transaction, puis un courriel à la structure.

    Lève `Refus` (date, engagement), `TransitionRefusee` (montant au-delà du reste à verser, solde
    avant validation du compte rendu), `Conflit` (page périmée, échéance déjà payée). `aujourdhui` : le jour
    de référence (la démonstration date ses paiements passés) ; par défaut, aujourd'hui à Paris.
    """
    jour = aujourdhui or aujourdhui_paris()
    versement = db.session.get(Versement, versement_id)
    if versement is None:
        raise NotFound()
    ligne = db.session.get(LigneFinancement, versement.ligne_id)
    if verse_le > jour:
        raise Refus("La date du paiement ne peut pas être dans le futur.", "verse_le")
    if ligne.vote_le and verse_le < ligne.vote_le:
        raise Refus(
            f"La date du paiement précède le vote de la subvention ({ligne.vote_le:%d/%m/%Y}).", "verse_le"
        )
    declencheur = "solder" if versement.nature == NatureVersement.solde else "verser_avance"

    def avant(demande, ligne):
        db.session.refresh(versement)
        if versement.paye:
            raise Conflit(
                f"Ce paiement a déjà été enregistré le {versement.enregistre_le:%d/%m/%Y} : rien n’a été "
                "enregistré de nouveau. Rechargez la page."
            )
        if not ligne.numero_engagement:
            raise Refus(
                "Enregistrez d’abord le numéro d’engagement juridique de la ligne : aucun paiement sans "
                "engagement.",
                "numero_engagement",
            )

    def apres(demande, ligne, qualite):
        versement.verse_le = verse_le
        versement.montant_verse = montant
        versement.reference = reference
        versement.enregistre_par_id = utilisateur.id
        versement.enregistre_le = maintenant()
        _ecrire_structure(
            demande,
            "versement_enregistre",
            financeur=ligne.organisation.nom,
            nature=versement.nature,
            montant=montant,
            verse_le=verse_le,
            reference=reference,
            total_verse=ligne.montant_verse,
            montant_vote=ligne.montant_vote,
            reste=(ligne.montant_vote or 0) - ligne.montant_verse,
        )

    commentaire = (
        f"{versement.nature.libelle} de {format_euros(montant)} {versement.nature.accorde('versé')} le "
        f"{verse_le:%d/%m/%Y}, "
        f"référence {reference}."
    )
    declencher_ligne(
        ligne.id,
        declencheur,
        utilisateur,
        version=version,
        commentaire=commentaire,
        montant=montant,
        avant=avant,
        apres=apres,
    )
    return versement
