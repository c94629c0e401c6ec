"""Un vrai serveur S3 sur la boucle locale (moto en mode serveur : le protocole S3 sur HTTP), pour les
tests du stockage en seau et le test des deux serveurs d'application."""

from __future__ import annotations

import secrets
import socket
from contextlib import contextmanager

ACCES = {"region": "us-east-1", "cle_acces": "cle-de-test", "secret": "secret-de-test"}


def port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serveur_s3():
    """Démarre moto sur un port libre ; rend son adresse (http://127.0.0.1:PORT)."""
    from moto.server import ThreadedMotoServer

    port = port_libre()
    serveur = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    serveur.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serveur.stop()


def nouveau_seau(adresse: str, prefixe: str = "dauphin"):
    """Un seau neuf (nom aléatoire) et le stockage qui y range, sous `prefixe`."""
    from dauphin.stockage import SeauS3

    nom = f"seau-{secrets.token_hex(6)}"
    stockage = SeauS3(nom, prefixe, endpoint=adresse, **ACCES)
    stockage.client.create_bucket(Bucket=nom)
    return stockage


def variables_s3(adresse: str) -> dict[str, str]:
    """Les variables DAUPHIN_S3_* d'un processus (gunicorn, travailleur, commande) qui parle à ce serveur."""
    return {
        "DAUPHIN_S3_ENDPOINT_URL": adresse,
        "DAUPHIN_S3_REGION": ACCES["region"],
        "DAUPHIN_S3_ACCESS_KEY_ID": ACCES["cle_acces"],
        "DAUPHIN_S3_SECRET_ACCESS_KEY": ACCES["secret"],
    }
