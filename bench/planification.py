"""Planification et exécution, par PostgreSQL, des ordres SQL d'une page du porteur.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_bench_250000 \\
        .venv/bin/python -m bench.planification /mes-demandes/

Affiche la page (signataire de la structure qui a le plus de demandes, compte de mesure créé une fois comme
dans `bench.pages_en_volume`), capture ses ordres SQL, puis rejoue chaque SELECT sous
`EXPLAIN (ANALYZE, SUMMARY)` sept fois : médianes du temps de planification et d'exécution. Seul l'ordre de
la session et du compte est préparé (dauphin/connexions.py) : les autres sont planifiés à chaque page.
"""

from __future__ import annotations

import re
import statistics
import sys

from sqlalchemy import event

from bench.pages_en_volume import MOT_DE_PASSE, compte
from bench.preparation import le_plus_frequent
from dauphin import create_app
from dauphin.extensions import db
from dauphin.models import Demande, MembreStructure, RoleStructure

EMAIL = "mesure.porteur@mesure.dauphin.fr"
REPETITIONS = 7


def ordres_de_la_page(app, url: str) -> list[tuple[str, dict]]:
    ordres: list[tuple[str, dict]] = []
    with app.app_context():
        structure, _ = le_plus_frequent(Demande.structure_id)
        compte(
            EMAIL,
            lambda u: MembreStructure(
                utilisateur_id=u.id, structure_id=structure, role=RoleStructure.signataire
            ),
        )
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, st, p, *_: ordres.append((st, p)))
        db.session.remove()
    client = app.test_client()
    with app.app_context():
        client.post("/compte/connexion", data={"email": EMAIL, "mot_de_passe": MOT_DE_PASSE})
    with app.app_context():
        client.get(url)  # caches remplis
    ordres.clear()
    with app.app_context():
        client.get(url)
    return list(ordres)


def main(url: str) -> None:
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ordres = ordres_de_la_page(app, url)
    total_planification = total_execution = 0.0
    with app.app_context():
        brute = db.engine.raw_connection()
        curseur = brute.cursor()
        for ordre, parametres in ordres:
            if not ordre.lstrip().upper().startswith("SELECT"):
                continue
            planifications, executions = [], []
            for _ in range(REPETITIONS):
                curseur.execute("EXPLAIN (ANALYZE, SUMMARY) " + ordre, parametres)
                plan = "\n".join(ligne[0] for ligne in curseur.fetchall())
                planifications.append(float(re.search(r"Planning Time: ([\d.]+)", plan).group(1)))
                executions.append(float(re.search(r"Execution Time: ([\d.]+)", plan).group(1)))
            brute.rollback()
            planification, execution = statistics.median(planifications), statistics.median(executions)
            total_planification += planification
            total_execution += execution
            debut = " ".join(ordre.split())[:80]
            print(f"planification {planification:.3f} ms, exécution {execution:.3f} ms : {debut}")
        brute.close()
    print(f"Total : planification {total_planification:.2f} ms, exécution {total_execution:.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/mes-demandes/")
