"""Le service de transition : droit de l'acteur, journal dans la même transaction, statuts dérivés,
verrouillage optimiste et transitions concurrentes — sur la vraie base (SQLite ou PostgreSQL)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dauphin.models import Courriel, Demande, EvenementJournal, LigneFinancement
from dauphin.services.erreurs import Conflit, NonAutorise
from dauphin.services.workflow import declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete
from workflows import StatutDemande, StatutLigne, TransitionRefusee


def journal(db, demande_id):
    return db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande_id)
        .order_by(EvenementJournal.id)
    ).all()


def transmettre(monde, demande):
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    return declencher_demande(demande.id, "attester", monde.signataire, attestation=True)


def test_transmission_numerote_cree_les_lignes_et_journalise(db, monde):
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    assert demande.statut == StatutDemande.attente_attestation
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)

    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == StatutDemande.transmise
    assert demande.numero == f"{demande.exercice}-000001"
    assert demande.atteste_par_id == monde.signataire.id and demande.transmise_le is not None
    lignes = {ligne.organisation_id: ligne for ligne in demande.lignes_financement}
    assert lignes.keys() == {monde.etat.id, monde.commune.id}
    assert lignes[monde.etat.id].montant_demande == Decimal("6000.00")
    assert all(ligne.statut == StatutLigne.sollicitee for ligne in lignes.values())

    evenements = journal(db, demande.id)
    assert [(e.declencheur, e.statut_avant, e.statut_apres, e.role) for e in evenements] == [
        ("soumettre", "brouillon", "attente_attestation", "contributeur"),
        ("attester", "attente_attestation", "transmise", "signataire"),
    ]
    assert evenements[1].acteur_id == monde.signataire.id
    assert evenements[1].structure_id == monde.structure.id
    assert evenements[1].horodatage.tzinfo is not None

    # Courriels écrits dans la même transaction, envoyés après le commit (ici sur place, sans Redis)
    destinataires = set(db.session.scalars(select(Courriel.destinataire)))
    assert {"signataire@test.fr", "contributeur@test.fr", "administrateur@test.fr"} <= destinataires
    assert {"instructeur.etat@test.fr", "instructeur.commune@test.fr"} <= destinataires
    assert "partenaire.caf@test.fr" not in destinataires
    assert all(c.statut.value == "envoye" for c in db.session.scalars(select(Courriel)))


def test_numeros_uniques_et_consecutifs_par_exercice(db, monde):
    premiere = transmettre(monde, demande_complete(monde, intitule="Première"))
    seconde = transmettre(monde, demande_complete(monde, intitule="Seconde"))
    assert (premiere.numero, seconde.numero) == (f"{premiere.exercice}-000001", f"{premiere.exercice}-000002")


def test_garde_refusee_ne_change_rien_et_ne_journalise_rien(db, monde):
    demande = demande_complete(monde)
    demande.lignes_budget[0].montant += Decimal("100")  # budget déséquilibré de 100 €
    demande.intitule = None
    db.session.commit()

    with pytest.raises(TransitionRefusee) as refus:
        declencher_demande(demande.id, "soumettre", monde.contributeur)
    codes = {p.code for p in refus.value.problemes}
    assert {"desequilibre", "champ_manquant"} <= codes
    desequilibre = next(p for p in refus.value.problemes if p.code == "desequilibre")
    assert "écart de 100,00" in desequilibre.message and desequilibre.etape == "budget"

    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == StatutDemande.brouillon
    assert journal(db, demande.id) == []


def test_transition_impossible_depuis_l_etat_donne_un_conflit_lisible(db, monde):
    demande = demande_complete(monde)
    with pytest.raises(Conflit, match="Brouillon"):
        declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    assert journal(db, demande.id) == []


def test_seul_un_signataire_atteste(db, monde):
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    for intrus in (monde.contributeur, monde.administrateur, monde.signataire_autre, monde.instructeur_etat):
        with pytest.raises(NonAutorise):
            declencher_demande(demande.id, "attester", intrus, attestation=True)
    assert [e.declencheur for e in journal(db, demande.id)] == ["soumettre"]


def test_un_financeur_n_agit_que_sur_sa_ligne_et_le_dossier_suit(db, monde):
    demande = transmettre(monde, demande_complete(monde))
    lignes = {ligne.organisation_id: ligne.id for ligne in demande.lignes_financement}

    with pytest.raises(NonAutorise):
        declencher_ligne(lignes[monde.commune.id], "prendre_en_charge", monde.instructeur_etat)
    with pytest.raises(NonAutorise):
        declencher_ligne(lignes[monde.etat.id], "prendre_en_charge", monde.partenaire_caf)

    declencher_ligne(lignes[monde.etat.id], "prendre_en_charge", monde.instructeur_etat)
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == StatutDemande.en_instruction
    derniers = [(e.declencheur, e.role, e.ligne_id, e.organisation_id) for e in journal(db, demande.id)[-2:]]
    assert derniers == [
        ("prendre_en_charge", "instructeur", lignes[monde.etat.id], monde.etat.id),
        ("debuter_instruction", "systeme", None, None),
    ]

    declencher_ligne(
        lignes[monde.etat.id], "declarer_recevable", monde.instructeur_etat, montant=Decimal("5000")
    )
    declencher_ligne(lignes[monde.commune.id], "prendre_en_charge", monde.instructeur_commune)
    declencher_ligne(
        lignes[monde.commune.id],
        "declarer_non_recevable",
        monde.instructeur_commune,
        commentaire="Hors priorités municipales",
    )
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == StatutDemande.instruite
    commune = db.session.get(LigneFinancement, lignes[monde.commune.id])
    assert commune.motif_avis == "Hors priorités municipales"


def test_vote_borne_par_le_reste_de_l_enveloppe(db, monde):
    """L'enveloppe de la commune est de 20 000 € : deux votes de 15 000 € ne peuvent passer tous deux."""
    demandes = [
        transmettre(monde, demande_complete(monde, commune=Decimal("15000"), intitule=f"Action {i}"))
        for i in range(2)
    ]
    ids = []
    for demande in demandes:
        ligne = next(
            ligne for ligne in demande.lignes_financement if ligne.organisation_id == monde.commune.id
        )
        ids.append(ligne.id)
        declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_commune)
        declencher_ligne(ligne.id, "declarer_recevable", monde.instructeur_commune, montant=Decimal("15000"))
    declencher_ligne(ids[0], "voter", monde.pilote, montant=Decimal("15000"))
    with pytest.raises(TransitionRefusee) as refus:
        declencher_ligne(ids[1], "voter", monde.pilote, montant=Decimal("15000"))
    probleme = next(p for p in refus.value.problemes if p.code == "enveloppe_depassee")
    assert "5\u202f000,00" in probleme.message
    declencher_ligne(ids[1], "voter", monde.pilote, montant=Decimal("5000"))
    db.session.expire_all()
    assert db.session.get(LigneFinancement, ids[1]).montant_vote == Decimal("5000.00")


