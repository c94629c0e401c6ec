"""Le compte rendu financier (CERFA n°15059) : clôture de l'exercice, rappels, saisie par le porteur,
dépôt, validation par chaque financeur, retards, report des dates de l'action.

Les changements de statut passent par `dauphin.services.workflow` (verrou, droit, journal, commit, puis
courriels) ; ce qui n'en est pas un (brouillon du compte rendu, report des dates) suit le même schéma :
verrou du dossier, droit, écriture et journal dans la même transaction, courriels après le commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from flask import current_app
from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.models import (
    BeneficiairesQpv,
    Campagne,
    CompteRendu,
    Demande,
    LigneCompteRendu,
    LigneFinancement,
    NatureRappel,
    RappelCompteRendu,
    ReportDates,
    StatutReport,
    Utilisateur,
    maintenant,
)
from dauphin.policies import MEMBRES, Qualite, acteur_de, est_membre, qualite_pour, qualites
from dauphin.services import courriels
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.services.workflow import aujourdhui, declencher_demande, dernier_evenement, journaliser, reagir_a
from dauphin.unite_de_travail import (
    charger_dans_le_dossier,
    charger_demande_verrouillee,
    en_une_transaction,
    verifier_version,
)
from workflows import StatutDemande, StatutLigne
from workflows.budget import COMPTE_SUBVENTIONS, PLAN_COMPTABLE
from workflows.compte_rendu import SEUIL_PAR_DEFAUT, echeance, verifier_compte_rendu

D = StatutDemande
MODIFIABLES = frozenset({D.a_justifier, D.justification_a_modifier})
# Un compte rendu « en retard » : dû, pas encore déposé (ou renvoyé au porteur), échéance passée.
EN_ATTENTE_DU_PORTEUR = (D.a_justifier, D.justification_a_modifier)
RAPPEL_JOURS_AVANT = 30


def seuil(demande: Demande) -> Decimal:
    return demande.campagne.seuil_ecart_pourcentage or SEUIL_PAR_DEFAUT


def _lien_formulaire(demande: Demande) -> str:
    return f"{current_app.config['BASE_URL']}/comptes-rendus/{demande.id}"


# --- Ouverture à la clôture de l'exercice --------------------------------------------------------


def ouvrir(demande: Demande) -> CompteRendu:
    """Prépare le compte rendu : un poste par compte du budget de la demande (son prévu) et un poste par
    subvention sollicitée au compte 74. Les autres comptes du plan du CERFA, le porteur les ajoute s'il
    les a réalisés (`Saisie.ajouter`) : il ne tape pas 0 dans seize postes qui ne le concernent pas."""
    if demande.compte_rendu is not None:
        demande.compte_rendu.echeance = echeance(demande.annee_fin, demande.date_fin)
        return demande.compte_rendu
    compte_rendu = CompteRendu(echeance=echeance(demande.annee_fin, demande.date_fin))
    for compte in PLAN_COMPTABLE:
        budget = [lb for lb in demande.lignes_budget if lb.compte == compte.code]
        if not budget:
            continue
        if compte.code == COMPTE_SUBVENTIONS:
            for lb in budget:
                _ajouter_poste(
                    compte_rendu,
                    compte.code,
                    lb.montant,
                    financeur_id=lb.financeur_id,
                    financeur_libelle=lb.financeur_libelle,
                )
            continue
        _ajouter_poste(compte_rendu, compte.code, sum((lb.montant for lb in budget), Decimal("0")))
    demande.compte_rendu = compte_rendu
    return compte_rendu


def _ajouter_poste(compte_rendu: CompteRendu, compte: str, prevu: Decimal, **financeur) -> LigneCompteRendu:
    """Un poste de plus, à la suite des autres (son ordre est aussi sa clé dans le formulaire)."""
    ordre = max((p.ordre for p in compte_rendu.lignes), default=-1) + 1
    poste = LigneCompteRendu(compte=compte, ordre=ordre, montant_prevu=prevu, **financeur)
    compte_rendu.lignes.append(poste)
    return poste


def dans_l_ordre_du_plan(postes) -> list[LigneCompteRendu]:
    """Les postes dans l'ordre du plan comptable du CERFA, quel que soit le moment où ils ont été ajoutés."""
    rang = {compte.code: i for i, compte in enumerate(PLAN_COMPTABLE)}
    return sorted(postes, key=lambda p: (rang.get(p.compte, len(rang)), p.ordre))


