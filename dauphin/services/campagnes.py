"""Campagnes (appels à projets) : le pilote d'un contrat de ville les crée et les modifie.

Une campagne qui a des demandes ne peut pas perdre ce que ces demandes utilisent : une question à
laquelle elles ont répondu, une pièce qu'elles ont jointe, un financeur qu'elles sollicitent, une
enveloppe sous ce qui est déjà voté ; son exercice et son contrat ne changent plus. Chaque refus est
rendu à côté du champ concerné (`CampagneRefusee.problemes`), rien n'est enregistré.

Écriture : verrou de la campagne (FOR UPDATE) et de ses enveloppes (un vote concurrent attend),
version lue comparée (conflit sinon), changements, trace, validation — `en_une_transaction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, union
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    Enveloppe,
    LigneBudget,
    LigneFinancement,
    Organisation,
    PartenaireContrat,
    PieceJointe,
    PieceRequise,
    QuestionEligibilite,
    ReponseEligibilite,
    TypePiece,
    Utilisateur,
)
from dauphin.policies import pilote
from dauphin.services import audit
from dauphin.services.erreurs import Refus
from dauphin.unite_de_travail import charger_verrouille, en_une_transaction, verifier_version
from workflows.budget import format_euros

# Les champs simples de la campagne, recopiés tels quels du formulaire : un nouveau champ du modèle
# (par exemple un seuil) s'ajoute ici et dans `forms.campagnes.CampagneForm.CHAMPS_GENERAUX`.
CHAMPS = ("libelle", "exercice", "date_ouverture", "date_cloture", "description")


@dataclass
class Question:
    id: int | None
    libelle: str
    reponse_attendue: bool


@dataclass
class SaisieCampagne:
    contrat_id: int
    champs: dict
    questions: list[Question] = field(default_factory=list)
    pieces: dict[TypePiece, bool] = field(default_factory=dict)  # type → obligatoire
    enveloppes: dict[int, Decimal] = field(default_factory=dict)  # organisation → montant


@dataclass
class Usages:
    """Ce que les demandes de la campagne utilisent (cinq requêtes, quel que soit leur nombre)."""

    demandes: int = 0
    questions: set[int] = field(default_factory=set)
    pieces: set[TypePiece] = field(default_factory=set)
    financeurs: set[int] = field(default_factory=set)
    votes: dict[int, Decimal] = field(default_factory=dict)


Probleme = tuple[str | None, str]


class CampagneRefusee(Refus):
    """La saisie est refusée, pour une raison ou plusieurs : `problemes` [(champ, message)], le champ nommé
    comme dans le formulaire (« exercice », « piece_statuts », « enveloppe_12 »), « question_<id> » pour une
    question déjà enregistrée, None pour la campagne entière."""

    def __init__(self, problemes: list[Probleme]):
        super().__init__("; ".join(message for _, message in problemes))
        self._problemes = problemes

    @property
    def problemes(self) -> list[Probleme]:
        return self._problemes


# --- Lecture -----------------------------------------------------------------------------------


def contrats_pilotes(utilisateur: Utilisateur) -> list[ContratDeVille]:
    return sorted((p.contrat for p in utilisateur.pilotages), key=lambda c: c.code)


def charger_pour_pilote(utilisateur: Utilisateur, campagne_id: int) -> Campagne:
    """La campagne, si l'utilisateur pilote son contrat ; sinon 404 (on ne révèle pas les autres)."""
    campagne = db.session.scalar(
        select(Campagne)
        .where(Campagne.id == campagne_id)
        .options(
            selectinload(Campagne.questions_eligibilite),
            selectinload(Campagne.pieces_requises),
            selectinload(Campagne.enveloppes).selectinload(Enveloppe.organisation),
        )
    )
    if campagne is None or not pilote(utilisateur, campagne.contrat_id):
        raise NotFound()
    return campagne


