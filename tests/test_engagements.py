"""Après le vote : notification ou convention (seuil de 23 000 € cumulé par financeur, structure et année),
convention signée, numéro d'engagement juridique, échéancier et paiements (avance, solde après validation du
compte rendu financier), par les écrans et le client de test. PDF produits par la tâche et relus avec pypdf.
Sur SQLite et sur PostgreSQL (DAUPHIN_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from dauphin.models import (
    Courriel,
    Demande,
    Document,
    EvenementJournal,
    LigneFinancement,
    TypePiece,
    Versement,
)
from dauphin.services import comptes_rendus
from dauphin.services import engagements as service
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.conftest import Connexion
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html, titre
from tests.test_documents import DOCX
from workflows import StatutDemande as D
from workflows import StatutLigne as L

PDF_SIGNE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- Outils ---------------------------------------------------------------------------------------


def compact(texte: str) -> str:
    """Sans aucun espace (les montants s'écrivent avec des espaces insécables fines)."""
    return re.sub(r"\s+", "", texte.replace("\u202f", " ").replace("\xa0", " "))


def ligne_de(db, demande_id: int, organisation) -> LigneFinancement:
    db.session.expire_all()
    return db.session.scalar(
        select(LigneFinancement).where(
            LigneFinancement.demande_id == demande_id, LigneFinancement.organisation_id == organisation.id
        )
    )


def votee(
    db,
    monde,
    *,
    etat: Decimal = Decimal("6000"),
    commune: Decimal = Decimal("4000"),
    intitule: str = "Ateliers de quartier",
) -> Demande:
    """Un dossier mené jusqu'au vote par les vraies transitions : prise en charge et recevabilité de chaque
    ligne, inscription au comité par le pilote, vote de chaque financeur (montant demandé)."""
    demande = demande_complete(monde, etat=etat, commune=commune, intitule=intitule)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    lignes = [(x.id, x.organisation_id, x.montant_demande) for x in demande.lignes_financement]
    for ligne_id, organisation_id, montant in lignes:
        declencher_ligne(ligne_id, "prendre_en_charge", instructeurs[organisation_id])
        declencher_ligne(ligne_id, "declarer_recevable", instructeurs[organisation_id], montant=montant)
    declencher_demande(demande.id, "programmer", monde.pilote)
    for ligne_id, organisation_id, montant in lignes:
        declencher_ligne(ligne_id, "voter", instructeurs[organisation_id], montant=montant)
    db.session.expire_all()
    demande = db.session.get(Demande, demande.id)
    assert demande.statut == D.attribuee
    return demande


def texte_pdf(client, document_id: int) -> str:
    reponse = client.get(f"/documents/{document_id}/telecharger")
    assert reponse.status_code == 200 and reponse.mimetype == "application/pdf"
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reponse.data)).pages)


def champs(prefixe: str, **valeurs) -> dict:
    return {f"{prefixe}-{nom}": valeur for nom, valeur in valeurs.items()}


def etablir_acte(client, ligne, regime=""):
    return client.post(
        f"/engagements/lignes/{ligne.id}/acte",
        data=champs(f"acte-{ligne.id}", version=ligne.version, regime=regime),
    )


def saisir_engagement(client, ligne, numero):
    return client.post(
        f"/engagements/lignes/{ligne.id}/engagement",
        data=champs(f"engagement-{ligne.id}", version=ligne.version, numero_engagement=numero),
    )


def prevoir(client, ligne, nature, montant, jour=None):
    jour = jour or aujourdhui() + timedelta(days=30)
    return client.post(
        f"/engagements/lignes/{ligne.id}/echeances",
        data=champs(
            f"echeance-{ligne.id}",
            version=ligne.version,
            nature=nature,
            date_prevue=jour.strftime("%d/%m/%Y"),
            montant=montant,
        ),
    )


def payer(client, versement_id, version, montant, reference="MANDAT-1", jour=None):
    return client.post(
        f"/engagements/echeances/{versement_id}/paiement",
        data=champs(
            f"paiement-{versement_id}",
            version=version,
            verse_le=(jour or aujourdhui()).strftime("%d/%m/%Y"),
            montant=montant,
            reference=reference,
        ),
    )


