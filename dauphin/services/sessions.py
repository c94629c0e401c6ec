"""Sessions tenues par le serveur : chaque connexion ouvre une ligne de `session_utilisateur`.

Le cookie signé de Flask ne porte que le jeton de la session (256 bits tirés au hasard, l'identifiant que
Flask-Login y range) ; la base n'en garde que l'empreinte SHA-256. Le chargeur de Flask-Login
(`charger`) n'accepte un cookie que si sa session est *vivante* (`vivante`, la règle écrite une fois) :

- pas fermée : la déconnexion, « Mes sessions » (une session, ou toutes les autres) posent `fermee_le` —
  rejouer le cookie d'une session fermée ne reconnecte personne ;
- le compte a toujours le `jeton_session` qu'il avait à l'ouverture : un nouveau mot de passe ou une
  désactivation le renouvellent, et toutes ses sessions tombent d'un coup ;
- l'inactivité n'a pas dépassé le délai du compte (`expire_le`) : SESSION_INACTIVITE_AGENTS minutes (30
  par défaut) pour un compte d'organisation ou de l'administration, SESSION_INACTIVITE_PORTEURS (12 heures)
  pour un porteur.

L'activité repousse l'échéance, mais n'est écrite qu'une fois par minute au plus (`PAS_ACTIVITE`) : la
plupart des pages ne coûtent que la lecture, jointe au chargement du compte (une requête). Les sessions
mortes sont effacées à chaque connexion du compte, et pour tous par `flask sessions purger`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import NotFound

from dauphin.connexions import PREPARE
from dauphin.extensions import db
from dauphin.models import (
    MembreOrganisation,
    NatureEvenementCompte,
    SessionUtilisateur,
    Utilisateur,
    maintenant,
)
from dauphin.policies import acteur_de
from dauphin.unite_de_travail import en_une_transaction

PAS_ACTIVITE = timedelta(minutes=1)  # l'activité d'une session n'est pas écrite plus souvent
LONGUEUR_APPAREIL = SessionUtilisateur.__table__.c.appareil.type.length


def empreinte(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


def delai_inactivite(utilisateur: Utilisateur) -> timedelta:
    """Les comptes des organisations et de l'administration ont le délai court ; les porteurs, le long."""
    config = current_app.config
    agent = acteur_de(utilisateur).hors_structure
    minutes = config["SESSION_INACTIVITE_AGENTS"] if agent else config["SESSION_INACTIVITE_PORTEURS"]
    return timedelta(minutes=minutes)


# --- Le résumé de l'appareil ------------------------------------------------------------------------

