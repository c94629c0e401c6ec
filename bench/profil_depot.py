"""Ce que coûte chaque POST du dépôt (soumettre puis attester), dans le processus (client de test Flask,
sans réseau) : ordres SQL et appels de fonctions Python par POST, mesure déterministe. Écrit dans la base :
à lancer sur une COPIE (createdb -T dauphin_bench_25000 NOM).

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/NOM \\
        DAUPHIN_REDIS_URL=redis://127.0.0.1:6379/11 N=10 ORDRES=1 TOP=25 \\
        .venv/bin/python -m bench.profil_depot

N brouillons complétés comme au banc (`brouillons_complets`), un signataire créé pour leurs structures ;
ORDRES=1 liste les ordres SQL du premier dépôt mesuré et la durée médiane de chacun ; TOP=n les n fonctions
les plus coûteuses (TRI=tottime ou cumulative, FILTRE=expression des chemins) ; SANS_PROFIL=1 mesure le
temps CPU par POST sans profileur (à comparer en séries alternées : la machine est partagée).
Les tâches partent dans la file Redis indiquée (vidée à la fin), comme au banc.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time

from sqlalchemy import event

from bench.preparation import MOT_DE_PASSE, Comptes, brouillons_complets
from dauphin import create_app
from dauphin.extensions import db
from dauphin.services.workflow import aujourdhui


def main() -> None:
    n = int(os.environ.get("N", 10))
    top = int(os.environ.get("TOP", 0))
    lister = os.environ.get("ORDRES") == "1"
    sans_profil = os.environ.get("SANS_PROFIL") == "1"
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ordres: list[str] = []
    debuts: list[float] = []
    durees: list[float] = []  # durée de chaque ordre, vue du client (aller-retour compris)
    par_ordre: dict[tuple[str, int], list[float]] = {}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cu, o, *_: ordres.append(o))
        event.listen(db.engine, "before_cursor_execute", lambda *_: debuts.append(time.perf_counter()))
        event.listen(
            db.engine, "after_cursor_execute", lambda *_: durees.append(time.perf_counter() - debuts[-1])
        )
        brouillons = brouillons_complets(n + 1, aujourdhui(), set())
        email = Comptes().porteur("profil", {b.structure_id for b in brouillons})
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    client.post("/compte/connexion", data={"email": email, "mot_de_passe": MOT_DE_PASSE})
    mesures = {"soumettre": [], "attester": []}
    # Temps CPU du processus (pas l’attente du réseau ni de PostgreSQL)
    profils = {action: cProfile.Profile(time.process_time) for action in mesures}
    for rang, brouillon in enumerate(brouillons):
        demande_id = brouillon.id
        recap = f"/demandes/{demande_id}/etape/recapitulatif"
        for action, donnees in (
            ("soumettre", {}),
            ("attester", None),
        ):
            if donnees is None:  # les cases de l'attestation, telles que le formulaire les propose
                page = client.get(recap).get_data(as_text=True)
                donnees = {
                    nom: "y"
                    for nom in ("declarations", "engagement_republicain", "exactitude")
                    if f'name="{nom}"' in page
                }
            else:
                client.get(recap)
            version = _version(demande_id, app)
            donnees = {**donnees, "version": version}
            ordres.clear()
            durees.clear()
            # Le premier dépôt chauffe les caches ; SANS_PROFIL=1 : le temps CPU sans le coût du profileur.
            profil = profils[action] if rang and not sans_profil else None
            debut = time.process_time()
            if profil:
                profil.enable()
            reponse = client.post(f"/demandes/{demande_id}/{action}", data=donnees)
            if profil:
                profil.disable()
            cpu = (time.process_time() - debut) * 1000
            assert reponse.status_code == 302, (
                action,
                reponse.status_code,
                reponse.get_data(as_text=True)[:2000],
            )
            if rang:
                mesures[action].append((len(ordres), cpu))
                for i, duree in enumerate(durees):
                    par_ordre.setdefault((action, i), []).append(duree * 1000)
            if lister and rang == 1:
                print(f"--- {action} : {len(ordres)} ordres")
                for i, ordre in enumerate(ordres, 1):
                    print(f"{i:3d}. {' '.join(ordre.split())[:200]}")
    for action, valeurs in mesures.items():
        ordres_par_post = statistics.mean(v[0] for v in valeurs)
        cpu = statistics.median(v[1] for v in valeurs)
        if sans_profil:
            print(f"{action}: {ordres_par_post:.1f} ordres SQL/POST, CPU p50 (sans profil) {cpu:.1f} ms")
            continue
        s = io.StringIO()
        stats = pstats.Stats(profils[action], stream=s)
        print(
            f"{action}: {ordres_par_post:.1f} ordres SQL/POST, "
            f"{stats.total_calls // len(valeurs)} appels/POST, CPU p50 (avec profil) {cpu:.1f} ms"
        )
        if top:
            stats.sort_stats(os.environ.get("TRI", "tottime")).print_stats(os.environ.get("FILTRE", ""), top)
            print(s.getvalue())
    if lister:
        for (action, i), valeurs in sorted(par_ordre.items()):
            print(f"{action} ordre {i + 1:3d} : médiane {statistics.median(valeurs):.2f} ms")
    _vider_file(app)


def _version(demande_id: int, app) -> int:
    from dauphin.models import Demande

    with app.app_context():
        version = db.session.get(Demande, demande_id).version
        db.session.remove()
        return version


def _vider_file(app) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        Queue("dauphin", connection=Redis.from_url(url)).empty()


if __name__ == "__main__":
    main()
