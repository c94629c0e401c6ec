"""Allers-retours entre le portail et PostgreSQL, par requête d'une page, tels que psycopg les envoie.

    DAUPHIN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/COPIE DAUPHIN_REDIS_URL= \\
        .venv/bin/python -m bench.allers_retours "i:/compte/" "i:/dossiers/DOSSIER" "p:/mes-demandes/"

i = instructeur du financeur qui a le plus de lignes, p = signataire de la structure qui a le plus de
demandes (comptes de mesure créés une fois, comme dans `bench.pages_en_volume` : à lancer sur une copie).
DOSSIER = un dossier de ce financeur. Pour chaque page, après cinq affichages de mise en train, compte sur
N affichages (20 par défaut) ce que psycopg envoie et attend : commandes (BEGIN, COMMIT, ROLLBACK,
DEALLOCATE), ordres exécutés sans préparation (le ping du pool compris), préparations, exécutions
d'ordres préparés. Chaque envoi attend sa réponse : un envoi, un aller-retour. Compte à part les
ordres planifiés par PostgreSQL à chaque page (ordres non préparés et préparations), qu'un ordre préparé
réutilisé n'a plus à planifier.
"""

from __future__ import annotations

import collections
import os
import sys

from psycopg import _connection_base, _cursor_base

from bench.pages_en_volume import INSTRUCTEUR, MOT_DE_PASSE, PORTEUR, comptes_de_mesure
from dauphin import create_app
from dauphin.extensions import db

envois: collections.Counter = collections.Counter()


def _compter(classe, nom: str, etiquette) -> None:
    origine = getattr(classe, nom)

    def compte_puis_envoie(self, premier, *args, **kwargs):
        envois[etiquette(premier)] += 1
        return origine(self, premier, *args, **kwargs)

    setattr(classe, nom, compte_puis_envoie)


def instrumenter() -> None:
    _compter(_connection_base.BaseConnection, "_exec_command", lambda ordre: bytes(ordre).split()[0].decode())
    _compter(_cursor_base.BaseCursor, "_execute_send", lambda _q: "ordre non préparé")
    _compter(_cursor_base.BaseCursor, "_send_prepare", lambda _n: "préparation")
    _compter(_cursor_base.BaseCursor, "_send_query_prepared", lambda _n: "ordre préparé")


def main(pages: list[str]) -> None:
    n = int(os.environ.get("N", 20))
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        dossier, _ = comptes_de_mesure()
        db.session.remove()
    instrumenter()
    for page in pages:
        role, _, url = page.partition(":")
        url = url.replace("DOSSIER", str(dossier))
        client = app.test_client()
        email = {"i": INSTRUCTEUR, "p": PORTEUR}[role]
        client.post("/compte/connexion", data={"email": email, "mot_de_passe": MOT_DE_PASSE})
        for _ in range(5):
            client.get(url)
        envois.clear()
        for _ in range(n):
            statut = client.get(url).status_code
        total = sum(envois.values())
        planifies = envois["ordre non préparé"] + envois["préparation"]
        detail = ", ".join(f"{etiquette} {nombre / n:.1f}" for etiquette, nombre in sorted(envois.items()))
        print(
            f"{role} {url} [{statut}] {total / n:.1f} allers-retours/req, "
            f"{planifies / n:.1f} planifiés ({detail})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
