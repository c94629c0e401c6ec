"""Le comité de pilotage : le pilote compose l'ordre du jour et ouvre le vote, chaque organisation
partenaire vote une fois par dossier, chaque financeur saisit le montant de sa ligne, et la clôture fixe
toutes les décisions dans une seule transaction.

Cycle d'une séance : en préparation → vote ouvert → close. Une séance close ne change plus ; corriger une
décision passe ensuite par une transition motivée de la ligne (`corriger_vote`, `annuler_vote`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified
from werkzeug.exceptions import NotFound

from dauphin import jobs
from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    ChoixVote,
    ContratDeVille,
    DecisionPoint,
    Demande,
    Enveloppe,
    LigneFinancement,
    MembreOrganisation,
    MontantComite,
    PartenaireContrat,
    PointOrdreDuJour,
    SeanceComite,
    StatutSeance,
    Utilisateur,
    VoteComite,
    maintenant,
)
from dauphin.policies import INSTRUIRE_LIGNE, VOIR_SEANCE, Qualite, acteur_de, pilote
from dauphin.services import courriels, enveloppes
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.services.workflow import aujourdhui, declencher_ligne_verrouillee, deriver, journaliser
from dauphin.unite_de_travail import (
    charger_avec,
    charger_demande_verrouillee,
    charger_verrouille,
    en_une_transaction,
    verifier_version,
)
from workflows import (  # noqa: F401
    DEMANDE,
    StatutDemande,
    StatutLigne,
    TransitionImpossible,
    TransitionRefusee,
)
from workflows.budget import format_euros
from workflows.comite import Decompte, Resultat, cloture_prematuree, decider

# Une page de la séance affichée avant un changement de la séance (ordre du jour, statut).
SEANCE_CHANGEE = "La séance a changé depuis l’affichage de la page : rechargez-la avant de recommencer."


# --- Qui voit, qui agit -----------------------------------------------------------------------


def organisations_votantes(utilisateur: Utilisateur, contrat_id: int) -> list[int]:
    """Les organisations partenaires du contrat au nom desquelles l'utilisateur vote (il en est membre)."""
    membre_de = acteur_de(utilisateur).membre_de
    if not membre_de:
        return []
    return list(
        db.session.scalars(
            select(PartenaireContrat.organisation_id)
            .where(
                PartenaireContrat.contrat_id == contrat_id,
                PartenaireContrat.organisation_id.in_(sorted(membre_de)),
            )
            .order_by(PartenaireContrat.organisation_id)
        )
    )


def seances_visibles(utilisateur: Utilisateur):
    """Requête des séances que l'utilisateur voit : celles des contrats qu'il pilote ou dont une de ses
    organisations est partenaire (toutes pour l'administration nationale)."""
    return (
        VOIR_SEANCE.visibles(utilisateur)
        .options(selectinload(SeanceComite.contrat), selectinload(SeanceComite.campagne))
        .order_by(SeanceComite.date_seance.desc(), SeanceComite.id.desc())
    )


def charger(seance_id: int) -> SeanceComite:
    return charger_avec(
        SeanceComite,
        seance_id,
        selectinload(SeanceComite.contrat).selectinload(ContratDeVille.partenariats),
        selectinload(SeanceComite.campagne),
        selectinload(SeanceComite.points).options(
            selectinload(PointOrdreDuJour.demande).options(
                selectinload(Demande.structure),
                selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
            ),
            selectinload(PointOrdreDuJour.votes).options(
                selectinload(VoteComite.organisation), selectinload(VoteComite.votant)
            ),
            selectinload(PointOrdreDuJour.montants)
            .selectinload(MontantComite.ligne)
            .joinedload(LigneFinancement.organisation),
        ),
    )


def _verrouiller(seance_id: int, version) -> SeanceComite:
    return charger_verrouille(
        SeanceComite,
        seance_id,
        version,
        SEANCE_CHANGEE,
    )


def _exiger_statut(seance: SeanceComite, *statuts: StatutSeance) -> None:
    if seance.statut not in statuts:
        raise Conflit(
            f"Cette action n’est plus possible : la séance est « {seance.statut.libelle} ». "
            "Rechargez la page."
        )


