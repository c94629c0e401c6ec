"""Le comité de pilotage par les écrans : séance, ordre du jour, convocation, votes, montants, feuille de
présence, clôture (quorum des présents), procès-verbal, correction motivée — et ce que chacun ne peut pas
faire."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from dauphin.extensions import db as _db
from dauphin.models import (
    Campagne,
    Courriel,
    Demande,
    EvenementJournal,
    EvenementReferentiel,
    LigneFinancement,
    MembreOrganisation,
    MontantComite,
    Pilotage,
    PresenceComite,
    RegleMajorite,
    RoleOrganisation,
    SeanceComite,
    StatutSeance,
    VoteComite,
)
from dauphin.pdf import enregistrer_convocation
from dauphin.services import comites as service
from dauphin.services.documents import existe, lire
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete, utilisateur
from tests.formulaires_html import html, titre
from workflows import StatutDemande as D
from workflows import StatutLigne as L


def instruite(monde, *, etat=Decimal("6000"), commune=Decimal("4000"), intitule="Ateliers", avis=None):
    """Une demande transmise dont chaque ligne a reçu son avis (recevable au montant demandé par défaut)."""
    demande = demande_complete(monde, etat=etat, commune=commune, intitule=intitule)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    instructeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    for ligne in list(_db.session.get(Demande, demande.id).lignes_financement):
        instructeur = instructeurs[ligne.organisation_id]
        declencher_ligne(ligne.id, "prendre_en_charge", instructeur)
        if (avis or {}).get(ligne.organisation_id) == "non_recevable":
            declencher_ligne(ligne.id, "declarer_non_recevable", instructeur, commentaire="Hors champ.")
        else:
            declencher_ligne(ligne.id, "declarer_recevable", instructeur, montant=ligne.montant_demande)
    _db.session.expire_all()
    demande = _db.session.get(Demande, demande.id)
    assert demande.statut == D.instruite
    return demande


def ligne(demande_id: int, organisation) -> LigneFinancement:
    _db.session.expire_all()
    return _db.session.scalar(
        select(LigneFinancement).where(
            LigneFinancement.demande_id == demande_id, LigneFinancement.organisation_id == organisation.id
        )
    )


def seance_ouverte(monde, *demandes) -> SeanceComite:
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), "Mairie")
    service.inscrire(seance.id, [d.id for d in demandes], monde.pilote)
    service.ouvrir_vote(seance.id, monde.pilote)
    _db.session.expire_all()
    return _db.session.get(SeanceComite, seance.id)


def presences(monde, seance: SeanceComite, **statuts):
    """La feuille de présence remplie par le pilote : chaque partenaire (etat, commune, caf) présent, sauf
    ceux de `statuts` (« represente », « excuse », « absent »)."""
    organisations = {"etat": monde.etat, "commune": monde.commune, "caf": monde.caf}
    saisie = {o.id: (statuts.get(cle, "present"), None) for cle, o in organisations.items()}
    service.enregistrer_presences(seance.id, saisie, monde.pilote)


def point_de(seance: SeanceComite, demande: Demande):
    return next(p for p in seance.points if p.demande_id == demande.id)


def formulaire_du_point(client, url: str, prefixe: str, **champs):
    """Envoie un formulaire d'un point de séance : ses champs s'appellent `<prefixe>-<nom>`."""
    return client.post(url, data={f"{prefixe}-{nom}": valeur for nom, valeur in champs.items()})


def voter(client, seance: SeanceComite, point, organisation, choix: str, **champs):
    """Le vote d'une organisation sur un point ; `champs` : les autres champs du formulaire (`version`)."""
    url = f"/comites/{seance.id}/points/{point.id}/vote/{organisation.id}"
    return formulaire_du_point(client, url, f"vote-{point.id}-{organisation.id}", choix=choix, **champs)


def saisir_montant(client, seance: SeanceComite, point, ligne_financement, montant: str, **champs):
    """Le montant proposé pour une ligne sur un point ; `champs` : les autres champs (`version`)."""
    url = f"/comites/{seance.id}/points/{point.id}/lignes/{ligne_financement.id}/montant"
    prefixe = f"montant-{point.id}-{ligne_financement.id}"
    return formulaire_du_point(client, url, prefixe, montant=montant, **champs)


def membre(monde, email: str, organisation, role=RoleOrganisation.partenaire):
    compte = utilisateur(email)
    _db.session.add(MembreOrganisation(utilisateur_id=compte.id, organisation_id=organisation.id, role=role))
    _db.session.commit()
    return compte


# --- Le parcours complet par les écrans ---------------------------------------------------------


