"""L'unité de travail sur la vraie base (SQLite ou PostgreSQL) et un vrai serveur SMTP sur la boucle locale :
ce qu'une transaction écrit pour après son commit (courriels, tâches) part une fois, sans qu'aucun service
appelle l'envoi, et jamais si elle est annulée. Redis (en service ou en panne) : tests/test_pannes.py.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from dauphin import jobs
from dauphin.extensions import db
from dauphin.models import Courriel, StatutCourriel
from dauphin.services import courriels
from dauphin.services.erreurs import Conflit
from dauphin.unite_de_travail import en_une_transaction
from tests.test_pannes import ServeurSMTP, smtp_local  # noqa: F401 (fixture, par son nom)

ICI = __name__  # les tâches ci-dessous sont désignées par leur chemin, comme celles de dauphin.taches
APPELS: list = []


@pytest.fixture(autouse=True)
def _appels():
    APPELS.clear()
    yield
    APPELS.clear()


@pytest.fixture
def boite(request):
    """Un vrai serveur SMTP sur la boucle locale (celui de tests/test_pannes.py, sans Redis : les tâches
    s'exécutent sur place)."""
    with ServeurSMTP(request.getfixturevalue("smtp_local")) as boite:
        yield boite


# --- Tâches lancées par les tests ----------------------------------------------------------------


def noter(valeur):
    APPELS.append(valeur)


def noter_si_valide(sujet):
    """Note si le courriel de ce sujet est visible d'une autre connexion : validé, pas seulement écrit."""
    with db.engine.connect() as autre:
        nombre = autre.scalar(select(func.count()).select_from(Courriel).where(Courriel.sujet == sujet))
    APPELS.append((sujet, nombre))


def ecrire_et_valider(valeur):
    """Une tâche qui écrit un courriel, planifie une tâche et valide à son tour."""
    courriels.ecrire("tache@test.fr", valeur, "Écrit par une tâche.")
    jobs.planifier(f"{ICI}.noter", f"{valeur}, planifiée par la tâche")
    db.session.commit()
    APPELS.append(f"{valeur}, validée")


def echouer(valeur):
    courriels.ecrire("echec@test.fr", valeur, "Jamais enregistré : la tâche échoue.")
    db.session.flush()
    raise RuntimeError("tâche en échec")


# --- Outils ----------------------------------------------------------------------------------------


def recus(boite) -> list[str]:
    return sorted(message["Subject"] for _, _, message in boite.recus)


def boite_d_envoi() -> dict[str, StatutCourriel]:
    db.session.expire_all()
    return {c.sujet: c.statut for c in db.session.scalars(select(Courriel))}


# --- Courriels ------------------------------------------------------------------------------------


def test_un_courriel_d_une_transaction_validee_part_une_fois_sans_appel(db, boite):
    courriels.ecrire("lou@test.fr", "Premier", "…")
    courriels.ecrire("sam@test.fr", "Second", "…")
    db.session.commit()
    # Parti pendant le commit, par une seule tâche (deux messages, une seule série d'envoi).
    assert recus(boite) == ["Premier", "Second"]
    assert boite_d_envoi() == {"Premier": StatutCourriel.envoye, "Second": StatutCourriel.envoye}

    # Les commits suivants ne les renvoient pas.
    courriels.ecrire("lou@test.fr", "Troisième", "…")
    db.session.commit()
    db.session.commit()
    assert recus(boite) == ["Premier", "Second", "Troisième"]


def test_un_service_qui_valide_lui_meme_envoie_ses_courriels(db, client, monde, boite):
    """Mot de passe oublié : le service valide par `db.session.commit()` et n'appelle aucun envoi."""
    reponse = client.post("/compte/mot-de-passe/oublie", data={"email": monde.signataire.email})
    assert reponse.status_code == 302
    assert [rcpt for _, rcpt, _ in boite.recus] == [[monde.signataire.email]]
    assert recus(boite) == ["Dauphin : choisissez un nouveau mot de passe"]


def test_un_courriel_d_une_transaction_annulee_ne_part_jamais(db, boite):
    courriels.ecrire("lou@test.fr", "Annulé", "…")
    db.session.rollback()

    def operation():
        courriels.ecrire("lou@test.fr", "Annulé par un conflit", "…")
        raise Conflit()

    with pytest.raises(Conflit):
        en_une_transaction(operation)
    courriels.ecrire("lou@test.fr", "Abandonné avec la session", "…")
    db.session.close()

    courriels.ecrire("sam@test.fr", "Validé", "…")
    db.session.commit()
    assert recus(boite) == ["Validé"]
    assert boite_d_envoi() == {"Validé": StatutCourriel.envoye}


def test_point_de_sauvegarde_annule_seul_ce_qu_il_a_ecrit_est_oublie(db, boite):
    courriels.ecrire("lou@test.fr", "Avant", "…")
    with pytest.raises(RuntimeError), db.session.begin_nested():
        courriels.ecrire("lou@test.fr", "Dans le point annulé", "…")
        raise RuntimeError()
    with db.session.begin_nested():
        courriels.ecrire("lou@test.fr", "Dans le point relâché", "…")
    assert boite.recus == []  # relâcher un point de sauvegarde ne valide rien
    db.session.commit()
    assert recus(boite) == ["Avant", "Dans le point relâché"]

    # Relâché, mais dans une transaction annulée ensuite : rien ne part.
    with db.session.begin_nested():
        courriels.ecrire("lou@test.fr", "Relâché puis annulé", "…")
        jobs.planifier(f"{ICI}.noter", "relâchée puis annulée")
    db.session.rollback()
    db.session.commit()
    assert recus(boite) == ["Avant", "Dans le point relâché"] and APPELS == []


# --- Tâches ---------------------------------------------------------------------------------------


@pytest.mark.transactions_reelles  # la tâche relit le courriel par une autre connexion
def test_une_tache_planifiee_part_apres_le_commit_jamais_apres_une_annulation(db, boite):
    courriels.ecrire("lou@test.fr", "Annulé", "…")
    jobs.planifier(f"{ICI}.noter_si_valide", "Annulé")
    db.session.rollback()
    assert APPELS == []

    courriels.ecrire("lou@test.fr", "Validé", "…")
    jobs.planifier(f"{ICI}.noter_si_valide", "Validé")
    assert APPELS == []  # rien avant le commit
    db.session.commit()
    # Une fois, et quand ce que la transaction a écrit est visible des autres connexions.
    assert APPELS == [("Validé", 1)]
    db.session.commit()
    assert APPELS == [("Validé", 1)]


def test_une_tache_qui_valide_a_son_tour_ne_boucle_pas_et_ne_perd_rien(db, boite):
    courriels.ecrire("lou@test.fr", "De la transaction", "…")
    jobs.planifier(f"{ICI}.ecrire_et_valider", "Tâche")
    jobs.planifier(f"{ICI}.noter", "planifiée après elle")
    db.session.commit()
    assert APPELS == ["Tâche, planifiée par la tâche", "Tâche, validée", "planifiée après elle"]
    assert recus(boite) == ["De la transaction", "Tâche"]
    assert set(boite_d_envoi().values()) == {StatutCourriel.envoye}


def test_une_tache_en_echec_n_annule_rien_et_la_session_sert_encore(db, boite, caplog):
    courriels.ecrire("lou@test.fr", "Validé", "…")
    jobs.planifier(f"{ICI}.echouer", "Écrit par la tâche en échec")
    jobs.planifier(f"{ICI}.noter", "suivante")
    with caplog.at_level(logging.ERROR, logger="dauphin"):
        db.session.commit()
    assert "Tâche tests.test_unite_de_travail.echouer non lancée" in caplog.text
    assert APPELS == ["suivante"]
    # Ce qui était validé l'est resté ; ce que la tâche avait écrit est annulé ; la session répond.
    assert boite_d_envoi() == {"Validé": StatutCourriel.envoye}
    assert recus(boite) == ["Validé"]


# --- Dans une transaction englobante (tests à points de sauvegarde) ---------------------------------


@contextmanager
def transaction_englobante():
    """Chaque commit de la session devient un point de sauvegarde d'une transaction annulée à la fin
    (join_transaction_mode="create_savepoint", comme une suite de tests isolés par transaction)."""
    moteurs = db.engines
    moteur = moteurs[None]
    db.session.remove()
    connexion = moteur.connect()
    englobante = connexion.begin()
    moteurs[None] = connexion
    db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        db.session.remove()
        db.session.configure(join_transaction_mode="conditional_savepoint")  # celui de SQLAlchemy
        moteurs[None] = moteur
        englobante.rollback()
        connexion.close()


@pytest.mark.transactions_reelles  # ouvre elle-même sa connexion et sa transaction englobante
def test_dans_une_transaction_englobante_le_commit_envoie_et_l_annulation_oublie(db, boite):
    with transaction_englobante():
        courriels.ecrire("lou@test.fr", "Validé dans la transaction englobante", "…")
        jobs.planifier(f"{ICI}.noter", "tâche")
        db.session.commit()
        assert recus(boite) == ["Validé dans la transaction englobante"] and APPELS == ["tâche"]
        assert boite_d_envoi() == {"Validé dans la transaction englobante": StatutCourriel.envoye}

        courriels.ecrire("lou@test.fr", "Annulé", "…")
        jobs.planifier(f"{ICI}.noter", "annulée")
        db.session.rollback()
        db.session.commit()
        assert recus(boite) == ["Validé dans la transaction englobante"] and APPELS == ["tâche"]


# --- Réactions aux transitions ---------------------------------------------------------------------


def test_l_application_inscrit_les_reactions_du_compte_rendu_avant_toute_transition():
    """Le service des comptes rendus s'inscrit auprès de workflow (qui ne l'importe pas) : la seule
    création de l'application doit suffire, dans un processus neuf comme un travailleur RQ."""
    script = (
        "from dauphin import create_app\n"
        "create_app('test')\n"
        "from dauphin.services.workflow import REACTIONS\n"
        "print(sorted(d for d, fs in REACTIONS.items() for f in fs if 'comptes_rendus' in f.__module__))"
    )
    sortie = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert sortie.stdout.strip() == str(
        ["cloturer_exercice", "deposer_justification", "retourner_justification"]
    )
