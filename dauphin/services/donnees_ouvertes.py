"""Données essentielles des subventions attribuées, au format officiel SCDL « Subventions » 2.1.1
(décret n° 2017-779 du 5 mai 2017, arrêté du 17 novembre 2017) : une ligne par ligne de financement votée,
un fichier CSV par financeur et par exercice (UTF-8, virgule, `<SIRET>_<exercice>_subventions.csv`),
listé par la page publique /donnees-ouvertes/ et servi, ligne pour ligne, par l'API.

Le schéma est la copie du projet (`dauphin/static/schemas/scdl-subventions-2.1.1.json`, servie telle quelle
au public) : l'ordre et le nom des 40 colonnes en viennent.

Ce qui est publié, et pourquoi :
- **les lignes votées dont l'acte est établi** : engagées par une notification ou par la signature de leur
  convention (engagée, avance versée, soldée), au montant voté positif. `dateConvention` est obligatoire :
  une ligne votée qui attend son acte, ou dont la convention attend la signature de la structure, n'a pas
  encore de date ; elle est comptée « en attente de l'acte » et paraît à la publication suivante. Les
  lignes refusées (ou dont le vote a été annulé) ne sont jamais publiées.
- `dateConvention` : le jour (heure de Paris) de la notification ou de la signature de la convention, lu
  au journal de la ligne ; à défaut de cette écriture (données reprises d'un autre outil), le jour du dépôt
  de la convention signée, et pour une notification sans trace, le jour du vote.
- **cofinancement** : les autres lignes de la même demande *votées* (votée, convention à signer, engagée,
  avance versée, soldée ; montant positif). Un financeur qui a refusé, dont le vote a été annulé, qui a
  abandonné ou n'a pas encore décidé ne cofinance pas : il ne figure pas dans `attribuantsCofinanceurs`.
  Les financeurs hors plateforme du budget (compte 74 sans organisation) n'y sont pas : le portail ne
  connaît pas leur décision. `idCofinancement` est le numéro de la demande, commun à ses cofinanceurs.
- `ej` : le numéro d'engagement juridique de la ligne ; sans lui, `cléVersement` porte l'identifiant de la
  subvention (`<numéro de la demande>-<ligne>`).
- **versements** (échéancier et paiements, une échéance payée comptant pour sa date et son montant
  payés) : aucune échéance → « autre », période de la date de l'acte à la fin de l'action ; une → « unique »
  à sa date ; plusieurs → « échelonné », de la première à la dernière date. La description les énumère
  (ou les résume au-delà de 256 caractères).
- `pourcentageSubvention` : montant voté ÷ total des charges de l'action (budget prévisionnel, hors
  contributions volontaires en nature 86), borné à l'intervalle du schéma [0,01 ; 1].
- `notificationUE` : « non » (les aides de la politique de la ville ne sont pas des aides de minimis
  notifiées) ; `nature` : « aide en numéraire ».

Lecture ensembliste : pour un financeur et un exercice, trois requêtes quel que soit le nombre de lignes —
les lignes (structure, demande, campagne, total du budget et date de l'acte en sous-requêtes), leurs
échéances, leurs cofinanceurs — jamais une requête par ligne.

Les fichiers publiés sont écrits par `preparer_fichier` et `rendre_visibles`, lus par `cle_fichier`
dans le dossier `donnees-ouvertes/` du stockage (dauphin/stockage.py : disque local ou seau S3).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, contains_eager

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    Demande,
    Document,
    EvenementJournal,
    LigneBudget,
    LigneFinancement,
    NatureVersement,
    Organisation,
    PublicationDonneesOuvertes,
    Structure,
    Versement,
    maintenant,
)
from dauphin.services import audit, curseurs
from dauphin.services.engagements import LIGNE_ENGAGEE, LIGNE_VOTEE
from dauphin.services.erreurs import Refus
from dauphin.services.exports import echapper
from dauphin.services.workflow import PARIS, aujourdhui
from dauphin.stockage import stockage
from dauphin.unite_de_travail import apres_commit, en_une_transaction
from workflows.budget import PLAN_COMPTABLE, Sens, format_euros

SCHEMA = Path(__file__).resolve().parents[1] / "static" / "schemas" / "scdl-subventions-2.1.1.json"
NOM_SCHEMA = "schemas/scdl-subventions-2.1.1.json"  # sous /static/, pour url_for
VERSION_SCHEMA = "2.1.1"

# Ce qui est publié (l'acte est établi) et ce qui cofinance (le comité a voté un montant)
PUBLIEES = frozenset(LIGNE_ENGAGEE)
EN_ATTENTE_ACTE = frozenset(LIGNE_VOTEE - LIGNE_ENGAGEE)
COFINANCEURS = frozenset(LIGNE_VOTEE)
# La ligne publiée, sous un alias : la portée d'un jeton (`policies.VOIR_DEMANDE`) sonde les lignes de
# financement de la demande par un EXISTS corrélé à `Demande` ; sous son propre nom, la ligne publiée y
# serait corrélée aussi.
PUBLIEE = aliased(LigneFinancement, name="ligne_publiee")
# Les déclencheurs qui engagent une ligne : la date de l'acte (dateConvention)
ACTES = ("notifier", "signer_convention")
# Le coût de l'action : ses charges, hors contributions volontaires en nature (86)
COMPTES_CHARGES = tuple(c.code for c in PLAN_COMPTABLE if c.sens is Sens.charge and not c.en_nature)
RNA_SCDL = re.compile(r"W\d{9}")  # le motif du schéma (un RNA de Corse, W2A…, n'y entre pas)
TEXTE_MAX = 256
POURCENTAGE_MIN, POURCENTAGE_MAX = Decimal("0.01"), Decimal("1")
NOM_FICHIER = re.compile(r"(\d{14})_(\d{4})_subventions\.csv")
PARTIEL = ".partiel"
# Les colonnes de texte libre saisies par les usagers : dans le fichier CSV (qu'un tableur peut ouvrir),
# une valeur qui commence par = + - @ est préfixée d'une apostrophe, comme dans les exports.
TEXTES_LIBRES = ("nomBeneficiaire", "objet")


@cache
def schema() -> dict:
    """Le schéma Table Schema officiel, copie du projet."""
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


@cache
def champs() -> tuple[str, ...]:
    """Les 40 colonnes, dans l'ordre du schéma."""
    return tuple(champ["name"] for champ in schema()["fields"])


