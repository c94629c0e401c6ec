"""Compte rendu financier (CERFA n°15059) : clôture de l'exercice, rappels, saisie et attestation par le
porteur, renvoi, validation par chaque financeur, retards signalés, report des dates. Par le client de test,
sur SQLite et PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dauphin.models import (
    CompteRendu,
    Courriel,
    Demande,
    EvenementJournal,
    LigneFinancement,
    RappelCompteRendu,
)
from dauphin.services import comptes_rendus
from dauphin.services.erreurs import NonAutorise
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html, titre
from tests.requetes import Compteur
from tests.test_mes_demandes_requetes import ClientSessionNeuve
from workflows import StatutDemande as D
from workflows.compte_rendu import ecart_pourcentage, echeance, explication_requise, verifier_tableau


@pytest.fixture
def passe(db, monde):
    """La campagne du monde porte sur l'exercice écoulé : il peut être clôturé aujourd'hui."""
    monde.campagne.exercice = aujourdhui().year - 1
    db.session.commit()
    return monde


def csrf(client, url) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html(client.get(url))).group(1)


def transmise_pendant_l_exercice(monde, demande) -> Demande:
    """Déposée pendant l'exercice écoulé, quand l'action n'était pas encore terminée."""
    depot = date(demande.exercice, 6, 1)
    declencher_demande(demande.id, "soumettre", monde.contributeur, aujourdhui=depot)
    return declencher_demande(demande.id, "attester", monde.signataire, attestation=True, aujourdhui=depot)


def attribuee(db, monde, **montants) -> Demande:
    """Une demande votée par l'État et la commune, notifiée : par les vraies transitions."""
    demande = demande_complete(monde, **montants)
    transmise_pendant_l_exercice(monde, demande)
    instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    lignes = list(db.session.get(Demande, demande.id).lignes_financement)
    for ligne in lignes:
        declencher_ligne(ligne.id, "prendre_en_charge", instructeurs[ligne.organisation_id])
        declencher_ligne(
            ligne.id, "declarer_recevable", instructeurs[ligne.organisation_id], montant=ligne.montant_demande
        )
    declencher_demande(demande.id, "programmer", monde.pilote)
    for ligne in lignes:
        declencher_ligne(
            ligne.id, "voter", instructeurs[ligne.organisation_id], montant=ligne.montant_demande
        )
        declencher_ligne(ligne.id, "notifier", instructeurs[ligne.organisation_id])
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == D.attribuee
    return demande


def a_justifier(db, monde, **montants) -> Demande:
    demande = attribuee(db, monde, **montants)
    comptes_rendus.cloturer(demande.exercice)
    db.session.expire_all()
    return db.session.get(Demande, demande.id)


def saisie_conforme(demande, **surcharges) -> dict:
    """Le formulaire rempli : réalisé = prévu, bilan, public, bénéficiaires."""
    donnees = {
        "action_realisee": "oui",
        "bilan": "Trente ateliers tenus d’octobre à juin.",
        "public_atteint": "45 habitants, dont 30 femmes.",
        "beneficiaires_hors_qpv": "5",
    }
    for qpv in demande.qpvs:
        donnees[f"qpv_{qpv.id}"] = "40"
    for poste in demande.compte_rendu.lignes:
        donnees[f"realise_{poste.ordre}"] = str(poste.montant_prevu)
    donnees.update(surcharges)
    return donnees


def poster(client, demande, donnees, attester=False):
    url = f"/comptes-rendus/{demande.id}"
    donnees = {"csrf_token": csrf(client, url), "version": str(demande.compte_rendu.version), **donnees}
    if attester:
        donnees.update(attester="1", attestation="y")
    return client.post(url, data=donnees)


def ordre(demande, compte: str) -> int:
    return next(p.ordre for p in demande.compte_rendu.lignes if p.compte == compte)


def recharger(db, demande_id) -> Demande:
    db.session.expire_all()
    return db.session.get(Demande, demande_id)


# --- Le parcours complet -------------------------------------------------------------------------


