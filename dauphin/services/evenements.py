"""Le flux des changements : chaque ligne du journal, dans l'ordre où elle a été validée, décrite de la même
façon pour l'API (`GET /api/v1/evenements`) et pour les webhooks (`dauphin.services.webhooks`).

Ordre et curseur. Les identifiants du journal sont pris à l'insertion ; sur PostgreSQL, une transaction
qui a pris l'identifiant 100 peut valider après celle qui a pris 101 (une clôture de comité plus longue
qu'une prise en charge) : un lecteur passé entre les deux commits, s'il avançait par identifiant,
sauterait 100 pour toujours. Chaque transaction qui écrit au journal prend donc, juste avant son commit,
des *rangs* à un compteur d'une ligne (`compteur_flux`) qu'elle garde verrouillé jusqu'au commit : la
suivante n'a les siens qu'une fois la première validée. Les rangs validés forment ainsi toujours un
préfixe sans trou, dans l'ordre des commits ; le curseur est le dernier rang lu. Le verrou n'est tenu que
le temps du commit (la dernière instruction de la transaction) : pas d'attente croisée avec les verrous des
dossiers.

Portée. Un événement se voit si son dossier se voit (`policies.VOIR_DEMANDE`, la règle des écrans et de
l'API, appliquée au moment de la lecture) et s'il a été validé après la transmission du dossier : le travail
du porteur sur son brouillon n'entre jamais dans le flux des organisations.
"""

from __future__ import annotations

from flask import has_app_context
from sqlalchemy import event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.util import identity_key

from dauphin import libelles
from dauphin.extensions import Session, db
from dauphin.models import (
    CompteurFlux,
    Demande,
    EvenementJournal,
    LigneFinancement,
    Organisation,
    PositionFlux,
)
from dauphin.policies import VOIR_DEMANDE
from dauphin.services import curseurs

LIMITE_DEFAUT = 100
LIMITE_MAX = 500
NOUVEAUX = "dauphin.journal.nouveaux"  # les lignes du journal ajoutées par la transaction en cours


class CurseurInvalide(ValueError):
    pass


# --- Le rang de validation, pris au commit --------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _retenir(session, contexte) -> None:
    nouveaux = [objet for objet in session.new if isinstance(objet, EvenementJournal)]
    if nouveaux:
        session.info.setdefault(NOUVEAUX, []).extend(nouveaux)