# Dans l'ordre : Edge et Opera se disent aussi Chrome, Chrome se dit aussi Safari ; un iPhone se dit « Mac OS
# X », un Android se dit « Linux ».
NAVIGATEURS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMES = (
    ("iPad", "iPad"),
    ("iPhone", "iPhone"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def appareil(user_agent: str | None) -> str:
    """« Firefox sur Windows », « Safari sur iPhone » ; un autre client par le nom qu'il se donne
    (« curl »), sinon « Navigateur inconnu »."""
    texte = user_agent or ""
    navigateur = next((nom for marque, nom in NAVIGATEURS if marque in texte), None)
    systeme = next((nom for marque, nom in SYSTEMES if marque in texte), None)
    if navigateur is None:
        produit = re.match(r"[A-Za-z][\w.-]{0,39}", texte)
        navigateur = produit.group(0) if produit and produit.group(0) != "Mozilla" else "Navigateur inconnu"
    resume = f"{navigateur} sur {systeme}" if systeme else navigateur
    return resume[:LONGUEUR_APPAREIL]


# --- La règle ----------------------------------------------------------------------------------------


def morte():
    """La clause SQL des sessions qui ne servent plus (l'inverse de `vivante`)."""
    instant = maintenant()
    jeton_du_compte = (
        select(Utilisateur.jeton_session).where(Utilisateur.id == SessionUtilisateur.utilisateur_id)
    ).scalar_subquery()
    return or_(
        SessionUtilisateur.fermee_le.is_not(None),
        SessionUtilisateur.expire_le <= instant,
        SessionUtilisateur.jeton_compte != jeton_du_compte,
    )


def fin(session: SessionUtilisateur, utilisateur: Utilisateur, instant: datetime) -> str | None:
    """Pourquoi la session ne sert plus (« fermee » ou « expiree »), ou None si elle est vivante."""
    if session.fermee_le is not None or session.jeton_compte != utilisateur.jeton_session:
        return "fermee"
    if not utilisateur.actif:
        return "fermee"
    if session.expire_le <= instant:
        return "expiree"
    return None


# --- Ouvrir, charger, suivre l'activité -------------------------------------------------------------


def ouvrir(
    utilisateur: Utilisateur,
    adresse_ip: str | None,
    user_agent: str | None,
    *,
    second_facteur: bool = False,
) -> str:
    """Ouvre une session du compte (validée) et rend son jeton, à ranger dans le cookie (la vue appelle
    `login_user`). Efface au passage les sessions mortes du compte."""
    jeton = secrets.token_urlsafe(32)

    def operation():
        instant = maintenant()
        db.session.execute(
            delete(SessionUtilisateur)
            .where(SessionUtilisateur.utilisateur_id == utilisateur.id, morte())
            .execution_options(synchronize_session="fetch")
        )
        session = SessionUtilisateur(
            utilisateur_id=utilisateur.id,
            empreinte=empreinte(jeton),
            jeton_compte=utilisateur.jeton_session,
            cree_le=instant,
            derniere_activite_le=instant,
            expire_le=instant + delai_inactivite(utilisateur),
            adresse_ip=adresse_ip,
            appareil=appareil(user_agent),
            second_facteur=second_facteur,
        )
        db.session.add(session)
        utilisateur.derniere_connexion_le = instant
        return session

    session = en_une_transaction(operation)
    utilisateur.session_courante = session
    utilisateur.jeton_de_session = jeton
    return jeton


# La requête de chaque page d'une session ouverte, construite une fois par processus : la construire (les
# trois chargements joints) et calculer sa clé de cache coûtaient à chaque requête plus que de lire la ligne.
_SESSION_ET_COMPTE = (
    select(SessionUtilisateur)
    .where(SessionUtilisateur.empreinte == bindparam("empreinte"))
    .options(
        joinedload(SessionUtilisateur.utilisateur).joinedload(Utilisateur.adhesions_structures),
        joinedload(SessionUtilisateur.utilisateur)
        .joinedload(Utilisateur.adhesions_organisations)
        .joinedload(MembreOrganisation.organisation),
        joinedload(SessionUtilisateur.utilisateur).joinedload(Utilisateur.pilotages),
    )
    # Le même ordre à chaque page, par une clé unique : préparé une fois par connexion (dauphin.connexions).
    .execution_options(**PREPARE)
)


def charger(jeton: str) -> tuple[Utilisateur | None, str | None]:
    """Le compte de la session dont le cookie porte `jeton`, si elle est vivante ; sinon (None, pourquoi) :
    « fermee », « expiree », ou None si le jeton n'est celui d'aucune session.

    Une requête : la session, son compte et les rattachements que la navigation et les droits lisent à
    chaque page (structures, organisations, contrats pilotés). Jointes, les trois collections se
    multiplient ; un compte en a peu, et presque toujours d'une seule sorte."""
    if not isinstance(jeton, str) or not jeton:
        return None, None
    session = (
        db.session.execute(_SESSION_ET_COMPTE, {"empreinte": empreinte(jeton)}).unique().scalar_one_or_none()
    )
    if session is None:
        return None, None
    utilisateur = session.utilisateur
    raison = fin(session, utilisateur, maintenant())
    if raison is not None:
        return None, raison
    utilisateur.session_courante = session
    utilisateur.jeton_de_session = jeton
    return utilisateur, None


def activite_a_noter(session: SessionUtilisateur) -> bool:
    return maintenant() - session.derniere_activite_le >= PAS_ACTIVITE


def noter_activite(utilisateur: Utilisateur) -> SessionUtilisateur | None:
    """Repousse l'échéance de la session courante et valide aussitôt, en début de requête (rien d'autre
    n'est alors en cours). Le compte et ses rattachements chargés restent tels quels (pas d'expiration au
    commit) : la page ne les relit pas."""
    session = utilisateur.session_courante
    if session is None:
        return None
    instant = maintenant()
    echeance = instant + delai_inactivite(utilisateur)
    db.session.execute(
        update(SessionUtilisateur)
        .where(SessionUtilisateur.id == session.id, SessionUtilisateur.fermee_le.is_(None))
        .values(derniere_activite_le=instant, expire_le=echeance)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(session, "derniere_activite_le", instant)
    set_committed_value(session, "expire_le", echeance)
    orm = db.session()
    expirer, orm.expire_on_commit = orm.expire_on_commit, False
    try:
        orm.commit()
    finally:
        orm.expire_on_commit = expirer
    return session


def secondes_restantes(utilisateur: Utilisateur) -> int:
    session = utilisateur.session_courante
    if session is None:
        return 0
    return max(0, int((session.expire_le - maintenant()).total_seconds()))


# --- Mes sessions : lister, fermer -----------------------------------------------------------------


def ouvertes(utilisateur: Utilisateur) -> list[SessionUtilisateur]:
    """Les sessions vivantes du compte, la plus récemment active en tête."""
    instant = maintenant()
    return list(
        db.session.scalars(
            select(SessionUtilisateur)
            .where(
                SessionUtilisateur.utilisateur_id == utilisateur.id,
                SessionUtilisateur.fermee_le.is_(None),
                SessionUtilisateur.expire_le > instant,
                SessionUtilisateur.jeton_compte == utilisateur.jeton_session,
            )
            .order_by(SessionUtilisateur.derniere_activite_le.desc(), SessionUtilisateur.id.desc())
        )
    )


def _journaliser(utilisateur: Utilisateur, nature, motif: str | None, adresse_ip: str | None) -> None:
    from dauphin.services.comptes import journaliser

    journaliser(utilisateur.email, utilisateur, True, motif, nature, adresse_ip)


def fermer_la_courante(utilisateur: Utilisateur, adresse_ip: str | None) -> None:
    """La déconnexion : la session de ce cookie est fermée pour de bon, et journalisée."""
    session = utilisateur.session_courante

    def operation():
        if session is not None:
            db.session.execute(
                update(SessionUtilisateur)
                .where(SessionUtilisateur.id == session.id, SessionUtilisateur.fermee_le.is_(None))
                .values(fermee_le=maintenant())
                .execution_options(synchronize_session=False)
            )
        _journaliser(utilisateur, NatureEvenementCompte.deconnexion, None, adresse_ip)

    en_une_transaction(operation)


def fermer(utilisateur: Utilisateur, session_id: int, adresse_ip: str | None) -> SessionUtilisateur:
    """Ferme une autre session du compte (« Mes sessions ») ; 404 si elle n'est pas à lui ou plus ouverte."""

    def operation():
        session = db.session.get(SessionUtilisateur, session_id, with_for_update=True)
        vivante = session is not None and fin(session, utilisateur, maintenant()) is None
        if not vivante or session.utilisateur_id != utilisateur.id:
            raise NotFound()
        session.fermee_le = maintenant()
        _journaliser(
            utilisateur,
            NatureEvenementCompte.fermeture_session,
            f"{session.appareil}, {session.adresse_ip or 'adresse inconnue'}"[:100],
            adresse_ip,
        )
        return session

    return en_une_transaction(operation)


def fermer_les_autres(utilisateur: Utilisateur, adresse_ip: str | None) -> int:
    """Ferme toutes les sessions du compte sauf celle de ce cookie ; rend leur nombre."""
    courante = utilisateur.session_courante

    def operation():
        autres = [s for s in ouvertes(utilisateur) if courante is None or s.id != courante.id]
        instant = maintenant()
        for session in autres:
            session.fermee_le = instant
        nombre = len(autres)
        libelle = f"{nombre} autre{'s' if nombre > 1 else ''} session{'s' if nombre > 1 else ''}"
        _journaliser(utilisateur, NatureEvenementCompte.fermeture_session, libelle, adresse_ip)
        return nombre

    return en_une_transaction(operation)


def purger() -> int:
    """Efface les sessions mortes de tous les comptes (`flask sessions purger`, chaque jour) ; rend leur
    nombre. Les connexions et déconnexions restent au journal des comptes."""

    def operation():
        return db.session.execute(
            delete(SessionUtilisateur).where(morte()).execution_options(synchronize_session="fetch")
        ).rowcount

    return en_une_transaction(operation)


def marquer_second_facteur(utilisateur: Utilisateur) -> None:
    """La double authentification vient d'être activée depuis cette session : elle vaut désormais comme
    ouverte avec le second facteur (elle n'est pas fermée si le second facteur devient obligatoire)."""
    session = utilisateur.session_courante
    if session is None:
        return

    def operation():
        db.session.execute(
            update(SessionUtilisateur)
            .where(SessionUtilisateur.id == session.id)
            .values(second_facteur=True)
            .execution_options(synchronize_session=False)
        )

    en_une_transaction(operation)
    set_committed_value(session, "second_facteur", True)