def test_attribuee_a_justifier_depose_renvoye_redepose_valide_justifiee(app, db, passe, client, connexion):
    monde = passe
    demande = attribuee(db, monde)
    runner = app.test_cli_runner()

    # Clôture par la commande : acteur système, échéance au 30 juin qui suit l'exercice ; idempotente.
    resultat = runner.invoke(args=["exercice", "cloturer", str(demande.exercice)])
    assert resultat.exit_code == 0, resultat.output
    assert f"{demande.numero} : compte rendu dû le 30/06/{demande.exercice + 1}" in resultat.output
    demande = recharger(db, demande.id)
    assert demande.statut == D.a_justifier
    assert demande.compte_rendu.echeance == date(demande.exercice + 1, 6, 30)
    cloture = db.session.scalar(
        select(EvenementJournal).where(EvenementJournal.declencheur == "cloturer_exercice")
    )
    assert (cloture.acteur_id, cloture.role, cloture.statut_apres) == (None, "systeme", "a_justifier")
    again = runner.invoke(args=["exercice", "cloturer", str(demande.exercice)])
    assert "aucune demande à clôturer" in again.output
    assert db.session.query(EvenementJournal).filter_by(declencheur="cloturer_exercice").count() == 1
    en_cours = runner.invoke(args=["exercice", "cloturer", str(aujourdhui().year)])
    assert en_cours.exit_code != 0 and "n’est pas terminé" in en_cours.output

    # Le porteur voit le compte rendu attendu en tête de son tableau de bord (l'exercice écoulé a son
    # échéance au 30 juin de cette année : selon la date du jour, attendu ou déjà en retard).
    connexion.en_tant_que(monde.signataire)
    tableau = html(client.get("/mes-demandes/"))
    bloc = (
        "comptes-rendus-en-retard"
        if demande.compte_rendu.echeance < aujourdhui()
        else "comptes-rendus-attendus"
    )
    assert f'id="{bloc}"' in tableau and demande.numero in tableau

    # Brouillon incomplet : enregistré, rien de perdu ; l'attestation est refusée tant qu'il manque.
    reponse = poster(client, demande, {"action_realisee": "oui", "bilan": "Premiers ateliers"})
    assert reponse.status_code == 302
    demande = recharger(db, demande.id)
    assert demande.compte_rendu.bilan == "Premiers ateliers"
    reponse = poster(client, demande, saisie_conforme(demande, public_atteint=""), attester=True)
    assert reponse.status_code == 422
    assert titre(reponse).startswith("Erreur : ")
    assert "Décrivez le public atteint." in html(reponse)
    assert "Trente ateliers tenus" in html(reponse)  # la saisie est toujours là
    assert recharger(db, demande.id).statut == D.a_justifier

    # Dépôt : le signataire atteste.
    demande = recharger(db, demande.id)
    reponse = poster(client, demande, saisie_conforme(demande), attester=True)
    assert reponse.status_code == 302, html(reponse)
    demande = recharger(db, demande.id)
    assert demande.statut == D.justification_en_cours
    assert demande.compte_rendu.depose_par_id == monde.signataire.id
    assert db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == monde.instructeur_etat.email,
            Courriel.sujet.contains("compte rendu financier déposé"),
        )
    )

    # L'État valide sa ligne ; la commune renvoie avec un message : la validation de l'État est à refaire.
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    ligne_etat, ligne_commune = sorted(
        demande.lignes_financement, key=lambda lf: lf.organisation_id != monde.etat.id
    )
    dossier = html(client.get(f"/dossiers/{demande.id}"))
    assert "Valider le compte rendu financier" in dossier and "Trente ateliers tenus" in dossier
    url = f"/instruction/lignes/{ligne_etat.id}/valider-compte-rendu"
    prefixe = f"valider-compte-rendu-{ligne_etat.id}"
    reponse = client.post(url, data={f"{prefixe}-csrf_token": csrf(client, url), f"{prefixe}-version": ""})
    assert reponse.status_code == 302, html(reponse)
    assert recharger(db, demande.id).lignes_financement[0].compte_rendu_valide in (True, False)
    assert db.session.get(LigneFinancement, ligne_etat.id).compte_rendu_valide
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    url = f"/instruction/dossiers/{demande.id}/retourner-compte-rendu"
    prefixe = f"retourner-compte-rendu-{demande.id}"
    sans_message = client.post(
        url, data={f"{prefixe}-csrf_token": csrf(client, url), f"{prefixe}-commentaire": " "}
    )
    assert sans_message.status_code == 422
    reponse = client.post(
        url,
        data={
            f"{prefixe}-csrf_token": csrf(client, url),
            f"{prefixe}-commentaire": "Détaillez les frais de personnel.",
        },
    )
    assert reponse.status_code == 302, html(reponse)
    demande = recharger(db, demande.id)
    assert demande.statut == D.justification_a_modifier
    assert not db.session.get(LigneFinancement, ligne_etat.id).compte_rendu_valide
    courriel = db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == monde.signataire.email, Courriel.sujet.contains("à modifier")
        )
    )
    assert "Détaillez les frais de personnel." in courriel.corps

    # Le porteur lit le message du renvoi sur le formulaire qu'il corrige, avec le nom du financeur.
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    formulaire = html(client.get(f"/comptes-rendus/{demande.id}"))
    renvoi = formulaire.split('id="renvoi-compte-rendu"')[1].split("</div>")[0]
    assert "Détaillez les frais de personnel." in renvoi and monde.commune.nom in renvoi
    assert formulaire.index('id="renvoi-compte-rendu"') < formulaire.index('<form method="post" novalidate>')

    # Le porteur modifie et atteste de nouveau ; chaque financeur valide : le dossier est justifié.
    reponse = poster(
        client,
        demande,
        saisie_conforme(demande, bilan="Trente ateliers ; frais de personnel détaillés."),
        attester=True,
    )
    assert reponse.status_code == 302, html(reponse)
    assert recharger(db, demande.id).statut == D.justification_en_cours
    declencher_ligne(ligne_etat.id, "valider_compte_rendu", monde.instructeur_etat)
    assert recharger(db, demande.id).statut == D.justification_en_cours  # la commune n'a pas validé
    declencher_ligne(ligne_commune.id, "valider_compte_rendu", monde.instructeur_commune)
    demande = recharger(db, demande.id)
    assert demande.statut == D.justifiee
    derniers = [
        e.declencheur
        for e in db.session.scalars(
            select(EvenementJournal)
            .where(EvenementJournal.demande_id == demande.id)
            .order_by(EvenementJournal.id)
        )
    ][-2:]
    assert derniers == ["valider_compte_rendu", "valider_justification"]
    assert 'id="renvoi-compte-rendu"' not in html(client.get(f"/comptes-rendus/{demande.id}"))
    # Plus rien n'est modifiable.
    assert poster(client, demande, saisie_conforme(demande)).status_code == 409


