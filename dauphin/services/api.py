"""L'API JSON : jetons par organisation (création, révocation, authentification) et ce qu'un jeton lit et
fait, avec les mêmes règles que les écrans.

Un jeton agit pour **une** organisation et au nom d'un compte réel, son *titulaire* :
- un instructeur crée des jetons à son propre nom pour son organisation ; l'administrateur national en crée
  pour toute organisation, au nom d'un membre de celle-ci qu'il choisit ;
- la lecture voit le périmètre de l'organisation dans l'espace d'instruction : les dossiers transmis dont
  elle est financeur sollicité, et ceux des contrats de ville dont elle est partenaire ;
- l'écriture (portées `instruction`, `comite`, `paiement` : `dauphin.policies.jetons` ; titulaire
  instructeur de l'organisation) déclenche sur la
  seule ligne de l'organisation les actions d'instruction proposées à l'écran, par
  `dauphin.services.workflow.declencher_ligne` : le journal retient le titulaire, en qualité d'instructeur
  de l'organisation du jeton. Un titulaire qui quitte l'organisation (ou dont le compte est désactivé)
  rend ses jetons inopérants.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    CompteRendu,
    Demande,
    Document,
    Enveloppe,
    EvenementJournal,
    JetonApi,
    LigneFinancement,
    MembreOrganisation,
    Note,
    Organisation,
    PieceJointe,
    PointOrdreDuJour,
    RoleOrganisation,
    SeanceComite,
    Structure,
    Utilisateur,
    Versement,
    maintenant,
)
from dauphin.policies import (
    GERER_JETONS,
    INSTRUIRE_LIGNE,
    TELECHARGER_DOCUMENT,
    VOIR_DEMANDE,
    VOIR_ENVELOPPE,
    VOIR_PROGRAMMATION,
    VOIR_SEANCE,
    acteur_de,
    instruit_pour,
    qualite_pour,
)
from dauphin.policies.jetons import PORTEES_D_ECRITURE, Portee, ecrire_portees
from dauphin.services import curseurs, donnees_ouvertes, engagements, instruction, programmation, recherche
from dauphin.services.erreurs import NonAutorise, Refus
from dauphin.services.workflow import PARIS, aujourdhui, declencher_demande, declencher_ligne

PREFIXE_JETON = "dauphin_"
DUREE_DEFAUT_JOURS = 90
DUREE_MAX_JOURS = 365
# On ne réécrit la date de dernière utilisation qu'au plus une fois par minute : une lecture ne coûte
# pas une écriture.
INTERVALLE_UTILISATION = timedelta(minutes=1)

# Les actions d'instruction qu'un financeur fait à l'écran sur sa ligne (dauphin/instruction/actions.py ;
# un test vérifie que les deux listes concordent). Le vote (en comité), les engagements et les versements
# ont leurs écrans et leurs services propres : l'API ne les contourne pas.
DECLENCHEURS_LIGNE = (
    "prendre_en_charge",
    "declarer_recevable",
    "declarer_non_recevable",
    "reviser_avis",
    "corriger_vote",
    "annuler_vote",
    "valider_compte_rendu",
)


class JetonRefuse(Exception):
    """Le jeton ne permet pas la requête : absent, inconnu, expiré, révoqué (401) ou insuffisant (403)."""

    def __init__(self, message: str, code: int = 401):
        super().__init__(message)
        self.code = code


# --- Jetons ------------------------------------------------------------------------------------


def empreinte(clair: str) -> str:
    return hashlib.sha256(clair.encode("utf-8", "surrogatepass")).hexdigest()


def generer() -> str:
    return PREFIXE_JETON + secrets.token_urlsafe(32)


def organisations_gerables(utilisateur: Utilisateur) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.actif, GERER_JETONS.portee(utilisateur))
            .order_by(Organisation.nom)
        )
    )


def titulaires_possibles(organisation_id: int) -> list[tuple[Utilisateur, RoleOrganisation]]:
    """Les comptes actifs membres de l'organisation, au nom desquels un jeton peut agir."""
    return [
        (utilisateur, role)
        for utilisateur, role in db.session.execute(
            select(Utilisateur, MembreOrganisation.role)
            .join(MembreOrganisation, MembreOrganisation.utilisateur_id == Utilisateur.id)
            .where(MembreOrganisation.organisation_id == organisation_id, Utilisateur.actif)
            .order_by(Utilisateur.nom, Utilisateur.prenom, Utilisateur.id)
        )
    ]