@event.listens_for(Session, "after_transaction_end")
def _oublier(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(NOUVEAUX, None)


@event.listens_for(Session, "before_commit")
def _ranger(session) -> None:
    """Juste avant le commit : un rang à chaque ligne du journal que la transaction a écrite."""
    if session.in_nested_transaction():
        return  # un point de sauvegarde relâché : la transaction qui l'englobe s'en chargera
    session.flush()
    # Une ligne écrite dans un point de sauvegarde annulé n'est plus dans la session (ni en base).
    nouveaux = [e for e in session.info.pop(NOUVEAUX, ()) if e in session and e.id is not None]
    if not nouveaux:
        return
    nouveaux.sort(key=lambda e: e.id)
    numeros = _numeros(session, {e.demande_id for e in nouveaux})
    dernier = _prendre_des_rangs(session, len(nouveaux))
    premier = dernier - len(nouveaux) + 1
    session.add_all(
        PositionFlux(
            position=premier + rang,
            journal_id=evenement.id,
            transmise=numeros.get(evenement.demande_id) is not None,
        )
        for rang, evenement in enumerate(nouveaux)
    )
    # Une session montée à part (ou hors de l'application) : la reprise périodique s'en chargera.
    if has_app_context() and session is db.session():
        from dauphin import jobs  # ici : jobs importe l'unité de travail, qui importe les modèles

        jobs.planifier("dauphin.taches.webhooks")  # après le commit : distribuer et livrer


def _numeros(session, demandes: set[int]) -> dict[int, str | None]:
    """Le numéro de chaque dossier, tel que la transaction va le valider : celui de la demande que la
    session tient déjà (la session vient d'écrire ce qu'elle avait changé), sinon lu en base."""
    numeros = {}
    for demande_id in demandes:
        demande = session.identity_map.get(identity_key(Demande, demande_id))
        if demande is not None and "numero" in demande.__dict__:  # chargé, ni expiré ni jamais lu
            numeros[demande_id] = demande.numero
    manquants = demandes - numeros.keys()
    if manquants:
        numeros.update(
            session.execute(select(Demande.id, Demande.numero).where(Demande.id.in_(manquants))).all()
        )
    return numeros


def _prendre_des_rangs(session, nombre: int) -> int:
    """Réserve `nombre` rangs au compteur (verrouillé jusqu'au commit) ; rend le dernier. La ligne du
    compteur est créée si elle manque (base vidée)."""
    dialecte = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = CompteurFlux.__table__
    requete = (
        dialecte.insert(table)
        .values(id=1, dernier=nombre)
        .on_conflict_do_update(index_elements=[table.c.id], set_={"dernier": table.c.dernier + nombre})
        .returning(table.c.dernier)
    )
    return session.execute(requete).scalar_one()


def ranger_les_oublies() -> int:
    """Donne un rang aux lignes du journal qui n'en ont pas : celles qu'un chargement en masse a écrites
    sans passer par la session (`flask seed scale`). Une ligne validée par l'application a toujours le
    sien (pris dans sa transaction) : celles-ci ne peuvent donc pas être d'une transaction en cours. Comme
    la migration 0024 : hors du flux des organisations, ce qui précède la première attestation."""
    nombre = db.session.scalar(
        select(func.count())
        .select_from(EvenementJournal)
        .outerjoin(PositionFlux, PositionFlux.journal_id == EvenementJournal.id)
        .where(PositionFlux.journal_id.is_(None))
    )
    if not nombre:
        return 0
    premier = _prendre_des_rangs(db.session, nombre) - nombre  # le compteur reste verrouillé jusqu'au commit
    db.session.execute(
        text(
            """
            INSERT INTO flux_evenement (position, journal_id, transmise)
            SELECT :premier + row_number() OVER (ORDER BY j.id), j.id,
                   CASE WHEN d.numero IS NOT NULL AND j.id >= (
                       SELECT min(a.id) FROM journal a
                       WHERE a.demande_id = j.demande_id AND a.declencheur = 'attester'
                   ) THEN true ELSE false END
            FROM journal j
            JOIN demande d ON d.id = j.demande_id
            LEFT JOIN flux_evenement f ON f.journal_id = j.id
            WHERE f.journal_id IS NULL
            """
        ),
        {"premier": premier},
    )
    db.session.commit()
    return nombre


# --- Le curseur ----------------------------------------------------------------------------------


def curseur(position: int) -> str:
    """Opaque pour le partenaire : il le renvoie tel quel."""
    return curseurs.emballer({"v": 1, "p": position})


def position_du_curseur(valeur: str | None) -> int:
    if not valeur:
        return 0
    donnees = curseurs.deballer(valeur)
    position = donnees.get("p") if isinstance(donnees, dict) else None
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < 2**63:
        raise CurseurInvalide("Curseur illisible : renvoyez la valeur « curseur » d’une réponse.")
    return position


def dernier_rang() -> int:
    """Le dernier rang validé : tous ceux qui le précèdent le sont aussi (voir le haut du module)."""
    return db.session.scalar(select(func.coalesce(func.max(PositionFlux.position), 0)))


# --- Lire le flux ---------------------------------------------------------------------------------


def lire(qui, apres: int, limite: int = LIMITE_DEFAUT) -> tuple[list[dict], int, bool]:
    """Les événements que `qui` (jeton, compte, acteur) voit, après le rang `apres`, au plus `limite`.

    Rend (événements, rang à reprendre, suite) : `suite` dit s'il en reste déjà d'autres. Le rang à
    reprendre avance aussi sur ce que `qui` ne voit pas : une organisation qui ne voit rien ne relit pas
    tout le journal à chaque passage."""
    # La borne d'abord : ce qui sera validé pendant la lecture viendra au passage suivant, en entier.
    borne = dernier_rang()
    lignes = db.session.execute(
        _requete()
        .where(
            PositionFlux.position > apres,
            PositionFlux.position <= borne,
            PositionFlux.transmise,
            VOIR_DEMANDE.portee(qui),
        )
        .order_by(PositionFlux.position)
        .limit(limite + 1)
    ).all()
    suite = len(lignes) > limite
    lignes = lignes[:limite]
    reprise = lignes[-1].position if suite else max(borne, apres)
    return [decrire(*ligne) for ligne in lignes], reprise, suite


# Alias : la portée (VOIR_INSTRUCTION) corrèle ses propres sous-requêtes sur LigneFinancement et Organisation.
Financeur = aliased(Organisation)
LigneDeLEvenement = aliased(LigneFinancement)


def _requete():
    return (
        select(PositionFlux.position, EvenementJournal, Demande.numero, Financeur.id, Financeur.nom)
        .join(EvenementJournal, EvenementJournal.id == PositionFlux.journal_id)
        .join(Demande, Demande.id == EvenementJournal.demande_id)
        .outerjoin(LigneDeLEvenement, LigneDeLEvenement.id == EvenementJournal.ligne_id)
        .outerjoin(Financeur, Financeur.id == LigneDeLEvenement.organisation_id)
        .options(
            selectinload(EvenementJournal.acteur),
            selectinload(EvenementJournal.organisation),
            selectinload(EvenementJournal.jeton),
        )
    )


def evenement(journal_id: int) -> dict | None:
    """Un événement par l'identifiant de sa ligne de journal (le corps d'un webhook)."""
    ligne = db.session.execute(_requete().where(EvenementJournal.id == journal_id)).first()
    return decrire(*ligne) if ligne is not None else None


def decrire(position, evenement: EvenementJournal, numero, financeur_id, financeur_nom) -> dict:
    """Une ligne du journal en événement du flux : la même forme dans l'API et dans les webhooks."""
    sujet = "ligne" if evenement.ligne_id is not None else "demande"
    return {
        "id": evenement.id,
        "type": f"{sujet}.{evenement.declencheur}",
        "action": libelles.action(evenement.declencheur),
        "date": evenement.horodatage.isoformat().replace("+00:00", "Z"),
        "demande": {"id": evenement.demande_id, "numero": numero},
        "ligne": (
            {"id": evenement.ligne_id, "financeur": {"id": financeur_id, "nom": financeur_nom}}
            if evenement.ligne_id is not None
            else None
        ),
        "statut_avant": evenement.statut_avant,
        "statut_apres": evenement.statut_apres,
        "acteur": {
            "role": evenement.role,
            "nom": evenement.acteur.nom_complet if evenement.acteur is not None else None,
            "organisation": (
                {"id": evenement.organisation.id, "nom": evenement.organisation.nom}
                if evenement.organisation is not None
                else None
            ),
            "jeton": (
                {"id": evenement.jeton.id, "libelle": evenement.jeton.libelle}
                if evenement.jeton is not None
                else None
            ),
        },
        "commentaire": evenement.commentaire,
    }