def test_un_financeur_ne_valide_pas_la_ligne_d_un_autre(db, passe, client, connexion):
    demande = a_justifier(db, passe)
    poster_conforme = saisie_conforme(demande)
    connexion.en_tant_que(passe.signataire)
    assert poster(client, demande, poster_conforme, attester=True).status_code == 302
    ligne_etat = next(lf for lf in demande.lignes_financement if lf.organisation_id == passe.etat.id)
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_commune)
    url = f"/instruction/lignes/{ligne_etat.id}/valider-compte-rendu"
    assert client.get(url).status_code == 403
    with pytest.raises(NonAutorise):
        declencher_ligne(ligne_etat.id, "valider_compte_rendu", passe.instructeur_commune)
    with pytest.raises(NonAutorise):
        declencher_ligne(ligne_etat.id, "valider_compte_rendu", passe.signataire)
    assert not db.session.get(LigneFinancement, ligne_etat.id).compte_rendu_valide
    # Un autre porteur ne voit pas ce compte rendu.
    connexion.deconnexion()
    connexion.en_tant_que(passe.signataire_autre)
    assert client.get(f"/comptes-rendus/{demande.id}").status_code == 404
    assert client.get("/comptes-rendus/999999").status_code == 404


# --- Seuil et équilibre ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("realise", "requise"),
    [("11500.00", False), ("11501.00", True), ("8500.00", False), ("8499.00", True)],
)
def test_explication_exigee_strictement_au_dela_du_seuil(db, passe, client, connexion, realise, requise):
    """Charges de personnel prévues 10 000 € : 15,00 % d'écart n'exige rien, 15,01 % une explication.
    L'écart est compensé sur la subvention de la commune pour garder le tableau équilibré."""
    demande = a_justifier(db, passe, etat=Decimal("6000"), commune=Decimal("3500"))
    assert next(p for p in demande.compte_rendu.lignes if p.compte == "64").montant_prevu == Decimal("10000")
    difference = Decimal(realise) - Decimal("10000")
    commune = next(p.ordre for p in demande.compte_rendu.lignes if p.financeur_id == passe.commune.id)
    donnees = saisie_conforme(
        demande,
        **{
            f"realise_{ordre(demande, '64')}": realise,
            f"realise_{commune}": str(Decimal("3500") + difference),
            # La subvention de la commune change de plus de 15 % : son explication est toujours donnée.
            f"explication_{commune}": "Subvention votée différente de la demande.",
        },
    )
    connexion.en_tant_que(passe.signataire)
    reponse = poster(client, demande, donnees, attester=True)
    if requise:
        assert reponse.status_code == 422
        assert "Expliquez l’écart de « 64 — Charges de personnel »" in html(reponse)
        assert "Expliquez l’écart de « 74" not in html(reponse)
        donnees[f"explication_{ordre(demande, '64')}"] = "Un animateur de plus recruté en cours d’année."
        demande = recharger(db, demande.id)
        reponse = poster(client, demande, donnees, attester=True)
    assert reponse.status_code == 302, html(reponse)
    assert recharger(db, demande.id).statut == D.justification_en_cours


def test_regles_d_equilibre_du_tableau(db, passe, client, connexion):
    demande = a_justifier(db, passe)
    connexion.en_tant_que(passe.signataire)
    donnees = saisie_conforme(demande, **{f"realise_{ordre(demande, '60')}": "600"})
    donnees[f"explication_{ordre(demande, '60')}"] = "Hausse des prix"
    reponse = poster(client, demande, donnees, attester=True)
    assert reponse.status_code == 422
    assert "doit être égal au total des produits réalisés" in html(reponse)
    ajout = poster(client, demande, saisie_conforme(demande, ajouter_poste="1", poste_a_ajouter="864"))
    assert ajout.status_code == 302, html(ajout)
    demande = recharger(db, demande.id)
    donnees = saisie_conforme(
        demande,
        **{f"realise_{ordre(demande, '864')}": "100", f"explication_{ordre(demande, '864')}": "Bénévoles"},
    )
    reponse = poster(client, demande, donnees, attester=True)
    assert reponse.status_code == 422 and "(86 :" in html(reponse)
    reponse = poster(client, demande, saisie_conforme(demande, **{f"realise_{ordre(demande, '60')}": "-5"}))
    assert reponse.status_code == 422 and "ne peut pas être négatif" in html(reponse)
    assert 'value="-5"' in html(reponse)  # la saisie reste
    assert recharger(db, demande.id).statut == D.a_justifier


