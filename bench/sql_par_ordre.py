"""Le temps de PostgreSQL, ordre par ordre, des pages de l'instructeur de mesure, tels que le portail les
exécute : ordres capturés (client de test Flask) avec leurs paramètres, puis rejoués par psycopg avec les
réglages des connexions du portail (options de `config`, mêmes règles de préparation que
`dauphin.connexions`), et le CPU du processus serveur de la page entière.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/copie_x DAUPHIN_REDIS_URL= \\
        N=40 .venv/bin/python -m bench.sql_par_ordre "/instruction/" "/instruction/?q=quartier" \\
        "i:/dossiers/DOSSIER" "p:/dossiers/DEMANDE" "p:/mes-demandes/?page=2"

Comptes et URL comme `bench.profil_pages` : i: l'instructeur de mesure (par défaut, sans préfixe), p: le
signataire de mesure de la structure, e:COURRIEL:URL un autre compte (mot de passe du banc, ou `MDP`) ;
DOSSIER et DEMANDE remplacés par un dossier du financeur et une demande de la structure.

Par URL : le CPU du serveur par page (utime + stime des processus serveur de la base, lus dans /proc,
sur N pages servies par le client de test : ce que paie PostgreSQL, analyse, planification et envoi
compris), et celui de ses seuls ordres rejoués comme une page (`ORDRES=0` : ces deux chiffres) ; puis par
ordre, médiane de N rejeux : planification et exécution (EXPLAIN ANALYZE, plan personnalisé), exécution
en plan générique (`plan_cache_mode = force_generic_plan`, ordre préparé) et temps mur d'un ordre exécuté
comme le portail l'exécute (préparé par psycopg à sa sixième exécution, ou dès la première, ou jamais),
aller-retour compris. Sur Linux seulement (/proc), base locale.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time

import psycopg
from sqlalchemy import event, text

from bench.pages_en_volume import comptes_de_mesure
from bench.profil_pages import client_connecte
from dauphin import create_app
from dauphin.connexions import _JAMAIS_PREPARE, _lecture
from dauphin.extensions import db

TIC = 1000 / os.sysconf("SC_CLK_TCK")  # ms


def cpu_des_serveurs(curseur, base: str) -> float:
    """utime + stime (ms) des processus serveur connectés à `base`, sauf celui de `curseur`."""
    curseur.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (base,)
    )
    total = 0
    for (pid,) in curseur.fetchall():
        try:
            with open(f"/proc/{pid}/stat") as fichier:
                champs = fichier.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(champs[11]) + int(champs[12])
    return total * TIC


def main() -> None:
    n = int(os.environ.get("N", 40))
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    dsn = re.sub(r"^postgresql\+\w+://", "postgresql://", app.config["SQLALCHEMY_DATABASE_URI"])
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options", "")
    capture: list | None = None

    def capturer(_conn, _cursor, statement, parameters, context, _executemany):
        if capture is not None:
            prepare = context is not None and context.execution_options.get("dauphin_prepare")
            mode = "jamais" if _JAMAIS_PREPARE(statement) else ("tout de suite" if prepare else "au 6e")
            capture.append((statement, parameters, mode))

    with app.app_context():
        dossier, demande = comptes_de_mesure()
        base = db.session.execute(text("SELECT current_database()")).scalar()
        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", capturer)
    surveillance = psycopg.connect(dsn, autocommit=True)
    rejeu = psycopg.connect(dsn, autocommit=True, options=options)
    total_general = 0.0
    for argument in sys.argv[1:]:
        role, url, client = client_connecte(app, argument, dossier, demande, role_par_defaut="i")
        for _ in range(6):
            client.get(url)
        with surveillance.cursor() as s:
            avant = cpu_des_serveurs(s, base)
            for _ in range(n):
                client.get(url)
            apres = cpu_des_serveurs(s, base)
        capture = []
        reponse = client.get(url)
        ordres, capture = capture, None
        par_page = (apres - avant) / n
        total_general += par_page
        print(
            f"\n{role} {url} [{reponse.status_code}] : {len(ordres)} ordres ; "
            f"CPU PostgreSQL {par_page:.2f} ms/page"
        )
        # Les mêmes ordres seuls, rejoués comme une page (transaction, préparation du portail, validation) :
        # le CPU de leur processus serveur. Les lectures seules : rejouer une écriture (la trace de lecture
        # d'un dossier) ajouterait à la base du banc n × 5 rangées de plus à chaque mesure.
        lectures = [o for o in ordres if _lecture(o[0])]
        if len(lectures) < len(ordres):
            print(f"  ({len(ordres) - len(lectures)} écriture(s) non rejouée(s) ci-dessous)")
        with psycopg.connect(dsn, options=options) as connexion, connexion.cursor() as c:
            modes = [{"jamais": False, "tout de suite": True}.get(mode) for _, _, mode in lectures]
            with open(f"/proc/{connexion.info.backend_pid}/stat") as f:
                avant = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
            for _ in range(n * 5):
                for (ordre, parametres, _mode), prepare in zip(lectures, modes, strict=True):
                    c.execute(ordre, parametres or {}, prepare=prepare)
                    c.fetchall()
                c.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
                connexion.commit()
            with open(f"/proc/{connexion.info.backend_pid}/stat") as f:
                apres = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        rejoue = (apres - avant) * TIC / (n * 5)
        print(f"  ses lectures seules, rejouées : CPU PostgreSQL {rejoue:.2f} ms/page")
        if os.environ.get("ORDRES") == "0":
            continue
        print("  plan. | exéc. perso | exéc. générique | mur comme le portail | préparé | ordre")
        for ordre, parametres, mode in ordres:
            if not _lecture(ordre):
                print(f"  {'':>5} | {'':>11} | {'':>15} | {'':>20} | {mode:<7} | {ordre[:60]!r}")
                continue
            plans, execs, generiques, murs = [], [], [], []
            with rejeu.cursor() as c:
                for _ in range(n):
                    c.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + ordre, parametres or {})
                    plan = c.fetchone()[0][0]
                    plans.append(plan["Planning Time"])
                    execs.append(plan["Execution Time"])
            # Le plan générique : un ordre préparé, exécuté N fois, mur (aller-retour compris)
            with psycopg.connect(dsn, autocommit=True, options=options) as connexion, connexion.cursor() as c:
                c.execute("SET plan_cache_mode = force_generic_plan")
                for i in range(n + 1):
                    debut = time.perf_counter()
                    c.execute(ordre, parametres or {}, prepare=True)
                    c.fetchall()
                    if i:
                        generiques.append((time.perf_counter() - debut) * 1000)
            # Comme le portail : connexion neuve, préparation selon ses règles
            with psycopg.connect(dsn, autocommit=True, options=options) as connexion, connexion.cursor() as c:
                prepare = {"jamais": False, "tout de suite": True}.get(mode)
                for _ in range(n):
                    debut = time.perf_counter()
                    c.execute(ordre, parametres or {}, prepare=prepare)
                    c.fetchall()
                    murs.append((time.perf_counter() - debut) * 1000)
            m = statistics.median
            print(
                f"  {m(plans):5.2f} | {m(execs):11.2f} | {m(generiques):15.2f} | {m(murs):20.2f} | "
                f"{mode:<7} | {' '.join(ordre.split())[:90]}"
            )
    print(f"\nsomme du CPU PostgreSQL par page des URL : {total_general:.2f} ms")


if __name__ == "__main__":
    main()
