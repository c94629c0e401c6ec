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
from dauphin.services import comptes_rendus
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
    # La structure et l'exercice recopiés sur chaque ligne : la recherche et le filtre par exercice d'un
    # financeur lisent ses seules lignes
    assert {ligne.structure_id for ligne in lignes.values()} == {monde.structure.id}
    assert {ligne.exercice for ligne in lignes.values()} == {demande.exercice}
    # Et le numéro et la date de transmission, posés après la création des lignes : ses pages se trient
    # sur ses lignes. Une recopie, pas une action : la version de la ligne (verrou optimiste) ne bouge pas.
    assert {(ligne.numero, ligne.transmise_le) for ligne in lignes.values()} == {
        (demande.numero, demande.transmise_le)
    }
    assert {ligne.version for ligne in lignes.values()} == {1}

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


def programmer(monde, demande, montants=None):
    """Instruit chaque ligne (recevable au montant demandé, ou à `montants[organisation_id]`) et
    inscrit le dossier à l'ordre du jour du comité. Rend {organisation_id: ligne_id}."""
    instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    lignes = {}
    for ligne in list(demande.lignes_financement):
        instructeur = instructeurs[ligne.organisation_id]
        if ligne.statut == StatutLigne.sollicitee:
            declencher_ligne(ligne.id, "prendre_en_charge", instructeur)
        if ligne.statut == StatutLigne.prise_en_charge:
            montant = (montants or {}).get(ligne.organisation_id, ligne.montant_demande)
            declencher_ligne(ligne.id, "declarer_recevable", instructeur, montant=montant)
        lignes[ligne.organisation_id] = ligne.id
    declencher_demande(demande.id, "programmer", monde.pilote)
    return lignes


def test_vote_borne_par_le_reste_de_l_enveloppe(db, monde):
    """L'enveloppe de la commune est de 20 000 € : deux votes de 15 000 € ne peuvent passer tous deux."""
    ids = []
    for i in range(2):
        demande = transmettre(
            monde, demande_complete(monde, commune=Decimal("15000"), intitule=f"Action {i}")
        )
        ids.append(programmer(monde, demande)[monde.commune.id])
    declencher_ligne(ids[0], "voter", monde.instructeur_commune, montant=Decimal("15000"))
    with pytest.raises(TransitionRefusee) as refus:
        declencher_ligne(ids[1], "voter", monde.instructeur_commune, montant=Decimal("15000"))
    probleme = next(p for p in refus.value.problemes if p.code == "enveloppe_depassee")
    assert "5\u202f000,00" in probleme.message
    declencher_ligne(ids[1], "voter", monde.instructeur_commune, montant=Decimal("5000"))
    db.session.expire_all()
    assert db.session.get(LigneFinancement, ids[1]).montant_vote == Decimal("5000.00")


def test_seul_le_financeur_vote_sa_ligne_et_seulement_en_comite(db, monde):
    demande = transmettre(monde, demande_complete(monde))
    ligne = next(lf for lf in demande.lignes_financement if lf.organisation_id == monde.etat.id)
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    declencher_ligne(ligne.id, "declarer_recevable", monde.instructeur_etat, montant=Decimal("6000"))
    with pytest.raises(TransitionRefusee) as refus:  # dossier pas encore au comité
        declencher_ligne(ligne.id, "voter", monde.instructeur_etat, montant=Decimal("6000"))
    assert {p.code for p in refus.value.problemes} == {"dossier_non_programme"}
    lignes = programmer(monde, db.session.get(Demande, demande.id), {})
    for intrus in (monde.pilote, monde.instructeur_commune, monde.partenaire_caf, monde.signataire):
        with pytest.raises(NonAutorise):
            declencher_ligne(lignes[monde.etat.id], "voter", intrus, montant=Decimal("6000"))
    declencher_ligne(lignes[monde.etat.id], "voter", monde.instructeur_etat, montant=Decimal("6000"))
    declencher_ligne(lignes[monde.commune.id], "refuser", monde.instructeur_commune)
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == StatutDemande.attribuee


