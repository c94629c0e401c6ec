"""Recherche d'un financeur : le vecteur du nom de chaque structure, tenu par la base (PostgreSQL)

`dauphin_structures_par_morceau` (migration 0030) dit de chaque structure dont le nom ou le sigle contient le
texte cherché si la requête plein texte la trouve déjà (« entier ») : elle calculait pour cela le vecteur de
son nom, `dauphin_vecteur_recherche('', raison_sociale, sigle)`, à chaque recherche et pour chacune (865
structures pour « jeunes » : 14 ms sur les 36 du SQL seul de la page, à 25 000 comme à 250 000 demandes).

`structure.recherche` est ce vecteur, colonne générée (la fonction est IMMUTABLE) : PostgreSQL le recalcule
quand la raison sociale ou le sigle change, et la fonction ne fait plus que le comparer à la requête
(2 ms). Même vecteur, même comparaison : mêmes structures, mêmes résultats.

Rien sur SQLite (la recherche y reste un LIKE).

À savoir pour une migration future : PostgreSQL ne recalcule une colonne générée que quand la ligne change.
Si `dauphin_vecteur_recherche` ou la configuration de recherche `dauphin_fr` change, la migration qui les
change doit réécrire les vecteurs : `UPDATE structure SET raison_sociale = raison_sociale`.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 14:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0031"
down_revision = "0030"

FONCTION = r"""
CREATE OR REPLACE FUNCTION public.dauphin_structures_par_morceau(motif text, requete tsquery, maximum integer)
RETURNS TABLE (id integer, entier boolean) LANGUAGE sql STABLE SET enable_seqscan = off AS $$
    SELECT s.id, coalesce(s.recherche @@ requete, false)
    FROM public.structure s
    WHERE s.raison_sociale ILIKE motif ESCAPE '\' OR s.sigle ILIKE motif ESCAPE '\'
    LIMIT maximum
$$
"""

# Celle de la migration 0030 : le vecteur calculé à chaque appel
FONCTION_0030 = r"""
CREATE OR REPLACE FUNCTION public.dauphin_structures_par_morceau(motif text, requete tsquery, maximum integer)
RETURNS TABLE (id integer, entier boolean) LANGUAGE sql STABLE SET enable_seqscan = off AS $$
    SELECT s.id, coalesce(public.dauphin_vecteur_recherche('', s.raison_sociale, s.sigle) @@ requete, false)
    FROM public.structure s
    WHERE s.raison_sociale ILIKE motif ESCAPE '\' OR s.sigle ILIKE motif ESCAPE '\'
    LIMIT maximum
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE structure ADD COLUMN recherche tsvector GENERATED ALWAYS AS "
        "(public.dauphin_vecteur_recherche('', raison_sociale, sigle)) STORED"
    )
    op.execute(FONCTION)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FONCTION_0030)
    op.execute("ALTER TABLE structure DROP COLUMN IF EXISTS recherche")