def test_le_tableau_reprend_les_postes_du_budget_et_ceux_que_le_porteur_ajoute(db, passe, client, connexion):
    """Pas les 25 postes du CERFA : ceux du budget de la demande ; le porteur en ajoute un (sa saisie est
    enregistrée avec), le retire, mais ne retire pas un poste du budget."""
    demande = a_justifier(db, passe)
    budget = sorted(lb.compte for lb in demande.lignes_budget)
    assert sorted(p.compte for p in demande.compte_rendu.lignes) == budget == ["60", "64", "74", "74", "75"]
    connexion.en_tant_que(passe.signataire)
    page = html(client.get(f"/comptes-rendus/{demande.id}"))
    assert 'name="realise_' in page and "Personnel bénévole" in page  # proposé à l'ajout seulement
    assert len(re.findall(r'<input class="fr-input dauphin-realise', page)) == 5

    sans_choix = poster(
        client, demande, {"action_realisee": "oui", "bilan": "Ateliers", "ajouter_poste": "1"}
    )
    assert sans_choix.status_code == 422 and "Choisissez le poste à ajouter au tableau." in html(sans_choix)
    assert "Ateliers" in html(sans_choix)
    deja_la = poster(
        client, demande, {"action_realisee": "oui", "ajouter_poste": "1", "poste_a_ajouter": "60"}
    )
    assert deja_la.status_code == 422 and "qui n’est pas déjà dans le tableau" in html(deja_la)
    assert 'aria-describedby="poste_a_ajouter-erreur' in html(deja_la)

    reponse = poster(
        client,
        demande,
        {"action_realisee": "oui", "bilan": "Ateliers", "ajouter_poste": "1", "poste_a_ajouter": "864"},
    )
    assert reponse.status_code == 302 and reponse.headers["Location"].endswith("#tableau-compte-rendu")
    demande = recharger(db, demande.id)
    assert demande.compte_rendu.bilan == "Ateliers"
    ajoute = next(p for p in demande.compte_rendu.lignes if p.compte == "864")
    assert ajoute.montant_prevu == 0
    page = html(client.get(f"/comptes-rendus/{demande.id}"))
    charges = page.split("Produits : réalisé et prévu")[0]
    assert charges.index("864 — Personnel bénévole") > charges.index("64 — Charges de personnel")
    assert 'data-retirer="864"' in page and 'data-retirer="60"' not in page

    budget_60 = ordre(demande, "60")
    refus = poster(
        client, demande, {"action_realisee": "oui", "bilan": "Ateliers", "retirer_poste": str(budget_60)}
    )
    assert refus.status_code == 409 and "vient du budget de la demande" in html(refus)
    demande = recharger(db, demande.id)
    assert (
        poster(client, demande, {"action_realisee": "oui", "retirer_poste": str(ajoute.ordre)}).status_code
        == 302
    )
    assert "864" not in {p.compte for p in recharger(db, demande.id).compte_rendu.lignes}


def test_action_non_realisee_sommes_a_reverser(db, passe, client, connexion):
    demande = a_justifier(db, passe)
    ligne_etat = next(lf for lf in demande.lignes_financement if lf.organisation_id == passe.etat.id)
    declencher_ligne(ligne_etat.id, "verser_avance", passe.instructeur_etat, montant=Decimal("2500"))
    connexion.en_tant_que(passe.signataire)
    reponse = poster(client, demande, {"action_realisee": "non"}, attester=True)
    assert reponse.status_code == 422 and "Expliquez pourquoi l’action n’a pas été réalisée." in html(reponse)
    demande = recharger(db, demande.id)
    reponse = poster(
        client,
        demande,
        {"action_realisee": "non", "motif_non_realisation": "Salle fermée toute l’année."},
        attester=True,
    )
    assert reponse.status_code == 302, html(reponse)
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_etat)
    dossier = html(client.get(f"/dossiers/{demande.id}"))
    assert "Action non réalisée" in dossier and "Salle fermée" in dossier
    bloc = re.search(rf'<tr id="reverser-{ligne_etat.id}">.*?</tr>', dossier, re.S).group(0)
    assert "2\u202f500,00" in bloc
    panneau = re.search(
        rf'<div class="dauphin-panneau[^"]*" id="ligne-{ligne_etat.id}">.*?</dl>', dossier, re.S
    ).group(0)
    assert "Action non réalisée : à reverser" in panneau and "2\u202f500,00" in panneau


