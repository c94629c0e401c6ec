"""Erreurs métier levées par les services et traduites en réponses par l'application."""


class Conflit(Exception):
    """Le dossier a changé entre la lecture et l'écriture : rien n'a été enregistré."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or "Ce dossier a été modifié entre-temps par quelqu’un d’autre. Rien n’a été enregistré : "
            "rechargez la page pour voir sa version actuelle."
        )


class NonAutorise(Exception):
    """L'utilisateur n'a pas le droit de faire cette action sur cet objet."""
