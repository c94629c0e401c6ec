"""Une instance de chaque extension, initialisée dans create_app."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as SessionFlask
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Noms de contraintes stables : Alembic les retrouve à l'identique sur SQLite et PostgreSQL.
CONVENTION_NOMMAGE = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=CONVENTION_NOMMAGE)


# Clé de `Session.info` : ce qu'une transaction validée laisse à faire (dauphin.unite_de_travail le remplit)
A_FAIRE_APRES_COMMIT = "dauphin.a_faire_apres_commit"


class Session(SessionFlask):
    """La session de `db`. Après un commit réussi — et seulement alors — elle fait ce que la transaction
    validée a laissé à faire : courriels à envoyer, tâches à lancer (voir `dauphin.unite_de_travail`, qui
    l'y range). Ici plutôt que dans l'événement `after_commit` de SQLAlchemy, où la session ne peut pas
    émettre de SQL, alors qu'une tâche exécutée sur place (sans Redis) s'en sert et valide à son tour."""

    def commit(self) -> None:
        super().commit()
        for action in self.info.pop(A_FAIRE_APRES_COMMIT, ()):
            action()


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class Limiteur(Limiter):
    """Flask-Limiter, sans son examen de chaque requête quand aucune limite ne peut s'y appliquer.

    Avant chaque requête, Flask-Limiter cherche les limites de l'application, par défaut, « méta » et du
    blueprint de la page (0,05 ms par requête) ; les limites posées sur une vue (`@limiter.limit`) sont
    vérifiées par la vue elle-même, et le sont toujours. Le portail n'a que des limites de vues et celles
    du blueprint de l'API : les autres pages n'ont rien à examiner. Ce que lit `_sans_limite` est ce que
    lit `Limiter._check_request_limit` (tests/test_socle_requete.py le compare page par page)."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and callable_name is None and self._sans_limite(request.blueprint):
            return None
        return super()._check_request_limit(callable_name, in_middleware)

    def _sans_limite(self, blueprint: str | None) -> bool:
        gestion = self.limit_manager
        return not (
            self._storage_dead  # limites de secours, en mémoire, le temps que le stockage revienne
            or gestion._application_limits
            or gestion._default_limits
            or self._meta_limits
            or (blueprint and not gestion._blueprint_limits.keys().isdisjoint(blueprint.split(".")))
        )


# Stockage en mémoire par défaut, Redis quand DAUPHIN_REDIS_URL est défini (voir create_app)
limiter = Limiteur(key_func=get_remote_address, default_limits=[], headers_enabled=False)
