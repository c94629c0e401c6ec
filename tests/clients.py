"""Plusieurs clients de test dans un même test.

Les tests gardent un contexte d'application ouvert : chaque requête le réutilise, et Flask-Login garde
l'utilisateur chargé dans `g`. Sans précaution, le second client agirait sous le compte du premier (et
sa connexion serait même ignorée : « déjà connecté »). Ce client recharge l'utilisateur de sa propre
session à chaque requête.
"""

from __future__ import annotations

from flask import g


class ClientIsole:
    def __init__(self, client):
        self.client = client

    def __getattr__(self, nom):
        methode = getattr(self.client, nom)
        if nom not in ("get", "post", "open"):
            return methode

        def requete(*args, **kwargs):
            g.pop("_login_user", None)
            return methode(*args, **kwargs)

        return requete