def echeances(db, ligne) -> list[Versement]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Versement).where(Versement.ligne_id == ligne.id).order_by(Versement.id))
    )


def valider_compte_rendu(db, monde, demande, ligne):
    """Le compte rendu financier par ses services (ses écrans : tests/test_compte_rendu.py) : exercice
    clôturé par le pilote, compte rendu rempli et déposé par le signataire, validé par le financeur."""
    fin = date(demande.exercice + 1, 2, 1)
    declencher_demande(demande.id, "cloturer_exercice", monde.pilote, aujourdhui=fin)
    db.session.expire_all()
    courante = db.session.get(Demande, demande.id)
    comptes_rendus.enregistrer(
        demande.id,
        monde.signataire,
        None,
        comptes_rendus.saisie_conforme_au_budget(
            courante, "Action menée comme prévu.", "Habitants du quartier."
        ),
    )
    declencher_demande(demande.id, "deposer_justification", monde.signataire, attestation=True)
    declencher_ligne(ligne.id, "valider_compte_rendu", monde.instructeur_etat)


# --- Notification ---------------------------------------------------------------------------------


def deposer_convention(client, ligne, contenu: bytes, nom: str):
    """La convention signée déposée par le formulaire du dossier (le fichier `nom`, de ce contenu)."""
    return client.post(
        f"/engagements/lignes/{ligne.id}/convention-signee",
        data={
            **champs(f"convention-{ligne.id}", version=ligne.version),
            f"convention-{ligne.id}-fichier": (io.BytesIO(contenu), nom),
        },
        content_type="multipart/form-data",
    )


def test_vote_puis_notification_engage_la_ligne_avec_son_pdf(app, client, connexion, db, monde):
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.votee and not ligne.convention_requise

    connexion.en_tant_que(monde.instructeur_etat)
    page = client.get(f"/dossiers/{demande.id}")
    assert "Établir la notification" in html(page) and "Engagement et versements" in html(page)
    reponse = etablir_acte(client, ligne)
    assert reponse.status_code == 302, html(reponse)

    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.engagee
    acte = db.session.get(Document, ligne.acte_document_id)
    assert acte.type_piece == TypePiece.notification and acte.demande_id == demande.id
    texte = compact(texte_pdf(client, acte.id))
    for attendu in (
        "Notification d’attribution de subvention",
        monde.structure.raison_sociale,
        monde.structure.siret,
        monde.etat.nom,
        demande.numero,
        "6000,00€",
        "23000€",
    ):
        assert compact(attendu) in texte, attendu
    assert "Convention" not in texte_pdf(client, acte.id)

    # Journal (scellé) et courriel à la structure
    evenement = db.session.scalar(
        select(EvenementJournal).where(
            EvenementJournal.ligne_id == ligne.id, EvenementJournal.declencheur == "notifier"
        )
    )
    assert evenement.acteur_id == monde.instructeur_etat.id and evenement.statut_apres == "engagee"
    sujets = {
        c.sujet
        for c in db.session.scalars(select(Courriel).where(Courriel.destinataire == "signataire@test.fr"))
    }
    assert f"Demande {demande.numero} : notification de subvention ({monde.etat.nom})" in sujets

    # Le porteur voit et télécharge la notification depuis son dossier
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    page = html(client.get(f"/dossiers/{demande.id}"))
    assert f"/documents/{acte.id}/telecharger" in page and "Établir la notification" not in page
    assert client.get(f"/documents/{acte.id}/telecharger").status_code == 200
    # Une autre structure non
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire_autre)
    assert client.get(f"/documents/{acte.id}/telecharger").status_code == 404


def _deux_demandes(db, monde, premier: str, second: str) -> tuple[Demande, Demande]:
    a = votee(db, monde, etat=Decimal(premier), intitule="Première action")
    b = votee(db, monde, etat=Decimal(second), intitule="Seconde action")
    return a, b