def _qualite_pilote(utilisateur: Utilisateur, seance: SeanceComite) -> Qualite:
    """Le pilote du contrat de la séance, au nom de son organisation ; personne d'autre ne la prépare ni ne
    la clôt."""
    for contrat_id, organisation_id in acteur_de(utilisateur).pilotages:
        if contrat_id == seance.contrat_id:
            return Qualite("pilote", organisation_id=organisation_id)
    raise NonAutorise("piloter")


# --- Préparation --------------------------------------------------------------------------------


def campagnes_du_contrat(contrat_ids) -> list[Campagne]:
    return list(
        db.session.scalars(
            select(Campagne)
            .where(Campagne.contrat_id.in_(list(contrat_ids)))
            .options(selectinload(Campagne.contrat))
            .order_by(Campagne.exercice.desc(), Campagne.id)
        )
    )


def creer_seance(
    utilisateur: Utilisateur, campagne_id: int, date_seance: date, lieu: str | None
) -> SeanceComite:
    campagne = db.session.get(Campagne, campagne_id)
    if campagne is None or not pilote(utilisateur, campagne.contrat_id):
        raise Refus("Choisissez une campagne d’un contrat que vous pilotez.", "campagne_id")
    seance = SeanceComite(
        contrat_id=campagne.contrat_id,
        campagne_id=campagne.id,
        date_seance=date_seance,
        lieu=(lieu or "").strip() or None,
        cree_par_id=utilisateur.id,
    )
    db.session.add(seance)
    db.session.commit()
    return seance


def dossiers_inscriptibles(seance: SeanceComite) -> list[Demande]:
    """Les dossiers instruits de la campagne, pas encore à l'ordre du jour d'une séance."""
    return list(
        db.session.scalars(
            select(Demande)
            .where(Demande.campagne_id == seance.campagne_id, Demande.statut == StatutDemande.instruite)
            .options(
                selectinload(Demande.structure),
                selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
            )
            .order_by(Demande.numero)
        )
    )


def inscrire(seance_id: int, demande_ids: list[int], utilisateur: Utilisateur, version=None) -> int:
    """Met des dossiers instruits à l'ordre du jour : chacun passe « programmé » (journalisé)."""

    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.preparation)
        qualite = _qualite_pilote(utilisateur, seance)
        rang = max((p.rang for p in seance.points), default=0)
        for demande_id in sorted(set(demande_ids)):
            demande = charger_demande_verrouillee(demande_id)
            if demande.campagne_id != seance.campagne_id:
                raise Refus("Ce dossier n’appartient pas à la campagne de la séance.", "demandes")
            _declencher_demande(demande, "programmer", utilisateur, qualite, f"Séance du {_date(seance)}.")
            rang += 1
            seance.points.append(PointOrdreDuJour(demande_id=demande.id, rang=rang))
        flag_modified(seance, "lieu")  # la séance est réécrite (sa version change) quand ses points changent
        return len(demande_ids)

    return en_une_transaction(operation)


def retirer_point(seance_id: int, point_id: int, utilisateur: Utilisateur, version=None) -> None:
    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.preparation)
        point = next((p for p in seance.points if p.id == point_id), None)
        if point is None:
            raise NotFound()
        demande = charger_demande_verrouillee(point.demande_id)
        _declencher_demande(
            demande,
            "deprogrammer",
            utilisateur,
            _qualite_pilote(utilisateur, seance),
            f"Retiré de l’ordre du jour de la séance du {_date(seance)}.",
        )
        seance.points.remove(point)
        flag_modified(seance, "lieu")

    en_une_transaction(operation)


def ouvrir_vote(seance_id: int, utilisateur: Utilisateur, version=None) -> None:
    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.preparation)
        if not seance.points:
            raise Refus("Inscrivez au moins un dossier à l’ordre du jour avant d’ouvrir le vote.")
        seance.statut = StatutSeance.vote_ouvert
        seance.vote_ouvert_le = maintenant()
        _prevenir_votants(seance)

    en_une_transaction(operation)


def _prevenir_votants(seance: SeanceComite) -> None:
    emails = db.session.scalars(
        select(Utilisateur.email)
        .join(MembreOrganisation, MembreOrganisation.utilisateur_id == Utilisateur.id)
        .join(PartenaireContrat, PartenaireContrat.organisation_id == MembreOrganisation.organisation_id)
        .where(PartenaireContrat.contrat_id == seance.contrat_id, Utilisateur.actif.is_(True))
        .distinct()
        .order_by(Utilisateur.email)
    )
    lien = f"{current_app.config['BASE_URL']}/comites/{seance.id}"
    for email in emails:
        courriels.ecrire_message(
            "vote_comite_ouvert",
            email,
            date_seance=seance.date_seance,
            contrat=seance.contrat.libelle,
            campagne=seance.campagne.libelle,
            nombre_points=len(seance.points),
            lien=lien,
        )


