"""Les connexions du portail à PostgreSQL : vérifiées sans aller-retour, et leurs ordres préparés gardés.

Deux coûts payés à chaque requête jusqu'ici, mesurés par `python -m bench.allers_retours` :

- **Le ping du pool** (`pool_pre_ping`) : un `SELECT 1` envoyé à chaque sortie d'une connexion du pool,
  pour qu'une base redémarrée (ou une connexion coupée par `pg_terminate_backend`, une bascule) ne coûte
  pas d'erreur à l'usager. Or un serveur qui ferme une connexion l'annonce : il envoie son message
  d'adieu (FATAL 57P01) puis ferme la socket, qui devient lisible. Une connexion au repos n'a rien à lire ;
  à la sortie du pool on regarde donc la socket (`poll`, sans attente, sans aller-retour). Rien à lire :
  la connexion sert telle quelle. Quelque chose à lire : psycopg le consomme ; connexion morte →
  `DisconnectionError`, et le pool en ouvre une neuve (comme le ping, voir « Dealing with Disconnects »
  dans la documentation de SQLAlchemy) ; sinon (une notification du serveur) le vrai ping tranche. Une
  connexion restée au repos plus de `REPOS_AVANT_PING` secondes passe aussi par le vrai ping : une coupure
  silencieuse du réseau (pare-feu, machine arrêtée net) ne s'annonce pas.

- **Le planificateur de PostgreSQL** : psycopg prépare un ordre vu cinq fois sur une connexion, puis ne
  l'envoie plus qu'à exécuter ; PostgreSQL lui garde alors un plan générique s'il n'est pas plus cher.
  Mais les pages de lecture n'en profitaient jamais (voir ci-dessous) : l'ordre qui charge la session et
  le compte, le même à chaque page, était planifié à chaque page (0,42 ms à 250 000 demandes, pour 0,07 ms
  d'exécution). Il est marqué `.execution_options(**PREPARE)` : préparé dès sa première exécution.
  Une recherche plein texte (`@@`, `dauphin_structures_par_morceau`) n'est jamais préparée : un plan
  générique ne voit ni le mot cherché (fréquent ou rare) ni l'onglet, et ne peut plus choisir l'index GIN
  partiel de l'onglet (migration 0030) ; mesuré à 25 000 demandes, le décompte des onglets d'une recherche
  « jeunes » du plus gros financeur passe de 8 à 27 ms en plan générique.

  psycopg oublie ses ordres préparés à chaque ROLLBACK (`Connection.rollback`, une transaction annulée a
  pu modifier le schéma) et envoie alors un DEALLOCATE ALL ; or chaque requête de lecture se terminait par
  un ROLLBACK (fermeture de la session de SQLAlchemy). Une transaction qui n'a exécuté que des SELECT n'a
  rien écrit : la valider ou l'annuler revient au même pour la base (mêmes verrous relâchés, rien d'écrit).
  Elle est donc validée (COMMIT) au lieu d'être annulée, et psycopg garde ses ordres préparés. Dès qu'un
  autre ordre qu'un SELECT (ou qu'un WITH qui ne fait que lire, `_lecture`) passe par SQLAlchemy (INSERT,
  UPDATE, DELETE, SAVEPOINT, et SET, qui n'écrit rien mais qu'un COMMIT garderait sur la connexion),
  l'annulation reste une vraie annulation ; une transaction en
  erreur aussi. Et ce que SQLAlchemy ne voit pas (un COPY par le pilote, une fonction qui écrit, un verrou de
  ligne) : avant de valider, on demande à PostgreSQL si la transaction a reçu un numéro, ce que fait toute
  écriture (`pg_current_xact_id_if_assigned()`) ; si oui, elle est annulée. Les deux contrôles se complètent.

- **La description du résultat** : `cursor.description` construit un objet `Column` par colonne (nom
  décodé, type cherché), une dizaine d'appels Python chacun, à chaque ordre ; SQLAlchemy ne la lit pourtant
  que la première fois qu'il exécute un ordre compilé (il garde ensuite ce qu'il en a tiré avec l'ordre) et
  ne regarde ensuite que si elle existe. Le curseur du portail (`Curseur`) la rend paresseuse : la même
  liste, construite au premier accès à une colonne, pour le résultat d'alors (250 colonnes par vue d'un
  dossier, 50 pour le chargement de la session : 2 000 et 400 appels de moins).

Sur SQLite, rien de cela : pas de réseau ni d'ordres préparés côté serveur, le ping du pool y reste.
Derrière PgBouncer en mode transaction, les ordres préparés demandent PgBouncer 1.22 ou plus
(`max_prepared_statements`) ; sinon, `DAUPHIN_DATABASE_PREPARED=0` (voir docs/production.md).
"""