@pytest.mark.parametrize(
    ("second", "convention"), [("3000.00", False), ("3000.01", True)], ids=["23000.00", "23000.01"]
)
def test_seuil_de_23000_euros_cumule_sur_les_demandes_de_la_structure(
    app, client, connexion, db, monde, second, convention
):
    """20 000 € puis 3 000 € votés par l'État à la même structure la même année : 23 000,00 € → notification ;
    23 000,01 € → convention (pour la seconde demande, mais aussi pour la première tant qu'elle n'est pas
    engagée : le seuil s'apprécie au moment d'établir l'acte)."""
    a, b = _deux_demandes(db, monde, "20000", second)
    ligne_a, ligne_b = ligne_de(db, a.id, monde.etat), ligne_de(db, b.id, monde.etat)
    assert ligne_a.convention_requise is False  # seule au vote : 20 000 €
    assert ligne_b.convention_requise is convention  # cumul au vote
    assert service.cumul_vote(ligne_b) == Decimal("20000") + Decimal(second)

    connexion.en_tant_que(monde.instructeur_etat)
    attendu = L.convention_a_signer if convention else L.engagee
    for ligne in (ligne_b, ligne_a):
        page = html(client.get(f"/dossiers/{ligne.demande_id}"))
        assert ("Établir la convention" in page) is convention
        assert etablir_acte(client, ligne).status_code == 302
        ligne = ligne_de(db, ligne.demande_id, monde.etat)
        assert ligne.statut == attendu
        acte = db.session.get(Document, ligne.acte_document_id)
        assert acte.type_piece == (TypePiece.convention if convention else TypePiece.notification)
    # Un autre financeur (la commune) reste sous le seuil : notification
    assert ligne_de(db, b.id, monde.commune).convention_requise is False
    if convention:
        # La convention revenue signée par courrier : l'instructeur du financeur la dépose lui-même ;
        # celui d'un autre financeur ne le peut pas.
        ligne = ligne_de(db, b.id, monde.etat)
        connexion.deconnexion()
        connexion.en_tant_que(monde.instructeur_commune)
        assert client.get(f"/engagements/lignes/{ligne.id}/convention-signee").status_code == 403
        connexion.deconnexion()
        connexion.en_tant_que(monde.instructeur_etat)
        reponse = deposer_convention(client, ligne, PDF_SIGNE, "convention.pdf")
        assert reponse.status_code == 302
        assert ligne_de(db, b.id, monde.etat).statut == L.engagee


