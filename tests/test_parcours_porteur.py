"""Le parcours du porteur par le client de test, sur SQLite et PostgreSQL : campagnes ouvertes,
formulaire en étapes, règles du budget, soumission, attestation, récépissé, tableau de bord, retrait,
renouvellement, réponse à une demande de compléments, et cloisonnement entre structures."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dauphin.models import Courriel, Demande, Document, EvenementJournal, TypePiece
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from forms.validators import format_siret
from tests.parcours import (
    ATTESTATION,
    action_valide,
    budget_valide,
    creer_brouillon,
    deposer_statuts,
    remplir,
    transmettre,
    version,
)
from workflows import StatutDemande


def texte(reponse) -> str:
    return reponse.get_data(as_text=True)


@pytest.mark.recepisse  # le porteur télécharge son récépissé
def test_parcours_complet_du_depot_a_la_transmission(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    assert "Appel à projets de test" in texte(client.get("/demandes/campagnes"))
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)

    recapitulatif = texte(client.get(f"/demandes/{demande_id}/etape/recapitulatif"))
    assert "La demande est complète" in recapitulatif
    reponse = client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    assert reponse.status_code == 302
    page = texte(client.get(f"/demandes/{demande_id}/etape/recapitulatif"))
    assert "Un signataire de la structure" in page and "Attester sur l’honneur" not in page

    # Un contributeur ne peut pas attester, même en forgeant la requête
    reponse = client.post(
        f"/demandes/{demande_id}/attester",
        data={"version": version(client, demande_id), **ATTESTATION},
    )
    assert reponse.status_code == 403
    connexion.deconnexion()

    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        f"/demandes/{demande_id}/attester", data={"version": version(client, demande_id), "declarations": "y"}
    )
    assert reponse.status_code == 422 and "Cette attestation est obligatoire" in texte(reponse)
    reponse = client.post(
        f"/demandes/{demande_id}/attester",
        data={"version": version(client, demande_id), **ATTESTATION},
    )
    assert reponse.status_code == 302 and reponse.headers["Location"] == f"/dossiers/{demande_id}"

    demande = db.session.get(Demande, demande_id)
    assert demande.statut == StatutDemande.transmise and demande.numero == f"{demande.exercice}-000001"
    assert demande.responsable_email == "lou@test.fr"
    assert {(lf.organisation_id, str(lf.montant_demande)) for lf in demande.lignes_financement} == {
        (monde.etat.id, "6000.00"),
        (monde.commune.id, "3000.00"),
    }
    dossier = texte(client.get(f"/dossiers/{demande_id}"))
    assert "Télécharger le récépissé" in dossier and "Attestée sur l’honneur et transmise" in dossier

    # Le récépissé : un vrai PDF, qui reprend le numéro, la structure, le budget et l'attestation
    recepisse = db.session.scalar(
        select(Document).where(Document.demande_id == demande_id, Document.type_piece == TypePiece.recepisse)
    )
    reponse = client.get(f"/documents/{recepisse.id}/telecharger")
    assert reponse.status_code == 200 and reponse.mimetype == "application/pdf"
    assert "attachment" in reponse.headers["Content-Disposition"]
    contenu = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reponse.data)).pages)
    contenu = re.sub(r"\s+", " ", contenu)
    for attendu in (
        demande.numero,
        format_siret(monde.structure.siret),  # « 123 456 789 00012 »
        "Ateliers de cuisine partagée",
        "Attestation sur",
        "contrat d’engagement républicain",
        "Préfecture du Nord",
    ):
        assert attendu in contenu, attendu

    # Courriels : la structure et les instructeurs des financeurs sollicités
    sujets = {(c.destinataire, c.sujet) for c in db.session.scalars(select(Courriel))}
    assert ("signataire@test.fr", f"Demande {demande.numero} transmise") in sujets
    assert ("instructeur.etat@test.fr", f"Nouvelle demande à instruire : {demande.numero}") in sujets

    # Tableau de bord : statut, total demandé, prochaine étape ; chaque financeur et son montant dans le
    # détail de la demande (sous-lignes ouvertes à la demande)
    tableau = re.sub(r"</?abbr[^>]*>", "", texte(client.get("/mes-demandes/")))  # le texte lu, sigles compris
    rangee = re.search(rf'<tr data-demande="{demande.id}">(.*?)</tr>', tableau, re.S).group(1)
    assert "Transmise" in rangee and "9\u202f000,00\xa0€" in rangee
    assert "Aucune : les financeurs instruisent la demande" in rangee
    detail = re.findall(
        rf'<tr id="financeur-{demande.id}-\d+" class="dauphin-sous-ligne" hidden>\s*'
        r'<th scope="row">([^<]+)</th>.*?<td class="dauphin-numerique">([^<]+)</td>',
        tableau,
        re.S,
    )
    assert ("Préfecture du Nord (État – P147)", "6\u202f000,00\xa0€") in detail
    assert ("Ville de Lille", "3\u202f000,00\xa0€") in detail


def test_etapes_et_saisies_refusees_sans_rien_perdre(client, connexion, monde):
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    donnees = action_valide(
        monde,
        date_fin=f"{monde.campagne.exercice - 1}-06-30",
        intitule="Mon intitulé à garder",
        nb_beneficiaires="beaucoup",
    )
    reponse = client.post(
        f"/demandes/{demande_id}/etape/action", data={"version": version(client, demande_id), **donnees}
    )
    page = texte(reponse)
    assert reponse.status_code == 422  # la saisie refusée : la page revient telle que tapée
    assert "<title>Erreur : " in page and "Le formulaire contient des erreurs" in page
    assert "La date de fin doit suivre la date de début." in page
    assert (
        'value="Mon intitulé à garder"' in page
        and "Rompre l’isolement" in page
        and 'value="beaucoup"' in page
    )

    reponse = client.post(
        f"/demandes/{demande_id}/etape/budget",
        data={
            "version": version(client, demande_id),
            **budget_valide(monde, compte_60="12,345", compte_64="mille"),
        },
    )
    page = texte(reponse)
    assert "deux décimales au plus" in page and "Saisissez un montant en euros" in page
    assert 'value="12,345"' in page and 'value="mille"' in page and 'value="6 000"' in page


def test_version_perimee_conflit_et_saisie_conservee(client, connexion, monde):
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    lue = version(client, demande_id)
    client.post(f"/demandes/{demande_id}/etape/action", data={"version": lue, **action_valide(monde)})
    reponse = client.post(
        f"/demandes/{demande_id}/etape/action",
        data={"version": lue, **action_valide(monde, intitule="Saisie de l’autre onglet")},
    )
    page = texte(reponse)
    assert reponse.status_code == 409 and "modifiée entre-temps" in page
    assert 'value="Saisie de l’autre onglet"' in page


@pytest.mark.parametrize(
    ("surcharges", "message"),
    [
        ({"compte_64": "9 500"}, "écart de 500,00"),
        ({"compte_870": "1 500"}, "Les emplois des contributions volontaires en nature (86 : 2\u202f000,00"),
        (
            {"financeur_ETAT": "", "financeur_COMMUNE": "", "compte_75": "10 000"},
            "Sollicitez au moins un financeur",
        ),
        (
            {"libres-0-financeur_libelle": "", "libres-0-montant": "500", "compte_64": "9 500"},
            "Indiquez le nom du financeur.",
        ),
    ],
)
def test_regles_bloquantes_du_budget_avec_les_montants(client, connexion, monde, surcharges, message):
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    surcharges = {
        cle.replace("ETAT", str(monde.etat.id)).replace("COMMUNE", str(monde.commune.id)): valeur
        for cle, valeur in surcharges.items()
    }
    client.post(
        f"/demandes/{demande_id}/etape/budget",
        data={"version": version(client, demande_id), **budget_valide(monde, **surcharges)},
    )
    pages = texte(client.get(f"/demandes/{demande_id}/etape/budget")) + texte(
        client.post(
            f"/demandes/{demande_id}/etape/budget",
            data={"version": version(client, demande_id), **budget_valide(monde, **surcharges)},
        )
    )
    assert message in pages


def test_soumission_refusee_liste_ce_qui_manque_avec_liens(client, connexion, monde):
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    reponse = client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    page = texte(reponse)
    assert reponse.status_code == 422
    for etape, message in (
        ("action", "Renseignez l’intitulé de l’action."),
        ("budget", "Le budget ne comporte aucune charge."),
        ("pieces", "Joignez la pièce « Statuts »."),
        ("eligibilite", "Répondez à la question"),
    ):
        assert re.search(rf'href="/demandes/{demande_id}/etape/{etape}[^"]*">{re.escape(message)}', page), (
            message
        )


def test_soumission_apres_cloture_refusee_avec_la_date(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    monde.campagne.date_cloture = aujourdhui() - timedelta(days=1)
    db.session.commit()
    reponse = client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    assert reponse.status_code == 422
    assert f"La campagne est close depuis le {monde.campagne.date_cloture:%d/%m/%Y}" in texte(reponse)


def test_action_deja_terminee_refusee_a_la_soumission_sur_la_date_de_fin(client, connexion, db, monde):
    """Campagne rouverte : une action finie hier est refusée, le message mène au champ date de fin."""
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    demande = db.session.get(Demande, demande_id)
    demande.date_debut, demande.date_fin = aujourdhui() - timedelta(days=60), aujourdhui() - timedelta(days=1)
    db.session.commit()
    reponse = client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    assert reponse.status_code == 422
    message = f"L’action s’est terminée le {demande.date_fin:%d/%m/%Y}"
    assert re.search(rf'href="/demandes/{demande_id}/etape/action#date_fin">{message}', texte(reponse))
    assert db.session.get(Demande, demande_id).statut == StatutDemande.brouillon


def test_une_structure_ne_voit_rien_d_une_autre(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire_autre)
    for url in [f"/demandes/{demande_id}/etape/{e}" for e in ("eligibilite", "budget", "recapitulatif")] + [
        f"/dossiers/{demande_id}",
        f"/documents/{document.id}/telecharger",
        f"/demandes/{demande_id}/retirer",
    ]:
        assert client.get(url).status_code == 404, url
    for url in ("soumettre", "attester", "modifier", "renouveler", "retirer", "etape/budget"):
        assert client.post(f"/demandes/{demande_id}/{url}", data={"version": "1"}).status_code == 404, url
    # …ni créer une demande au nom d'une structure dont il n'est pas membre
    assert (
        client.post(
            "/demandes/nouvelle", data={"campagne_id": monde.campagne.id, "structure_id": monde.structure.id}
        ).status_code
        == 403
    )
    assert (
        db.session.scalar(select(Demande).where(Demande.structure_id == monde.structure.id)).id == demande_id
    )


def test_retrait_avec_motif(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    assert (
        client.post(
            f"/demandes/{demande_id}/retirer",
            data={"version": version(client, demande_id), "commentaire": "x"},
        ).status_code
        == 403
    )
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    reponse = client.post(
        f"/demandes/{demande_id}/retirer", data={"version": version(client, demande_id), "commentaire": ""}
    )
    assert "Indiquez le motif." in texte(reponse)
    reponse = client.post(
        f"/demandes/{demande_id}/retirer",
        data={"version": version(client, demande_id), "commentaire": "Action reportée"},
    )
    assert reponse.status_code == 302
    assert db.session.get(Demande, demande_id).statut == StatutDemande.retiree
    assert "Action reportée" in texte(client.get(f"/dossiers/{demande_id}"))


@pytest.mark.recepisse  # un récépissé par attestation
def test_reponse_a_une_demande_de_complements(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    demande_id = transmettre(client, monde, document)
    ligne = db.session.get(Demande, demande_id).lignes_financement[0]
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    declencher_demande(
        demande_id,
        "demander_complements",
        monde.instructeur_etat,
        commentaire="Merci de détailler les frais de personnel.",
    )

    assert "Répondre à la demande de compléments" in texte(client.get("/mes-demandes/"))
    recapitulatif = texte(client.get(f"/demandes/{demande_id}/etape/recapitulatif"))
    assert "Merci de détailler les frais de personnel." in recapitulatif
    assert (
        client.post(
            f"/demandes/{demande_id}/etape/budget",
            data={
                "version": version(client, demande_id),
                **budget_valide(monde, compte_64="8 500", compte_60="1 500"),
            },
        ).status_code
        == 302
    )
    reponse = client.post(
        f"/demandes/{demande_id}/attester",
        data={
            "version": version(client, demande_id),
            **ATTESTATION,
            "commentaire": "Frais de personnel détaillés : 8 500 €.",
        },
    )
    assert reponse.status_code == 302
    assert db.session.get(Demande, demande_id).statut == StatutDemande.en_instruction
    historique = texte(client.get(f"/dossiers/{demande_id}"))
    assert "Merci de détailler les frais de personnel." in historique
    assert "Frais de personnel détaillés : 8 500 €." in historique
    recepisses = db.session.scalars(
        select(Document).where(Document.demande_id == demande_id, Document.type_piece == TypePiece.recepisse)
    ).all()
    assert len(recepisses) == 2  # un récépissé par attestation


def test_renouvellement_reprend_l_action_et_le_budget(client, connexion, db, monde):
    from datetime import date

    from dauphin.models import Campagne, Enveloppe

    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    ancienne_id = transmettre(client, monde, document)
    # Pas de campagne suivante ouverte : message clair, rien de créé
    reponse = client.post(f"/demandes/{ancienne_id}/renouveler", data={}, follow_redirects=True)
    assert "sera possible à son ouverture" in texte(reponse)

    suivante = Campagne(
        contrat_id=monde.contrat.id,
        exercice=monde.campagne.exercice + 1,
        libelle="Suivante",
        date_ouverture=aujourdhui(),
        date_cloture=date(aujourdhui().year + 2, 1, 31),
    )
    suivante.enveloppes = [Enveloppe(organisation_id=monde.etat.id, montant=100000)]  # la commune ne suit pas
    suivante.questions_eligibilite = []
    db.session.add(suivante)
    db.session.commit()
    reponse = client.post(f"/demandes/{ancienne_id}/renouveler", data={})
    nouvelle_id = int(re.search(r"/demandes/(\d+)/", reponse.headers["Location"]).group(1))
    ancienne, nouvelle = db.session.get(Demande, ancienne_id), db.session.get(Demande, nouvelle_id)
    assert nouvelle.statut == StatutDemande.brouillon and nouvelle.campagne_id == suivante.id
    assert (nouvelle.intitule, nouvelle.renouvellement, nouvelle.demande_precedente_id) == (
        ancienne.intitule,
        True,
        ancienne.id,
    )
    assert nouvelle.date_debut.year == ancienne.date_debut.year + 1
    assert sorted((lf.compte, str(lf.montant)) for lf in nouvelle.lignes_budget) == sorted(
        (lf.compte, str(lf.montant)) for lf in ancienne.lignes_budget
    )
    commune = next(lf for lf in nouvelle.lignes_budget if lf.compte == "74" and lf.financeur_id is None)
    assert commune.financeur_libelle == "Ville de Lille"  # hors campagne : ligne libre
    assert nouvelle.pieces_jointes == [] and nouvelle.atteste_le is None and nouvelle.numero is None
    assert (
        db.session.scalar(select(EvenementJournal).where(EvenementJournal.demande_id == nouvelle_id)) is None
    )


def test_retrait_propose_au_seul_signataire_et_administrateur(client, connexion, db, monde):
    """Le contributeur ne se voit plus offrir « Retirer la demande » pour taper un motif perdu en 403 : ni
    lien au récapitulatif ou au dossier, et la page du motif lui répond 403 avant qu'il n'écrive."""
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.contributeur)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    lien = f'href="/demandes/{demande_id}/retirer"'
    assert lien not in texte(client.get(f"/demandes/{demande_id}/etape/recapitulatif"))
    assert lien not in texte(client.get(f"/dossiers/{demande_id}"))
    assert client.get(f"/demandes/{demande_id}/retirer").status_code == 403
    connexion.deconnexion()
    for compte in (monde.signataire, monde.administrateur):
        connexion.en_tant_que(compte)
        assert lien in texte(client.get(f"/demandes/{demande_id}/etape/recapitulatif"))
        assert lien in texte(client.get(f"/dossiers/{demande_id}"))
        assert client.get(f"/demandes/{demande_id}/retirer").status_code == 200
        connexion.deconnexion()


def test_transition_devenue_impossible_conflit_sur_le_recapitulatif(client, connexion, db, monde):
    """Une attestation envoyée depuis une page affichée avant la remise en brouillon : 409, rien n'est
    transmis, et le récapitulatif dit pourquoi et ne propose plus que ce qui est possible (soumettre)."""
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    lue = version(client, demande_id)
    client.post(f"/demandes/{demande_id}/modifier", data={"version": lue})  # dans un autre onglet
    reponse = client.post(
        f"/demandes/{demande_id}/attester",
        data=ATTESTATION,
    )
    page = texte(reponse)
    assert reponse.status_code == 409
    assert "Cette action n’est plus possible : le statut est désormais « Brouillon »." in page
    assert "Soumettre pour attestation" in page and 'name="exactitude"' not in page
    assert db.session.get(Demande, demande_id).statut == StatutDemande.brouillon
    # Une page périmée (version d'avant la remise en brouillon) : 409 aussi, rien n'est soumis deux fois.
    reponse = client.post(f"/demandes/{demande_id}/soumettre", data={"version": lue})
    assert reponse.status_code == 409 and "modifié entre-temps" in texte(reponse)


def ouvrir_la_campagne_suivante(db, monde) -> None:
    """Une campagne de l'exercice suivant, ouverte, pour le même contrat : on peut y renouveler."""
    from datetime import date

    from dauphin.models import Campagne

    db.session.add(
        Campagne(
            contrat_id=monde.contrat.id,
            exercice=monde.campagne.exercice + 1,
            libelle="Suivante",
            date_ouverture=aujourdhui(),
            date_cloture=date(aujourdhui().year + 2, 1, 31),
        )
    )
    db.session.commit()