# --- Lecture ensembliste --------------------------------------------------------------------------


def _criteres(exercice: int, organisation_id: int | None = None) -> list:
    """Les lignes publiables d'un exercice (d'un financeur) : celles de l'index (organisation, exercice,
    statut) des lignes de financement."""
    criteres = [
        PUBLIEE.exercice == exercice,
        PUBLIEE.statut.in_(sorted(PUBLIEES)),
        PUBLIEE.montant_vote > 0,
    ]
    if organisation_id is not None:
        criteres.append(PUBLIEE.organisation_id == organisation_id)
    return criteres


def _requete_lignes(criteres: list):
    date_acte = (
        select(func.min(EvenementJournal.horodatage))
        .where(EvenementJournal.ligne_id == PUBLIEE.id, EvenementJournal.declencheur.in_(ACTES))
        .scalar_subquery()
    )
    cout = (
        select(func.sum(LigneBudget.montant))
        .where(LigneBudget.demande_id == PUBLIEE.demande_id, LigneBudget.compte.in_(COMPTES_CHARGES))
        .scalar_subquery()
    )
    return (
        select(
            PUBLIEE.id,
            PUBLIEE.demande_id,
            PUBLIEE.numero,
            PUBLIEE.montant_demande,
            PUBLIEE.montant_vote,
            PUBLIEE.vote_le,
            PUBLIEE.numero_engagement,
            PUBLIEE.transmise_le,
            Organisation.id.label("organisation_id"),
            Organisation.nom.label("attribuant"),
            Organisation.siret.label("siret_attribuant"),
            Structure.raison_sociale,
            Structure.siret,
            Structure.rna,
            Demande.intitule,
            Demande.exercice,
            Demande.duree_annees,
            Demande.date_debut,
            Demande.date_fin,
            Demande.modifie_le,
            Campagne.libelle.label("campagne"),
            Document.depose_le.label("convention_deposee_le"),
            date_acte.label("acte_le"),
            cout.label("cout"),
        )
        .join(Organisation, Organisation.id == PUBLIEE.organisation_id)
        .join(Demande, Demande.id == PUBLIEE.demande_id)
        .join(Structure, Structure.id == Demande.structure_id)
        .join(Campagne, Campagne.id == Demande.campagne_id)
        .outerjoin(Document, Document.id == PUBLIEE.convention_document_id)
        .where(*criteres)
    )


