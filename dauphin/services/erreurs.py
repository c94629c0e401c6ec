"""Erreurs métier levées par les services et traduites en réponses par l'application
(`dauphin.vues.traiter_formulaire` pour les écrans, `dauphin.api` pour l'API)."""

from __future__ import annotations


class Conflit(Exception):
    """Le dossier a changé entre la lecture et l'écriture : rien n'a été enregistré (409)."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or "Ce dossier a été modifié entre-temps par quelqu’un d’autre. Rien n’a été enregistré : "
            "rechargez la page pour voir sa version actuelle."
        )


class NonAutorise(Exception):
    """L'utilisateur n'a pas le droit de faire cette action sur cet objet (403)."""


class Refus(Exception):
    """Une règle du service refuse la saisie ; l'usager peut la corriger (422). Le message s'affiche à
    côté du champ `champ` du formulaire, ou en tête du formulaire si `champ` est None."""

    def __init__(self, message: str, champ: str | None = None):
        super().__init__(message)
        self.message, self.champ = message, champ

    @property
    def problemes(self) -> list[tuple[str | None, str]]:
        """(champ, message) de chaque problème : une sous-classe peut en signaler plusieurs."""
        return [(self.champ, self.message)]
