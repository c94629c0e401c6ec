"""Pannes, avec les vrais services de la machine : un serveur SMTP sur la boucle locale (aiosmtpd), le Redis
local (base 15, vidée par ces tests) et la base de la suite (SQLite ou PostgreSQL).

- SMTP en panne : la transition est validée, le courriel reste « en attente » avec l'erreur et le nombre
  de tentatives ; le serveur revenu, `flask courriels envoyer` le fait partir.
- Redis en panne : la transition est validée sans attendre ; Redis revenu, la reprise (bouton « Relancer
  l'envoi » et planificateur `rq cron dauphin.planification`) dépose la tâche, un travailleur RQ l'exécute.
- Erreur de la base au milieu d'une requête, après une première écriture : tout est annulé, page 500 en
  français sans trace technique, la session sert encore.

Redis injoignable fait échouer ces tests, jamais les sauter : la reprise par RQ doit être prouvée.
"""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from sqlalchemy import delete, event, func, select

from dauphin import jobs
from dauphin.models import (
    CompteurNumero,
    Courriel,
    Demande,
    EvenementJournal,
    LigneFinancement,
    StatutCourriel,
)
from dauphin.pdf import dernier_recepisse
from dauphin.services import courriels
from dauphin.services.workflow import declencher_demande
from tests.bases import numero_du_worker
from tests.fabriques_db import demande_complete
from tests.navigateur import chromium_disponible, navigateur, se_connecter, serveur_local
from tests.parcours import ATTESTATION
from workflows import StatutDemande

# Une base Redis par worker de pytest-xdist (15, 14…) : vidée avant et après chaque test qui l'utilise
REDIS_DES_TESTS = f"redis://127.0.0.1:6379/{15 - numero_du_worker()}"


# --- Les vrais services ------------------------------------------------------------------------------


def port_libre() -> int:
    """Un port de la boucle locale sur lequel personne n'écoute (connexion refusée)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BoiteSMTP:
    """Ce que le serveur SMTP a réellement reçu ; `refuser` : adresses rejetées (550) au RCPT TO."""

    def __init__(self, refuser: frozenset[str] = frozenset()):
        self.recus: list[tuple[str, list[str], EmailMessage]] = []
        self.refuser = refuser

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuser:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.recus.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class ServeurSMTP:
    def __init__(self, port: int, refuser: frozenset[str] = frozenset()):
        self.boite = BoiteSMTP(refuser)
        self.controleur = Controller(self.boite, hostname="127.0.0.1", port=port)

    def __enter__(self) -> BoiteSMTP:
        self.controleur.start()
        return self.boite

    def __exit__(self, *exc) -> None:
        self.controleur.stop()


@pytest.fixture
def smtp_local(app, monkeypatch):
    """Le courriel part par SMTP vers un port de la boucle locale, sans Redis (tâches sur place)."""
    port = port_libre()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    return port


@pytest.fixture
def redis_local():
    """Le Redis de la machine (base 15) ; injoignable : le test échoue (pas de saut silencieux)."""
    connexion = Redis.from_url(REDIS_DES_TESTS, socket_timeout=2)
    connexion.ping()
    connexion.flushdb()
    yield connexion
    connexion.flushdb()


# --- Outils ------------------------------------------------------------------------------------------


def texte(reponse) -> str:
    return reponse.get_data(as_text=True)


def compte_onglet(page: str, statut: str) -> int:
    """Le nombre affiché dans l'onglet d'un statut de l'écran Courriels."""
    trouve = re.search(rf'data-onglet="{statut}">[^<]*<span class="dauphin-onglets__compte">(\d+)<', page)
    return int(trouve.group(1))


def demande_a_attester(monde) -> Demande:
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    # Le courriel « à attester » de la soumission (tests/test_notifications_porteur.py) est parti : ces
    # tests suivent les courriels de l'attestation seule.
    from dauphin.extensions import db

    db.session.execute(delete(Courriel).where(Courriel.demande_id == demande.id))
    db.session.commit()
    return demande