def _role_dans(utilisateur_id: int, organisation_id: int) -> set[RoleOrganisation]:
    return set(
        db.session.scalars(
            select(MembreOrganisation.role).where(
                MembreOrganisation.utilisateur_id == utilisateur_id,
                MembreOrganisation.organisation_id == organisation_id,
            )
        )
    )


def fin_de_journee(jour: date) -> datetime:
    """Un jeton « valable jusqu'au 31 mars » l'est jusqu'à minuit, heure de Paris."""
    return datetime.combine(jour + timedelta(days=1), time(0), tzinfo=PARIS)


def titulaires_proposes(utilisateur: Utilisateur, organisation_id: int) -> list[tuple[int, str]] | None:
    """Parmi qui l'utilisateur choisit le titulaire d'un jeton : l'administration nationale, parmi les
    membres actifs de l'organisation. None : un instructeur crée ses jetons à son propre nom, sans choix."""
    if not acteur_de(utilisateur).national:
        return None
    return [(u.id, f"{u.nom_complet} — {role.libelle}") for u, role in titulaires_possibles(organisation_id)]


def organisations_gerees(utilisateur: Utilisateur) -> list[Organisation]:
    """Les organisations dont le compte gère les jetons (`GERER_JETONS`), par nom : pour lui dire le numéro
    à donner (page de la documentation, commande `flask api jeton creer`)."""
    return list(db.session.scalars(GERER_JETONS.visibles(utilisateur).order_by(Organisation.nom)))


def creer_jeton(
    createur: Utilisateur,
    organisation_id: int,
    *,
    libelle: str,
    portees,
    expire_le: date,
    titulaire_id: int | None = None,
) -> tuple[JetonApi, str]:
    """Crée le jeton et rend (jeton, clair). Le clair n'est montré qu'une fois : seule l'empreinte reste.

    `portees` : les portées choisies (`Portee` ou leurs valeurs), au moins une.
    Lève `Refus` (champs `libelle`, `titulaire_id`, `portees`, `expire_le`) pour une saisie refusée."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    if not GERER_JETONS.permet(createur, organisation):
        raise NonAutorise("creer_jeton")
    libelle = _libelle(libelle)
    choisies = _portees(portees)
    if not acteur_de(createur).national or titulaire_id is None:
        titulaire_id = createur.id  # un instructeur crée ses jetons à son propre nom
    titulaire = _titulaire(titulaire_id, organisation_id, bool(choisies & PORTEES_D_ECRITURE))
    clair = generer()
    jeton = JetonApi(
        organisation_id=organisation_id,
        titulaire_id=titulaire.id,
        libelle=libelle,
        prefixe=clair[: len(PREFIXE_JETON) + 6],
        empreinte=empreinte(clair),
        portees=ecrire_portees(choisies),
        expire_le=fin_de_journee(_echeance(expire_le)),
        cree_par_id=createur.id,
        cree_le=maintenant(),
    )
    db.session.add(jeton)
    db.session.commit()
    return jeton, clair


def _libelle(libelle: str | None) -> str:
    libelle = (libelle or "").strip()
    if not libelle:
        raise Refus("Donnez un nom au jeton (le logiciel qui l’utilise).", "libelle")
    if len(libelle) > 100:
        raise Refus("Le nom du jeton tient en 100 caractères au plus.", "libelle")
    return libelle


def _portees(portees) -> frozenset[Portee]:
    valeurs = set(portees or ())
    connues = {p.value for p in Portee}
    if not valeurs or not valeurs <= connues:
        raise Refus("Cochez au moins une portée parmi celles proposées.", "portees")
    return frozenset(Portee(v) for v in valeurs)


def _titulaire(titulaire_id: int, organisation_id: int, ecriture: bool) -> Utilisateur:
    """Le compte au nom duquel le jeton agit : un membre actif de l'organisation, instructeur pour écrire."""
    titulaire = db.session.get(Utilisateur, titulaire_id)
    roles = _role_dans(titulaire_id, organisation_id) if titulaire is not None else set()
    if titulaire is None or not titulaire.actif or not roles:
        raise Refus("Choisissez un membre actif de l’organisation.", "titulaire_id")
    if ecriture and RoleOrganisation.instructeur not in roles:
        raise Refus(
            "Seul un jeton au nom d’un instructeur de l’organisation peut agir sur ses lignes : ne cochez "
            "que « Lecture », ou choisissez un instructeur.",
            "portees",
        )
    return titulaire