def test_preparer_voter_et_clore_une_seance_par_les_ecrans(app, client, connexion, db, monde):
    premiere = instruite(monde, intitule="Ateliers")
    seconde = instruite(monde, etat=Decimal("3000"), commune=Decimal("2000"), intitule="Jardins partagés")

    # Le pilote crée la séance…
    connexion.en_tant_que(monde.pilote)
    page = client.get("/comites/nouvelle")
    assert page.status_code == 200 and "Nouvelle séance" in html(page)
    reponse = client.post(
        "/comites/nouvelle",
        data={
            "campagne_id": monde.campagne.id,
            "date_seance": aujourdhui().isoformat(),
            "lieu": "Hôtel de ville",
        },
    )
    assert reponse.status_code == 302
    seance = db.session.scalar(select(SeanceComite))
    assert (seance.contrat_id, seance.statut) == (monde.contrat.id, StatutSeance.preparation)

    # … y inscrit les deux dossiers instruits (ils passent « programmés », au journal) …
    page = html(client.get(f"/comites/{seance.id}"))
    assert premiere.numero in page and seconde.numero in page and "Inscrire les dossiers cochés" in page
    reponse = client.post(
        f"/comites/{seance.id}/inscrire",
        data={"version": seance.version, "demandes": [premiere.id, seconde.id]},
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    assert {d.statut for d in db.session.scalars(select(Demande))} == {D.programmee}
    journal = db.session.scalar(
        select(EvenementJournal).where(
            EvenementJournal.demande_id == premiere.id, EvenementJournal.declencheur == "programmer"
        )
    )
    assert journal.acteur_id == monde.pilote.id and journal.role == "pilote"

    # … et ouvre le vote : les partenaires sont prévenus par courriel.
    seance = db.session.get(SeanceComite, seance.id)
    assert client.post(f"/comites/{seance.id}/ouvrir", data={"version": seance.version}).status_code == 302
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).statut == StatutSeance.vote_ouvert
    destinataires = set(
        db.session.scalars(select(Courriel.destinataire).where(Courriel.sujet.like("%vote est ouvert%")))
    )
    assert {
        "instructeur.etat@test.fr",
        "instructeur.commune@test.fr",
        "partenaire.caf@test.fr",
    } <= destinataires
    assert "partenaire.gard@test.fr" not in destinataires  # partenaire d'un autre contrat
    connexion.deconnexion()

    seance = db.session.get(SeanceComite, seance.id)
    p1, p2 = point_de(seance, premiere), point_de(seance, seconde)

    # Chaque financeur saisit le montant de sa ligne et vote au nom de son organisation ; la CAF vote.
    votes = {
        monde.instructeur_etat: (monde.etat, {p1: "pour", p2: "contre"}),
        monde.instructeur_commune: (monde.commune, {p1: "pour", p2: "contre"}),
        monde.partenaire_caf: (monde.caf, {p1: "abstention", p2: "pour"}),
    }
    for compte, (organisation, choix) in votes.items():
        connexion.en_tant_que(compte)
        for point, valeur in choix.items():
            reponse = voter(client, seance, point, organisation, valeur)
            assert reponse.status_code == 302, html(reponse)
        connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    lf = ligne(premiere.id, monde.etat)
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Reste de l’enveloppe avant ce dossier" in page and "50\u202f000,00" in page
    reponse = saisir_montant(client, seance, p1, lf, "5 500")
    assert reponse.status_code == 302
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    lc = ligne(premiere.id, monde.commune)
    reponse = saisir_montant(client, seance, p1, lc, "4000")
    assert reponse.status_code == 302
    connexion.deconnexion()

    # Le pilote ne clôt pas sans feuille de présence : l'écran de clôture le dit et mène à la feuille.
    connexion.en_tant_que(monde.pilote)
    apercu = html(client.get(f"/comites/{seance.id}/clore"))
    assert "Remplissez d’abord la feuille de présence" in apercu
    assert "Clore la séance et fixer les décisions" not in apercu
    assert f'href="/comites/{seance.id}#presences"' in apercu
    # Il la remplit : la commune est représentée ; chacun siège, le quorum se compte sur eux.
    seance = db.session.get(SeanceComite, seance.id)
    reponse = client.post(
        f"/comites/{seance.id}/presences",
        data={
            "version": seance.version,
            f"presence_{monde.etat.id}": "present",
            f"representant_{monde.etat.id}": "Claire Martin, déléguée du préfet",
            f"presence_{monde.commune.id}": "represente",
            f"representant_{monde.commune.id}": "Paul Durand, adjoint au maire",
            f"presence_{monde.caf.id}": "present",
        },
    )
    assert reponse.status_code == 302 and reponse.headers["Location"].endswith("#presences")

    # Il voit ce que la clôture décidera, quorum compris, puis clôt.
    apercu = html(client.get(f"/comites/{seance.id}/clore"))
    assert "Avis favorable (pour 2, contre 0, abstention 1)" in apercu
    assert "Avis défavorable (pour 1, contre 2, abstention 0)" in apercu
    assert "quorum atteint : 3 partenaire(s) présent(s) ou représenté(s) sur 3 appelé(s), 2 requis" in apercu
    assert "Paul Durand, adjoint au maire" in apercu  # la feuille, rappelée avant de confirmer
    seance = db.session.get(SeanceComite, seance.id)
    reponse = client.post(f"/comites/{seance.id}/clore", data={"version": seance.version})
    assert reponse.status_code == 302

    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert seance.statut == StatutSeance.close and seance.close_par_id == monde.pilote.id
    assert [
        (p.decision.value, p.voix_pour, p.voix_contre, p.abstentions, p.presents) for p in seance.points
    ] == [
        ("favorable", 2, 0, 1, 3),
        ("defavorable", 1, 2, 0, 3),
    ]
    assert db.session.get(Demande, premiere.id).statut == D.attribuee
    assert db.session.get(Demande, seconde.id).statut == D.rejetee
    etat1 = ligne(premiere.id, monde.etat)
    assert (etat1.statut, etat1.montant_vote, etat1.vote_le) == (L.votee, Decimal("5500.00"), etat1.vote_le)
    assert etat1.vote_le is not None
    assert ligne(premiere.id, monde.commune).statut == L.votee
    assert {ligne(seconde.id, o).statut for o in (monde.etat, monde.commune)} == {L.refusee}
    vote = db.session.scalar(
        select(EvenementJournal).where(
            EvenementJournal.ligne_id == etat1.id, EvenementJournal.declencheur == "voter"
        )
    )
    assert vote.acteur_id == monde.pilote.id and "Comité du" in vote.commentaire
    sujets = set(
        db.session.scalars(select(Courriel.sujet).where(Courriel.destinataire == "signataire@test.fr"))
    )
    assert f"Demande {premiere.numero} : subvention attribuée" in sujets
    assert f"Demande {seconde.numero} : décision du comité" in sujets

    # Le procès-verbal est produit (tâche) et lisible.
    assert seance.pv_cle_stockage is not None
    reponse = client.get(f"/comites/{seance.id}/proces-verbal.pdf")
    assert reponse.status_code == 200 and reponse.mimetype == "application/pdf"
    texte = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reponse.data)).pages)
    texte = re.sub(r"\s+", " ", texte)
    assert "Procès-verbal du comité de pilotage" in texte
    assert premiere.numero in texte and seconde.numero in texte
    assert "Avis favorable" in texte and "Avis défavorable" in texte
    assert "5 500,00" in texte.replace("\u202f", " ").replace("\u00a0", " ")
    # La feuille de présence et le quorum compté sur elle
    assert "Feuille de présence" in texte and "Représentée" in texte
    assert "Paul Durand, adjoint au maire" in texte
    assert (
        "3 partenaire(s) présent(s) ou représenté(s) sur 3, 2 requis sans récusation (50 %) : quorum atteint"
        in texte
    )
    assert "quorum atteint : 3 partenaire(s) présent(s) ou représenté(s) sur 3 appelé(s), 2 requis" in texte
    assert existe(seance.pv_cle_stockage)
    assert hashlib.sha256(lire(seance.pv_cle_stockage)).hexdigest() == seance.pv_sha256  # vérifiable

    # Une séance close ne se modifie plus.
    reponse = client.post(f"/comites/{seance.id}/ouvrir", data={"version": seance.version})
    assert reponse.status_code in (302, 409)
    assert db.session.get(SeanceComite, seance.id).statut == StatutSeance.close
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = voter(client, seance, p1, monde.caf, "contre")
    assert reponse.status_code == 409
    assert "la séance est « Close »" in html(reponse)
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(VoteComite.choix).where(
                VoteComite.point_id == p1.id, VoteComite.organisation_id == monde.caf.id
            )
        ).value
        == "abstention"
    )