def attester_par_l_ecran(client, connexion, monde, demande_id: int, entetes=None):
    connexion.en_tant_que(monde.signataire)
    debut = time.perf_counter()
    reponse = client.post(f"/demandes/{demande_id}/attester", data=ATTESTATION, headers=entetes or {})
    duree = time.perf_counter() - debut
    connexion.deconnexion()
    return reponse, duree


def courriels_de(db, demande_id: int) -> list[Courriel]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Courriel).where(Courriel.demande_id == demande_id).order_by(Courriel.id))
    )


def journal_de(db, demande_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(EvenementJournal.declencheur)
            .where(EvenementJournal.demande_id == demande_id)
            .order_by(EvenementJournal.id)
        )
    )


def nouvelle_requete() -> None:
    from flask import g

    from dauphin.extensions import db

    db.session.remove()
    g.pop("_login_user", None)


def tables(db) -> dict[str, int]:
    """Le nombre de lignes de ce qu'une attestation écrit (hors demande elle-même)."""
    return {
        modele.__name__: db.session.scalar(select(func.count()).select_from(modele))
        for modele in (EvenementJournal, Courriel, LigneFinancement, CompteurNumero)
    }


# --- (a) SMTP en panne -------------------------------------------------------------------------------


def test_smtp_en_panne_la_transition_passe_et_le_courriel_part_au_retour_du_serveur(
    app, db, client, connexion, monde, smtp_local
):
    demande = demande_a_attester(monde)

    # Personne n'écoute sur le port SMTP : l'attestation est pourtant validée.
    reponse, duree = attester_par_l_ecran(client, connexion, monde, demande.id)
    assert reponse.status_code == 302 and reponse.headers["Location"] == f"/dossiers/{demande.id}"
    assert duree < 5, f"la panne SMTP a retenu la requête {duree:.1f} s"
    db.session.expire_all()
    transmise = db.session.get(Demande, demande.id)
    assert transmise.statut == StatutDemande.transmise and transmise.numero
    assert journal_de(db, demande.id) == ["soumettre", "attester"]

    ecrits = courriels_de(db, demande.id)
    destinataires = {c.destinataire for c in ecrits}
    assert {"signataire@test.fr", "instructeur.etat@test.fr", "instructeur.commune@test.fr"} <= destinataires
    assert all(c.statut == StatutCourriel.en_attente and c.envoye_le is None for c in ecrits)
    # Le premier a été tenté (erreur notée) ; le serveur étant injoignable, les autres attendent la reprise.
    premier, *suivants = ecrits
    assert premier.tentatives == 1 and premier.derniere_erreur.startswith("ConnectionRefusedError")
    assert all(c.tentatives == 0 and c.derniere_erreur is None for c in suivants)

    # Visible côté instruction dans le dossier ; pas du porteur.
    connexion.en_tant_que(monde.instructeur_etat)
    page = texte(client.get(f"/dossiers/{demande.id}"))
    assert page.count("courriel en attente d’envoi") == len(ecrits)
    assert f"Demande {transmise.numero} transmise" in page
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    assert "courriel en attente d’envoi" not in texte(client.get(f"/dossiers/{demande.id}"))
    connexion.deconnexion()

    # L'administration nationale les voit en attente, avec l'erreur et les tentatives.
    connexion.en_tant_que(monde.admin_national)
    page = texte(client.get("/administration/courriels"))
    assert "Relancer l’envoi" in page and f"<caption>Courriels en attente ({len(ecrits)})</caption>" in page
    assert f'data-courriel="{premier.id}"' in page and "ConnectionRefusedError" in page
    # Relancer tant que le serveur est en panne : rien ne part, rien n'est abandonné.
    reponse = client.post("/administration/courriels/relancer")
    assert reponse.status_code == 302
    assert "Envoi relancé pour" in texte(client.get(reponse.headers["Location"]))
    assert [c.statut for c in courriels_de(db, demande.id)] == [StatutCourriel.en_attente] * len(ecrits)
    assert courriels_de(db, demande.id)[0].tentatives == 2

    # Le serveur revient : la reprise planifiée (`flask courriels envoyer`) les fait tous partir.
    with ServeurSMTP(smtp_local) as boite:
        resultat = app.test_cli_runner().invoke(args=["courriels", "envoyer"])
    assert resultat.exit_code == 0, resultat.output
    assert f"'envoyes': {len(ecrits)}" in resultat.output and "'echecs': 0" in resultat.output

    recus = {tuple(rcpt): message for _, rcpt, message in boite.recus}
    assert sorted(recus) == sorted((c.destinataire,) for c in ecrits)
    message = recus[("signataire@test.fr",)]
    assert message["Subject"] == f"Demande {transmise.numero} transmise"
    assert message["To"] == "signataire@test.fr"
    # multipart/alternative : la version texte et la version HTML du gabarit, qui disent la même chose
    assert message.get_content_type() == "multipart/alternative"
    version_texte, version_html = (message.get_body((sorte,)).get_content() for sorte in ("plain", "html"))
    lien = f"{app.config['BASE_URL']}/dossiers/{demande.id}"
    assert f"sous le numéro {transmise.numero}" in version_texte and f"Suivez-la sur {lien}" in version_texte
    assert f"sous le numéro {transmise.numero}" in version_html and f'<a href="{lien}"' in version_html
    assert version_html.startswith("<!DOCTYPE html>") and "République<br>Française" in version_html
    assert all(mail_from == "ne-pas-repondre@dauphin.localhost" for mail_from, _, _ in boite.recus)

    envoyes = courriels_de(db, demande.id)
    assert all(c.statut == StatutCourriel.envoye and c.envoye_le is not None for c in envoyes)
    assert envoyes[0].tentatives == 3 and all(c.tentatives == 1 for c in envoyes[1:])

    page = texte(client.get("/administration/courriels?statut=envoye"))
    assert f"<caption>Courriels envoyés ({len(ecrits)})</caption>" in page
    assert compte_onglet(page, "envoye") == len(ecrits) and compte_onglet(page, "en_attente") == 0
    assert "Aucun courriel en attente d’envoi." in texte(client.get("/administration/courriels"))
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert "courriel en attente d’envoi" not in texte(client.get(f"/dossiers/{demande.id}"))


