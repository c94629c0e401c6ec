"""Ce que le portail écrit aux porteurs : le signataire prévenu qu'une demande attend son attestation (par
courriel et sur son tableau de bord), et les notifications de la structure qui atteignent aussi la personne
chargée de la demande et l'adresse de la structure."""

from __future__ import annotations

from sqlalchemy import select

from dauphin.models import Courriel, Demande
from dauphin.services.workflow import declencher_demande
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html
from tests.parcours import version


def courriels(db, sujet_contient: str) -> dict[str, Courriel]:
    db.session.expire_all()
    return {
        c.destinataire: c
        for c in db.session.scalars(select(Courriel).where(Courriel.sujet.contains(sujet_contient)))
    }


def test_la_demande_soumise_est_annoncee_aux_signataires_par_courriel_et_sur_leur_tableau_de_bord(
    client, connexion, db, monde
):
    demande = demande_complete(monde)
    connexion.en_tant_que(monde.contributeur)
    assert 'id="demandes-a-attester"' not in html(client.get("/mes-demandes/"))
    reponse = client.post(f"/demandes/{demande.id}/soumettre", data={"version": version(client, demande.id)})
    assert reponse.status_code == 302

    recus = courriels(db, "à attester")
    assert set(recus) == {"signataire@test.fr"}  # ni contributeur ni administrateur
    courriel = recus["signataire@test.fr"]
    assert courriel.sujet == "Demande « Ateliers de quartier » à attester"
    assert "attend votre attestation sur l’honneur" in courriel.corps
    assert f"/dossiers/{demande.id}" in courriel.corps and courriel.demande_id == demande.id
    # Le contributeur n'a rien à attester : pas d'encart sur son tableau de bord
    assert 'id="demandes-a-attester"' not in html(client.get("/mes-demandes/"))
    connexion.deconnexion()

    connexion.en_tant_que(monde.signataire)
    page = html(client.get("/mes-demandes/"))
    assert 'id="demandes-a-attester"' in page and "À attester" in page
    lien = f'href="/demandes/{demande.id}/etape/recapitulatif">Attester « Ateliers de quartier »'
    assert lien in page
    assert "Attester sur l’honneur" in html(client.get(f"/demandes/{demande.id}/etape/recapitulatif"))


def test_les_notifications_de_la_structure_atteignent_la_personne_chargee_et_l_adresse_de_la_structure(
    client, connexion, db, monde
):
    monde.structure.email = "Contact@Jardins.test"
    demande = demande_complete(monde)
    demande.responsable_email = "lou@test.fr"
    db.session.commit()
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)

    membres = {"signataire@test.fr", "contributeur@test.fr", "administrateur@test.fr"}
    transmise = courriels(db, "transmise")
    assert set(transmise) == membres | {"lou@test.fr", "contact@jardins.test"}
    assert all(c.demande_id == demande.id for c in transmise.values())

    # Une même adresse n'est écrite qu'une fois (la personne chargée est aussi signataire)
    demande = db.session.get(Demande, demande.id)
    demande.responsable_email = "Signataire@Test.fr"
    db.session.commit()
    declencher_demande(
        demande.id, "demander_complements", monde.instructeur_etat, commentaire="Le bilan 2025."
    )
    db.session.expire_all()
    complements = db.session.scalars(
        select(Courriel.destinataire).where(Courriel.sujet.contains("compléments"))
    ).all()
    assert sorted(complements) == sorted(membres | {"contact@jardins.test"})
