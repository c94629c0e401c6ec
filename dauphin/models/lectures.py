"""Trace des lectures : qui a consulté quel dossier, téléchargé quel document ou quel export, en quelle
qualité et quand (comptes d'organisation et de l'administration, jetons d'API).

Séparée du journal des transitions (`journal`, chaîné par empreintes et jamais effacé) : une lecture ne
change rien au dossier, et la trace est purgée après `DAUPHIN_READ_TRACE_DAYS` jours
(`dauphin.services.lectures.purger`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dauphin.extensions import db
from dauphin.models.api import JetonApi
from dauphin.models.comptes import Utilisateur
from dauphin.models.demandes import Demande
from dauphin.models.referentiel import Organisation, enum_colonne
from dauphin.models.types import cle_auteur, cle_parent, horodatage
from workflows.enumerations import EnumLibelle


class NatureLecture(EnumLibelle):
    dossier = "dossier", "Consultation du dossier"
    document = "document", "Téléchargement d’un document"
    export = "export", "Téléchargement d’un export"


class Lecture(db.Model):
    """Une lecture, écrite par une seule insertion à la fin de la requête qui l'a servie (réponse réussie
    seulement). `role` et `organisation_id` : la qualité en laquelle le compte (ou le jeton) voyait l'objet
    — instructeur d'un financeur, partenaire ou pilote d'un contrat, administration nationale.
    `structure_id` : la structure dont le dossier ou le document a été lu, qui borne ce que son
    administrateur voit de la trace (`policies.VOIR_TRACE_LECTURES`)."""

    __tablename__ = "lecture"
    __table_args__ = (
        # Les lectures d'un dossier, des plus récentes aux plus anciennes (page « Qui a consulté ce dossier »)
        Index("ix_lecture_demande_id_horodatage", "demande_id", "horodatage"),
        # Celles d'un compte (filtre de la liste nationale)
        Index("ix_lecture_utilisateur_id_horodatage", "utilisateur_id", "horodatage"),
        # La liste nationale par période, et la purge
        Index("ix_lecture_horodatage", "horodatage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    horodatage: Mapped[datetime] = horodatage()
    nature: Mapped[NatureLecture] = mapped_column(enum_colonne(NatureLecture, 16))
    utilisateur_id: Mapped[int | None] = cle_auteur()  # le compte, ou le titulaire du jeton
    jeton_id: Mapped[int | None] = mapped_column(ForeignKey("jeton_api.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    demande_id: Mapped[int | None] = cle_parent("demande")
    structure_id: Mapped[int | None] = cle_parent("structure")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="SET NULL"))
    objet: Mapped[str] = mapped_column(String(255))  # ce qui a été lu, en clair (nom du fichier, export…)
    parametres: Mapped[dict | None] = mapped_column(JSON)  # un export : campagne, format, filtres
    adresse_ip: Mapped[str | None] = mapped_column(String(45))

    utilisateur: Mapped[Utilisateur | None] = relationship()
    jeton: Mapped[JetonApi | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    demande: Mapped[Demande | None] = relationship()
