"""Deux serveurs d'application à la fois, comme en production derrière un répartiteur de charge : deux
gunicorn sur deux ports, une base PostgreSQL, un Redis, un seau S3 (moto), un travailleur RQ. Ce que le
README promet (« plusieurs serveurs sans état sur une base ») est vérifié de bout en bout :

- une pièce déposée par l'un est téléchargée par l'autre (le stockage est le seau, pas un disque) ;
- une session ouverte sur l'un vaut sur l'autre (sessions en base, même clé secrète) ;
- les limites de tentatives de connexion sont communes (Flask-Limiter sur Redis) ;
- le récépissé est produit par le travailleur RQ, puis servi par l'autre serveur ;
- deux transitions envoyées en même temps aux deux serveurs : l'une passe, l'autre reçoit le conflit.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from dauphin import jobs
from dauphin.models import Demande, Document, LigneFinancement
from dauphin.models.journal import EvenementJournal
from dauphin.pdf import dernier_recepisse
from tests.connexions import CODE
from tests.fabriques_db import MOT_DE_PASSE, code_totp
from tests.formulaires_html import champs
from tests.s3 import nouveau_seau, port_libre, variables_s3
from tests.test_pannes import demande_a_attester

pytestmark = [pytest.mark.transactions_reelles, pytest.mark.recepisse]

RACINE = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379/9"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ATTENTE = 120  # secondes : une machine chargée démarre gunicorn et WeasyPrint lentement


def _redis_joignable() -> bool:
    try:
        return Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception:
        return False


@pytest.fixture
def plateforme(app, db, serveur_s3, tmp_path):
    """Les deux serveurs et le travailleur, sur la base du test, un Redis et un seau neufs."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("deux serveurs d'application partagent une base PostgreSQL (SQLite : un seul serveur)")
    if not _redis_joignable():
        pytest.skip(f"Redis injoignable ({REDIS}) : les tâches et les limites communes passent par lui")
    redis = Redis.from_url(REDIS)
    redis.flushdb()
    seau = nouveau_seau(serveur_s3, prefixe="deux-serveurs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUPHIN_")}
    env.update(
        variables_s3(serveur_s3),
        DAUPHIN_ENV="test",
        DAUPHIN_TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        DAUPHIN_TEST_REDIS_URL=REDIS,
        DAUPHIN_SECRET_KEY=secrets.token_hex(32),  # la même pour tous : c'est elle qui signe les sessions
        DAUPHIN_STORAGE_URL=f"s3://{seau.seau}/deux-serveurs",
        DAUPHIN_INSTANCE_PATH=str(tmp_path / "instance"),
        DAUPHIN_LOG_FORMAT="json",
    )
    ports = [port_libre(), port_libre()]
    processus = []
    journaux = []
    try:
        for nom, commande in [
            *[
                (f"gunicorn-{port}", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                      "--timeout", "120", "wsgi:app"])
                for port in ports
            ],
            ("rq", [str(BIN / "rq"), "worker", "--url", REDIS, jobs.FILE]),
        ]:  # fmt: skip
            journal = open(tmp_path / f"{nom}.log", "wb")  # noqa: SIM115 (fermé à la fin)
            journaux.append(journal)
            processus.append(subprocess.Popen(commande, cwd=RACINE, env=env, stdout=journal, stderr=journal))
        adresses = [f"http://127.0.0.1:{port}" for port in ports]
        echeance = time.monotonic() + ATTENTE
        for adresse in adresses:
            while True:
                try:
                    if httpx.get(f"{adresse}/sante", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > echeance:
                    pytest.fail(f"{adresse} ne répond pas : {(tmp_path / f'gunicorn-{adresse[-5:]}.log')}")
                time.sleep(0.5)
        yield adresses, seau, redis
    finally:
        for p in processus:
            p.terminate()
        for p in processus:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for journal in journaux:
            journal.close()
        redis.flushdb()


def se_connecter(client: httpx.Client, email: str, mot_de_passe: str = MOT_DE_PASSE) -> httpx.Response:
    reponse = client.post("/compte/connexion", data={"email": email, "mot_de_passe": mot_de_passe})
    if reponse.status_code == 302 and reponse.headers["location"].startswith(CODE):
        reponse = client.post(CODE, data={"code": code_totp(email)})
    return reponse


def test_deux_serveurs_une_base_un_redis_un_seau(app, db, monde, plateforme):
    (a, b), seau, redis = plateforme
    # 1. Pièce déposée par A, session ouverte sur A : le même cookie télécharge la pièce par B.
    with httpx.Client(base_url=a, timeout=60) as sur_a:
        assert se_connecter(sur_a, monde.contributeur.email).status_code == 302
        depot = sur_a.post(
            f"/documents/structure/{monde.structure.id}",
            data={"type_piece": "statuts"},
            files={"fichier": ("statuts.pdf", PDF, "application/pdf")},
        )
        assert depot.status_code == 302, depot.text
        db.session.expire_all()
        document = db.session.query(Document).order_by(Document.id.desc()).first()
        assert document.sha256 == hashlib.sha256(PDF).hexdigest()
        with httpx.Client(base_url=b, timeout=60, cookies=sur_a.cookies) as sur_b:
            assert sur_b.get(f"/documents/structure/{monde.structure.id}").status_code == 200  # session de A
            telechargement = sur_b.get(f"/documents/{document.id}/telecharger")
            assert telechargement.status_code == 200 and telechargement.content == PDF

    # 2. Limites communes : 8 mots de passe faux pour un compte, répartis sur A et B ; le 9e est bloqué.
    with httpx.Client(base_url=a, timeout=60) as sur_a, httpx.Client(base_url=b, timeout=60) as sur_b:
        for i in range(8):
            essai = (sur_a, sur_b)[i % 2].post(
                "/compte/connexion", data={"email": monde.pilote.email, "mot_de_passe": "pas-le-bon"}
            )
            assert essai.status_code == 200, (i, essai.status_code)
        assert (
            sur_a.post(
                "/compte/connexion", data={"email": monde.pilote.email, "mot_de_passe": "pas-le-bon"}
            ).status_code
            == 429
        )
        assert any(cle.startswith(b"LIMITS") for cle in redis.keys("*"))

    # 3. Attestation par A : le récépissé est produit par le travailleur RQ, rangé dans le seau, servi par B.
    demande = demande_a_attester(monde)
    with httpx.Client(base_url=a, timeout=60) as sur_a:
        assert se_connecter(sur_a, monde.signataire.email).status_code == 302
        attestation = {"declarations": "y", "engagement_republicain": "y", "exactitude": "y"}
        reponse = sur_a.post(f"/demandes/{demande.id}/attester", data=attestation)
        assert reponse.status_code == 302, reponse.text
        identifiant = reponse.headers["X-Request-ID"]
        echeance = time.monotonic() + ATTENTE
        recepisse = None
        while recepisse is None and time.monotonic() < echeance:
            time.sleep(1)
            db.session.expire_all()
            recepisse = dernier_recepisse(db.session.get(Demande, demande.id))
        assert recepisse is not None, "récépissé non produit par le travailleur"
        finies = Queue(jobs.FILE, connection=redis).finished_job_registry
        taches = [Queue(jobs.FILE, connection=redis).fetch_job(i) for i in finies.get_job_ids()]
        assert any(
            t.func_name == "dauphin.taches.generer_recepisse" and t.meta.get("request_id") == identifiant
            for t in taches
        )
        with httpx.Client(base_url=b, timeout=60, cookies=sur_a.cookies) as sur_b:
            pdf = sur_b.get(f"/documents/{recepisse.id}/telecharger")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            assert hashlib.sha256(pdf.content).hexdigest() == recepisse.sha256

    # 4. Deux prises en charge de la même ligne, envoyées en même temps à A et à B : une seule passe.
    db.session.expire_all()
    ligne = (
        db.session.query(LigneFinancement)
        .filter_by(demande_id=demande.id, organisation_id=monde.etat.id)
        .one()
    )
    action = f"/instruction/lignes/{ligne.id}/prendre-en-charge"
    with httpx.Client(base_url=a, timeout=60) as sur_a:
        assert se_connecter(sur_a, monde.instructeur_etat.email).status_code == 302
        formulaire = champs(sur_a.get(f"/dossiers/{demande.id}").text, action)
        assert formulaire, "le formulaire de prise en charge n'est pas sur la page"
        with httpx.Client(base_url=b, timeout=60, cookies=sur_a.cookies) as sur_b:
            depart = threading.Barrier(2)
            reponses: dict[str, httpx.Response] = {}

            def envoyer(nom, client):
                depart.wait()
                reponses[nom] = client.post(action, data=formulaire)

            fils = [threading.Thread(target=envoyer, args=(n, c)) for n, c in (("a", sur_a), ("b", sur_b))]
            for fil in fils:
                fil.start()
            for fil in fils:
                fil.join(timeout=ATTENTE)
    codes = sorted(r.status_code for r in reponses.values())
    assert codes == [302, 409], codes
    perdante = next(r for r in reponses.values() if r.status_code == 409)
    assert "modifié entre-temps par quelqu’un d’autre" in perdante.text
    db.session.expire_all()
    assert db.session.get(LigneFinancement, ligne.id).statut == "prise_en_charge"
    prises = db.session.scalar(
        select(func.count()).where(
            EvenementJournal.ligne_id == ligne.id, EvenementJournal.declencheur == "prendre_en_charge"
        )
    )
    assert prises == 1  # une seule transition journalisée
