"""L'unité de travail : une transaction par cas d'usage, et ce qui n'arrive qu'une fois elle validée.

- `en_une_transaction(operation)` : tout ou rien ; une écriture concurrente devient un `Conflit`.
- `charger_verrouille`, `charger_demande_verrouillee`, `charger_dans_le_dossier`, `charger_ligne_verrouillee`
  et `verifier_version` : relire sous verrou ce qu'on va modifier, et ne jamais écraser ce que l'usager n'a
  pas vu (la version qu'il avait sous les yeux, champ caché du formulaire ; `version_perimee` : la règle,
  que `dauphin.vues` applique aussi avant d'appeler le service) ; `charger_avec` : lire sans verrou un objet
  et ce qu'on lit avec lui.
- `apres_commit(fonction, valeur)` : ce que la transaction en cours laisse à faire après son commit — les
  courriels écrits par `courriels.ecrire`, les tâches de `jobs.planifier`. La session le fait elle-même à
  chaque commit réussi (`extensions.Session.commit`) et l'oublie si la transaction est annulée : aucun
  service n'appelle l'envoi.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound

from dauphin.extensions import A_FAIRE_APRES_COMMIT, Session, db
from dauphin.models import Demande, LigneFinancement, maintenant
from dauphin.services.erreurs import Conflit

journal = logging.getLogger(__name__)


# --- La transaction ------------------------------------------------------------------------------


def en_une_transaction(operation):
    """Tout ou rien : ce qu'écrit `operation`, son journal et ce qu'elle laisse à faire après le commit
    (courriels, tâches) sont validés ensemble, ou rien ne l'est."""
    try:
        resultat = operation()
        db.session.commit()
    except (StaleDataError, IntegrityError) as erreur:
        # Une écriture concurrente est passée entre la lecture et l'écriture (version changée, ligne ou
        # numéro déjà créés) : rien n'est enregistré, l'usager recharge.
        db.session.rollback()
        raise Conflit() from erreur
    except BaseException:
        db.session.rollback()
        raise
    return resultat


# --- Lire ---------------------------------------------------------------------------------------


def charger_avec(modele, cle, *options):
    """L'objet et ce que `options` charge avec lui (`selectinload`…), sans verrou ; 404 s'il n'existe pas."""
    objet = db.session.scalar(select(modele).where(modele.id == cle).options(*options))
    if objet is None:
        raise NotFound()
    return objet


# --- Lire sous verrou ----------------------------------------------------------------------------


def version_perimee(actuelle, lue: int | str | None, *, exigee=False) -> bool:
    """`lue` : la version que l'usager avait sous les yeux (champ caché du formulaire). Vide, il n'y a rien
    à comparer — sauf si elle est `exigee` : l'usager n'a alors vu aucune version, l'objet est plus récent
    que sa page."""
    vide = lue in (None, "")
    return (exigee and vide) or (not vide and str(actuelle) != str(lue))


def verifier_version(objet, version: int | str | None, message: str | None = None, *, exigee=False) -> None:
    """`Conflit` si `version` n'est plus celle de l'objet (voir `version_perimee`)."""
    if version in (None, "") and not exigee:
        return  # rien à comparer ; l'objet peut d'ailleurs n'avoir pas de version (compte, structure)
    if version_perimee(objet.version, version, exigee=exigee):
        raise Conflit(message)


def lire_verrouille(modele, cle, *options):
    """L'objet verrouillé jusqu'au commit et relu (ou None) : la lecture sous verrou de tout modèle versionné.

    Pas `session.get(…, with_for_update=True)` : SQLAlchemy y compare la version d'un objet que la session
    avait déjà (lu par la vue, avant le verrou) à celle de la base, et lève StaleDataError si un autre
    usager a écrit entre-temps — un faux conflit quand cet autre usager a modifié une autre ligne du même
    dossier. Seule compte la version que l'usager avait sous les yeux (`verifier_version`)."""
    (cle_primaire,) = inspect(modele).primary_key  # `id`, ou `code` (thématiques)
    requete = select(modele).where(cle_primaire == cle).with_for_update(of=modele).options(*options)
    return db.session.scalars(requete.execution_options(populate_existing=True)).one_or_none()


def charger_verrouille(modele, cle, version=None, message: str | None = None, *, exigee=False):
    """L'objet, verrouillé jusqu'au commit (FOR UPDATE sur PostgreSQL) et relu même si la session l'avait
    déjà ; 404 s'il n'existe pas ; `Conflit` si sa version n'est plus celle de l'usager."""
    objet = lire_verrouille(modele, cle)
    if objet is None:
        raise NotFound()
    verifier_version(objet, version, message, exigee=exigee)
    return objet