def _echeance(expire_le: date | None) -> date:
    jour = aujourdhui()
    if expire_le is None or expire_le <= jour:
        raise Refus("L’échéance doit être postérieure à aujourd’hui.", "expire_le")
    if expire_le > jour + timedelta(days=DUREE_MAX_JOURS):
        raise Refus(
            f"Un jeton vaut au plus {DUREE_MAX_JOURS} jours : choisissez une date plus proche.", "expire_le"
        )
    return expire_le


def revoquer_jeton(jeton_id: int, utilisateur: Utilisateur) -> JetonApi:
    """Révoque le jeton (définitif) ; qui et quand restent dans la liste des jetons."""
    jeton = db.session.get(JetonApi, jeton_id, with_for_update=True)
    if jeton is None or not GERER_JETONS.permet(utilisateur, jeton.organisation):
        raise NotFound()  # le jeton d'une autre organisation n'existe pas pour lui
    if jeton.revoque_le is None:
        jeton.revoque_le = maintenant()
        jeton.revoque_par_id = utilisateur.id
    db.session.commit()
    return jeton


def jetons_visibles(utilisateur: Utilisateur, organisation_id: int | None, *, page: int, par_page: int):
    """Les jetons des organisations que l'utilisateur gère, du plus récent au plus ancien, paginés en SQL."""
    requete = select(JetonApi).where(
        JetonApi.organisation_id.in_(select(Organisation.id).where(GERER_JETONS.portee(utilisateur)))
    )
    if organisation_id is not None:
        requete = requete.where(JetonApi.organisation_id == organisation_id)
    requete = requete.order_by(JetonApi.id.desc()).options(
        selectinload(JetonApi.organisation),
        selectinload(JetonApi.titulaire),
        selectinload(JetonApi.cree_par),
        selectinload(JetonApi.revoque_par),
    )
    return db.paginate(requete, page=page, per_page=par_page, error_out=False)


def authentifier(clair: str | None) -> JetonApi:
    """Le jeton valide correspondant au clair, ou JetonRefuse (401) avec la raison."""
    if not clair:
        raise JetonRefuse("Authentification requise : en-tête « Authorization: Bearer <jeton> ».")
    jeton = db.session.scalar(
        select(JetonApi)
        .where(JetonApi.empreinte == empreinte(clair))
        .options(selectinload(JetonApi.titulaire).selectinload(Utilisateur.adhesions_organisations))
    )
    if jeton is None:
        raise JetonRefuse("Jeton inconnu.")
    instant = maintenant()
    if jeton.revoque_le is not None:
        raise JetonRefuse("Ce jeton a été révoqué.")
    if jeton.expire(instant):
        raise JetonRefuse("Ce jeton a expiré : demandez-en un nouveau.")
    titulaire = jeton.titulaire
    if not titulaire.actif or not any(
        a.organisation_id == jeton.organisation_id for a in titulaire.adhesions_organisations
    ):
        raise JetonRefuse("Le titulaire de ce jeton n’est plus membre actif de l’organisation.")
    derniere = jeton.derniere_utilisation_le
    if derniere is None or instant - derniere >= INTERVALLE_UTILISATION:
        jeton.derniere_utilisation_le = instant
        db.session.commit()
    return jeton


# --- Lecture -------------------------------------------------------------------------------------