def financeurs_possibles(contrat_id: int, campagne: Campagne | None = None) -> list[Organisation]:
    """Les financeurs actifs partenaires du contrat, plus ceux qui ont déjà une enveloppe."""
    deja = {e.organisation_id for e in campagne.enveloppes} if campagne is not None else set()
    partenaires = select(PartenaireContrat.organisation_id).where(PartenaireContrat.contrat_id == contrat_id)
    condition = Organisation.id.in_(partenaires) & Organisation.est_financeur & Organisation.actif
    if deja:
        condition = condition | Organisation.id.in_(deja)
    return list(db.session.scalars(select(Organisation).where(condition).order_by(Organisation.nom)))


def usages(campagne_id: int | None) -> Usages:
    if campagne_id is None:
        return Usages()
    demandes = select(Demande.id).where(Demande.campagne_id == campagne_id)
    resultat = Usages()
    resultat.demandes = db.session.scalar(select(func.count()).select_from(demandes.subquery())) or 0
    if not resultat.demandes:
        return resultat
    resultat.questions = set(
        db.session.scalars(
            select(ReponseEligibilite.question_id)
            .where(ReponseEligibilite.demande_id.in_(demandes))
            .distinct()
        )
    )
    resultat.pieces = {
        TypePiece(t)
        for t in db.session.scalars(
            select(PieceJointe.type_piece).where(PieceJointe.demande_id.in_(demandes)).distinct()
        )
    }
    # Un financeur est utilisé dès qu'une ligne de financement ou une ligne de budget (brouillon) le cite.
    resultat.financeurs = set(
        db.session.scalars(
            union(
                select(LigneFinancement.organisation_id).where(LigneFinancement.demande_id.in_(demandes)),
                select(LigneBudget.financeur_id).where(
                    LigneBudget.demande_id.in_(demandes), LigneBudget.financeur_id.is_not(None)
                ),
            )
        )
    )
    resultat.votes = {
        organisation_id: Decimal(total or 0)
        for organisation_id, total in db.session.execute(
            select(LigneFinancement.organisation_id, func.sum(LigneFinancement.montant_vote))
            .where(LigneFinancement.demande_id.in_(demandes), LigneFinancement.montant_vote.is_not(None))
            .group_by(LigneFinancement.organisation_id)
        )
    }
    return resultat


# --- Règles ------------------------------------------------------------------------------------


def verifier(
    utilisateur: Utilisateur, campagne: Campagne | None, saisie: SaisieCampagne, utilises: Usages
) -> list[Probleme]:
    """Ce que les règles refusent dans la saisie (rien : elle peut être enregistrée)."""
    problemes = _verifier_contrat_et_dates(utilisateur, campagne, saisie, utilises)
    if campagne is not None:
        problemes += _verifier_ce_qui_sert(campagne, saisie, utilises)
    return problemes + _verifier_enveloppes(campagne, saisie, utilises)


def _des_demandes(n: int) -> str:
    return (
        f"{n} demande{'s' if n > 1 else ''} {'sont' if n > 1 else 'est'} déjà rattachée{'s' if n > 1 else ''}"
    )


def _verifier_contrat_et_dates(
    utilisateur: Utilisateur, campagne: Campagne | None, saisie: SaisieCampagne, utilises: Usages
) -> list[Probleme]:
    problemes: list[Probleme] = []
    champs = saisie.champs
    if not pilote(utilisateur, saisie.contrat_id):
        problemes.append(("contrat_id", "Choisissez un contrat de ville que vous pilotez."))
    if campagne is not None and utilises.demandes:
        problemes += _verifier_fige(campagne, saisie, utilises.demandes)
    debut, fin = champs.get("date_ouverture"), champs.get("date_cloture")
    if isinstance(debut, date) and isinstance(fin, date) and fin < debut:
        problemes.append(("date_cloture", "La date de clôture doit suivre la date d’ouverture."))
    doublon = db.session.scalar(
        select(Campagne.id).where(
            Campagne.contrat_id == saisie.contrat_id,
            Campagne.exercice == champs["exercice"],
            Campagne.id != (campagne.id if campagne is not None else -1),
        )
    )
    if doublon is not None:
        problemes.append(
            ("exercice", f"Ce contrat de ville a déjà une campagne pour l’exercice {champs['exercice']}.")
        )
    return problemes