def test_retrait_met_les_lignes_sans_suite_et_previent_les_financeurs(db, monde):
    demande = transmettre(monde, demande_complete(monde))
    with pytest.raises(TransitionRefusee):
        declencher_demande(demande.id, "retirer", monde.signataire, commentaire="  ")
    declencher_demande(demande.id, "retirer", monde.signataire, commentaire="Action annulée")
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == StatutDemande.retiree
    assert {ligne.statut for ligne in demande.lignes_financement} == {StatutLigne.abandonnee}
    assert [e.declencheur for e in journal(db, demande.id)][-3:] == ["retirer", "abandonner", "abandonner"]
    sujets = set(
        db.session.scalars(select(Courriel.sujet).where(Courriel.destinataire == "instructeur.etat@test.fr"))
    )
    assert f"Demande {demande.numero} retirée par le porteur" in sujets


def test_version_perimee_donne_un_conflit_sans_rien_ecrire(db, monde):
    demande = demande_complete(monde)
    version_lue = demande.version
    declencher_demande(demande.id, "soumettre", monde.contributeur, version=version_lue)
    with pytest.raises(Conflit, match="modifié entre-temps"):
        declencher_demande(demande.id, "modifier", monde.contributeur, version=version_lue)
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == StatutDemande.attente_attestation
    assert len(journal(db, demande.id)) == 1


def test_verrou_optimiste_refuse_la_mise_a_jour_perdue(db, monde):
    """Deux sessions lisent la même version ; la seconde écriture échoue au lieu d'écraser la première."""
    demande = demande_complete(monde)
    with Session(db.engine) as premiere, Session(db.engine) as seconde:
        a = premiere.get(Demande, demande.id)
        b = seconde.get(Demande, demande.id)
        a.intitule = "Version de la première"
        premiere.commit()
        b.intitule = "Version de la seconde"
        with pytest.raises(StaleDataError):
            seconde.commit()
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).intitule == "Version de la première"


def test_transitions_concurrentes_une_seule_gagne(app, db, monde):
    """Deux signataires attestent le même dossier au même instant (deux connexions) : un seul gagne."""
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    demande_id, signataire_id = demande.id, monde.signataire.id
    depart = threading.Barrier(2)
    resultats: list[str] = []

    def attester():
        with app.app_context():
            from dauphin.extensions import db as base
            from dauphin.models import Utilisateur

            signataire = base.session.get(Utilisateur, signataire_id)
            depart.wait(timeout=10)
            try:
                declencher_demande(demande_id, "attester", signataire, attestation=True)
                resultats.append("gagne")
            except Conflit:
                resultats.append("conflit")

    fils = [threading.Thread(target=attester) for _ in range(2)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=30)
    assert sorted(resultats) == ["conflit", "gagne"]
    db.session.expire_all()
    assert db.session.get(Demande, demande_id).numero.endswith("-000001")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(EvenementJournal)
            .where(EvenementJournal.declencheur == "attester")
        )
        == 1
    )