def comptes_a_ajouter(compte_rendu: CompteRendu) -> list[str]:
    """Les comptes du plan que le compte rendu n'a pas encore (le porteur peut les ajouter)."""
    presents = {p.compte for p in compte_rendu.lignes}
    return [compte.code for compte in PLAN_COMPTABLE if compte.code not in presents]


def retirable(poste: LigneCompteRendu) -> bool:
    """Un poste ajouté par le porteur (rien de prévu au budget, aucun financeur) peut être retiré."""
    return not poste.montant_prevu and poste.financeur_id is None and not poste.financeur_libelle


@reagir_a("cloturer_exercice", "deposer_justification", "retourner_justification")
def apres_transition(demande: Demande, declencheur: str, utilisateur: Utilisateur | None) -> None:
    """Appelé par `workflow.apres_transition`, dans la transaction de la transition."""
    if declencheur == "cloturer_exercice":
        compte_rendu = ouvrir(demande)
        for email in courriels._emails_structure(demande):
            courriels.ecrire_message(
                "compte_rendu_a_deposer",
                email,
                demande,
                echeance=compte_rendu.echeance,
                lien=_lien_formulaire(demande),
            )
    elif declencheur == "deposer_justification":
        demande.compte_rendu.depose_le = maintenant()
        demande.compte_rendu.depose_par_id = utilisateur.id if utilisateur else None
        for email in courriels._emails_instructeurs(demande):
            courriels.ecrire_message("compte_rendu_depose", email, demande)
    elif declencheur == "retourner_justification":
        # Le porteur va modifier le compte rendu : les validations déjà données portaient sur l'ancien.
        # Une ligne déjà soldée garde la sienne (le solde a été payé sur cette base).
        for ligne in demande.lignes_financement:
            if ligne.compte_rendu_valide and ligne.statut != StatutLigne.soldee:
                ligne.compte_rendu_valide = False


# --- Clôture de l'exercice --------------------------------------------------------------------------


@dataclass
class BilanCloture:
    annee: int
    cloturees: list[tuple[str, date]] = field(default_factory=list)  # (numéro, échéance)
    refusees: list[tuple[str, str]] = field(default_factory=list)  # (numéro, raison)

    def __str__(self) -> str:
        if not self.cloturees and not self.refusees:
            return f"Exercice {self.annee} : aucune demande à clôturer (déjà fait, ou aucune subvention)."
        lignes = [f"Exercice {self.annee} : {len(self.cloturees)} demande(s) passée(s) « à justifier »."]
        lignes += [f"  {numero} : compte rendu dû le {jour:%d/%m/%Y}" for numero, jour in self.cloturees]
        lignes += [f"  {numero} non clôturée : {raison}" for numero, raison in self.refusees]
        return "\n".join(lignes)


def requete_a_cloturer(annee: int, contrat_ids=None):
    """Les demandes financées (attribuées ou versées) dont la dernière année d'action est ≤ `annee`."""
    requete = select(Demande.id, Demande.numero).where(
        Demande.statut.in_((D.attribuee, D.versee)),
        Demande.exercice + Demande.duree_annees - 1 <= annee,
    )
    if contrat_ids is not None:
        requete = requete.where(
            Demande.campagne_id.in_(select(Campagne.id).where(Campagne.contrat_id.in_(list(contrat_ids))))
        )
    return requete.order_by(Demande.numero)


