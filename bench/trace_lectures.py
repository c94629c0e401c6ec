"""Ce que coûte la trace des lectures à la vue d'un dossier, dans le processus (client de test Flask, sans
réseau), sur une base chargée par `flask seed scale` (voir docs/mesures.md, « Avant → après ») :

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_volume \\
        .venv/bin/python -m bench.trace_lectures

1. appels de fonctions Python et ordres SQL par vue, avec et sans l'écriture de la trace (déterministe) ;
2. temps de la vue en séries alternées avec et sans (sans : `services.lectures.enregistrer` remplacé par
   une fonction vide, la transaction de lecture finit alors par le ROLLBACK d'avant) ;
3. fin de la transaction de lecture : ROLLBACK, INSERT + COMMIT, et la même avec
   `SET LOCAL synchronous_commit TO off` (le compromis écarté).

Lit les dossiers d'un instructeur du financeur qui a le plus de lignes ; les lectures écrites par la mesure
sont effacées à la fin.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time

from sqlalchemy import delete, event, func, select, text

from dauphin import create_app
from dauphin import lectures as branchement
from dauphin.extensions import db
from dauphin.models import (
    Demande,
    Lecture,
    LigneFinancement,
    MembreOrganisation,
    NatureLecture,
    RoleOrganisation,
    Utilisateur,
)
from dauphin.services import lectures as service

VUES, SERIES, PAR_SERIE, FINS = 60, 8, 40, 600
OBJET_DE_MESURE = "mesure de la trace"


def p(valeurs: list[float], q: float) -> float:
    return sorted(valeurs)[int(len(valeurs) * q) - 1]


def lecteur_et_dossiers() -> tuple[str, list[int], int]:
    organisation = db.session.execute(
        select(LigneFinancement.organisation_id)
        .where(LigneFinancement.numero.is_not(None))
        .group_by(LigneFinancement.organisation_id)
        .order_by(func.count().desc())
        .limit(1)
    ).scalar_one()
    membre = db.session.scalar(
        select(MembreOrganisation)
        .where(
            MembreOrganisation.organisation_id == organisation,
            MembreOrganisation.role == RoleOrganisation.instructeur,
        )
        .limit(1)
    )
    if membre is None:
        raise SystemExit(
            "Aucun instructeur du plus gros financeur : lancez d'abord `make bench` sur cette base."
        )
    dossiers = list(
        db.session.scalars(
            select(LigneFinancement.demande_id)
            .where(LigneFinancement.organisation_id == organisation, LigneFinancement.numero.is_not(None))
            .order_by(LigneFinancement.demande_id)
            .limit(40)
        )
    )
    derniere = db.session.scalar(select(func.max(Lecture.id))) or 0
    return db.session.get(Utilisateur, membre.utilisateur_id).jeton_session, dossiers, derniere


def main() -> None:
    app = create_app()
    with app.app_context():
        jeton_session, dossiers, derniere = lecteur_et_dossiers()
        moteur = db.engine
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = jeton_session, True
    vraie = branchement.service.enregistrer
    modes = {"sans la trace": lambda lu, adresse: None, "avec la trace": vraie}
    for dossier in dossiers[:5]:  # caches (gabarits, requêtes compilées)
        client.get(f"/dossiers/{dossier}")

    for nom, enregistrer in modes.items():
        branchement.service.enregistrer = enregistrer
        ordres = []

        def compter(*_, ordres=ordres):
            ordres.append(1)

        event.listen(moteur, "before_cursor_execute", compter)
        profil = cProfile.Profile()
        profil.enable()
        for k in range(VUES):
            assert client.get(f"/dossiers/{dossiers[k % len(dossiers)]}").status_code == 200
        profil.disable()
        event.remove(moteur, "before_cursor_execute", compter)
        appels = pstats.Stats(profil).total_calls / VUES
        print(
            f"{nom} : {appels:,.0f} appels de fonctions Python, {len(ordres) / VUES:.1f} ordres SQL par vue"
        )

    temps = {nom: [] for nom in modes}
    for serie in range(SERIES):
        for nom in list(modes)[:: 1 if serie % 2 == 0 else -1]:
            branchement.service.enregistrer = modes[nom]
            for k in range(PAR_SERIE):
                debut = time.perf_counter()
                client.get(f"/dossiers/{dossiers[(serie * PAR_SERIE + k) % len(dossiers)]}")
                temps[nom].append((time.perf_counter() - debut) * 1000)
    branchement.service.enregistrer = vraie
    for nom, valeurs in temps.items():
        print(f"vue {nom} : p50 {statistics.median(valeurs):.1f} ms, p95 {p(valeurs, 0.95):.1f} ms")

    with app.app_context():
        fins = {
            "ROLLBACK": [],
            "INSERT + COMMIT": [],
            "SET LOCAL synchronous_commit off, INSERT + COMMIT": [],
        }
        noms = list(fins)
        for i in range(FINS):
            for nom in noms[i % 3 :] + noms[: i % 3]:
                demande = db.session.get(Demande, dossiers[i % len(dossiers)], populate_existing=True)
                lu = service.Lu(
                    NatureLecture.dossier,
                    "instructeur",
                    OBJET_DE_MESURE,
                    None,
                    demande_id=demande.id,
                    structure_id=demande.structure_id,
                )
                debut = time.perf_counter()
                if nom == "ROLLBACK":
                    db.session.rollback()
                else:
                    if nom.startswith("SET LOCAL"):
                        db.session.execute(text("SET LOCAL synchronous_commit TO off"))
                    service.ecrire(lu, "127.0.0.1")
                    db.session.commit()
                fins[nom].append((time.perf_counter() - debut) * 1000)
        for nom, valeurs in fins.items():
            p50, p95 = statistics.median(valeurs), p(valeurs, 0.95)
            print(f"fin de transaction, {nom} : p50 {p50:.2f} ms, p95 {p95:.2f} ms")
        db.session.execute(delete(Lecture).where(Lecture.id > derniere))
        db.session.commit()


if __name__ == "__main__":
    main()
