"""Création de compte, confirmation de l'adresse électronique, acceptation des invitations."""

from flask import Blueprint

bp = Blueprint("comptes", __name__, url_prefix="/compte")