def cloturer(
    annee: int, utilisateur: Utilisateur | None = None, contrat_ids=None, jour: date | None = None
) -> BilanCloture:
    """Passe « à justifier » les demandes financées dont l'exercice est terminé. Idempotent : une demande
    déjà passée n'est plus « attribuée » ni « versée », une seconde exécution ne trouve rien.

    `utilisateur=None` : la commande (acteur « système ») ; sinon le pilote, sur ses contrats. Un exercice
    en cours est refusé (`Refus` sur le champ `annee`)."""
    from workflows import TransitionRefusee

    jour = jour or aujourdhui()
    if annee >= jour.year:
        raise Refus(
            f"L’exercice {annee} n’est pas terminé : il se clôture à partir du 1er janvier {annee + 1}.",
            "annee",
        )
    bilan = BilanCloture(annee)
    for demande_id, numero in db.session.execute(requete_a_cloturer(annee, contrat_ids)).all():
        try:
            demande = declencher_demande(demande_id, "cloturer_exercice", utilisateur, aujourdhui=jour)
        except (TransitionRefusee, Conflit, NonAutorise) as erreur:
            bilan.refusees.append((numero, str(erreur) or "non autorisé"))
            continue
        bilan.cloturees.append((numero, demande.compte_rendu.echeance))
    return bilan


def apercu_cloture(annee: int, contrat_ids) -> list[tuple[str, str, int]]:
    """Ce que la clôture ferait, par contrat : (libellé du contrat, numéro, …) pour la confirmation."""
    return [
        (numero, titre, contrat)
        for numero, titre, contrat in db.session.execute(
            select(Demande.numero, Demande.intitule, Campagne.contrat_id)
            .join(Campagne, Campagne.id == Demande.campagne_id)
            .where(Demande.id.in_(requete_a_cloturer(annee, contrat_ids).with_only_columns(Demande.id)))
            .order_by(Demande.numero)
        )
    ]


# --- Rappels ----------------------------------------------------------------------------------------


@dataclass
class BilanRappels:
    avant: int = 0
    apres: int = 0

    def __str__(self) -> str:
        if not (self.avant or self.apres):
            return "Aucun rappel à envoyer (ceux qui étaient dus ont déjà été envoyés)."
        return f"Rappels envoyés : {self.avant} avant l’échéance, {self.apres} après l’échéance."


def relancer(jour: date | None = None, jours_avant: int = RAPPEL_JOURS_AVANT) -> BilanRappels:
    """Un rappel avant l'échéance (dans les `jours_avant` jours) et un après, une seule fois chacun par
    échéance : chaque envoi est noté (table rappel_compte_rendu, unique par demande, nature et échéance)."""
    jour = jour or aujourdhui()
    bilan = BilanRappels()
    for nature, condition in (
        (
            NatureRappel.avant,
            and_(CompteRendu.echeance >= jour, CompteRendu.echeance <= jour + timedelta(days=jours_avant)),
        ),
        (NatureRappel.apres, en_retard(CompteRendu.echeance, jour)),
    ):
        deja = exists().where(
            RappelCompteRendu.demande_id == Demande.id,
            RappelCompteRendu.nature == nature,
            RappelCompteRendu.echeance == CompteRendu.echeance,
        )
        ids = db.session.scalars(
            select(Demande.id)
            .join(CompteRendu, CompteRendu.demande_id == Demande.id)
            .where(condition_en_attente_du_porteur(), condition, ~deja)
            .order_by(Demande.id)
        ).all()
        for demande_id in ids:
            try:
                en_une_transaction(partial(_ecrire_rappel, demande_id, nature))
            except Conflit:  # un autre processus l'a envoyé entre-temps (contrainte d'unicité)
                continue
            setattr(bilan, nature.value, getattr(bilan, nature.value) + 1)
    return bilan


def _ecrire_rappel(demande_id: int, nature: NatureRappel) -> None:
    demande = db.session.get(Demande, demande_id)
    compte_rendu = demande.compte_rendu
    destinataires = courriels._emails_structure(demande)
    message = "rappel_compte_rendu" if nature is NatureRappel.avant else "compte_rendu_en_retard"
    db.session.add(
        RappelCompteRendu(
            demande_id=demande.id,
            nature=nature,
            echeance=compte_rendu.echeance,
            destinataires=len(destinataires),
        )
    )
    for email in destinataires:
        courriels.ecrire_message(
            message, email, demande, echeance=compte_rendu.echeance, lien=_lien_formulaire(demande)
        )


