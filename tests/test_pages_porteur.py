"""Ce que lit un porteur sur ses pages : le SIRET par groupes de chiffres (un seul filtre `siret`), les
totaux du budget avec leur libellé, les sigles (QPV, P147, CERFA) expliqués là où ils paraissent."""

from __future__ import annotations

import re

from dauphin.libelles import siret_lisible
from dauphin.services.workflow import declencher_demande
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html
from tests.parcours import budget_valide


def test_le_siret_s_affiche_par_groupes_de_chiffres(client, connexion, monde):
    siret = monde.structure.siret
    lisible = siret_lisible(siret)  # espaces insécables : le numéro ne se coupe pas en fin de ligne
    assert re.fullmatch(r"\d{3}\xa0\d{3}\xa0\d{3}\xa0\d{5}", lisible)
    demande = demande_complete(monde)
    connexion.en_tant_que(monde.contributeur)
    for chemin in (
        f"/structures/{monde.structure.id}",
        "/structures/",
        "/mes-demandes/",
        f"/demandes/{demande.id}/etape/structure",
        f"/demandes/{demande.id}/etape/recapitulatif",
    ):
        page = html(client.get(chemin))
        assert f"SIRET {lisible}" in page or f"<dd>{lisible}" in page, chemin
        assert siret not in page.replace(f'/structures/acces/{siret}"', ""), chemin


def test_les_totaux_du_budget_ont_leur_libelle_et_les_sigles_sont_expliques(client, connexion, monde):
    demande = demande_complete(monde)
    connexion.en_tant_que(monde.contributeur)
    budget = html(client.get(f"/demandes/{demande.id}/etape/budget"))
    assert "86 =" not in budget and "87 =" not in budget
    assert 'Emplois des contributions volontaires en nature (compte 86) : <strong data-total="c86">' in budget
    assert 'Contributions volontaires en nature (compte 87) : <strong data-total="c87">' in budget
    assert '<abbr title="formulaire administratif officiel' in budget  # CERFA
    # Le financeur « État – P147 » : le sigle balisé dans son libellé, et expliqué dans la note des sigles
    p147 = '<abbr title="programme 147 « Politique de la ville » du budget de l’État">P147</abbr>'
    assert f"(État – {p147})" in budget
    assert "Sigles : <abbr" in budget and "P147</abbr> : programme 147" in budget

    eligibilite = html(client.get(f"/demandes/{demande.id}/etape/eligibilite"))
    assert "QPV</abbr> : quartier prioritaire de la politique de la ville" in eligibilite


def test_le_telephone_de_la_personne_chargee_est_controle_comme_sur_la_fiche(client, connexion, monde):
    """Un seul champ `numero_de_telephone` : « abc » refusé à l'étape 2 comme sur la fiche de la structure,
    le message sous le champ et la saisie gardée."""
    demande = demande_complete(monde)
    connexion.en_tant_que(monde.contributeur)
    page = html(client.get(f"/demandes/{demande.id}/etape/structure"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    reponse = client.post(
        f"/demandes/{demande.id}/etape/structure",
        data={
            "version": version,
            "responsable_nom": "Lou Dupont",
            "responsable_email": "lou@test.fr",
            "responsable_telephone": "abc",
            "compte_bancaire_id": str(monde.structure.comptes_bancaires[0].id),
        },
    )
    assert reponse.status_code == 422
    page = html(reponse)
    assert "Le numéro de téléphone ne contient que des chiffres" in page
    assert 'id="responsable_telephone"' in page and 'value="abc"' in page


def test_un_financeur_libre_nomme_sans_montant_est_signale_et_garde(client, connexion, monde):
    demande = demande_complete(monde)
    connexion.en_tant_que(monde.contributeur)
    page = html(client.get(f"/demandes/{demande.id}/etape/budget"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    libre = {"libres-0-financeur_libelle": "Fondation de France", "libres-0-montant": "0"}
    donnees = budget_valide(monde, **libre)
    reponse = client.post(f"/demandes/{demande.id}/etape/budget", data={"version": version, **donnees})
    assert reponse.status_code == 422
    page = html(reponse)
    assert "Indiquez le montant demandé à ce financeur, ou effacez son nom." in page
    assert 'value="Fondation de France"' in page


def test_la_ligne_de_financement_est_expliquee_au_porteur_et_au_financeur(client, connexion, monde):
    """« Votre ligne », « lignes de financement » : le porteur lit ce qu'est une ligne (chaque financeur
    décide de sa part), le financeur lit que « votre ligne » est celle de son organisation."""
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)

    connexion.en_tant_que(monde.contributeur)
    page = " ".join(html(client.get(f"/dossiers/{demande.id}")).split())
    assert "Chaque financeur sollicité décide seul de sa part de la demande, sa « ligne de financement »" in (
        page
    )
    assert "Une ligne peut être accordée quand une autre est refusée" in page

    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    page = " ".join(html(client.get(f"/dossiers/{demande.id}")).split())
    assert "« Votre ligne » désigne celle de votre organisation" in page