def test_serveur_injoignable_jamais_abandonne_message_refuse_en_echec_apres_le_maximum(db, monde, smtp_local):
    """Une panne du serveur ne compte pas pour l'abandon ; un message refusé passe en échec au bout de
    TENTATIVES_MAX tentatives (il ne bloque alors plus la reprise des autres)."""
    panne = courriels.ecrire("lou@test.fr", "Panne longue", "Le serveur est en panne depuis longtemps.")
    refuse = courriels.ecrire("inconnu@test.fr", "Adresse refusée", "Cette adresse n’existe pas.")
    db.session.commit()  # l'envoi part de lui-même ; serveur injoignable : la série s'arrête au premier
    db.session.expire_all()
    assert (panne.tentatives, refuse.tentatives) == (1, 0)
    for _ in range(courriels.TENTATIVES_MAX + 1):
        courriels.envoyer_tous([panne.id])
    db.session.expire_all()
    assert panne.statut == StatutCourriel.en_attente and panne.tentatives == courriels.TENTATIVES_MAX + 2

    with ServeurSMTP(smtp_local, refuser=frozenset({"inconnu@test.fr"})) as boite:
        for _ in range(courriels.TENTATIVES_MAX):
            courriels.envoyer_tous([refuse.id])
        assert courriels.envoyer_tous() == {"envoyes": 1, "echecs": 0}  # l'ancien en panne part enfin
    db.session.expire_all()
    assert refuse.statut == StatutCourriel.echec and refuse.tentatives == courriels.TENTATIVES_MAX
    assert refuse.derniere_erreur.startswith("SMTPRecipientsRefused") and "550" in refuse.derniere_erreur
    assert panne.statut == StatutCourriel.envoye
    assert [rcpt for _, rcpt, _ in boite.recus] == [["lou@test.fr"]]