# --- Attendus, retards ---------------------------------------------------------------------------------
# Les règles du portail sur le compte rendu qu'attend une demande, écrites ici une fois : le tableau de bord
# du porteur, les rappels, la vue d'un dossier, l'espace d'instruction les importent.


def condition_en_attente_du_porteur(demande=Demande):
    """Le compte rendu de la demande revient au porteur (à déposer, ou renvoyé à modifier). `demande` : la
    table, un alias ou les colonnes d'une sous-requête (`.c`)."""
    return demande.statut.in_(EN_ATTENTE_DU_PORTEUR)


def condition_attendu(demande=Demande, echeance=CompteRendu.echeance):
    """Compte rendu attendu : en attente du porteur, et ouvert (une échéance). `demande`, `echeance` : la
    table et la colonne du compte rendu joint, ou celles d'une sous-requête (tableau de bord du porteur).
    `attendu` est la même règle, lue sur une demande en mémoire."""
    return and_(condition_en_attente_du_porteur(demande), echeance.is_not(None))


def attendu(demande) -> bool:
    """`condition_attendu` pour une demande en mémoire (un objet, ou ce qu'en lit le tableau de bord)."""
    return demande.statut in EN_ATTENTE_DU_PORTEUR and demande.compte_rendu is not None


def en_retard(echeance, jour):
    """L'échéance d'un compte rendu attendu est passée : un booléen pour des dates, une condition SQL pour
    une colonne."""
    return echeance < jour


def condition_retard(jour: date, demande=Demande):
    """`demande` : la demande ou un alias (sous-requête corrélée de `dauphin.services.instruction`)."""
    return and_(condition_en_attente_du_porteur(demande), en_retard(CompteRendu.echeance, jour))


def condition_retard_envers(jour, demande=Demande, ligne=LigneFinancement):
    """Le compte rendu de `demande` est en retard envers le financeur de `ligne` (jointe à elle), qui lui a
    voté un montant : la règle des badges de l'espace d'instruction et de l'alerte de la vue d'un dossier.
    `demande`, `ligne` : les tables ou des alias (sous-requête corrélée de `dauphin.services.instruction`)."""
    return and_(ligne.montant_vote > 0, condition_retard(jour, demande))


def retards_envers(
    organisation_ids, structure_ids, jour: date | None = None
) -> dict[tuple[int, int], list[str]]:
    """(structure, financeur) → numéros des demandes dont le compte rendu dû à ce financeur (ligne votée)
    est en retard. Une requête, quel que soit le nombre de demandes listées, lue par la connexion (Core,
    sans le passage par l'ORM de la session ni son autoflush) : une lecture pour une vue GET ; un appelant
    qui a des changements en attente dans la session doit d'abord faire `db.session.flush()`."""
    jour = jour or aujourdhui()
    if not organisation_ids or not structure_ids:
        return {}
    resultat: dict[tuple[int, int], list[str]] = defaultdict(list)
    for structure_id, organisation_id, numero in db.session.connection().execute(
        _RETARDS_ENVERS,
        {"structures": list(structure_ids), "organisations": list(organisation_ids), "jour": jour},
    ):
        resultat[(structure_id, organisation_id)].append(numero)
    return dict(resultat)


# Lue à chaque page de l'espace d'instruction d'un financeur : construite une fois par processus.
_RETARDS_ENVERS = (
    select(Demande.structure_id, LigneFinancement.organisation_id, Demande.numero)
    .join(CompteRendu, CompteRendu.demande_id == Demande.id)
    .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
    .where(
        Demande.structure_id.in_(bindparam("structures", expanding=True)),
        LigneFinancement.organisation_id.in_(bindparam("organisations", expanding=True)),
        condition_retard_envers(bindparam("jour")),
    )
    .order_by(Demande.numero)
)