# --- Rappels et retards ----------------------------------------------------------------------------


def test_rappels_envoyes_une_seule_fois(app, db, passe):
    demande = a_justifier(db, passe)
    jour_echeance = demande.compte_rendu.echeance
    assert str(comptes_rendus.relancer(jour=jour_echeance - timedelta(days=40))).startswith("Aucun rappel")
    bilan = comptes_rendus.relancer(jour=jour_echeance - timedelta(days=20))
    assert (bilan.avant, bilan.apres) == (1, 0)
    assert comptes_rendus.relancer(jour=jour_echeance - timedelta(days=10)).avant == 0
    bilan = comptes_rendus.relancer(jour=jour_echeance + timedelta(days=1))
    assert (bilan.avant, bilan.apres) == (0, 1)
    assert comptes_rendus.relancer(jour=jour_echeance + timedelta(days=30)).apres == 0
    assert db.session.query(RappelCompteRendu).count() == 2
    retard = db.session.scalars(select(Courriel).where(Courriel.sujet.contains("en retard"))).all()
    assert {c.destinataire for c in retard} == {
        "signataire@test.fr",
        "contributeur@test.fr",
        "administrateur@test.fr",
        "lou@test.fr",  # la personne chargée de la demande
    }
    resultat = app.test_cli_runner().invoke(args=["exercice", "relancer"])
    assert (
        resultat.exit_code == 0 and "Aucun rappel" in resultat.output or "Rappels envoyés" in resultat.output
    )


def test_retard_signale_au_financeur_et_sur_le_tableau_de_bord(db, passe, client, connexion):
    ancienne = a_justifier(db, passe)
    ancienne.compte_rendu.echeance = aujourdhui() - timedelta(days=1)
    db.session.commit()
    nouvelle = transmise_pendant_l_exercice(passe, demande_complete(passe, intitule="Nouvelle action"))

    connexion.en_tant_que(passe.signataire)
    tableau = html(client.get("/mes-demandes/"))
    assert 'id="comptes-rendus-en-retard"' in tableau
    assert tableau.index("comptes-rendus-en-retard") < tableau.index("<table")
    connexion.deconnexion()

    connexion.en_tant_que(passe.instructeur_etat)
    liste = html(client.get("/instruction/"))
    ligne = re.search(rf'<tr data-demande="{nouvelle.numero}">.*?</tr>', liste, re.S).group(0)
    assert f"Compte rendu en retard ({ancienne.numero})" in ligne
    dossier = html(client.get(f"/dossiers/{nouvelle.id}"))
    assert 'id="alerte-retard-cr"' in dossier and ancienne.numero in dossier
    # Une structure à jour n'est pas signalée.
    ancienne.compte_rendu.echeance = aujourdhui() + timedelta(days=1)
    db.session.commit()
    assert "Compte rendu en retard" not in html(client.get("/instruction/"))


def test_report_des_dates_accepte_recalcule_l_echeance(app, db, passe, client, connexion):
    demande = a_justifier(db, passe)
    connexion.en_tant_que(passe.signataire)
    url = f"/comptes-rendus/{demande.id}/report"
    fin = date(demande.exercice + 1, 6, 30)
    reponse = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "date_debut": f"{demande.exercice}-01-01",
            "date_fin": fin.isoformat(),
            "motif": "",
        },
    )
    assert reponse.status_code == 422 and titre(reponse).startswith("Erreur : ")
    reponse = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "date_debut": f"{demande.exercice}-01-01",
            "date_fin": fin.isoformat(),
            "motif": "Travaux dans la salle",
        },
    )
    assert reponse.status_code == 302
    demande_de_report = db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == passe.instructeur_commune.email, Courriel.sujet.contains("report")
        )
    )
    assert demande_de_report.sujet == f"Demande {demande.numero} : report des dates de l’action demandé"
    assert f"au {fin:%d/%m/%Y}.\nMotif : Travaux dans la salle\n" in demande_de_report.corps
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_commune)
    report = comptes_rendus.reports(demande)[0]
    url = f"/comptes-rendus/reports/{report.id}"
    refus_sans_message = client.post(
        url, data={"csrf_token": csrf(client, url), "decision": "refuser", "reponse": ""}
    )
    assert refus_sans_message.status_code == 422
    reponse = client.post(url, data={"csrf_token": csrf(client, url), "decision": "accepter", "reponse": ""})
    assert reponse.status_code == 302
    demande = recharger(db, demande.id)
    assert demande.date_fin == fin
    assert demande.compte_rendu.echeance == date(demande.exercice + 2, 6, 30)
    reponse_au_porteur = db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == passe.signataire.email, Courriel.sujet.contains("report des dates")
        )
    )
    assert reponse_au_porteur.sujet == f"Demande {demande.numero} : report des dates accepté"
    assert (
        f"accepté ; compte rendu dû le {demande.compte_rendu.echeance:%d/%m/%Y}.\n"
        f"{app.config['BASE_URL']}/dossiers/{demande.id}" in reponse_au_porteur.corps
    )
    assert (
        db.session.scalar(
            select(EvenementJournal).where(EvenementJournal.declencheur == "accepter_report_dates")
        ).organisation_id
        == passe.commune.id
    )


