"""Banc HTTP à l'échelle nationale : `make bench` (voir README, « Mesures »).

1. base PostgreSQL neuve, `flask db upgrade`, `flask seed scale --requests N` ;
2. préparation (comptes de mesure rattachés aux organisations et structures du jeu, brouillons complets,
   lignes à aviser) ;
3. gunicorn (2 × cœurs processus) sur la boucle locale, avec DAUPHIN_BENCH=1 (en-tête X-Requetes-SQL,
   capture des ordres SQL sur demande, route témoin) ;
4. chaque scénario du registre joué par des utilisateurs simultanés connectés par le vrai formulaire ;
   à côté, les limites mesurées dans la même exécution : la route témoin et le SQL de la page rejoué seul ;
5. la rafale de clôture de campagne : N porteurs soumettent et attestent en quelques minutes, puis
   contrôle en base (rien de perdu ni de dupliqué) et `flask journal verify` ;
6. résultats en JSON et en Markdown dans bench/resultats/.

    .venv/bin/python -m bench.banc --demandes 25000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench import rapport, sql_direct
from bench.pilote import ErreurScenario, Mesure, Utilisateur
from bench.scenarios import ABSENTS, REGISTRE, Scenario, brancher_conditionnels, deposer

RACINE = Path(__file__).resolve().parent.parent
RESULTATS = RACINE / "bench" / "resultats"
VENV = Path(os.environ.get("VENV", RACINE / ".venv"))
ENTETE_CAPTURER = {"X-Capturer-SQL": "1"}


def journal(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Base et serveur --------------------------------------------------------------------------


def dsn_psycopg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def creer_base(serveur: str, nom: str) -> str:
    with psycopg.connect(dsn_psycopg(f"{serveur}/postgres"), autocommit=True) as connexion:
        connexion.execute(f'DROP DATABASE IF EXISTS "{nom}" WITH (FORCE)')
        connexion.execute(f'CREATE DATABASE "{nom}"')
    return f"{serveur}/{nom}"


def vacuum_analyze(dsn: str) -> float:
    """Après un chargement en masse par COPY, ni la carte de visibilité ni les statistiques ne sont
    faites : PostgreSQL ne peut pas parcourir un index seul (le COUNT par statut d'un financeur relit
    alors 7 700 pages de la table). L'autovacuum s'en charge en production ; le banc mesure cet état
    établi sans l'attendre."""
    debut = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as connexion:
        connexion.execute("VACUUM (ANALYZE)")
        # Les gigaoctets que le chargement et le VACUUM viennent d'écrire sont encore à recopier sur le disque
        # par le checkpointer : sans ce point de reprise, le banc mesurerait, pendant ses premières minutes,
        # chaque COMMIT (trace des lectures, transitions) attendant un disque saturé.
        connexion.execute("CHECKPOINT")
    return round(time.perf_counter() - debut, 1)


def supprimer_base(serveur: str, nom: str) -> None:
    with psycopg.connect(dsn_psycopg(f"{serveur}/postgres"), autocommit=True) as connexion:
        connexion.execute(f'DROP DATABASE IF EXISTS "{nom}" WITH (FORCE)')


def flask(env: dict, *arguments: str, verifier: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV / "bin" / "flask"), *arguments],
        env=env,
        cwd=RACINE,
        check=verifier,
        capture_output=True,
        text=True,
    )