def retards_pour_dossier(demande: Demande, utilisateur: Utilisateur) -> dict[str, list[str]]:
    """Pour la vue d'un dossier : nom du financeur de l'utilisateur → autres demandes de la structure dont
    le compte rendu dû à ce financeur est en retard."""
    instruites = acteur_de(utilisateur).instruites
    organisations = {
        ligne.organisation_id: ligne.organisation.nom
        for ligne in demande.lignes_financement
        if ligne.organisation_id in instruites
    }
    retards = retards_envers(set(organisations), {demande.structure_id})
    resultat = {}
    for (_, organisation_id), numeros in retards.items():
        autres = [n for n in numeros if n != demande.numero]
        if autres:
            resultat[organisations[organisation_id]] = autres
    return resultat


# --- Saisie par le porteur ----------------------------------------------------------------------------


@dataclass
class Saisie:
    """Ce que le formulaire a lu (déjà converti) : le service l'écrit tel quel."""

    action_realisee: bool = True
    motif_non_realisation: str | None = None
    bilan: str | None = None
    public_atteint: str | None = None
    beneficiaires_hors_qpv: int | None = None
    beneficiaires_qpv: dict[int, int | None] = field(default_factory=dict)  # qpv_id → nombre
    realises: dict[int, Decimal | None] = field(default_factory=dict)  # ordre du poste → montant
    explications: dict[int, str | None] = field(default_factory=dict)
    ajouter: str | None = None  # compte du plan à ajouter au tableau (bouton « Ajouter le poste »)
    retirer: int | None = None  # ordre d'un poste ajouté à retirer (bouton « Retirer »)


def charger(demande_id: int, utilisateur: Utilisateur) -> Demande:
    """La demande d'un membre de la structure, avec son compte rendu (404 sinon : rien n'est révélé)."""
    demande = db.session.scalar(
        select(Demande)
        .where(Demande.id == demande_id)
        .options(selectinload(Demande.qpvs), selectinload(Demande.lignes_financement))
    )
    if demande is None or not est_membre(utilisateur, demande) or demande.compte_rendu is None:
        raise NotFound()
    return demande


def _texte(valeur: str | None) -> str | None:
    return (valeur or "").strip() or None


def enregistrer(demande_id: int, utilisateur: Utilisateur, version, saisie: Saisie) -> CompteRendu:
    """Enregistre le brouillon du compte rendu (incomplet permis : ses règles valent à l'attestation)."""

    def operation():
        demande = charger_demande_verrouillee(demande_id)
        if not est_membre(utilisateur, demande) or demande.compte_rendu is None:
            raise NotFound()
        if demande.statut not in MODIFIABLES:
            raise Conflit(
                f"Le compte rendu est « {demande.statut.libelle} » : il ne peut plus être modifié. "
                "Rien n’a été enregistré."
            )
        compte_rendu = demande.compte_rendu
        verifier_version(
            compte_rendu,
            version,
            "Le compte rendu a été modifié entre-temps par un autre membre de la structure. Votre saisie "
            "n’a pas été enregistrée : elle est toujours affichée ci-dessous ; comparez-la avec la "
            "version actuelle avant d’enregistrer de nouveau.",
        )
        compte_rendu.action_realisee = saisie.action_realisee
        compte_rendu.motif_non_realisation = _texte(saisie.motif_non_realisation)
        compte_rendu.bilan = _texte(saisie.bilan)
        compte_rendu.public_atteint = _texte(saisie.public_atteint)
        compte_rendu.beneficiaires_hors_qpv = saisie.beneficiaires_hors_qpv
        qpvs = {q.id for q in demande.qpvs}
        existants = {b.qpv_id: b for b in compte_rendu.beneficiaires_qpv}
        for qpv_id, nombre in saisie.beneficiaires_qpv.items():
            if qpv_id not in qpvs:
                continue
            if nombre is None:
                if qpv_id in existants:
                    compte_rendu.beneficiaires_qpv.remove(existants[qpv_id])
            elif qpv_id in existants:
                existants[qpv_id].nombre = nombre
            else:
                compte_rendu.beneficiaires_qpv.append(BeneficiairesQpv(qpv_id=qpv_id, nombre=nombre))
        for poste in compte_rendu.lignes:
            if poste.ordre in saisie.realises:
                poste.montant_realise = saisie.realises[poste.ordre]
            if poste.ordre in saisie.explications:
                poste.explication = _texte(saisie.explications[poste.ordre])
        _ajouter_ou_retirer(compte_rendu, saisie)
        compte_rendu.modifie_le = maintenant()
        return compte_rendu

    return en_une_transaction(operation)