def _echeances(criteres: list) -> dict[int, list[Versement]]:
    resultat: dict[int, list] = defaultdict(list)
    for ligne in db.session.execute(
        select(
            Versement.ligne_id,
            Versement.nature,
            Versement.date_prevue,
            Versement.montant_prevu,
            Versement.verse_le,
            Versement.montant_verse,
        )
        .join(PUBLIEE, PUBLIEE.id == Versement.ligne_id)
        .where(*criteres)
        .order_by(Versement.ligne_id, Versement.date_prevue, Versement.id)
    ):
        resultat[ligne.ligne_id].append(ligne)
    return resultat


def _cofinanceurs(criteres: list) -> dict[int, list[str]]:
    """Pour chaque ligne, le nom des financeurs qui ont voté un montant sur une autre ligne de sa demande."""
    autre = aliased(LigneFinancement)
    resultat: dict[int, list[str]] = defaultdict(list)
    for ligne_id, nom in db.session.execute(
        select(PUBLIEE.id, Organisation.nom)
        .join(autre, and_(autre.demande_id == PUBLIEE.demande_id, autre.id != PUBLIEE.id))
        .join(Organisation, Organisation.id == autre.organisation_id)
        .where(*criteres, autre.statut.in_(sorted(COFINANCEURS)), autre.montant_vote > 0)
        .order_by(PUBLIEE.id, Organisation.nom)
    ):
        resultat[ligne_id].append(nom)
    return resultat


def lignes_scdl(
    exercice: int, organisation_id: int | None = None, *, mise_a_jour: date | None = None
) -> list[dict[str, str]]:
    """Les lignes SCDL (colonne → texte, "" pour une cellule vide) du fichier de l'exercice, d'un financeur
    ou de tous ceux qui ont un SIRET, triées par financeur, numéro de demande et ligne."""
    criteres = _criteres(exercice, organisation_id)
    requete = (
        _requete_lignes(criteres)
        .where(Organisation.siret.is_not(None))
        .order_by(Organisation.nom, Organisation.id, PUBLIEE.numero, PUBLIEE.id)
    )
    return _en_lignes_scdl(db.session.execute(requete).all(), criteres, mise_a_jour)


def page_lignes_scdl(
    exercice: int,
    organisation_id: int | None,
    *,
    portee,
    apres: str | None,
    par_page: int,
    modifie_depuis: datetime | None = None,
) -> tuple[list[dict[str, str]], str | None]:
    """Une page des lignes SCDL de l'exercice (API) dans `portee` (une condition SQL sur `Demande` : le
    périmètre d'un jeton), et le curseur de la suivante (None : la dernière).

    Les pages suivent (demande.modifie_le, ligne.id) : la ligne de financement n'a pas de date de
    modification, mais toute écriture sur un dossier — une ligne (vote, acte, engagement), son échéancier,
    un paiement, la demande elle-même — réécrit `demande.modifie_le` sous le verrou du dossier
    (`unite_de_travail.charger_demande_verrouillee`) : c'est la colonne qui change quand une ligne publiée
    change, et `modifie_depuis` la filtre. Échéances et cofinanceurs sont lus pour les seules lignes de la
    page."""
    criteres = _criteres(exercice, organisation_id)
    requete = _requete_lignes(criteres).where(Organisation.siret.is_not(None), portee)
    if modifie_depuis is not None:
        requete = requete.where(Demande.modifie_le >= modifie_depuis)
    rangees, suivant = curseurs.page(
        requete, Demande.modifie_le, PUBLIEE.id, apres, par_page, lambda r: db.session.execute(r).all()
    )
    criteres_page = [PUBLIEE.id.in_([rangee.id for rangee in rangees])]
    return _en_lignes_scdl(rangees, criteres_page, None), suivant