@pytest.mark.parametrize(
    ("deja_vote", "vote", "convention"),
    [
        ("15000.00", "8000.00", False),
        ("15000.00", "8000.01", True),
        ("0", "23000.00", False),
        ("0", "23000.01", True),
    ],
)
def test_seuil_de_la_convention_cumule_par_structure_et_par_an(db, monde, deja_vote, vote, convention):
    """Au-delà de 23 000 € votés par un financeur à une structure dans l'année, une convention est requise."""
    monde.campagne.enveloppes[0].montant = Decimal("100000")  # l'État
    db.session.commit()
    if Decimal(deja_vote):
        premiere = transmettre(monde, demande_complete(monde, etat=Decimal(deja_vote), intitule="Première"))
        lignes = programmer(monde, premiere)
        declencher_ligne(lignes[monde.etat.id], "voter", monde.instructeur_etat, montant=Decimal(deja_vote))
    seconde = transmettre(monde, demande_complete(monde, etat=Decimal("30000"), intitule="Seconde"))
    lignes = programmer(monde, seconde)
    declencher_ligne(lignes[monde.etat.id], "voter", monde.instructeur_etat, montant=Decimal(vote))
    db.session.expire_all()
    ligne = db.session.get(LigneFinancement, lignes[monde.etat.id])
    assert ligne.convention_requise is convention
    attendu = "etablir_convention" if convention else "notifier"
    interdit = "notifier" if convention else "etablir_convention"
    with pytest.raises(TransitionRefusee):
        declencher_ligne(ligne.id, interdit, monde.instructeur_etat)
    declencher_ligne(ligne.id, attendu, monde.instructeur_etat)


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


@pytest.mark.transactions_reelles  # deux sessions sur deux connexions
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


@pytest.mark.transactions_reelles  # deux fils d'exécution, chacun sa connexion
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


@pytest.mark.transactions_reelles  # deux fils d'exécution, chacun sa connexion
def test_deux_financeurs_en_meme_temps_le_dossier_reste_coherent(app, db, monde):
    """Deux instructeurs donnent leur avis au même instant sur les deux lignes d'un dossier, chacun avec la
    page du dossier lue avant (la vue charge la ligne, le dossier et ses autres lignes) : sur PostgreSQL,
    les deux avis passent l'un après l'autre sous le verrou du dossier — l'avis d'un autre financeur sur
    une autre ligne n'est pas un conflit — et le dossier devient instruit. SQLite ignore FOR UPDATE : le
    second peut y recevoir un conflit clair, jamais un état incohérent."""
    demande = transmettre(monde, demande_complete(monde))
    lignes = {ligne.organisation_id: ligne.id for ligne in demande.lignes_financement}
    declencher_ligne(lignes[monde.etat.id], "prendre_en_charge", monde.instructeur_etat)
    declencher_ligne(lignes[monde.commune.id], "prendre_en_charge", monde.instructeur_commune)
    acteurs = {monde.etat.id: monde.instructeur_etat.id, monde.commune.id: monde.instructeur_commune.id}
    depart = threading.Barrier(2)
    resultats: dict[int, str] = {}

    def avis(organisation_id):
        with app.app_context():
            from dauphin.extensions import db as base
            from dauphin.models import Utilisateur

            instructeur = base.session.get(Utilisateur, acteurs[organisation_id])
            ligne = base.session.get(LigneFinancement, lignes[organisation_id])
            assert len(ligne.demande.lignes_financement) == 2  # lus avant, comme par l'écran du dossier
            version = ligne.version
            depart.wait(timeout=10)
            try:
                declencher_ligne(
                    ligne.id, "declarer_recevable", instructeur, version=version, montant=Decimal("1000")
                )
                resultats[organisation_id] = "fait"
            except Conflit:
                resultats[organisation_id] = "conflit"

    fils = [threading.Thread(target=avis, args=(organisation_id,)) for organisation_id in lignes]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=30)
    assert set(resultats.values()) <= {"fait", "conflit"} and len(resultats) == 2
    if db.engine.dialect.name == "postgresql":
        assert list(resultats.values()) == ["fait", "fait"]
    assert "fait" in resultats.values()
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    avisees = [ligne.statut == StatutLigne.recevable for ligne in demande.lignes_financement]
    attendu = StatutDemande.instruite if all(avisees) else StatutDemande.en_instruction
    assert demande.statut == attendu
    assert avisees.count(True) == list(resultats.values()).count("fait")


