"""Configuration, lue dans les variables d'environnement DAUPHIN_* (voir README, « Configuration »).

DAUPHIN_ENV choisit la classe : development (défaut), test ou production.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

RACINE = Path(__file__).resolve().parent
SECRET_PAR_DEFAUT = "changez-moi"


def _env(nom: str, defaut: str | None = None) -> str | None:
    valeur = os.environ.get(f"DAUPHIN_{nom}")
    return valeur if valeur not in (None, "") else defaut


def _env_bool(nom: str, defaut: bool) -> bool:
    valeur = _env(nom)
    return defaut if valeur is None else valeur.lower() in ("1", "true", "oui", "yes", "on")


def _env_int(nom: str, defaut: int) -> int:
    valeur = _env(nom)
    if valeur is None:
        return defaut
    try:
        return int(valeur)
    except ValueError:
        message = f"DAUPHIN_{nom} doit être un nombre entier (reçu : « {valeur} »)."
        raise ConfigurationInvalide(message) from None


def url_de_base(url: str) -> str:
    """L'URL de la base telle que la donnent les hébergeurs (`postgres://…`, `postgresql://…`), menée au
    pilote installé : psycopg 3 (SQLAlchemy choisirait psycopg2, absent). Les autres URL restent telles
    quelles."""
    for prefixe in ("postgres://", "postgresql://"):
        if url.startswith(prefixe):
            return "postgresql+psycopg://" + url.removeprefix(prefixe)
    return url


def dossier_instance() -> Path:
    return Path(_env("INSTANCE_PATH", str(RACINE / "instance")))


def _cle_secrete_de_developpement(instance: Path) -> str:
    """Générée au premier lancement et gardée dans instance/ : les sessions survivent au redémarrage."""
    fichier = instance / "secret_key"
    if fichier.exists():
        return fichier.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    cle = secrets.token_hex(32)
    fichier.write_text(cle)
    fichier.chmod(0o600)
    return cle


class ConfigurationInvalide(RuntimeError):
    pass


class Config:
    ENV_NAME = "development"
    TESTING = False

    def __init__(self):
        instance = dossier_instance()
        self.INSTANCE_PATH = str(instance)
        self.SQLALCHEMY_DATABASE_URI = url_de_base(
            _env("DATABASE_URL", f"sqlite:///{instance / 'dauphin.sqlite3'}")
        )
        # Requête parallèle de PostgreSQL : 0 (défaut) la coupe pour les connexions du portail. Sur un petit
        # serveur chargé, lancer des processus pour une liste de 25 lignes coûte plus qu'il ne rapporte
        # (mesuré sur le banc : 9 ms → 2 ms pour la page d'un gros financeur, README « Mesures »).
        self.PG_PARALLEL_WORKERS = _env_int("DATABASE_PARALLEL_WORKERS", 0)
        # 0 : aucun réglage envoyé à l'ouverture des connexions (PgBouncer refuse le paramètre `options`
        # sans `ignore_startup_parameters = options` ; régler alors le rôle : ALTER ROLE … SET jit = off).
        self.PG_REGLAGES_DE_SESSION = _env_bool("DATABASE_SESSION_SETTINGS", True)
        # 0 : psycopg ne prépare aucun ordre (PgBouncer en mode transaction avant sa version 1.22).
        self.PG_ORDRES_PREPARES = _env_bool("DATABASE_PREPARED", True)
        self.SECRET_KEY = _env("SECRET_KEY") or self.cle_secrete_par_defaut(instance)
        self.REDIS_URL = _env("REDIS_URL")  # vide : tâches exécutées sur place, limites en mémoire
        # Sans Redis, les tâches lancées par une requête partent dans un fil du processus (dauphin.jobs).
        self.TACHES_APRES_LA_REPONSE = True
        # Courriel : sans serveur SMTP, les messages sont écrits dans la console et dans instance/outbox/
        self.MAIL_SERVER = _env("MAIL_SERVER")
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USERNAME = _env("MAIL_USERNAME")
        self.MAIL_PASSWORD = _env("MAIL_PASSWORD")
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_SENDER = _env("MAIL_SENDER", "Dauphin <ne-pas-repondre@dauphin.localhost>")
        self.MAIL_OUTBOX_DIR = _env("MAIL_OUTBOX_DIR", str(instance / "outbox"))
        self.UPLOAD_FOLDER = _env("UPLOAD_FOLDER", str(instance / "documents"))
        # Stockage des fichiers (dauphin/stockage.py) : vide = dossier d'instance (pièces sous UPLOAD_FOLDER),
        # file:///chemin ou s3://seau/prefixe (plusieurs serveurs d'application : docs/production.md).
        self.STORAGE_URL = _env("STORAGE_URL")
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # vide : AWS ; sinon l'adresse du fournisseur
        self.S3_REGION = _env("S3_REGION")
        self.S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")  # vides : chaîne habituelle de boto3 (AWS_*)
        self.S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
        self._verifier_stockage()
        # Journaux : text (défaut) ou json (une ligne JSON par message, avec l'identifiant de la requête)
        self.LOG_FORMAT = _env("LOG_FORMAT", "text")
        if self.LOG_FORMAT not in ("text", "json"):
            raise ConfigurationInvalide(
                f"DAUPHIN_LOG_FORMAT doit valoir text ou json (reçu : « {self.LOG_FORMAT} »)."
            )
        self.MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 10) * 1024 * 1024
        self.BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
        # Adresse publiée dans la déclaration d'accessibilité pour signaler un défaut
        self.CONTACT_ACCESSIBILITE = _env("CONTACT_ACCESSIBILITE", "accessibilite@dauphin.localhost")
        self.PROXY_FIX = _env_int("PROXY_FIX", 0)  # nombre de mandataires inverses devant l'application
        self.DSFR_DIST = _env("DSFR_DIST", str(RACINE / "node_modules" / "@gouvfr" / "dsfr" / "dist"))
        self.BABEL_DEFAULT_LOCALE = "fr"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
        self.PAGE_TAILLE = _env_int("PAGE_SIZE", 25)
        # Requêtes permises par jeton de l'API (syntaxe Flask-Limiter : « 300/minute », « 10/second »)
        self.API_LIMITE = _env("API_RATE_LIMIT", "300/minute")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.PASSWORD_HASH_METHOD = "scrypt"
        # Durée de validité du lien « mot de passe oublié » (en minutes) ; il ne sert en outre qu'une fois
        self.REINITIALISATION_MINUTES = _env_int("PASSWORD_RESET_MINUTES", 60)
        if self.REINITIALISATION_MINUTES < 5:  # un lien plus court n'arriverait jamais à temps
            raise ConfigurationInvalide("DAUPHIN_PASSWORD_RESET_MINUTES doit valoir au moins 5 (minutes).")
        # Trace des lectures (dossiers, documents, exports consultés) : effacée au-delà de ce nombre de jours
        self.DUREE_TRACE_LECTURES_JOURS = _env_int("READ_TRACE_DAYS", 365)
        if self.DUREE_TRACE_LECTURES_JOURS < 1:
            raise ConfigurationInvalide("DAUPHIN_READ_TRACE_DAYS doit valoir au moins 1 (jour).")
        # Délai d'inactivité (minutes) après lequel une session se ferme : comptes des organisations et de
        # l'administration (financeurs, partenaires, pilotes, administration nationale), et comptes des
        # seuls porteurs. Un avertissement s'affiche deux minutes avant (static/js/session.js).
        self.SESSION_INACTIVITE_AGENTS = _env_int("SESSION_IDLE_MINUTES_STAFF", 30)
        self.SESSION_INACTIVITE_PORTEURS = _env_int("SESSION_IDLE_MINUTES_APPLICANT", 12 * 60)
        for variable, minutes in (
            ("SESSION_IDLE_MINUTES_STAFF", self.SESSION_INACTIVITE_AGENTS),
            ("SESSION_IDLE_MINUTES_APPLICANT", self.SESSION_INACTIVITE_PORTEURS),
        ):
            if not 5 <= minutes <= 7 * 24 * 60:  # l'avertissement vient deux minutes avant la fin
                raise ConfigurationInvalide(
                    f"DAUPHIN_{variable} doit valoir entre 5 et 10080 (minutes d'inactivité)."
                )
        # Le jeton CSRF vit avec la session : pas de formulaire perdu après une longue pause.
        self.WTF_CSRF_TIME_LIMIT = None
        # Banc HTTP (`make bench`) : en-tête X-Requetes-SQL et route témoin (dauphin/mesures.py)
        self.BENCH_MESURES = _env_bool("BENCH", False)
        # Webhooks : adresses en http:// permises pour 127.0.0.1, localhost et ::1 (développement, tests) ;
        # jamais en production, où seules les adresses https:// publiques sont acceptées.
        self.WEBHOOKS_HTTP_LOCAL = self.ENV_NAME in ("development", "test")

    def cle_secrete_par_defaut(self, instance: Path) -> str:
        return _cle_secrete_de_developpement(instance)

    def _verifier_stockage(self) -> None:
        from dauphin.stockage import UrlDeStockageInvalide, depuis_url

        if self.STORAGE_URL:
            try:
                depuis_url(self.STORAGE_URL)
            except UrlDeStockageInvalide as erreur:
                raise ConfigurationInvalide(str(erreur)) from None
        if bool(self.S3_ACCESS_KEY_ID) != bool(self.S3_SECRET_ACCESS_KEY):
            raise ConfigurationInvalide(
                "DAUPHIN_S3_ACCESS_KEY_ID et DAUPHIN_S3_SECRET_ACCESS_KEY vont ensemble : donnez les deux "
                "ou aucun (boto3 prend alors AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY)."
            )

    def options_moteur(self) -> dict:
        """SQLALCHEMY_ENGINE_OPTIONS, selon la base choisie (lue par `dauphin.create_app`)."""
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # Connexions vérifiées sans aller-retour à leur sortie du pool (dauphin.connexions), et non
            # par le SELECT 1 de `pool_pre_ping` à chaque requête.
            options: dict = {}
        else:
            options = {"pool_pre_ping": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql") and self.PG_REGLAGES_DE_SESSION:
            # Et pas de compilation JIT : ses 5 ms se paient à chaque exécution d'un décompte que
            # l'estimation du planificateur croit coûteux (voir README, « Mesures »). Une page lue au hasard
            # coûte 1,1 page lue à la suite (et non 4, le défaut fait pour les disques à plateaux) : la base
            # est en mémoire, et le planificateur lisait et hachait toute la table des organisations (1 580
            # rangées, 0,3 à 0,6 ms) au lieu de chercher par sa clé les quelques financeurs d'une page (lignes
            # de budget d'un dossier, lignes du tableau de bord du porteur). Les `options` déjà données dans
            # l'URL (search_path, statement_timeout…) sont gardées, les nôtres s'y ajoutent.
            dans_l_url = make_url(self.SQLALCHEMY_DATABASE_URI).query.get("options", "")
            reglages = (
                f"-c max_parallel_workers_per_gather={self.PG_PARALLEL_WORKERS} -c jit=off"
                " -c random_page_cost=1.1"
            )
            options["connect_args"] = {"options": f"{dans_l_url} {reglages}".strip()}
        return options

    def verifier(self) -> None:
        """Appelée au démarrage ; lève ConfigurationInvalide si l'application ne doit pas démarrer."""


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True

    def __init__(self):
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = url_de_base(_env("TEST_DATABASE_URL", "sqlite://"))
        self.WTF_CSRF_ENABLED = False
        # Hachage volontairement rapide pour les tests (des centaines de comptes créés) ; scrypt ailleurs.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        self.REDIS_URL = _env("TEST_REDIS_URL")
        self.TACHES_APRES_LA_REPONSE = False  # sur place : chaque test lit ce que ses tâches ont écrit
        self.MAIL_SERVER = None

    def cle_secrete_par_defaut(self, instance: Path) -> str:
        return "cle-de-test-" + "0" * 32


class ProductionConfig(Config):
    ENV_NAME = "production"

    def __init__(self):
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.PREFERRED_URL_SCHEME = "https"
        self.BENCH_MESURES = False  # jamais d'instruments de mesure en production
        self.WEBHOOKS_HTTP_LOCAL = False

    def cle_secrete_par_defaut(self, instance: Path) -> str:
        return ""

    def verifier(self) -> None:
        if not self.SECRET_KEY or self.SECRET_KEY == SECRET_PAR_DEFAUT or len(self.SECRET_KEY) < 32:
            raise ConfigurationInvalide(
                "DAUPHIN_SECRET_KEY est obligatoire en production (au moins 32 caractères aléatoires, "
                "par exemple : python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if not _env("DATABASE_URL"):
            raise ConfigurationInvalide("DAUPHIN_DATABASE_URL est obligatoire en production (PostgreSQL).")


CONFIGURATIONS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def charger(nom: str | None = None) -> Config:
    nom = nom or _env("ENV", "development")
    if nom not in CONFIGURATIONS:
        raise ConfigurationInvalide(f"DAUPHIN_ENV inconnu : {nom} (development, test ou production).")
    return CONFIGURATIONS[nom]()
