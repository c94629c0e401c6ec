"""Chaque règle d'accès dit la même chose sous ses deux formes.

Des mondes générés (plusieurs contrats, financeurs, partenaires, structures ; des comptes de tous les
rôles — membres de structures, instructeurs, partenaires, pilotes, administration nationale, sans rôle —,
leurs jetons d'API et l'anonyme) sont écrits dans la vraie base ; pour chaque règle de
`dauphin.policies.REGLES`, chaque acteur et chaque objet du modèle de la règle, le prédicat Python
(`permet`) doit répondre comme la clause SQL (`portee`). Une règle ajoutée est vérifiée d'office ; une
forme changée sans l'autre fait échouer ce test.

DAUPHIN_PROPRIETES_EXEMPLES règle le nombre de mondes (25 par défaut).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dauphin.models import (
    Campagne,
    ContratDeVille,
    Demande,
    Document,
    Enveloppe,
    JetonApi,
    Lecture,
    LigneFinancement,
    MembreOrganisation,
    MembreStructure,
    NatureLecture,
    Note,
    Organisation,
    PartenaireContrat,
    PieceJointe,
    Pilotage,
    RoleOrganisation,
    RoleStructure,
    SeanceComite,
    Structure,
    TypeOrganisation,
    TypePiece,
    Utilisateur,
)
from dauphin.policies import REGLES, acteur_de
from tests.fabriques_db import structure
from workflows import StatutLigne

EXEMPLES = int(os.environ.get("DAUPHIN_PROPRIETES_EXEMPLES", "25"))


@dataclass(frozen=True)
class PlanCompte:
    structures: dict[int, tuple[RoleStructure, bool]]  # structure → (rôle, administrateur)
    organisations: dict[int, RoleOrganisation]
    pilotages: dict[int, int]  # contrat → organisation au nom de laquelle il le pilote
    national: bool


@dataclass(frozen=True)
class PlanDemande:
    structure: int
    contrat: int
    transmise: bool
    lignes: dict[int, StatutLigne]  # organisation → statut de sa ligne


@dataclass(frozen=True)
class PlanMonde:
    contrats: int
    organisations: int
    structures: int
    partenariats: frozenset[tuple[int, int]]
    comptes: list[PlanCompte]
    demandes: list[PlanDemande]
    documents: list[tuple[int, int | None, frozenset[int]]]  # (structure, demande propre, jointe à)
    seances: frozenset[int]
    enveloppes: frozenset[tuple[int, int]]
    notes: list[tuple[int, int, bool]]  # (demande, organisation, partagée)
    lectures: list[int | None]  # structure du dossier lu (None : un export, un procès-verbal)


@st.composite
def mondes(draw) -> PlanMonde:
    contrats = draw(st.integers(1, 3))
    organisations = draw(st.integers(1, 4))
    structures = draw(st.integers(1, 3))
    contrat, organisation, une_structure = (
        st.integers(0, contrats - 1),
        st.integers(0, organisations - 1),
        st.integers(0, structures - 1),
    )
    comptes = draw(
        st.lists(
            st.builds(
                PlanCompte,
                structures=st.dictionaries(
                    une_structure, st.tuples(st.sampled_from(RoleStructure), st.booleans()), max_size=2
                ),
                organisations=st.dictionaries(organisation, st.sampled_from(RoleOrganisation), max_size=2),
                pilotages=st.dictionaries(contrat, organisation, max_size=2),
                national=st.booleans(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    demandes = draw(
        st.lists(
            st.builds(
                PlanDemande,
                structure=une_structure,
                contrat=contrat,
                transmise=st.booleans(),
                lignes=st.dictionaries(
                    organisation,
                    st.sampled_from([StatutLigne.sollicitee, StatutLigne.abandonnee, StatutLigne.votee]),
                    max_size=3,
                ),
            ),
            min_size=1,
            max_size=6,
        )
    )
    une_demande = st.integers(0, len(demandes) - 1)
    return PlanMonde(
        contrats=contrats,
        organisations=organisations,
        structures=structures,
        partenariats=draw(st.frozensets(st.tuples(contrat, organisation))),
        comptes=comptes,
        demandes=demandes,
        documents=draw(
            st.lists(
                st.tuples(une_structure, st.none() | une_demande, st.frozensets(une_demande, max_size=2)),
                max_size=4,
            )
        ),
        seances=draw(st.frozensets(contrat)),
        enveloppes=draw(st.frozensets(st.tuples(contrat, organisation))),
        notes=draw(st.lists(st.tuples(une_demande, organisation, st.booleans()), max_size=4)),
        lectures=draw(st.lists(st.none() | une_structure, max_size=4)),
    )


MODELES_CONSTRUITS = {
    ContratDeVille,
    Organisation,
    Campagne,
    Structure,
    Demande,
    LigneFinancement,
    Document,
    SeanceComite,
    Enveloppe,
    Note,
    Lecture,
}


def construire(db, plan: PlanMonde) -> list:
    """Écrit le monde (sans valider : le test l'annule) et rend ses acteurs : chaque compte, un jeton par
    organisation de chaque compte, l'anonyme."""
    contrats = [
        ContratDeVille(code=f"CV-P-{i}", libelle=f"Contrat {i}", departement="59")
        for i in range(plan.contrats)
    ]
    organisations = [
        Organisation(nom=f"Organisation {i}", type_organisation=TypeOrganisation.commune)
        for i in range(plan.organisations)
    ]
    db.session.add_all(contrats + organisations)
    db.session.flush()
    campagnes = [
        Campagne(
            contrat_id=c.id,
            exercice=2026,
            libelle="Appel à projets",
            date_ouverture=date(2025, 1, 1),
            date_cloture=date(2026, 12, 31),
        )
        for c in contrats
    ]
    db.session.add_all(campagnes)
    structures = [structure(f"{i + 1:08d}", f"Structure {i}") for i in range(plan.structures)]
    db.session.add_all(
        PartenaireContrat(contrat_id=contrats[c].id, organisation_id=organisations[o].id)
        for c, o in plan.partenariats
    )
    comptes = []
    administrees = set()
    for i, compte in enumerate(plan.comptes):
        utilisateur = Utilisateur(
            email=f"compte{i}@test.fr",
            prenom="Prénom",
            nom=f"Compte {i}",
            mot_de_passe_hash="sans-connexion",
            administrateur_national=compte.national,
        )
        db.session.add(utilisateur)
        db.session.flush()
        for s, (role, administrateur) in compte.structures.items():
            administrateur = administrateur and s not in administrees  # un seul par structure
            administrees |= {s} if administrateur else set()
            db.session.add(
                MembreStructure(
                    utilisateur_id=utilisateur.id,
                    structure_id=structures[s].id,
                    role=role,
                    administrateur=administrateur,
                )
            )
        for o, role in compte.organisations.items():
            db.session.add(
                MembreOrganisation(
                    utilisateur_id=utilisateur.id, organisation_id=organisations[o].id, role=role
                )
            )
        for c, o in compte.pilotages.items():
            db.session.add(
                Pilotage(
                    utilisateur_id=utilisateur.id,
                    contrat_id=contrats[c].id,
                    organisation_id=organisations[o].id,
                )
            )
        comptes.append((utilisateur, compte))
    demandes = []
    for i, prevue in enumerate(plan.demandes):
        demande = Demande(
            structure_id=structures[prevue.structure].id,
            campagne_id=campagnes[prevue.contrat].id,
            exercice=2026,
            intitule=f"Demande {i}",
            numero=f"2026-{i + 1:06d}" if prevue.transmise else None,
        )
        demande.lignes_financement = [
            LigneFinancement(
                organisation_id=organisations[o].id,
                structure_id=demande.structure_id,
                exercice=2026,
                montant_demande=Decimal("1000"),
                montant_vote=Decimal("1000") if statut == StatutLigne.votee else None,
                statut=statut,
            )
            for o, statut in prevue.lignes.items()
        ]
        db.session.add(demande)
        demandes.append(demande)
    db.session.flush()
    for i, (s, propre, jointe_a) in enumerate(plan.documents):
        document = Document(
            structure_id=structures[s].id,
            type_piece=TypePiece.statuts,
            nom_fichier="statuts.pdf",
            cle_stockage=f"cle-proprietes-{i}",
            type_mime="application/pdf",
            taille=10,
            sha256="0" * 64,
            demande_id=demandes[propre].id if propre is not None else None,
        )
        db.session.add(document)
        db.session.flush()
        db.session.add_all(
            PieceJointe(demande_id=demandes[d].id, document_id=document.id, type_piece=TypePiece.statuts)
            for d in jointe_a
        )
    db.session.add_all(
        SeanceComite(contrat_id=contrats[c].id, campagne_id=campagnes[c].id, date_seance=date(2026, 4, 1))
        for c in plan.seances
    )
    db.session.add_all(
        Enveloppe(campagne_id=campagnes[c].id, organisation_id=organisations[o].id, montant=Decimal("5000"))
        for c, o in plan.enveloppes
    )
    db.session.add_all(
        Note(demande_id=demandes[d].id, organisation_id=organisations[o].id, partagee=partagee, texte="Note")
        for d, o, partagee in plan.notes
    )
    db.session.add_all(
        Lecture(
            nature=NatureLecture.dossier if s is not None else NatureLecture.export,
            role="instructeur",
            objet="Lecture",
            structure_id=structures[s].id if s is not None else None,
        )
        for s in plan.lectures
    )
    db.session.flush()
    db.session.expire_all()  # les prédicats relisent ce que la base contient
    acteurs = [None]  # l'anonyme
    for utilisateur, compte in comptes:
        acteurs.append(utilisateur)
        acteurs += [
            JetonApi(organisation_id=organisations[o].id, titulaire=utilisateur) for o in compte.organisations
        ]
    return acteurs


def _nom(qui) -> str:
    if isinstance(qui, JetonApi):
        return f"jeton de l’organisation {qui.organisation_id} au nom de {qui.titulaire.email}"
    return getattr(qui, "email", "anonyme")


@settings(
    max_examples=EXEMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=mondes())
def test_predicat_et_portee_de_chaque_regle_s_accordent(db, plan):
    try:
        acteurs = construire(db, plan)
        for regle in REGLES:
            objets = db.session.scalars(select(regle.modele)).all()
            for qui in acteurs:
                acteur = acteur_de(qui)
                dans_la_portee = set(db.session.scalars(select(regle.modele.id).where(regle.portee(acteur))))
                for objet in objets:
                    assert regle.permet(acteur, objet) == (objet.id in dans_la_portee), (
                        f"{type(regle).__name__} : le prédicat et la portée SQL divergent pour "
                        f"{_nom(qui)} sur {regle.modele.__name__} {objet.id} "
                        f"(prédicat : {regle.permet(acteur, objet)}, portée : {objet.id in dans_la_portee})"
                    )
    finally:
        db.session.rollback()
        db.session.expunge_all()  # rien n'a été validé : aucun objet de ce monde ne doit survivre


def test_chaque_regle_porte_sur_un_modele_que_le_monde_construit():
    """Une règle sur un modèle que `construire` n'écrit pas ne serait jamais vérifiée : ajoutez-le."""
    assert {regle.modele for regle in REGLES} <= MODELES_CONSTRUITS