def _verifier_fige(campagne: Campagne, saisie: SaisieCampagne, demandes: int) -> list[Probleme]:
    """Une campagne qui a des demandes ne change plus de contrat ni d'exercice."""
    problemes: list[Probleme] = []
    des_demandes = _des_demandes(demandes)
    if saisie.contrat_id != campagne.contrat_id:
        problemes.append(
            (
                "contrat_id",
                f"{des_demandes} à cette campagne : elle ne peut plus changer de contrat de ville.",
            )
        )
    if saisie.champs["exercice"] != campagne.exercice:
        problemes.append(
            (
                "exercice",
                f"{des_demandes} à cette campagne : son exercice ({campagne.exercice}) ne peut plus changer.",
            )
        )
    return problemes


def _verifier_ce_qui_sert(campagne: Campagne, saisie: SaisieCampagne, utilises: Usages) -> list[Probleme]:
    """Ce que les demandes de la campagne utilisent reste : les questions auxquelles elles ont répondu (et
    leur réponse attendue), les pièces qu'elles ont jointes, les financeurs qu'elles sollicitent."""
    problemes = _verifier_questions(campagne, saisie, utilises)
    for piece in campagne.pieces_requises:
        if piece.type_piece in utilises.pieces and piece.type_piece not in saisie.pieces:
            problemes.append(
                (
                    f"piece_{piece.type_piece.value}",
                    "Des demandes ont déjà joint cette pièce : elle ne peut plus être retirée "
                    "(vous pouvez la rendre facultative).",
                )
            )
    for enveloppe in campagne.enveloppes:
        organisation_id = enveloppe.organisation_id
        if organisation_id not in saisie.enveloppes and organisation_id in utilises.financeurs:
            problemes.append(
                (
                    f"enveloppe_{organisation_id}",
                    f"Des demandes de cette campagne sollicitent {enveloppe.organisation.nom} : ce financeur "
                    "ne peut pas en être retiré.",
                )
            )
    return problemes


def _verifier_questions(campagne: Campagne, saisie: SaisieCampagne, utilises: Usages) -> list[Probleme]:
    problemes: list[Probleme] = []
    gardees = {q.id: q for q in saisie.questions if q.id is not None}
    for question in campagne.questions_eligibilite:
        if question.id not in utilises.questions:
            continue
        if question.id not in gardees:
            message = "Des demandes ont déjà répondu à cette question : elle ne peut pas être supprimée."
        elif gardees[question.id].reponse_attendue != question.reponse_attendue:
            message = (
                "Des demandes ont déjà répondu à cette question : la réponse attendue ne peut plus changer."
            )
        else:
            continue
        problemes.append((f"question_{question.id}", message))
    return problemes


def _verifier_enveloppes(
    campagne: Campagne | None, saisie: SaisieCampagne, utilises: Usages
) -> list[Probleme]:
    problemes: list[Probleme] = []
    possibles = {o.id for o in financeurs_possibles(saisie.contrat_id, campagne)}
    for organisation_id, montant in saisie.enveloppes.items():
        champ = f"enveloppe_{organisation_id}"
        if organisation_id not in possibles:
            problemes.append((champ, "Ce financeur n’est pas un partenaire actif du contrat de ville."))
        vote = utilises.votes.get(organisation_id, Decimal("0"))
        if montant < vote:
            problemes.append(
                (
                    champ,
                    "L’enveloppe ne peut pas être inférieure à ce que ce financeur a déjà voté : "
                    f"{format_euros(vote)}.",
                )
            )
    if not saisie.enveloppes:
        problemes.append((None, "Indiquez l’enveloppe d’au moins un financeur participant."))
    return problemes


# --- Écriture ----------------------------------------------------------------------------------