def test_un_cumul_change_apres_la_lecture_de_la_page_est_un_conflit(app, client, connexion, db, monde):
    a = votee(db, monde, etat=Decimal("20000"), intitule="Première action")
    ligne_a = ligne_de(db, a.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    assert "Établir la notification" in html(client.get(f"/dossiers/{a.id}"))
    votee(db, monde, etat=Decimal("3000.01"), intitule="Seconde action")  # vote concurrent
    reponse = etablir_acte(client, ligne_a, regime="notification")
    assert reponse.status_code == 409
    assert "Le cumul voté à cette structure a changé" in html(reponse)
    assert ligne_de(db, a.id, monde.etat).statut == L.votee
    # La page réaffichée propose l'acte du cumul actuel : le valider de nouveau établit la convention.
    assert "Établir la convention" in html(reponse)
    regime = re.search(r'name="acte-\d+-regime"[^>]*value="([^"]*)"', html(reponse)).group(1)
    assert regime == "convention"
    assert etablir_acte(client, ligne_a, regime=regime).status_code == 302
    assert ligne_de(db, a.id, monde.etat).statut == L.convention_a_signer


# --- Convention ------------------------------------------------------------------------------------


def test_convention_signee_deposee_par_le_signataire_puis_avance_et_solde(app, client, connexion, db, monde):
    demande = votee(db, monde, etat=Decimal("24000"), commune=Decimal("4000"))
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.convention_requise

    connexion.en_tant_que(monde.instructeur_etat)
    assert etablir_acte(client, ligne).status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.convention_a_signer
    convention = db.session.get(Document, ligne.acte_document_id)
    texte = compact(texte_pdf(client, convention.id))
    for attendu in (
        "Convention attributive de subvention",
        monde.structure.raison_sociale,
        monde.structure.siret,
        monde.etat.nom,
        demande.numero,
        "24000,00€",
        "Lou Dupont",  # représentant légal, signataire de la convention
        "CERFA n° 15059",
    ):
        assert compact(attendu) in texte, attendu
    # Pas de numéro d'engagement avant la signature
    avant_signature = saisir_engagement(client, ligne, "2104567890")
    assert avant_signature.status_code == 409 and "ligne engagée" in html(avant_signature)
    connexion.deconnexion()

    # Un contributeur de la structure ne dépose pas la convention signée : c'est le rôle du signataire
    connexion.en_tant_que(monde.contributeur)
    assert "Déposer la convention signée" not in html(client.get(f"/dossiers/{demande.id}"))
    assert client.get(f"/engagements/lignes/{ligne.id}/convention-signee").status_code == 403
    connexion.deconnexion()

    # Le signataire de la structure télécharge la convention et la dépose signée
    connexion.en_tant_que(monde.signataire)
    page = html(client.get(f"/dossiers/{demande.id}"))
    assert f"/documents/{convention.id}/telecharger" in page and "Déposer la convention signée" in page
    assert re.search(rf'/documents/{convention.id}/telecharger">Convention à signer \(', page)
    refus = deposer_convention(client, ligne, b"MZ\x90\x00 pas un pdf", "convention.pdf")
    assert refus.status_code == 422 and titre(refus).startswith("Erreur : ")
    assert "« convention.pdf » n’est pas un PDF" in html(refus)
    assert "Formats acceptés : PDF, ou image PNG ou JPEG d’un scan." in html(refus)
    assert "Word" not in html(refus)  # ni l'aide ni le message ne citent un format que le champ refuse
    refus = deposer_convention(client, ligne, DOCX, "convention.docx")
    assert refus.status_code == 422
    assert "« convention.docx » est un document Word, un format que ce champ n’accepte pas" in html(refus)
    reponse = deposer_convention(client, ligne, PDF_SIGNE, "convention signée.pdf")
    assert reponse.status_code == 302, html(reponse)
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.engagee and ligne.convention_document_id is not None
    signee = db.session.get(Document, ligne.convention_document_id)
    assert signee.type_piece == TypePiece.convention_signee and signee.depose_par_id == monde.signataire.id
    assert client.get(f"/documents/{signee.id}/telecharger").data == PDF_SIGNE
    # Signée : le lien de l'acte ne dit plus « à signer » ; la version signée a son propre lien.
    page = html(client.get(f"/dossiers/{demande.id}")).split('id="versements"')[1].split("</section>")[0]
    assert "Convention à signer" not in page and "Déposer la convention signée" not in page
    assert re.search(rf'/documents/{convention.id}/telecharger">Convention établie par le financeur', page)
    assert f"/documents/{signee.id}/telecharger" in page
    evenement = db.session.scalar(
        select(EvenementJournal).where(
            EvenementJournal.ligne_id == ligne.id, EvenementJournal.declencheur == "signer_convention"
        )
    )
    assert evenement.role == "signataire" and evenement.structure_id == monde.structure.id
    assert db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == "instructeur.etat@test.fr",
            Courriel.sujet.contains("convention signée déposée par la structure"),
        )
    )
    # Le porteur ne saisit ni échéance ni paiement
    assert prevoir(client, ligne, "avance", "1000").status_code == 403
    connexion.deconnexion()

    # Le financeur : numéro d'engagement (validé, journalisé), échéancier, avance
    connexion.en_tant_que(monde.instructeur_etat)
    mauvais = saisir_engagement(client, ligne, "EJ 21#04")
    assert mauvais.status_code == 422 and "chiffres et des lettres" in html(mauvais)
    assert 'value="EJ21#04"' in html(mauvais)
    assert saisir_engagement(client, ligne, "2104567890").status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.numero_engagement == "2104567890"
    assert (
        db.session.scalar(
            select(EvenementJournal).where(
                EvenementJournal.ligne_id == ligne.id,
                EvenementJournal.declencheur == "enregistrer_engagement",
            )
        ).commentaire
        == "Numéro d’engagement : 2104567890."
    )

    trop = prevoir(client, ligne, "avance", "24 000,01")
    assert trop.status_code == 422 and "dépasse ce qui reste à prévoir" in html(trop)
    assert prevoir(client, ligne, "avance", "19 200").status_code == 302
    assert prevoir(client, ligne, "solde", "4 800", aujourdhui() + timedelta(days=400)).status_code == 302
    avance, solde = echeances(db, ligne)
    assert (avance.nature.value, avance.montant_prevu, solde.montant_prevu) == (
        "avance",
        Decimal("19200.00"),
        Decimal("4800.00"),
    )

    reponse = payer(client, avance.id, ligne.version, "19 200", "DP-2027-0042")
    assert reponse.status_code == 302, html(reponse)
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.avance_versee and ligne.montant_verse == Decimal("19200.00")
    assert db.session.get(Demande, demande.id).statut == D.versee  # statut dérivé au premier paiement
    avance = db.session.get(Versement, avance.id)
    assert (avance.verse_le, avance.reference, avance.enregistre_par_id) == (
        aujourdhui(),
        "DP-2027-0042",
        monde.instructeur_etat.id,
    )
    assert db.session.scalar(
        select(Courriel).where(
            Courriel.destinataire == "signataire@test.fr", Courriel.sujet.contains("versement de 19")
        )
    )

    # Solde refusé avant la validation du compte rendu financier
    page_solde = html(client.get(f"/engagements/echeances/{solde.id}/paiement"))
    assert "pas encore validé à ce jour" in page_solde and 'value="4 800"' in page_solde
    refus = payer(client, solde.id, ligne.version, "4 800", "DP-2028-0001")
    assert refus.status_code == 422
    assert "Le solde n’est payable qu’après validation du compte rendu." in html(refus)
    assert ligne_de(db, demande.id, monde.etat).statut == L.avance_versee

    valider_compte_rendu(db, monde, demande, ligne)
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.compte_rendu_valide
    inexact = payer(client, solde.id, ligne.version, "4 000", "DP-2028-0001")
    assert inexact.status_code == 422 and "exactement le reste à verser" in html(inexact)
    assert payer(client, solde.id, ligne.version, "4 800", "DP-2028-0001").status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.statut == L.soldee and ligne.montant_verse == ligne.montant_vote

    # Le porteur voit ses paiements
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    page = html(client.get(f"/dossiers/{demande.id}"))
    assert "DP-2027-0042" in page and "DP-2028-0001" in page and "Soldée" in page
    assert "Enregistrer le paiement" not in page