def test_ecran_des_courriels_filtre_pagine_et_montre_les_echecs(
    app, db, client, connexion, monde, monkeypatch
):
    monkeypatch.setitem(app.config, "PAGE_TAILLE", 2)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port_libre()}/15")  # rien ne part
    for numero in range(3):
        courriels.ecrire(f"porteur{numero}@test.fr", f"Attente {numero}", "…")
    echoue = courriels.ecrire("refuse@test.fr", "Refusé pour de bon", "…")
    echoue.statut, echoue.tentatives = StatutCourriel.echec, courriels.TENTATIVES_MAX
    echoue.derniere_erreur = "SMTPRecipientsRefused: 550"
    db.session.commit()

    connexion.en_tant_que(monde.admin_national)
    page = texte(client.get("/administration/courriels"))
    assert "<caption>Courriels en attente (3, page 1 sur 2)</caption>" in page
    assert "Attente 0" in page and "Attente 2" not in page and 'aria-label="Pagination"' in page
    assert "Attente 2" in texte(client.get("/administration/courriels?statut=en_attente&page=2"))
    page = texte(client.get("/administration/courriels?statut=echec"))
    assert "Refusé pour de bon" in page and "Échec d’envoi" in page and "SMTPRecipientsRefused: 550" in page
    assert "Relancer l’envoi" not in page and compte_onglet(page, "echec") == 1
    # Statut inconnu : la liste des courriels en attente.
    assert "Courriels en attente (3" in texte(client.get("/administration/courriels?statut=nimporte"))
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get("/administration/courriels").status_code == 403
    assert client.post("/administration/courriels/relancer").status_code == 403


def test_relancer_exige_le_jeton_csrf(app, client, connexion, monde, monkeypatch):
    connexion.en_tant_que(monde.admin_national)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/administration/courriels/relancer").status_code == 400


# --- (b) Redis en panne ------------------------------------------------------------------------------


def test_redis_en_panne_la_transition_passe_et_la_reprise_rq_envoie(
    app, db, client, connexion, monde, smtp_local, redis_local, monkeypatch
):
    demande = demande_a_attester(monde)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port_libre()}/15")

    with ServeurSMTP(smtp_local) as boite:
        reponse, duree = attester_par_l_ecran(client, connexion, monde, demande.id)
        assert reponse.status_code == 302 and reponse.headers["Location"] == f"/dossiers/{demande.id}"
        assert duree < 3, f"Redis en panne a retenu la requête {duree:.1f} s"
        db.session.expire_all()
        assert db.session.get(Demande, demande.id).statut == StatutDemande.transmise
        assert journal_de(db, demande.id) == ["soumettre", "attester"]
        ecrits = courriels_de(db, demande.id)
        assert ecrits and all(c.statut == StatutCourriel.en_attente and c.tentatives == 0 for c in ecrits)
        assert boite.recus == []  # la tâche n'est jamais partie
        # La tâche du récépissé non plus : le porteur le voit « en cours de production », pas d'erreur.
        assert dernier_recepisse(db.session.get(Demande, demande.id)) is None
        connexion.en_tant_que(monde.signataire)
        page = texte(client.get(f"/dossiers/{demande.id}"))
        assert "Le récépissé est en cours de production." in page and 'id="recepisse-en-cours"' in page
        connexion.deconnexion()

        # Relancer alors que Redis est toujours en panne : message clair, rien de perdu.
        connexion.en_tant_que(monde.admin_national)
        reponse = client.post("/administration/courriels/relancer")
        assert "La file des tâches (Redis) est injoignable" in texte(client.get(reponse.headers["Location"]))

        # Redis revient : « Relancer l'envoi » et le planificateur déposent chacun une tâche dans la file.
        monkeypatch.setitem(app.config, "REDIS_URL", REDIS_DES_TESTS)
        reponse = client.post("/administration/courriels/relancer")
        message = texte(client.get(reponse.headers["Location"]))
        assert f"Envoi relancé pour {len(ecrits)} courriel(s)" in message
        planificateur = CronScheduler(connection=redis_local)
        planificateur.load_config_from_file("dauphin.planification")
        assert sorted(t.func_name for t in planificateur.enqueue_jobs()) == [
            "dauphin.taches.envoyer_courriels",
            "dauphin.taches.rattraper_recepisses",
            "dauphin.taches.webhooks",
        ]

        file = Queue(jobs.FILE, connection=redis_local)
        assert sorted(t.func_name for t in file.get_jobs()) == [
            "dauphin.taches.envoyer_courriels",
            "dauphin.taches.envoyer_courriels",
            "dauphin.taches.rattraper_recepisses",
            "dauphin.taches.webhooks",
        ]
        assert boite.recus == []  # déposées, pas encore exécutées
        vieillir_l_attestation(db, demande.id, timedelta(minutes=3))  # la reprise laisse 2 min à la tâche
        assert SimpleWorker([file], connection=redis_local).work(burst=True)
        assert file.count == 0 and file.failed_job_registry.count == 0

    # Chaque courriel est parti une fois (la seconde tâche n'a rien trouvé en attente).
    assert sorted(rcpt[0] for _, rcpt, _ in boite.recus) == sorted(c.destinataire for c in ecrits)
    assert all(c.statut == StatutCourriel.envoye and c.tentatives == 1 for c in courriels_de(db, demande.id))
    # Le récépissé perdu a été produit par la reprise ; le dossier l'offre au téléchargement.
    recepisse = dernier_recepisse(db.session.get(Demande, demande.id))
    assert recepisse is not None and recepisse.nom_fichier.startswith("recepisse-")
    connexion.en_tant_que(monde.signataire)
    page = texte(client.get(f"/dossiers/{demande.id}"))
    assert "recepisse-en-cours" not in page and f"/documents/{recepisse.id}" in page