@dataclass
class FiltresApi(instruction.CriteresDemandes):
    """Les critères de l'espace d'instruction communs à toute liste, plus la date de dernière modification."""

    modifie_depuis: datetime | None = None
    recherche: str | None = None


def page_demandes(jeton: JetonApi, filtres: FiltresApi, *, apres: str | None, par_page: int):
    """Une page des demandes visibles dans l'ordre de leur dernière modification (puis de l'id), et le
    curseur de la suivante : pagination par clé en SQL, sans OFFSET ni COUNT.

    Chargement groupé (structure, campagne et contrat, lignes et leurs financeurs) : le nombre de requêtes
    ne dépend pas de la taille de la page."""
    requete = select(Demande).where(VOIR_DEMANDE.portee(jeton))
    if filtres.exercice is not None:
        requete = requete.where(Demande.exercice == filtres.exercice)
    if filtres.contrat_id is not None:
        requete = requete.where(
            Demande.campagne_id.in_(select(Campagne.id).where(Campagne.contrat_id == filtres.contrat_id))
        )
    if filtres.statut_dossier is not None:
        requete = requete.where(Demande.statut == filtres.statut_dossier)
    if filtres.statut_ligne is not None:
        requete = requete.where(
            Demande.id.in_(
                select(LigneFinancement.demande_id).where(
                    LigneFinancement.organisation_id == jeton.organisation_id,
                    LigneFinancement.statut == filtres.statut_ligne,
                )
            )
        )
    if filtres.modifie_depuis is not None:
        requete = requete.where(Demande.modifie_le >= filtres.modifie_depuis)
    if filtres.recherche:  # la recherche de l'espace d'instruction, sur la demande (plein texte, index GIN)
        requete = requete.where(
            instruction.condition_recherche(
                instruction.Filtres(recherche=filtres.recherche),
                Demande.id,
                Demande.structure_id,
                Demande.numero,
                Demande.exercice,
                recherche.VECTEUR_DEMANDE,
            )
        )
    return curseurs.page(
        requete,
        Demande.modifie_le,
        Demande.id,
        apres,
        par_page,
        lambda r: db.session.scalars(
            r.options(
                selectinload(Demande.structure),
                selectinload(Demande.campagne).joinedload(Campagne.contrat),
                selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
            )
        ),
    )


def demande_visible(jeton: JetonApi, demande_id: int) -> Demande:
    """La demande avec tout ce que l'API en montre, ou NotFound (inexistante ou hors périmètre : on ne
    révèle pas son existence)."""
    demande = db.session.scalar(
        select(Demande)
        .where(Demande.id == demande_id, VOIR_DEMANDE.portee(jeton))
        .options(
            selectinload(Demande.structure),
            selectinload(Demande.campagne).joinedload(Campagne.contrat),
            selectinload(Demande.thematique),
            selectinload(Demande.qpvs),
            selectinload(Demande.lignes_budget),
            selectinload(Demande.lignes_financement).joinedload(LigneFinancement.organisation),
            selectinload(Demande.lignes_financement).joinedload(LigneFinancement.gestionnaire),
        )
    )
    if demande is None:
        raise NotFound()
    return demande


def journal(demande: Demande) -> list[EvenementJournal]:
    """L'historique entier, comme l'écran du dossier le montre aux financeurs et partenaires (avis
    compris : une organisation du périmètre voit l'instruction)."""
    return list(
        db.session.scalars(
            select(EvenementJournal)
            .where(EvenementJournal.demande_id == demande.id)
            .options(
                selectinload(EvenementJournal.acteur),
                selectinload(EvenementJournal.organisation),
                selectinload(EvenementJournal.jeton),
            )
            .order_by(EvenementJournal.id)
        )
    )


def notes(demande: Demande, jeton: JetonApi) -> list[Note]:
    """Les notes partagées et les notes privées de l'organisation du jeton — jamais celles d'une autre :
    celles que l'écran du dossier montre à un compte de cette organisation (`policies.LIRE_NOTE`)."""
    return instruction.notes_visibles(demande, jeton)


# --- Écriture ------------------------------------------------------------------------------------