def test_seul_le_signataire_atteste_et_l_attestation_est_cochee(db, passe, client, connexion):
    """Le contributeur remplit le brouillon ; le bouton d'attestation ne lui est pas proposé, et l'envoi
    forgé est refusé (403) sans rien déposer. Le signataire qui oublie de cocher l'attestation garde sa
    saisie et lit le message à côté de la case."""
    demande = a_justifier(db, passe)
    connexion.en_tant_que(passe.contributeur)
    page = html(client.get(f"/comptes-rendus/{demande.id}"))
    assert "Enregistrer le brouillon" in page and 'name="attester"' not in page
    assert poster(client, demande, saisie_conforme(demande), attester=True).status_code == 403
    assert recharger(db, demande.id).statut == D.a_justifier
    assert poster(client, demande, saisie_conforme(demande)).status_code == 302
    connexion.deconnexion()

    connexion.en_tant_que(passe.signataire)
    demande = recharger(db, demande.id)
    donnees = {**saisie_conforme(demande, bilan="Bilan du signataire"), "attester": "1"}
    reponse = poster(client, demande, donnees)
    assert reponse.status_code == 422 and titre(reponse).startswith("Erreur : ")
    case = re.search(
        r'<div class="fr-checkbox-group[^"]*fr-checkbox-group--error.*?</div>', html(reponse), re.S
    )
    assert "Cochez l’attestation sur l’honneur pour déposer le compte rendu." in case.group(0)
    assert "Bilan du signataire" in html(reponse)
    assert recharger(db, demande.id).statut == D.a_justifier


def test_report_des_dates_propose_seulement_quand_il_est_possible(db, passe, client, connexion):
    """Une demande de report attend sa réponse : le lien n'est plus proposé, la page renvoie au compte
    rendu avec la raison, et un envoi depuis une page ancienne répond 409 en gardant le motif tapé. Un
    financeur qui répond après un autre reçoit 409 lui aussi."""
    demande = a_justifier(db, passe)
    connexion.en_tant_que(passe.signataire)
    url = f"/comptes-rendus/{demande.id}/report"
    assert url in html(client.get(f"/comptes-rendus/{demande.id}"))
    donnees = {"date_debut": f"{demande.exercice}-01-01", "date_fin": f"{demande.exercice + 1}-03-31"}
    assert client.post(url, data={**donnees, "motif": "Salle en travaux"}).status_code == 302
    demandee = db.session.scalar(
        select(EvenementJournal).where(EvenementJournal.declencheur == "demander_report_dates")
    )
    assert (demandee.acteur_id, demandee.role, demandee.structure_id) == (
        passe.signataire.id,
        "signataire",
        passe.structure.id,
    )
    assert url not in html(client.get(f"/comptes-rendus/{demande.id}"))
    page = client.get(url)
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/comptes-rendus/{demande.id}")
    assert "attend déjà la réponse des financeurs" in html(client.get(page.headers["Location"]))
    double = client.post(url, data={**donnees, "motif": "Second motif tapé"})
    assert double.status_code == 409 and titre(double).startswith("Conflit : ")
    assert "attend déjà la réponse des financeurs" in html(double) and "Second motif tapé" in html(double)
    assert len(comptes_rendus.reports(demande)) == 1
    connexion.deconnexion()

    report = comptes_rendus.reports(demande)[0]
    url = f"/comptes-rendus/reports/{report.id}"
    connexion.en_tant_que(passe.instructeur_etat)
    assert client.get(url).status_code == 200  # la page ouverte avant la réponse de la commune
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_commune)
    assert client.post(url, data={"decision": "accepter", "reponse": ""}).status_code == 302
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_etat)
    tard = client.post(url, data={"decision": "refuser", "reponse": "Non, trop tard."})
    assert tard.status_code == 409 and "déjà reçu une réponse : accepté" in html(tard)
    assert "Non, trop tard." in html(tard)
    assert client.get(url).status_code == 302  # la page elle-même renvoie au dossier


