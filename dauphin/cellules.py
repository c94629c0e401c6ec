"""Ce que les lignes des listes écrites en Python (usager/tableau.py, instruction/tableau.py) écrivent une
fois par page plutôt qu'une fois par ligne : un texte par valeur (`ParValeur`), les adresses des demandes
échappées en deux morceaux (`adresses_de_demandes`)."""

from __future__ import annotations

from collections.abc import Callable

from dauphin.urls import modele_de_demande, url_de_demande
from forms.champs import echapper


class ParValeur(dict):
    """`valeur → texte` calculé à la première demande de la valeur (`ecrire`), puis relu."""

    def __init__(self, ecrire):
        super().__init__()
        self.ecrire = ecrire

    def __missing__(self, valeur):
        texte = self[valeur] = self.ecrire(valeur)
        return texte


def adresses_de_demandes(endpoint: str, **valeurs) -> Callable[[int], str]:
    """`ident → url_de_demande(endpoint, ident, **valeurs)` échappée : les morceaux autour de l'identifiant
    échappés une fois (un entier n'a rien à échapper)."""
    modele = modele_de_demande(endpoint, **valeurs)
    if modele is None:
        return lambda ident: echapper(url_de_demande(endpoint, ident, **valeurs))
    avant, apres = echapper(modele[0]), echapper(modele[1])
    return lambda ident: f"{avant}{int(ident)}{apres}"