def _en_lignes_scdl(rangees: list, criteres: list, mise_a_jour: date | None) -> list[dict[str, str]]:
    """Les lignes SCDL de ces rangées ; `criteres` désigne leurs lignes de financement (pour lire leurs
    échéances et leurs cofinanceurs en une requête chacun)."""
    if not rangees:
        return []
    echeances, cofinanceurs = _echeances(criteres), _cofinanceurs(criteres)
    mise_a_jour = mise_a_jour or aujourdhui()
    return [ligne_scdl(r, echeances[r.id], cofinanceurs[r.id], mise_a_jour) for r in rangees]


# --- Une ligne SCDL ---------------------------------------------------------------------------------


def _jour_de_paris(instant: datetime | None) -> date | None:
    return instant.astimezone(PARIS).date() if instant is not None else None


def _montant(valeur: Decimal | None) -> str:
    return "" if valeur is None else f"{valeur:.2f}"


def _euros(valeur: Decimal) -> str:
    """« 1 234,50 € », avec des espaces ordinaires (lisibles par tout outil)."""
    return format_euros(valeur).replace("\u202f", " ").replace("\xa0", " ")


def _borne(texte: str, longueur: int = TEXTE_MAX) -> str:
    return texte if len(texte) <= longueur else texte[: longueur - 1].rstrip() + "…"


def pourcentage(vote: Decimal, cout: Decimal | None) -> Decimal:
    """La part du coût de l'action que couvre le montant voté, dans l'intervalle du schéma."""
    if not cout or cout <= 0:
        return POURCENTAGE_MAX
    part = (vote / cout).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return min(POURCENTAGE_MAX, max(POURCENTAGE_MIN, part))


@dataclass(frozen=True)
class Versements:
    conditions: str  # unique | échelonné | autre
    description: str
    periode: str  # AAAA-MM-JJ ou AAAA-MM-JJ/AAAA-MM-JJ


def _participe(nature: NatureVersement, paye: bool) -> str:
    """« avance versée », « solde prévu » : accordé au genre de l'échéance."""
    return nature.accorde("versé" if paye else "prévu")


def versements(echeances: list, debut_defaut: date, fin_defaut: date) -> Versements:
    """Les conditions de versement d'une ligne, de son échéancier : une échéance payée compte pour sa date
    et son montant payés, une autre pour ce qui est prévu."""
    if not echeances:
        fin = max(debut_defaut, fin_defaut)
        return Versements(
            "autre",
            "Échéancier des versements pas encore arrêté : versements prévus pendant la durée de l’action.",
            f"{debut_defaut.isoformat()}/{fin.isoformat()}",
        )
    # (nature, date, montant, payé) : une échéance payée pour sa date et son montant payés
    faits = [
        (e.nature, e.verse_le, e.montant_verse, True)
        if e.verse_le is not None
        else (e.nature, e.date_prevue, e.montant_prevu, False)
        for e in echeances
    ]
    dates = [jour for _, jour, _, _ in faits]
    debut, fin = min(dates), max(dates)
    if len(faits) == 1:
        _, jour, montant, paye = faits[0]
        etat = "versé" if paye else "prévu"
        return Versements(
            "unique", f"Versement unique de {_euros(montant)} {etat} le {jour:%d/%m/%Y}.", jour.isoformat()
        )
    detail = " ; ".join(
        f"{nature.libelle.lower()} de {_euros(montant)} {_participe(nature, paye)} le {jour:%d/%m/%Y}"
        for nature, jour, montant, paye in faits
    )
    description = f"{len(faits)} versements : {detail}."
    if len(description) > TEXTE_MAX:
        payes = [montant for _, _, montant, paye in faits if paye]
        description = (
            f"{len(faits)} versements de {_euros(sum((m for _, _, m, _ in faits), Decimal('0')))} au total, "
            f"du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}, dont {len(payes)} payé{'s' if len(payes) > 1 else ''} "
            f"({_euros(sum(payes, Decimal('0')))})."
        )
    periode = f"{debut.isoformat()}/{fin.isoformat()}"
    return Versements("échelonné", _borne(description), periode)


def _noms(noms: list[str]) -> str:
    """La liste des cofinanceurs, séparés par des virgules (une virgule dans un nom deviendrait un
    séparateur : elle est remplacée)."""
    return ", ".join(re.sub(r"\s*,\s*", " – ", nom) for nom in noms)


