"""Le comité de pilotage : le pilote compose l'ordre du jour, envoie la convocation et ouvre le vote,
chaque organisation partenaire vote une fois par dossier, chaque financeur saisit le montant de sa ligne, le
pilote tient la feuille de présence, et la clôture fixe toutes les décisions dans une seule transaction —
le quorum compté sur les partenaires présents ou représentés (workflows/comite.py).

Cycle d'une séance : en préparation → vote ouvert → close. Une séance close ne change plus ; corriger une
décision passe ensuite par une transition motivée de la ligne (`corriger_vote`, `annuler_vote`).

Feuille de présence et convocation sont des changements de la séance : ils changent sa version (une page
de clôture affichée avant eux est périmée) et s'inscrivent à l'historique des modifications
(`audit.tracer`, objet « seance_comite »).
"""

from __future__ import annotations

import hashlib
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
    Organisation,
    PartenaireContrat,
    PointOrdreDuJour,
    PresenceComite,
    SeanceComite,
    StatutPresence,
    StatutSeance,
    Utilisateur,
    VoteComite,
    maintenant,
)
from dauphin.policies import INSTRUIRE_LIGNE, VOIR_SEANCE, Qualite, acteur_de, pilote
from dauphin.services import audit, courriels, enveloppes
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
from workflows.comite import (
    Decompte,
    Resultat,
    cloture_prematuree,
    decider,
    presences_a_indiquer,
    quorum_requis,
)

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
        selectinload(SeanceComite.presences),
        selectinload(SeanceComite.convocation_envoyee_par),
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


def membres_des_partenaires(contrat_id: int) -> list[str]:
    """Les adresses des comptes actifs membres d'une organisation partenaire du contrat : ceux qui prennent
    part au comité (prévenus de l'ouverture du vote, convoqués)."""
    return list(
        db.session.scalars(
            select(Utilisateur.email)
            .join(MembreOrganisation, MembreOrganisation.utilisateur_id == Utilisateur.id)
            .join(PartenaireContrat, PartenaireContrat.organisation_id == MembreOrganisation.organisation_id)
            .where(PartenaireContrat.contrat_id == contrat_id, Utilisateur.actif.is_(True))
            .distinct()
            .order_by(Utilisateur.email)
        )
    )


def _lien_seance(seance: SeanceComite) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/comites/{seance.id}"


def _prevenir_votants(seance: SeanceComite) -> None:
    lien = _lien_seance(seance)
    for email in membres_des_partenaires(seance.contrat_id):
        courriels.ecrire_message(
            "vote_comite_ouvert",
            email,
            date_seance=seance.date_seance,
            contrat=seance.contrat.libelle,
            campagne=seance.campagne.libelle,
            nombre_points=len(seance.points),
            lien=lien,
        )


# --- Convocation --------------------------------------------------------------------------------


def empreinte_ordre_du_jour(seance: SeanceComite) -> str:
    """Ce que dit la convocation — date, lieu, partenaires convoqués, dossiers dans leur ordre — résumé en
    une empreinte : différente de celle du dernier envoi, la convocation envoyée n'est plus à jour."""
    contenu = "|".join(
        [
            seance.date_seance.isoformat(),
            seance.lieu or "",
            ",".join(str(p.organisation_id) for p in sorted(seance.contrat.partenariats, key=_organisation)),
            ",".join(f"{p.rang}:{p.demande_id}" for p in seance.points),
        ]
    )
    return hashlib.sha256(contenu.encode()).hexdigest()


def _organisation(partenariat: PartenaireContrat) -> int:
    return partenariat.organisation_id


def convocation_perimee(seance: SeanceComite) -> bool:
    """Une convocation a été envoyée, et l'ordre du jour (ou la date, le lieu, les partenaires) a changé
    depuis : le pilote peut en envoyer une à jour."""
    return seance.convocation_numero is not None and seance.convocation_empreinte != empreinte_ordre_du_jour(
        seance
    )


def convocation_impossible(seance: SeanceComite, jour: date) -> str | None:
    """Pourquoi la convocation ne peut pas (ou plus) être envoyée, ou None."""
    if seance.statut is StatutSeance.close:
        return "La séance est close : sa convocation ne s’envoie plus."
    if not seance.points:
        return "Inscrivez au moins un dossier à l’ordre du jour avant d’envoyer la convocation."
    if seance.date_seance < jour:
        return (
            f"La séance du {_date(seance)} est passée : la convocation ne s’envoie plus. La feuille de "
            "présence dit qui y a pris part."
        )
    return None