def demarrer_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    processus = subprocess.Popen(
        [
            str(VENV / "bin" / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=env,
        cwd=RACINE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        time.sleep(0.5)
        if processus.poll() is not None:
            raise RuntimeError("gunicorn s'est arrêté au démarrage")
        try:
            if httpx.get(f"{base}/_banc/vide", timeout=2).status_code == 200:
                return processus
        except httpx.HTTPError:
            continue
    processus.terminate()
    raise RuntimeError("gunicorn ne répond pas")


def machine(dsn: str, workers: int) -> dict:
    memoire = 0
    for ligne in Path("/proc/meminfo").read_text().splitlines():
        if ligne.startswith("MemTotal:"):
            memoire = int(ligne.split()[1]) / 1024 / 1024
    with psycopg.connect(dsn) as connexion:
        version = connexion.execute("SHOW server_version").fetchone()[0]
    return {
        "coeurs": os.cpu_count(),
        "memoire_gio": round(memoire),
        "postgresql": f"PostgreSQL {version.split()[0]}",
        "workers": workers,
        "charge_depart": " ".join(f"{c:.1f}".replace(".", ",") for c in os.getloadavg()),
        "python": sys.version.split()[0],
    }


def _cpu_des_processus(retenu) -> float:
    """Temps CPU (utilisateur + système) cumulé, en secondes, des processus que `retenu(nom, champs)`
    désigne (`champs` : ceux de /proc/<pid>/stat après le nom ; 1 : ppid ; 11 et 12 : utime, stime)."""
    tic = os.sysconf("SC_CLK_TCK")
    total = 0
    for entree in Path("/proc").iterdir():
        if not entree.name.isdigit():
            continue
        try:
            debut, fin = (entree / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        champs = fin.split()
        if retenu(debut.partition("(")[2], champs):
            total += int(champs[11]) + int(champs[12])
    return total / tic


def cpu_postgres_s() -> float:
    """Le CPU des processus PostgreSQL de la machine (serveurs des connexions, et ceux d'arrière-plan, peu
    actifs pendant une mesure) : la part de la base dans le coût d'une requête, que le SQL seul (rejoué sans
    concurrence) ne dit pas."""
    return _cpu_des_processus(lambda nom, _champs: nom == "postgres")


def cpu_workers_s(maitre: int) -> float:
    """Le CPU des processus gunicorn enfants du maître : le coût de l'application par requête, peu sensible
    aux autres charges de la machine (contrairement aux latences)."""
    return _cpu_des_processus(lambda _nom, champs: int(champs[1]) == maitre)


# --- Exécution d'un scénario ------------------------------------------------------------------


class Sessions:
    """Un utilisateur simulé par compte, connecté une fois par le formulaire de connexion."""

    def __init__(self, base: str, mot_de_passe: str):
        self.base, self.mot_de_passe = base, mot_de_passe
        self.utilisateurs: dict[str, Utilisateur] = {}
        self.verrou = threading.Lock()

    def connecter(self, emails: list[str], paralleles: int = 8) -> None:
        nouveaux = [e for e in dict.fromkeys(emails) if e not in self.utilisateurs]

        def un(email):
            utilisateur = Utilisateur(self.base, email, self.mot_de_passe)
            utilisateur.se_connecter()
            with self.verrou:
                self.utilisateurs[email] = utilisateur

        with ThreadPoolExecutor(paralleles) as groupe:
            list(groupe.map(un, nouveaux))

    def __getitem__(self, email: str) -> Utilisateur:
        return self.utilisateurs[email]

    def fermer(self) -> None:
        for utilisateur in self.utilisateurs.values():
            utilisateur.fermer()


def jouer(sessions: Sessions, taches: list[tuple[str, list]], executer) -> dict:
    """Chaque utilisateur enchaîne ses cibles ; tous démarrent ensemble. Renvoie le résumé, et le détail
    par cible quand elles sont peu nombreuses (les variantes d'URL de l'espace d'instruction)."""
    durees, sql, erreurs, messages = [], [], 0, []
    par_cible: dict[str, list[float]] = {}
    verrou = threading.Lock()
    depart = threading.Barrier(len(taches))

    def utilisateur(email, cibles):
        nonlocal erreurs
        client = sessions[email]
        depart.wait()
        for cible in cibles:
            try:
                mesures = executer(client, cible, {})
            except ErreurScenario as erreur:
                with verrou:
                    erreurs += 1
                    if len(messages) < 5:
                        messages.append(str(erreur.args[0]))
                continue
            except httpx.HTTPError as erreur:
                with verrou:
                    erreurs += 1
                    if len(messages) < 5:
                        messages.append(repr(erreur))
                continue
            with verrou:
                for mesure in mesures:
                    durees.append(mesure.duree_ms)
                    if isinstance(cible, str):  # une URL (pages) ; pas un identifiant de brouillon
                        par_cible.setdefault(cible, []).append(mesure.duree_ms)
                    if mesure.requetes_sql is not None:
                        sql.append(mesure.requetes_sql)

    debut = time.perf_counter()
    with ThreadPoolExecutor(len(taches)) as groupe:
        for futur in [groupe.submit(utilisateur, email, cibles) for email, cibles in taches]:
            futur.result()
    duree = time.perf_counter() - debut
    resultat = rapport.resumer(durees, erreurs, duree, sql)
    if 1 < len(par_cible) <= rapport.CIBLES_DETAILLEES:
        resultat["par_cible"] = rapport.detailler(par_cible)
    if messages:
        resultat["exemples_erreurs"] = messages
    return resultat


def capturer_sql(sessions: Sessions, email: str, cible, executer, instance: Path, dsn: str) -> dict | None:
    """Une requête du scénario avec capture des ordres SQL côté serveur, rejoués seuls sur la base."""
    try:
        mesures: list[Mesure] = executer(sessions[email], cible, ENTETE_CAPTURER)
    except ErreurScenario as erreur:
        journal(f"  capture SQL impossible : {erreur.args[0]}")
        return None
    fichiers = sorted((instance / "banc-sql").glob("*.pickle"), key=lambda f: f.stat().st_mtime)
    if not fichiers:
        return None
    # Un scénario peut mesurer plusieurs requêtes (soumettre puis attester) : leurs SQL s'additionnent
    # et la limite est ramenée à une requête.
    recents = fichiers[-len(mesures) :]
    limites = [sql_direct.rejouer(dsn, sql_direct.charger(f)) for f in recents]
    for fichier in fichiers:
        fichier.unlink()
    return {
        cle: round(sum(limite[cle] for limite in limites) / len(limites), 2)
        for cle in ("ordres", "p50_ms", "p95_ms")
    }


def executer_scenario(
    scenario: Scenario, plan: dict, sessions: Sessions, args, instance: Path, dsn: str, maitre: int
) -> dict:
    iterations = args.iterations_page if scenario.genre == "page" else args.iterations_transition
    if scenario.libelles is not None:
        # Plusieurs variantes d'URL, chacune jugée à son p95 et à sa croissance : au moins
        # `requetes_par_variante` requêtes par variante en tout (les utilisateurs se les partagent). Sur 100
        # requêtes, le p95 est la 5e plus lente : une seule pause de la machine le déplace (« quartier » à
        # 25 000 demandes : 65 puis 97 ms au p95 dans deux exécutions, même code, même SQL seul).
        variantes = len(scenario.libelles(plan)) or 1
        iterations = max(iterations, -(-variantes * args.requetes_par_variante // args.utilisateurs))
    taches = [(e, c) for e, c in scenario.cibles(plan, args.utilisateurs, iterations + 1) if c]
    if not taches:
        return {
            "libelle": scenario.libelle,
            "genre": scenario.genre,
            "erreurs": 0,
            "requetes": 0,
            "remarque": "aucune cible dans ce jeu",
        }
    sessions.connecter([email for email, _ in taches])
    # Première cible du premier utilisateur : requête de capture SQL (hors mesures) ; les pages gardent
    # leur cible suivante pour la chauffe. Un scénario de quelques variantes d'URL (l'espace d'instruction)
    # les capture toutes : le SQL seul se lit URL par URL, et celui du scénario est leur moyenne.
    email0, cibles0 = taches[0]
    variantes = sorted({c for _, cibles in taches for c in cibles if isinstance(c, str)})
    sql_par_cible = {}
    if scenario.libelles is not None and 1 < len(variantes) <= rapport.CIBLES_DETAILLEES:
        for url in variantes:
            sql_par_cible[url] = capturer_sql(sessions, email0, url, scenario.executer, instance, dsn)
        mesurees = [c for c in sql_par_cible.values() if c] or [{}]
        capture = {
            cle: round(sum(c[cle] for c in mesurees) / len(mesurees), 2)
            for cle in ("ordres", "p50_ms", "p95_ms")
            if all(cle in c for c in mesurees)
        } or None
    else:
        capture = capturer_sql(sessions, email0, cibles0[0], scenario.executer, instance, dsn)
    taches = [(e, c[1:]) for e, c in taches]
    if scenario.genre == "page":
        jouer(sessions, [(e, c[:2]) for e, c in taches], scenario.executer)  # chauffe, non comptée
    cpu, cpu_base = cpu_workers_s(maitre), cpu_postgres_s()
    resultat = jouer(sessions, taches, scenario.executer)
    cpu, cpu_base = cpu_workers_s(maitre) - cpu, cpu_postgres_s() - cpu_base
    resultat.update(libelle=scenario.libelle, genre=scenario.genre, utilisateurs=len(taches))
    # Les scénarios à formulaire font aussi le GET de la page : leur CPU le compte, par requête mesurée.
    n = resultat["requetes"]
    resultat["cpu_app_ms"] = round(cpu * 1000 / n, 1) if n else None
    resultat["cpu_base_ms"] = round(cpu_base * 1000 / n, 1) if n else None  # processus PostgreSQL
    if capture:
        resultat.update(
            sql_direct_p50_ms=capture["p50_ms"],
            sql_direct_p95_ms=capture["p95_ms"],
            sql_direct_ordres=capture["ordres"],
        )
    libelles = scenario.libelles(plan) if scenario.libelles else {}
    for url, detail in resultat.get("par_cible", {}).items():
        if libelles.get(url):
            detail["libelle"] = libelles[url]
        if sql_par_cible.get(url):
            detail["sql_direct_p50_ms"] = sql_par_cible[url]["p50_ms"]
    return resultat


def route_vide(sessions: Sessions, comptes: list[str], iterations: int, maitre: int) -> dict:
    def get(client, _cible, entetes):
        _, mesure = client.get("/_banc/vide", headers=entetes)
        return [mesure]

    taches = [(email, [None] * iterations) for email in comptes]
    jouer(sessions, [(e, c[:20]) for e, c in taches], get)
    cpu = cpu_workers_s(maitre)
    resultat = jouer(sessions, taches, get)
    resultat["cpu_app_ms"] = round((cpu_workers_s(maitre) - cpu) * 1000 / resultat["requetes"], 2)
    return resultat


# --- Rafale de clôture ------------------------------------------------------------------------


def rafale(base: str, plan: dict, args, env: dict, dsn: str) -> dict:
    porteurs = plan["rafale"]
    if not porteurs:
        return {}
    journal(f"Rafale : connexion de {len(porteurs)} porteurs (formulaire de connexion)…")
    sessions = Sessions(base, plan["mot_de_passe"])
    sessions.connecter([email for email, _ in porteurs], paralleles=16)
    soumissions, attestations, erreurs, messages = [], [], 0, []
    verrou = threading.Lock()
    intervalle = args.etalement / len(porteurs)
    journal(f"Rafale : {len(porteurs)} dépôts, arrivées réparties sur {args.etalement} s…")
    debut = time.perf_counter()

    def porteur(rang, email, demande_id):
        nonlocal erreurs
        attente = debut + rang * intervalle - time.perf_counter()
        if attente > 0:
            time.sleep(attente)
        try:
            soumission, attestation = deposer(sessions[email], demande_id, {})
        except (ErreurScenario, httpx.HTTPError) as erreur:
            with verrou:
                erreurs += 1
                if len(messages) < 5:
                    messages.append(str(erreur.args[0]))
            return
        with verrou:
            soumissions.append(soumission)
            attestations.append(attestation)

    with ThreadPoolExecutor(args.rafale_paralleles) as groupe:
        futurs = [groupe.submit(porteur, i, e, d) for i, (e, d) in enumerate(porteurs)]
        for futur in futurs:
            futur.result()
    duree = time.perf_counter() - debut
    sessions.fermer()

    def resume(mesures):
        return rapport.resumer(
            [m.duree_ms for m in mesures], 0, duree, [m.requetes_sql or 0 for m in mesures]
        )

    resultat = {
        "porteurs": len(porteurs),
        "etalement_s": args.etalement,
        "duree_s": round(duree, 1),
        "debit_depots_par_s": round(len(attestations) / duree, 2),
        "erreurs": erreurs,
        "etapes": {"soumettre": resume(soumissions), "attester": resume(attestations)},
        "controle": controler_rafale(dsn, [d for _, d in porteurs], env),
    }
    if messages:
        resultat["exemples_erreurs"] = messages
    return resultat


def controler_rafale(dsn: str, ids: list[int], env: dict) -> dict:
    """Rien de perdu ni de dupliqué : chaque demande transmise une fois, un numéro unique, une ligne
    « attester » au journal, et la chaîne d'empreintes du journal intacte."""
    with psycopg.connect(dsn) as connexion:
        transmises, numeros, distincts = connexion.execute(
            "SELECT count(*) FILTER (WHERE statut = 'transmise'), count(numero), count(DISTINCT numero) "
            "FROM demande WHERE id = ANY(%s)",
            (ids,),
        ).fetchone()
        doublons_globaux = connexion.execute(
            "SELECT count(*) FROM (SELECT numero FROM demande WHERE numero IS NOT NULL "
            "GROUP BY numero HAVING count(*) > 1) d"
        ).fetchone()[0]
        lignes_attester, une_seule = connexion.execute(
            "SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n = 1) FROM ("
            "  SELECT count(j.id) AS n FROM unnest(%s::int[]) AS d(id)"
            "  LEFT JOIN journal j ON j.demande_id = d.id AND j.declencheur = 'attester' GROUP BY d.id) c",
            (ids,),
        ).fetchone()
    verification = flask(env, "journal", "verify", verifier=False)
    intact = (
        transmises == len(ids)
        and numeros == distincts == len(ids)
        and doublons_globaux == 0
        and une_seule == len(ids)
        and lignes_attester == len(ids)
        and verification.returncode == 0
    )
    return {
        "attendues": len(ids),
        "transmises": transmises,
        "numeros_distincts": distincts,
        "numeros_en_double_dans_la_base": doublons_globaux,
        "lignes_attester": int(lignes_attester),
        "demandes_avec_une_attestation": une_seule,
        "journal_verify": "intègre" if verification.returncode == 0 else "anomalies",
        "journal_verify_sortie": (verification.stdout or verification.stderr).strip()[-300:],
        "intact": intact,
    }


# --- Programme --------------------------------------------------------------------------------


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demandes", type=int, default=250_000)
    p.add_argument(
        "--serveur-pg", default=os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1")
    )
    p.add_argument("--base", default=None, help="nom de la base (défaut : dauphin_bench_<demandes>)")
    p.add_argument("--reutiliser", action="store_true", help="base déjà chargée : ni création ni chargement")
    p.add_argument("--garder", action="store_true", help="ne pas supprimer la base à la fin")
    p.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 5103)))
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    p.add_argument(
        "--utilisateurs",
        type=int,
        default=None,
        help="utilisateurs simultanés par scénario (défaut : autant que de processus gunicorn)",
    )
    p.add_argument("--iterations-page", type=int, default=100)
    p.add_argument(
        "--requetes-par-variante",
        type=int,
        default=300,
        help="requêtes au moins par variante d'URL d'un scénario qui en a plusieurs (espace d'instruction)",
    )
    p.add_argument("--iterations-transition", type=int, default=40)
    p.add_argument("--rafale", type=int, default=1000, help="porteurs de la rafale de clôture")
    p.add_argument("--etalement", type=float, default=180.0, help="secondes sur lesquelles ils arrivent")
    p.add_argument("--rafale-paralleles", type=int, default=64)
    p.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="file des tâches (récépissés, courriels) ; vide : tâches exécutées sur place",
    )
    p.add_argument("--scenarios", default="", help="noms séparés par des virgules (défaut : tous)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = arguments(argv)
    args.utilisateurs = args.utilisateurs or args.workers
    nom_base = args.base or f"dauphin_bench_{args.demandes}"
    instance = Path(tempfile.mkdtemp(prefix="dauphin-banc-"))
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DAUPHIN_ENV": "development",  # production exige HTTPS pour le cookie de session (boucle locale)
        "DAUPHIN_SECRET_KEY": secrets.token_hex(32),
        "DAUPHIN_INSTANCE_PATH": str(instance),
        "DAUPHIN_REDIS_URL": args.redis,
        "DAUPHIN_MAIL_SERVER": "",
    }
    url = f"{args.serveur_pg}/{nom_base}"
    if args.reutiliser:
        chargement = None
    else:
        journal(f"Base {nom_base} : création, migrations, `flask seed scale --requests {args.demandes}`…")
        url = creer_base(args.serveur_pg, nom_base)
        env["DAUPHIN_DATABASE_URL"] = url
        flask(env, "db", "upgrade")
        debut = time.perf_counter()
        flask(env, "seed", "scale", "--requests", str(args.demandes))
        chargement = round(time.perf_counter() - debut, 1)
        journal(f"Chargement : {chargement} s")
    env["DAUPHIN_DATABASE_URL"] = url
    dsn = dsn_psycopg(url)
    journal(
        "VACUUM (ANALYZE) et CHECKPOINT : carte de visibilité, statistiques et pages écrites sur disque, "
        "comme après le passage de l'autovacuum et du checkpointer…"
    )
    duree_vacuum = vacuum_analyze(dsn)

    journal("Préparation : comptes de mesure, brouillons complets, lignes à aviser…")
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DAUPHIN_DATABASE_URL",
                "DAUPHIN_INSTANCE_PATH",
                "DAUPHIN_ENV",
                "DAUPHIN_SECRET_KEY",
                "DAUPHIN_REDIS_URL",
            )
        }
    )
    from bench.preparation import preparer
    from dauphin import create_app

    app = create_app()
    # Le SQL rejoué seul et les contrôles en base : avec les réglages de session du portail.
    options_session = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})
    dsn = psycopg.conninfo.make_conninfo(dsn, **options_session)
    with app.app_context():
        plan = preparer(args.utilisateurs, args.iterations_transition + 1, args.rafale)
    brancher_conditionnels(app)
    journal(
        f"Plan : financeur {plan['instruction']['organisation_id']} "
        f"({plan['instruction']['lignes']} lignes), "
        f"structure {plan['tableau']['structure_id']} ({plan['tableau']['demandes']} demandes), "
        f"export : campagne {plan['export']['campagne_id']} ({plan['export']['demandes']} demandes), "
        f"comité : {plan['vote']['points']} dossiers, "
        f"{len(plan['rafale'])} brouillons pour la rafale."
    )

    env_serveur = {**env, "DAUPHIN_BENCH": "1"}
    serveur = demarrer_gunicorn(env_serveur, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    sessions = Sessions(base, plan["mot_de_passe"])
    resultat = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "demandes": args.demandes,
        "chargement_s": chargement,
        "vacuum_analyze_s": duree_vacuum,
        "machine": machine(dsn, args.workers),
        "utilisateurs": args.utilisateurs,
        "iterations": {
            "page": args.iterations_page,
            "transition": args.iterations_transition,
            "par_variante": args.requetes_par_variante,
        },
        "taches": "file Redis (non exécutées pendant le banc)" if args.redis else "exécutées sur place",
        "scenarios": {},
        "limites": {},
        "absents": list(ABSENTS),
    }
    try:
        journal("Limite : route témoin…")
        sessions.connecter(plan["instruction"]["comptes"][: args.utilisateurs])
        resultat["limites"]["route_vide"] = route_vide(
            sessions,
            plan["instruction"]["comptes"][: args.utilisateurs],
            args.iterations_page * 4,
            serveur.pid,
        )
        choisis = [s for s in args.scenarios.split(",") if s] or list(REGISTRE)
        for nom in choisis:
            journal(f"Scénario {nom}…")
            # La vitesse de la machine virtuelle change d'une minute à l'autre : la route témoin est aussi
            # mesurée juste avant chaque scénario, et le rapport du scénario s'y réfère.
            temoin = route_vide(
                sessions,
                plan["instruction"]["comptes"][: args.utilisateurs],
                args.iterations_page,
                serveur.pid,
            )
            mesure = executer_scenario(REGISTRE[nom], plan, sessions, args, instance, dsn, serveur.pid)
            mesure["route_temoin_rps"] = temoin.get("debit_rps")
            mesure["route_temoin_p50_ms"] = temoin.get("p50_ms")  # le plancher du serveur à ce moment
            if REGISTRE[nom].taille is not None:
                mesure["taille"] = REGISTRE[nom].taille(plan)
            resultat["scenarios"][nom] = mesure
            journal(
                f"  {mesure.get('debit_rps')} req/s, p50 {mesure.get('p50_ms')} ms, "
                f"p95 {mesure.get('p95_ms')} ms, "
                f"erreurs {mesure.get('erreurs')}, SQL/req {mesure.get('sql_par_requete')}, "
                f"SQL seul {mesure.get('sql_direct_p50_ms')} ms, "
                f"CPU app {mesure.get('cpu_app_ms')} ms + base {mesure.get('cpu_base_ms')} ms, "
                f"route témoin {mesure['route_temoin_rps']} req/s"
            )
            for exemple in mesure.get("exemples_erreurs", []):
                journal(f"  erreur : {exemple}")
        sessions.fermer()
        if args.rafale:
            resultat["rafale"] = rafale(base, plan, args, env, dsn)
            journal(f"Rafale : {json.dumps(resultat['rafale'].get('controle'), ensure_ascii=False)}")
    finally:
        resultat["machine"]["charge_fin"] = " ".join(f"{c:.1f}".replace(".", ",") for c in os.getloadavg())
        serveur.terminate()
        serveur.wait(30)
        vider_file(args.redis)
        shutil.rmtree(instance, ignore_errors=True)
        if not args.garder and not args.reutiliser:
            supprimer_base(args.serveur_pg, nom_base)

    RESULTATS.mkdir(parents=True, exist_ok=True)
    (RESULTATS / f"{args.demandes}.json").write_text(
        json.dumps(resultat, ensure_ascii=False, indent=2) + "\n"
    )
    precedent = None
    for autre in sorted(RESULTATS.glob("*.json")):
        if autre.stem.isdigit() and int(autre.stem) < args.demandes:
            precedent = json.loads(autre.read_text())  # le plus grand volume inférieur : la croissance
    texte = rapport.rapport_markdown(resultat, precedent)
    (RESULTATS / f"{args.demandes}.md").write_text(texte)
    print()
    print(texte)
    return 0


def vider_file(url: str) -> None:
    """Les tâches déposées pendant le banc (récépissés, courriels) sont abandonnées avec la base."""
    if not url:
        return
    try:
        from redis import Redis
        from rq import Queue

        Queue("dauphin", connection=Redis.from_url(url, socket_timeout=2)).empty()
    except Exception as erreur:  # noqa: BLE001 — le banc a fini ; un Redis absent ne change rien
        journal(f"File Redis non vidée : {erreur}")


if __name__ == "__main__":
    sys.exit(main())