# --- Pendant le vote ----------------------------------------------------------------------------


def voter(
    point_id: int,
    organisation_id: int,
    choix: str,
    motif: str | None,
    utilisateur: Utilisateur,
    version=None,
) -> VoteComite:
    """Le vote d'une organisation partenaire sur un dossier (un seul ; modifiable tant que le vote est
    ouvert). `version` : celle du vote affiché (vide s'il n'y en avait pas)."""

    def operation():
        point = db.session.get(PointOrdreDuJour, point_id)
        if point is None:
            raise NotFound()
        seance = _verrouiller(point.seance_id, None)
        _exiger_statut(seance, StatutSeance.vote_ouvert)
        if organisation_id not in organisations_votantes(utilisateur, seance.contrat_id):
            raise NonAutorise("voter")  # il ne vote qu'au nom d'une organisation dont il est membre
        try:
            valeur = ChoixVote(choix)
        except ValueError:
            raise Refus("Choisissez pour, contre, abstention ou récusation.", "choix") from None
        texte = (motif or "").strip() or None
        if valeur is ChoixVote.recusation and not texte:
            raise Refus("Indiquez la raison de la récusation (le conflit d’intérêts).", "motif")
        vote = db.session.scalar(
            select(VoteComite).where(
                VoteComite.point_id == point.id, VoteComite.organisation_id == organisation_id
            )
        )
        if vote is None:
            if version not in (None, ""):
                raise Conflit()  # le vote affiché a été supprimé entre-temps : impossible, mais sans écraser
            vote = VoteComite(point_id=point.id, organisation_id=organisation_id, choix=valeur)
            db.session.add(vote)
        else:
            # Un autre membre de la même organisation a voté entre-temps : on ne l'écrase pas en silence.
            verifier_version(
                vote,
                version,
                f"{vote.votant.nom_complet if vote.votant else 'Un membre de votre organisation'} a déjà "
                f"voté « {vote.choix.libelle} » pour votre organisation depuis l’affichage de la page. "
                "Rechargez-la pour voir ce vote avant de le modifier.",
                exigee=True,
            )
        vote.choix = valeur
        vote.motif_recusation = texte if valeur is ChoixVote.recusation else None
        vote.votant_id = utilisateur.id
        vote.vote_le = maintenant()
        return vote

    return en_une_transaction(operation)


@dataclass(frozen=True)
class Disponible:
    enveloppe: Decimal | None  # None : pas d'enveloppe pour ce financeur dans la campagne
    vote: Decimal  # déjà voté (séances closes)
    en_seance: Decimal  # saisi dans des séances pas encore closes, hors la ligne considérée

    @property
    def reste(self) -> Decimal | None:
        if self.enveloppe is None:
            return None
        return self.enveloppe - self.vote - self.en_seance


def disponible(campagne_id: int, organisation_id: int, sauf_ligne_id: int | None = None) -> Disponible:
    """Ce qu'un financeur peut encore proposer au vote : son enveloppe, moins le voté, moins ce qu'il a
    déjà saisi pour d'autres dossiers dans les séances ouvertes de la campagne."""
    montant = db.session.scalar(
        select(Enveloppe.montant).where(
            Enveloppe.campagne_id == campagne_id, Enveloppe.organisation_id == organisation_id
        )
    )
    requete = (
        select(func.coalesce(func.sum(MontantComite.montant), 0))
        .join(PointOrdreDuJour, PointOrdreDuJour.id == MontantComite.point_id)
        .join(SeanceComite, SeanceComite.id == PointOrdreDuJour.seance_id)
        .join(LigneFinancement, LigneFinancement.id == MontantComite.ligne_id)
        .where(
            SeanceComite.campagne_id == campagne_id,
            SeanceComite.statut != StatutSeance.close,
            LigneFinancement.organisation_id == organisation_id,
        )
    )
    if sauf_ligne_id is not None:
        requete = requete.where(MontantComite.ligne_id != sauf_ligne_id)
    return Disponible(
        Decimal(montant) if montant is not None else None,
        enveloppes.montant_vote(campagne_id, organisation_id),
        Decimal(db.session.scalar(requete) or 0),
    )