# --- Paiements : bornes, droits, conflits -------------------------------------------------------------


def engagee_avec_numero(db, client, connexion, monde) -> tuple[Demande, LigneFinancement]:
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    assert etablir_acte(client, ligne).status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert saisir_engagement(client, ligne, "2104567890").status_code == 302
    return demande, ligne_de(db, demande.id, monde.etat)


def test_paiement_au_dela_du_montant_vote_refuse_avec_son_message(app, client, connexion, db, monde):
    demande, ligne = engagee_avec_numero(db, client, connexion, monde)
    assert prevoir(client, ligne, "avance", "6 000").status_code == 302
    (avance,) = echeances(db, ligne)
    reponse = payer(client, avance.id, ligne.version, "6 000,01")
    assert reponse.status_code == 422
    page = html(reponse)
    assert titre(reponse).startswith("Erreur : ")
    # Le message est à côté du champ, et la saisie est conservée
    groupe = re.search(r'<div class="fr-input-group fr-input-group--error">.*?</div>', page, re.S).group(0)
    assert f'id="paiement-{avance.id}-montant"' in groupe
    assert "Le versement (6 000,01 €) dépasse le reste à verser (6 000,00 €)." in compact_html(groupe)
    assert 'value="6 000,01"' in page and 'value="MANDAT-1"' in page
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.montant_verse == 0 and ligne.statut == L.engagee


