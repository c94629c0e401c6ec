"""Le jeu de volume national : chargé en masse, cohérent, jamais par-dessus d'autres données.

Un seul chargement (300 demandes, mais le référentiel et les 11 000 structures à taille réelle) sert
toutes les vérifications : c'est lui qui coûte.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from stdnum import iban
from stdnum.fr import siret

from dauphin.extensions import db
from dauphin.models import (
    CompteBancaire,
    CompteurNumero,
    ContratDeVille,
    Demande,
    EvenementJournal,
    LigneBudget,
    LigneFinancement,
    Organisation,
    Qpv,
    Structure,
)
from dauphin.seeds.scale import NB_STRUCTURES, ChargementImpossible, charger_volume
from workflows.budget import verifier_budget
from workflows.statuts import StatutDemande

NB_DEMANDES = 300
AUJOURDHUI = date(2026, 11, 22)  # calendrier fixé : le jeu ne dépend pas du jour où tourne le test


def compter(modele) -> int:
    return db.session.scalar(select(func.count()).select_from(modele))


def test_volume_coherent_puis_second_chargement_refuse(app):
    messages: list[str] = []
    comptes = charger_volume(NB_DEMANDES, aujourdhui=AUJOURDHUI, journal=messages.append)
    assert messages, "le chargement rend compte de son avancement"

    # Volumes : le référentiel national, 11 000 structures, les demandes demandées
    assert compter(ContratDeVille) == 385
    assert 1_450 <= compter(Qpv) <= 1_550
    assert compter(Structure) == NB_STRUCTURES == 11_000
    assert compter(CompteBancaire) == NB_STRUCTURES
    assert compter(Demande) == NB_DEMANDES
    lignes_financement = compter(LigneFinancement)
    lignes_budget = compter(LigneBudget)
    transmises = db.session.scalar(select(func.count()).where(Demande.transmise_le.is_not(None)))
    assert transmises > NB_DEMANDES / 2
    # Les lignes de financement naissent à la transmission (comme dans le service) : ~3 par demande transmise
    assert 2.5 <= lignes_financement / transmises <= 3.5
    sans_transmission = select(Demande.id).where(Demande.transmise_le.is_(None))
    assert not db.session.scalar(
        select(func.count())
        .select_from(LigneFinancement)
        .where(LigneFinancement.demande_id.in_(sans_transmission))
    )
    assert 15 <= lignes_budget / NB_DEMANDES <= 25
    assert comptes["demande"] == NB_DEMANDES
    assert comptes["ligne_financement"] == lignes_financement
    assert comptes["ligne_budget"] == lignes_budget
    assert comptes["secondes"] >= 0

    # Codes QPV nouvelle génération, uniques
    codes = db.session.scalars(select(Qpv.code)).all()
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 8 and code.startswith("QN") for code in codes)

    # Identifiants : SIRET (Luhn, SIREN = 9 premiers chiffres) et IBAN valides
    for numero_siret, numero_siren in db.session.execute(select(Structure.siret, Structure.siren)):
        assert siret.is_valid(numero_siret), numero_siret
        assert numero_siret[:9] == numero_siren
    # Chaque financeur qui a un SIREN a le SIRET de son siège : ses données ouvertes se publient
    for numero_siret, numero_siren in db.session.execute(select(Organisation.siret, Organisation.siren)):
        assert (numero_siret is None) == (numero_siren is None)
        assert numero_siret is None or (siret.is_valid(numero_siret) and numero_siret[:9] == numero_siren)
    assert all(iban.is_valid(numero) for numero in db.session.scalars(select(CompteBancaire.iban)))

    # Budgets : un échantillon chargé par l'ORM, hors brouillons, passe les règles bloquantes du CERFA
    echantillon = db.session.scalars(
        select(Demande)
        .where(Demande.statut != StatutDemande.brouillon)
        .order_by(Demande.id)
        .limit(50)
        .options(selectinload(Demande.lignes_budget), selectinload(Demande.lignes_financement))
    ).all()
    assert len(echantillon) == 50
    for demande in echantillon:
        assert verifier_budget(demande.lignes_budget) == [], demande.id
        subventions = Counter()
        for ligne in demande.lignes_budget:
            if ligne.compte == "74" and ligne.financeur_id:
                subventions[ligne.financeur_id] += ligne.montant
        assert {lf.organisation_id: lf.montant_demande for lf in demande.lignes_financement} == subventions
        dernier = db.session.scalars(
            select(EvenementJournal)
            .where(EvenementJournal.demande_id == demande.id)
            .order_by(EvenementJournal.id.desc())
            .limit(1)
        ).one()
        assert dernier.statut_apres == demande.statut  # le journal mène au statut

    # Numéros : uniques, attribués à la transmission, et le compteur reprend au plus grand
    numeros = db.session.execute(select(Demande.exercice, Demande.numero, Demande.transmise_le)).all()
    attribues = [numero for _, numero, _ in numeros if numero]
    assert attribues and len(set(attribues)) == len(attribues)
    assert all((numero is None) == (transmise is None) for _, numero, transmise in numeros)
    plus_grands: dict[int, int] = {}
    for exercice, numero, _ in numeros:
        if numero:
            annee, rang = numero.split("-")
            assert int(annee) == exercice and len(rang) == 6
            plus_grands[exercice] = max(plus_grands.get(exercice, 0), int(rang))
    for exercice, rang in plus_grands.items():
        assert db.session.get(CompteurNumero, exercice).dernier == rang
    # Chaque ligne porte le numéro et la date de transmission de sa demande, comme après le service
    assert (
        db.session.execute(
            select(func.count())
            .select_from(LigneFinancement)
            .join(Demande, Demande.id == LigneFinancement.demande_id)
            .where(
                (LigneFinancement.numero != Demande.numero)
                | (LigneFinancement.transmise_le != Demande.transmise_le)
                | LigneFinancement.numero.is_(None)
                | LigneFinancement.transmise_le.is_(None)
            )
        ).scalar()
        == 0
    )

    # Le journal chargé en masse est scellé comme celui du service : la vérification passe
    from dauphin.services.empreintes import Anomalie, verifier

    resultats = list(verifier())
    assert [r for r in resultats if isinstance(r, Anomalie)] == [] and resultats[-1] > NB_DEMANDES

    # Une base qui contient des demandes ne reçoit jamais le jeu de volume
    with pytest.raises(ChargementImpossible, match="contient déjà 300 demande"):
        charger_volume(10, aujourdhui=AUJOURDHUI, journal=messages.append)
    assert compter(Demande) == NB_DEMANDES