def charger_demande_verrouillee(demande_id: int) -> Demande:
    """La demande, verrouillée jusqu'au commit : toutes les écritures d'un même dossier, lignes comprises,
    passent ainsi l'une après l'autre. Ses lignes de financement sont relues sous ce verrou : celles des
    autres financeurs ont pu changer depuis que la vue les a lues, et les statuts que le dossier en dérive
    (instruit, attribué…) se calculent sur leur état actuel."""
    demande = lire_verrouille(Demande, demande_id, selectinload(Demande.lignes_financement))
    if demande is None:
        raise NotFound()
    # Toute écriture, même d'une seule ligne, réécrit la demande et donc sa version : sur SQLite, qui
    # ignore FOR UPDATE, deux écritures simultanées sur un même dossier se détectent ainsi (conflit).
    demande.modifie_le = maintenant()
    return demande


def charger_dans_le_dossier(modele, cle, version=None, message: str | None = None):
    """Un objet d'un dossier (ligne de financement, demande de report…) : 404 s'il n'existe pas, puis le
    dossier verrouillé, l'objet relu sous ce verrou et sa version contrôlée. Rend (demande, objet)."""
    objet = db.session.get(modele, cle)
    if objet is None:
        raise NotFound()
    demande = charger_demande_verrouillee(objet.demande_id)
    if not isinstance(objet, LigneFinancement):  # les lignes viennent d'être relues avec la demande
        db.session.refresh(objet)
    verifier_version(objet, version, message)
    return demande, objet


def charger_ligne_verrouillee(ligne_id: int, version=None) -> tuple[Demande, LigneFinancement]:
    return charger_dans_le_dossier(LigneFinancement, ligne_id, version)


# --- Après le commit -----------------------------------------------------------------------------

EN_ATTENTE = "dauphin.apres_commit"  # [(fonction, valeur)] confiés par la transaction en cours, dans l'ordre
MARQUES = "dauphin.apres_commit.marques"  # {point de sauvegarde : nombre d'entrées à son ouverture}


def apres_commit(fonction: Callable[[list], object], valeur) -> None:
    """Confie `valeur` à `fonction` : après le commit de la transaction en cours, `fonction` est appelée une
    fois, avec la liste de toutes les valeurs qui lui ont été confiées (tous les courriels d'une transaction
    partent ainsi par une seule tâche). Si la transaction est annulée, rien n'est appelé."""
    session = db.session()
    if not isinstance(session, Session):
        # Une session d'une autre classe (montée à la main par un test…) ne ferait jamais rien partir.
        raise TypeError("La session de db doit être une dauphin.extensions.Session.")
    if not session.in_transaction():
        session.begin()  # ce qui est confié appartient à la transaction qui commence
    session.info.setdefault(EN_ATTENTE, []).append((fonction, valeur))


def _faire(session: Session, fonction: Callable[[list], object], valeurs: list) -> None:
    try:
        fonction(valeurs)
    except Exception:
        # Ce qui est validé le reste : l'échec est journalisé, ce que la fonction avait commencé d'écrire
        # est annulé (la session resservira), et les reprises (`flask courriels envoyer`…) rattraperont.
        journal.exception("Après le commit, %s a échoué", getattr(fonction, "__qualname__", fonction))
        session.rollback()


@event.listens_for(Session, "after_commit")
def _valider(session: Session) -> None:
    """La transaction est validée : ce qu'elle a confié passe à `Session.commit`, qui le fera en sortant.
    Rien n'est appelé ici (la session ne peut plus émettre de SQL)."""
    if session.in_nested_transaction():
        return  # un point de sauvegarde relâché : ce qu'il a confié reste à la transaction qui l'englobe
    groupes: dict[Callable, list] = {}
    for fonction, valeur in session.info.pop(EN_ATTENTE, ()):
        groupes.setdefault(fonction, []).append(valeur)
    session.info.setdefault(A_FAIRE_APRES_COMMIT, []).extend(
        partial(_faire, session, fonction, valeurs) for fonction, valeurs in groupes.items()
    )


@event.listens_for(Session, "after_transaction_end")
def _oublier(session: Session, transaction) -> None:
    """Fin de la transaction sans commit (annulée, ou session fermée) : ce qu'elle avait confié est oublié.
    Après un commit, `_valider` a déjà tout pris."""
    if transaction.parent is None:
        session.info.pop(EN_ATTENTE, None)
        session.info.pop(MARQUES, None)


@event.listens_for(Session, "after_transaction_create")
def _marquer(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(MARQUES, {})[transaction] = len(session.info.get(EN_ATTENTE, ()))


@event.listens_for(Session, "after_soft_rollback")
def _annuler_point_de_sauvegarde(session: Session, transaction) -> None:
    """Un point de sauvegarde annulé (`begin_nested`) : seul ce qu'il avait confié est oublié."""
    if transaction.nested:
        marque = session.info.get(MARQUES, {}).pop(transaction, None)
        if marque is not None:
            del session.info.get(EN_ATTENTE, [])[marque:]
