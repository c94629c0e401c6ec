"""Compter les requêtes SQL d'une page : les tests « nombre de requêtes borné »."""

from __future__ import annotations

from sqlalchemy import event


class Compteur:
    """Compte les requêtes SQL envoyées par le moteur pendant une requête HTTP."""

    def __init__(self, moteur):
        self.moteur, self.n, self.ordres = moteur, 0, []

    def __call__(self, _conn, _curseur, ordre, *_):
        self.n += 1
        self.ordres.append(ordre)

    def mesurer(self, client, url, **options) -> int:
        """Les requêtes SQL d'un second `GET url` (le premier remplit les caches : gabarits, etc.), qui doit
        répondre 200. `options` : passées au client de test (`headers=…`)."""
        client.get(url, **options)
        event.listen(self.moteur, "before_cursor_execute", self)
        try:
            self.n, self.ordres = 0, []
            reponse = client.get(url, **options)
            assert reponse.status_code == 200, url
            return self.n
        finally:
            event.remove(self.moteur, "before_cursor_execute", self)


def ordres_des_pages(client, moteur, urls) -> list[str]:
    """Les ordres SQL de la seconde vue de chaque page (`Compteur.mesurer`), à la suite. `client` : un
    `ClientIsole` connecté (tests/clients.py), pour que chaque requête relise sa propre session."""
    compteur, ordres = Compteur(moteur), []
    for url in urls:
        compteur.mesurer(client, url)
        ordres += compteur.ordres
    return ordres
