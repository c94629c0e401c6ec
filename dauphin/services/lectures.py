"""La trace des lectures (table `lecture`) : chaque consultation d'un dossier et chaque téléchargement d'un
document ou d'un export par un compte d'organisation ou de l'administration — ou par un jeton d'API, au nom
de son organisation — : qui, en quelle qualité, quoi, quand, depuis quelle adresse.

- Ce qui est tracé : la lecture faite en une qualité d'instruction (instructeur d'un financeur, partenaire
  ou pilote du contrat, administration nationale : `policies.ROLES_INSTRUCTION`). Un membre de la structure
  qui lit ses propres demandes ou son porte-documents ne l'est pas.
- Le coût : une insertion, à la fin de la requête servie, dans la transaction que la lecture a déjà
  ouverte (`enregistrer`, appelé par `dauphin.lectures`) ; pas de transaction de plus.
- La trace est à part du journal des transitions (jamais effacé, chaîné par empreintes) : elle est purgée
  après `DUREE_TRACE_LECTURES_JOURS` jours (`purger` : `flask lectures purger`, planifiée chaque nuit par
  `dauphin.planification`).
- Qui la lit : `policies.VOIR_TRACE_LECTURES` (l'administration nationale, et l'administrateur d'une
  structure pour les demandes de celle-ci).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, delete, false, func, or_, select
from sqlalchemy.orm import selectinload

from dauphin.extensions import db
from dauphin.listes import contient
from dauphin.models import (
    ContratDeVille,
    Demande,
    Document,
    JetonApi,
    Lecture,
    NatureLecture,
    PieceJointe,
    SeanceComite,
    Utilisateur,
    maintenant,
)
from dauphin.policies import (
    ROLES_INSTRUCTION,
    VOIR_CONTRAT,
    VOIR_DEMANDE,
    VOIR_TRACE_LECTURES,
    Qualite,
    acteur_de,
    qualites,
)
from dauphin.services.audit import serialisable
from dauphin.services.workflow import PARIS

journal = logging.getLogger(__name__)

# La qualité retenue quand on en a plusieurs sur un dossier : la plus précise.
ORDRE_DES_QUALITES = ("instructeur", "pilote", "partenaire", "administrateur_national")
ROLE_NATIONAL = "administrateur_national"
# La liste nationale ne compte pas au-delà : au-delà, elle invite à préciser les filtres.
PLAFOND_DECOMPTE = 10_000
LOT_PURGE = 10_000
OBJET_MAX = 255


@dataclass(frozen=True)
class Lu:
    """Une lecture à écrire : ce que la vue sait d'elle (qui, en quelle qualité, quoi)."""

    nature: NatureLecture
    role: str
    objet: str
    utilisateur_id: int | None
    jeton_id: int | None = None
    organisation_id: int | None = None
    demande_id: int | None = None
    structure_id: int | None = None
    document_id: int | None = None
    parametres: dict | None = field(default=None, hash=False)


def _auteur(qui) -> dict:
    """Le compte, ou le jeton et son titulaire : une lecture par l'API est celle de son organisation."""
    if isinstance(qui, JetonApi):
        return {"utilisateur_id": qui.titulaire_id, "jeton_id": qui.id}
    return {"utilisateur_id": qui.id}


# --- Ce qui se trace ----------------------------------------------------------------------------


def qualite_de_lecture(qui, demande: Demande) -> Qualite | None:
    """La qualité d'instruction en laquelle l'acteur lit ce dossier (la plus précise s'il en a plusieurs),
    ou None : le porteur qui lit sa propre demande n'est pas tracé."""
    trouvees = [q for q in qualites(qui, demande) if q.role in ROLES_INSTRUCTION]
    return min(trouvees, key=lambda q: ORDRE_DES_QUALITES.index(q.role)) if trouvees else None


def lecture_du_dossier(qui, demande: Demande) -> Lu | None:
    qualite = qualite_de_lecture(qui, demande)
    if qualite is None:
        return None
    return Lu(
        NatureLecture.dossier,
        qualite.role,
        objet=f"Dossier {demande.numero or demande.id}",
        organisation_id=qualite.organisation_id,
        demande_id=demande.id,
        structure_id=demande.structure_id,
        **_auteur(qui),
    )


def _dossier_du_document(qui, document: Document, dossier_id: int | None) -> Demande | None:
    """La demande au titre de laquelle le document est lu : celle dont la page a offert le lien (`dossier`
    de l'adresse) si le document y est joint et que l'acteur la voit, sinon la demande propre du document
    (récépissé, acte), sinon la première demande visible où il est joint."""
    liees = db.session.scalars(
        select(Demande).where(
            or_(
                Demande.id == document.demande_id,
                Demande.id.in_(select(PieceJointe.demande_id).where(PieceJointe.document_id == document.id)),
            )
        )
    ).all()
    visibles = sorted(
        (d for d in liees if VOIR_DEMANDE.permet(qui, d)),
        key=lambda d: (d.id != dossier_id, d.id != document.demande_id, d.id),
    )
    return visibles[0] if visibles else None