def _ajouter_ou_retirer(compte_rendu: CompteRendu, saisie: Saisie) -> None:
    if saisie.ajouter is not None:
        if saisie.ajouter not in comptes_a_ajouter(compte_rendu):
            raise Refus(
                "Choisissez un poste du plan comptable qui n’est pas déjà dans le tableau.", "poste_a_ajouter"
            )
        _ajouter_poste(compte_rendu, saisie.ajouter, Decimal("0"))
    if saisie.retirer is not None:
        poste = next((p for p in compte_rendu.lignes if p.ordre == saisie.retirer), None)
        if poste is None or not retirable(poste):
            raise Conflit("Ce poste vient du budget de la demande : il reste dans le compte rendu.")
        compte_rendu.lignes.remove(poste)


def saisie_conforme_au_budget(demande: Demande, bilan: str, public_atteint: str) -> Saisie:
    """Un compte rendu dont le réalisé est le prévu (démonstration, reprise de données)."""
    return Saisie(
        bilan=bilan,
        public_atteint=public_atteint,
        beneficiaires_qpv={q.id: demande.nb_beneficiaires or 0 for q in demande.qpvs},
        realises={p.ordre: p.montant_prevu for p in demande.compte_rendu.lignes},
    )


def dernier_renvoi(demande: Demande):
    """Le renvoi par un financeur que le porteur est en train de corriger (son message), ou None."""
    if demande.statut != D.justification_a_modifier:
        return None
    return dernier_evenement(demande, "retourner_justification")


def problemes(demande: Demande):
    """Ce qui manque encore pour attester (affiché pendant la saisie)."""
    return verifier_compte_rendu(demande.compte_rendu, seuil(demande))


def deposer(demande_id: int, utilisateur: Utilisateur) -> Demande:
    """L'attestation sur l'honneur du signataire : le compte rendu part à tous les financeurs."""
    return declencher_demande(demande_id, "deposer_justification", utilisateur, attestation=True)


def peut_attester(utilisateur: Utilisateur, demande: Demande) -> bool:
    return qualite_pour(utilisateur, "deposer_justification", demande) is not None


def a_reverser(demande: Demande) -> dict[int, Decimal]:
    """Action attestée non réalisée : tout ce que chaque financeur a versé lui est à reverser."""
    compte_rendu = demande.compte_rendu
    if compte_rendu is None or compte_rendu.action_realisee or compte_rendu.depose_le is None:
        return {}
    return {
        ligne.id: ligne.montant_verse or Decimal("0")
        for ligne in demande.lignes_financement
        if (ligne.montant_vote or 0) > 0
    }


# --- Report des dates de l'action ------------------------------------------------------------------


def reports(demande: Demande) -> list[ReportDates]:
    return list(
        db.session.scalars(
            select(ReportDates)
            .where(ReportDates.demande_id == demande.id)
            .order_by(ReportDates.id.desc())
            .options(selectinload(ReportDates.organisation))
        )
    )


def report_impossible(demande: Demande) -> str | None:
    """Pourquoi le porteur ne peut pas demander un report maintenant, ou None (l'écran ne le propose pas,
    le service le refuse sous le verrou du dossier)."""
    if demande.statut not in MODIFIABLES:
        return f"Le dossier est « {demande.statut.libelle} » : un report n’est plus possible."
    if db.session.scalar(
        select(ReportDates.id).where(
            ReportDates.demande_id == demande.id, ReportDates.statut == StatutReport.en_attente
        )
    ):
        return "Une demande de report attend déjà la réponse des financeurs."
    return None