from __future__ import annotations

import contextlib
import re
import select
import time
from collections.abc import Sequence

import psycopg
from psycopg import pq
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

# Au-delà, une connexion sortie du pool est vérifiée par un vrai aller-retour (SELECT 1).
REPOS_AVANT_PING = 60.0

# Un ordre à préparer dès sa première exécution : `select(…).execution_options(**PREPARE)`.
PREPARE = {"dauphin_prepare": True}


# Les ordres dont le meilleur plan dépend des valeurs cherchées : jamais préparés (voir plus haut).
# Deux recherches de sous-chaîne (la recherche rapide des chaînes) et non une expression régulière en
# alternative, qui lisait les ordres caractère par caractère : un demi-million d'instructions par vue d'un
# dossier, pour ses neuf ordres (plusieurs kilo-octets de SQL).
def _JAMAIS_PREPARE(ordre: str) -> bool:
    return "@@" in ordre or "dauphin_structures_par_morceau" in ordre


_ECRITURE = "dauphin.transaction_ecrit"
_SANS_ECRITURE = "SELECT pg_current_xact_id_if_assigned() IS NULL"
_RENDUE_LE = "dauphin.rendue_le"


def brancher(engine: Engine, config) -> None:
    """Ce que le portail branche sur tout moteur de sa base (application, bases des tests) : sur
    PostgreSQL, `configurer_postgresql` ; rien sur SQLite (le ping du pool y reste)."""
    if engine.dialect.name == "postgresql":
        configurer_postgresql(engine, ordres_prepares=config["PG_ORDRES_PREPARES"])


def configurer_postgresql(engine: Engine, ordres_prepares: bool = True) -> None:
    """Branche sur `engine` (PostgreSQL par psycopg, sans `pool_pre_ping`) la vérification des connexions
    à leur sortie du pool et, si `ordres_prepares`, la validation des transactions de lecture."""
    event.listen(engine, "connect", _curseur_du_portail)
    event.listen(engine, "checkout", _verifier_a_la_sortie)
    event.listen(engine, "checkin", _noter_le_retour)
    if not ordres_prepares:
        event.listen(engine, "connect", _sans_ordres_prepares)
        return
    event.listen(engine, "do_execute", _executer)
    event.listen(engine, "begin", _debut)
    event.listen(engine, "before_cursor_execute", _noter_ecriture)
    event.listen(engine, "rollback", _valider_si_lecture)


# Les résultats qui ont une description (psycopg, `BaseCursor.description`).
_AVEC_LIGNES = frozenset(
    (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, getattr(pq.ExecStatus, "TUPLES_CHUNK", -1))
)