def test_corriger_une_decision_close_est_une_transition_motivee(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    for compte, organisation in ((monde.instructeur_etat, monde.etat), (monde.partenaire_caf, monde.caf)):
        service.voter(point.id, organisation.id, "pour", None, compte)
    service.saisir_montant(
        point.id, ligne(demande.id, monde.etat).id, Decimal("6000"), monde.instructeur_etat
    )
    presences(monde, seance)
    service.clore(seance.id, monde.pilote)
    lf = ligne(demande.id, monde.etat)
    assert (lf.statut, lf.montant_vote) == (L.votee, Decimal("6000.00"))
    assert ligne(demande.id, monde.commune).statut == L.refusee  # aucun montant saisi

    connexion.en_tant_que(monde.instructeur_etat)
    sans_motif = client.post(
        f"/instruction/lignes/{lf.id}/corriger-vote",
        data={f"corriger-vote-{lf.id}-version": lf.version, f"corriger-vote-{lf.id}-montant": "5000"},
    )
    assert sans_motif.status_code == 422 and "Indiquez le motif de la correction." in html(sans_motif)
    assert 'value="5000"' in html(sans_motif)  # la saisie est conservée
    reponse = client.post(
        f"/instruction/lignes/{lf.id}/corriger-vote",
        data={
            f"corriger-vote-{lf.id}-version": lf.version,
            f"corriger-vote-{lf.id}-montant": "5000",
            f"corriger-vote-{lf.id}-commentaire": "Erreur de report au comité.",
        },
    )
    assert reponse.status_code == 302
    lf = ligne(demande.id, monde.etat)
    assert (lf.statut, lf.montant_vote) == (L.votee, Decimal("5000.00"))
    correction = db.session.scalar(
        select(EvenementJournal).where(EvenementJournal.declencheur == "corriger_vote")
    )
    assert (correction.commentaire, correction.acteur_id) == (
        "Erreur de report au comité.",
        monde.instructeur_etat.id,
    )

    # Annuler le seul vote positif : le dossier devient rejeté (dérivé, journalisé).
    reponse = client.post(
        f"/instruction/lignes/{lf.id}/annuler-vote",
        data={
            f"annuler-vote-{lf.id}-version": lf.version,
            f"annuler-vote-{lf.id}-commentaire": "Le financeur se retire.",
        },
    )
    assert reponse.status_code == 302
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.rejetee
    assert ligne(demande.id, monde.etat).statut == L.refusee
    # La commune n'agit pas sur la ligne de l'État.
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    assert client.get(f"/instruction/lignes/{lf.id}/corriger-vote").status_code == 403


# --- Montants : bornés par le demandé et par le reste de l'enveloppe -------------------------------


def test_montant_au_dela_du_demande_ou_de_l_enveloppe_refuse_avec_son_message(client, connexion, db, monde):
    # Enveloppe de la commune : 20 000 €. Deux dossiers lui demandent 15 000 € chacun.
    a = instruite(monde, commune=Decimal("15000"), intitule="A")
    b = instruite(monde, commune=Decimal("15000"), intitule="B")
    seance = seance_ouverte(monde, a, b)
    pa, pb = point_de(seance, a), point_de(seance, b)
    la, lb = ligne(a.id, monde.commune), ligne(b.id, monde.commune)
    connexion.en_tant_que(monde.instructeur_commune)

    def saisir(point, lf, montant):
        """Comme le navigateur : la version du montant affiché (vide s'il n'y en a pas encore)."""
        db.session.expire_all()
        version = db.session.scalar(
            select(MontantComite.version).where(
                MontantComite.point_id == point.id, MontantComite.ligne_id == lf.id
            )
        )
        return saisir_montant(client, seance, point, lf, montant, version=version or "")

    trop = saisir(pa, la, "15 000,01")
    assert trop.status_code == 422
    page = html(trop)
    assert "dépasse le montant demandé" in page and 'value="15 000,01"' in page
    assert "<title>Erreur : " in page
    assert saisir(pa, la, "15000").status_code == 302
    depasse = saisir(pb, lb, "5000,01")
    assert depasse.status_code == 422
    assert "dépasse le reste de votre enveloppe" in html(depasse) and "5\u202f000,00" in html(depasse)
    assert saisir(pb, lb, "5000").status_code == 302
    # Corriger le premier montant à la baisse libère de quoi relever le second.
    assert saisir(pa, la, "14000").status_code == 302
    assert saisir(pb, lb, "6000").status_code == 302
    db.session.expire_all()
    assert {m.montant for m in db.session.scalars(select(MontantComite))} == {
        Decimal("14000.00"),
        Decimal("6000.00"),
    }
    # Une ligne non recevable ne reçoit pas de montant ; la ligne d'un autre financeur non plus.
    assert saisir(pa, ligne(a.id, monde.etat), "100").status_code == 403


def test_une_ligne_non_recevable_est_refusee_a_la_cloture(db, monde):
    demande = instruite(monde, avis={monde.commune.id: "non_recevable"})
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    with pytest.raises(Refus, match="seule une ligne recevable"):
        service.saisir_montant(
            point.id, ligne(demande.id, monde.commune).id, Decimal("10"), monde.instructeur_commune
        )
    for compte, organisation in (
        (monde.instructeur_etat, monde.etat),
        (monde.instructeur_commune, monde.commune),
    ):
        service.voter(point.id, organisation.id, "pour", None, compte)
    service.saisir_montant(
        point.id, ligne(demande.id, monde.etat).id, Decimal("6000"), monde.instructeur_etat
    )
    presences(monde, seance)
    service.clore(seance.id, monde.pilote)
    assert ligne(demande.id, monde.etat).statut == L.votee
    assert ligne(demande.id, monde.commune).statut == L.refusee
    assert _db.session.get(Demande, demande.id).statut == D.attribuee


# --- Quorum des présents, majorité, récusation ------------------------------------------------


TOUS = {}  # les trois partenaires (État, commune, CAF) présents


@pytest.mark.parametrize(
    ("regle", "quorum", "presence", "votes", "decision", "statut"),
    [
        ("simple", 50, TOUS, {"etat": "pour", "commune": "contre"}, "defavorable", D.rejetee),  # égalité
        ("simple", 50, TOUS, {"etat": "pour", "commune": "abstention"}, "favorable", D.attribuee),
        ("absolue", 50, TOUS, {"etat": "pour", "commune": "abstention"}, "defavorable", D.rejetee),
        (
            "absolue",
            50,
            TOUS,
            {"etat": "pour", "commune": "pour", "caf": "abstention"},
            "favorable",
            D.attribuee,
        ),
        (
            "deux_tiers",
            50,
            TOUS,
            {"etat": "pour", "commune": "pour", "caf": "contre"},
            "favorable",
            D.attribuee,
        ),
        ("deux_tiers", 50, TOUS, {"etat": "pour", "commune": "contre"}, "defavorable", D.rejetee),
        # Le quorum se compte sur les présents, pas sur les votes : deux votes suffisent à 100 % si tous
        # siègent, et tous les votes ne le font pas si l'un est absent.
        ("simple", 100, TOUS, {"etat": "pour", "commune": "pour"}, "favorable", D.attribuee),
        ("simple", 100, {"caf": "absent"}, {"etat": "pour", "commune": "pour"}, "ajourne", D.instruite),
        (
            "simple",
            100,
            {"caf": "absent"},
            {"etat": "pour", "commune": "pour", "caf": "pour"},
            "ajourne",
            D.instruite,
        ),
        # Représentée, une organisation siège ; excusée, elle ne compte pas.
        (
            "simple",
            100,
            {"commune": "represente", "caf": "represente"},
            {"etat": "pour"},
            "favorable",
            D.attribuee,
        ),
        ("simple", 50, {"commune": "excuse", "caf": "excuse"}, {"etat": "pour"}, "ajourne", D.instruite),
        # La CAF se récuse : le quorum de 100 % se compte sur les deux autres, présente ou non.
        (
            "simple",
            100,
            {"caf": "absent"},
            {"etat": "pour", "commune": "pour", "caf": "recusation"},
            "favorable",
            D.attribuee,
        ),
        # Le vote d'une organisation absente n'est pas compté : sans lui, égalité.
        (
            "simple",
            50,
            {"caf": "absent"},
            {"etat": "pour", "commune": "contre", "caf": "pour"},
            "defavorable",
            D.rejetee,
        ),
        # Quorum atteint par la présence, aucun vote : pas de majorité pour.
        ("simple", 50, TOUS, {}, "defavorable", D.rejetee),
    ],
)
def test_quorum_des_presents_et_majorite_du_contrat(
    db, monde, regle, quorum, presence, votes, decision, statut
):
    monde.contrat.regle_majorite = RegleMajorite(regle)
    monde.contrat.quorum_pourcentage = quorum
    db.session.commit()
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    comptes = {
        "etat": (monde.instructeur_etat, monde.etat),
        "commune": (monde.instructeur_commune, monde.commune),
        "caf": (monde.partenaire_caf, monde.caf),
    }
    for cle, choix in votes.items():
        compte, organisation = comptes[cle]
        service.voter(
            point.id, organisation.id, choix, "Élue au bureau." if choix == "recusation" else None, compte
        )
    service.saisir_montant(
        point.id, ligne(demande.id, monde.etat).id, Decimal("6000"), monde.instructeur_etat
    )
    presences(monde, seance, **presence)
    service.clore(seance.id, monde.pilote)
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert seance.points[0].decision.value == decision
    assert db.session.get(Demande, demande.id).statut == statut
    # Le décompte lu par la clôture est figé et journalisé avec la décision.
    commentaires = db.session.scalars(
        select(EvenementJournal.commentaire).where(EvenementJournal.demande_id == demande.id)
    ).all()
    assert any(c and seance.points[0].explication in c for c in commentaires)
    if decision == "ajourne":
        # Ajourné : de nouveau inscriptible à une autre séance, lignes inchangées.
        assert seance.points[0].explication.startswith("Quorum non atteint")
        assert ligne(demande.id, monde.etat).statut == L.recevable
        autre = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
        assert [d.id for d in service.dossiers_inscriptibles(autre)] == [demande.id]


def test_une_seance_ne_se_clot_pas_avant_sa_date(client, connexion, db, monde):
    """Une séance à venir : le bouton n'est pas proposé, la clôture est refusée en français et rien ne
    change ; le jour de la séance, elle se clôt."""
    seance = seance_ouverte(monde, instruite(monde))
    seance.date_seance = aujourdhui() + timedelta(days=3)
    db.session.commit()
    message = f"La séance du {seance.date_seance:%d/%m/%Y} n’a pas encore eu lieu"
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert message in page and "Clore la séance…" not in page
    apercu = html(client.get(f"/comites/{seance.id}/clore"))
    assert message in apercu and "Clore la séance et fixer les décisions" not in apercu
    reponse = client.post(f"/comites/{seance.id}/clore", data={"version": seance.version})
    assert reponse.status_code == 422 and message in html(reponse)
    assert titre(reponse).startswith("Erreur : ")
    with pytest.raises(Refus, match="n’a pas encore eu lieu"):
        service.clore(seance.id, monde.pilote)
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).statut == StatutSeance.vote_ouvert

    seance = db.session.get(SeanceComite, seance.id)
    seance.date_seance = aujourdhui()
    db.session.commit()
    presences(monde, seance)
    assert service.clore(seance.id, monde.pilote).statut == StatutSeance.close