def demander_report(
    demande_id: int, utilisateur: Utilisateur, date_debut: date, date_fin: date, motif: str
) -> ReportDates:
    def operation():
        demande = charger_demande_verrouillee(demande_id)
        if not est_membre(utilisateur, demande) or demande.compte_rendu is None:
            raise NotFound()
        raison = report_impossible(demande)
        if raison:
            raise Conflit(raison)
        if date_fin < date_debut:
            raise Refus("La date de fin doit suivre la date de début.", "date_fin")
        if not (motif or "").strip():
            raise Refus("Expliquez pourquoi les dates doivent être décalées.", "motif")
        report = ReportDates(
            demande_id=demande.id,
            date_debut=date_debut,
            date_fin=date_fin,
            ancienne_date_debut=demande.date_debut,
            ancienne_date_fin=demande.date_fin,
            motif=motif.strip(),
            demande_par_id=utilisateur.id,
        )
        db.session.add(report)
        # Sa qualité de membre de la structure (signataire ou contributeur), celle que le journal retient.
        qualite = next(q for q in qualites(utilisateur, demande) if q.role in MEMBRES)
        journaliser(
            demande,
            None,
            "demander_report_dates",
            demande.statut,
            demande.statut,
            utilisateur,
            qualite,
            f"Du {date_debut:%d/%m/%Y} au {date_fin:%d/%m/%Y} : {motif.strip()}",
        )
        for email in courriels._emails_instructeurs(demande):
            courriels.ecrire_message(
                "report_dates_demande",
                email,
                demande,
                date_debut=date_debut,
                date_fin=date_fin,
                motif=motif.strip(),
            )
        return report

    return en_une_transaction(operation)


def organisation_decideuse(utilisateur: Utilisateur, demande: Demande) -> int | None:
    """Le financeur au nom duquel l'utilisateur répond à un report : un instructeur d'un financeur qui a
    voté — les mêmes qui peuvent renvoyer le compte rendu (`policies.DECLENCHEURS_FINANCEURS_DU_VOTE`)."""
    qualite = qualite_pour(utilisateur, "retourner_justification", demande)
    return qualite.organisation_id if qualite is not None else None


def decider_report(
    report_id: int, utilisateur: Utilisateur, accepte: bool, reponse: str | None
) -> ReportDates:
    """Un financeur qui a voté accepte (les dates changent, l'échéance est recalculée) ou refuse (message
    obligatoire). Sa réponse vaut pour le dossier ; elle est journalisée à son nom."""

    def operation():
        demande, report = charger_dans_le_dossier(ReportDates, report_id)
        organisation_id = organisation_decideuse(utilisateur, demande)
        if organisation_id is None:
            raise NonAutorise("decider_report_dates")
        if report.statut != StatutReport.en_attente:
            raise Conflit("Un autre financeur a déjà répondu à cette demande de report.")
        if not accepte and not (reponse or "").strip():
            raise Refus("Écrivez le message adressé au porteur.", "reponse")
        report.statut = StatutReport.accepte if accepte else StatutReport.refuse
        report.decide_par_id = utilisateur.id
        report.organisation_id = organisation_id
        report.decide_le = maintenant()
        report.reponse = _texte(reponse)
        commentaire = f"Report du {report.date_debut:%d/%m/%Y} au {report.date_fin:%d/%m/%Y}"
        if accepte:
            demande.date_debut, demande.date_fin = report.date_debut, report.date_fin
            demande.compte_rendu.echeance = echeance(demande.annee_fin, demande.date_fin)
            commentaire += f" accepté ; compte rendu dû le {demande.compte_rendu.echeance:%d/%m/%Y}"
        else:
            commentaire += f" refusé : {report.reponse}"
        journaliser(
            demande,
            None,
            "accepter_report_dates" if accepte else "refuser_report_dates",
            demande.statut,
            demande.statut,
            utilisateur,
            Qualite("instructeur", organisation_id=organisation_id),
            commentaire,
        )
        for email in courriels._emails_structure(demande):
            courriels.ecrire_message(
                "report_dates_accepte" if accepte else "report_dates_refuse",
                email,
                demande,
                date_debut=report.date_debut,
                date_fin=report.date_fin,
                echeance=demande.compte_rendu.echeance,
                reponse=report.reponse,
            )
        return report

    return en_une_transaction(operation)
