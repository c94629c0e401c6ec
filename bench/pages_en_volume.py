"""Mesure rapide, dans le processus (client de test Flask, sans réseau), des pages de liste et d'un
dossier sur une base chargée par `flask seed scale`. Le banc HTTP complet (gunicorn, utilisateurs
simultanés) est l'objet de `make bench`.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_volume \\
        .venv/bin/python -m bench.pages_en_volume

Crée (une fois) deux comptes de mesure : un instructeur du financeur qui a le plus de lignes, un
signataire de la structure qui a le plus de demandes. Affiche p50, max et le nombre de requêtes SQL.
"""

from __future__ import annotations

import statistics
import time

from flask import g
from sqlalchemy import event, func, select

from bench.preparation import le_plus_frequent
from dauphin import create_app
from dauphin.extensions import db
from dauphin.models import (
    Demande,
    LigneFinancement,
    MembreOrganisation,
    MembreStructure,
    RoleOrganisation,
    RoleStructure,
    Utilisateur,
    maintenant,
)

MOT_DE_PASSE = "mesure-" + "x" * 12
REPETITIONS = 15


def compte(email: str, rattacher) -> None:
    if db.session.scalar(select(Utilisateur).where(Utilisateur.email == email)) is None:
        utilisateur = Utilisateur(
            email=email, prenom="Mesure", nom=email.split("@")[0], email_confirme_le=maintenant()
        )
        utilisateur.definir_mot_de_passe(MOT_DE_PASSE)
        db.session.add(utilisateur)
        db.session.flush()
        db.session.add(rattacher(utilisateur))
        db.session.commit()


INSTRUCTEUR = "mesure.instructeur@mesure.dauphin.fr"
PORTEUR = "mesure.porteur@mesure.dauphin.fr"


def comptes_de_mesure() -> tuple[int, int]:
    """Les deux comptes de mesure, créés au besoin (sur une copie de la base) : `INSTRUCTEUR`, du financeur
    qui a le plus de lignes, et `PORTEUR`, signataire de la structure qui a le plus de demandes (les pages
    les plus lourdes, choisies comme le banc HTTP les choisit). Rend un dossier transmis du financeur et une
    demande numérotée de la structure."""
    organisation_id, _ = le_plus_frequent(LigneFinancement.organisation_id)
    structure_id, _ = le_plus_frequent(Demande.structure_id)
    compte(
        INSTRUCTEUR,
        lambda u: MembreOrganisation(
            utilisateur_id=u.id, organisation_id=organisation_id, role=RoleOrganisation.instructeur
        ),
    )
    compte(
        PORTEUR,
        lambda u: MembreStructure(
            utilisateur_id=u.id, structure_id=structure_id, role=RoleStructure.signataire
        ),
    )
    du_financeur = db.session.scalar(
        select(LigneFinancement.demande_id)
        .where(
            LigneFinancement.organisation_id == organisation_id,
            LigneFinancement.statut_dossier.not_in(["brouillon", "attente_attestation"]),
        )
        .limit(1)
    )
    de_la_structure = db.session.scalar(
        select(Demande.id).where(Demande.structure_id == structure_id, Demande.numero.is_not(None)).limit(1)
    )
    return du_financeur, de_la_structure


def mesurer(client, url: str, requetes: dict) -> str:
    durees = []
    for _ in range(REPETITIONS):
        requetes["n"] = 0
        debut = time.perf_counter()
        reponse = client.get(url)
        durees.append((time.perf_counter() - debut) * 1000)
    durees.sort()
    return (
        f"| `{url}` | {reponse.status_code} | {statistics.median(durees):.0f} ms | {durees[-1]:.0f} ms "
        f"| {requetes['n']} |"
    )


def main() -> None:
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        _, demande_id = comptes_de_mesure()
        requetes = {"n": 0}
        event.listen(
            db.engine, "before_cursor_execute", lambda *a: requetes.__setitem__("n", requetes["n"] + 1)
        )
        print(f"Demandes : {db.session.scalar(select(func.count()).select_from(Demande))}")
        print("| page | statut | p50 | max | requêtes SQL |\n|---|---|---|---|---|")
        for email, urls in (
            (
                INSTRUCTEUR,
                ["/instruction/", "/instruction/?statut=sollicitee", "/instruction/?page=50"],
            ),
            (PORTEUR, ["/mes-demandes/", f"/dossiers/{demande_id}"]),
        ):
            g.pop("_login_user", None)  # un client par compte, dans le même contexte d'application
            client = app.test_client()
            client.post("/compte/connexion", data={"email": email, "mot_de_passe": MOT_DE_PASSE})
            for url in urls:
                print(mesurer(client, url, requetes))


if __name__ == "__main__":
    main()