def test_cloture_par_le_pilote_depuis_son_ecran(db, passe, client, connexion):
    demande = attribuee(db, passe)
    connexion.en_tant_que(passe.pilote)
    url = f"/comptes-rendus/cloture?annee={demande.exercice}"
    page = html(client.get(url))
    assert demande.numero in page
    jeton = csrf(client, url)
    sans_confirmation = client.post(
        "/comptes-rendus/cloture", data={"csrf_token": jeton, "annee": demande.exercice}
    )
    assert sans_confirmation.status_code == 422
    assert recharger(db, demande.id).statut == D.attribuee
    reponse = client.post(
        "/comptes-rendus/cloture", data={"csrf_token": jeton, "annee": demande.exercice, "confirmation": "y"}
    )
    assert reponse.status_code == 200 and "1 demande passée « à justifier »" in html(reponse)
    assert recharger(db, demande.id).statut == D.a_justifier
    evenement = db.session.scalar(
        select(EvenementJournal).where(EvenementJournal.declencheur == "cloturer_exercice")
    )
    assert (evenement.acteur_id, evenement.role) == (passe.pilote.id, "pilote")
    deuxieme = client.post(
        "/comptes-rendus/cloture", data={"csrf_token": jeton, "annee": demande.exercice, "confirmation": "y"}
    )
    assert "0 demande passée" in html(deuxieme)
    en_cours = client.post("/comptes-rendus/cloture", data={"annee": aujourdhui().year, "confirmation": "y"})
    assert en_cours.status_code == 422 and "n’est pas terminé" in html(en_cours)
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_etat)
    assert client.get("/comptes-rendus/cloture").status_code == 403


# --- Propriétés ----------------------------------------------------------------------------------

montants = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@given(prevu=montants, realise=montants, seuil=st.decimals(min_value=0, max_value=100, places=2))
def test_ecart_calcule_et_explication_coherente(prevu, realise, seuil):
    pourcentage = ecart_pourcentage(prevu, realise)
    if prevu == 0:
        assert pourcentage is None
        assert explication_requise(prevu, realise, seuil) == (realise > 0)
    else:
        exact = (realise - prevu) * 100 / prevu
        assert abs(pourcentage - exact) <= Decimal("0.005")
        assert explication_requise(prevu, realise, seuil) == (abs(pourcentage) > seuil)