def vieillir_l_attestation(db, demande_id: int, age: timedelta) -> None:
    demande = db.session.get(Demande, demande_id)
    demande.atteste_le -= age
    db.session.commit()


def test_recepisse_perdu_rattrape_par_la_commande_et_refait_apres_une_nouvelle_attestation(
    app, db, monde, monkeypatch
):
    """Sans Redis ni travailleur : `flask recepisses rattraper` (cron) produit ce qui manque, une fois."""
    demande = demande_a_attester(monde)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port_libre()}/15")
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    assert dernier_recepisse(db.session.get(Demande, demande.id)) is None
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    runner = app.test_cli_runner()
    # Les deux premières minutes appartiennent à la tâche déposée à l'attestation : pas de doublon.
    assert runner.invoke(args=["recepisses", "rattraper"]).output.strip() == "0 récépissé(s) produit(s)."
    vieillir_l_attestation(db, demande.id, timedelta(minutes=3))
    assert runner.invoke(args=["recepisses", "rattraper"]).output.strip() == "1 récépissé(s) produit(s)."
    assert runner.invoke(args=["recepisses", "rattraper"]).output.strip() == "0 récépissé(s) produit(s)."
    premier = dernier_recepisse(db.session.get(Demande, demande.id))
    # Une attestation plus récente (réponse aux compléments) rend l'ancien récépissé périmé.
    demande = db.session.get(Demande, demande.id)
    demande.atteste_le = premier.depose_le + timedelta(seconds=1)
    db.session.commit()
    assert runner.invoke(args=["recepisses", "rattraper"]).output.strip() == "0 récépissé(s) produit(s)."
    premier.depose_le -= timedelta(minutes=4)
    vieillir_l_attestation(db, demande.id, timedelta(minutes=3))
    assert runner.invoke(args=["recepisses", "rattraper"]).output.strip() == "1 récépissé(s) produit(s)."
    assert dernier_recepisse(db.session.get(Demande, demande.id)).id != premier.id