def test_recusation_sans_motif_refusee(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = voter(client, seance, point, monde.caf, "recusation")
    assert reponse.status_code == 422
    assert "Indiquez la raison de la récusation" in html(reponse)
    assert db.session.scalar(select(VoteComite)) is None


# --- Feuille de présence -----------------------------------------------------------------------------


def texte_pdf(contenu: bytes) -> str:
    """Le texte d'un PDF, espaces (insécables compris) réduits à une espace simple."""
    texte = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(contenu)).pages)
    return re.sub(r"\s+", " ", texte.replace("\u202f", " ").replace("\u00a0", " "))


def test_cloture_refusee_tant_que_la_feuille_de_presence_n_est_pas_complete(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    service.voter(point_de(seance, demande).id, monde.etat.id, "pour", None, monde.instructeur_etat)
    # Deux présences sur trois : la CAF manque.
    service.enregistrer_presences(
        seance.id,
        {monde.etat.id: ("present", None), monde.commune.id: ("excuse", None)},
        monde.pilote,
    )
    message = "Remplissez d’abord la feuille de présence"
    with pytest.raises(Refus, match=message) as refus:
        service.clore(seance.id, monde.pilote)
    assert "Présence à indiquer pour : CAF du Nord." in str(refus.value)

    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert message in page and "Clore la séance…" not in page
    assert "la feuille de présence n’est pas encore complète" in page  # pas d'issue annoncée à tort
    apercu = client.get(f"/comites/{seance.id}/clore")
    assert apercu.status_code == 200
    assert message in html(apercu) and "Clore la séance et fixer les décisions" not in html(apercu)
    assert "Remplir la feuille de présence" in html(apercu)
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    reponse = client.post(f"/comites/{seance.id}/clore", data={"version": seance.version})
    assert reponse.status_code == 422 and message in html(reponse)
    assert titre(reponse).startswith("Erreur : ")
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).statut == StatutSeance.vote_ouvert
    assert db.session.get(Demande, demande.id).statut == D.programmee