def test_renouveler_propose_seulement_quand_une_campagne_suivante_est_ouverte(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    demande_id = transmettre(client, monde, document)
    bouton = f'action="/demandes/{demande_id}/renouveler"'
    assert bouton not in texte(client.get(f"/dossiers/{demande_id}"))
    ouvrir_la_campagne_suivante(db, monde)
    assert bouton in texte(client.get(f"/dossiers/{demande_id}"))
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)  # un financeur voit le dossier, pas ce bouton
    assert bouton not in texte(client.get(f"/dossiers/{demande_id}"))


def test_renouveler_deux_fois_ne_cree_qu_un_brouillon(client, connexion, db, monde):
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    demande_id = transmettre(client, monde, document)
    ouvrir_la_campagne_suivante(db, monde)
    bouton = f'action="/demandes/{demande_id}/renouveler"'
    assert bouton in texte(client.get(f"/dossiers/{demande_id}"))
    assert client.post(f"/demandes/{demande_id}/renouveler", data={}).status_code == 302
    # Le bouton disparaît ; un second envoi (autre onglet, double clic) est refusé avec un message
    assert bouton not in texte(client.get(f"/dossiers/{demande_id}"))
    reponse = client.post(f"/demandes/{demande_id}/renouveler", data={}, follow_redirects=True)
    assert "Cette demande est déjà renouvelée pour l’exercice" in texte(reponse)
    db.session.expire_all()
    renouvellements = db.session.scalars(select(Demande).where(Demande.demande_precedente_id == demande_id))
    assert len(renouvellements.all()) == 1
