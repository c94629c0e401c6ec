"""La recherche plein texte (PostgreSQL) : vecteurs tenus par la base, requête, rang.

Sur PostgreSQL, la migration 0024 donne à chaque demande et à chaque ligne de financement une colonne
`recherche` (tsvector : intitulé en poids A, raison sociale et sigle de la structure en poids B ;
configurations `dauphin_fr` = français + unaccent, et `dauphin_simple` = mots entiers sans accent), tenue
par des déclencheurs, et deux index GIN composites : (organisation_id, recherche) pour les lignes d'un
financeur, (campagne_id, recherche) pour les dossiers des contrats. Le
périmètre et le mot se croisent dans l'index : « quartier » (14 % des intitulés) ne lit que les lignes du
financeur qui le contiennent.

Ces colonnes ne sont pas dans les modèles (SQLite ne les a pas) : on les nomme en texte. Sur SQLite, la
recherche reste le LIKE de `dauphin.services.instruction.condition_recherche`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import ColumnElement, case, false, func, literal, literal_column
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR

from dauphin.extensions import db

CONFIGURATION = "public.dauphin_fr"
CONFIGURATION_SIMPLE = "public.dauphin_simple"

# Nommées en texte : elles s'ajoutent aux requêtes sur `demande` et `ligne_financement` sans autre FROM
VECTEUR_DEMANDE = literal_column("demande.recherche", TSVECTOR)
VECTEUR_LIGNE = literal_column("ligne_financement.recherche", TSVECTOR)

MOT = re.compile(r"\w+")


def plein_texte() -> bool:
    """La base a la recherche plein texte (PostgreSQL, migration 0024)."""
    return db.session.get_bind().dialect.name == "postgresql"


def mots(texte: str) -> list[str]:
    """Les mots tapés : seuls les caractères de mot passent, rien n'est une syntaxe."""
    return MOT.findall(texte.replace("_", " "))


@lru_cache(maxsize=512)
def requete(texte: str) -> ColumnElement | None:
    """La requête : chaque mot exigé, trouvé par sa racine française, sans accent (« jeunes » trouve
    « jeune », « quartiers » « quartier », « education » « Éducation »), ou tel quel s'il est un mot vide
    du français. None si le texte n'a aucun mot.

    Pas de recherche par début de mot (« quart:* ») : un préfixe se résout dans l'index GIN en lisant toutes
    les lignes du pays qui ont un mot commençant ainsi, avant de croiser le financeur (50 ms contre 8 ms
    pour « quartier » à 250 000 demandes) ; un numéro se cherche, lui, par morceau (trigrammes).

    Construite une fois par texte et par processus (une expression SQLAlchemy ne change pas ; les mots y sont
    des paramètres) : une page de l'espace d'instruction la demandait sept fois, à ~50 appels par mot."""
    resultat = None
    for mot in mots(texte):
        source = literal(f"'{mot}'")
        francais = func.to_tsquery(literal(CONFIGURATION, REGCONFIG), source, type_=TSQUERY)
        simple = func.to_tsquery(literal(CONFIGURATION_SIMPLE, REGCONFIG), source, type_=TSQUERY)
        # La racine française seule quand elle existe : un texte qui contient le mot a aussi sa racine
        # (même analyse des deux côtés), et l'index GIN ne décode plus qu'une liste (celle de « quarti »
        # et non aussi celle de « quartier ») ; le mot tel quel s'il est un mot vide du français
        # (« son », « les »), que seule la configuration simple garde. Constantes : PostgreSQL calcule
        # ce CASE une fois, en planifiant.
        terme = case((func.numnode(francais) > 0, francais), else_=simple)
        resultat = terme if resultat is None else resultat.op("&&")(terme)
    return resultat


def correspond(vecteur: ColumnElement, texte: str) -> ColumnElement[bool]:
    """vecteur @@ requête ; faux si le texte n'a aucun mot."""
    q = requete(texte)
    return false() if q is None else vecteur.op("@@")(q)


def rang(vecteur: ColumnElement, texte: str) -> ColumnElement:
    """La pertinence (ts_rank : un mot de l'intitulé compte plus qu'un mot du nom de la structure)."""
    q = requete(texte)
    return literal(0) if q is None else func.ts_rank(vecteur, q)