def declencher(
    jeton: JetonApi,
    ligne_id: int,
    declencheur: str,
    *,
    version: int,
    commentaire: str | None = None,
    montant: Decimal | None = None,
) -> LigneFinancement:
    """Une action d'instruction sur la ligne de l'organisation du jeton, au nom de son titulaire.

    404 si la ligne n'est pas dans le périmètre ; 403 (JetonRefuse) pour la ligne d'un autre financeur (la
    portée est vérifiée avant, par l'opération) ; ensuite le service des transitions (droit, version,
    gardes, journal)."""
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None or not VOIR_DEMANDE.permet(jeton, ligne.demande):
        raise NotFound()
    if ligne.organisation_id != jeton.organisation_id:
        raise JetonRefuse("Votre organisation n’agit que sur sa propre ligne de financement.", 403)
    if not instruit_pour(jeton, jeton.organisation_id):
        raise JetonRefuse("Le titulaire de ce jeton n’est plus instructeur de l’organisation.", 403)
    if declencheur not in DECLENCHEURS_LIGNE:
        raise JetonRefuse(f"L’action « {declencheur} » n’est pas ouverte à l’API.", 403)
    arguments = {"montant": montant} if montant is not None else {}
    return declencher_ligne(
        ligne.id, declencheur, jeton.titulaire, version=version, commentaire=commentaire, **arguments
    )


def programmation_visible(
    jeton: JetonApi, campagne_id: int, *, statut=None, modifie_depuis=None, apres: str | None, par_page: int
):
    """Une page (par curseur) de la programmation d'une campagne et le curseur de la suivante, pour une
    organisation signataire de son contrat (404 sinon)."""
    visible = db.session.scalar(
        select(Campagne.id).where(Campagne.id == campagne_id, VOIR_PROGRAMMATION.portee(jeton))
    )
    resultat = (
        programmation.programmation_par_curseur(
            campagne_id,
            programmation.Filtres(statut=statut),
            apres=apres,
            par_page=par_page,
            modifie_depuis=modifie_depuis,
        )
        if visible
        else None
    )
    if resultat is None:
        raise NotFound()
    return resultat


def subventions_visibles(
    jeton: JetonApi,
    exercice: int,
    financeur_id: int | None,
    *,
    modifie_depuis: datetime | None,
    apres: str | None,
    par_page: int,
):
    """Les lignes SCDL de l'exercice dans le périmètre de l'organisation (les dossiers qu'elle voit), une
    page par curseur, le curseur de la suivante, et les financeurs de ce périmètre dont les lignes ne
    sont pas publiables faute de SIRET."""
    portee = VOIR_DEMANDE.portee(jeton)
    lignes, suivant = donnees_ouvertes.page_lignes_scdl(
        exercice, financeur_id, portee=portee, apres=apres, par_page=par_page, modifie_depuis=modifie_depuis
    )
    sans_siret = [
        f
        for f in donnees_ouvertes.financeurs_sans_siret(exercice, portee=portee)
        if financeur_id is None or f.id == financeur_id
    ]
    return lignes, suivant, sans_siret


# --- Écritures d'un financeur : engagement, échéancier, paiements, compte rendu -----------------------
# Chacune passe par le service de l'écran (mêmes règles, même journal) au nom du titulaire, après ce que
# le jeton seul permet : la ligne dans son périmètre (404 sinon), et de son organisation (403 sinon).


def ligne_de_l_organisation(jeton: JetonApi, ligne_id: int) -> LigneFinancement:
    ligne = db.session.get(LigneFinancement, ligne_id)
    if ligne is None or not VOIR_DEMANDE.permet(jeton, ligne.demande):
        raise NotFound()
    if not INSTRUIRE_LIGNE.permet(jeton, ligne):
        raise JetonRefuse("Votre organisation n’agit que sur sa propre ligne de financement.", 403)
    return ligne


def enregistrer_engagement(
    jeton: JetonApi, ligne_id: int, numero: str, version: int | None
) -> LigneFinancement:
    ligne = ligne_de_l_organisation(jeton, ligne_id)
    return engagements.enregistrer_engagement(ligne.id, jeton.titulaire, numero, version=version)


