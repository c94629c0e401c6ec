"""Préparation du banc, dans le processus, sur la base chargée par `flask seed scale` : comptes de mesure
rattachés à de vraies organisations et structures du jeu, brouillons complétés (pièces, éligibilité,
champs), lignes à aviser. Renvoie un plan (JSON) que les scénarios HTTP suivent.

Les comptes partagent un même mot de passe haché une fois avec la méthode de production (scrypt) : la
connexion passe par le vrai formulaire et le vrai contrôle du mot de passe. Seuls les mille porteurs de
la rafale, dont la connexion précède la mesure, ont un hachage PBKDF2 léger : leurs mille connexions
préalables ne coûtent pas des minutes de scrypt (base jetable, comptes de mesure).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from datetime import date
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    CompteBancaire,
    Demande,
    Document,
    LigneFinancement,
    MembreOrganisation,
    MembreStructure,
    PartenaireContrat,
    PieceJointe,
    Pilotage,
    ReponseEligibilite,
    RoleOrganisation,
    RoleStructure,
    Structure,
    Utilisateur,
    maintenant,
)
from dauphin.services import instruction
from dauphin.services.demandes import qpvs_du_contrat
from workflows import DEMANDE, StatutDemande, StatutLigne

MOT_DE_PASSE = "banc-dauphin-" + "m" * 12
DOMAINE = "banc.dauphin.fr"


class Comptes:
    def __init__(self):
        self.empreinte = generate_password_hash(
            MOT_DE_PASSE, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        )
        self.empreinte_legere = generate_password_hash(MOT_DE_PASSE, method="pbkdf2:sha256:1000")
        self.n = 0
        self.serie = secrets.token_hex(3)  # une base réutilisée (--reutiliser) reçoit d'autres comptes

    def creer(self, prefixe: str, leger: bool = False) -> Utilisateur:
        self.n += 1
        utilisateur = Utilisateur(
            email=f"{prefixe}.{self.serie}.{self.n:05d}@{DOMAINE}",
            prenom="Mesure",
            nom=f"{prefixe.capitalize()} {self.n}",
            mot_de_passe_hash=self.empreinte_legere if leger else self.empreinte,
            email_confirme_le=maintenant(),
        )
        db.session.add(utilisateur)
        db.session.flush()
        return utilisateur

    def instructeur(self, prefixe: str, organisations: set[int]) -> str:
        u = self.creer(prefixe)
        for organisation_id in sorted(organisations):
            db.session.add(
                MembreOrganisation(
                    utilisateur_id=u.id, organisation_id=organisation_id, role=RoleOrganisation.instructeur
                )
            )
        return u.email

    def pilote(self, prefixe: str, contrat_id: int, organisation_id: int) -> Utilisateur:
        u = self.creer(prefixe)
        db.session.add(Pilotage(utilisateur_id=u.id, contrat_id=contrat_id, organisation_id=organisation_id))
        db.session.flush()
        return u

    def partenaire(self, prefixe: str, organisation_id: int) -> str:
        u = self.creer(prefixe)
        db.session.add(
            MembreOrganisation(
                utilisateur_id=u.id, organisation_id=organisation_id, role=RoleOrganisation.partenaire
            )
        )
        return u.email

    def porteur(
        self, prefixe: str, structures: set[int], role=RoleStructure.signataire, leger: bool = False
    ) -> str:
        u = self.creer(prefixe, leger)
        for structure_id in sorted(structures):
            db.session.add(MembreStructure(utilisateur_id=u.id, structure_id=structure_id, role=role))
        return u.email


def _completer(demande: Demande, jour: date) -> bool:
    """Complète un brouillon du jeu (pièces du porte-documents, éligibilité, champs) ; vrai s'il peut être
    soumis selon les gardes de la machine (rien n'est contourné)."""
    defauts = {
        "responsable_nom": "Camille Mesure",
        "responsable_fonction": "Coordinatrice",
        "responsable_email": f"responsable.{demande.id}@{DOMAINE}",
        "intitule": f"Action de quartier {demande.id}",
        "objectifs": "Renforcer le lien social dans le quartier.",
        "description": "Ateliers hebdomadaires ouverts aux habitants.",
        "public_cible": "Habitants du quartier prioritaire",
        "nb_beneficiaires": 60,
        "thematique_code": "1.5",
        "date_debut": date(demande.exercice, 1, 1),
        "date_fin": date(demande.exercice, 12, 31),
        "moyens_humains": "Deux animateurs salariés.",
        "indicateurs_evaluation": "Participation, assiduité.",
    }
    for champ, valeur in defauts.items():
        if getattr(demande, champ) in (None, ""):
            setattr(demande, champ, valeur)
    if demande.compte_bancaire_id is None:
        demande.compte_bancaire_id = db.session.scalar(
            select(CompteBancaire.id).where(CompteBancaire.structure_id == demande.structure_id).limit(1)
        )
    if not demande.qpvs:
        qpvs = qpvs_du_contrat(demande)
        if qpvs:
            demande.qpvs = qpvs[:1]
    reponses = demande.reponses_eligibilite
    for question in demande.campagne.questions_eligibilite:
        if reponses.get(question.id) != question.reponse_attendue:
            demande.reponses = [r for r in demande.reponses if r.question_id != question.id] + [
                ReponseEligibilite(question_id=question.id, reponse=question.reponse_attendue)
            ]
    fournies = demande.types_pieces_fournies
    for piece in demande.campagne.pieces_requises:
        if piece.obligatoire and piece.type_piece not in fournies:
            cle = hashlib.sha256(f"banc-{demande.id}-{piece.type_piece.value}".encode()).hexdigest()[:40]
            document = Document(
                structure_id=demande.structure_id,
                type_piece=piece.type_piece,
                nom_fichier=f"{piece.type_piece.value}.pdf",
                cle_stockage=f"banc-{cle}",
                type_mime="application/pdf",
                taille=1024,
                sha256="0" * 64,
            )
            db.session.add(document)
            db.session.flush()
            demande.pieces_jointes.append(PieceJointe(document_id=document.id, type_piece=piece.type_piece))
    db.session.flush()
    return not DEMANDE.problemes(demande, "soumettre", aujourdhui=jour)


class Brouillon(NamedTuple):
    id: int
    structure_id: int


def brouillons_complets(nombre: int, jour: date, exclus: set[int]) -> list[Brouillon]:
    """Des brouillons de campagnes ouvertes, complétés jusqu'à passer les gardes de dépôt."""
    if nombre <= 0:
        return []
    # Les identifiants d'abord : charger toutes les demandes candidates dans la session rendrait chaque
    # flush proportionnel à leur nombre (des dizaines de milliers à 250 000 demandes).
    candidats = db.session.scalars(
        select(Demande.id)
        .join(Campagne, Campagne.id == Demande.campagne_id)
        .where(
            Demande.statut == StatutDemande.brouillon,
            Campagne.date_ouverture <= jour,
            Campagne.date_cloture >= jour,
        )
        .order_by(Demande.id)
    ).all()
    retenus = []
    for demande_id in candidats:
        if demande_id in exclus:
            continue
        demande = db.session.get(Demande, demande_id)
        if _completer(demande, jour):
            retenus.append(Brouillon(demande.id, demande.structure_id))
            exclus.add(demande.id)
            if len(retenus) % 100 == 0:  # une session courte : chaque flush reste bon marché
                db.session.commit()
                db.session.expunge_all()
            if len(retenus) == nombre:
                break
    return retenus


def _export(comptes: Comptes, utilisateurs: int) -> dict:
    """La campagne close dont le nombre de demandes transmises est le plus proche de 1 000 (cible : export
    ≤ 2 s), exportée par des pilotes de son contrat. Close : aucun dépôt du banc n'y ajoute de demande,
    et le nombre exporté reste celui que le rapport divise."""
    nombre = func.count(Demande.id)
    campagne_id, contrat_id, demandes = db.session.execute(
        select(Campagne.id, Campagne.contrat_id, nombre)
        .join(Demande, Demande.campagne_id == Campagne.id)
        .where(Demande.numero.is_not(None), Campagne.date_cloture < date.today())
        .group_by(Campagne.id, Campagne.contrat_id)
        .order_by(func.abs(nombre - 1000))
        .limit(1)
    ).one()
    organisation_id = db.session.scalar(
        select(PartenaireContrat.organisation_id).where(PartenaireContrat.contrat_id == contrat_id).limit(1)
    )
    pilotes = [comptes.pilote("pilote", contrat_id, organisation_id).email for _ in range(utilisateurs)]
    return {
        "campagne_id": campagne_id,
        "demandes": demandes,
        "comptes": pilotes,
        "urls": [f"/pilotage/programmation/{campagne_id}/export.xlsx"],
        "page": f"/pilotage/programmation/{campagne_id}",  # la page de la programmation, même campagne
    }


def _instruire(comptes: Comptes, campagne_id: int, nombre: int) -> None:
    """Amène des dossiers en instruction de la campagne jusqu'à `nombre` dossiers instruits, par le moteur de
    workflow comme un instructeur de chaque financeur : prise en charge, puis avis de recevabilité au
    montant demandé ; la demande passe « instruite » d'elle-même quand toutes ses lignes sont avisées."""
    from dauphin.services.workflow import declencher_ligne

    manque = nombre - db.session.scalar(
        select(func.count(Demande.id)).where(
            Demande.campagne_id == campagne_id, Demande.statut == StatutDemande.instruite
        )
    )
    if manque <= 0:
        return
    demandes = list(
        db.session.scalars(
            select(Demande.id)
            .where(
                Demande.campagne_id == campagne_id,
                Demande.statut.in_([StatutDemande.transmise, StatutDemande.en_instruction]),
            )
            .order_by(Demande.id)
            .limit(manque)
        )
    )
    lignes = db.session.execute(
        select(
            LigneFinancement.id,
            LigneFinancement.organisation_id,
            LigneFinancement.statut,
            LigneFinancement.montant_demande,
        )
        .where(
            LigneFinancement.demande_id.in_(demandes),
            LigneFinancement.statut.in_([StatutLigne.sollicitee, StatutLigne.prise_en_charge]),
        )
        .order_by(LigneFinancement.id)
    ).all()
    email = comptes.instructeur("instructeur-comite", {ligne.organisation_id for ligne in lignes})
    db.session.commit()
    instructeur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
    for ligne_id, _, statut, montant_demande in lignes:
        if statut == StatutLigne.sollicitee:
            declencher_ligne(ligne_id, "prendre_en_charge", instructeur)
        declencher_ligne(ligne_id, "declarer_recevable", instructeur, montant=montant_demande)


def _vote(comptes: Comptes, utilisateurs: int, iterations: int) -> dict:
    """Une séance de comité en vote ouvert, par les services du portail : `iterations` dossiers instruits
    de la campagne qui en a le plus (instruits ou en passe de l'être) à l'ordre du jour ; chaque utilisateur
    simulé vote au nom d'une organisation partenaire. Le jeu de 25 000 demandes n'a que 5 dossiers instruits
    dans sa plus grosse campagne : les autres y sont instruits d'abord (`_instruire`), pour que l'ordre du
    jour, et donc la page de la séance lue avant chaque vote, soit le même aux deux volumes."""
    from dauphin.services import comites

    nombre = func.count(Demande.id)
    campagne_id, contrat_id = db.session.execute(
        select(Campagne.id, Campagne.contrat_id)
        .join(Demande, Demande.campagne_id == Campagne.id)
        .where(
            Demande.statut.in_(
                [StatutDemande.transmise, StatutDemande.en_instruction, StatutDemande.instruite]
            )
        )
        .group_by(Campagne.id, Campagne.contrat_id)
        .order_by(nombre.desc(), Campagne.id)
        .limit(1)
    ).one()
    _instruire(comptes, campagne_id, iterations)
    partenaires = list(
        db.session.scalars(
            select(PartenaireContrat.organisation_id)
            .where(PartenaireContrat.contrat_id == contrat_id)
            .order_by(PartenaireContrat.organisation_id)
        )
    )
    pilote = comptes.pilote("pilote-comite", contrat_id, partenaires[0])
    db.session.commit()
    seance = comites.creer_seance(pilote, campagne_id, date.today(), "Banc de mesure")
    dossiers = list(
        db.session.scalars(
            select(Demande.id)
            .where(Demande.campagne_id == campagne_id, Demande.statut == StatutDemande.instruite)
            .order_by(Demande.id)
            .limit(iterations)
        )
    )
    comites.inscrire(seance.id, dossiers, pilote)
    comites.ouvrir_vote(seance.id, pilote)
    points = [p.id for p in comites.charger(seance.id).points]
    cibles = []
    for organisation_id in partenaires[:utilisateurs]:
        email = comptes.partenaire("partenaire-comite", organisation_id)
        cibles.append([email, [[seance.id, point_id, organisation_id] for point_id in points]])
    db.session.commit()
    return {"seance_id": seance.id, "points": len(points), "cibles": cibles}


# Mots qui ne se cherchent pas : articles, prépositions, conjonctions (les intitulés du jeu en sont pleins).
MOTS_VIDES = frozenset(
    ["avec", "dans", "pour", "entre", "leur", "leurs", "vers", "chez", "sans", "sous", "plus", "tous"]
    + ["toutes", "tout", "toute", "auprès", "autour", "depuis", "afin", "cette", "celui", "celle"]
)


def mots_frequents(requete, nombre: int, sauf: set[str] = frozenset()) -> list[str]:
    """Les `nombre` mots de quatre lettres ou plus les plus fréquents des textes lus par `requete` (une
    colonne), comptés une fois par texte, hors mots vides : ce qu'un usager tape le plus souvent."""
    compte: Counter[str] = Counter()
    for texte in db.session.scalars(requete):
        mots = re.findall(r"[^\W\d_]{4,}", (texte or "").lower())
        compte.update({mot for mot in mots if mot not in MOTS_VIDES})
    return [mot for mot, _ in compte.most_common(nombre + len(sauf)) if mot not in sauf][:nombre]


def _repartir(elements: list, groupes: int) -> list[list]:
    return [elements[i::groupes] for i in range(groupes)]


def le_plus_frequent(colonne) -> tuple:
    """La valeur de `colonne` la plus fréquente et son nombre de lignes."""
    return db.session.execute(
        select(colonne, func.count()).group_by(colonne).order_by(func.count().desc()).limit(1)
    ).one()


def preparer(utilisateurs: int, iterations_transition: int, rafale: int) -> dict:
    """Crée comptes et cibles ; renvoie le plan des scénarios. Une transaction, validée à la fin."""
    jour = date.today()
    comptes = Comptes()
    plan: dict = {"mot_de_passe": MOT_DE_PASSE}

    # Le financeur qui a le plus de lignes : la liste la plus lourde du pays.
    organisation_id, nb_lignes = le_plus_frequent(LigneFinancement.organisation_id)
    instructeurs = [comptes.instructeur("instructeur", {organisation_id}) for _ in range(utilisateurs)]
    exercices = sorted(
        db.session.scalars(
            select(Demande.exercice)
            .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
            .where(LigneFinancement.organisation_id == organisation_id)
            .distinct()
        )
    )
    contrat_id = db.session.scalar(
        select(Campagne.contrat_id)
        .join(Demande, Demande.campagne_id == Campagne.id)
        .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
        .where(LigneFinancement.organisation_id == organisation_id)
        .group_by(Campagne.contrat_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    # Des pages profondes qui existent (à 25 000 demandes, « ?page=20 » de l'onglet par défaut était vide) :
    # le milieu et la fin de l'onglet « terminées », le plus long.
    terminees = db.session.scalar(
        select(func.count())
        .select_from(LigneFinancement)
        .where(
            LigneFinancement.organisation_id == organisation_id,
            LigneFinancement.statut.in_(instruction.LIGNE_TERMINEE),
        )
    )
    derniere = max(1, -(-terminees // current_app.config["PAGE_TAILLE"]))
    # Ce que les instructeurs tapent : les mots les plus fréquents des intitulés de ce financeur, le mot le
    # plus fréquent des noms de ses structures, une année (texte à chiffres), une seule lettre.
    mots = mots_frequents(
        select(Demande.intitule)
        .join(LigneFinancement, LigneFinancement.demande_id == Demande.id)
        .where(LigneFinancement.organisation_id == organisation_id),
        3,
    )
    mot_structure = mots_frequents(
        select(Structure.raison_sociale)
        .join(LigneFinancement, LigneFinancement.structure_id == Structure.id)
        .where(LigneFinancement.organisation_id == organisation_id),
        1,
        sauf=set(mots),
    )
    variantes = [
        ("onglet par défaut", "/instruction/"),
        ("statut de la ligne : sollicitée", "/instruction/?statut=sollicitee"),
        ("prises en charge par montant", "/instruction/?statut=prise_en_charge&tri=montant&ordre=desc"),
        ("dernier exercice", f"/instruction/?exercice={exercices[-1]}"),
        (
            "exercice, contrat et statut",
            f"/instruction/?exercice={exercices[-1]}&contrat={contrat_id}&statut=transmise",
        ),
        ("onglet « suivies »", "/instruction/?onglet=suivies"),
        ("onglet « terminées » trié par numéro", "/instruction/?onglet=terminees&tri=numero"),
        *[(f"mot fréquent des intitulés « {mot} »", f"/instruction/?q={mot}") for mot in mots],
        *[(f"mot fréquent des structures « {mot} »", f"/instruction/?q={mot}") for mot in mot_structure],
        # Les mots de la mesure indépendante du 6 décembre (issue 22), s'ils ne sont pas déjà tirés du jeu
        *[
            (f"mot « {mot} »", f"/instruction/?q={mot}")
            for mot in ("quartier", "jeunes", "association")
            if mot not in mots + mot_structure
        ],
        ("une année", f"/instruction/?q={exercices[-1]}"),
        ("une lettre", "/instruction/?q=a"),  # seul le sigle exact est cherché (RECHERCHE_MIN)
        ("statut du dossier : en instruction", "/instruction/?statut=en_instruction"),  # recopié sur la ligne
        ("« terminées », page du milieu", f"/instruction/?onglet=terminees&page={max(1, derniere // 2)}"),
        ("« terminées », dernière page", f"/instruction/?onglet=terminees&page={derniere}"),
        ("dossiers dont je suis gestionnaire", "/instruction/?gestionnaire=moi"),
    ]
    plan["instruction"] = {
        "organisation_id": organisation_id,
        "lignes": nb_lignes,
        "comptes": instructeurs,
        "requetes": [url for _, url in variantes],
        # Le libellé d'une variante, le même aux deux volumes (ses numéros de page et de contrat changent) :
        # la croissance se lit variante par variante.
        "libelles": {url: libelle for libelle, url in variantes},
    }
    plan["dossier"] = {
        "comptes": instructeurs,
        "demandes": list(
            db.session.scalars(
                select(LigneFinancement.demande_id)
                .join(Demande, Demande.id == LigneFinancement.demande_id)
                .where(
                    LigneFinancement.organisation_id == organisation_id,
                    Demande.statut.not_in([StatutDemande.brouillon, StatutDemande.attente_attestation]),
                )
                .order_by(LigneFinancement.id)
                .limit(400)
            )
        ),
    }

    # La structure qui a le plus de demandes : le tableau de bord le plus chargé.
    structure_id, nb_demandes = le_plus_frequent(Demande.structure_id)
    plan["tableau"] = {
        "structure_id": structure_id,
        "demandes": nb_demandes,
        "comptes": [comptes.porteur("porteur", {structure_id}) for _ in range(utilisateurs)],
    }

    # Brouillons : un par utilisateur pour le budget, des séries pour le dépôt, puis ceux de la rafale.
    pris: set[int] = set()
    budget = brouillons_complets(utilisateurs, jour, pris)
    plan["budget"] = {
        "cibles": [
            [comptes.porteur("contributeur", {d.structure_id}, RoleStructure.contributeur), d.id]
            for d in budget
        ]
    }
    depot = brouillons_complets(utilisateurs * iterations_transition, jour, pris)
    plan["depot"] = {
        "cibles": [
            [comptes.porteur("deposant", {d.structure_id for d in groupe}), [d.id for d in groupe]]
            for groupe in _repartir(depot, utilisateurs)
            if groupe
        ]
    }

    # Avant les lignes de l'avis de recevabilité : la séance instruit des dossiers, qui n'en seront pas.
    plan["vote"] = _vote(comptes, utilisateurs, iterations_transition)

    # Lignes prises en charge de dossiers en instruction : l'avis de recevabilité.
    lignes = db.session.execute(
        select(LigneFinancement.id, LigneFinancement.organisation_id, LigneFinancement.montant_demande)
        .join(Demande, Demande.id == LigneFinancement.demande_id)
        .where(
            LigneFinancement.statut == StatutLigne.prise_en_charge,
            Demande.statut == StatutDemande.en_instruction,
        )
        .order_by(LigneFinancement.id)
        .limit(utilisateurs * iterations_transition)
    ).all()
    plan["recevabilite"] = {
        "cibles": [
            [
                comptes.instructeur("avis", {org for _, org, _ in groupe}),
                [[ligne_id, str(montant)] for ligne_id, _, montant in groupe],
            ]
            for groupe in _repartir(lignes, utilisateurs)
            if groupe
        ]
    }

    plan["export"] = _export(comptes, utilisateurs)
    db.session.commit()

    rafale_brouillons = brouillons_complets(rafale, jour, pris)
    plan["rafale"] = [
        [comptes.porteur("rafale", {d.structure_id}, leger=True), d.id] for d in rafale_brouillons
    ]
    db.session.commit()
    return plan