def convoquer(seance_id: int, utilisateur: Utilisateur, version=None) -> SeanceComite:
    """Envoie la convocation — la première, ou une convocation à jour qui remplace la précédente — aux
    membres des organisations partenaires du contrat : le PDF (date, lieu, partenaires convoqués, ordre du
    jour et montants demandés) est produit par une tâche, le courriel donne le lien pour le télécharger."""

    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.preparation, StatutSeance.vote_ouvert)
        _qualite_pilote(utilisateur, seance)
        if raison := convocation_impossible(seance, aujourdhui()):
            raise Refus(raison)
        destinataires = membres_des_partenaires(seance.contrat_id)
        if not destinataires:
            raise Refus(
                "Aucun compte actif n’est rattaché aux organisations partenaires du contrat : la convocation "
                "n’aurait aucun destinataire. L’administration nationale rattache les comptes aux "
                "organisations."
            )
        numero = (seance.convocation_numero or 0) + 1
        seance.convocation_numero = numero
        seance.convocation_envoyee_le = maintenant()
        seance.convocation_envoyee_par_id = utilisateur.id
        seance.convocation_empreinte = empreinte_ordre_du_jour(seance)
        # Le PDF de cette convocation est à produire ; jusque-là, son lien le produit à la demande.
        seance.convocation_cle_stockage = seance.convocation_taille = seance.convocation_produite_le = None
        seance.convocation_sha256 = None
        jobs.planifier("dauphin.taches.generer_convocation", seance.id, numero)  # avant les courriels
        for email in destinataires:
            courriels.ecrire_message(
                "convocation_comite",
                email,
                date_seance=seance.date_seance,
                lieu=seance.lieu,
                contrat=seance.contrat.libelle,
                campagne=seance.campagne.libelle,
                nombre_points=len(seance.points),
                numero=numero,
                lien=f"{_lien_seance(seance)}/convocation.pdf",
                lien_seance=_lien_seance(seance),
            )
        audit.tracer(
            utilisateur,
            "seance_comite",
            seance.id,
            "convocation",
            f"Convocation n° {numero} du comité du {_date(seance)} ({seance.contrat.libelle}) envoyée à "
            f"{len(destinataires)} destinataire(s)",
            {
                "numero": numero,
                "destinataires": len(destinataires),
                "ordre du jour": ", ".join(p.demande.numero for p in seance.points),
            },
        )
        return seance

    return en_une_transaction(operation)


# --- Feuille de présence ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeuilleDePresence:
    """Les partenaires du contrat et la présence indiquée de chacun à la séance (absente du dictionnaire :
    pas encore indiquée)."""

    partenaires: list[Organisation]
    presences: dict[int, PresenceComite]

    def presence(self, organisation_id: int) -> PresenceComite | None:
        return self.presences.get(organisation_id)

    @property
    def sans_presence(self) -> list[Organisation]:
        return [o for o in self.partenaires if o.id not in self.presences]

    @property
    def sieges(self) -> set[int]:
        """Les partenaires présents ou représentés."""
        return {
            o.id for o in self.partenaires if o.id in self.presences and self.presences[o.id].statut.siege
        }

    @property
    def complete(self) -> bool:
        return not self.sans_presence


def feuille_de_presence(seance: SeanceComite) -> FeuilleDePresence:
    partenaires = sorted(seance.contrat.partenaires, key=lambda o: (o.nom.casefold(), o.id))
    return FeuilleDePresence(partenaires, {p.organisation_id: p for p in seance.presences})


def cloture_impossible(seance: SeanceComite, feuille: FeuilleDePresence, jour: date) -> str | None:
    """Pourquoi la séance ne peut pas être close maintenant (pas encore tenue, feuille de présence
    incomplète), ou None."""
    return cloture_prematuree(seance.date_seance, jour) or presences_a_indiquer(
        [o.nom for o in feuille.sans_presence]
    )


class PresencesRefusees(Refus):
    """La feuille de présence est refusée : `problemes` [(champ, message)], les champs nommés comme dans le
    formulaire (« presence_<organisation> », « representant_<organisation> »)."""

    def __init__(self, problemes: list[tuple[str | None, str]]):
        super().__init__("; ".join(message for _, message in problemes))
        self._problemes = problemes

    @property
    def problemes(self) -> list[tuple[str | None, str]]:
        return self._problemes