def ligne_scdl(ligne, echeances: list, cofinanceurs: list[str], mise_a_jour: date) -> dict[str, str]:
    """La ligne SCDL d'une ligne de financement engagée (colonne → texte)."""
    date_convention = _jour_de_paris(ligne.acte_le or ligne.convention_deposee_le)
    if date_convention is None:  # engagée sans trace de l'acte : la date du vote, à défaut
        date_convention = ligne.vote_le
    annee_fin = ligne.exercice + ligne.duree_annees - 1
    fin_action = ligne.date_fin or date(annee_fin, 12, 31)
    conditions = versements(echeances, date_convention, fin_action)
    identifiant = f"{ligne.numero}-{ligne.id}"
    cofinancee = bool(cofinanceurs)
    pluriannuelle = ligne.duree_annees > 1
    valeurs = {
        "idSubvention": identifiant,
        "nomAttribuant": ligne.attribuant,
        "idAttribuant": ligne.siret_attribuant,
        "nomServiceInstructeur": ligne.attribuant,
        "idServiceInstructeur": ligne.siret_attribuant,
        "nomBeneficiaire": ligne.raison_sociale,
        "idBeneficiaire": ligne.siret,
        "rnaBeneficiaire": ligne.rna if ligne.rna and RNA_SCDL.fullmatch(ligne.rna) else "",
        "exerciceBudgetaire": str(ligne.exercice),
        "pluriannualite": "oui" if pluriannuelle else "non",
        "anneesPluriannualite": " - ".join(str(a) for a in range(ligne.exercice, annee_fin + 1))
        if pluriannuelle
        else "",
        "dateDecision": ligne.vote_le.isoformat() if ligne.vote_le else "",
        "dateConvention": date_convention.isoformat(),
        "referenceDecision": "",
        "dateCreation": (_jour_de_paris(ligne.transmise_le) or date_convention).isoformat(),
        "dateDebut": ligne.date_debut.isoformat() if ligne.date_debut else "",
        "dateFin": ligne.date_fin.isoformat() if ligne.date_fin else "",
        "dispositif": "Politique de la ville",
        "sousDispositif": _borne(ligne.campagne),
        "statutLabel": "attribuée",
        "objet": _borne(ligne.intitule or "Action sans intitulé"),
        "nature": "aide en numéraire",
        "montantDemande": _montant(ligne.montant_demande),
        "montant": _montant(ligne.montant_vote),
        "nomOutilInstruction": "Dauphin",
        "nomOutilVersement": "",
        "ej": ligne.numero_engagement or "",
        "cléVersement": "" if ligne.numero_engagement else identifiant,
        "conditionsVersement": conditions.conditions,
        "descriptionConditionsVersement": conditions.description,
        "datesPeriodeVersement": conditions.periode,
        "cofinancement": "oui" if cofinancee else "non",
        "attribuantsCofinanceurs": _noms(cofinanceurs),
        "idCofinancement": ligne.numero if cofinancee else "",
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": format(pourcentage(ligne.montant_vote, ligne.cout).normalize(), "f"),
        "evaluationCout": "",
        "evaluation": "",
        "dateMiseAJour": mise_a_jour.isoformat(),
    }
    return {nom: valeurs[nom] for nom in champs()}


# --- Le fichier CSV ---------------------------------------------------------------------------------


def contenu_csv(lignes: list[dict[str, str]]) -> bytes:
    """Le fichier : UTF-8 sans BOM, virgule, guillemets au besoin, une ligne d'en-tête (noms du schéma)."""
    tampon = io.StringIO()
    ecrivain = csv.DictWriter(tampon, fieldnames=champs(), lineterminator="\r\n")
    ecrivain.writeheader()
    for ligne in lignes:
        ecrivain.writerow({**ligne, **{nom: echapper(ligne[nom]) for nom in TEXTES_LIBRES}})
    return tampon.getvalue().encode("utf-8")


def nom_fichier(siret: str, exercice: int) -> str:
    return f"{siret}_{exercice}_subventions.csv"


# --- Stockage des fichiers publiés (un seul endroit à changer pour un stockage d'objets) -------------


DOSSIER = "donnees-ouvertes/"