class Poste:
    def __init__(self, compte, prevu, realise, explication=None):
        self.compte, self.montant_prevu, self.montant_realise = compte, prevu, realise
        self.explication, self.financeur_id, self.financeur_libelle = explication, None, None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["60", "64", "75", "70", "864", "870", "ZZ"]),
            montants,
            st.one_of(
                st.none(),
                st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000),
            ),
        ),
        max_size=8,
    )
)
def test_regles_du_tableau_sans_exception(postes):
    erreurs = verifier_tableau([Poste(c, p, r) for c, p, r in postes], Decimal("15"))
    assert all(e.message for e in erreurs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(saisie=st.text(max_size=20), explication=st.text(max_size=30))
def test_aucune_saisie_ne_provoque_d_erreur_serveur(db, passe, client, connexion, saisie, explication):
    demande = db.session.scalar(select(Demande).join(CompteRendu))
    if demande is None:
        demande = a_justifier(db, passe)
        connexion.en_tant_que(passe.signataire)
    demande = recharger(db, demande.id)
    donnees = saisie_conforme(
        demande,
        **{f"realise_{ordre(demande, '60')}": saisie, f"explication_{ordre(demande, '60')}": explication},
    )
    reponse = poster(client, demande, donnees, attester=True)
    assert reponse.status_code in (302, 409, 422)
    if reponse.status_code == 302:
        # Déposé : on le remet « à modifier » pour l'exemple suivant.
        declencher_demande(
            demande.id, "retourner_justification", passe.instructeur_etat, commentaire="Encore"
        )


def test_echeance_annuelle_et_pluriannuelle():
    assert echeance(2025) == date(2026, 6, 30)
    assert echeance(2027, date(2027, 9, 30)) == date(2028, 6, 30)
    assert echeance(2025, date(2026, 3, 31)) == date(2027, 6, 30)


def test_retards_en_nombre_de_requetes_borne(app, db, passe, client, connexion):
    """Le badge de retard se calcule en une requête pour toute la page : autant de requêtes avec 2 ou 8
    structures en retard (liste du financeur, tableau de bord du porteur)."""
    from dauphin.models import CompteRendu as CR
    from tests.requetes import Compteur
    from tests.test_instruction import dossier
    from workflows import StatutLigne as L

    compteur = Compteur(db.engine)

    def en_retard(nombre):
        for i in range(nombre):
            structure = passe.structure if i % 2 else passe.autre_structure
            ancienne = dossier(
                db,
                passe,
                f"Ancienne {i}",
                {passe.etat: (L.engagee, "100")},
                statut=D.a_justifier,
                structure=structure,
            )
            ancienne.lignes_financement[0].montant_vote = Decimal("100")
            db.session.add(CR(demande_id=ancienne.id, echeance=aujourdhui() - timedelta(days=10)))
            dossier(db, passe, f"Nouvelle {i}", {passe.etat: (L.sollicitee, "100")}, structure=structure)
        db.session.commit()

    def mesures():
        resultat = {}
        for acteur, url in ((passe.instructeur_etat, "/instruction/"), (passe.signataire, "/mes-demandes/")):
            connexion.en_tant_que(acteur)
            resultat[url] = compteur.mesurer(client, url)
            connexion.deconnexion()
        return resultat

    en_retard(2)
    avec_2 = mesures()
    en_retard(6)
    assert mesures() == avec_2
    connexion.en_tant_que(passe.instructeur_etat)
    assert "Compte rendu en retard" in html(client.get("/instruction/"))


def test_seul_un_financeur_qui_a_vote_renvoie_le_compte_rendu(db, passe, client, connexion):
    """La commune a refusé sa ligne : le compte rendu ne la concerne pas, elle ne peut pas le renvoyer."""
    demande = demande_complete(passe)
    transmise_pendant_l_exercice(passe, demande)
    instructeurs = {passe.etat.id: passe.instructeur_etat, passe.commune.id: passe.instructeur_commune}
    lignes = list(recharger(db, demande.id).lignes_financement)
    for ligne in lignes:
        acteur = instructeurs[ligne.organisation_id]
        declencher_ligne(ligne.id, "prendre_en_charge", acteur)
        declencher_ligne(ligne.id, "declarer_recevable", acteur, montant=ligne.montant_demande)
    declencher_demande(demande.id, "programmer", passe.pilote)
    for ligne in lignes:
        acteur = instructeurs[ligne.organisation_id]
        if ligne.organisation_id == passe.etat.id:
            declencher_ligne(ligne.id, "voter", acteur, montant=ligne.montant_demande)
            declencher_ligne(ligne.id, "notifier", acteur)
        else:
            declencher_ligne(ligne.id, "refuser", acteur)
    comptes_rendus.cloturer(demande.exercice)
    demande = recharger(db, demande.id)
    connexion.en_tant_que(passe.signataire)
    assert poster(client, demande, saisie_conforme(demande), attester=True).status_code == 302
    connexion.deconnexion()
    connexion.en_tant_que(passe.instructeur_commune)
    assert client.get(f"/instruction/dossiers/{demande.id}/retourner-compte-rendu").status_code == 403
    with pytest.raises(NonAutorise):
        declencher_demande(
            demande.id, "retourner_justification", passe.instructeur_commune, commentaire="Non"
        )
    # L'État, seul financeur, valide : le dossier est justifié.
    ligne_etat = next(lf for lf in lignes if lf.organisation_id == passe.etat.id)
    declencher_ligne(ligne_etat.id, "valider_compte_rendu", passe.instructeur_etat)
    assert recharger(db, demande.id).statut == D.justifiee


# Les ordres SQL de l'espace d'instruction d'un financeur, comptés et non chronométrés : les listes de filtres
# (contrats, quartiers, thématiques) en un ordre, les retards de compte rendu lus avec la page. Le 7 décembre
# au soir ; il peut baisser ; s'il monte, dire pourquoi avant de changer le chiffre.
ORDRES_ESPACE = {"/instruction/": 6, "/instruction/?q=Nouvelle": 7}


def test_espace_d_instruction_avec_un_retard_en_un_nombre_fixe_d_ordres_sql(db, passe, client, connexion):
    ancienne = a_justifier(db, passe)
    ancienne.compte_rendu.echeance = aujourdhui() - timedelta(days=1)
    db.session.commit()
    transmise_pendant_l_exercice(passe, demande_complete(passe, intitule="Nouvelle action"))
    connexion.en_tant_que(passe.instructeur_etat)
    lecteur, compteur = ClientSessionNeuve(client, db), Compteur(db.engine)
    comptes = {url: compteur.mesurer(lecteur, url) for url in ORDRES_ESPACE}
    assert comptes == ORDRES_ESPACE
    for url in ORDRES_ESPACE:  # le badge est bien lu avec la page
        assert f"Compte rendu en retard ({ancienne.numero})" in html(lecteur.get(url))


def test_comptes_rendus_attendus_du_tableau_de_bord_par_echeance_puis_demande(db, passe, client, connexion):
    """Lus avec les demandes à attester (une requête) et triés en Python : par échéance, puis par demande à
    échéance égale, comme le tri SQL d'avant ; les retards dans leur propre encart."""
    petits = {"etat": Decimal("2000"), "commune": Decimal("1000")}  # sous le seuil de la convention, à quatre
    demandes = [a_justifier(db, passe, **petits) for _ in range(4)]
    for demande, jours in zip(demandes, (30, 10, 30, -1), strict=True):
        demande.compte_rendu.echeance = aujourdhui() + timedelta(days=jours)
    db.session.commit()
    numeros = [demande.numero for demande in demandes]

    connexion.en_tant_que(passe.signataire)
    tableau = html(client.get("/mes-demandes/"))
    debut = tableau.index('id="comptes-rendus-en-retard"')
    milieu = tableau.index('id="comptes-rendus-attendus"')
    retards, attendus = tableau[debut:milieu], tableau[milieu : tableau.index("<table")]
    assert numeros[3] in retards and not any(n in retards for n in numeros[:3])
    assert [attendus.index(numeros[i]) for i in (1, 0, 2)] == sorted(attendus.index(n) for n in numeros[:3])
