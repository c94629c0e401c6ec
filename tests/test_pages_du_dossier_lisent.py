"""La vue d'un dossier (instructeur et porteur) et le tableau de bord du porteur, pour les connexions
(`dauphin.connexions`) : chaque ordre est une lecture, sauf la trace de lecture de l'instructeur, écrite dans
la même transaction, validée. Aucune page ne finit donc par un vrai ROLLBACK, qui ferait oublier à psycopg
tous ses ordres préparés (DEALLOCATE ALL), replanifiés à la page suivante. Sur SQLite et PostgreSQL ; sur
PostgreSQL, on vérifie en plus que le cache d'ordres préparés de psycopg n'est jamais vidé."""

from __future__ import annotations

import pytest

from dauphin.connexions import _lecture
from dauphin.extensions import db
from tests.clients import ClientIsole
from tests.conftest import Connexion
from tests.fabriques_db import demande_complete
from tests.requetes import ordres_des_pages
from tests.test_instruction import transmettre


def _ordres_des_pages(app, utilisateur, urls: list[str]) -> list[str]:
    """Les ordres de la seconde vue de chaque page, sous le compte de `utilisateur`."""
    client = ClientIsole(app.test_client())
    Connexion(client).en_tant_que(utilisateur)
    return ordres_des_pages(client, db.engine, urls)


def test_les_pages_du_dossier_et_le_tableau_de_bord_ne_font_que_lire(app, db, monde):
    demande = transmettre(monde, demande_complete(monde))
    porteur = _ordres_des_pages(
        app, monde.signataire, [f"/dossiers/{demande.id}", "/mes-demandes/", "/mes-demandes/?page=2"]
    )
    assert porteur and [o for o in porteur if not _lecture(o)] == []
    assert sum("FROM session_utilisateur" in o for o in porteur) == 3  # la session relue à chaque page
    # L'instructeur : la trace de sa lecture (une par vue), le reste en lecture
    instructeur = _ordres_des_pages(app, monde.instructeur_etat, [f"/dossiers/{demande.id}"])
    # (SAVEPOINT et RELEASE : la validation, dans la transaction englobante des tests)
    ecritures = [o for o in instructeur if not _lecture(o) and "SAVEPOINT" not in o]
    assert len(ecritures) == 1 and ecritures[0].startswith("INSERT INTO lecture"), ecritures


def test_ni_le_dossier_ni_le_tableau_de_bord_n_oublient_les_ordres_prepares(app, db, monde, monkeypatch):
    """Sur PostgreSQL : psycopg ne vide jamais son cache d'ordres préparés pendant ces pages (ce qu'il fait
    à chaque ROLLBACK d'une transaction ouverte)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL seulement")
    from psycopg._preparing import PrepareManager

    demande = transmettre(monde, demande_complete(monde))
    vidages = []
    origine = PrepareManager.clear

    def vider(self):
        vidages.append(True)
        return origine(self)

    monkeypatch.setattr(PrepareManager, "clear", vider)
    _ordres_des_pages(
        app, monde.signataire, [f"/dossiers/{demande.id}", "/mes-demandes/", "/mes-demandes/?page=2"]
    )
    _ordres_des_pages(app, monde.instructeur_etat, [f"/dossiers/{demande.id}"])
    assert vidages == []


def test_les_financeurs_de_l_instructeur_sont_ecrits_dans_l_ordre(app, db, monde):
    """La visibilité des autres demandes de la structure (`VOIR_INSTRUCTION.clause`) : les financeurs de
    l'instructeur écrits dans l'ordre et non passés en paramètres. Préparé, le plan générique ne saurait pas
    combien de lignes a le financeur, et hachait toutes celles du plus gros au lieu de sonder l'index
    unique."""
    demande = transmettre(monde, demande_complete(monde))
    ordres = _ordres_des_pages(app, monde.instructeur_etat, [f"/dossiers/{demande.id}"])
    (visibilite,) = [o for o in ordres if "EXISTS (SELECT ligne_financement.id" in o]
    assert f"ligne_financement.organisation_id IN ({int(monde.etat.id)})" in visibilite