def enregistrer(
    utilisateur: Utilisateur,
    campagne_id: int | None,
    saisie: SaisieCampagne,
    version: int | str | None = None,
) -> Campagne:
    """Crée (campagne_id None) ou modifie la campagne ; CampagneRefusee, Conflit ou NotFound sinon."""

    def operation():
        campagne = None
        if campagne_id is not None:
            campagne = charger_verrouille(Campagne, campagne_id)
            if not pilote(utilisateur, campagne.contrat_id):
                raise NotFound()
            verifier_version(campagne, version, MESSAGE_CONFLIT, exigee=True)
            # Les votes verrouillent l'enveloppe de leur financeur : on les attend avant de compter.
            db.session.scalars(
                select(Enveloppe).where(Enveloppe.campagne_id == campagne.id).with_for_update()
            ).all()
        utilises = usages(campagne.id if campagne is not None else None)
        problemes = verifier(utilisateur, campagne, saisie, utilises)
        if problemes:
            raise CampagneRefusee(problemes)
        nouvelle = campagne is None
        if nouvelle:
            campagne = Campagne(contrat_id=saisie.contrat_id, **saisie.champs)
            db.session.add(campagne)
            avant = {}
        else:
            avant = photo(campagne)
        appliquer(campagne, saisie)
        if not nouvelle:
            flag_modified(campagne, "libelle")  # la version change même si seules les listes changent
        db.session.flush()
        apres = photo(campagne)
        audit.tracer(
            utilisateur,
            "campagne",
            campagne.id,
            "creer" if nouvelle else "modifier",
            f"{'Création' if nouvelle else 'Modification'} de la campagne « {campagne.libelle} » "
            f"({campagne.exercice})",
            audit.ecarts(avant, apres),
        )
        return campagne

    return en_une_transaction(operation)


MESSAGE_CONFLIT = (
    "Cette campagne a été modifiée entre-temps par quelqu’un d’autre. Rien n’a été enregistré : votre saisie "
    "est conservée ci-dessous, à comparer avec la version actuelle avant d’enregistrer de nouveau."
)


def appliquer(campagne: Campagne, saisie: SaisieCampagne) -> None:
    campagne.contrat_id = saisie.contrat_id
    for nom in CHAMPS:
        if nom in saisie.champs:
            setattr(campagne, nom, saisie.champs[nom])

    campagne.questions_eligibilite = _questions(campagne, saisie)

    pieces = {p.type_piece: p for p in campagne.pieces_requises}
    campagne.pieces_requises = [
        _piece(pieces.get(type_piece), type_piece, obligatoire)
        for type_piece, obligatoire in saisie.pieces.items()
    ]

    enveloppes = {e.organisation_id: e for e in campagne.enveloppes}
    nouvelles = []
    for organisation_id, montant in saisie.enveloppes.items():
        enveloppe = enveloppes.get(organisation_id) or Enveloppe(organisation_id=organisation_id)
        enveloppe.montant = montant
        nouvelles.append(enveloppe)
    campagne.enveloppes = nouvelles


def _questions(campagne: Campagne, saisie: SaisieCampagne) -> list[QuestionEligibilite]:
    """Les questions de la saisie, dans son ordre ; une question déjà enregistrée garde son objet."""
    existantes = {q.id: q for q in campagne.questions_eligibilite}
    questions = []
    for ordre, question in enumerate(saisie.questions, start=1):
        objet = existantes.get(question.id) or QuestionEligibilite()
        objet.ordre, objet.libelle, objet.reponse_attendue = (
            ordre,
            question.libelle,
            question.reponse_attendue,
        )
        questions.append(objet)
    return questions


def _piece(piece: PieceRequise | None, type_piece: TypePiece, obligatoire: bool) -> PieceRequise:
    piece = piece or PieceRequise(type_piece=type_piece)
    piece.obligatoire = obligatoire
    return piece


def photo(campagne: Campagne) -> dict:
    """Les valeurs de la campagne, pour la trace des changements."""
    valeurs = {nom: getattr(campagne, nom) for nom in CHAMPS}
    valeurs["contrat_id"] = campagne.contrat_id
    valeurs["questions"] = [
        f"{q.libelle} (attendu : {'oui' if q.reponse_attendue else 'non'})"
        for q in campagne.questions_eligibilite
    ]
    valeurs["pieces"] = sorted(
        f"{p.type_piece.value}{'' if p.obligatoire else ' (facultative)'}" for p in campagne.pieces_requises
    )
    valeurs["enveloppes"] = {str(e.organisation_id): f"{e.montant:.2f}" for e in campagne.enveloppes}
    return valeurs
