"""Schéma de la première version publiée (migrations 0001 à 0018 réunies)

L'histoire des migrations écrites pendant le développement (0001 à 0018) est réunie avant la première
version publiée : cette migration construit directement le schéma auquel elles aboutissaient, table par
table avec ses colonnes, contraintes et index définitifs. Elle garde le numéro 0018 : une base de
développeur déjà à 0018 n'a rien à faire ; une base à une révision plus ancienne se reconstruit
(supprimer instance/dauphin.sqlite3 puis `make run`).

Particularités :
- sur PostgreSQL, l'extension pg_trgm (« de confiance » depuis PostgreSQL 13 : le propriétaire de la base
  peut la créer) sert les index GIN à trigrammes de la recherche libre (intitulé et numéro des demandes,
  raison sociale et sigle des structures) ; sur SQLite, ces index sont des index ordinaires ;
- la ligne de financement recopie de sa demande la structure, l'exercice, le numéro et la date de
  transmission, pour que l'espace d'instruction d'un gros financeur se lise sur ses seules lignes ;
- le journal des dossiers est chaîné (empreinte SHA-256 de chaque écriture et de la précédente).

Revision ID: 0018
Revises:
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from dauphin.models.types import Horodatage, Montant

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = None


def enumeration(nom, *valeurs, longueur=32):
    """Une énumération stockée en VARCHAR (pas de type natif, pas de CHECK), comme dans les modèles."""
    return sa.Enum(*valeurs, name=nom, native_enum=False, length=longueur)


def type_piece():
    return enumeration(
        "typepiece",
        "statuts",
        "liste_dirigeants",
        "rib",
        "comptes_approuves",
        "rapport_activite",
        "budget_structure",
        "convention_signee",
        "recepisse",
        "notification",
        "convention",
        "autre",
    )


def role_structure():
    return enumeration("rolestructure", "signataire", "contributeur")


def cle_etrangere(table, colonne, cible, ondelete=None):
    """FOREIGN KEY (colonne) REFERENCES cible, nommée comme le veut la convention des modèles."""
    table_cible = cible.split(".")[0]
    return sa.ForeignKeyConstraint(
        [colonne], [cible], name=op.f(f"fk_{table}_{colonne}_{table_cible}"), ondelete=ondelete
    )


def trigrammes(*colonnes):
    """Options d'un index GIN à trigrammes sur PostgreSQL (index ordinaire sur SQLite)."""
    return {"postgresql_using": "gin", "postgresql_ops": dict.fromkeys(colonnes, "gin_trgm_ops")}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    # --- Référentiel : axes, numérotation, contrats de ville, organisations, structures, thématiques
    op.create_table(
        "axe_transversal",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_axe_transversal")),
    )
    op.create_table(
        "compteur_numero",
        sa.Column("exercice", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dernier", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("exercice", name=op.f("pk_compteur_numero")),
    )
    op.create_table(
        "contrat_de_ville",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("siren_porteur", sa.String(length=9), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("population_qpv", sa.Integer(), nullable=True),
        sa.Column("quorum_pourcentage", sa.Integer(), nullable=False),
        sa.Column(
            "regle_majorite", enumeration("reglemajorite", "simple", "absolue", "deux_tiers"), nullable=False
        ),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contrat_de_ville")),
        sa.UniqueConstraint("code", name=op.f("uq_contrat_de_ville_code")),
    )
    op.create_index(op.f("ix_contrat_de_ville_departement"), "contrat_de_ville", ["departement"])

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column(
            "type_organisation",
            enumeration(
                "typeorganisation",
                "etat",
                "commune",
                "epci",
                "departement",
                "region",
                "caf",
                "bailleur",
                "autre",
            ),
            nullable=False,
        ),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=True),
        sa.Column("est_financeur", sa.Boolean(), nullable=False),
        sa.Column("email_contact", sa.String(length=254), nullable=True),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("nom", name=op.f("uq_organisation_nom")),
    )
    op.create_table(
        "structure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("rna", sa.String(length=10), nullable=True),
        sa.Column("raison_sociale", sa.String(length=200), nullable=False),
        sa.Column("sigle", sa.String(length=50), nullable=True),
        sa.Column(
            "forme_juridique",
            enumeration(
                "formejuridique",
                "association",
                "commune",
                "epci",
                "gip",
                "etablissement_public",
                "bailleur",
                "entreprise",
                "autre",
            ),
            nullable=False,
        ),
        sa.Column("adresse", sa.String(length=250), nullable=False),
        sa.Column("code_postal", sa.String(length=5), nullable=False),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("code_insee", sa.String(length=5), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("telephone", sa.String(length=20), nullable=True),
        sa.Column("representant_civilite", sa.String(length=10), nullable=True),
        sa.Column("representant_nom", sa.String(length=100), nullable=False),
        sa.Column("representant_prenom", sa.String(length=100), nullable=False),
        sa.Column("representant_qualite", sa.String(length=100), nullable=False),
        sa.Column("agrements", sa.String(length=500), nullable=True),
        sa.Column("reconnue_utilite_publique", sa.Boolean(), nullable=False),
        sa.Column("nb_benevoles", sa.Integer(), nullable=True),
        sa.Column("nb_salaries", sa.Integer(), nullable=True),
        sa.Column("etp_salaries", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("nb_volontaires", sa.Integer(), nullable=True),
        sa.Column("nb_adherents", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structure")),
        sa.UniqueConstraint("siret", name=op.f("uq_structure_siret")),
    )
    op.create_index(op.f("ix_structure_siren"), "structure", ["siren"])
    op.create_index(
        "ix_structure_nom_trgm",
        "structure",
        ["raison_sociale", "sigle"],
        **trigrammes("raison_sociale", "sigle"),
    )

    op.create_table(
        "thematique",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=10), nullable=True),
        sa.Column("ordre", sa.Integer(), nullable=False),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        cle_etrangere("thematique", "parent_code", "thematique.code"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_thematique")),
    )

    # --- Comptes
    op.create_table(
        "utilisateur",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("prenom", sa.String(length=100), nullable=False),
        sa.Column("nom", sa.String(length=100), nullable=False),
        sa.Column("mot_de_passe_hash", sa.String(length=255), nullable=False),
        sa.Column("jeton_session", sa.String(length=64), nullable=False),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("administrateur_national", sa.Boolean(), nullable=False),
        sa.Column("email_confirme_le", Horodatage(timezone=True), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("derniere_connexion_le", Horodatage(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_utilisateur")),
        sa.UniqueConstraint("email", name=op.f("uq_utilisateur_email")),
        sa.UniqueConstraint("jeton_session", name=op.f("uq_utilisateur_jeton_session")),
    )
    op.create_table(
        "aide_publique",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("annee", sa.Integer(), nullable=False),
        sa.Column("financeur", sa.String(length=200), nullable=False),
        sa.Column("montant", Montant(precision=14, scale=2), nullable=False),
        cle_etrangere("aide_publique", "structure_id", "structure.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aide_publique")),
    )
    op.create_index(op.f("ix_aide_publique_structure_id"), "aide_publique", ["structure_id"])

    op.create_table(
        "campagne",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contrat_id", sa.Integer(), nullable=False),
        sa.Column("exercice", sa.Integer(), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("date_ouverture", sa.Date(), nullable=False),
        sa.Column("date_cloture", sa.Date(), nullable=False),
        sa.Column("seuil_ecart_pourcentage", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("date_cloture >= date_ouverture", name=op.f("ck_campagne_dates_ordonnees")),
        cle_etrangere("campagne", "contrat_id", "contrat_de_ville.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campagne")),
        sa.UniqueConstraint("contrat_id", "exercice", name=op.f("uq_campagne_contrat_id_exercice")),
    )
    op.create_index(op.f("ix_campagne_exercice"), "campagne", ["exercice"])

    op.create_table(
        "compte_bancaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("titulaire", sa.String(length=200), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("domiciliation", sa.String(length=200), nullable=True),
        sa.Column("actif", sa.Boolean(), nullable=False),
        cle_etrangere("compte_bancaire", "structure_id", "structure.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_bancaire")),
    )
    op.create_index(op.f("ix_compte_bancaire_structure_id"), "compte_bancaire", ["structure_id"])

    op.create_table(
        "membre_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", enumeration("roleorganisation", "instructeur", "partenaire"), nullable=False),
        sa.Column("ajoute_le", Horodatage(timezone=True), nullable=False),
        cle_etrangere("membre_organisation", "organisation_id", "organisation.id"),
        cle_etrangere("membre_organisation", "utilisateur_id", "utilisateur.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membre_organisation")),
        sa.UniqueConstraint(
            "utilisateur_id",
            "organisation_id",
            name=op.f("uq_membre_organisation_utilisateur_id_organisation_id"),
        ),
    )
    op.create_index(
        op.f("ix_membre_organisation_organisation_id"), "membre_organisation", ["organisation_id"]
    )

    op.create_table(
        "membre_structure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("role", role_structure(), nullable=False),
        sa.Column("administrateur", sa.Boolean(), nullable=False),
        sa.Column("ajoute_le", Horodatage(timezone=True), nullable=False),
        cle_etrangere("membre_structure", "structure_id", "structure.id", ondelete="CASCADE"),
        cle_etrangere("membre_structure", "utilisateur_id", "utilisateur.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membre_structure")),
        sa.UniqueConstraint(
            "utilisateur_id", "structure_id", name=op.f("uq_membre_structure_utilisateur_id_structure_id")
        ),
    )
    op.create_index(op.f("ix_membre_structure_structure_id"), "membre_structure", ["structure_id"])
    # Un seul administrateur par structure (index unique partiel)
    op.create_index(
        "uq_membre_structure_un_administrateur",
        "membre_structure",
        ["structure_id"],
        unique=True,
        sqlite_where=sa.text("administrateur"),
        postgresql_where=sa.text("administrateur"),
    )

    op.create_table(
        "partenaire_contrat",
        sa.Column("contrat_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        cle_etrangere("partenaire_contrat", "contrat_id", "contrat_de_ville.id", ondelete="CASCADE"),
        cle_etrangere("partenaire_contrat", "organisation_id", "organisation.id"),
        sa.PrimaryKeyConstraint("contrat_id", "organisation_id", name=op.f("pk_partenaire_contrat")),
    )
    op.create_index(op.f("ix_partenaire_contrat_organisation_id"), "partenaire_contrat", ["organisation_id"])

    op.create_table(
        "pilotage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("contrat_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        cle_etrangere("pilotage", "contrat_id", "contrat_de_ville.id"),
        cle_etrangere("pilotage", "organisation_id", "organisation.id"),
        cle_etrangere("pilotage", "utilisateur_id", "utilisateur.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilotage")),
        sa.UniqueConstraint(
            "utilisateur_id", "contrat_id", name=op.f("uq_pilotage_utilisateur_id_contrat_id")
        ),
    )
    op.create_index(op.f("ix_pilotage_contrat_id"), "pilotage", ["contrat_id"])

    op.create_table(
        "qpv",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("communes_insee", sa.String(length=200), nullable=True),
        sa.Column("contrat_id", sa.Integer(), nullable=True),
        cle_etrangere("qpv", "contrat_id", "contrat_de_ville.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qpv")),
        sa.UniqueConstraint("code", name=op.f("uq_qpv_code")),
    )
    op.create_index(op.f("ix_qpv_contrat_id"), "qpv", ["contrat_id"])

    # --- Demandes
    op.create_table(
        "demande",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(length=20), nullable=True),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("campagne_id", sa.Integer(), nullable=False),
        sa.Column("exercice", sa.Integer(), nullable=False),
        sa.Column(
            "statut",
            enumeration(
                "statutdemande",
                "brouillon",
                "attente_attestation",
                "transmise",
                "en_instruction",
                "a_completer",
                "instruite",
                "programmee",
                "attribuee",
                "rejetee",
                "versee",
                "a_justifier",
                "justification_en_cours",
                "justification_a_modifier",
                "justifiee",
                "classee_sans_suite",
                "retiree",
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("responsable_nom", sa.String(length=200), nullable=True),
        sa.Column("responsable_fonction", sa.String(length=100), nullable=True),
        sa.Column("responsable_email", sa.String(length=254), nullable=True),
        sa.Column("responsable_telephone", sa.String(length=20), nullable=True),
        sa.Column("compte_bancaire_id", sa.Integer(), nullable=True),
        sa.Column("intitule", sa.String(length=250), nullable=True),
        sa.Column("objectifs", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("public_cible", sa.Text(), nullable=True),
        sa.Column("nb_beneficiaires", sa.Integer(), nullable=True),
        sa.Column("thematique_code", sa.String(length=10), nullable=True),
        sa.Column("date_debut", sa.Date(), nullable=True),
        sa.Column("date_fin", sa.Date(), nullable=True),
        sa.Column("moyens_humains", sa.Text(), nullable=True),
        sa.Column("indicateurs_evaluation", sa.Text(), nullable=True),
        sa.Column("renouvellement", sa.Boolean(), nullable=False),
        sa.Column("duree_annees", sa.Integer(), nullable=False),
        sa.Column("demande_precedente_id", sa.Integer(), nullable=True),
        sa.Column("atteste_par_id", sa.Integer(), nullable=True),
        sa.Column("atteste_le", Horodatage(timezone=True), nullable=True),
        sa.Column("transmise_le", Horodatage(timezone=True), nullable=True),
        sa.Column("cree_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("modifie_le", Horodatage(timezone=True), nullable=False),
        cle_etrangere("demande", "atteste_par_id", "utilisateur.id"),
        cle_etrangere("demande", "campagne_id", "campagne.id"),
        cle_etrangere("demande", "compte_bancaire_id", "compte_bancaire.id"),
        cle_etrangere("demande", "cree_par_id", "utilisateur.id"),
        cle_etrangere("demande", "demande_precedente_id", "demande.id"),
        cle_etrangere("demande", "structure_id", "structure.id"),
        cle_etrangere("demande", "thematique_code", "thematique.code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demande")),
        sa.UniqueConstraint("numero", name=op.f("uq_demande_numero")),
    )
    op.create_index("ix_demande_campagne_statut", "demande", ["campagne_id", "statut"])
    # Décomptes par onglet de l'espace d'instruction, par l'index seul
    op.create_index("ix_demande_exercice_statut", "demande", ["exercice", "statut", "id", "transmise_le"])
    op.create_index("ix_demande_structure_exercice", "demande", ["structure_id", "exercice"])
    op.create_index(op.f("ix_demande_thematique_code"), "demande", ["thematique_code"])
    op.create_index("ix_demande_transmise_le_id", "demande", ["transmise_le", "id"])
    # Programmation : les demandes d'une campagne dans l'ordre de leur numéro
    op.create_index("ix_demande_campagne_numero", "demande", ["campagne_id", "numero"])
    # Recherche libre : par l'index seul, puis par trigrammes (intitulé, numéro)
    op.create_index(
        "ix_demande_recherche",
        "demande",
        ["id", "statut", "transmise_le", "structure_id", "numero", "intitule"],
    )
    op.create_index(
        "ix_demande_texte_trgm", "demande", ["intitule", "numero"], **trigrammes("intitule", "numero")
    )
    # Index partiel des demandes à compléter (1 % des demandes)
    op.create_index(
        "ix_demande_a_completer",
        "demande",
        ["id"],
        postgresql_where=sa.text("statut = 'a_completer'"),
        sqlite_where=sa.text("statut = 'a_completer'"),
    )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("type_piece", type_piece(), nullable=False),
        sa.Column("nom_fichier", sa.String(length=255), nullable=False),
        sa.Column("cle_stockage", sa.String(length=64), nullable=False),
        sa.Column("type_mime", sa.String(length=100), nullable=False),
        sa.Column("taille", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("valable_jusqu_au", sa.Date(), nullable=True),
        sa.Column("depose_par_id", sa.Integer(), nullable=True),
        sa.Column("depose_le", Horodatage(timezone=True), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=True),
        sa.Column("archive_le", Horodatage(timezone=True), nullable=True),
        cle_etrangere("document", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("document", "depose_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("document", "structure_id", "structure.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("cle_stockage", name=op.f("uq_document_cle_stockage")),
    )
    op.create_index(op.f("ix_document_demande_id"), "document", ["demande_id"])
    op.create_index(op.f("ix_document_structure_id"), "document", ["structure_id"])

    op.create_table(
        "enveloppe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campagne_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("montant", Montant(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("montant >= 0", name=op.f("ck_enveloppe_montant_positif")),
        cle_etrangere("enveloppe", "campagne_id", "campagne.id", ondelete="CASCADE"),
        cle_etrangere("enveloppe", "organisation_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enveloppe")),
        sa.UniqueConstraint(
            "campagne_id", "organisation_id", name=op.f("uq_enveloppe_campagne_id_organisation_id")
        ),
    )
    op.create_index(op.f("ix_enveloppe_organisation_id"), "enveloppe", ["organisation_id"])

    op.create_table(
        "piece_requise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campagne_id", sa.Integer(), nullable=False),
        sa.Column("type_piece", type_piece(), nullable=False),
        sa.Column("obligatoire", sa.Boolean(), nullable=False),
        cle_etrangere("piece_requise", "campagne_id", "campagne.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_piece_requise")),
        sa.UniqueConstraint(
            "campagne_id", "type_piece", name=op.f("uq_piece_requise_campagne_id_type_piece")
        ),
    )
    op.create_table(
        "question_eligibilite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campagne_id", sa.Integer(), nullable=False),
        sa.Column("ordre", sa.Integer(), nullable=False),
        sa.Column("libelle", sa.String(length=500), nullable=False),
        sa.Column("reponse_attendue", sa.Boolean(), nullable=False),
        cle_etrangere("question_eligibilite", "campagne_id", "campagne.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_eligibilite")),
    )
    op.create_index(op.f("ix_question_eligibilite_campagne_id"), "question_eligibilite", ["campagne_id"])

    op.create_table(
        "courriel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destinataire", sa.String(length=254), nullable=False),
        sa.Column("sujet", sa.String(length=250), nullable=False),
        sa.Column("corps", sa.Text(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=True),
        sa.Column("statut", enumeration("statutcourriel", "en_attente", "envoye", "echec"), nullable=False),
        sa.Column("tentatives", sa.Integer(), nullable=False),
        sa.Column("derniere_erreur", sa.Text(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("envoye_le", Horodatage(timezone=True), nullable=True),
        sa.Column("corps_html", sa.Text(), nullable=True),
        cle_etrangere("courriel", "demande_id", "demande.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courriel")),
    )
    op.create_index(op.f("ix_courriel_demande_id"), "courriel", ["demande_id"])
    op.create_index("ix_courriel_statut_id", "courriel", ["statut", "id"])

    op.create_table(
        "demande_axe",
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("axe_code", sa.String(length=40), nullable=False),
        cle_etrangere("demande_axe", "axe_code", "axe_transversal.code"),
        cle_etrangere("demande_axe", "demande_id", "demande.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("demande_id", "axe_code", name=op.f("pk_demande_axe")),
    )
    op.create_table(
        "demande_qpv",
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("qpv_id", sa.Integer(), nullable=False),
        cle_etrangere("demande_qpv", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("demande_qpv", "qpv_id", "qpv.id"),
        sa.PrimaryKeyConstraint("demande_id", "qpv_id", name=op.f("pk_demande_qpv")),
    )
    op.create_index(op.f("ix_demande_qpv_qpv_id"), "demande_qpv", ["qpv_id"])

    op.create_table(
        "ligne_budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("compte", sa.String(length=4), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=True),
        sa.Column("montant", Montant(precision=14, scale=2), nullable=False),
        sa.Column("financeur_id", sa.Integer(), nullable=True),
        sa.Column("financeur_libelle", sa.String(length=200), nullable=True),
        sa.Column("ordre", sa.Integer(), nullable=False),
        cle_etrangere("ligne_budget", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("ligne_budget", "financeur_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ligne_budget")),
    )
    op.create_index(op.f("ix_ligne_budget_demande_id"), "ligne_budget", ["demande_id"])

    op.create_table(
        "ligne_financement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "statut",
            enumeration(
                "statutligne",
                "sollicitee",
                "prise_en_charge",
                "recevable",
                "non_recevable",
                "votee",
                "refusee",
                "convention_a_signer",
                "engagee",
                "avance_versee",
                "soldee",
                "abandonnee",
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("montant_demande", Montant(precision=14, scale=2), nullable=False),
        sa.Column("gestionnaire_id", sa.Integer(), nullable=True),
        sa.Column("montant_propose", Montant(precision=14, scale=2), nullable=True),
        sa.Column("motif_avis", sa.Text(), nullable=True),
        sa.Column("montant_vote", Montant(precision=14, scale=2), nullable=True),
        sa.Column("vote_le", sa.Date(), nullable=True),
        sa.Column("convention_requise", sa.Boolean(), nullable=False),
        sa.Column("convention_document_id", sa.Integer(), nullable=True),
        sa.Column("numero_engagement", sa.String(length=30), nullable=True),
        sa.Column("montant_verse", Montant(precision=14, scale=2), nullable=False),
        sa.Column("compte_rendu_valide", sa.Boolean(), nullable=False),
        sa.Column("acte_document_id", sa.Integer(), nullable=True),
        # Recopiés de la demande : structure, exercice, numéro et date de transmission
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("exercice", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(length=20), nullable=True),
        sa.Column("transmise_le", Horodatage(timezone=True), nullable=True),
        sa.CheckConstraint("montant_demande >= 0", name=op.f("ck_ligne_financement_montant_demande_positif")),
        sa.CheckConstraint(
            "montant_propose IS NULL OR montant_propose <= montant_demande",
            name=op.f("ck_ligne_financement_propose_borne"),
        ),
        sa.CheckConstraint(
            "montant_vote IS NULL OR montant_vote <= montant_demande",
            name=op.f("ck_ligne_financement_vote_borne"),
        ),
        sa.CheckConstraint(
            "montant_verse >= 0 AND montant_verse <= COALESCE(montant_vote, 0)",
            name=op.f("ck_ligne_financement_verse_borne"),
        ),
        cle_etrangere("ligne_financement", "acte_document_id", "document.id"),
        cle_etrangere("ligne_financement", "convention_document_id", "document.id"),
        cle_etrangere("ligne_financement", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("ligne_financement", "gestionnaire_id", "utilisateur.id"),
        cle_etrangere("ligne_financement", "organisation_id", "organisation.id"),
        cle_etrangere("ligne_financement", "structure_id", "structure.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ligne_financement")),
        sa.UniqueConstraint(
            "demande_id", "organisation_id", name=op.f("uq_ligne_financement_demande_id_organisation_id")
        ),
    )
    op.create_index(op.f("ix_ligne_financement_gestionnaire_id"), "ligne_financement", ["gestionnaire_id"])
    # Les pages et décomptes d'un financeur se lisent sur ses lignes, par ces index seuls
    op.create_index(
        "ix_ligne_financement_organisation_statut",
        "ligne_financement",
        ["organisation_id", "statut", "demande_id"],
    )
    op.create_index(
        "ix_ligne_financement_organisation_structure",
        "ligne_financement",
        ["organisation_id", "structure_id", "statut", "demande_id"],
    )
    op.create_index(
        "ix_ligne_financement_organisation_exercice",
        "ligne_financement",
        ["organisation_id", "exercice", "statut", "demande_id"],
    )
    op.create_index(
        "ix_ligne_financement_organisation_transmise",
        "ligne_financement",
        ["organisation_id", "transmise_le", "demande_id"],
    )
    op.create_index(
        "ix_ligne_financement_organisation_numero",
        "ligne_financement",
        ["organisation_id", "numero", "demande_id"],
    )

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("auteur_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("objet", sa.String(length=200), nullable=False),
        sa.Column("corps", sa.Text(), nullable=False),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        cle_etrangere("message", "auteur_id", "utilisateur.id"),
        cle_etrangere("message", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("message", "organisation_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index(op.f("ix_message_demande_id"), "message", ["demande_id"])

    op.create_table(
        "piece_jointe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("type_piece", type_piece(), nullable=False),
        cle_etrangere("piece_jointe", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("piece_jointe", "document_id", "document.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_piece_jointe")),
        sa.UniqueConstraint("demande_id", "document_id", name=op.f("uq_piece_jointe_demande_id_document_id")),
    )
    op.create_index(op.f("ix_piece_jointe_document_id"), "piece_jointe", ["document_id"])

    op.create_table(
        "reponse_eligibilite",
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("reponse", sa.Boolean(), nullable=False),
        cle_etrangere("reponse_eligibilite", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("reponse_eligibilite", "question_id", "question_eligibilite.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("demande_id", "question_id", name=op.f("pk_reponse_eligibilite")),
    )

    # Journal des dossiers, chaîné : chaque écriture porte son empreinte et celle de la précédente.
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("ligne_id", sa.Integer(), nullable=True),
        sa.Column("acteur_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("declencheur", sa.String(length=40), nullable=False),
        sa.Column("statut_avant", sa.String(length=32), nullable=False),
        sa.Column("statut_apres", sa.String(length=32), nullable=False),
        sa.Column("commentaire", sa.Text(), nullable=True),
        sa.Column("horodatage", Horodatage(timezone=True), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("empreinte_precedente", sa.String(length=64), nullable=True),
        cle_etrangere("journal", "acteur_id", "utilisateur.id"),
        cle_etrangere("journal", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("journal", "ligne_id", "ligne_financement.id", ondelete="CASCADE"),
        cle_etrangere("journal", "organisation_id", "organisation.id"),
        cle_etrangere("journal", "structure_id", "structure.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    op.create_index("ix_journal_demande_id_id", "journal", ["demande_id", "id"])
    op.create_index(op.f("ix_journal_ligne_id"), "journal", ["ligne_id"])

    # --- Accès aux structures : demandes d'accès et invitations
    op.create_table(
        "demande_acces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("traitee_le", Horodatage(timezone=True), nullable=True),
        sa.Column("acceptee", sa.Boolean(), nullable=True),
        cle_etrangere("demande_acces", "structure_id", "structure.id", ondelete="CASCADE"),
        cle_etrangere("demande_acces", "utilisateur_id", "utilisateur.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demande_acces")),
    )
    op.create_index(op.f("ix_demande_acces_structure_id"), "demande_acces", ["structure_id"])
    op.create_index(op.f("ix_demande_acces_utilisateur_id"), "demande_acces", ["utilisateur_id"])

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", role_structure(), nullable=False),
        sa.Column("invite_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("expire_le", Horodatage(timezone=True), nullable=False),
        sa.Column("acceptee_le", Horodatage(timezone=True), nullable=True),
        sa.Column("revoquee_le", Horodatage(timezone=True), nullable=True),
        cle_etrangere("invitation", "invite_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("invitation", "structure_id", "structure.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
    )
    op.create_index(op.f("ix_invitation_email"), "invitation", ["email"])
    op.create_index(op.f("ix_invitation_structure_id"), "invitation", ["structure_id"])

    # --- Notes d'instruction
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("auteur_id", sa.Integer(), nullable=True),
        sa.Column("partagee", sa.Boolean(), nullable=False),
        sa.Column("texte", sa.Text(), nullable=False),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        cle_etrangere("note", "auteur_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("note", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("note", "organisation_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    op.create_index("ix_note_demande_id_id", "note", ["demande_id", "id"])

    # --- Journal des comptes (connexions, réinitialisations et changements de mot de passe)
    op.create_table(
        "evenement_connexion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utilisateur_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("adresse_ip", sa.String(length=45), nullable=True),
        sa.Column("reussie", sa.Boolean(), nullable=False),
        sa.Column("motif", sa.String(length=100), nullable=True),
        sa.Column("horodatage", Horodatage(timezone=True), nullable=False),
        sa.Column(
            "nature",
            enumeration(
                "natureevenementcompte",
                "connexion",
                "demande_reinitialisation",
                "reinitialisation",
                "changement_mot_de_passe",
            ),
            server_default="connexion",
            nullable=False,
        ),
        cle_etrangere("evenement_connexion", "utilisateur_id", "utilisateur.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evenement_connexion")),
    )
    op.create_index("ix_evenement_connexion_email_horodatage", "evenement_connexion", ["email", "horodatage"])

    # --- Comité de pilotage
    op.create_table(
        "seance_comite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contrat_id", sa.Integer(), nullable=False),
        sa.Column("campagne_id", sa.Integer(), nullable=False),
        sa.Column("date_seance", sa.Date(), nullable=False),
        sa.Column("lieu", sa.String(length=200), nullable=True),
        sa.Column(
            "statut", enumeration("statutseance", "preparation", "vote_ouvert", "close"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("cree_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("vote_ouvert_le", Horodatage(timezone=True), nullable=True),
        sa.Column("close_le", Horodatage(timezone=True), nullable=True),
        sa.Column("close_par_id", sa.Integer(), nullable=True),
        sa.Column("quorum_pourcentage", sa.Integer(), nullable=True),
        sa.Column("regle_majorite", sa.String(length=20), nullable=True),
        sa.Column("pv_cle_stockage", sa.String(length=64), nullable=True),
        sa.Column("pv_taille", sa.Integer(), nullable=True),
        sa.Column("pv_produit_le", Horodatage(timezone=True), nullable=True),
        cle_etrangere("seance_comite", "campagne_id", "campagne.id"),
        cle_etrangere("seance_comite", "close_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("seance_comite", "contrat_id", "contrat_de_ville.id"),
        cle_etrangere("seance_comite", "cree_par_id", "utilisateur.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seance_comite")),
        sa.UniqueConstraint("pv_cle_stockage", name=op.f("uq_seance_comite_pv_cle_stockage")),
    )
    op.create_index(op.f("ix_seance_comite_campagne_id"), "seance_comite", ["campagne_id"])
    op.create_index("ix_seance_comite_contrat_date", "seance_comite", ["contrat_id", "date_seance"])

    op.create_table(
        "point_ordre_du_jour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seance_id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("rang", sa.Integer(), nullable=False),
        sa.Column(
            "decision", enumeration("decisionpoint", "favorable", "defavorable", "ajourne"), nullable=True
        ),
        sa.Column("voix_pour", sa.Integer(), nullable=True),
        sa.Column("voix_contre", sa.Integer(), nullable=True),
        sa.Column("abstentions", sa.Integer(), nullable=True),
        sa.Column("recusations", sa.Integer(), nullable=True),
        cle_etrangere("point_ordre_du_jour", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("point_ordre_du_jour", "seance_id", "seance_comite.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_ordre_du_jour")),
        sa.UniqueConstraint(
            "seance_id", "demande_id", name=op.f("uq_point_ordre_du_jour_seance_id_demande_id")
        ),
    )
    op.create_index("ix_point_ordre_du_jour_demande", "point_ordre_du_jour", ["demande_id"])

    op.create_table(
        "vote_comite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "choix", enumeration("choixvote", "pour", "contre", "abstention", "recusation"), nullable=False
        ),
        sa.Column("motif_recusation", sa.Text(), nullable=True),
        sa.Column("votant_id", sa.Integer(), nullable=True),
        sa.Column("vote_le", Horodatage(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        cle_etrangere("vote_comite", "organisation_id", "organisation.id"),
        cle_etrangere("vote_comite", "point_id", "point_ordre_du_jour.id", ondelete="CASCADE"),
        cle_etrangere("vote_comite", "votant_id", "utilisateur.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_comite")),
        sa.UniqueConstraint(
            "point_id", "organisation_id", name=op.f("uq_vote_comite_point_id_organisation_id")
        ),
    )
    op.create_table(
        "montant_comite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("ligne_id", sa.Integer(), nullable=False),
        sa.Column("montant", Montant(precision=14, scale=2), nullable=False),
        sa.Column("saisi_par_id", sa.Integer(), nullable=True),
        sa.Column("saisi_le", Horodatage(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("montant >= 0", name=op.f("ck_montant_comite_montant_positif")),
        cle_etrangere("montant_comite", "ligne_id", "ligne_financement.id", ondelete="CASCADE"),
        cle_etrangere("montant_comite", "point_id", "point_ordre_du_jour.id", ondelete="CASCADE"),
        cle_etrangere("montant_comite", "saisi_par_id", "utilisateur.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_montant_comite")),
        sa.UniqueConstraint("point_id", "ligne_id", name=op.f("uq_montant_comite_point_id_ligne_id")),
    )
    op.create_index("ix_montant_comite_ligne", "montant_comite", ["ligne_id"])

    # --- Jetons de l'API (empreinte seule, portée, échéance, révocation)
    op.create_table(
        "jeton_api",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("titulaire_id", sa.Integer(), nullable=False),
        sa.Column("libelle", sa.String(length=100), nullable=False),
        sa.Column("prefixe", sa.String(length=16), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("ecriture", sa.Boolean(), nullable=False),
        sa.Column("expire_le", Horodatage(timezone=True), nullable=False),
        sa.Column("cree_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("revoque_par_id", sa.Integer(), nullable=True),
        sa.Column("revoque_le", Horodatage(timezone=True), nullable=True),
        sa.Column("derniere_utilisation_le", Horodatage(timezone=True), nullable=True),
        cle_etrangere("jeton_api", "cree_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("jeton_api", "organisation_id", "organisation.id"),
        cle_etrangere("jeton_api", "revoque_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("jeton_api", "titulaire_id", "utilisateur.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jeton_api")),
        sa.UniqueConstraint("empreinte", name=op.f("uq_jeton_api_empreinte")),
    )
    op.create_index("ix_jeton_api_organisation_id_id", "jeton_api", ["organisation_id", "id"])

    # --- Versements (échéancier d'une ligne engagée)
    op.create_table(
        "versement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ligne_id", sa.Integer(), nullable=False),
        sa.Column("nature", enumeration("natureversement", "avance", "solde", longueur=16), nullable=False),
        sa.Column("date_prevue", sa.Date(), nullable=False),
        sa.Column("montant_prevu", Montant(precision=14, scale=2), nullable=False),
        sa.Column("verse_le", sa.Date(), nullable=True),
        sa.Column("montant_verse", Montant(precision=14, scale=2), nullable=True),
        sa.Column("reference", sa.String(length=50), nullable=True),
        sa.Column("enregistre_par_id", sa.Integer(), nullable=True),
        sa.Column("enregistre_le", Horodatage(timezone=True), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.CheckConstraint("montant_prevu >= 0", name=op.f("ck_versement_prevu_positif")),
        sa.CheckConstraint(
            "montant_verse IS NULL OR montant_verse >= 0", name=op.f("ck_versement_verse_positif")
        ),
        sa.CheckConstraint(
            "(verse_le IS NULL AND montant_verse IS NULL AND reference IS NULL) OR "
            "(verse_le IS NOT NULL AND montant_verse IS NOT NULL AND reference IS NOT NULL)",
            name=op.f("ck_versement_paiement_complet"),
        ),
        cle_etrangere("versement", "enregistre_par_id", "utilisateur.id", ondelete="SET NULL"),
        cle_etrangere("versement", "ligne_id", "ligne_financement.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versement")),
    )
    op.create_index("ix_versement_ligne_id_date_prevue", "versement", ["ligne_id", "date_prevue"])
    op.create_index("ix_versement_verse_le", "versement", ["verse_le"])

    # --- Trace des modifications du référentiel et des comptes
    op.create_table(
        "evenement_referentiel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("acteur_id", sa.Integer(), nullable=True),
        sa.Column("objet_type", sa.String(length=40), nullable=False),
        sa.Column("objet_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("resume", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("horodatage", Horodatage(timezone=True), nullable=False),
        cle_etrangere("evenement_referentiel", "acteur_id", "utilisateur.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evenement_referentiel")),
    )
    op.create_index("ix_evenement_referentiel_acteur_id", "evenement_referentiel", ["acteur_id"])
    op.create_index(
        "ix_evenement_referentiel_objet", "evenement_referentiel", ["objet_type", "objet_id", "id"]
    )

    # --- Compte rendu financier, rappels, report des dates
    op.create_table(
        "compte_rendu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("action_realisee", sa.Boolean(), nullable=False),
        sa.Column("motif_non_realisation", sa.Text(), nullable=True),
        sa.Column("bilan", sa.Text(), nullable=True),
        sa.Column("public_atteint", sa.Text(), nullable=True),
        sa.Column("beneficiaires_hors_qpv", sa.Integer(), nullable=True),
        sa.Column("depose_le", Horodatage(timezone=True), nullable=True),
        sa.Column("depose_par_id", sa.Integer(), nullable=True),
        sa.Column("cree_le", Horodatage(timezone=True), nullable=False),
        sa.Column("modifie_le", Horodatage(timezone=True), nullable=False),
        sa.CheckConstraint(
            "beneficiaires_hors_qpv IS NULL OR beneficiaires_hors_qpv >= 0",
            name=op.f("ck_compte_rendu_hors_qpv_positif"),
        ),
        cle_etrangere("compte_rendu", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("compte_rendu", "depose_par_id", "utilisateur.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_rendu")),
        sa.UniqueConstraint("demande_id", name=op.f("uq_compte_rendu_demande_id")),
    )
    op.create_index(op.f("ix_compte_rendu_echeance"), "compte_rendu", ["echeance"])

    op.create_table(
        "rappel_compte_rendu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("nature", enumeration("naturerappel", "avant", "apres", longueur=16), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("envoye_le", Horodatage(timezone=True), nullable=False),
        sa.Column("destinataires", sa.Integer(), nullable=False),
        cle_etrangere("rappel_compte_rendu", "demande_id", "demande.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rappel_compte_rendu")),
        sa.UniqueConstraint(
            "demande_id",
            "nature",
            "echeance",
            name=op.f("uq_rappel_compte_rendu_demande_id_nature_echeance"),
        ),
    )
    op.create_table(
        "report_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demande_id", sa.Integer(), nullable=False),
        sa.Column("date_debut", sa.Date(), nullable=False),
        sa.Column("date_fin", sa.Date(), nullable=False),
        sa.Column("ancienne_date_debut", sa.Date(), nullable=True),
        sa.Column("ancienne_date_fin", sa.Date(), nullable=True),
        sa.Column("motif", sa.Text(), nullable=False),
        sa.Column(
            "statut",
            enumeration("statutreport", "en_attente", "accepte", "refuse", longueur=16),
            nullable=False,
        ),
        sa.Column("demande_par_id", sa.Integer(), nullable=True),
        sa.Column("demande_le", Horodatage(timezone=True), nullable=False),
        sa.Column("decide_par_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("decide_le", Horodatage(timezone=True), nullable=True),
        sa.Column("reponse", sa.Text(), nullable=True),
        sa.CheckConstraint("date_fin >= date_debut", name=op.f("ck_report_dates_dates_ordonnees")),
        cle_etrangere("report_dates", "decide_par_id", "utilisateur.id"),
        cle_etrangere("report_dates", "demande_id", "demande.id", ondelete="CASCADE"),
        cle_etrangere("report_dates", "demande_par_id", "utilisateur.id"),
        cle_etrangere("report_dates", "organisation_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_dates")),
    )
    op.create_index("ix_report_dates_demande_id_id", "report_dates", ["demande_id", "id"])

    op.create_table(
        "beneficiaires_qpv",
        sa.Column("compte_rendu_id", sa.Integer(), nullable=False),
        sa.Column("qpv_id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.Integer(), nullable=False),
        sa.CheckConstraint("nombre >= 0", name=op.f("ck_beneficiaires_qpv_nombre_positif")),
        cle_etrangere("beneficiaires_qpv", "compte_rendu_id", "compte_rendu.id", ondelete="CASCADE"),
        cle_etrangere("beneficiaires_qpv", "qpv_id", "qpv.id"),
        sa.PrimaryKeyConstraint("compte_rendu_id", "qpv_id", name=op.f("pk_beneficiaires_qpv")),
    )
    op.create_table(
        "ligne_compte_rendu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compte_rendu_id", sa.Integer(), nullable=False),
        sa.Column("compte", sa.String(length=4), nullable=False),
        sa.Column("financeur_id", sa.Integer(), nullable=True),
        sa.Column("financeur_libelle", sa.String(length=200), nullable=True),
        sa.Column("ordre", sa.Integer(), nullable=False),
        sa.Column("montant_prevu", Montant(precision=14, scale=2), nullable=False),
        sa.Column("montant_realise", Montant(precision=14, scale=2), nullable=True),
        sa.Column("explication", sa.Text(), nullable=True),
        sa.CheckConstraint("montant_prevu >= 0", name=op.f("ck_ligne_compte_rendu_prevu_positif")),
        sa.CheckConstraint(
            "montant_realise IS NULL OR montant_realise >= 0",
            name=op.f("ck_ligne_compte_rendu_realise_positif"),
        ),
        cle_etrangere("ligne_compte_rendu", "compte_rendu_id", "compte_rendu.id", ondelete="CASCADE"),
        cle_etrangere("ligne_compte_rendu", "financeur_id", "organisation.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ligne_compte_rendu")),
    )
    op.create_index(
        "ix_ligne_compte_rendu_compte_rendu_id_ordre", "ligne_compte_rendu", ["compte_rendu_id", "ordre"]
    )


# Les tables dans l'ordre de leur création : downgrade() les supprime à rebours (avec leurs index).
TABLES = (
    "axe_transversal",
    "compteur_numero",
    "contrat_de_ville",
    "organisation",
    "structure",
    "thematique",
    "utilisateur",
    "aide_publique",
    "campagne",
    "compte_bancaire",
    "membre_organisation",
    "membre_structure",
    "partenaire_contrat",
    "pilotage",
    "qpv",
    "demande",
    "document",
    "enveloppe",
    "piece_requise",
    "question_eligibilite",
    "courriel",
    "demande_axe",
    "demande_qpv",
    "ligne_budget",
    "ligne_financement",
    "message",
    "piece_jointe",
    "reponse_eligibilite",
    "journal",
    "demande_acces",
    "invitation",
    "note",
    "evenement_connexion",
    "seance_comite",
    "point_ordre_du_jour",
    "vote_comite",
    "montant_comite",
    "jeton_api",
    "versement",
    "evenement_referentiel",
    "compte_rendu",
    "rappel_compte_rendu",
    "report_dates",
    "beneficiaires_qpv",
    "ligne_compte_rendu",
)


def downgrade():
    # L'extension pg_trgm reste (comme avant la réunion des migrations) : d'autres bases ou schémas du
    # serveur peuvent s'en servir, et la recréer demande les droits du propriétaire de la base.
    for table in reversed(TABLES):
        op.drop_table(table)