def _libelle_presence(presence: PresenceComite | None) -> str | None:
    if presence is None:
        return None
    if presence.representant:
        return f"{presence.statut.libelle} ({presence.representant})"
    return presence.statut.libelle


def enregistrer_presences(
    seance_id: int,
    saisie: dict[int, tuple[str | None, str | None]],
    utilisateur: Utilisateur,
    version=None,
) -> int:
    """La feuille de présence tenue par le pilote, modifiable jusqu'à la clôture. `saisie` : pour chaque
    organisation partenaire, (présence, personne qui siège) ; une présence vide n'est pas encore indiquée.
    Rend le nombre de présences modifiées ; chaque modification est tracée."""

    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.preparation, StatutSeance.vote_ouvert)
        _qualite_pilote(utilisateur, seance)
        feuille = feuille_de_presence(seance)
        partenaires = {o.id: o for o in feuille.partenaires}
        problemes: list[tuple[str | None, str]] = []
        retenues: dict[int, tuple[StatutPresence, str | None]] = {}
        for organisation_id, (choix, representant) in saisie.items():
            if organisation_id not in partenaires:
                raise Refus(
                    "Cette organisation n’est pas partenaire du contrat de la séance : rechargez la page."
                )
            nom = partenaires[organisation_id].nom
            representant = " ".join((representant or "").split()) or None
            if choix in (None, ""):
                if representant:
                    problemes.append(
                        (
                            f"presence_{organisation_id}",
                            f"Indiquez si {nom} est présente ou représentée par cette personne.",
                        )
                    )
                continue
            try:
                statut = StatutPresence(choix)
            except ValueError:
                problemes.append(
                    (f"presence_{organisation_id}", "Choisissez présente, représentée, excusée ou absente.")
                )
                continue
            if representant and not statut.siege:
                problemes.append(
                    (
                        f"representant_{organisation_id}",
                        f"{nom} est indiquée « {statut.libelle.lower()} » : la personne qui siège ne "
                        "s’indique que pour une organisation présente ou représentée.",
                    )
                )
                continue
            if representant and len(representant) > 200:
                problemes.append((f"representant_{organisation_id}", "200 caractères au plus."))
                continue
            retenues[organisation_id] = (statut, representant)
        if problemes:
            raise PresencesRefusees(problemes)
        ecarts = {}
        for organisation_id, (statut, representant) in retenues.items():
            presence = feuille.presence(organisation_id)
            avant = _libelle_presence(presence)
            if presence is None:
                presence = PresenceComite(organisation_id=organisation_id, statut=statut)
                seance.presences.append(presence)
            elif (presence.statut, presence.representant) == (statut, representant):
                continue
            presence.statut, presence.representant = statut, representant
            presence.saisi_par_id, presence.saisi_le = utilisateur.id, maintenant()
            ecarts[partenaires[organisation_id].nom] = [avant, _libelle_presence(presence)]
        if ecarts:
            flag_modified(seance, "lieu")  # la séance change de version : une clôture affichée est périmée
            audit.tracer(
                utilisateur,
                "seance_comite",
                seance.id,
                "presences",
                f"Feuille de présence du comité du {_date(seance)} ({seance.contrat.libelle})",
                ecarts,
            )
        return len(ecarts)

    return en_une_transaction(operation)


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


def decompter(point: PointOrdreDuJour, feuille: FeuilleDePresence) -> Decompte:
    """Les voix d'un dossier d'après la feuille de présence : les votes des partenaires présents ou
    représentés comptent, ceux d'une organisation excusée ou absente (ou pas encore indiquée) sont écartés ;
    une récusation sort l'organisation des appelés, présente ou non."""
    partenaires = {o.id for o in feuille.partenaires}
    sieges = feuille.sieges
    voix: Counter = Counter()
    recusees: set[int] = set()
    non_comptes = 0
    for vote in point.votes:
        if vote.organisation_id not in partenaires:
            continue  # une organisation qui n'est plus partenaire du contrat
        if vote.choix is ChoixVote.recusation:
            recusees.add(vote.organisation_id)
        elif vote.organisation_id in sieges:
            voix[vote.choix] += 1
        else:
            non_comptes += 1
    return Decompte(
        partenaires=len(partenaires),
        pour=voix[ChoixVote.pour],
        contre=voix[ChoixVote.contre],
        abstentions=voix[ChoixVote.abstention],
        recusations=len(recusees),
        presents=len(sieges - recusees),
        votes_non_comptes=non_comptes,
    )


