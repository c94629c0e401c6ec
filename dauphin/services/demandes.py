"""Le dépôt d'une demande : brouillon, enregistrement étape par étape, renouvellement.

Chaque enregistrement vérifie que l'utilisateur est membre de la structure, que la demande est encore
modifiable (brouillon, ou « à compléter ») et que la version lue est la version en base ; sinon rien
n'est écrit et l'usager reçoit un message de conflit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, select
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.models import (
    AxeTransversal,
    Campagne,
    ContratDeVille,
    Demande,
    Document,
    Enveloppe,
    LigneBudget,
    Organisation,
    Qpv,
    ReponseEligibilite,
    Structure,
    Thematique,
    TypePiece,
    Utilisateur,
)
from dauphin.policies import est_membre, est_membre_structure, qualite_pour
from dauphin.services import documents as porte_documents
from dauphin.services.comptes_rendus import EN_ATTENTE_DU_PORTEUR
from dauphin.services.erreurs import Conflit, NonAutorise
from dauphin.services.workflow import aujourdhui
from dauphin.unite_de_travail import lire_verrouille, verifier_version
from workflows import StatutDemande

MODIFIABLES = frozenset({StatutDemande.brouillon, StatutDemande.a_completer})

ETAPES = (
    ("eligibilite", "Éligibilité"),
    ("structure", "Structure et contact"),
    ("action", "L’action"),
    ("budget", "Budget prévisionnel"),
    ("pieces", "Pièces justificatives"),
    ("recapitulatif", "Récapitulatif et transmission"),
)
NOMS_ETAPES = dict(ETAPES)

# Une étape envoyée depuis une page affichée avant la dernière modification de la demande.
MODIFIEE_ENTRE_TEMPS = (
    "Cette demande a été modifiée entre-temps (dans un autre onglet, ou par un autre membre). "
    "Votre saisie n’a pas été enregistrée : elle est toujours affichée ci-dessous ; comparez-la "
    "avec la version actuelle avant d’enregistrer de nouveau."
)


def campagnes_ouvertes(jour=None, departement: str | None = None):
    """jour : une date, ou une expression SQL (paramètre d'une requête construite une fois)."""
    jour = aujourdhui() if jour is None else jour
    requete = (
        select(Campagne)
        .join(ContratDeVille, ContratDeVille.id == Campagne.contrat_id)
        .where(Campagne.date_ouverture <= jour, Campagne.date_cloture >= jour, ContratDeVille.actif.is_(True))
        # La clôture la plus proche d'abord : ce qu'il faut déposer le plus vite
        .order_by(Campagne.date_cloture, ContratDeVille.departement, ContratDeVille.libelle, Campagne.id)
    )
    if departement:
        requete = requete.where(ContratDeVille.couvre_departement(departement))
    return requete


def campagne_ouverte_existe(jour: date | None = None) -> bool:
    """Une campagne au moins accepte des demandes aujourd'hui (« Déposer une demande » a un sens)."""
    return db.session.scalar(select(campagnes_ouvertes(jour).exists())) or False


def structures_du_membre(utilisateur: Utilisateur) -> list[Structure]:
    return [adhesion.structure for adhesion in utilisateur.adhesions_structures]


def creer_brouillon(utilisateur: Utilisateur, structure_id: int, campagne_id: int) -> Demande:
    if not est_membre_structure(utilisateur, structure_id):
        raise NonAutorise("creer")
    campagne = db.session.get(Campagne, campagne_id)
    if campagne is None:
        raise NotFound()
    if not campagne.est_ouverte(aujourdhui()):
        raise Conflit(
            f"La campagne « {campagne.libelle} » est close depuis le {campagne.date_cloture:%d/%m/%Y}."
        )
    structure = db.session.get(Structure, structure_id)
    demande = Demande(
        structure_id=structure_id,
        campagne_id=campagne.id,
        exercice=campagne.exercice,
        cree_par_id=utilisateur.id,
        statut=StatutDemande.brouillon,
        responsable_nom=utilisateur.nom_complet,
        responsable_email=utilisateur.email,
        compte_bancaire_id=next((c.id for c in structure.comptes_bancaires if c.actif), None),
    )
    db.session.add(demande)
    db.session.commit()
    return demande


def charger_pour_modifier(demande_id: int, utilisateur: Utilisateur, version: str | int | None) -> Demande:
    demande = db.session.get(Demande, demande_id)
    if demande is None or not est_membre(utilisateur, demande):
        raise NotFound()
    if demande.statut not in MODIFIABLES:
        raise Conflit(
            f"Cette demande est « {demande.statut.libelle} » : elle ne peut plus être modifiée. "
            "Rien n’a été enregistré."
        )
    verifier_version(demande, version, MODIFIEE_ENTRE_TEMPS)
    return demande


def enregistrer_eligibilite(demande: Demande, reponses: dict[int, bool | None]) -> None:
    existantes = {r.question_id: r for r in demande.reponses}
    for question in demande.campagne.questions_eligibilite:
        reponse = reponses.get(question.id)
        if reponse is None:
            if question.id in existantes:
                demande.reponses.remove(existantes[question.id])
        elif question.id in existantes:
            existantes[question.id].reponse = reponse
        else:
            demande.reponses.append(ReponseEligibilite(question_id=question.id, reponse=reponse))
    _valider(demande)


def enregistrer_champs(demande: Demande, champs: dict) -> None:
    for nom, valeur in champs.items():
        if isinstance(valeur, str):
            valeur = valeur.strip() or None
        setattr(demande, nom, valeur)
    _valider(demande)


def enregistrer_action(demande: Demande, champs: dict, qpv_ids: list[int], axes: list[str]) -> None:
    permis = {q.id: q for q in demande.campagne.contrat.qpvs}
    demande.qpvs = [permis[i] for i in qpv_ids if i in permis]
    demande.axes = list(db.session.scalars(select(AxeTransversal).where(AxeTransversal.code.in_(axes or []))))
    enregistrer_champs(demande, champs)


@dataclass(frozen=True)
class LigneSaisie:
    compte: str
    montant: Decimal
    financeur_id: int | None = None
    financeur_libelle: str | None = None


def financeurs_de_la_campagne(campagne_id: int) -> list[Organisation]:
    """Les organisations qui ont une enveloppe dans la campagne (financeurs proposés au budget), par
    nom : une requête, pas une par enveloppe."""
    organisations = db.session.scalars(
        select(Organisation)
        .join(Enveloppe, Enveloppe.organisation_id == Organisation.id)
        .where(Enveloppe.campagne_id == campagne_id)
    )
    return sorted(organisations, key=lambda o: o.nom)


def enregistrer_budget(demande: Demande, lignes: list[LigneSaisie]) -> None:
    """Remplace le budget par les lignes saisies (les montants nuls ne sont pas gardés)."""
    demande.lignes_budget.clear()
    db.session.flush()
    for ordre, ligne in enumerate(lignes):
        if ligne.montant:
            demande.lignes_budget.append(
                LigneBudget(
                    compte=ligne.compte,
                    montant=ligne.montant,
                    financeur_id=ligne.financeur_id,
                    financeur_libelle=(ligne.financeur_libelle or "").strip() or None,
                    ordre=ordre,
                )
            )
    _valider(demande)


def documents_du_porte_documents(structure_id: int) -> dict[TypePiece, list[Document]]:
    """Les documents joignables (ni archivés ni expirés) de la structure, par type."""
    documents: dict[TypePiece, list[Document]] = {}
    for document in porte_documents.documents_joignables(structure_id):
        documents.setdefault(document.type_piece, []).append(document)
    return documents


def enregistrer_pieces(demande: Demande, choix: dict[TypePiece, int]) -> None:
    """Pour chaque pièce, joint le document choisi dans le porte-documents (0 : aucune pièce)."""
    for type_piece, document_id in choix.items():
        if document_id:
            try:
                porte_documents.joindre(demande, document_id)
            except porte_documents.DocumentIndisponible as erreur:
                db.session.rollback()
                raise Conflit(str(erreur)) from erreur
        else:
            for piece in [p for p in demande.pieces_jointes if p.type_piece == type_piece]:
                demande.pieces_jointes.remove(piece)
    db.session.flush()
    _valider(demande)


CHAMPS_REPRIS = (
    "intitule",
    "objectifs",
    "description",
    "public_cible",
    "nb_beneficiaires",
    "thematique_code",
    "moyens_humains",
    "indicateurs_evaluation",
    "duree_annees",
    "responsable_nom",
    "responsable_fonction",
    "responsable_email",
    "responsable_telephone",
)


def _campagnes_de_renouvellement(contrat_id, exercice, jour=None):
    """Les campagnes ouvertes d'un exercice suivant, pour le même contrat de ville (valeurs ou paramètres)."""
    return (
        campagnes_ouvertes(jour)
        .where(Campagne.contrat_id == contrat_id, Campagne.exercice > exercice)
        .order_by(None)
    )


def _renouvelle(precedente_id) -> tuple:
    """Les conditions d'une demande qui renouvelle celle-ci (hors retirée)."""
    return (Demande.demande_precedente_id == precedente_id, Demande.statut != StatutDemande.retiree)


def campagne_de_renouvellement(precedente: Demande) -> Campagne | None:
    """La campagne ouverte d'un exercice suivant, pour le même contrat de ville, où renouveler la demande."""
    return db.session.scalar(
        _campagnes_de_renouvellement(precedente.campagne.contrat_id, precedente.exercice)
        .order_by(Campagne.exercice, Campagne.id)
        .limit(1)
    )


def renouvellement_existant(precedente: Demande) -> Demande | None:
    """La demande qui renouvelle déjà celle-ci (hors retirée) : on ne la renouvelle qu'une fois."""
    return db.session.scalar(select(Demande).where(*_renouvelle(precedente.id)).order_by(Demande.id).limit(1))


# Deux EXISTS en une requête, construite une fois (contrat, exercice, jour et demande en paramètres) : sa clé
# de cache n'est pas recalculée à chaque vue d'un dossier.
_PEUT_RENOUVELER = select(
    _campagnes_de_renouvellement(bindparam("contrat_id"), bindparam("exercice"), bindparam("jour")).exists()
    & ~select(Demande.id).where(*_renouvelle(bindparam("demande_id"))).exists()
)


def peut_renouveler(precedente: Demande) -> bool:
    """« Renouveler » a un sens : demande transmise, pas encore renouvelée, campagne suivante ouverte.

    Une seule requête (deux EXISTS), sans charger d'objet : la vue du dossier la pose à chaque affichage
    pour un membre de la structure."""
    if precedente.numero is None:
        return False
    parametres = {
        "contrat_id": precedente.campagne.contrat_id,
        "exercice": precedente.exercice,
        "jour": aujourdhui(),
        "demande_id": precedente.id,
    }
    return bool(db.session.scalar(_PEUT_RENOUVELER, parametres))


def renouveler(precedente_id: int, utilisateur: Utilisateur) -> Demande:
    """Une nouvelle demande dans la campagne suivante ouverte du même contrat, reprenant l'action et le
    budget de l'an passé.

    L'attestation et les pièces jointes ne sont pas reprises : elles valent pour une demande donnée.
    """
    # Verrouillée : deux clics (deux onglets) sur « Renouveler » ne créent pas deux brouillons.
    precedente = lire_verrouille(Demande, precedente_id)
    if precedente is None or not est_membre(utilisateur, precedente):
        raise NotFound()
    deja = renouvellement_existant(precedente)
    if deja is not None:
        raise Conflit(
            f"Cette demande est déjà renouvelée pour l’exercice {deja.exercice} : retrouvez « {deja.titre} » "
            "dans « Mes demandes »."
        )
    campagne = campagne_de_renouvellement(precedente)
    if campagne is None:
        raise Conflit(
            "Aucune campagne d’un exercice suivant n’est ouverte pour ce contrat de ville : le "
            "renouvellement sera possible à son ouverture."
        )
    nouvelle = creer_brouillon(utilisateur, precedente.structure_id, campagne.id)
    for champ in CHAMPS_REPRIS:
        setattr(nouvelle, champ, getattr(precedente, champ))
    ecart = nouvelle.exercice - precedente.exercice
    if precedente.date_debut and precedente.date_fin:
        nouvelle.date_debut = _decaler(precedente.date_debut, ecart)
        nouvelle.date_fin = _decaler(precedente.date_fin, ecart)
    nouvelle.renouvellement = True
    nouvelle.demande_precedente_id = precedente.id
    nouvelle.qpvs = list(precedente.qpvs)  # même contrat, mêmes quartiers
    nouvelle.axes = list(precedente.axes)
    _reprendre_budget(precedente, nouvelle)
    db.session.commit()
    return nouvelle


def _reprendre_budget(precedente: Demande, nouvelle: Demande) -> None:
    financeurs = set(nouvelle.campagne.financeurs_ids)
    for ligne in precedente.lignes_budget:
        # Un financeur qui ne participe pas à la nouvelle campagne devient une ligne libre.
        sur_plateforme = ligne.financeur_id in financeurs
        nouvelle.lignes_budget.append(
            LigneBudget(
                compte=ligne.compte,
                libelle=ligne.libelle,
                montant=ligne.montant,
                financeur_id=ligne.financeur_id if sur_plateforme else None,
                financeur_libelle=ligne.financeur_libelle
                or (ligne.financeur.nom if ligne.financeur is not None and not sur_plateforme else None),
                ordre=ligne.ordre,
            )
        )


def _decaler(jour: date, annees: int) -> date:
    try:
        return jour.replace(year=jour.year + annees)
    except ValueError:  # 29 février
        return jour.replace(year=jour.year + annees, day=28)


def _valider(demande: Demande) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.commit()
    except StaleDataError as erreur:
        db.session.rollback()
        raise Conflit() from erreur


def qpvs_du_contrat(demande: Demande) -> list[Qpv]:
    return list(demande.campagne.contrat.qpvs)


def sous_thematiques_actives() -> list[Thematique]:
    """Les sous-thématiques de la nomenclature qu'une action peut choisir (1.1, 1.2…), dans leur ordre."""
    return list(
        db.session.scalars(
            select(Thematique)
            .where(Thematique.parent_code.is_not(None), Thematique.actif.is_(True))
            .order_by(Thematique.ordre)
        )
    )


def axes_transversaux() -> list[AxeTransversal]:
    return list(db.session.scalars(select(AxeTransversal)))


# --- À attester ---------------------------------------------------------------------------------------
# La règle du portail, écrite ici une fois : le tableau de bord du porteur (son alerte, sa requête) et la
# prochaine étape d'une demande l'importent.


def condition_a_attester(demande=Demande):
    """La demande soumise attend l'attestation d'un signataire. `demande` : la table ou les colonnes d'une
    sous-requête (`.c`), pour une condition SQL ; une demande en mémoire, pour un booléen. Qui peut attester
    ne se lit qu'en Python (`a_attester`)."""
    return demande.statut == StatutDemande.attente_attestation


def a_attester(demande, utilisateur: Utilisateur) -> bool:
    """La demande attend son attestation : soumise, et il peut l'attester (un signataire de sa structure)."""
    return condition_a_attester(demande) and qualite_pour(utilisateur, "attester", demande) is not None


@dataclass(frozen=True)
class ProchaineAction:
    libelle: str
    endpoint: str | None = None  # vers l'écran qui permet de la faire
    etape: str | None = None
    pour_moi: bool = True  # l'action revient-elle à cet utilisateur ?


def prochaine_action(demande: Demande, utilisateur: Utilisateur) -> ProchaineAction | None:
    """Ce que la demande attend maintenant, et de qui : affiché dans le tableau de bord du porteur."""
    s = demande.statut
    if s == StatutDemande.brouillon:
        return ProchaineAction("Compléter puis soumettre la demande", "demandes.etape", "recapitulatif")
    if condition_a_attester(demande):
        if a_attester(demande, utilisateur):
            return ProchaineAction("Attester la demande sur l’honneur", "demandes.etape", "recapitulatif")
        return ProchaineAction("Attente de l’attestation par un signataire", pour_moi=False)
    if s == StatutDemande.a_completer:
        return ProchaineAction("Répondre à la demande de compléments", "demandes.etape", "recapitulatif")
    if s in (
        StatutDemande.transmise,
        StatutDemande.en_instruction,
        StatutDemande.instruite,
        StatutDemande.programmee,
    ):
        return ProchaineAction("Aucune : les financeurs instruisent la demande", pour_moi=False)
    if s in EN_ATTENTE_DU_PORTEUR:
        compte_rendu = demande.compte_rendu
        echeance = compte_rendu.echeance if compte_rendu else date(demande.annee_fin + 1, 6, 30)
        verbe = "à modifier et attester" if s == StatutDemande.justification_a_modifier else "à déposer"
        return ProchaineAction(
            f"Compte rendu financier {verbe} avant le {echeance:%d/%m/%Y}", "justification.formulaire"
        )
    return None