def prevoir_echeance(
    jeton: JetonApi, ligne_id: int, nature: str, date_prevue: date, montant: Decimal, version: int | None
) -> Versement:
    ligne = ligne_de_l_organisation(jeton, ligne_id)
    return engagements.prevoir_echeance(
        ligne.id, jeton.titulaire, nature, date_prevue, montant, version=version
    )


def versement_de_l_organisation(jeton: JetonApi, versement_id: int) -> Versement:
    versement = db.session.get(Versement, versement_id)
    if versement is None:
        raise NotFound()
    ligne_de_l_organisation(jeton, versement.ligne_id)
    return versement


def enregistrer_paiement(
    jeton: JetonApi,
    versement_id: int,
    verse_le: date,
    montant: Decimal,
    reference: str,
    version: int | None,
) -> Versement:
    versement = versement_de_l_organisation(jeton, versement_id)
    return engagements.enregistrer_paiement(
        versement.id, jeton.titulaire, verse_le, montant, reference, version=version
    )


def retourner_compte_rendu(
    jeton: JetonApi, demande_id: int, commentaire: str, version: int | None
) -> Demande:
    """Renvoie le compte rendu financier au porteur, comme l'écran : le financeur qui a voté une
    subvention (`qualite_pour` sur l'acteur du jeton : son organisation seule)."""
    demande = db.session.get(Demande, demande_id)
    if demande is None or not VOIR_DEMANDE.permet(jeton, demande):
        raise NotFound()
    if qualite_pour(jeton, "retourner_justification", demande) is None:
        raise JetonRefuse(
            "Seul un financeur qui a voté une subvention à ce dossier renvoie son compte rendu financier.",
            403,
        )
    return declencher_demande(
        demande.id, "retourner_justification", jeton.titulaire, version=version, commentaire=commentaire
    )


# --- Engagements et versements --------------------------------------------------------------------


def _dossiers_visibles(jeton: JetonApi):
    """Les ids des dossiers que l'organisation voit (`VOIR_DEMANDE`), en sous-requête autonome : la règle
    sonde les lignes de financement, qu'elle ne doit pas confondre avec celles de la requête englobante."""
    return select(Demande.id).where(VOIR_DEMANDE.portee(jeton)).correlate(None)


def ligne_visible(jeton: JetonApi, ligne_id: int) -> LigneFinancement:
    """Une ligne de financement d'un dossier du périmètre (404 sinon), avec son financeur."""
    ligne = db.session.scalar(
        select(LigneFinancement)
        .where(LigneFinancement.id == ligne_id, LigneFinancement.demande_id.in_(_dossiers_visibles(jeton)))
        .options(selectinload(LigneFinancement.organisation), selectinload(LigneFinancement.gestionnaire))
    )
    if ligne is None:
        raise NotFound()
    return ligne


def page_versements(
    jeton: JetonApi,
    *,
    ligne_id: int | None,
    payes: bool | None,
    modifie_depuis: datetime | None,
    apres: str | None,
    par_page: int,
):
    """Les échéances (prévues ou payées) des lignes des dossiers du périmètre, dans l'ordre de leur dernière
    modification : la même portée que les dossiers (`VOIR_DEMANDE`), en SQL."""
    requete = select(Versement).where(
        Versement.ligne_id.in_(
            select(LigneFinancement.id)
            .where(LigneFinancement.demande_id.in_(_dossiers_visibles(jeton)))
            .correlate(None)
        )
    )
    if ligne_id is not None:
        requete = requete.where(Versement.ligne_id == ligne_id)
    if payes is not None:
        requete = requete.where(Versement.verse_le.is_not(None) if payes else Versement.verse_le.is_(None))
    if modifie_depuis is not None:
        requete = requete.where(Versement.modifie_le >= modifie_depuis)
    return curseurs.page(requete, Versement.modifie_le, Versement.id, apres, par_page, db.session.scalars)


