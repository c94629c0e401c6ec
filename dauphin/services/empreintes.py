"""Journal inviolable : chaque ligne porte l'empreinte SHA-256 de son contenu et de la ligne précédente
du même dossier. Modifier une ligne casse son empreinte ; en supprimer une casse le lien de la suivante.
`flask journal verify` recalcule toutes les chaînes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, select

from dauphin.extensions import Session, db
from dauphin.models import EvenementJournal

# {dossier : dernière ligne de journal scellée par la transaction en cours} (dans `session.info`)
SCELLEES = "dauphin.journal.scellees"

CHAMPS = (
    "demande_id",
    "ligne_id",
    "acteur_id",
    "role",
    "organisation_id",
    "structure_id",
    "declencheur",
    "statut_avant",
    "statut_apres",
    "commentaire",
)


def empreinte(precedente: str | None, horodatage: datetime, **champs) -> str:
    """Empreinte d'une ligne de journal : ses champs, son instant (UTC, microsecondes), la précédente."""
    contenu = [precedente or ""] + [champs.get(nom) for nom in CHAMPS]
    contenu.append(horodatage.astimezone(UTC).isoformat(timespec="microseconds"))
    if champs.get("jeton_id") is not None:  # écrit par l'API : le jeton est scellé aussi (les lignes
        contenu.append({"jeton_id": champs["jeton_id"]})  # plus anciennes gardent leur empreinte)
    texte = json.dumps(contenu, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(texte.encode("utf-8")).hexdigest()


def empreinte_de(evenement: EvenementJournal) -> str:
    return empreinte(
        evenement.empreinte_precedente,
        evenement.horodatage,
        **{nom: getattr(evenement, nom) for nom in CHAMPS},
        jeton_id=evenement.jeton_id,
    )


def derniere_empreinte(demande_id: int) -> str | None:
    """La dernière empreinte de la chaîne du dossier (le dossier est verrouillé par l'appelant)."""
    return db.session.scalar(
        select(EvenementJournal.empreinte)
        .where(EvenementJournal.demande_id == demande_id)
        .order_by(EvenementJournal.id.desc())
        .limit(1)
    )


def sceller(evenement: EvenementJournal) -> None:
    """Chaîne `evenement` à la ligne précédente du dossier : la dernière que la transaction a scellée si
    elle en a scellé une (pas encore écrite, peut-être), sinon la dernière en base. La lecture se fait sans
    autoflush : ce que la transaction modifie s'écrit en une fois, plus tard (une transition ne réécrit
    pas le dossier à chaque ligne de journal)."""
    session = db.session()
    scellees = session.info.setdefault(SCELLEES, {})
    precedente = scellees.get(evenement.demande_id)
    if precedente is not None and precedente in session:
        evenement.empreinte_precedente = precedente.empreinte
    else:  # aucune, ou dans un point de sauvegarde annulé depuis (écartée de la session)
        with session.no_autoflush:
            evenement.empreinte_precedente = derniere_empreinte(evenement.demande_id)
    evenement.empreinte = empreinte_de(evenement)
    scellees[evenement.demande_id] = evenement


@event.listens_for(Session, "after_transaction_end")
def _oublier(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(SCELLEES, None)


@dataclass(frozen=True)
class Anomalie:
    demande_id: int
    journal_id: int
    nature: str  # « modifiée » ou « chaîne rompue »

    def __str__(self) -> str:
        if self.nature == "modifiée":
            return f"Dossier {self.demande_id} : la ligne de journal {self.journal_id} a été modifiée."
        return (
            f"Dossier {self.demande_id} : la chaîne est rompue avant la ligne {self.journal_id} "
            "(ligne supprimée, insérée ou réordonnée)."
        )


def verifier(taille_lot: int = 5000):
    """Parcourt tout le journal dossier par dossier ; produit les anomalies trouvées. Rend aussi le compte."""
    nombre = 0
    dossier, precedente = None, None
    requete = select(EvenementJournal).order_by(EvenementJournal.demande_id, EvenementJournal.id)
    for evenement in db.session.scalars(requete.execution_options(yield_per=taille_lot)):
        nombre += 1
        if evenement.demande_id != dossier:
            dossier, precedente = evenement.demande_id, None
        if evenement.empreinte_precedente != precedente:
            yield Anomalie(evenement.demande_id, evenement.id, "chaîne rompue")
        if evenement.empreinte != empreinte_de(evenement):
            yield Anomalie(evenement.demande_id, evenement.id, "modifiée")
        precedente = evenement.empreinte
    yield nombre