def test_feuille_de_presence_par_les_ecrans_journalisee_et_protegee(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    adresse = f"/comites/{seance.id}/presences"
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert f'action="{adresse}"' in page and "Enregistrer la feuille de présence" in page
    assert "Personne qui siège pour CAF du Nord (facultatif)" in page

    # Une personne qui siège pour une organisation excusée : refusé à côté du champ, rien de perdu.
    champs = {
        "version": seance.version,
        f"presence_{monde.etat.id}": "present",
        f"presence_{monde.commune.id}": "represente",
        f"representant_{monde.commune.id}": "Paul Durand, adjoint au maire",
        f"presence_{monde.caf.id}": "excuse",
        f"representant_{monde.caf.id}": "Inès Moreau",
    }
    reponse = client.post(adresse, data=champs)
    assert reponse.status_code == 422
    page = html(reponse)
    assert "<title>Erreur : " in page
    assert "la personne qui siège ne s’indique que pour une organisation présente ou représentée" in page
    assert 'value="Paul Durand, adjoint au maire"' in page and 'value="Inès Moreau"' in page
    assert db.session.scalar(select(PresenceComite)) is None

    # Corrigée, elle est enregistrée, tracée (qui, quoi, avant → après) et change la version de la séance.
    del champs[f"representant_{monde.caf.id}"]
    reponse = client.post(adresse, data=champs)
    assert reponse.status_code == 302
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert {(p.organisation_id, p.statut.value, p.representant) for p in seance.presences} == {
        (monde.etat.id, "present", None),
        (monde.commune.id, "represente", "Paul Durand, adjoint au maire"),
        (monde.caf.id, "excuse", None),
    }
    trace = db.session.scalar(
        select(EvenementReferentiel).where(
            EvenementReferentiel.objet_type == "seance_comite", EvenementReferentiel.action == "presences"
        )
    )
    assert trace.acteur_id == monde.pilote.id and trace.objet_id == str(seance.id)
    assert trace.details["Ville de Lille"] == [None, "Représentée (Paul Durand, adjoint au maire)"]
    assert "Feuille de présence du comité du" in trace.resume

    # Page périmée : un autre pilote a modifié la feuille ; 409, la saisie est gardée, rien n'est écrasé.
    lue = seance.version
    service.enregistrer_presences(seance.id, {monde.caf.id: ("present", "Sofia Haddad")}, monde.pilote)
    reponse = client.post(adresse, data={**champs, "version": lue, f"presence_{monde.caf.id}": "absent"})
    assert reponse.status_code == 409
    page = html(reponse)
    assert "<title>Conflit : " in page and service.SEANCE_CHANGEE in page
    coche = re.search(rf'<input[^>]*name="presence_{monde.caf.id}"[^>]*value="absent"[^>]*>', page).group(0)
    assert "checked" in coche
    db.session.expire_all()
    caf = db.session.scalar(select(PresenceComite).where(PresenceComite.organisation_id == monde.caf.id))
    assert (caf.statut.value, caf.representant) == ("present", "Sofia Haddad")

    # Un partenaire lit la feuille sans pouvoir la modifier ; un autre contrat n'en sait rien.
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_caf)
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Feuille de présence" in page and "Sofia Haddad" in page and f'action="{adresse}"' not in page
    assert client.post(adresse, data={**champs, "version": seance.version}).status_code == 403
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.post(adresse, data={**champs, "version": seance.version}).status_code == 404
    with pytest.raises(NonAutorise):
        service.enregistrer_presences(seance.id, {monde.caf.id: ("absent", None)}, monde.partenaire_caf)

    # Close, la séance garde sa feuille : plus de formulaire, et un envoi est refusé (409).
    presences(monde, seance)
    service.clore(seance.id, monde.pilote)
    connexion.deconnexion()
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert f'action="{adresse}"' not in page and "Présence des organisations partenaires" in page
    db.session.expire_all()
    reponse = client.post(
        adresse, data={**champs, "version": db.session.get(SeanceComite, seance.id).version}
    )
    assert reponse.status_code == 409 and "sa feuille de présence ne se modifie plus" in html(reponse)