def preparer_fichier(nom: str, contenu: bytes) -> None:
    """Écrit le fichier à côté de sa place (`.partiel`) ; `rendre_visibles` l'y met (renommage) après le
    commit de sa publication : un fichier visible est complet et sa publication enregistrée."""
    stockage().ecrire(DOSSIER + nom + PARTIEL, contenu)


def rendre_visibles(fichiers: list[tuple[str, str | None]]) -> None:
    """(nom, ancien nom) : le fichier préparé prend sa place ; l'ancien (SIRET changé depuis) disparaît."""
    for nom, ancien in fichiers:
        stockage().renommer(DOSSIER + nom + PARTIEL, DOSSIER + nom)
        if ancien and ancien != nom:
            stockage().supprimer(DOSSIER + ancien)


def cle_fichier(nom: str) -> str | None:
    """La clé du fichier publié de ce nom dans le stockage, ou None (nom invalide ou absent)."""
    if not NOM_FICHIER.fullmatch(nom):
        return None
    cle = DOSSIER + nom
    return cle if stockage().existe(cle) else None


# --- Publier ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Financeur:
    id: int
    nom: str
    siret: str | None
    publiables: int  # lignes engagées de l'exercice
    en_attente: int  # lignes votées qui attendent leur acte


@dataclass
class Bilan:
    exercice: int
    publications: list[PublicationDonneesOuvertes] = field(default_factory=list)
    sans_siret: list[Financeur] = field(default_factory=list)
    en_attente: int = 0


def financeurs_de_l_exercice(exercice: int, organisation_id: int | None = None) -> list[Financeur]:
    """Les financeurs qui ont des lignes votées dans l'exercice : combien sont publiables, combien attendent
    leur acte (une requête, sur l'index des lignes par organisation et exercice)."""
    publiable = and_(LigneFinancement.statut.in_(sorted(PUBLIEES)), LigneFinancement.montant_vote > 0)
    requete = (
        select(
            Organisation.id,
            Organisation.nom,
            Organisation.siret,
            func.sum(case((publiable, 1), else_=0)),
            func.sum(case((LigneFinancement.statut.in_(sorted(EN_ATTENTE_ACTE)), 1), else_=0)),
        )
        .join(LigneFinancement, LigneFinancement.organisation_id == Organisation.id)
        .where(
            LigneFinancement.exercice == exercice,
            LigneFinancement.statut.in_(sorted(PUBLIEES | EN_ATTENTE_ACTE)),
        )
        .group_by(Organisation.id, Organisation.nom, Organisation.siret)
        .order_by(Organisation.nom)
    )
    if organisation_id is not None:
        requete = requete.where(Organisation.id == organisation_id)
    return [Financeur(*ligne) for ligne in db.session.execute(requete)]


def publier(exercice: int, organisation_id: int | None = None, *, sortie: Path | None = None) -> Bilan:
    """Produit et publie le fichier de chaque financeur de l'exercice (ou du seul `organisation_id`) : rangé
    pour la page publique, la publication enregistrée et tracée, une copie écrite dans `sortie`.

    Refus (rien n'est écrit) : organisation inconnue ou sans SIRET, aucune ligne publiable. Sans
    `organisation_id`, les financeurs sans SIRET sont laissés de côté et nommés dans le bilan."""
    bilan = Bilan(exercice)
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise Refus(f"Aucune organisation n’a l’identifiant {organisation_id}.")
        if not organisation.siret:
            raise Refus(
                f"« {organisation.nom} » n’a pas de SIRET : renseignez-le (Administration, Organisations) "
                "avant de publier ses données."
            )
    financeurs = financeurs_de_l_exercice(exercice, organisation_id)
    bilan.en_attente = sum(f.en_attente for f in financeurs)
    a_publier = [f for f in financeurs if f.publiables]
    if not a_publier:
        qui = f"de « {organisation.nom} » " if organisation_id is not None else ""
        attente = f" ({bilan.en_attente} ligne(s) votée(s) attendent leur acte)" if bilan.en_attente else ""
        raise Refus(f"Aucune subvention engagée {qui}pour l’exercice {exercice} : rien à publier{attente}.")
    if sortie is not None:
        sortie.mkdir(parents=True, exist_ok=True)
    mise_a_jour = aujourdhui()
    for financeur in a_publier:
        if not financeur.siret:
            bilan.sans_siret.append(financeur)
            continue
        contenu = contenu_csv(lignes_scdl(exercice, financeur.id, mise_a_jour=mise_a_jour))
        publication = enregistrer_publication(financeur.id, exercice, contenu, financeur.publiables)
        if sortie is not None:
            (sortie / publication.nom_fichier).write_bytes(stockage().lire(DOSSIER + publication.nom_fichier))
        bilan.publications.append(publication)
    return bilan