class _Resultat:
    """Ce que `psycopg.Column` lit d'un curseur, figé sur un résultat : une description gardée décrit le
    résultat pour lequel elle a été demandée, même si le curseur en a reçu un autre depuis."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, curseur: psycopg.Cursor, resultat) -> None:
        self.pgresult, self._encoding, self.adapters = resultat, curseur._encoding, curseur.adapters


class DescriptionParesseuse(Sequence):
    """`cursor.description` (une liste de `psycopg.Column`), construite au premier accès à ses colonnes."""

    __slots__ = ("_colonnes", "_curseur", "_resultat")

    def __init__(self, curseur: psycopg.Cursor, resultat) -> None:
        self._curseur, self._resultat, self._colonnes = curseur, resultat, None

    def _liste(self) -> list[psycopg.Column]:
        if self._colonnes is None:
            source = _Resultat(self._curseur, self._resultat)
            self._colonnes = [psycopg.Column(source, i) for i in range(self._resultat.nfields)]
            self._curseur = None
        return self._colonnes

    def __len__(self) -> int:
        return self._resultat.nfields

    def __getitem__(self, indice):
        return self._liste()[indice]

    def __iter__(self):
        return iter(self._liste())

    def __repr__(self) -> str:
        return repr(self._liste())


class Curseur(psycopg.Cursor):
    """Le curseur des connexions du portail : celui de psycopg, à la description paresseuse."""

    @property
    def description(self):
        resultat = self.pgresult
        if resultat and (resultat.nfields or resultat.status in _AVEC_LIGNES):
            return DescriptionParesseuse(self, resultat)
        return None


def _curseur_du_portail(dbapi_connection, _record) -> None:
    if dbapi_connection.cursor_factory is psycopg.Cursor:  # pas un curseur choisi par ailleurs
        dbapi_connection.cursor_factory = Curseur


def _sans_ordres_prepares(dbapi_connection, _record) -> None:
    dbapi_connection.prepare_threshold = None


def _executer(cursor, statement, parameters, context) -> bool:
    if isinstance(cursor, psycopg.ServerCursor):
        return False  # curseur côté serveur (yield_per) : DECLARE, jamais préparé, pas d'argument `prepare`
    if _JAMAIS_PREPARE(statement):
        cursor.execute(statement, parameters, prepare=False)
        return True
    if context is not None and context.execution_options.get("dauphin_prepare"):
        cursor.execute(statement, parameters, prepare=True)
        return True
    return False  # psycopg décide : préparé à sa sixième exécution sur la connexion


def _noter_le_retour(_dbapi_connection, record) -> None:
    record.info[_RENDUE_LE] = time.monotonic()


def _verifier_a_la_sortie(dbapi_connection, record, _proxy) -> None:
    pgconn = dbapi_connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        raise exc.DisconnectionError("connexion PostgreSQL fermée")
    rendue_le = record.info.get(_RENDUE_LE)  # None : connexion neuve, jamais rendue au pool
    if rendue_le is not None and time.monotonic() - rendue_le > REPOS_AVANT_PING:
        _ping(dbapi_connection)
        return
    # poll et non select : select refuse un descripteur au-delà de 1 023 (processus aux nombreux fichiers).
    sonde = select.poll()
    sonde.register(pgconn.socket, select.POLLIN)
    if not sonde.poll(0):
        return
    try:
        pgconn.consume_input()
    except Exception as erreur:  # psycopg.OperationalError : le serveur a fermé la connexion
        raise exc.DisconnectionError("connexion PostgreSQL fermée par le serveur") from erreur
    if pgconn.status != pq.ConnStatus.OK:
        raise exc.DisconnectionError("connexion PostgreSQL fermée par le serveur")
    _ping(dbapi_connection)


def _ping(dbapi_connection) -> None:
    """Un SELECT 1 hors transaction (autocommit, comme le ping de SQLAlchemy) : la connexion sort du pool
    sans transaction ouverte, et un changement d'isolation reste possible."""
    try:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as curseur:
                curseur.execute("SELECT 1")
        finally:
            dbapi_connection.autocommit = autocommit
    except Exception as erreur:
        raise exc.DisconnectionError("connexion PostgreSQL injoignable") from erreur


def _debut(conn) -> None:
    conn.info[_ECRITURE] = False


def _noter_ecriture(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if not _lecture(statement):
        conn.info[_ECRITURE] = True


# Un ordre qui commence par WITH écrit s'il porte un INSERT, UPDATE, DELETE ou MERGE dans l'une de ses
# parties ; le mot cherché partout (même dans un texte entre apostrophes) : au pire, une vraie annulation.
_ECRIT = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE).search


def _lecture(statement: str) -> bool:
    """Un SELECT, ou une requête WITH qui ne fait que lire (les listes de filtres de l'espace d'instruction,
    `services.instruction._options`) : prise pour une écriture, elle faisait annuler la transaction de
    chaque page de l'espace, et psycopg oubliait tous ses ordres préparés (DEALLOCATE ALL), replanifiés à
    la page suivante. Une écriture que ce tri laisserait passer est vue par `_SANS_ECRITURE`."""
    debut = statement.lstrip()[:6].upper()
    return debut == "SELECT" or (debut[:4] == "WITH" and not _ECRIT(statement))


def _valider_si_lecture(conn) -> None:
    """Appelée par SQLAlchemy juste avant d'annuler la transaction de `conn` : si elle n'a fait que lire,
    elle est validée ici, et l'annulation qui suit n'a plus rien à faire (psycopg n'envoie pas de ROLLBACK
    hors transaction, et ne vide donc pas son cache d'ordres préparés)."""
    if conn.info.pop(_ECRITURE, True) or conn.closed or conn.invalidated:
        return
    brute = conn.connection.dbapi_connection
    if brute is None or brute.pgconn.transaction_status != pq.TransactionStatus.INTRANS:
        return  # hors transaction, ou transaction en erreur : l'annulation fait ce qu'il faut
    # Ce que SQLAlchemy n'a pas vu passer (un COPY par le pilote, une fonction qui écrit, un verrou de
    # ligne) a fait attribuer un numéro de transaction : la base seule sait si rien n'a été écrit.
    # Connexion perdue : l'annulation qui suit échoue à son tour, et SQLAlchemy invalide la connexion.
    with contextlib.suppress(Exception), brute.cursor() as curseur:
        curseur.execute(_SANS_ECRITURE)
        if curseur.fetchone()[0]:
            brute.commit()