# --- Campagnes, enveloppes, séances du comité, structures, comptes rendus, pièces ---------------------
# Chaque liste applique la règle de l'écran correspondant (`dauphin.policies`), en SQL, par pages de clé
# (modifie_le, id) ; le chargement groupé ne dépend pas de la taille de la page.


def _page(requete, modele, modifie_depuis, apres, par_page, *options):
    if modifie_depuis is not None:
        requete = requete.where(modele.modifie_le >= modifie_depuis)
    return curseurs.page(
        requete,
        modele.modifie_le,
        modele.id,
        apres,
        par_page,
        lambda r: db.session.scalars(r.options(*options)),
    )


def page_campagnes(jeton: JetonApi, *, modifie_depuis, apres, par_page):
    """Les campagnes des contrats de ville dont l'organisation est signataire (`VOIR_PROGRAMMATION`)."""
    return _page(
        select(Campagne).where(VOIR_PROGRAMMATION.portee(jeton)),
        Campagne,
        modifie_depuis,
        apres,
        par_page,
        selectinload(Campagne.contrat),
    )


def page_enveloppes(jeton: JetonApi, *, campagne_id, modifie_depuis, apres, par_page):
    """Les enveloppes de l'organisation (et toutes celles des contrats qu'elle pilote : `VOIR_ENVELOPPE`)."""
    requete = select(Enveloppe).where(VOIR_ENVELOPPE.portee(jeton))
    if campagne_id is not None:
        requete = requete.where(Enveloppe.campagne_id == campagne_id)
    return _page(requete, Enveloppe, modifie_depuis, apres, par_page, selectinload(Enveloppe.organisation))


def page_seances(jeton: JetonApi, *, campagne_id, modifie_depuis, apres, par_page):
    """Les séances du comité des contrats que l'organisation voit (`VOIR_SEANCE`), avec l'ordre du jour,
    les votes des partenaires et les montants décidés par financeur."""
    requete = select(SeanceComite).where(VOIR_SEANCE.portee(jeton))
    if campagne_id is not None:
        requete = requete.where(SeanceComite.campagne_id == campagne_id)
    return _page(
        requete,
        SeanceComite,
        modifie_depuis,
        apres,
        par_page,
        selectinload(SeanceComite.points).selectinload(PointOrdreDuJour.votes),
        selectinload(SeanceComite.points).selectinload(PointOrdreDuJour.montants),
        selectinload(SeanceComite.points).joinedload(PointOrdreDuJour.demande),
    )


def page_structures(jeton: JetonApi, *, modifie_depuis, apres, par_page):
    """Les structures porteuses des dossiers que l'organisation voit (`VOIR_DEMANDE`)."""
    requete = select(Structure).where(
        Structure.id.in_(select(Demande.structure_id).where(VOIR_DEMANDE.portee(jeton)).correlate(None))
    )
    return _page(requete, Structure, modifie_depuis, apres, par_page)


def page_comptes_rendus(jeton: JetonApi, *, modifie_depuis, apres, par_page):
    """Les comptes rendus financiers déposés des dossiers que l'organisation voit, avec leurs postes."""
    requete = select(CompteRendu).where(
        CompteRendu.demande_id.in_(_dossiers_visibles(jeton)), CompteRendu.depose_le.is_not(None)
    )
    return _page(requete, CompteRendu, modifie_depuis, apres, par_page, selectinload(CompteRendu.lignes))


def pieces_visibles(jeton: JetonApi, demande_id: int) -> list[PieceJointe]:
    """Les pièces jointes d'un dossier du périmètre (métadonnées), 404 sinon."""
    demande = demande_visible(jeton, demande_id)
    return list(
        db.session.scalars(
            select(PieceJointe)
            .where(PieceJointe.demande_id == demande.id)
            .options(selectinload(PieceJointe.document))
            .order_by(PieceJointe.id)
        )
    )


def document_telechargeable(jeton: JetonApi, document_id: int) -> Document:
    """Un document que l'organisation peut télécharger (`TELECHARGER_DOCUMENT`, la règle de l'écran)."""
    document = db.session.get(Document, document_id)
    if document is None or not TELECHARGER_DOCUMENT.permet(jeton, document):
        raise NotFound()
    return document