def enregistrer_publication(
    organisation_id: int, exercice: int, contenu: bytes, nb_lignes: int
) -> PublicationDonneesOuvertes:
    """Range le fichier et enregistre sa publication (remplace la précédente du même financeur et du même
    exercice), tracée au journal du référentiel dans la même transaction."""

    def operation():
        organisation = db.session.get(Organisation, organisation_id)
        nom = nom_fichier(organisation.siret, exercice)
        publication = db.session.scalar(
            select(PublicationDonneesOuvertes)
            .where(
                PublicationDonneesOuvertes.organisation_id == organisation_id,
                PublicationDonneesOuvertes.exercice == exercice,
            )
            .with_for_update()
        )
        ancien = publication.nom_fichier if publication is not None else None
        if publication is None:
            publication = PublicationDonneesOuvertes(organisation_id=organisation_id, exercice=exercice)
            db.session.add(publication)
        publication.siret, publication.nom_fichier = organisation.siret, nom
        publication.nb_lignes, publication.taille = nb_lignes, len(contenu)
        publication.sha256 = hashlib.sha256(contenu).hexdigest()
        publication.publie_le = maintenant()
        db.session.flush()
        audit.tracer(
            None,
            "donnees_ouvertes",
            publication.id,
            "publier",
            f"Données ouvertes {exercice} de « {organisation.nom} » publiées : {nb_lignes} ligne(s), {nom}",
            {"exercice": exercice, "organisation_id": organisation_id, "sha256": publication.sha256},
        )
        preparer_fichier(nom, contenu)
        apres_commit(rendre_visibles, (nom, ancien))
        return publication

    return en_une_transaction(operation)


# --- La page publique ---------------------------------------------------------------------------


def exercices() -> list[int]:
    """Les exercices que la page propose, du plus récent au plus ancien : ceux qui ont un fichier publié,
    et ceux dont un financeur sans SIRET a des subventions engagées (la page dit qu'il manque)."""
    publies = select(PublicationDonneesOuvertes.exercice)
    bloques = (
        select(LigneFinancement.exercice)
        .join(Organisation, Organisation.id == LigneFinancement.organisation_id)
        .where(Organisation.siret.is_(None), LigneFinancement.statut.in_(sorted(PUBLIEES)))
    )
    return sorted(set(db.session.scalars(publies.union(bloques))), reverse=True)


def page_publications(exercice: int, page: int, par_page: int):
    """Les fichiers publiés d'un exercice, par nom de financeur (pagination en SQL)."""
    requete = (
        select(PublicationDonneesOuvertes)
        .join(PublicationDonneesOuvertes.organisation)
        .options(contains_eager(PublicationDonneesOuvertes.organisation))
        .where(PublicationDonneesOuvertes.exercice == exercice)
        .order_by(Organisation.nom, Organisation.id)
    )
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100, count=True)


def financeurs_sans_siret(exercice: int, *, portee=None) -> list[Financeur]:
    """Les financeurs qui ont des subventions engagées dans l'exercice mais pas de SIRET : leurs données ne
    peuvent pas être publiées (la page et l'API le disent). `portee` : une condition SQL sur `Demande`."""
    requete = (
        select(Organisation.id, Organisation.nom, func.count(PUBLIEE.id))
        .join(PUBLIEE, PUBLIEE.organisation_id == Organisation.id)
        .where(Organisation.siret.is_(None), *_criteres(exercice))
        .group_by(Organisation.id, Organisation.nom)
        .order_by(Organisation.nom)
    )
    if portee is not None:
        requete = requete.join(Demande, Demande.id == PUBLIEE.demande_id).where(portee)
    return [Financeur(id_, nom, None, nombre, 0) for id_, nom, nombre in db.session.execute(requete)]