def test_avec_redis_la_transition_depose_la_tache_d_envoi(
    app, db, client, connexion, monde, smtp_local, redis_local, monkeypatch
):
    """Le chemin normal : après le commit, l'envoi part dans la file ; un travailleur l'exécute."""
    demande = demande_a_attester(monde)
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_DES_TESTS)
    # L'identifiant posé par le mandataire inverse suit la requête, ses tâches et ses courriels.
    reponse, _ = attester_par_l_ecran(client, connexion, monde, demande.id, {"X-Request-ID": "lb-4f2a9c"})
    assert reponse.status_code == 302 and reponse.headers["X-Request-ID"] == "lb-4f2a9c"
    file = Queue(jobs.FILE, connection=redis_local)
    assert {t.meta["request_id"] for t in file.get_jobs()} == {"lb-4f2a9c"}
    taches = {t.func_name: t.args for t in file.get_jobs()}
    ecrits = courriels_de(db, demande.id)
    assert taches["dauphin.taches.envoyer_courriels"] == ([c.id for c in ecrits],)
    assert "dauphin.taches.generer_recepisse" in taches
    with ServeurSMTP(smtp_local) as boite:
        assert SimpleWorker([file], connection=redis_local).work(burst=True)
    assert file.failed_job_registry.count == 0
    assert len(boite.recus) == len(ecrits)
    assert {message["X-Request-ID"] for _, _, message in boite.recus} == {"lb-4f2a9c"}
    assert all(c.statut == StatutCourriel.envoye for c in courriels_de(db, demande.id))


def test_un_service_qui_valide_lui_meme_depose_l_envoi_ou_le_laisse_en_attente(
    app, db, client, monde, redis_local, monkeypatch
):
    """Mot de passe oublié : le service valide par `db.session.commit()`, sans appeler l'envoi. Redis en
    service, la tâche est déposée ; Redis en panne, la page répond quand même et le courriel attend."""
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_DES_TESTS)
    reponse = client.post("/compte/mot-de-passe/oublie", data={"email": monde.signataire.email})
    assert reponse.status_code == 302
    (premier,) = db.session.scalars(select(Courriel).where(Courriel.destinataire == "signataire@test.fr"))
    file = Queue(jobs.FILE, connection=redis_local)
    assert [(t.func_name, t.args) for t in file.get_jobs()] == [
        ("dauphin.taches.envoyer_courriels", ([premier.id],))
    ]

    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port_libre()}/15")
    debut = time.perf_counter()
    reponse = client.post("/compte/mot-de-passe/oublie", data={"email": monde.signataire.email})
    assert reponse.status_code == 302 and time.perf_counter() - debut < 3
    db.session.expire_all()
    ecrits = list(db.session.scalars(select(Courriel).where(Courriel.destinataire == "signataire@test.fr")))
    assert len(ecrits) == 2 and file.count == 1  # le second n'est pas parti dans la file
    assert all(c.statut == StatutCourriel.en_attente and c.tentatives == 0 for c in ecrits)


# --- (c) Erreur de la base au milieu d'une requête ---------------------------------------------------


class PanneDuJournal:
    """Fait échouer *par la base elle-même* l'écriture du journal : l'INSERT vise une table absente.
    Les écritures d'avant (compteur de numéros, lignes de financement, demande) ont déjà été envoyées."""

    def __init__(self, moteur):
        self.moteur = moteur
        self.ordres: list[str] = []

    def _reecrire(self, connexion, curseur, ordre, parametres, contexte, executemany):
        self.ordres.append(ordre)
        if ordre.lstrip().upper().startswith("INSERT INTO JOURNAL "):
            ordre = ordre.replace("journal", "journal_en_panne", 1)
        return ordre, parametres

    def __enter__(self):
        event.listen(self.moteur, "before_cursor_execute", self._reecrire, retval=True)
        return self

    def __exit__(self, *exc):
        event.remove(self.moteur, "before_cursor_execute", self._reecrire)