def saisir_montant(
    point_id: int, ligne_id: int, montant: Decimal, utilisateur: Utilisateur, version=None
) -> MontantComite:
    """Le financeur propose au vote le montant de sa propre ligne : au plus le montant demandé et le reste
    de son enveloppe (séances ouvertes comprises)."""

    def operation():
        point = db.session.get(PointOrdreDuJour, point_id)
        ligne = db.session.get(LigneFinancement, ligne_id)
        if point is None or ligne is None or ligne.demande_id != point.demande_id:
            raise NotFound()
        seance = _verrouiller(point.seance_id, None)
        _exiger_statut(seance, StatutSeance.vote_ouvert)
        if not INSTRUIRE_LIGNE.permet(utilisateur, ligne):
            raise NonAutorise("saisir_montant")  # seul un instructeur du financeur saisit sa ligne
        if ligne.statut != StatutLigne.recevable:
            raise Refus(
                f"La ligne est « {ligne.statut.libelle} » : seule une ligne recevable reçoit un montant.",
                "montant",
            )
        # L'enveloppe verrouillée : deux saisies simultanées du même financeur ne la dépassent pas à deux.
        enveloppes.reste(seance.campagne_id, ligne.organisation_id)
        verifier_montant(ligne, montant, disponible(seance.campagne_id, ligne.organisation_id, ligne.id))
        saisie = db.session.scalar(
            select(MontantComite).where(
                MontantComite.point_id == point.id, MontantComite.ligne_id == ligne.id
            )
        )
        if saisie is None:
            if version not in (None, ""):
                raise Conflit()
            saisie = MontantComite(point_id=point.id, ligne_id=ligne.id, montant=montant)
            db.session.add(saisie)
        else:
            verifier_version(
                saisie,
                version,
                f"Un collègue a saisi {format_euros(saisie.montant)} pour cette ligne depuis l’affichage de "
                "la page. Rechargez-la avant de modifier le montant.",
                exigee=True,
            )
        saisie.montant = montant
        saisie.saisi_par_id = utilisateur.id
        saisie.saisi_le = maintenant()
        return saisie

    return en_une_transaction(operation)


def verifier_montant(ligne: LigneFinancement, montant: Decimal, dispo: Disponible) -> None:
    if montant is None or montant < 0:
        raise Refus("Indiquez un montant positif ou nul.", "montant")
    if montant != montant.quantize(Decimal("0.01")):
        raise Refus("Le montant s’exprime en euros et centimes au plus.", "montant")
    if montant > ligne.montant_demande:
        raise Refus(
            f"Le montant ({format_euros(montant)}) dépasse le montant demandé "
            f"({format_euros(ligne.montant_demande)}).",
            "montant",
        )
    if dispo.reste is None:
        raise Refus(
            "Votre organisation n’a pas d’enveloppe pour cette campagne : le pilote doit la définir.",
            "montant",
        )
    if montant > dispo.reste:
        raise Refus(
            f"Le montant ({format_euros(montant)}) dépasse le reste de votre enveloppe "
            f"({format_euros(dispo.reste)}, après les montants déjà saisis pour d’autres dossiers).",
            "montant",
        )


# --- Décompte et clôture ------------------------------------------------------------------------


def nombre_partenaires(contrat_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(PartenaireContrat).where(PartenaireContrat.contrat_id == contrat_id)
    )


def decompter(point: PointOrdreDuJour, partenaires: int) -> Decompte:
    voix = Counter(vote.choix for vote in point.votes)
    return Decompte(
        partenaires=partenaires,
        pour=voix[ChoixVote.pour],
        contre=voix[ChoixVote.contre],
        abstentions=voix[ChoixVote.abstention],
        recusations=voix[ChoixVote.recusation],
    )


def resultat(point: PointOrdreDuJour, seance: SeanceComite, partenaires: int) -> Resultat:
    contrat = seance.contrat
    return decider(decompter(point, partenaires), contrat.quorum_pourcentage, contrat.regle_majorite.value)


