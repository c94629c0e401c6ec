"""La vue d'un dossier dans le processus, pour l'instructeur du plus gros financeur et le signataire de la
plus grosse structure : appels de fonctions Python par requête (cProfile, la mesure qui ne dépend pas de la
charge de la machine), ordres SQL par requête, CPU du processus et durée au p50 (sans profileur).

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_volume DAUPHIN_REDIS_URL= \\
        .venv/bin/python -m bench.vue_dossier [--requetes 60] [--top 40]

Les comptes de mesure sont ceux du banc (`bench.pages_en_volume.compte`) ; la vue d'un instructeur écrit sa
trace de lecture, comme en production.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

from sqlalchemy import event

from bench.pages_en_volume import INSTRUCTEUR, MOT_DE_PASSE, PORTEUR, comptes_de_mesure
from dauphin import create_app
from dauphin.extensions import db


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--requetes", type=int, default=60)
    arguments.add_argument("--top", type=int, default=0, help="les fonctions les plus coûteuses (tottime)")
    options = arguments.parse_args()
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ordres: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cu, ordre, *_: ordres.append(ordre))
        du_financeur, de_la_structure = comptes_de_mesure()
        db.session.remove()
    n = options.requetes
    for email, demande_id in ((INSTRUCTEUR, du_financeur), (PORTEUR, de_la_structure)):
        url = f"/dossiers/{demande_id}"
        client = app.test_client()
        with app.app_context():
            client.post("/compte/connexion", data={"email": email, "mot_de_passe": MOT_DE_PASSE})
        for _ in range(5):  # chauffe
            with app.app_context():
                client.get(url)
        ordres.clear()
        cpu, durees = [], []
        for _ in range(n):
            with app.app_context():
                debut, debut_cpu = time.perf_counter(), time.process_time()
                reponse = client.get(url)
                cpu.append((time.process_time() - debut_cpu) * 1000)
                durees.append((time.perf_counter() - debut) * 1000)
        par_requete = len(ordres) / n
        profil = cProfile.Profile()
        for _ in range(n):
            with app.app_context():
                profil.enable()
                client.get(url)
                profil.disable()
        sortie = io.StringIO()
        stats = pstats.Stats(profil, stream=sortie)
        print(
            f"{email.split('@')[0]} {url} [{reponse.status_code}] : "
            f"{stats.total_calls // n} appels par requête, "
            f"{par_requete:.1f} ordres SQL, CPU p50 {statistics.median(cpu):.1f} ms, "
            f"durée p50 {statistics.median(durees):.1f} ms",
            flush=True,
        )
        if options.top:
            stats.sort_stats("tottime").print_stats(options.top)
            print(sortie.getvalue())


if __name__ == "__main__":
    main()