def test_vote_d_une_organisation_absente_signale_et_non_compte(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    service.voter(point.id, monde.etat.id, "pour", None, monde.instructeur_etat)
    service.voter(point.id, monde.commune.id, "contre", None, monde.instructeur_commune)
    service.voter(point.id, monde.caf.id, "pour", None, monde.partenaire_caf)
    presences(monde, seance, caf="absent")
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Des votes ne seront pas comptés" in page
    assert "CAF du Nord, indiquée « absente », a voté sur 1 dossier." in page
    assert "(non compté : absente)" in page
    assert (
        "Avis défavorable (pour 1, contre 1, abstention 0 ; 1 vote(s) d’organisation(s) excusée(s) ou "
        "absente(s) non compté(s)) ; quorum atteint : 2 partenaire(s)"
    ) in page
    service.clore(seance.id, monde.pilote)
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.rejetee
    reponse = client.get(f"/comites/{seance.id}/proces-verbal.pdf")
    texte = texte_pdf(reponse.data)
    assert "CAF du Nord (absente)" in texte and "Pour (non compté : absente)" in texte


# --- Convocation -------------------------------------------------------------------------------------


def test_convocation_envoyee_aux_partenaires_avec_l_ordre_du_jour(app, client, connexion, db, monde):
    premiere = instruite(monde, intitule="Ateliers")
    seconde = instruite(monde, etat=Decimal("3000"), commune=Decimal("2000"), intitule="Jardins partagés")
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), "Hôtel de ville")
    service.inscrire(seance.id, [premiere.id], monde.pilote)
    adresse_pdf = f"/comites/{seance.id}/convocation.pdf"
    connexion.en_tant_que(monde.pilote)
    assert client.get(adresse_pdf).status_code == 404  # rien d'envoyé
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Aucune convocation n’a encore été envoyée" in page and "Envoyer la convocation" in page

    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    reponse = client.post(f"/comites/{seance.id}/convocation", data={"version": seance.version})
    assert reponse.status_code == 302 and reponse.headers["Location"].endswith("#convocation")

    # Un courriel à chaque membre des organisations partenaires du contrat, avec le lien du PDF.
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert (seance.convocation_numero, seance.convocation_envoyee_par_id) == (1, monde.pilote.id)
    assert seance.convocation_cle_stockage is not None and seance.convocation_taille > 0  # tâche passée
    assert hashlib.sha256(lire(seance.convocation_cle_stockage)).hexdigest() == seance.convocation_sha256
    courriels = db.session.scalars(select(Courriel).where(Courriel.sujet.like("Convocation%"))).all()
    destinataires = {c.destinataire for c in courriels}
    assert destinataires == set(service.membres_des_partenaires(monde.contrat.id))
    assert {
        "instructeur.etat@test.fr",
        "instructeur.commune@test.fr",
        "partenaire.caf@test.fr",
    } <= destinataires
    assert "partenaire.gard@test.fr" not in destinataires and "signataire@test.fr" not in destinataires
    lien = f"{app.config['BASE_URL'].rstrip('/')}{adresse_pdf}"
    for courriel in courriels:
        assert courriel.sujet == f"Convocation : comité de pilotage du {aujourdhui():%d/%m/%Y}"
        assert lien in courriel.corps and f'<a href="{lien}"' in courriel.corps_html
        assert "Hôtel de ville" in courriel.corps and "1 dossier de la campagne" in courriel.corps
    trace = db.session.scalar(
        select(EvenementReferentiel).where(EvenementReferentiel.action == "convocation")
    )
    assert trace.acteur_id == monde.pilote.id and trace.details["numero"] == 1
    assert trace.details["ordre du jour"] == premiere.numero

    # Le PDF : date, lieu, partenaires convoqués, ordre du jour avec les montants demandés par financeur.
    reponse = client.get(adresse_pdf)
    assert reponse.status_code == 200 and reponse.mimetype == "application/pdf"
    texte = texte_pdf(reponse.data)
    assert "Convocation au comité de pilotage du" in texte and "Hôtel de ville" in texte
    assert "CAF du Nord" in texte and "Ville de Lille" in texte and "Préfecture du Nord" in texte
    assert premiere.numero in texte and "Ateliers" in texte and monde.structure.nom in texte
    assert "6 000,00" in texte and "4 000,00" in texte and "10 000,00" in texte
    assert seconde.numero not in texte
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Convocation n° 1 envoyée le" in page and "L’ordre du jour a changé" not in page

    # L'ordre du jour change : la page le dit, le pilote envoie une convocation à jour, qui la remplace.
    service.inscrire(seance.id, [seconde.id], monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert "L’ordre du jour a changé depuis cet envoi" in page and "Envoyer la convocation à jour" in page
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert (
        client.post(f"/comites/{seance.id}/convocation", data={"version": seance.version}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).convocation_numero == 2
    a_jour = db.session.scalars(select(Courriel).where(Courriel.sujet.like("Convocation à jour%"))).all()
    assert {c.destinataire for c in a_jour} == destinataires
    assert "Cette convocation à jour (n° 2) remplace la précédente" in a_jour[0].corps
    reponse = client.get(adresse_pdf)
    assert "-n2.pdf" in reponse.headers["Content-Disposition"]
    texte = texte_pdf(reponse.data)
    assert seconde.numero in texte and "Jardins partagés" in texte and "Convocation à jour n° 2" in texte
    page = html(client.get(f"/comites/{seance.id}"))
    assert "Convocation n° 2 envoyée le" in page and "L’ordre du jour a changé" not in page

    # Qui voit la séance télécharge la convocation ; les autres ne savent pas qu'elle existe.
    for compte in (monde.instructeur_etat, monde.admin_national):
        connexion.deconnexion()
        connexion.en_tant_que(compte)
        assert client.get(adresse_pdf).status_code == 200
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_caf)
    assert client.get(adresse_pdf).status_code == 200
    assert "Télécharger la convocation n° 2" in html(client.get(f"/comites/{seance.id}"))
    assert client.post(f"/comites/{seance.id}/convocation", data={"version": 99}).status_code == 403
    for compte in (monde.partenaire_autre_contrat, monde.signataire):
        connexion.deconnexion()
        connexion.en_tant_que(compte)
        assert client.get(adresse_pdf).status_code == 404
        assert client.post(f"/comites/{seance.id}/convocation", data={"version": 99}).status_code in (
            403,
            404,
        )
    assert client.get("/comites/999999/convocation.pdf").status_code == 404


def test_convocation_refusee_sans_ordre_du_jour_page_perimee_ou_seance_passee(client, connexion, db, monde):
    demande = instruite(monde)
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    with pytest.raises(Refus, match="Inscrivez au moins un dossier"):
        service.convoquer(seance.id, monde.pilote)
    service.inscrire(seance.id, [demande.id], monde.pilote)
    connexion.en_tant_que(monde.pilote)
    db.session.expire_all()
    lue = db.session.get(SeanceComite, seance.id).version
    service.convoquer(seance.id, monde.pilote)  # un autre onglet l'a envoyée
    reponse = client.post(f"/comites/{seance.id}/convocation", data={"version": lue}, follow_redirects=True)
    assert service.SEANCE_CHANGEE in html(reponse)
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).convocation_numero == 1
    # Une séance passée ne se convoque plus : la page le dit à la place du bouton.
    seance = db.session.get(SeanceComite, seance.id)
    seance.date_seance = aujourdhui() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(Refus, match="est passée"):
        service.convoquer(seance.id, monde.pilote)
    page = html(client.get(f"/comites/{seance.id}"))
    assert "est passée : la convocation ne s’envoie plus" in page
    assert f'action="/comites/{seance.id}/convocation"' not in page