def test_reponse_aux_complements_fait_suivre_les_lignes_au_budget(db, monde):
    """Le porteur change son budget en répondant : montant modifié → avis à refaire, financeur retiré →
    ligne sans suite, financeur revenu → ligne sollicitée ; le dossier suit, tout est journalisé."""
    demande = transmettre(monde, demande_complete(monde))
    lignes = programmer(monde, demande)  # deux lignes recevables, dossier programmé…
    declencher_demande(demande.id, "deprogrammer", monde.pilote)  # …puis retiré de l'ordre du jour
    declencher_demande(
        demande.id, "demander_complements", monde.instructeur_etat, commentaire="Précisez le budget"
    )

    demande = db.session.get(Demande, demande.id)
    budget = {(lb.compte, lb.financeur_id): lb for lb in demande.lignes_budget}
    budget[("74", monde.etat.id)].montant = Decimal("5000")  # l'État : 6 000 → 5 000 €
    budget[("64", None)].montant -= Decimal("1000")
    commune = budget[("74", monde.commune.id)]
    budget[("75", None)].montant += commune.montant  # la commune retirée, compensée par des cotisations
    demande.lignes_budget.remove(commune)
    db.session.commit()
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True, commentaire="Budget revu")

    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    etat = db.session.get(LigneFinancement, lignes[monde.etat.id])
    commune = db.session.get(LigneFinancement, lignes[monde.commune.id])
    assert (etat.statut, etat.montant_demande, etat.montant_propose) == (
        StatutLigne.prise_en_charge,
        Decimal("5000.00"),
        None,
    )
    assert commune.statut == StatutLigne.abandonnee
    assert demande.statut == StatutDemande.en_instruction
    derniers = [(e.declencheur, e.role) for e in journal(db, demande.id)][-4:]
    assert derniers == [
        ("reexaminer", "systeme"),
        ("abandonner", "systeme"),
        ("attester", "signataire"),
        ("debuter_instruction", "systeme"),
    ]

    # La commune sollicitée de nouveau à la réponse suivante : sa ligne revient
    declencher_demande(
        demande.id, "demander_complements", monde.instructeur_etat, commentaire="Et la commune ?"
    )
    demande = db.session.get(Demande, demande.id)
    budget = {(lb.compte, lb.financeur_id): lb for lb in demande.lignes_budget}
    budget[("75", None)].montant -= Decimal("4000")
    demande.lignes_budget.append(
        type(budget[("75", None)])(
            compte="74", montant=Decimal("4000"), financeur_id=monde.commune.id, ordre=9
        )
    )
    db.session.commit()
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    db.session.expire_all()
    assert db.session.get(LigneFinancement, lignes[monde.commune.id]).statut == StatutLigne.sollicitee