def regles(seance: SeanceComite) -> tuple[int, str]:
    """Le quorum (en %) et la règle de majorité : ceux du contrat, figés dans la séance à sa clôture."""
    if seance.statut is StatutSeance.close and seance.quorum_pourcentage is not None:
        return seance.quorum_pourcentage, seance.regle_majorite
    return seance.contrat.quorum_pourcentage, seance.contrat.regle_majorite.value


def resultat(point: PointOrdreDuJour, seance: SeanceComite, feuille: FeuilleDePresence) -> Resultat:
    """L'issue du dossier si la séance était close maintenant ; une fois close, sa décision telle que la
    clôture l'a lue."""
    pourcentage, regle = regles(seance)
    if seance.statut is StatutSeance.close and point.decision is not None:
        appeles = len(feuille.partenaires) - (point.recusations or 0)
        explication = point.explication or (
            f"{point.decision.libelle} (pour {point.voix_pour or 0}, contre {point.voix_contre or 0}, "
            f"abstention {point.abstentions or 0})."
        )
        return Resultat(point.decision.value, quorum_requis(appeles, pourcentage), explication)
    return decider(decompter(point, feuille), pourcentage, regle)


def clore(seance_id: int, utilisateur: Utilisateur, version=None) -> SeanceComite:
    """Fixe toutes les décisions en une transaction : lignes votées (montant saisi) ou refusées, dossiers
    attribués, rejetés ou — sans quorum des présents — ajournés ; courriels aux porteurs ; PV produit par une
    tâche. La feuille de présence doit être complète : c'est sur elle que se compte le quorum."""

    def operation():
        seance = _verrouiller(seance_id, version)
        _exiger_statut(seance, StatutSeance.vote_ouvert)
        qualite = _qualite_pilote(utilisateur, seance)
        feuille = feuille_de_presence(seance)
        if raison := cloture_impossible(seance, feuille, aujourdhui()):
            raise Refus(raison)
        pourcentage, regle = regles(seance)
        # La décision date de la séance (déjà tenue quand on la clôt ; jamais plus tard qu'aujourd'hui).
        jour = min(seance.date_seance, aujourdhui())
        for point in seance.points:
            demande = charger_demande_verrouillee(point.demande_id)
            decompte = decompter(point, feuille)
            issue = decider(decompte, pourcentage, regle)
            point.decision = DecisionPoint(issue.decision)
            point.voix_pour, point.voix_contre = decompte.pour, decompte.contre
            point.abstentions, point.recusations = decompte.abstentions, decompte.recusations
            point.presents, point.explication = decompte.presents, issue.explication
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
        seance.quorum_pourcentage, seance.regle_majorite = pourcentage, regle
        jobs.planifier("dauphin.taches.generer_pv", seance.id)
        return seance

    return en_une_transaction(operation)


def _declencher_demande(demande, declencheur, utilisateur, qualite, commentaire) -> None:
    try:
        avant, apres = DEMANDE.declencher(demande, declencheur, commentaire=commentaire)
    except TransitionImpossible as erreur:
        raise Conflit(
            f"Cette action n’est pas possible sur le dossier {demande.numero} au statut "
            f"« {erreur.statut.libelle} » (il a pu changer depuis votre lecture) : rechargez la page."
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


def resultats(seance: SeanceComite) -> tuple[FeuilleDePresence, dict[int, Resultat]]:
    """La feuille de présence, et le résultat de chaque point si la séance était close maintenant (ou sa
    décision, une fois close)."""
    feuille = feuille_de_presence(seance)
    return feuille, {point.id: resultat(point, seance, feuille) for point in seance.points}


def votes_non_comptes(seance: SeanceComite, feuille: FeuilleDePresence) -> dict[int, int]:
    """Par organisation partenaire excusée ou absente (indiquée) : le nombre de dossiers sur lesquels elle a
    voté — des votes que la clôture ne comptera pas."""
    indiquees_hors_seance = {
        o.id for o in feuille.partenaires if o.id in feuille.presences and o.id not in feuille.sieges
    }
    return dict(
        Counter(
            vote.organisation_id
            for point in seance.points
            for vote in point.votes
            if vote.organisation_id in indiquees_hors_seance and vote.choix is not ChoixVote.recusation
        )
    )


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