def compact_html(texte: str) -> str:
    return texte.replace("\u202f", " ").replace("\xa0", " ")


def test_pas_de_paiement_sans_numero_d_engagement_ni_date_future(app, client, connexion, db, monde):
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    connexion.en_tant_que(monde.instructeur_etat)
    assert etablir_acte(client, ligne).status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert prevoir(client, ligne, "avance", "3 000").status_code == 302
    (avance,) = echeances(db, ligne)
    sans_numero = payer(client, avance.id, ligne.version, "3 000")
    assert sans_numero.status_code == 422 and "numéro d’engagement juridique" in html(sans_numero)
    assert saisir_engagement(client, ligne, "2104567890").status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    futur = payer(client, avance.id, ligne.version, "3 000", jour=aujourdhui() + timedelta(days=1))
    assert futur.status_code == 422 and "ne peut pas être dans le futur" in html(futur)
    assert echeances(db, ligne)[0].verse_le is None


def test_un_autre_financeur_ne_peut_pas_agir_sur_la_ligne(app, client, connexion, db, monde):
    demande, ligne = engagee_avec_numero(db, client, connexion, monde)
    assert prevoir(client, ligne, "avance", "3 000").status_code == 302
    (avance,) = echeances(db, ligne)
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)  # instructeur de la commune, voit le dossier
    assert client.get(f"/engagements/lignes/{ligne.id}/acte").status_code == 403
    assert saisir_engagement(client, ligne, "9999999999").status_code == 403
    assert prevoir(client, ligne, "avance", "1 000").status_code == 403
    assert payer(client, avance.id, ligne.version, "3 000").status_code == 403
    assert client.post(f"/engagements/echeances/{avance.id}/supprimer").status_code == 403
    page = html(client.get(f"/dossiers/{demande.id}"))
    assert f"/engagements/echeances/{avance.id}/paiement" not in page
    connexion.deconnexion()
    # Un partenaire d'un autre contrat ne voit rien : 404
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert payer(client, avance.id, ligne.version, "3 000").status_code == 404
    assert client.get(f"/engagements/lignes/{ligne.id}/engagement").status_code == 404
    assert client.get("/engagements/echeances/999999/paiement").status_code == 404
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.numero_engagement == "2104567890" and ligne.montant_verse == 0


def test_saisies_concurrentes_d_un_paiement_donnent_un_conflit(app, client, connexion, db, monde):
    demande, ligne = engagee_avec_numero(db, client, connexion, monde)
    assert prevoir(client, ligne, "avance", "2 000").status_code == 302
    assert prevoir(client, ligne, "avance", "1 000").status_code == 302
    premiere, seconde = echeances(db, ligne)
    ligne = ligne_de(db, demande.id, monde.etat)
    version_lue = ligne.version  # les deux pages de paiement ont été ouvertes avec cette version

    # Un collègue enregistre la seconde échéance entre-temps
    collegue = app.test_client()
    Connexion(collegue).en_tant_que(monde.instructeur_etat)
    assert payer(collegue, seconde.id, version_lue, "1 000", "DP-B").status_code == 302

    reponse = payer(client, premiere.id, version_lue, "2 000", "DP-A")
    assert reponse.status_code == 409
    assert "modifié entre-temps par quelqu’un d’autre" in html(reponse)
    assert 'value="DP-A"' in html(reponse)  # la saisie est conservée
    assert echeances(db, ligne)[0].verse_le is None

    # La même échéance payée deux fois (deux onglets) : la seconde est refusée
    ligne = ligne_de(db, demande.id, monde.etat)
    double = payer(client, seconde.id, ligne.version, "1 000", "DP-B")
    assert double.status_code == 409 and "déjà enregistré" in html(double)
    assert ligne_de(db, demande.id, monde.etat).montant_verse == Decimal("1000.00")