def test_chaque_transition_ecrit_une_ligne_de_journal_et_un_refus_aucune(db, monde):
    """Un dossier parcourt tout le cycle par le service ; après chaque appel, exactement une nouvelle ligne
    de journal pour ce déclencheur, avec l'acteur et sa qualité, suivie seulement des statuts dérivés."""
    from dauphin.services.workflow import aujourdhui as jour

    vus = set()

    def faire(fonction, objet_id, declencheur, acteur, role, organisation=None, **arguments):
        avant = len(journal(db, demande.id))
        fonction(objet_id, declencheur, acteur, **arguments)
        nouveaux = journal(db, demande.id)[avant:]
        assert nouveaux, declencheur
        premier = nouveaux[0]
        assert (premier.declencheur, premier.acteur_id, premier.role) == (declencheur, acteur.id, role)
        if organisation is not None:
            assert premier.organisation_id == organisation.id
        assert all(e.role == "systeme" for e in nouveaux[1:])
        vus.update(e.declencheur for e in nouveaux)

    def refus(fonction, objet_id, declencheur, acteur, erreur, **arguments):
        avant = len(journal(db, demande.id))
        with pytest.raises(erreur):
            fonction(objet_id, declencheur, acteur, **arguments)
        assert len(journal(db, demande.id)) == avant

    def declarer_recevable(ligne_id, instructeur, financeur, montant):
        faire(
            lf,
            ligne_id,
            "declarer_recevable",
            instructeur,
            "instructeur",
            financeur,
            montant=Decimal(montant),
        )

    demande = demande_complete(monde)
    d, lf = declencher_demande, declencher_ligne
    refus(d, demande.id, "attester", monde.signataire, Conflit, attestation=True)
    faire(d, demande.id, "soumettre", monde.contributeur, "contributeur")
    faire(d, demande.id, "modifier", monde.contributeur, "contributeur")
    faire(d, demande.id, "soumettre", monde.signataire, "signataire")
    refus(d, demande.id, "attester", monde.signataire, TransitionRefusee, attestation=False)
    refus(d, demande.id, "attester", monde.contributeur, NonAutorise, attestation=True)
    faire(d, demande.id, "attester", monde.signataire, "signataire", attestation=True)
    demande = db.session.get(Demande, demande.id)
    etat = next(x.id for x in demande.lignes_financement if x.organisation_id == monde.etat.id)
    commune = next(x.id for x in demande.lignes_financement if x.organisation_id == monde.commune.id)
    refus(lf, etat, "prendre_en_charge", monde.instructeur_commune, NonAutorise)
    faire(lf, etat, "prendre_en_charge", monde.instructeur_etat, "instructeur", monde.etat)
    faire(
        d,
        demande.id,
        "demander_complements",
        monde.instructeur_etat,
        "instructeur",
        monde.etat,
        commentaire="Joindre le devis",
    )
    faire(d, demande.id, "attester", monde.signataire, "signataire", attestation=True)
    faire(
        lf,
        etat,
        "declarer_non_recevable",
        monde.instructeur_etat,
        "instructeur",
        monde.etat,
        commentaire="Non",
    )
    faire(lf, etat, "reviser_avis", monde.instructeur_etat, "instructeur", monde.etat)
    declarer_recevable(etat, monde.instructeur_etat, monde.etat, "6000")
    faire(lf, commune, "prendre_en_charge", monde.instructeur_commune, "instructeur", monde.commune)
    declarer_recevable(commune, monde.instructeur_commune, monde.commune, "4000")
    faire(lf, commune, "reviser_avis", monde.instructeur_commune, "instructeur", monde.commune)
    declarer_recevable(commune, monde.instructeur_commune, monde.commune, "4000")
    faire(d, demande.id, "programmer", monde.pilote, "pilote", monde.etat)
    faire(d, demande.id, "deprogrammer", monde.pilote, "pilote")
    faire(d, demande.id, "programmer", monde.pilote, "pilote")
    refus(lf, etat, "voter", monde.instructeur_etat, TransitionRefusee, montant=Decimal("6000.01"))
    faire(lf, etat, "voter", monde.instructeur_etat, "instructeur", monde.etat, montant=Decimal("6000"))
    faire(
        lf, commune, "voter", monde.instructeur_commune, "instructeur", monde.commune, montant=Decimal("4000")
    )
    faire(lf, etat, "notifier", monde.instructeur_etat, "instructeur")
    faire(lf, commune, "notifier", monde.instructeur_commune, "instructeur")
    faire(lf, etat, "verser_avance", monde.instructeur_etat, "instructeur", montant=Decimal("3000"))
    faire(lf, etat, "verser_avance", monde.instructeur_etat, "instructeur", montant=Decimal("1000"))
    refus(d, demande.id, "cloturer_exercice", monde.pilote, TransitionRefusee)  # exercice pas terminé
    fin = jour().replace(year=demande.exercice + 1)
    faire(d, demande.id, "cloturer_exercice", monde.pilote, "pilote", aujourdhui=fin)
    refus(d, demande.id, "deposer_justification", monde.signataire, TransitionRefusee, attestation=True)
    comptes_rendus.enregistrer(
        demande.id,
        monde.signataire,
        None,
        comptes_rendus.saisie_conforme_au_budget(db.session.get(Demande, demande.id), "Fait", "Habitants"),
    )
    faire(d, demande.id, "deposer_justification", monde.signataire, "signataire", attestation=True)
    faire(
        d,
        demande.id,
        "retourner_justification",
        monde.instructeur_commune,
        "instructeur",
        commentaire="Le réalisé manque",
    )
    faire(d, demande.id, "deposer_justification", monde.signataire, "signataire", attestation=True)
    refus(lf, etat, "solder", monde.instructeur_etat, TransitionRefusee, montant=Decimal("2000"))
    faire(lf, etat, "valider_compte_rendu", monde.instructeur_etat, "instructeur")
    faire(lf, commune, "valider_compte_rendu", monde.instructeur_commune, "instructeur")
    faire(lf, etat, "solder", monde.instructeur_etat, "instructeur", montant=Decimal("2000"))
    faire(lf, commune, "solder", monde.instructeur_commune, "instructeur", montant=Decimal("4000"))

    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == StatutDemande.justifiee
    assert {x.statut for x in demande.lignes_financement} == {StatutLigne.soldee}
    derives = {
        "debuter_instruction",
        "instruire",
        "reprendre_instruction",
        "attribuer",
        "verser",
        "valider_justification",
    }
    assert derives <= vus