def clore(seance_id: int, utilisateur: Utilisateur, version=None) -> SeanceComite:
    """Fixe toutes les décisions en une transaction : lignes votées (montant saisi) ou refusées, dossiers
    attribués, rejetés ou — sans quorum — ajournés ; courriels aux porteurs ; PV produit par une tâche."""

    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.vote_ouvert)
        qualite = _qualite_pilote(utilisateur, seance)
        if raison := cloture_prematuree(seance.date_seance, aujourdhui()):
            raise Refus(raison)
        partenaires = nombre_partenaires(seance.contrat_id)
        # La décision date de la séance (déjà tenue quand on la clôt ; jamais plus tard qu'aujourd'hui).
        jour = min(seance.date_seance, aujourdhui())
        for point in seance.points:
            demande = charger_demande_verrouillee(point.demande_id)
            decompte = decompter(point, partenaires)
            issue = decider(decompte, seance.contrat.quorum_pourcentage, seance.contrat.regle_majorite.value)
            point.decision = DecisionPoint(issue.decision)
            point.voix_pour, point.voix_contre = decompte.pour, decompte.contre
            point.abstentions, point.recusations = decompte.abstentions, decompte.recusations
            commentaire = f"Comité du {_date(seance)} — {issue.explication}"
            if point.decision is DecisionPoint.ajourne:
                _declencher_demande(demande, "deprogrammer", utilisateur, qualite, commentaire)
                continue
            montants = {m.ligne_id: m.montant for m in point.montants}
            for ligne in demande.lignes_financement:
                montant = montants.get(ligne.id) or Decimal("0")
                if (
                    ligne.statut == StatutLigne.recevable
                    and point.decision is DecisionPoint.favorable
                    and montant
                ):
                    declencheur, arguments = "voter", {"montant": montant}
                elif ligne.statut in (StatutLigne.recevable, StatutLigne.non_recevable):
                    declencheur, arguments = "refuser", {}
                else:
                    continue  # ligne sans suite : le financeur s'est retiré
                arguments["aujourdhui"] = jour
                declencher_ligne_verrouillee(
                    demande, ligne, declencheur, utilisateur, qualite, commentaire, arguments
                )
            deriver(demande, {"aujourdhui": jour})
        seance.statut = StatutSeance.close
        seance.close_le = maintenant()
        seance.close_par_id = utilisateur.id
        seance.quorum_pourcentage = seance.contrat.quorum_pourcentage
        seance.regle_majorite = seance.contrat.regle_majorite.value
        jobs.planifier("dauphin.taches.generer_pv", seance.id)
        return seance

    return en_une_transaction(operation)


def _declencher_demande(demande, declencheur, utilisateur, qualite, commentaire) -> None:
    try:
        avant, apres = DEMANDE.declencher(demande, declencheur, commentaire=commentaire)
    except TransitionImpossible as erreur:
        raise Conflit(
            f"Le dossier {demande.numero} est désormais « {erreur.statut.libelle} » : rechargez la page."
        ) from erreur
    journaliser(demande, None, declencheur, avant, apres, utilisateur, qualite, commentaire)


def _date(seance: SeanceComite) -> str:
    return seance.date_seance.strftime("%d/%m/%Y")


# --- Pour les pages ---------------------------------------------------------------------------


def votes_par_point(seance: SeanceComite) -> dict[int, dict[int, VoteComite]]:
    resultat_: dict[int, dict[int, VoteComite]] = defaultdict(dict)
    for point in seance.points:
        for vote in point.votes:
            resultat_[point.id][vote.organisation_id] = vote
    return resultat_


def resultats(seance: SeanceComite) -> tuple[int, dict[int, Resultat]]:
    """Le nombre de partenaires appelés à voter, et le résultat de chaque point si la séance était close
    maintenant (ou sa décision, une fois close)."""
    partenaires = nombre_partenaires(seance.contrat_id)
    return partenaires, {point.id: resultat(point, seance, partenaires) for point in seance.points}


def disponibles(seance: SeanceComite, organisations) -> dict[int, Disponible]:
    """Ce que peut encore proposer au vote chacune de ces organisations qui finance un dossier de l'ordre du
    jour."""
    sollicitees = {
        ligne.organisation_id for point in seance.points for ligne in point.demande.lignes_financement
    }
    return {
        organisation_id: disponible(seance.campagne_id, organisation_id)
        for organisation_id in sollicitees & set(organisations)
    }