def lecture_du_document(qui, document: Document, dossier_id: int | None = None) -> Lu | None:
    """Le téléchargement d'un document hors de sa structure (pièce jointe, récépissé, acte) ; rien pour un
    membre de la structure (son porte-documents)."""
    if document.structure_id in acteur_de(qui).structures:
        return None
    demande = _dossier_du_document(qui, document, dossier_id)
    qualite = qualite_de_lecture(qui, demande) if demande is not None else None
    if qualite is None:
        return None
    return Lu(
        NatureLecture.document,
        qualite.role,
        objet=document.nom_fichier,
        organisation_id=qualite.organisation_id,
        demande_id=demande.id,
        structure_id=document.structure_id,
        document_id=document.id,
        **_auteur(qui),
    )


def qualite_sur_le_contrat(qui, contrat: ContratDeVille | None) -> tuple[str, int | None] | None:
    """(rôle, organisation) en lequel l'acteur voit le contrat (`VOIR_CONTRAT.qualite`) ; sans contrat (un
    export national), l'administration nationale. None s'il ne le voit pas."""
    acteur = acteur_de(qui)
    if contrat is None:
        return (ROLE_NATIONAL, None) if acteur.national else None
    qualite = VOIR_CONTRAT.qualite(acteur, contrat)
    if qualite == "pilote":
        return "pilote", next(o for c, o in acteur.pilotages if c == contrat.id)
    if qualite == "partenaire":
        signataires = {p.organisation_id for p in contrat.partenariats} & acteur.membre_de
        return "partenaire", min(signataires)
    return (ROLE_NATIONAL, None) if qualite == "national" else None


def lecture_d_export(
    qui, objet: str, parametres: dict, contrat: ContratDeVille | None = None, *, nature=NatureLecture.export
) -> Lu | None:
    """Le téléchargement d'un export (programmation d'une campagne, export national) ou d'un fichier
    produit pour un contrat (procès-verbal d'un comité) : `parametres` dit lequel (campagne, format,
    filtres…)."""
    qualite = qualite_sur_le_contrat(qui, contrat)
    if qualite is None:
        return None
    role, organisation_id = qualite
    return Lu(
        nature,
        role,
        objet=objet,
        organisation_id=organisation_id,
        parametres=serialisable(parametres),
        **_auteur(qui),
    )


def lecture_du_proces_verbal(qui, seance: SeanceComite) -> Lu | None:
    return lecture_d_export(
        qui,
        f"Procès-verbal du comité de pilotage du {seance.date_seance:%d/%m/%Y} ({seance.contrat.code})",
        {"seance": seance.id},
        seance.contrat,
        nature=NatureLecture.document,
    )


# --- Écrire ------------------------------------------------------------------------------------


# L'instruction d'insertion, construite une fois : exécutée au niveau Core avec ses valeurs, elle coûte le
# quart de la même insertion passée par l'ORM (`session.execute(insert(Lecture).values(…))`), mesurée à
# 0,9 ms contre 4,3 ms sur PostgreSQL chargé (voir docs/mesures.md, « Trace des lectures »).
INSERTION = Lecture.__table__.insert()


def ecrire(lu: Lu, adresse_ip: str | None, instant: datetime | None = None) -> None:
    """Une seule instruction INSERT, dans la transaction en cours de la session (sans rien charger)."""
    db.session.connection().execute(
        INSERTION,
        {
            "horodatage": instant or maintenant(),
            "nature": lu.nature,
            "utilisateur_id": lu.utilisateur_id,
            "jeton_id": lu.jeton_id,
            "role": lu.role,
            "organisation_id": lu.organisation_id,
            "demande_id": lu.demande_id,
            "structure_id": lu.structure_id,
            "document_id": lu.document_id,
            "objet": lu.objet[:OBJET_MAX],
            "parametres": lu.parametres,
            "adresse_ip": adresse_ip[:45] if adresse_ip else None,
        },
    )