def test_le_panneau_des_versements_en_nombre_de_requetes_borne(app, client, connexion, db, monde):
    demande, ligne = engagee_avec_numero(db, client, connexion, monde)

    class Compteur:
        n = 0

        def __call__(self, *args):
            self.n += 1

    def mesurer() -> int:
        client.get(f"/dossiers/{demande.id}")
        compteur = Compteur()
        event.listen(db.engine, "before_cursor_execute", compteur)
        try:
            assert client.get(f"/dossiers/{demande.id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", compteur)
        return compteur.n

    assert prevoir(client, ligne, "avance", "100").status_code == 302
    une = mesurer()
    for i in range(5):
        assert (
            prevoir(client, ligne, "avance", "100", aujourdhui() + timedelta(days=i + 2)).status_code == 302
        )
    assert mesurer() == une


def test_la_demonstration_montre_des_lignes_engagees_payees_et_soldees(app, client, connexion, db):
    from dauphin.models import Utilisateur
    from dauphin.seeds.demo import charger_demo

    charger_demo()
    assert "rien n’a été ajouté" in charger_demo()  # idempotente
    payes = db.session.scalars(select(Versement).where(Versement.verse_le.is_not(None))).all()
    assert payes and all(v.reference.startswith("DP-") for v in payes)
    lignes = db.session.scalars(select(LigneFinancement).where(LigneFinancement.montant_verse > 0)).all()
    assert {L.avance_versee, L.soldee} <= {ligne.statut for ligne in lignes}
    for ligne in lignes:
        assert ligne.acte_document_id is not None and ligne.numero_engagement
        assert ligne.montant_verse == sum(v.montant_verse for v in payes if v.ligne_id == ligne.id)
    # Le porteur de démonstration voit un paiement dans l'un de ses dossiers
    porteur = db.session.scalar(
        select(Utilisateur).where(Utilisateur.email == "porteur.signataire@demo.dauphin.fr")
    )
    Connexion(client).en_tant_que(porteur, "Dauphin-demo-2026")
    ligne = next(
        x for x in lignes if x.demande.structure_id in {a.structure_id for a in porteur.adhesions_structures}
    )
    page = html(client.get(f"/dossiers/{ligne.demande_id}"))
    assert "Engagement et versements" in page and "DP-" in page


def test_echeance_retiree_et_acte_manquant_relance(app, client, connexion, db, monde):
    demande, ligne = engagee_avec_numero(db, client, connexion, monde)
    assert prevoir(client, ligne, "avance", "2 000").status_code == 302
    assert prevoir(client, ligne, "solde", "4 000").status_code == 302
    double = prevoir(client, ligne, "solde", "1")
    assert double.status_code == 422 and "déjà un solde" in html(double)
    avance, solde = echeances(db, ligne)
    assert client.post(f"/engagements/echeances/{solde.id}/supprimer").status_code == 302
    assert [v.id for v in echeances(db, ligne)] == [avance.id]
    assert db.session.scalar(
        select(EvenementJournal).where(
            EvenementJournal.ligne_id == ligne.id, EvenementJournal.declencheur == "supprimer_echeance"
        )
    )
    # Un paiement enregistré ne se supprime pas
    ligne = ligne_de(db, demande.id, monde.etat)
    assert payer(client, avance.id, ligne.version, "2 000").status_code == 302
    assert client.post(f"/engagements/echeances/{avance.id}/supprimer").status_code == 409
    assert echeances(db, ligne)[0].verse_le == aujourdhui()

    # L'acte dont la production a échoué (tâche perdue) : l'instructeur la relance depuis le dossier
    ligne = ligne_de(db, demande.id, monde.etat)
    ancien = ligne.acte_document_id
    db.session.execute(
        LigneFinancement.__table__.update()
        .where(LigneFinancement.id == ligne.id)
        .values(acte_document_id=None)
    )
    db.session.commit()
    page = html(client.get(f"/dossiers/{demande.id}"))
    assert "Document en cours de production" in page and "Relancer la production du document" in page
    assert client.post(f"/engagements/lignes/{ligne.id}/acte/relancer").status_code == 302
    ligne = ligne_de(db, demande.id, monde.etat)
    assert ligne.acte_document_id not in (None, ancien)
    assert "Notification" in texte_pdf(client, ligne.acte_document_id)
