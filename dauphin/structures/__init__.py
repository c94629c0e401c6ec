"""Inscription d'une structure par son SIRET, sa fiche, ses membres (invitations, retraits, accès)."""

from flask import Blueprint

bp = Blueprint("structures", __name__, url_prefix="/structures")
