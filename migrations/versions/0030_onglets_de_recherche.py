"""Recherche d'un financeur : un index GIN partiel par onglet (PostgreSQL)

Les comptes d'une recherche s'arrêtent à 1 000 par onglet (`dauphin.services.instruction.PLAFOND_COMPTE`) :
chaque onglet est compté par sa propre sous-requête LIMIT. Pour qu'elle ne lise dans la table que les lignes
trouvées de son onglet (au plus 1 001), le vecteur de recherche et le numéro des lignes sont indexés une
fois par onglet, avec pour prédicat la condition de l'onglet telle que le code l'écrit
(`conditions_onglets(..., constantes=True)` : statuts en toutes lettres) ; `tests/test_recherche_plafond.py`
vérifie sur PostgreSQL que les deux textes concordent. Les index complets restent (API, recherche sans
onglet).

Et une fonction `dauphin_structures_par_morceau(motif, requete, maximum)` : les structures dont le nom ou le
sigle contient le texte (LIKE, index à trigrammes), et si la requête plein texte de la page les trouve déjà
par le vecteur de recherche (même analyse que lui : « Simplon.co » y est un seul mot). Elle interdit le parcours
séquentiel : le planificateur sous-estime le coût d'ILIKE et lisait les 11 000 noms un à un pour
« association » (16 ms) au lieu de ses 855 structures par l'index (2 ms).

Rien sur SQLite (la recherche y reste un LIKE).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 11:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"

# Le prédicat de chaque onglet d'un financeur (`conditions_onglets("financeur", constantes=True)`)
ONGLETS = {
    "a_traiter": "statut IN ('sollicitee', 'prise_en_charge') AND statut_dossier != 'a_completer'",
    "suivies": "statut IN ('recevable', 'non_recevable', 'votee', 'convention_a_signer', 'engagee', "
    "'avance_versee') OR statut IN ('sollicitee', 'prise_en_charge') AND statut_dossier = 'a_completer'",
    "terminees": "statut IN ('refusee', 'soldee', 'abandonnee')",
}


FONCTION = r"""
CREATE FUNCTION public.dauphin_structures_par_morceau(motif text, requete tsquery, maximum integer)
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
    op.execute(FONCTION)
    for onglet, predicat in ONGLETS.items():
        op.execute(
            f"CREATE INDEX ix_ligne_financement_recherche_{onglet} ON ligne_financement "
            f"USING gin (organisation_id, recherche) WHERE {predicat}"
        )
        op.execute(
            f"CREATE INDEX ix_ligne_financement_numero_trgm_{onglet} ON ligne_financement "
            f"USING gin (organisation_id, numero gin_trgm_ops) WHERE {predicat}"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS public.dauphin_structures_par_morceau(text, tsquery, integer)")
    for onglet in ONGLETS:
        op.execute(f"DROP INDEX IF EXISTS ix_ligne_financement_recherche_{onglet}")
        op.execute(f"DROP INDEX IF EXISTS ix_ligne_financement_numero_trgm_{onglet}")
