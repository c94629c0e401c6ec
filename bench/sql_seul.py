"""Le « SQL seul » et la latence, URL par URL, dans le processus, sur une base `flask seed scale`.

Chaque URL est demandée (client de test Flask) ; ses ordres SQL sont capturés, puis rejoués un à un en
`EXPLAIN (ANALYZE, TIMING OFF, BUFFERS)` dans une transaction annulée : la somme des temps de planification
et d'exécution (médiane de cinq rejeux) donne le SQL seul, peu sensible à la charge de la machine (le
serveur ne fait que lui) ; la somme des blocs lus (tampons partagés), pas du tout. La latence (p50/p95
sur `--repetitions`) la suit, elle, de près. La charge moyenne
(loadavg) est affichée avec chaque série : sur une machine partagée, une latence sans elle ne dit rien.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_volume \\
        .venv/bin/python -m bench.sql_seul [--repetitions 15] [--plans] [--json resultat.json] \\
            [--filtre "q="] [--mots quartier,jeunes,centre,2027]

Les mots cherchés (`MOTS`, ou ceux de `--mots`) sont des mots fréquents des intitulés du jeu (« quartier » :
14 %) ; `--filtre` ne garde que les URL qui contiennent son texte ; les pages profondes
sont des pages qui existent de l'onglet « terminées » : son milieu et sa dernière lues par leur numéro, et
le milieu atteint par le lien « page suivante » (curseur) de la page d'avant.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import time

import psycopg
from flask import g
from sqlalchemy import event, func, select

from bench.pages_en_volume import MOT_DE_PASSE, compte
from bench.preparation import le_plus_frequent
from dauphin import create_app
from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    Demande,
    LigneFinancement,
    MembreOrganisation,
    MembreStructure,
    Pilotage,
    RoleOrganisation,
    RoleStructure,
)

MOTS = ("quartier", "jeunes", "association", "2026", "ateliers", "accompagnement")


def charge() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sql_seul(dsn: str, ordres: list[tuple[str, object]], plans: bool) -> tuple[float, list[str], int]:
    """Somme (planification + exécution) des ordres rejoués en EXPLAIN ANALYZE ; les plans si demandé ;
    les blocs lus (tampons partagés trouvés ou lus, exécution et planification) : le chiffre que la charge
    de la machine ne change pas."""
    total, textes, blocs = 0.0, [], 0
    with (
        psycopg.connect(dsn) as connexion,
        connexion.transaction(force_rollback=True),
        connexion.cursor() as curseur,
    ):
        # Les réglages des connexions du portail (dauphin.extensions : ni requête parallèle ni JIT)
        curseur.execute("SET max_parallel_workers_per_gather = 0")
        curseur.execute("SET jit = off")
        for ordre, parametres in ordres:
            if not ordre.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            # TIMING OFF : sans lire l'horloge à chaque ligne de chaque nœud, ce qui double sous charge
            # le temps d'un plan qui parcourt 20 000 entrées d'index
            curseur.execute("EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON) " + ordre, parametres or {})
            plan = curseur.fetchone()[0][0]
            total += plan["Planning Time"] + plan["Execution Time"]
            for partie in (plan["Plan"], plan.get("Planning", {})):
                blocs += partie.get("Shared Hit Blocks", 0) + partie.get("Shared Read Blocks", 0)
            if plans:
                curseur.execute("EXPLAIN (ANALYZE, BUFFERS) " + ordre, parametres or {})
                textes.append(ordre[:300] + "\n" + "\n".join(r[0] for r in curseur.fetchall()))
    return total, textes, blocs


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--repetitions", type=int, default=15)
    arguments.add_argument("--plans", action="store_true")
    arguments.add_argument("--json")
    arguments.add_argument("--filtre", default="")
    arguments.add_argument("--mots", help="les mots cherchés, séparés par des virgules (défaut : MOTS)")
    options = arguments.parse_args()
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    dsn = re.sub(r"^postgresql\+\w+://", "postgresql://", app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        # Le financeur qui a le plus de lignes et la structure qui a le plus de demandes (les pages les plus
        # lourdes), choisis comme le banc HTTP les choisit
        organisation_id, _ = le_plus_frequent(LigneFinancement.organisation_id)
        structure_id, _ = le_plus_frequent(Demande.structure_id)
        # La campagne la plus proche de 1 000 demandes transmises, et son contrat
        campagne_id, contrat_id, taille = db.session.execute(
            select(Campagne.id, Campagne.contrat_id, func.count())
            .join(Demande, Demande.campagne_id == Campagne.id)
            .where(Demande.numero.is_not(None))
            .group_by(Campagne.id)
            .order_by(func.abs(func.count() - 1000))
            .limit(1)
        ).one()
        compte(
            "mesure.instructeur@mesure.dauphin.fr",
            lambda u: MembreOrganisation(
                utilisateur_id=u.id, organisation_id=organisation_id, role=RoleOrganisation.instructeur
            ),
        )
        compte(
            "mesure.porteur@mesure.dauphin.fr",
            lambda u: MembreStructure(
                utilisateur_id=u.id, structure_id=structure_id, role=RoleStructure.signataire
            ),
        )
        compte(
            "mesure.pilote@mesure.dauphin.fr",
            lambda u: Pilotage(utilisateur_id=u.id, contrat_id=contrat_id, organisation_id=organisation_id),
        )
        demande_id = db.session.scalar(
            select(LigneFinancement.demande_id)
            .where(LigneFinancement.organisation_id == organisation_id)
            .order_by(LigneFinancement.demande_id.desc())
            .limit(1)
        )
        terminees = db.session.scalar(
            select(func.count())
            .select_from(LigneFinancement)
            .where(
                LigneFinancement.organisation_id == organisation_id,
                LigneFinancement.statut.in_(("refusee", "soldee", "abandonnee")),
            )
        )
        derniere = max(1, -(-terminees // app.config["PAGE_TAILLE"]))
        nombre = db.session.scalar(select(func.count()).select_from(Demande))
        instruction = (
            ["/instruction/"]
            + [f"/instruction/?q={m}" for m in (options.mots.split(",") if options.mots else MOTS)]
            + [
                "/instruction/?statut=en_instruction",
                "/instruction/?statut=sollicitee",
                f"/instruction/?onglet=terminees&page={max(1, derniere // 2)}",
                f"/instruction/?onglet=terminees&page={derniere}",
                f"suivante:/instruction/?onglet=terminees&page={max(1, derniere // 2 - 1)}",
            ]
        )
        urls = (
            ("mesure.instructeur@mesure.dauphin.fr", instruction + [f"/dossiers/{demande_id}"]),
            ("mesure.porteur@mesure.dauphin.fr", ["/mes-demandes/"]),
            ("mesure.pilote@mesure.dauphin.fr", [f"/pilotage/programmation/{campagne_id}"]),
        )
        capture: list | None = None

        def capturer(conn, cursor, statement, parameters, context, executemany):
            if capture is not None:
                capture.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capturer)
        print(f"{nombre} demandes ; financeur {organisation_id} ; campagne {campagne_id} ({taille} demandes)")
        print("| URL | statut | ordres SQL | SQL seul | blocs lus | p50 | p95 | charge (1, 5, 15 min) |")
        print("|---|---|---|---|---|---|---|---|")
        resultats = []
        for email, liste in urls:
            g.pop("_login_user", None)
            client = app.test_client()
            client.post("/compte/connexion", data={"email": email, "mot_de_passe": MOT_DE_PASSE})
            for url in liste:
                if url.startswith("suivante:"):  # la page suivante de cette page, par son lien (curseur)
                    page_html = client.get(url.removeprefix("suivante:")).get_data(as_text=True)
                    lien = re.search(r'href="([^"]+)" title="Page suivante"', page_html)
                    url = html.unescape(lien.group(1)) if lien else url.removeprefix("suivante:")
                if options.filtre not in url:
                    continue
                client.get(url)  # chauffe
                durees = []
                for _ in range(options.repetitions):
                    debut = time.perf_counter()
                    reponse = client.get(url)
                    durees.append((time.perf_counter() - debut) * 1000)
                capture = []
                client.get(url)
                ordres, capture = capture, None
                # Le médian de cinq rejeux : une machine partagée ralentit l'un ou l'autre
                rejeux = [sql_seul(dsn, ordres, options.plans and i == 0) for i in range(5)]
                seul, plans = statistics.median(r[0] for r in rejeux), rejeux[0][1]
                blocs = rejeux[-1][2]  # le dernier rejeu : à chaud, comme la page servie
                durees.sort()
                p95 = durees[min(len(durees) - 1, round(0.95 * (len(durees) - 1)))]
                ligne = {
                    "url": url,
                    "statut": reponse.status_code,
                    "ordres": len(ordres),
                    "sql_seul_ms": round(seul, 1),
                    "blocs": blocs,
                    "p50_ms": round(statistics.median(durees), 1),
                    "p95_ms": round(p95, 1),
                    "charge": charge(),
                }
                resultats.append(ligne)
                print(
                    f"| `{url}` | {reponse.status_code} | {len(ordres)} | {seul:.1f} ms | {blocs} | "
                    f"{ligne['p50_ms']:.0f} ms | {p95:.0f} ms | {ligne['charge']} |",
                    flush=True,
                )
                for plan in plans:
                    print(plan, "\n")
        if options.json:
            with open(options.json, "w") as fichier:
                json.dump({"demandes": nombre, "resultats": resultats}, fichier, indent=1)


if __name__ == "__main__":
    main()
