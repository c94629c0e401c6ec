"""Profil de pages dans le processus (client de test Flask, sans réseau), sur une base `flask seed scale` :
appels de fonctions Python par requête (cProfile : la mesure qui ne dépend pas de la charge de la machine),
ordres SQL par requête et CPU au p50 (sans profileur), URL par URL.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dauphin_volume DAUPHIN_REDIS_URL= \\
        N=40 TOP=30 .venv/bin/python -m bench.profil_pages "i:/instruction/?q=jeunes" "i:/dossiers/DOSSIER" \\
        "p:/mes-demandes/" "e:COURRIEL:/pilotage/"

i : l'instructeur de mesure du financeur qui a le plus de lignes ; p : le signataire de mesure de la
structure qui a le plus de demandes (comptes du banc, `bench.pages_en_volume.compte`, créés au besoin :
à lancer sur une copie de la base) ; e:COURRIEL:URL : un autre compte (mot de passe du banc, ou `MDP`).
DOSSIER est remplacé par un dossier transmis du financeur, DEMANDE par une demande numérotée de la
structure (la vue d'un dossier pour les deux rôles : "i:/dossiers/DOSSIER" "p:/dossiers/DEMANDE").
GROUPES=1 : le temps propre regroupé par paquet (sqlalchemy, psycopg, gabarits, portail…). HORLOGE=cpu :
cProfile compte le temps CPU du processus, et non le temps mur (où l'envoi d'un ordre à psycopg compte
l'attente du serveur qui l'exécute, quand la machine est chargée).
TOP : les fonctions les plus coûteuses (TRI=cumulative pour le temps cumulé ; tottime par défaut). Se copie
tel quel dans une extraction du code d'avant (`git archive`) pour comparer.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import sys
import time

from sqlalchemy import event

from bench.pages_en_volume import INSTRUCTEUR, MOT_DE_PASSE, PORTEUR, comptes_de_mesure
from dauphin import create_app
from dauphin.extensions import db


def paquet(fichier: str) -> str:
    """Le paquet d'un fichier de code : site-packages/<paquet>, les gabarits, le portail, le reste."""
    if "site-packages/" in fichier:
        return fichier.split("site-packages/", 1)[1].split("/", 1)[0]
    if fichier.endswith(".html"):
        return "gabarits (jinja)"
    if "/dauphin/" in fichier or "/forms/" in fichier or "/workflows/" in fichier:
        return "portail"
    return "python (stdlib, natif)"


def temps_par_paquet(stats: pstats.Stats, n: int) -> str:
    """Le temps propre (tottime, sous cProfile) par requête, regroupé par paquet : où va le CPU."""
    totaux: dict[str, float] = {}
    for (fichier, _ligne, _nom), (_cc, _nc, propre, _cum, _appelants) in stats.stats.items():
        cle = paquet(fichier)
        totaux[cle] = totaux.get(cle, 0.0) + propre
    somme = sum(totaux.values())
    ordre = sorted(totaux.items(), key=lambda x: -x[1])
    lignes = [f"  {nom:<28} {t * 1000 / n:6.2f} ms  {t / somme:5.1%}" for nom, t in ordre]
    return "\n".join(["  temps propre par paquet (sous cProfile), par requête :", *lignes])


def client_connecte(app, argument: str, dossier: int, demande: int, role_par_defaut: str | None = None):
    """« i:URL », « p:URL » ou « e:COURRIEL:URL » (l'URL seule : `role_par_defaut`) → (rôle, URL où DOSSIER
    et DEMANDE sont remplacés, client de test connecté sous ce compte)."""
    if role_par_defaut and argument[1:2] != ":":
        argument = f"{role_par_defaut}:{argument}"
    role, _, url = argument.partition(":")
    email, mot_de_passe = {"i": INSTRUCTEUR, "p": PORTEUR}.get(role), MOT_DE_PASSE
    if role == "e":
        email, _, url = url.partition(":")
        mot_de_passe = os.environ.get("MDP", MOT_DE_PASSE)
    url = url.replace("DOSSIER", str(dossier)).replace("DEMANDE", str(demande))
    client = app.test_client()
    client.post("/compte/connexion", data={"email": email, "mot_de_passe": mot_de_passe})
    return role, url, client


def main() -> None:
    n, top = int(os.environ.get("N", 40)), int(os.environ.get("TOP", 0))
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ordres: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cu, ordre, *_: ordres.append(ordre))
        dossier, demande = comptes_de_mesure()
        db.session.remove()
    for argument in sys.argv[1:]:
        role, url, client = client_connecte(app, argument, dossier, demande)
        for _ in range(5):  # chauffe
            client.get(url)
        ordres.clear()
        cpu = []
        for _ in range(n):
            debut = time.process_time()
            reponse = client.get(url)
            cpu.append((time.process_time() - debut) * 1000)
        par_requete = len(ordres) / n
        # HORLOGE=cpu : le temps CPU du processus (sans l'attente du serveur, comptée sinon dans l'envoi)
        horloge = time.process_time if os.environ.get("HORLOGE") == "cpu" else time.perf_counter
        profil = cProfile.Profile(horloge)
        for _ in range(n):
            profil.enable()
            client.get(url)
            profil.disable()
        sortie = io.StringIO()
        stats = pstats.Stats(profil, stream=sortie)
        print(
            f"{role} {url} [{reponse.status_code}] : {stats.total_calls // n} appels par requête, "
            f"{par_requete:.1f} ordres SQL, CPU p50 {statistics.median(cpu):.1f} ms",
            flush=True,
        )
        if os.environ.get("GROUPES"):
            print(temps_par_paquet(stats, n))
        if top:
            stats.sort_stats(os.environ.get("TRI", "tottime")).print_stats(top)
            print(sortie.getvalue())


if __name__ == "__main__":
    main()