def test_lien_de_la_convocation_la_produit_si_sa_tache_n_est_pas_passee(client, connexion, db, monde):
    """La tâche du PDF perdue (Redis en panne) : le lien du courriel produit la convocation sur place, sans
    changer la version de la séance (la page du pilote reste valable)."""
    demande = instruite(monde)
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    service.inscrire(seance.id, [demande.id], monde.pilote)
    service.convoquer(seance.id, monde.pilote)
    db.session.execute(
        SeanceComite.__table__.update()
        .where(SeanceComite.id == seance.id)
        .values(convocation_cle_stockage=None, convocation_taille=None, convocation_produite_le=None)
    )
    db.session.commit()
    db.session.expire_all()
    version = db.session.get(SeanceComite, seance.id).version
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = client.get(f"/comites/{seance.id}/convocation.pdf")
    assert reponse.status_code == 200 and demande.numero in texte_pdf(reponse.data)
    db.session.expire_all()
    seance = db.session.get(SeanceComite, seance.id)
    assert seance.convocation_cle_stockage is not None and seance.version == version
    # La tâche qui passe ensuite rend la clé déjà rangée ; celle d'un envoi remplacé ne produit rien.
    assert enregistrer_convocation(seance.id, 1) == seance.convocation_cle_stockage
    assert enregistrer_convocation(seance.id, 0) is None


# --- Qui voit et qui agit ----------------------------------------------------------------------------