def enregistrer(lu: Lu, adresse_ip: str | None) -> None:
    """Écrit la lecture et valide, à la fin de la requête de lecture : la transaction que ses SELECT ont
    ouverte se termine par cet INSERT et un COMMIT, au lieu d'être annulée.

    Une page de lecture ne change rien ; si la session porte pourtant des modifications non validées,
    elles sont abandonnées (et signalées) plutôt que validées avec la trace."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        journal.warning("Lecture tracée après des modifications non validées : elles sont abandonnées.")
        session.rollback()
    ecrire(lu, adresse_ip)
    session.commit()


def purger(jours: int | None = None, *, lot: int = LOT_PURGE) -> int:
    """Efface les lectures de plus de `jours` jours (défaut : DUREE_TRACE_LECTURES_JOURS), par lots
    validés un à un (aucun long verrou sur la table) ; rend le nombre de lectures effacées."""
    jours = jours if jours is not None else current_app.config["DUREE_TRACE_LECTURES_JOURS"]
    limite = maintenant() - timedelta(days=jours)
    total = 0
    while True:
        anciennes = select(Lecture.id).where(Lecture.horodatage < limite).limit(lot)
        effacees = db.session.execute(
            delete(Lecture)
            .where(Lecture.id.in_(anciennes.scalar_subquery()))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        total += effacees
        if effacees < lot:
            return total


# --- Lire la trace ------------------------------------------------------------------------------


@dataclass
class FiltresLectures:
    compte: str | None = None  # adresse, nom ou prénom du compte, ou nom du jeton
    dossier: str | None = None  # numéro exact du dossier
    du: date | None = None
    au: date | None = None

    @property
    def actifs(self) -> bool:
        return any((self.compte, self.dossier, self.du, self.au))


def _debut_du_jour(jour: date) -> datetime:
    return datetime.combine(jour, time(0), tzinfo=PARIS)


def _avec_ce_qui_s_affiche(requete):
    return requete.options(
        selectinload(Lecture.utilisateur).load_only(Utilisateur.prenom, Utilisateur.nom, Utilisateur.email),
        selectinload(Lecture.jeton).load_only(JetonApi.libelle, JetonApi.prefixe),
        selectinload(Lecture.organisation),
        selectinload(Lecture.demande).load_only(Demande.numero, Demande.intitule, Demande.structure_id),
    )


def _du_compte(texte: str):
    """Les lectures des comptes dont l'adresse, le nom ou le prénom contient `texte`, et celles des jetons
    dont le nom le contient. Les comptes et jetons sont cherchés d'abord (quelques milliers au plus) : la
    trace se lit ensuite par l'index (utilisateur_id, horodatage) — un jeton lit au nom de son titulaire —,
    au lieu d'un OU entre deux sous-requêtes qui la parcourrait entière (un million de lectures sur
    PostgreSQL : 246 ms, 28 ms ainsi)."""
    comptes = set(
        db.session.scalars(
            select(Utilisateur.id).where(
                contient(texte, Utilisateur.email, Utilisateur.nom, Utilisateur.prenom)
            )
        )
    )
    jetons = {
        jeton: titulaire
        for jeton, titulaire in db.session.execute(
            select(JetonApi.id, JetonApi.titulaire_id).where(contient(texte, JetonApi.libelle))
        )
    }
    lecteurs = sorted(comptes | set(jetons.values()))
    if not lecteurs:
        return false()
    condition = Lecture.utilisateur_id.in_(lecteurs)
    if set(jetons.values()) - comptes:  # un titulaire retenu pour son seul jeton : ses autres lectures non
        condition = and_(
            condition,
            or_(Lecture.utilisateur_id.in_(sorted(comptes)), Lecture.jeton_id.in_(sorted(jetons))),
        )
    return condition


def page_lectures(qui, filtres: FiltresLectures, page: int, par_page: int):
    """Les lectures que l'acteur peut voir, filtrées, des plus récentes aux plus anciennes, paginées en
    SQL. Le décompte s'arrête à PLAFOND_DECOMPTE (`pagination.tronque`) : la liste nationale reste rapide
    avec des millions de lectures, et l'on précise les filtres pour remonter plus loin."""
    requete = select(Lecture).where(VOIR_TRACE_LECTURES.portee(qui))
    if filtres.compte:
        requete = requete.where(_du_compte(filtres.compte))
    if filtres.dossier:
        requete = requete.where(
            Lecture.demande_id.in_(select(Demande.id).where(Demande.numero == filtres.dossier))
        )
    if filtres.du:
        requete = requete.where(Lecture.horodatage >= _debut_du_jour(filtres.du))
    if filtres.au:
        requete = requete.where(Lecture.horodatage < _debut_du_jour(filtres.au + timedelta(days=1)))
    nombre = db.session.scalar(
        select(func.count()).select_from(
            requete.with_only_columns(Lecture.id).limit(PLAFOND_DECOMPTE + 1).subquery()
        )
    )
    requete = _avec_ce_qui_s_affiche(requete.order_by(Lecture.horodatage.desc(), Lecture.id.desc()))
    pagination = db.paginate(requete, page=page, per_page=par_page, error_out=False, count=False)
    pagination.total = min(nombre, PLAFOND_DECOMPTE)
    pagination.tronque = nombre > PLAFOND_DECOMPTE
    return pagination


def page_du_dossier(qui, demande: Demande, page: int, par_page: int):
    """Qui a consulté ce dossier (et téléchargé ses pièces), des plus récentes aux plus anciennes."""
    requete = _avec_ce_qui_s_affiche(
        select(Lecture)
        .where(Lecture.demande_id == demande.id, VOIR_TRACE_LECTURES.portee(qui))
        .order_by(Lecture.horodatage.desc(), Lecture.id.desc())
    )
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100)
