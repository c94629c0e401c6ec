"""Types de colonnes : montants exacts et horodatages avec fuseau, identiques sur les deux bases ; les
colonnes et relations qui reviennent d'un modèle à l'autre (horodatage, auteur, parent et enfants)."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Numeric
from sqlalchemy.orm import mapped_column, relationship
from sqlalchemy.types import TypeDecorator

CENTIME = Decimal("0.01")


class Montant(TypeDecorator):
    """Un montant en euros, Decimal à deux décimales.

    NUMERIC(14, 2) sur PostgreSQL ; sur SQLite, qui n'a pas de décimal exact, un entier de
    centimes — ainsi même SUM() reste exact sur les deux bases.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            return int((value * 100).to_integral_exact())
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENTIME)
        return Decimal(value).quantize(CENTIME)


class Horodatage(TypeDecorator):
    """Un instant, toujours avec fuseau : stocké en UTC, relu en UTC (SQLite perd le fuseau sinon)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Horodatage sans fuseau : utilisez maintenant() ou datetime.now(UTC).")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def maintenant() -> datetime:
    return datetime.now(UTC)


def index_trigrammes(nom: str, *colonnes: str) -> Index:
    """Index de recherche « contient » (ILIKE '%texte%') : GIN à trigrammes sur PostgreSQL (extension
    pg_trgm, créée par les migrations), index ordinaire sur SQLite."""
    operateurs = dict.fromkeys(colonnes, "gin_trgm_ops")
    return Index(nom, *colonnes, postgresql_using="gin", postgresql_ops=operateurs)


def horodatage():
    """La date et l'heure de l'écriture (création, vote, dépôt…), remplies à l'insertion."""
    return mapped_column(Horodatage(), default=maintenant)


def cle_auteur():
    """Le compte qui a fait l'action ; la trace demeure si le compte est supprimé (SET NULL)."""
    return mapped_column(ForeignKey("utilisateur.id", ondelete="SET NULL"))


def cle_parent(table: str, **options):
    """La clé de l'enregistrement auquel celui-ci appartient (une ligne à sa demande, un vote à son point) :
    supprimé avec lui (CASCADE) ; `options` : index, unique, primary_key."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), **options)


def enfants(parent: str, order_by=False):
    """Les enregistrements qui appartiennent à celui-ci (`parent` : leur relation inverse) : ajoutés et
    supprimés avec lui, et supprimés quand ils en sont retirés."""
    return relationship(back_populates=parent, cascade="all, delete-orphan", order_by=order_by)


# Ce que la migration 0024 crée sur PostgreSQL seul, hors des modèles : les vecteurs de la recherche plein
# texte, tenus par des déclencheurs, et leurs index GIN (dauphin.services.recherche). Alembic ne doit ni
# les proposer à la suppression ni les comparer aux modèles (migrations/env.py, tests/test_migrations.py).
PROPRES_A_POSTGRESQL = {
    ("column", "demande.recherche"),
    ("column", "ligne_financement.recherche"),
    ("column", "structure.recherche"),  # migration 0031 : le vecteur du nom, colonne générée
    ("index", "ix_demande_recherche_texte"),
    ("index", "ix_ligne_financement_recherche"),
    ("index", "ix_ligne_financement_numero_trgm"),
    ("index", "ix_ligne_financement_demande_montants"),
    *(
        ("index", f"ix_ligne_financement_{index}_{onglet}")
        for index in ("recherche", "numero_trgm")
        for onglet in ("a_traiter", "suivies", "terminees")
    ),
}


def hors_des_modeles(objet, nom, genre, reflete, compare_a) -> bool:
    """`include_object` d'Alembic : False pour les objets propres à PostgreSQL ci-dessus."""
    if genre == "column":
        nom = f"{objet.table.name}.{nom}"
    return (genre, nom) not in PROPRES_A_POSTGRESQL
