"""Les publications de données ouvertes : le dernier fichier SCDL « Subventions » publié par financeur et par
exercice (`flask donnees-ouvertes publier`), que la page publique /donnees-ouvertes/ liste."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.referentiel import Organisation
from dauphin.models.types import Horodatage


class PublicationDonneesOuvertes(db.Model):
    """Un fichier publié : une nouvelle publication du même financeur pour le même exercice remplace la
    précédente (fichier et ligne), la date dit quand les données ont été extraites."""

    __tablename__ = "publication_donnees_ouvertes"
    __table_args__ = (
        UniqueConstraint("organisation_id", "exercice"),
        Index("ix_publication_donnees_ouvertes_exercice", "exercice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    exercice: Mapped[int]
    siret: Mapped[str] = mapped_column(String(14))  # idAttribuant au moment de la publication
    nom_fichier: Mapped[str] = mapped_column(String(64))  # <SIRET>_<exercice>_subventions.csv
    nb_lignes: Mapped[int]
    taille: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    publie_le: Mapped[datetime] = mapped_column(Horodatage())

    organisation: Mapped[Organisation] = relationship()