def test_erreur_de_la_base_en_cours_de_requete_tout_est_annule(app, db, client, connexion, monde):
    demande = demande_a_attester(monde)
    avant = tables(db)

    connexion.en_tant_que(monde.signataire)
    with PanneDuJournal(db.engine) as panne:
        reponse = client.post(f"/demandes/{demande.id}/attester", data=ATTESTATION)
    ecritures = [o.split()[0].upper() for o in panne.ordres]
    premiere_panne = next(i for i, o in enumerate(panne.ordres) if o.startswith("INSERT INTO journal "))
    assert {"INSERT", "UPDATE"} & set(ecritures[:premiere_panne]), "aucune écriture avant la panne"

    # La page d'erreur en français, au gabarit du DSFR, sans trace technique.
    page = texte(reponse)
    assert reponse.status_code == 500
    assert "<title>Erreur inattendue" in page and 'class="fr-header"' in page and "Erreur 500" in page
    assert "rien n’a été enregistré partiellement" in page
    for fuite in ("Traceback", "journal_en_panne", "INSERT", "sqlalchemy", "OperationalError", "Programming"):
        assert fuite not in page

    # Rien d'écrit : ni statut, ni numéro, ni lignes, ni journal, ni courriel, ni compteur.
    db.session.expire_all()
    intacte = db.session.get(Demande, demande.id)
    assert intacte.statut == StatutDemande.attente_attestation and intacte.numero is None
    assert tables(db) == avant

    # La session sert encore : la même attestation passe, avec le premier numéro de l'exercice.
    reponse = client.post(f"/demandes/{demande.id}/attester", data=ATTESTATION)
    assert reponse.status_code == 302
    db.session.expire_all()
    transmise = db.session.get(Demande, demande.id)
    assert transmise.statut == StatutDemande.transmise and transmise.numero == f"{transmise.exercice}-000001"
    assert journal_de(db, demande.id) == ["soumettre", "attester"]
    assert client.get(f"/dossiers/{demande.id}").status_code == 200


# --- Dans Chromium : les deux écrans, audités avec axe-core --------------------------------------------


@pytest.mark.navigateur
@pytest.mark.skipif(not chromium_disponible(), reason="Chromium absent : `make test` l’installe.")
def test_ecrans_des_courriels_en_attente_dans_le_navigateur(app, db, monde, smtp_local, artefacts):
    from playwright.sync_api import expect

    dossier = artefacts / "pannes"
    dossier.mkdir(exist_ok=True)
    demande = demande_a_attester(monde)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)  # SMTP en panne
    premier = courriels_de(db, demande.id)[0]
    premier.statut = StatutCourriel.echec
    db.session.commit()

    with serveur_local(app) as adresse, navigateur(dossier) as page:
        for email, chemin, nom in (
            ("instructeur.etat@test.fr", f"/dossiers/{demande.id}", "dossier"),
            ("admin@test.fr", "/administration/courriels", "administration-courriels"),
        ):
            se_connecter(page, adresse, email)
            page.goto(adresse + chemin)
            page.audit(nom)
            page.capture(nom)
            if nom == "dossier":
                expect(page.locator("#courriels-non-envoyes")).to_contain_text("courriel en attente d’envoi")
                expect(page.locator("#courriels-non-envoyes")).to_contain_text("courriel non envoyé")
            page.get_by_role("button", name="Se déconnecter").click()
        assert page.erreurs_js == []


# Même ses points de sauvegarde échouent : sur PostgreSQL, la transaction englobante d'un test isolé serait
# perdue ; ici, comme en production, chaque requête a la sienne.
@pytest.mark.transactions_reelles
def test_base_qui_refuse_tout_la_page_500_s_affiche_quand_meme(app, db, client, connexion, monde):
    """Chaque ordre échoue (même le chargement du compte connecté) : la page 500 ne dépend pas de la base."""
    demande_id = demande_a_attester(monde).id
    connexion.en_tant_que(monde.signataire)

    def tout_refuser(connexion_, curseur, ordre, parametres, contexte, executemany):
        return "SELECT colonne FROM table_en_panne", ()

    # Comme une requête neuve en production : le compte connecté se recharge depuis la base (les tests
    # partagent un contexte d'application, où Flask-Login le garde en cache).
    nouvelle_requete()
    event.listen(db.engine, "before_cursor_execute", tout_refuser, retval=True)
    try:
        reponse = client.get(f"/dossiers/{demande_id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", tout_refuser)
    page = texte(reponse)
    assert reponse.status_code == 500 and "<title>Erreur inattendue" in page and 'class="fr-header"' in page
    assert "table_en_panne" not in page and "Traceback" not in page
    nouvelle_requete()
    assert client.get(f"/dossiers/{demande_id}").status_code == 200
