"""Jeux de données : référentiel commun, démonstration (`flask seed demo`) et volume (`flask seed scale`)."""