def test_cloisonnement_des_seances(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    # Un partenaire d'un autre contrat ne voit rien de cette séance.
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.get(f"/comites/{seance.id}").status_code == 404
    assert "Séance du" not in html(client.get("/comites/"))
    reponse = voter(client, seance, point, monde.caf, "pour")
    assert reponse.status_code == 404
    connexion.deconnexion()
    # Un partenaire du contrat voit et vote ; il ne prépare ni ne clôt la séance, ni ne vote pour un autre.
    connexion.en_tant_que(monde.partenaire_caf)
    assert client.get(f"/comites/{seance.id}").status_code == 200
    assert client.post(f"/comites/{seance.id}/clore", data={"version": seance.version}).status_code == 403
    assert client.get(f"/comites/{seance.id}/clore").status_code == 403
    assert voter(client, seance, point, monde.etat, "pour").status_code == 403
    assert client.get("/comites/nouvelle").status_code == 403
    connexion.deconnexion()
    # Le porteur n'a pas d'espace « comités » ; une séance inconnue : 404.
    connexion.en_tant_que(monde.signataire)
    assert client.get("/comites/").status_code == 403
    assert client.get(f"/comites/{seance.id}").status_code == 404
    connexion.deconnexion()
    connexion.en_tant_que(monde.pilote)
    assert client.get("/comites/999999").status_code == 404


def test_un_pilote_ne_cree_pas_de_seance_sur_un_contrat_qu_il_ne_pilote_pas(client, connexion, db, monde):
    autre = Campagne(
        contrat_id=monde.autre_contrat.id,
        exercice=monde.campagne.exercice,
        libelle="Autre appel",
        date_ouverture=monde.campagne.date_ouverture,
        date_cloture=monde.campagne.date_cloture,
    )
    db.session.add(autre)
    db.session.commit()
    connexion.en_tant_que(monde.pilote)
    assert f'value="{autre.id}"' not in html(client.get("/comites/nouvelle"))
    reponse = client.post("/comites/nouvelle", data={"campagne_id": autre.id, "date_seance": "2027-04-12"})
    assert reponse.status_code == 422
    assert db.session.scalar(select(SeanceComite)) is None


# --- Concurrence -----------------------------------------------------------------------------------


def test_deux_membres_d_une_organisation_votent_en_meme_temps_un_seul_gagne(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    point = point_de(seance, demande)
    collegue = membre(monde, "collegue.caf@test.fr", monde.caf)
    # Tous deux ont affiché la page sans vote (version vide) ; le collègue vote le premier.
    service.voter(point.id, monde.caf.id, "pour", None, collegue, version="")
    connexion.en_tant_que(monde.partenaire_caf)
    reponse = voter(client, seance, point, monde.caf, "contre", version="")
    assert reponse.status_code == 409
    assert "a déjà voté « Pour » pour votre organisation" in html(reponse)
    coche = re.search(r'<input[^>]*value="contre"[^>]*>', html(reponse)).group(0)
    assert "checked" in coche  # la saisie de l'usager est conservée
    db.session.expire_all()
    assert db.session.scalar(select(VoteComite)).choix.value == "pour"


@pytest.mark.transactions_reelles  # deux fils d'exécution, chacun sa connexion
def test_saisies_simultanees_sur_l_enveloppe_ne_la_depassent_pas(app, db, monde):
    """Deux dossiers, deux saisies au même instant : le reste de l'enveloppe n'est jamais dépassé."""
    a = instruite(monde, commune=Decimal("15000"), intitule="A")
    b = instruite(monde, commune=Decimal("15000"), intitule="B")
    seance = seance_ouverte(monde, a, b)
    saisies = [
        (point_de(seance, a).id, ligne(a.id, monde.commune).id),
        (point_de(seance, b).id, ligne(b.id, monde.commune).id),
    ]
    instructeur_id = monde.instructeur_commune.id
    depart = threading.Barrier(2)
    resultats = []

    def saisir(point_id, ligne_id):
        with app.app_context():
            from dauphin.models import Utilisateur

            compte = _db.session.get(Utilisateur, instructeur_id)
            depart.wait()
            try:
                service.saisir_montant(point_id, ligne_id, Decimal("15000"), compte)
                resultats.append("ok")
            except (Refus, Conflit) as erreur:
                resultats.append(type(erreur).__name__)
            except Exception as erreur:  # SQLite : base verrouillée par l'autre écriture
                resultats.append(type(erreur).__name__)
            finally:
                _db.session.remove()

    fils = [threading.Thread(target=saisir, args=s) for s in saisies]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join()
    assert resultats.count("ok") == 1, resultats
    db.session.expire_all()
    assert db.session.scalar(select(MontantComite.montant)) == Decimal("15000.00")
    assert len(db.session.scalars(select(MontantComite)).all()) == 1


# --- Pages en nombre de requêtes borné -------------------------------------------------------------


class Compteur:
    def __init__(self):
        self.n = 0

    def __call__(self, *args):
        self.n += 1


def requetes(client, url) -> int:
    compteur = Compteur()
    client.get(url)
    event.listen(_db.engine, "before_cursor_execute", compteur)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", compteur)
    return compteur.n


def test_pages_des_comites_en_nombre_de_requetes_borne(client, connexion, db, monde):
    premiere = instruite(monde, intitule="Premier")
    seance = seance_ouverte(monde, premiere)
    service.voter(seance.points[0].id, monde.caf.id, "pour", None, monde.partenaire_caf)
    connexion.en_tant_que(monde.instructeur_etat)
    avant = {url: requetes(client, url) for url in ("/comites/", f"/comites/{seance.id}")}
    connexion.deconnexion()
    # Quatre dossiers de plus à l'ordre du jour d'une seconde séance, votés par tous.
    autres = [
        instruite(monde, etat=Decimal("1000"), commune=Decimal("500"), intitule=f"D{i}") for i in range(4)
    ]
    seconde = seance_ouverte(monde, *autres)
    for point in seconde.points:
        for compte, organisation in (
            (monde.instructeur_etat, monde.etat),
            (monde.instructeur_commune, monde.commune),
            (monde.partenaire_caf, monde.caf),
        ):
            service.voter(point.id, organisation.id, "pour", None, compte)
    connexion.en_tant_que(monde.instructeur_etat)
    apres = {
        "/comites/": requetes(client, "/comites/"),
        f"/comites/{seance.id}": requetes(client, f"/comites/{seconde.id}"),
    }
    assert apres == avant, (avant, apres)


def test_pilote_d_un_autre_contrat_ne_gere_pas_la_seance(client, connexion, db, monde):
    demande = instruite(monde)
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    autre_pilote = utilisateur("pilote.gard@test.fr")
    db.session.add(
        Pilotage(
            utilisateur_id=autre_pilote.id, contrat_id=monde.autre_contrat.id, organisation_id=monde.etat.id
        )
    )
    db.session.commit()
    connexion.en_tant_que(autre_pilote)
    assert client.get(f"/comites/{seance.id}").status_code == 404
    reponse = client.post(
        f"/comites/{seance.id}/inscrire", data={"version": seance.version, "demandes": [demande.id]}
    )
    assert reponse.status_code == 404
    db.session.expire_all()
    assert db.session.get(Demande, demande.id).statut == D.instruite


# --- Formulaires proposés, pages périmées ---------------------------------------------------------


def test_preparation_proposee_au_seul_pilote_tant_que_la_seance_est_en_preparation(
    client, connexion, db, monde
):
    demande, autre = instruite(monde), instruite(monde, intitule="Autre")
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    service.inscrire(seance.id, [demande.id], monde.pilote)

    def proposes(page: str) -> set[str]:
        return {
            nom
            for nom, marque in (
                ("inscrire", f'action="/comites/{seance.id}/inscrire"'),
                ("ouvrir", f'action="/comites/{seance.id}/ouvrir"'),
                ("retirer", f"/points/{seance.points[0].id}/retirer"),
            )
            if marque in page
        }

    connexion.en_tant_que(monde.partenaire_caf)  # voit la séance, ne la prépare pas
    assert proposes(html(client.get(f"/comites/{seance.id}"))) == set()
    connexion.deconnexion()
    connexion.en_tant_que(monde.pilote)
    assert proposes(html(client.get(f"/comites/{seance.id}"))) == {"inscrire", "ouvrir", "retirer"}
    service.ouvrir_vote(seance.id, monde.pilote)
    assert proposes(html(client.get(f"/comites/{seance.id}"))) == set()
    # Le service le dit aussi : qui ne pilote pas le contrat ne compose pas l'ordre du jour.
    seconde = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    with pytest.raises(NonAutorise):
        service.inscrire(seconde.id, [autre.id], monde.partenaire_caf)


def test_inscription_sur_une_page_perimee_conflit_et_cases_gardees(client, connexion, db, monde):
    premiere, seconde = instruite(monde, intitule="Premier"), instruite(monde, intitule="Second")
    seance = service.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    lue = seance.version
    service.inscrire(seance.id, [premiere.id], monde.pilote)  # dans un autre onglet
    connexion.en_tant_que(monde.pilote)
    reponse = client.post(f"/comites/{seance.id}/inscrire", data={"version": lue, "demandes": [seconde.id]})
    page = html(reponse)
    assert reponse.status_code == 409 and service.SEANCE_CHANGEE in page
    coche = re.search(rf'<input[^>]*name="demandes"[^>]*value="{seconde.id}"[^>]*>', page).group(0)
    assert "checked" in coche  # la saisie est gardée
    db.session.expire_all()
    actuelle = db.session.get(SeanceComite, seance.id).version
    assert f'name="version" type="hidden" value="{actuelle}"' in page  # renvoyée telle quelle, elle passe
    assert db.session.get(Demande, seconde.id).statut == D.instruite
    reponse = client.post(
        f"/comites/{seance.id}/inscrire", data={"version": actuelle, "demandes": [seconde.id]}
    )
    assert reponse.status_code == 302
    assert db.session.get(Demande, seconde.id).statut == D.programmee


def test_cloture_sur_une_page_perimee_conflit_avec_l_etat_actuel(client, connexion, db, monde):
    demande = instruite(monde)
    seance = seance_ouverte(monde, demande)
    presences(monde, seance)
    connexion.en_tant_que(monde.pilote)
    page = html(client.get(f"/comites/{seance.id}/clore"))
    assert "Clore la séance et fixer les décisions" in page
    lue = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    # Entre-temps, la feuille de présence change (un autre onglet) : le quorum affiché n'est plus le bon.
    presences(monde, seance, caf="excuse", commune="excuse")
    reponse = client.post(f"/comites/{seance.id}/clore", data={"version": lue})
    assert reponse.status_code == 409
    page = html(reponse)
    assert "<title>Conflit : " in page and service.SEANCE_CHANGEE in page
    assert (
        "Quorum non atteint : 1 partenaire(s) présent(s) ou représenté(s) sur 3 appelé(s), 2 requis" in page
    )
    db.session.expire_all()
    assert db.session.get(SeanceComite, seance.id).statut == StatutSeance.vote_ouvert


def test_deux_seances_le_meme_jour_ont_des_titres_distincts(client, connexion, db, monde):
    """Deux séances le même jour (au même lieu) : chaque page a son titre, qui nomme la séance."""
    jour = monde.campagne.date_cloture
    seances = [service.creer_seance(monde.pilote, monde.campagne.id, jour, "Mairie") for _ in range(2)]
    db.session.commit()
    connexion.en_tant_que(monde.pilote)
    titres = set()
    for seance in seances:
        for adresse in (f"/comites/{seance.id}", f"/comites/{seance.id}/clore"):
            trouve = re.search(r"<title>(.*?)</title>", html(client.get(adresse)), re.S)
            assert f"séance n° {seance.id}" in trouve.group(1)
            titres.add(trouve.group(1))
    assert len(titres) == 4
