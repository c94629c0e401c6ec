"""Jeu de volume national (`flask seed scale`) : la politique de la ville à l'échelle du pays.

385 contrats de ville « Engagements Quartiers 2030 » bâtis sur les 385 premières lignes du fichier réel
2015–2023 (départements, EPCI porteurs, SIREN, population en QPV), 1 500 QPV, les financeurs et
partenaires de chaque contrat, une campagne par contrat et par exercice sur cinq exercices, 11 000
structures et `nb_demandes` demandes complètes : statut du dossier et de chacune de ses lignes de
financement cohérents entre eux et avec le calendrier des campagnes, budget équilibré au plan du
CERFA, QPV, réponses d'éligibilité, journal des transitions qui ont mené au statut.

Chargement en masse, dans une seule transaction : `COPY … FROM STDIN` (psycopg 3) sur PostgreSQL,
`executemany` d'`insert()` SQLAlchemy sur SQLite (les tests), pour que les types `Montant` et
`Horodatage` s'appliquent. Les demandes sont produites par lots : la mémoire reste bornée quel que
soit le volume. Les identifiants sont donnés explicitement, puis les séquences recalées.

Tout est tiré de générateurs `random.Random` dérivés de `graine` : même graine et même `aujourdhui`,
même jeu (le référentiel et les structures ne dépendent même pas du nombre de demandes).
"""

from __future__ import annotations

import math
import random
import time
from array import array
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, islice

from sqlalchemy import func, select, text
from stdnum import iban as stdnum_iban
from stdnum import luhn

import dauphin.models  # noqa: F401 (enregistre toutes les tables dans db.metadata)
from dauphin.extensions import db
from dauphin.libelles import MOIS
from dauphin.seeds.referentiel import AXES_TRANSVERSAUX, charger_nomenclature, lire_contrats
from dauphin.services.empreintes import empreinte
from workflows.statuts import STATUTS_LIGNE_AVISEE
from workflows.statuts import StatutDemande as S
from workflows.statuts import StatutLigne as L

__all__ = ["ChargementImpossible", "charger_volume"]

NB_CONTRATS = 385
NB_QPV = 1_500
NB_STRUCTURES = 11_000
NB_EXERCICES = 5
TAILLE_LOT = 5_000  # demandes produites puis copiées ensemble
SEUIL_CONVENTION = 2_300_000  # centimes : au-delà de 23 000 €, convention écrite (loi 2000-321)
JOUR = 86_400.0
HEURE = 3_600.0

# Tables dont l'identifiant est donné ici : leur séquence est recalée à la fin (PostgreSQL).
TABLES_A_SEQUENCE = (
    "organisation",
    "contrat_de_ville",
    "qpv",
    "campagne",
    "question_eligibilite",
    "piece_requise",
    "enveloppe",
    "structure",
    "compte_bancaire",
    "document",
    "demande",
    "ligne_financement",
    "ligne_budget",
    "journal",
)


class ChargementImpossible(RuntimeError):
    """La base n'est pas vide : le jeu de volume ne se mêle jamais à d'autres données."""


# --- Référentiel géographique -----------------------------------------------------------------

# code ; nom ; préposition (« Préfecture de l’Ain », « du Nord »…) ; région
_DEPARTEMENTS = """
01;Ain;de l’;ARA
02;Aisne;de l’;HDF
03;Allier;de l’;ARA
04;Alpes-de-Haute-Provence;des ;PAC
05;Hautes-Alpes;des ;PAC
06;Alpes-Maritimes;des ;PAC
07;Ardèche;de l’;ARA
08;Ardennes;des ;GES
09;Ariège;de l’;OCC
10;Aube;de l’;GES
11;Aude;de l’;OCC
12;Aveyron;de l’;OCC
13;Bouches-du-Rhône;des ;PAC
14;Calvados;du ;NOR
15;Cantal;du ;ARA
16;Charente;de la ;NAQ
17;Charente-Maritime;de la ;NAQ
18;Cher;du ;CVL
19;Corrèze;de la ;NAQ
2A;Corse-du-Sud;de la ;COR
2B;Haute-Corse;de la ;COR
21;Côte-d’Or;de la ;BFC
22;Côtes-d’Armor;des ;BRE
23;Creuse;de la ;NAQ
24;Dordogne;de la ;NAQ
25;Doubs;du ;BFC
26;Drôme;de la ;ARA
27;Eure;de l’;NOR
28;Eure-et-Loir;d’;CVL
29;Finistère;du ;BRE
30;Gard;du ;OCC
31;Haute-Garonne;de la ;OCC
32;Gers;du ;OCC
33;Gironde;de la ;NAQ
34;Hérault;de l’;OCC
35;Ille-et-Vilaine;d’;BRE
36;Indre;de l’;CVL
37;Indre-et-Loire;d’;CVL
38;Isère;de l’;ARA
39;Jura;du ;BFC
40;Landes;des ;NAQ
41;Loir-et-Cher;du ;CVL
42;Loire;de la ;ARA
43;Haute-Loire;de la ;ARA
44;Loire-Atlantique;de la ;PDL
45;Loiret;du ;CVL
46;Lot;du ;OCC
47;Lot-et-Garonne;du ;NAQ
48;Lozère;de la ;OCC
49;Maine-et-Loire;de ;PDL
50;Manche;de la ;NOR
51;Marne;de la ;GES
52;Haute-Marne;de la ;GES
53;Mayenne;de la ;PDL
54;Meurthe-et-Moselle;de ;GES
55;Meuse;de la ;GES
56;Morbihan;du ;BRE
57;Moselle;de la ;GES
58;Nièvre;de la ;BFC
59;Nord;du ;HDF
60;Oise;de l’;HDF
61;Orne;de l’;NOR
62;Pas-de-Calais;du ;HDF
63;Puy-de-Dôme;du ;ARA
64;Pyrénées-Atlantiques;des ;NAQ
65;Hautes-Pyrénées;des ;OCC
66;Pyrénées-Orientales;des ;OCC
67;Bas-Rhin;du ;GES
68;Haut-Rhin;du ;GES
69;Rhône;du ;ARA
70;Haute-Saône;de la ;BFC
71;Saône-et-Loire;de ;BFC
72;Sarthe;de la ;PDL
73;Savoie;de la ;ARA
74;Haute-Savoie;de la ;ARA
75;Paris;de ;IDF
76;Seine-Maritime;de la ;NOR
77;Seine-et-Marne;de ;IDF
78;Yvelines;des ;IDF
79;Deux-Sèvres;des ;NAQ
80;Somme;de la ;HDF
81;Tarn;du ;OCC
82;Tarn-et-Garonne;de ;OCC
83;Var;du ;PAC
84;Vaucluse;de ;PAC
85;Vendée;de la ;PDL
86;Vienne;de la ;NAQ
87;Haute-Vienne;de la ;NAQ
88;Vosges;des ;GES
89;Yonne;de l’;BFC
90;Territoire de Belfort;du ;BFC
91;Essonne;de l’;IDF
92;Hauts-de-Seine;des ;IDF
93;Seine-Saint-Denis;de la ;IDF
94;Val-de-Marne;du ;IDF
95;Val-d’Oise;du ;IDF
971;Guadeloupe;de la ;GUA
972;Martinique;de la ;MTQ
973;Guyane;de la ;GUF
974;La Réunion;de ;REU
975;Saint-Pierre-et-Miquelon;de ;
976;Mayotte;de ;
977;Saint-Barthélemy;de ;
978;Saint-Martin;de ;
986;Wallis-et-Futuna;de ;
987;Polynésie française;de la ;
988;Nouvelle-Calédonie;de la ;
"""


@dataclass(frozen=True)
class _Departement:
    code: str
    nom: str
    de: str  # « de l’Ain », « du Nord »
    region: str | None

    @property
    def code_qpv(self) -> str:
        """Le département sur trois caractères des codes QPV : 075, 02A, 974."""
        return self.code.zfill(3)


DEPARTEMENTS = {
    code: _Departement(code, nom, f"{prep}{nom}", region or None)
    for code, nom, prep, region in (ligne.split(";") for ligne in _DEPARTEMENTS.strip().splitlines())
}

REGIONS = {
    "ARA": "Région Auvergne-Rhône-Alpes",
    "BFC": "Région Bourgogne-Franche-Comté",
    "BRE": "Région Bretagne",
    "CVL": "Région Centre-Val de Loire",
    "COR": "Collectivité de Corse",
    "GES": "Région Grand Est",
    "HDF": "Région Hauts-de-France",
    "IDF": "Région Île-de-France",
    "NOR": "Région Normandie",
    "NAQ": "Région Nouvelle-Aquitaine",
    "OCC": "Région Occitanie",
    "PDL": "Région Pays de la Loire",
    "PAC": "Région Provence-Alpes-Côte d’Azur",
    "GUA": "Région Guadeloupe",
    "MTQ": "Collectivité territoriale de Martinique",
    "GUF": "Collectivité territoriale de Guyane",
    "REU": "Région Réunion",
}
# Collectivités uniques : la même assemblée exerce les compétences du département et de la région.
COLLECTIVITES_UNIQUES = {"2A": "COR", "2B": "COR", "972": "MTQ", "973": "GUF"}
CONSEILS_PARTICULIERS = {
    "75": "Ville de Paris",
    "976": "Département de Mayotte",
    "975": "Collectivité territoriale de Saint-Pierre-et-Miquelon",
    "977": "Collectivité de Saint-Barthélemy",
    "978": "Collectivité de Saint-Martin",
    "986": "Collectivité de Wallis-et-Futuna",
    "987": "Pays de la Polynésie française",
    "988": "Gouvernement de la Nouvelle-Calédonie",
}

# fmt: off
RACINES_COMMUNES = (
    "Beaumont", "Montreuil", "Villeneuve", "Saint-Martin", "Fontaine", "Rochefort", "Champigny",
    "Bellevue", "Villefranche", "Neuville", "Bourg-Neuf", "Châteauneuf", "Pontcarré", "Valmont",
    "Roche-Blanche", "Bellegarde", "Boisseuil", "Saint-Jean", "Saint-Pierre", "Sainte-Marie",
    "Montigny", "Châtenay", "Vaux", "Mareuil", "Chevilly", "Aubigny", "Savigny", "Juvigny", "Marly",
    "Givry", "Brétigny", "Montlouis", "Romilly", "Verneuil", "Villers", "Courcelles", "Lagny",
    "Maisons", "Écouen", "Orcines", "Ormesson", "Le Plessis", "Le Vigan", "La Chapelle", "Les Essarts",
    "Issy", "Ambérieu", "Sablé", "Fresnes", "Lormont",
)
SUFFIXES_COMMUNES = (
    "", "", "", "-sur-Loire", "-sur-Marne", "-sur-Seine", "-le-Haut", "-la-Forêt", "-les-Bains",
    "-en-Vallée", "-le-Château", "-sur-Mer", "-les-Vignes", "-le-Grand", "-sous-Bois", "-la-Rivière",
)
NOMS_QPV = (
    "Les Tilleuls", "Les Peupliers", "Les Acacias", "Les Bleuets", "Les Lilas", "Les Glycines",
    "Les Cèdres", "Les Marronniers", "Les Sablons", "Les Bosquets", "Les Coteaux", "Les Musiciens",
    "Les Poètes", "Les Aviateurs", "Les Provinces", "Les Hautes-Noues", "Les Courtillières",
    "Les Aubiers", "Les Izards", "La Grande Borne", "La Source", "La Paillade", "La Madeleine",
    "La Noue", "La Butte", "La Roseraie", "La Croix-Rouge", "La Petite Hollande", "La Duchère",
    "Le Mirail", "Le Val Fourré", "Le Chemin Vert", "Le Bois l’Abbé", "Le Clos Saint-Lazare",
    "Le Haut du Lièvre", "Le Neuhof", "Bel Air", "Le Mas du Taureau", "Le Plan d’Aou",
    "Centre-ville", "Quartier Nord", "Quartier Sud", "Quartier de la Gare", "Saint-Jacques",
    "Franc-Moisin", "Les Hauts de Ville", "Le Plateau", "Cité Jardin", "Résidence du Parc",
    "Les Terrasses", "Le Bourg", "Les Quatre Chemins", "La Fontaine d’Ouche", "Les Pyramides",
    "Le Grand Ensemble", "Les Épinettes", "La Rocade", "Champ Fleuri", "Les Ruisseaux", "Le Moulin",
)
VOIES = ("rue des Lilas", "avenue Jean-Jaurès", "allée des Tilleuls", "place de la République",
         "boulevard Victor-Hugo", "rue Pasteur", "rue de la Paix", "avenue du Général-de-Gaulle",
         "rue Jules-Ferry", "chemin des Écoliers", "rue Louise-Michel", "allée Simone-Veil")


def _de_commune(nom: str) -> str:
    """« de Beaumont », « du Moule », « des Abymes », « d’Aubigny »."""
    if nom.startswith("Le "):
        return f"du {nom[3:]}"
    if nom.startswith("Les "):
        return f"des {nom[4:]}"
    if nom[0] in "AEIOUYÉÈÊÎÔÂH":
        return f"d’{nom}"
    return f"de {nom}"


# --- Contenu des demandes ---------------------------------------------------------------------

# sous-thème : (poids, intitulés d'actions)
ACTIONS = {
    "1.1": (18, ("Accompagnement à la scolarité", "Ateliers d’aide aux devoirs", "Coup de pouce lecture",
                 "Lutte contre le décrochage scolaire", "Vacances apprenantes", "Cité éducative : ateliers")),
    "1.2": (7, ("Atelier santé ville", "Prévention bucco-dentaire", "Sport-santé pour les seniors",
                "Permanence d’écoute psychologique", "Prévention des addictions chez les jeunes")),
    "1.3": (9, ("Lieu d’accueil enfants-parents", "Permanence d’accès aux droits", "Café des parents",
                "Accompagnement aux démarches numériques", "Écrivain public")),
    "1.4": (10, ("Résidence d’artistes", "Ateliers théâtre", "Orchestre à l’école", "Festival de quartier",
                 "Éducation aux images", "Ateliers d’écriture et slam")),
    "1.5": (25, ("Animation de proximité en pied d’immeuble", "Ateliers sociolinguistiques",
                 "Sorties familiales", "Sport dans les quartiers", "Formation du conseil citoyen",
                 "Jardins partagés", "Fête de quartier")),
    "1.6": (4, ("Sensibilisation aux discriminations", "Égalité filles-garçons par le sport",
                "Accès au droit des victimes de discriminations", "Valeurs de la République et laïcité")),
    "2.1": (12, ("Accompagnement vers l’emploi des jeunes", "Chantier d’insertion",
                 "Parrainage vers l’emploi", "Forum de l’emploi", "Savoirs de base et mobilité",
                 "Permis de conduire solidaire")),
    "2.2": (4, ("Accompagnement à la création d’entreprise", "Couveuse d’activités",
                "Soutien au commerce de proximité", "Fabrique à entreprendre")),
    "3.1": (6, ("Gestion urbaine de proximité", "Embellissement des espaces communs",
                "Médiation sur la propreté", "Chantier éducatif")),
    "3.2": (3, ("Médiation sociale de nuit", "Prévention spécialisée", "Correspondants de nuit",
                "Médiation dans les transports")),
    "4": (2, ("Ingénierie du contrat de ville", "Évaluation de la programmation", "Maison du projet",
              "Formation des acteurs du quartier")),
}
OBJECTIFS = (
    "Favoriser l’autonomie des habitants dans leurs démarches.",
    "Renforcer le lien social entre les générations.",
    "Prévenir le décrochage et soutenir la réussite éducative.",
    "Rapprocher les habitants des dispositifs de droit commun.",
    "Améliorer la qualité de vie et la tranquillité dans le quartier.",
    "Lever les freins périphériques à l’emploi.",
    "Développer la pratique culturelle et sportive des jeunes.",
    "Soutenir les parents dans leur rôle éducatif.",
    "Promouvoir l’égalité entre les filles et les garçons.",
    "Encourager la participation des habitants à la vie du quartier.",
)
RYTHMES = ("Deux séances hebdomadaires", "Une permanence chaque semaine", "Des ateliers mensuels",
           "Un accueil quotidien en fin de journée", "Des sessions pendant les vacances scolaires")
LIEUX = ("au centre social", "dans les locaux de la structure", "en pied d’immeuble",
         "à la maison de quartier", "au collège du secteur", "dans l’espace public du quartier",
         "à la médiathèque")
DETAILS = (
    "Les participants sont orientés par les partenaires du quartier.",
    "Un bilan est partagé avec les habitants en fin d’action.",
    "L’action s’appuie sur un partenariat avec les établissements scolaires.",
    "Les familles sont associées à chaque étape.",
    "Des intervenants professionnels encadrent les séances.",
    "L’action est construite avec le conseil citoyen.",
)
PUBLICS = (
    "Enfants de 6 à 11 ans et leurs parents", "Jeunes de 16 à 25 ans sans emploi ni formation",
    "Femmes isolées du quartier", "Habitants de tous âges", "Collégiens du réseau d’éducation prioritaire",
    "Seniors isolés", "Familles monoparentales", "Demandeurs d’emploi de longue durée",
    "Adolescents de 12 à 17 ans",
)
INDICATEURS = (
    "Nombre de participants et assiduité", "Part des participants résidant en QPV",
    "Progression mesurée en début et en fin d’action", "Taux de sortie positive à six mois",
    "Satisfaction des participants (questionnaire)", "Nombre de partenaires mobilisés",
    "Répartition filles-garçons des participants",
)
PERSONNES = (
    ("Mme", "Awa"), ("M.", "Karim"), ("Mme", "Sophie"), ("M.", "Mohamed"), ("Mme", "Nathalie"),
    ("M.", "Julien"), ("Mme", "Fatoumata"), ("M.", "Thomas"), ("Mme", "Yasmina"), ("M.", "Pierre"),
    ("Mme", "Aïcha"), ("M.", "Nicolas"), ("Mme", "Leïla"), ("M.", "David"), ("Mme", "Marie"),
    ("M.", "Samir"), ("Mme", "Isabelle"), ("M.", "Moussa"), ("Mme", "Camille"), ("M.", "Rachid"),
    ("Mme", "Claire"), ("M.", "Mamadou"), ("Mme", "Émilie"), ("M.", "Youssef"), ("Mme", "Hélène"),
    ("M.", "Sébastien"), ("Mme", "Nadia"), ("M.", "Olivier"), ("Mme", "Inès"), ("M.", "Laurent"),
)
NOMS = (
    "Martin", "Diallo", "Bernard", "Benali", "Dubois", "Traoré", "Moreau", "Nguyen", "Laurent", "Haddad",
    "Lefèvre", "Mendy", "Garcia", "Roux", "Cissé", "Fournier", "Boukhris", "Girard", "Fernandes", "Bonnet",
    "Dupont", "Camara", "Lambert", "Rousseau", "Keita", "Fontaine", "Mercier", "Benyahia", "Blanc",
    "Da Silva", "Chevalier", "Sow", "Robin", "Masson", "Ndiaye", "Henry", "Perrin", "Belkacem", "Morel",
)
FONCTIONS = ("Direction", "Coordination de projets", "Chargé·e de mission", "Responsable de secteur",
             "Référent·e famille", "Animation")
MOTIFS_RETRAIT = (
    "La structure a renoncé à l’action faute de local.",
    "Action reportée à l’exercice suivant.",
    "Demande déposée en double par erreur.",
    "Départ de l’intervenant principal : l’action ne peut pas avoir lieu.",
)
MOTIFS_CLASSEMENT = (
    "Action relevant du droit commun, hors du champ de la politique de la ville.",
    "Dossier incomplet malgré les relances.",
    "Public visé majoritairement hors quartier prioritaire.",
    "Action déjà financée par ailleurs.",
)
MESSAGES_COMPLEMENTS = (
    "Merci de détailler le poste « Charges de personnel ».",
    "Merci de préciser le nombre d’habitants des quartiers prioritaires concernés.",
    "Le dernier rapport d’activité manque : merci de le joindre.",
    "Merci de préciser les modalités d’évaluation de l’action.",
)
MESSAGES_JUSTIFICATION = (
    "L’écart sur les charges de personnel doit être expliqué.",
    "Merci de joindre le bilan qualitatif de l’action.",
    "Le tableau financier ne reprend pas les montants réalisés.",
)
MOTIFS_NON_RECEVABLE = ("Action hors du champ de la campagne.", "Public visé hors quartier prioritaire.",
                        "Budget insuffisamment détaillé.", "Action relevant du droit commun.")
FINANCEURS_HORS_PLATEFORME = (
    "Fonds social européen (FSE+)", "Agence régionale de santé", "Fondation de France",
    "Direction régionale des affaires culturelles", "Fonds interministériel de prévention de la délinquance",
    "Agence nationale du sport",
)
# Charges : (compte, part du budget, libellés des sous-lignes, nombre de sous-lignes, probabilité)
CHARGES = (
    ("60", 0.10, ("Fournitures et petit équipement", "Matières et fournitures pédagogiques",
                  "Alimentation et boissons", "Fournitures administratives"), (2, 4), 1.0),
    ("61", 0.08, ("Locations de salles", "Location de matériel", "Entretien et réparation", "Assurances"),
     (2, 4), 1.0),
    ("62", 0.14, ("Honoraires d’intervenants", "Publicité, publications", "Déplacements, missions",
                  "Frais postaux et de télécommunications"), (2, 4), 1.0),
    ("63", 0.02, ("Taxe sur les salaires", "Formation professionnelle continue"), (1, 1), 0.6),
    ("64", 0.52, ("Rémunération des personnels", "Charges sociales", "Autres charges de personnel"),
     (2, 3), 1.0),
    ("65", 0.02, ("Cotisations et licences", "Droits d’auteur"), (1, 1), 0.35),
    ("66", 0.005, ("Charges financières",), (1, 1), 0.03),
    ("67", 0.005, ("Charges exceptionnelles",), (1, 1), 0.03),
    ("68", 0.02, ("Amortissement du matériel",), (1, 1), 0.2),
    ("CI", 0.07, ("Frais de structure affectés à l’action",), (1, 1), 0.75),
)
BANQUES = (  # (poids, code banque, BIC, nom)
    (25, "42559", "CCOPFRPPXXX", "Crédit Coopératif"),
    (15, "20041", "PSSTFRPPPAR", "La Banque Postale"),
    (15, "17515", "CEPAFRPP751", "Caisse d’Épargne"),
    (15, "18206", "AGRIFRPP882", "Crédit Agricole"),
    (10, "10278", "CMCIFR2AXXX", "Crédit Mutuel"),
    (8, "10207", "CCBPFRPPMTG", "Banque Populaire"),
    (5, "30003", "SOGEFRPPXXX", "Société Générale"),
    (4, "30004", "BNPAFRPPXXX", "BNP Paribas"),
    (3, "30002", "CRLYFRPPXXX", "LCL"),
)
TYPES_ASSOCIATION = (
    "Centre social", "Maison des jeunes et de la culture", "Amicale laïque", "Régie de quartier",
    "Association sportive", "Football club", "Boxing club", "Maison de quartier", "Comité des fêtes",
    "Femmes relais", "Compagnie théâtrale", "École de musique", "Association de prévention spécialisée",
    "Point information jeunesse", "Association des locataires", "Club de prévention",
)
NOMS_ASSOCIATION = (
    "Trait d’Union", "Passerelles", "Horizons", "L’Arbre à palabres", "Ensemble pour demain",
    "Voisins solidaires", "Énergies jeunesse", "Entraide et partage", "Couleurs du monde", "Le Relais",
    "Parenthèse", "Solidarité quartiers", "Les Petits Curieux", "Cultures du cœur", "Main dans la main",
    "Vivre ensemble", "Les Ateliers du quartier", "Savoirs partagés", "Mille et une pages", "Tremplin",
)
GIP = ("Réussite éducative", "Politique de la ville", "Maison de l’emploi")
# forme : (poids, qualité du représentant au masculin, au féminin)
FORMES = {
    "association": (84.0, "Président", "Présidente"),
    "entreprise": (5.0, "Gérant", "Gérante"),
    "gip": (1.5, "Directeur", "Directrice"),
    "bailleur": (2.0, "Directeur général", "Directrice générale"),
    "etablissement_public": (3.0, "Directeur", "Directrice"),
    "autre": (4.5, "Président", "Présidente"),
}
PIECES_REQUISES = (("statuts", True), ("liste_dirigeants", True), ("rib", True), ("comptes_approuves", True),
                   ("rapport_activite", False))
QUESTIONS = (
    ("L’action bénéficie-t-elle prioritairement aux habitants des quartiers prioritaires ?", True),
    ("L’action relève-t-elle exclusivement du droit commun ?", False),
)

# Statut du dossier selon la phase de sa campagne à la date du jour (poids)
PHASES = {
    "depot": {
        S.brouillon: 38, S.attente_attestation: 8, S.transmise: 32, S.en_instruction: 12, S.a_completer: 4,
        S.instruite: 2, S.retiree: 2, S.classee_sans_suite: 2,
    },
    "instruction": {
        S.brouillon: 3, S.attente_attestation: 1, S.transmise: 5, S.en_instruction: 26, S.a_completer: 7,
        S.instruite: 30, S.programmee: 18, S.retiree: 4, S.classee_sans_suite: 6,
    },
    "execution": {  # quelques dossiers attendent un second comité à l'automne
        S.brouillon: 3, S.attente_attestation: 0.5, S.en_instruction: 1, S.a_completer: 0.5, S.instruite: 1.5,
        S.programmee: 1, S.attribuee: 24, S.versee: 48, S.rejetee: 9, S.retiree: 4, S.classee_sans_suite: 7.5,
    },
    "justification": {
        S.brouillon: 3, S.attribuee: 1, S.versee: 4, S.a_justifier: 36, S.justification_en_cours: 20,
        S.justification_a_modifier: 5, S.justifiee: 10, S.rejetee: 9, S.retiree: 4, S.classee_sans_suite: 8,
    },
    "relance": {
        S.brouillon: 3, S.versee: 1, S.a_justifier: 9, S.justification_en_cours: 8,
        S.justification_a_modifier: 4, S.justifiee: 55, S.rejetee: 9, S.retiree: 4, S.classee_sans_suite: 7,
    },
    "archive": {
        S.brouillon: 3, S.a_justifier: 3, S.justification_en_cours: 1, S.justification_a_modifier: 1,
        S.justifiee: 72, S.rejetee: 10, S.retiree: 4, S.classee_sans_suite: 8,
    },
}
STATUTS = tuple(S)
NON_TRANSMIS = frozenset({S.brouillon, S.attente_attestation})
APRES_CLOTURE = frozenset({S.a_justifier, S.justification_en_cours, S.justification_a_modifier, S.justifiee})
VERSION_LIGNE = {
    L.sollicitee: 1, L.prise_en_charge: 2, L.recevable: 3, L.non_recevable: 3, L.votee: 4, L.refusee: 4,
    L.convention_a_signer: 5, L.engagee: 5, L.avance_versee: 6, L.soldee: 7, L.abandonnee: 2,
}
VOTEES = frozenset({L.votee, L.convention_a_signer, L.engagee, L.avance_versee, L.soldee})
ENGAGEES = frozenset({L.engagee, L.avance_versee, L.soldee})

COLONNES_DEMANDE = (
    "id", "numero", "structure_id", "campagne_id", "exercice", "statut", "version", "responsable_nom",
    "responsable_fonction", "responsable_email", "responsable_telephone", "compte_bancaire_id", "intitule",
    "objectifs", "description", "public_cible", "nb_beneficiaires", "thematique_code", "date_debut",
    "date_fin", "moyens_humains", "indicateurs_evaluation", "renouvellement", "duree_annees",
    "demande_precedente_id", "atteste_le", "transmise_le", "cree_le", "modifie_le",
)
COLONNES_LIGNE = (
    "id", "demande_id", "organisation_id", "structure_id", "exercice", "numero", "transmise_le", "statut",
    "version", "montant_demande", "montant_propose", "motif_avis", "montant_vote", "vote_le",
    "convention_requise", "convention_document_id", "numero_engagement", "montant_verse",
    "compte_rendu_valide",
)
COLONNES_BUDGET = ("id", "demande_id", "compte", "libelle", "montant", "financeur_id", "financeur_libelle",
                   "ordre")
COLONNES_JOURNAL = ("id", "demande_id", "role", "organisation_id", "structure_id", "declencheur",
                    "statut_avant", "statut_apres", "commentaire", "horodatage", "empreinte",
                    "empreinte_precedente")
COLONNES_DOCUMENT = ("id", "structure_id", "demande_id", "type_piece", "nom_fichier", "cle_stockage",
                     "type_mime", "taille", "sha256", "depose_le")
COLONNES_STRUCTURE = (
    "id", "siret", "siren", "rna", "raison_sociale", "sigle", "forme_juridique", "adresse", "code_postal",
    "commune", "code_insee", "email", "telephone", "representant_civilite", "representant_nom",
    "representant_prenom", "representant_qualite", "agrements", "reconnue_utilite_publique", "nb_benevoles",
    "nb_salaries", "etp_salaries", "nb_volontaires", "nb_adherents", "cree_le",
)
# Ordre d'insertion d'un lot (clés étrangères)
TABLES_LOT = (
    ("demande", COLONNES_DEMANDE),
    ("document", COLONNES_DOCUMENT),
    ("ligne_financement", COLONNES_LIGNE),
    ("ligne_budget", COLONNES_BUDGET),
    ("demande_qpv", ("demande_id", "qpv_id")),
    ("demande_axe", ("demande_id", "axe_code")),
    ("reponse_eligibilite", ("demande_id", "question_id", "reponse")),
    ("journal", COLONNES_JOURNAL),
)
# fmt: on


# --- Petits outils -------------------------------------------------------------------------------


def _euros(centimes: int) -> Decimal:
    return Decimal(centimes).scaleb(-2)


def _instant(horodatage: float) -> datetime:
    return datetime.fromtimestamp(round(horodatage), UTC)


def _secondes(jour: date, heure: float = 0.0) -> float:
    return datetime(jour.year, jour.month, jour.day, tzinfo=UTC).timestamp() + heure * HEURE


def _lots(lignes: Iterable, taille: int) -> Iterator[list]:
    iterateur = iter(lignes)
    while lot := list(islice(iterateur, taille)):
        yield lot


def _repartir(total: int, poids: Sequence[float], minimum: int = 0) -> list[int]:
    """Répartit `total` proportionnellement aux poids (plus forts restes), au moins `minimum` chacun."""
    base = [minimum] * len(poids)
    reste = total - minimum * len(poids)
    somme = sum(poids)
    parts = [reste * p / somme for p in poids]
    entiers = [int(p) for p in parts]
    manque = reste - sum(entiers)
    for i in sorted(range(len(parts)), key=lambda i: entiers[i] - parts[i])[:manque]:
        entiers[i] += 1
    return [b + e for b, e in zip(base, entiers, strict=True)]


class _Tirage:
    """Tirage pondéré rapide (cumul + bissection) d'éléments fixés à l'avance."""

    def __init__(self, elements: Sequence, poids: Iterable[float]):
        self.elements = tuple(elements)
        self.cumul = list(accumulate(poids))
        self.total = self.cumul[-1]

    def __call__(self, rng: random.Random):
        return self.elements[bisect(self.cumul, rng.random() * self.total)]


class _Identifiants:
    """SIREN et SIRET uniques, clé de Luhn comprise."""

    def __init__(self):
        self.sirens: set[str] = set()
        self.sirets: set[str] = set()

    def siren(self, rng: random.Random, prefixe: str) -> str:
        while True:
            corps = prefixe + "".join(str(rng.randrange(10)) for _ in range(8 - len(prefixe)))
            siren = corps + luhn.calc_check_digit(corps)
            if siren not in self.sirens:
                self.sirens.add(siren)
                return siren

    def siren_commune(self, insee: str) -> str:
        """21 + département + numéro de commune sur trois chiffres (21 93 0 066 2 pour Saint-Denis)."""
        departement, numero = (insee[:3], insee[3:]) if insee.startswith("97") else (insee[:2], insee[2:])
        departement = departement.replace("2A", "20").replace("2B", "20")
        corps = f"21{departement}{'' if len(departement) == 3 else '0'}{numero.zfill(3)}"
        siren = corps + luhn.calc_check_digit(corps)
        self.sirens.add(siren)
        return siren

    def siret(self, rng: random.Random, siren: str) -> str:
        while True:
            corps = f"{siren}{rng.choice(('0001', '0001', '0002', '0003', '0004'))}"
            siret = corps + luhn.calc_check_digit(corps)
            if siret not in self.sirets:
                self.sirets.add(siret)
                return siret
            siren = self.siren(rng, siren[0])  # établissement déjà pris : autre entité


def _iban(rng: random.Random, code_banque: str) -> str:
    guichet = f"{rng.randrange(100_000):05d}"
    compte = f"{rng.randrange(10**11):011d}"
    cle = 97 - (89 * int(code_banque) + 15 * int(guichet) + 3 * int(compte)) % 97
    bban = f"{code_banque}{guichet}{compte}{cle:02d}"
    return f"FR{stdnum_iban.calc_check_digits(f'FR00{bban}')}{bban}"


# --- Chargement en masse -----------------------------------------------------------------------


class _Chargeur:
    """COPY sur PostgreSQL, executemany d'insert() ailleurs ; dans la transaction de la session."""

    def __init__(self):
        self.connexion = db.session.connection()
        self.postgresql = self.connexion.dialect.name == "postgresql"
        self.lignes: dict[str, int] = {}
        self.suspendues: list[tuple[str, str, str]] = []

    def inserer(self, nom: str, colonnes: Sequence[str], lignes: Iterable[tuple]) -> int:
        table = db.metadata.tables[nom]
        inconnues = [c for c in colonnes if c not in table.c]
        if inconnues:
            raise RuntimeError(f"Colonnes absentes du modèle « {nom} » : {', '.join(inconnues)}.")
        complements = self._complements(table, colonnes)
        if complements:  # colonne ajoutée au modèle depuis : sa valeur par défaut
            colonnes = (*colonnes, *(nom_colonne for nom_colonne, _ in complements))
            fabriques = [fabrique for _, fabrique in complements]
            lignes = (ligne + tuple(f() for f in fabriques) for ligne in lignes)
        n = (
            self._copier(nom, colonnes, lignes)
            if self.postgresql
            else self._executer(table, colonnes, lignes)
        )
        self.lignes[nom] = self.lignes.get(nom, 0) + n
        return n

    @staticmethod
    def _complements(table, colonnes: Sequence[str]) -> list[tuple[str, Callable]]:
        complements = []
        for colonne in table.columns:
            if colonne.name in colonnes or colonne.nullable or colonne.server_default is not None:
                continue
            defaut = colonne.default
            if defaut is None:
                raise RuntimeError(
                    f"La colonne obligatoire {table.name}.{colonne.name} n’est pas remplie par le jeu de "
                    "volume : complétez dauphin/seeds/scale.py."
                )
            if defaut.is_scalar:
                complements.append((colonne.name, lambda valeur=defaut.arg: valeur))
            else:
                complements.append((colonne.name, lambda fabrique=defaut.arg: fabrique(None)))
        return complements

    def _copier(self, nom: str, colonnes: Sequence[str], lignes: Iterable[tuple]) -> int:
        from psycopg import sql

        requete = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(nom), sql.SQL(", ").join(map(sql.Identifier, colonnes))
        )
        n = 0
        with self.connexion.connection.driver_connection.cursor() as curseur, curseur.copy(requete) as copie:
            ecrire = copie.write_row
            for ligne in lignes:
                ecrire(ligne)
                n += 1
        return n

    def _executer(self, table, colonnes: Sequence[str], lignes: Iterable[tuple]) -> int:
        n = 0
        requete = table.insert()
        for lot in _lots(lignes, 2_000):
            self.connexion.execute(requete, [dict(zip(colonnes, ligne, strict=True)) for ligne in lot])
            n += len(lot)
        return n

    def suspendre_cles_etrangeres(self, tables: Sequence[str]) -> None:
        """PostgreSQL : retire les clés étrangères des tables chargées en masse (le contrôle ligne à ligne
        par déclencheur coûte plus cher que la copie) ; `retablir_cles_etrangeres` les recrée et les
        vérifie d'un bloc. Tout se passe dans la transaction : une erreur rend le schéma intact."""
        if not self.postgresql:
            return
        self.suspendues = [
            tuple(ligne)
            for ligne in self.connexion.execute(
                text(
                    "SELECT cl.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con "
                    "JOIN pg_class cl ON cl.oid = con.conrelid "
                    "JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
                    "WHERE con.contype = 'f' AND ns.nspname = current_schema() AND cl.relname = ANY(:tables) "
                    "ORDER BY cl.relname, con.conname"
                ),
                {"tables": list(tables)},
            )
        ]
        guillemets = self.connexion.dialect.identifier_preparer.quote
        for table, contrainte, _ in self.suspendues:
            self.connexion.execute(
                text(f"ALTER TABLE {guillemets(table)} DROP CONSTRAINT {guillemets(contrainte)}")
            )

    def retablir_cles_etrangeres(self) -> None:
        guillemets = self.connexion.dialect.identifier_preparer.quote
        for table, contrainte, definition in self.suspendues:
            self.connexion.execute(
                text(f"ALTER TABLE {guillemets(table)} ADD CONSTRAINT {guillemets(contrainte)} {definition}")
            )
        self.suspendues = []

    def recaler_sequences(self) -> None:
        if not self.postgresql:
            return
        for nom in TABLES_A_SEQUENCE:
            self.connexion.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{nom}', 'id'), (SELECT max(id) FROM {nom}))")
            )


# --- Référentiel : organisations, contrats, QPV, campagnes ------------------------------------


@dataclass
class _Campagne:
    id: int
    exercice: int
    ouverture: float  # horodatages (secondes UTC)
    fin_depot: float  # fin du jour de clôture, heure de Paris
    comite: float  # clôture du comité de pilotage (programmation)
    phase: str
    questions: tuple[int, int]


@dataclass
class _Contrat:
    id: int
    departement: str
    population: int
    etat_id: int = 0
    financeurs: list[tuple[int, float]] = field(default_factory=list)  # hors État : (id, poids)
    communes: list[tuple[str, str, str]] = field(default_factory=list)  # (nom, code INSEE, code postal)
    qpvs: list[tuple[int, str]] = field(default_factory=list)  # (id, libellé)
    campagnes: dict[int, _Campagne] = field(default_factory=dict)
    structures: _Tirage | None = None


class _Organisations:
    def __init__(self, identifiants: _Identifiants):
        self.identifiants = identifiants
        self.lignes: list[tuple] = []
        self.par_cle: dict[tuple, int] = {}
        self.noms: set[str] = set()
        self.nom: dict[int, str] = {}
        self.etat: set[int] = set()

    def ajouter(
        self, cle: tuple, nom: str, type_organisation: str, siren: str | None, departement: str | None
    ):
        if cle in self.par_cle:
            return self.par_cle[cle]
        if nom in self.noms:  # homonymes : on précise le département
            nom = f"{nom} ({departement})"
        identifiant = len(self.lignes) + 1
        courriel = f"financeur{identifiant}@volume.test"
        # Le siège (NIC 0001 et sa clé) : l'identifiant de l'attribuant de ses données ouvertes
        siret = f"{siren}0001{luhn.calc_check_digit(siren + '0001')}" if siren else None
        self.lignes.append(
            (identifiant, nom, type_organisation, siren, siret, departement, True, courriel, True)
        )
        self.par_cle[cle] = identifiant
        self.noms.add(nom)
        self.nom[identifiant] = nom
        if type_organisation == "etat":
            self.etat.add(identifiant)
        return identifiant


class _Referentiel:
    def __init__(self, graine: int, aujourdhui: date, identifiants: _Identifiants):
        self.rng = random.Random(f"{graine}-referentiel")
        self.aujourdhui = aujourdhui
        self.fin = _secondes(aujourdhui)  # rien n'est daté d'aujourd'hui ou après
        self.exercice_courant = aujourdhui.year + 1 if aujourdhui.month >= 11 else aujourdhui.year
        self.exercices = tuple(range(self.exercice_courant - NB_EXERCICES + 1, self.exercice_courant + 1))
        self.identifiants = identifiants
        self.organisations = _Organisations(identifiants)
        self.contrats: list[_Contrat] = []
        self.lignes_contrats: list[tuple] = []
        self.partenaires: list[tuple[int, int]] = []
        self.lignes_qpv: list[tuple] = []
        self.lignes_campagnes: list[tuple] = []
        self.lignes_questions: list[tuple] = []
        self.lignes_pieces: list[tuple] = []
        self.communes_utilisees: set[str] = set()
        self.noms_communes: set[str] = set()
        self._construire()

    # Organisations propres à un département
    def _prefecture(self, d: _Departement) -> int:
        siren = self.identifiants.siren(self.rng, "1")
        return self.organisations.ajouter(
            ("etat", d.code), f"Préfecture {d.de} (État – P147)", "etat", siren, d.code
        )

    def _region(self, d: _Departement) -> int | None:
        code = COLLECTIVITES_UNIQUES.get(d.code, d.region)
        if code is None:
            return None
        siren = self.identifiants.siren(self.rng, "2000")
        return self.organisations.ajouter(("region", code), REGIONS[code], "region", siren, None)

    def _conseil_departemental(self, d: _Departement) -> int:
        if d.code in COLLECTIVITES_UNIQUES:
            return self._region(d)
        nom = CONSEILS_PARTICULIERS.get(d.code, f"Département {d.de}")
        prefixe = f"22{d.code.replace('2A', '20').replace('2B', '20')}"
        siren = self.identifiants.siren(self.rng, prefixe)
        return self.organisations.ajouter(("departement", d.code), nom, "departement", siren, d.code)

    def _caf(self, d: _Departement) -> int:
        nom = (
            "Caisse de sécurité sociale de Mayotte"
            if d.code == "976"
            else f"Caisse d’allocations familiales {d.de}"
        )
        siren = self.identifiants.siren(self.rng, "7")
        return self.organisations.ajouter(("caf", d.code), nom, "caf", siren, d.code)

    def _bailleur(self, d: _Departement) -> int:
        siren = self.identifiants.siren(self.rng, "27")
        return self.organisations.ajouter(
            ("bailleur", d.code), f"{d.nom} Habitat (OPH)", "bailleur", siren, d.code
        )

    def _nouvelle_commune(self, d: _Departement) -> tuple[str, str, str]:
        rng = self.rng
        for essai in range(1000):
            nom = rng.choice(RACINES_COMMUNES) + rng.choice(SUFFIXES_COMMUNES)
            if essai > 50:
                nom = f"{nom}-{rng.choice(('Nord', 'Sud', 'Est', 'Ouest', 'Centre'))}"
            if nom not in self.noms_communes:
                break
        self.noms_communes.add(nom)
        while True:
            if len(d.code) == 3:
                insee = f"{d.code}{rng.randrange(1, 100):02d}"
            else:
                insee = f"{d.code}{rng.randrange(1, 1000):03d}"
            if insee not in self.communes_utilisees:
                self.communes_utilisees.add(insee)
                break
        return nom, insee, self._code_postal(d)

    def _code_postal(self, d: _Departement) -> str:
        if d.code == "2A":
            return f"20{self.rng.randrange(0, 20) * 10:03d}"
        if d.code == "2B":
            return f"20{self.rng.randrange(20, 70) * 10:03d}"
        if len(d.code) == 3:
            return f"{d.code}{self.rng.randrange(0, 10) * 10:02d}"
        return f"{d.code}{self.rng.randrange(0, 100) * 10:03d}"

    def _construire(self) -> None:
        rng = self.rng
        lignes = lire_contrats()[:NB_CONTRATS]
        departements = []
        for ligne in lignes:
            code = ligne.departement or ("2B" if "Bastia" in ligne.libelle else "2A")  # Corse : « NA »
            departements.append(DEPARTEMENTS[code])
            if len(ligne.siren_porteur) == 5:  # contrat porté par une commune : son code INSEE
                self.communes_utilisees.add(ligne.siren_porteur)
        nb_qpv = _repartir(NB_QPV, [max(ligne.population_qpv, 1) for ligne in lignes], minimum=1)
        numeros_qpv: dict[str, int] = {}
        campagne_id = question_id = piece_id = 0

        for index, (ligne, d, nb) in enumerate(zip(lignes, departements, nb_qpv, strict=True)):
            contrat = _Contrat(id=index + 1, departement=d.code, population=ligne.population_qpv)
            porteur = ligne.libelle.split(" - ", 1)[-1].strip()
            organisations = self.organisations
            contrat.etat_id = self._prefecture(d)
            if len(ligne.siren_porteur) == 5:
                nom_commune = porteur
                self.noms_communes.add(nom_commune)
                commune = (nom_commune, ligne.siren_porteur, self._code_postal(d))
                siren = self.identifiants.siren_commune(ligne.siren_porteur)
                porteur_id = organisations.ajouter(
                    ("commune", commune[1]), f"Commune {_de_commune(nom_commune)}", "commune", siren, d.code
                )
                contrat.communes = [commune]
                communes_ids = [porteur_id]
                siren_porteur = siren
            else:
                self.identifiants.sirens.add(ligne.siren_porteur)
                porteur_id = organisations.ajouter(
                    ("epci", ligne.siren_porteur), porteur, "epci", ligne.siren_porteur, d.code
                )
                contrat.communes = [self._nouvelle_commune(d) for _ in range(rng.choice((1, 2, 2, 3, 3)))]
                communes_ids = [
                    organisations.ajouter(
                        ("commune", insee),
                        f"Commune {_de_commune(nom)}",
                        "commune",
                        self.identifiants.siren_commune(insee),
                        d.code,
                    )
                    for nom, insee, _ in contrat.communes
                ]
                siren_porteur = ligne.siren_porteur
            conseil = self._conseil_departemental(d)
            caf = self._caf(d)
            financeurs = [(porteur_id, 1.0)]
            financeurs += [(commune_id, 1.0 if i == 0 else 0.3) for i, commune_id in enumerate(communes_ids)]
            financeurs += [(conseil, 0.6), (caf, 0.6)]
            region = self._region(d)
            if region is not None and region != conseil and rng.random() < 0.6:
                financeurs.append((region, 0.4))
            if rng.random() < 0.35:
                financeurs.append((self._bailleur(d), 0.25))
            vus = {contrat.etat_id}
            contrat.financeurs = []
            for organisation_id, poids in financeurs:
                if organisation_id not in vus:
                    vus.add(organisation_id)
                    contrat.financeurs.append((organisation_id, poids))
            self.partenaires.append((contrat.id, contrat.etat_id))
            self.partenaires += [(contrat.id, organisation_id) for organisation_id, _ in contrat.financeurs]

            self.lignes_contrats.append(
                (
                    contrat.id,
                    f"CV2024-{contrat.id:03d}",
                    f"{d.code} – {porteur}",
                    2024,
                    siren_porteur,
                    d.code,
                    ligne.population_qpv,
                    rng.choice((50, 50, 50, 33, 60)),
                    rng.choices(("simple", "absolue", "deux_tiers"), (80, 15, 5))[0],
                    True,
                )
            )
            # QPV : QN + département sur 3 caractères + numéro sur 2 chiffres + lettre
            noms = rng.sample(NOMS_QPV, min(nb, len(NOMS_QPV)))
            for k in range(nb):
                numero = numeros_qpv.get(d.code, 0) + 1
                numeros_qpv[d.code] = numero
                lettre = "MNPRST"[(numero - 1) // 99]
                code = f"QN{d.code_qpv}{(numero - 1) % 99 + 1:02d}{lettre}"
                libelle = (
                    noms[k % len(noms)] if k < len(noms) else f"{noms[k % len(noms)]} {k // len(noms) + 1}"
                )
                communes = [contrat.communes[0][1]]
                if len(contrat.communes) > 1 and rng.random() < 0.1:
                    communes.append(contrat.communes[1][1])
                qpv_id = len(self.lignes_qpv) + 1
                self.lignes_qpv.append((qpv_id, code, libelle, d.code, ",".join(communes), contrat.id))
                contrat.qpvs.append((qpv_id, libelle))
            # Une campagne par exercice : dépôt de novembre à janvier, comité au printemps
            for exercice in self.exercices:
                campagne_id += 1
                ouverture = date(exercice - 1, 10, 15) + timedelta(days=rng.randrange(31))
                if exercice == self.exercice_courant:
                    ouverture = min(ouverture, self.aujourdhui - timedelta(days=7))
                cloture = date(exercice, 1, 10) + timedelta(days=rng.randrange(36))
                comite = date(exercice, 3, 25) + timedelta(days=rng.randrange(61))
                campagne = _Campagne(
                    id=campagne_id,
                    exercice=exercice,
                    ouverture=_secondes(ouverture, 7),
                    fin_depot=_secondes(cloture, 23),
                    comite=_secondes(comite, 16),
                    phase=self._phase(exercice, cloture, comite),
                    questions=(question_id + 1, question_id + 2),
                )
                contrat.campagnes[exercice] = campagne
                self.lignes_campagnes.append(
                    (
                        campagne_id,
                        contrat.id,
                        exercice,
                        f"Appel à projets politique de la ville {exercice} – {porteur}"[:200],
                        "Actions en faveur des habitants des quartiers prioritaires du contrat de ville "
                        "« Engagements Quartiers 2030 ».",
                        ouverture,
                        cloture,
                        Decimal("15.00"),
                    )
                )
                for ordre, (libelle, attendue) in enumerate(QUESTIONS):
                    question_id += 1
                    self.lignes_questions.append((question_id, campagne_id, ordre, libelle, attendue))
                for type_piece, obligatoire in PIECES_REQUISES:
                    piece_id += 1
                    self.lignes_pieces.append((piece_id, campagne_id, type_piece, obligatoire))
            self.contrats.append(contrat)

    def _phase(self, exercice: int, cloture: date, comite: date) -> str:
        jour = self.aujourdhui
        if jour <= cloture:
            return "depot"
        if jour <= comite:
            return "instruction"
        if jour.year == exercice:
            return "execution"
        if jour < date(exercice + 1, 7, 1):
            return "justification"
        if jour.year == exercice + 1:
            return "relance"
        return "archive"

    def inserer(self, chargeur: _Chargeur) -> None:
        chargeur.inserer(
            "organisation",
            (
                "id",
                "nom",
                "type_organisation",
                "siren",
                "siret",
                "departement",
                "est_financeur",
                "email_contact",
                "actif",
            ),
            self.organisations.lignes,
        )
        chargeur.inserer(
            "contrat_de_ville",
            (
                "id",
                "code",
                "libelle",
                "generation",
                "siren_porteur",
                "departement",
                "population_qpv",
                "quorum_pourcentage",
                "regle_majorite",
                "actif",
            ),
            self.lignes_contrats,
        )
        chargeur.inserer("partenaire_contrat", ("contrat_id", "organisation_id"), self.partenaires)
        chargeur.inserer(
            "qpv", ("id", "code", "libelle", "departement", "communes_insee", "contrat_id"), self.lignes_qpv
        )
        chargeur.inserer(
            "campagne",
            (
                "id",
                "contrat_id",
                "exercice",
                "libelle",
                "description",
                "date_ouverture",
                "date_cloture",
                "seuil_ecart_pourcentage",
            ),
            self.lignes_campagnes,
        )
        chargeur.inserer(
            "question_eligibilite",
            ("id", "campagne_id", "ordre", "libelle", "reponse_attendue"),
            self.lignes_questions,
        )
        chargeur.inserer(
            "piece_requise", ("id", "campagne_id", "type_piece", "obligatoire"), self.lignes_pieces
        )


# --- Structures ----------------------------------------------------------------------------------


class _Structures:
    def __init__(self, graine: int, referentiel: _Referentiel, identifiants: _Identifiants):
        self.rng = random.Random(f"{graine}-structures")
        self.referentiel = referentiel
        self.identifiants = identifiants
        self.rnas: set[str] = set()
        self.nb_actions = bytearray(NB_STRUCTURES + 1)
        self.lignes: list[tuple] = []
        self.comptes: list[tuple] = []
        self.tirage_forme = _Tirage(tuple(FORMES), (poids for poids, _, _ in FORMES.values()))
        self.tirage_banque = _Tirage(BANQUES, (b[0] for b in BANQUES))
        self.epci_pris: set[str] = set()
        self._construire()

    def _construire(self) -> None:
        rng = self.rng
        contrats = self.referentiel.contrats
        debut = date(self.referentiel.exercices[0] - 4, 1, 1)
        etendue = (date(self.referentiel.exercices[0] - 1, 9, 1) - debut).days
        quotas = _repartir(NB_STRUCTURES, [c.population for c in contrats], minimum=5)
        identifiant = 0
        for contrat, quota in zip(contrats, quotas, strict=True):
            d = DEPARTEMENTS[contrat.departement]
            ids = []
            for rang in range(quota):
                identifiant += 1
                ids.append(identifiant)
                commune, insee, code_postal = rng.choice(contrat.communes)
                forme, raison_sociale, siren = self._identite(contrat, rang, commune, insee)
                civilite, prenom = rng.choice(PERSONNES)
                siret = self.identifiants.siret(rng, siren)
                _, masculin, feminin = FORMES.get(forme, (0, "Maire", "Maire"))
                qualite = feminin if civilite == "Mme" else masculin
                association = forme == "association"
                salaries = rng.choice((0, 0, 1, 2, 3, 5, 8, 12, 25)) if forme != "commune" else 0
                cree_le = _secondes(debut + timedelta(days=rng.randrange(etendue)), rng.uniform(7, 19))
                self.lignes.append(
                    (
                        identifiant,
                        siret,
                        siret[:9],
                        self._rna(d) if association else None,
                        raison_sociale[:200],
                        None,
                        forme,
                        f"{rng.randrange(1, 120)} {rng.choice(VOIES)}",
                        code_postal,
                        commune,
                        insee,
                        f"structure{identifiant}@volume.test",
                        f"01 99 00 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                        civilite,
                        rng.choice(NOMS),
                        prenom,
                        qualite,
                        None,
                        association and rng.random() < 0.02,
                        rng.randrange(3, 80) if association else None,
                        salaries,
                        Decimal(salaries * rng.choice((50, 75, 80, 100))).scaleb(-2),
                        rng.choice((0, 0, 0, 1, 2)) if association else 0,
                        rng.randrange(10, 900) if association else None,
                        _instant(cree_le),
                    )
                )
                _, code_banque, bic, banque = self.tirage_banque(rng)
                self.comptes.append(
                    (
                        identifiant,
                        identifiant,
                        raison_sociale[:200],
                        _iban(rng, code_banque),
                        bic,
                        f"{banque} {commune}"[:200],
                        True,
                    )
                )
                self.nb_actions[identifiant] = rng.choice((1, 1, 2, 2, 3, 4))
            poids = [rng.lognormvariate(0, 0.9) for _ in ids]
            contrat.structures = _Tirage(ids, poids)

    def _identite(self, contrat: _Contrat, rang: int, commune: str, insee: str) -> tuple[str, str, str]:
        """(forme juridique, raison sociale, SIREN)."""
        rng = self.rng
        de_commune = _de_commune(commune)
        if rang == 0 and rng.random() < 0.5:
            return "commune", f"Commune {de_commune}", self.identifiants.siren_commune(insee)
        if rang == 1 and rng.random() < 0.3:
            return "etablissement_public", f"Centre communal d’action sociale {de_commune}", self._siren("26")
        forme = self.tirage_forme(rng)
        quartier = rng.choice(contrat.qpvs)[1]
        if forme == "association":
            if rng.random() < 0.5:
                nom = f"{rng.choice(TYPES_ASSOCIATION)} {rng.choice((quartier, commune))}"
            else:
                nom = f"{rng.choice(NOMS_ASSOCIATION)} {de_commune}"
            return forme, nom, self._siren(rng.choice(("3", "4", "5", "7", "8")))
        if forme == "entreprise":
            nom = f"{rng.choice(('SCOP', 'SCIC', 'Entreprise d’insertion'))} {rng.choice(NOMS_ASSOCIATION)}"
            return forme, nom, self._siren(rng.choice(("4", "5", "8")))
        if forme == "gip":
            nom = f"GIP {rng.choice(GIP)} {de_commune}"
            return forme, nom, self._siren("13")
        if forme == "bailleur":
            return forme, f"{rng.choice(('Logis', 'Habitat', 'Foyer'))} {commune}", self._siren("27")
        if forme == "etablissement_public":
            nom = f"{rng.choice(('Collège', 'Lycée professionnel', 'Médiathèque intercommunale'))} {quartier}"
            return forme, nom, self._siren("19")
        return forme, f"Fondation {rng.choice(NOMS_ASSOCIATION)}", self._siren("5")

    def _siren(self, prefixe: str) -> str:
        return self.identifiants.siren(self.rng, prefixe)

    def _rna(self, d: _Departement) -> str:
        prefixe = "20" if d.code in ("2A", "2B") else d.code
        while True:
            rna = f"W{prefixe}{self.rng.randrange(1, 4) if len(prefixe) == 2 else ''}"
            rna += f"{self.rng.randrange(10**6):06d}"
            if rna not in self.rnas:
                self.rnas.add(rna)
                return rna

    def inserer(self, chargeur: _Chargeur) -> None:
        chargeur.inserer(
            "structure",
            COLONNES_STRUCTURE,
            self.lignes,
        )
        chargeur.inserer(
            "compte_bancaire",
            ("id", "structure_id", "titulaire", "iban", "bic", "domiciliation", "actif"),
            self.comptes,
        )


# --- Plan : qui dépose quoi, où, quand, et dans quel état ----------------------------------------


class _Plan:
    """Le squelette de chaque demande (tableaux compacts) : assez pour numéroter dans l'ordre des dépôts."""

    def __init__(self, graine: int, nb: int, referentiel: _Referentiel):
        rng = random.Random(f"{graine}-plan")
        self.nb = nb
        self.exercice = array("H", bytes(2 * (nb + 1)))
        self.contrat = array("H", bytes(2 * (nb + 1)))
        self.structure = array("I", bytes(4 * (nb + 1)))
        self.statut = bytearray(nb + 1)
        self.transmise = array("d", bytes(8 * (nb + 1)))
        self.numero = array("I", bytes(4 * (nb + 1)))
        self.compteurs: dict[int, int] = {}

        contrats = referentiel.contrats
        tirage_contrat = _Tirage(range(len(contrats)), (c.population for c in contrats))
        tirages_statut = {
            phase: _Tirage([STATUTS.index(s) for s in poids], poids.values())
            for phase, poids in PHASES.items()
        }
        courant = referentiel.exercice_courant
        facteur = 0.55 if referentiel.aujourdhui < date(courant, 2, 1) else 1.0  # campagne en cours
        poids_annees = [1.0 + 0.03 * k for k in range(NB_EXERCICES)]
        poids_annees[-1] *= facteur
        par_annee = _repartir(nb, poids_annees)
        fin = referentiel.fin - HEURE
        transmissions: dict[int, list[tuple[float, int]]] = {e: [] for e in referentiel.exercices}
        i = 0
        for exercice, combien in zip(referentiel.exercices, par_annee, strict=True):
            for _ in range(combien):
                i += 1
                index_contrat = tirage_contrat(rng)
                contrat = contrats[index_contrat]
                campagne = contrat.campagnes[exercice]
                if rng.random() < 0.04:  # têtes de réseau : structures d'autres territoires
                    structure = rng.randrange(1, NB_STRUCTURES + 1)
                else:
                    structure = contrat.structures(rng)
                statut = tirages_statut[campagne.phase](rng)
                self.exercice[i] = exercice
                self.contrat[i] = index_contrat
                self.structure[i] = structure
                self.statut[i] = statut
                s = STATUTS[statut]
                if s in NON_TRANSMIS:
                    continue
                if s is S.retiree and rng.random() < 0.25:  # retirée avant d'avoir été transmise
                    continue
                # Les dépôts se pressent avant la clôture
                haut = min(campagne.fin_depot, fin)
                t = campagne.ouverture + (haut - campagne.ouverture) * math.sqrt(rng.random())
                self.transmise[i] = t
                transmissions[exercice].append((t, i))
        for exercice, liste in transmissions.items():
            liste.sort()
            for rang, (_, i) in enumerate(liste, start=1):
                self.numero[i] = rang
            self.compteurs[exercice] = len(liste)


# --- Les demandes ------------------------------------------------------------------------------


class _Generateur:
    def __init__(self, graine: int, referentiel: _Referentiel, structures: _Structures, plan: _Plan):
        self.graine = graine
        self.rng = random.Random(f"{graine}-demandes")
        self.referentiel = referentiel
        self.structures = structures
        self.plan = plan
        self.fin = referentiel.fin
        self.ids = {"ligne_financement": 0, "ligne_budget": 0, "journal": 0, "document": 0}
        self.actions: dict[int, tuple] = {}  # action récurrente d'une structure → dernière demande
        self.votes: dict[tuple[int, int], int] = {}  # (campagne, financeur) → centimes votés
        self.demandes: dict[tuple[int, int], int] = {}  # (campagne, financeur) → centimes demandés
        self.tirage_theme = _Tirage(tuple(ACTIONS), (poids for poids, _ in ACTIONS.values()))
        self.axes = tuple(code for code, _ in AXES_TRANSVERSAUX)
        self.lot: dict[str, list[tuple]] = {}

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def produire(self, debut: int, fin: int) -> dict[str, list[tuple]]:
        self.lot = {nom: [] for nom, _ in TABLES_LOT}
        for i in range(debut, fin):
            self._demande(i)
        return self.lot

    # Tirages
    def _entre(self, precedent: float, bas: float, haut: float) -> float:
        """Un instant dans [bas, haut], jamais avant `precedent` ni à partir d'aujourd'hui."""
        bas = max(bas, precedent + 60)
        haut = min(haut, self.fin - 60)
        if haut <= bas:
            return max(precedent, min(precedent + 60, self.fin - 1))
        return self.rng.uniform(bas, haut)

    def _financeurs(self, contrat: _Contrat) -> list[int]:
        rng = self.rng
        nombre = rng.choices((1, 2, 3, 4, 5), (12, 28, 32, 18, 10))[0]
        choisis = [contrat.etat_id] if rng.random() < 0.92 else []
        candidats = list(contrat.financeurs)
        while len(choisis) < nombre and candidats:
            total = sum(p for _, p in candidats)
            seuil, cumul = rng.random() * total, 0.0
            k = 0
            for k, (_, poids) in enumerate(candidats):  # noqa: B007 (k sert après la boucle)
                cumul += poids
                if cumul >= seuil:
                    break
            choisis.append(candidats.pop(k)[0])
        return choisis

    def _budget(self, demande_id: int, financeurs: list[int], etat_id: int) -> list[int]:
        """Les lignes du budget (équilibré) ; rend le montant demandé à chaque financeur, en centimes."""
        rng = self.rng
        taille = min(max(rng.lognormvariate(math.log(22_000), 0.85), 3_000), 600_000)
        part = rng.uniform(0.45, 0.85)
        poids = [rng.uniform(1.5, 3.0) if f == etat_id else rng.uniform(0.4, 1.4) for f in financeurs]
        somme = sum(poids)
        demandes = [max(500, round(taille * part * p / somme / 50) * 50) * 100 for p in poids]
        produits: list[tuple] = []
        if rng.random() < 0.45:
            produits.append(
                ("70", "Participation des usagers", round(taille * rng.uniform(0.02, 0.15)) * 100)
            )
        if rng.random() < 0.05:
            produits.append(("73", "Prix de journée", round(taille * rng.uniform(0.02, 0.1)) * 100))
        produits += [("74", None, montant, f, None) for f, montant in zip(financeurs, demandes, strict=True)]
        if rng.random() < 0.2:
            montant = round(taille * rng.uniform(0.03, 0.12) / 50) * 5_000
            produits.append(("74", None, montant, None, rng.choice(FINANCEURS_HORS_PLATEFORME)))
        if rng.random() < 0.85:
            produits.append(
                ("75", "Cotisations des adhérents", round(taille * rng.uniform(0.005, 0.04)) * 100)
            )
            if rng.random() < 0.3:
                dons = rng.randrange(5_000, max(10_000, round(taille * 4)))  # avec centimes
                produits.append(("75", "Dons manuels et mécénat", dons))
        for compte, libelle in (("76", "Intérêts"), ("77", "Produits exceptionnels"), ("78", "Reprises")):
            if rng.random() < 0.02:
                produits.append((compte, libelle, rng.randrange(1_000, 50_000)))
        total = sum(p[2] for p in produits)

        charges: list[list] = []
        centimes = rng.random() < 0.3
        for compte, part_compte, libelles, (mini, maxi), probabilite in CHARGES:
            if rng.random() >= probabilite:
                continue
            nombre = rng.randint(mini, maxi)
            for libelle in libelles[:nombre]:
                charges.append([compte, libelle, part_compte * rng.uniform(0.5, 1.5) / nombre])
        somme_poids = sum(c[2] for c in charges)
        reste = total
        for ligne in charges:
            if ligne[1] == "Rémunération des personnels":
                ligne[2] = None  # reçoit le reste : le budget tombe juste
                continue
            montant = int(total * ligne[2] / somme_poids)
            montant = montant if centimes else montant // 1_000 * 1_000
            ligne[2] = montant
            reste -= montant
        for ligne in charges:
            if ligne[2] is None:
                ligne[2] = reste

        # Contributions volontaires en nature : 86 = 87
        nature_charges: list[tuple] = []
        nature_produits: list[tuple] = []
        if rng.random() < 0.6:
            benevolat = rng.randrange(50, 1_500) * 1_188  # heures au SMIC horaire brut (11,88 €)
            nature_charges.append(("864", "Personnel bénévole", benevolat))
            nature_produits.append(("870", "Bénévolat", benevolat))
            prestations = 0
            if rng.random() < 0.4:
                montant = rng.randrange(50, 800) * 1_000
                nature_charges.append(("861", "Mise à disposition de locaux", montant))
                prestations += montant
            if rng.random() < 0.15:
                montant = rng.randrange(20, 300) * 1_000
                nature_charges.append(("862", "Prestations", montant))
                prestations += montant
            if prestations:
                nature_produits.append(("871", "Prestations en nature", prestations))
            if rng.random() < 0.1:
                montant = rng.randrange(10, 200) * 1_000
                nature_charges.append(("860", "Secours en nature", montant))
                nature_produits.append(("875", "Dons en nature", montant))
        nature_charges.sort()

        ordre = 0
        ajouter = self.lot["ligne_budget"].append
        for compte, libelle, montant in charges:
            ajouter(
                (self._id("ligne_budget"), demande_id, compte, libelle, _euros(montant), None, None, ordre)
            )
            ordre += 1
        for compte, libelle, montant in nature_charges:
            ajouter(
                (self._id("ligne_budget"), demande_id, compte, libelle, _euros(montant), None, None, ordre)
            )
            ordre += 1
        for produit in produits:
            compte, libelle, montant = produit[:3]
            financeur_id, financeur_libelle = produit[3:] if compte == "74" else (None, None)
            ajouter(
                (
                    self._id("ligne_budget"),
                    demande_id,
                    compte,
                    libelle,
                    _euros(montant),
                    financeur_id,
                    financeur_libelle,
                    ordre,
                )
            )
            ordre += 1
        for compte, libelle, montant in nature_produits:
            ajouter(
                (self._id("ligne_budget"), demande_id, compte, libelle, _euros(montant), None, None, ordre)
            )
            ordre += 1
        return demandes

    def _etapes(self, statut: S, n: int) -> list[L]:
        """Le statut de chaque ligne de financement, cohérent avec celui du dossier."""
        rng = self.rng
        if statut in (S.brouillon, S.attente_attestation, S.transmise):
            return [L.sollicitee] * n
        if statut in (S.retiree, S.classee_sans_suite):
            return [L.abandonnee] * n
        if statut is S.a_completer:
            return [rng.choice((L.sollicitee, L.prise_en_charge)) for _ in range(n)]
        if statut is S.en_instruction:
            etapes = rng.choices(
                (L.sollicitee, L.prise_en_charge, L.recevable, L.non_recevable), (3, 4, 4, 1), k=n
            )
            if all(e is L.sollicitee for e in etapes):
                etapes[0] = L.prise_en_charge
            if all(e in STATUTS_LIGNE_AVISEE for e in etapes):
                etapes[-1] = L.prise_en_charge
            return etapes
        if statut in (S.instruite, S.programmee):
            return [L.recevable if rng.random() < 0.85 else L.non_recevable for _ in range(n)]
        if statut is S.rejetee:
            return [L.refusee] * n
        finances = [rng.random() >= 0.12 for _ in range(n)]
        if not any(finances):
            finances[0] = True
        if statut is S.attribuee:
            choix, poids = (L.votee, L.engagee), (30, 70)
        elif statut is S.versee:
            choix, poids = (L.avance_versee, L.engagee), (75, 25)
        elif statut is S.justifiee:
            choix, poids = (L.soldee, L.avance_versee), (85, 15)
        else:  # à justifier, justification en cours ou à modifier
            choix, poids = (L.avance_versee, L.engagee), (80, 20)
        etapes = [rng.choices(choix, poids)[0] if f else L.refusee for f in finances]
        if statut is S.versee and L.avance_versee not in etapes:
            etapes[finances.index(True)] = L.avance_versee
        return etapes

    def _lignes(
        self, demande_id, statut, structure_id, campagne, financeurs, demandes, etapes, numero, transmise_le
    ):
        rng = self.rng
        comptes_rendus = None
        finances = [k for k, e in enumerate(etapes) if e in VOTEES]
        if statut in (S.justification_en_cours, S.justification_a_modifier) and finances:
            comptes_rendus = {k for k in finances if rng.random() < 0.35}
            if len(comptes_rendus) == len(finances):
                comptes_rendus.discard(finances[0])
        vote_le = _instant(campagne.comite).date()
        for k, (organisation_id, montant_demande, etape) in enumerate(
            zip(financeurs, demandes, etapes, strict=True)
        ):
            ligne_id = self._id("ligne_financement")
            propose = vote = motif = numero_engagement = document_id = None
            verse, valide, vote_jour = 0, False, None
            if etape in (L.recevable, *VOTEES) or (etape is L.refusee and rng.random() < 0.5):
                propose = montant_demande
                if rng.random() >= 0.55:
                    propose = max(10_000, round(montant_demande * rng.uniform(0.5, 0.95) / 10_000) * 10_000)
                    propose = min(propose, montant_demande)
            if etape is L.non_recevable or (etape is L.refusee and propose is None):
                motif = rng.choice(MOTIFS_NON_RECEVABLE)
            if etape in VOTEES:
                vote = propose
                if rng.random() >= 0.8:
                    vote = min(propose, max(10_000, round(propose * rng.uniform(0.6, 1.0) / 10_000) * 10_000))
                vote_jour = vote_le
            elif etape is L.refusee:
                vote, vote_jour = 0, vote_le
            convention = bool(vote and vote > SEUIL_CONVENTION)
            if etape is L.votee and convention and rng.random() < 0.6:
                etape = L.convention_a_signer
            if etape in ENGAGEES:
                if organisation_id in self.referentiel.organisations.etat:
                    numero_engagement = f"21{rng.randrange(10**8):08d}"  # EJ Chorus
                else:
                    numero_engagement = f"ENG-{campagne.exercice}-{rng.randrange(10**6):06d}"
                if convention:
                    document_id = self._convention(
                        demande_id, structure_id, organisation_id, numero, campagne
                    )
            if etape is L.avance_versee:
                verse = max(1, round(vote * rng.uniform(0.5, 0.8)))
            elif etape is L.soldee:
                verse, valide = vote, True
            if (statut is S.justifiee and etape in VOTEES) or (
                comptes_rendus is not None and k in comptes_rendus
            ):
                valide = True
            cle = (campagne.id, organisation_id)
            self.demandes[cle] = self.demandes.get(cle, 0) + montant_demande
            if vote:
                self.votes[cle] = self.votes.get(cle, 0) + vote
            self.lot["ligne_financement"].append(
                (
                    ligne_id,
                    demande_id,
                    organisation_id,
                    structure_id,
                    campagne.exercice,
                    numero,
                    transmise_le,
                    etape.value,
                    VERSION_LIGNE[etape] + (etape in ENGAGEES and convention),
                    _euros(montant_demande),
                    None if propose is None else _euros(propose),
                    motif,
                    None if vote is None else _euros(vote),
                    vote_jour,
                    convention,
                    document_id,
                    numero_engagement,
                    _euros(verse),
                    valide,
                )
            )
            etapes[k] = etape

    def _convention(self, demande_id, structure_id, organisation_id, numero, campagne) -> int:
        """La convention signée (pièce du porte-documents ; métadonnées seules, sans fichier)."""
        rng = self.rng
        document_id = self._id("document")
        nom = self.referentiel.organisations.nom[organisation_id]
        self.lot["document"].append(
            (
                document_id,
                structure_id,
                demande_id,
                "convention_signee",
                f"Convention {numero} – {nom}.pdf"[:255],
                f"volume-convention-{document_id:010d}",
                "application/pdf",
                rng.randrange(80_000, 900_000),
                f"{rng.getrandbits(256):064x}",
                _instant(
                    self._entre(campagne.comite, campagne.comite + 5 * JOUR, campagne.comite + 60 * JOUR)
                ),
            )
        )
        return document_id

    def _parcours(self, statut, transmise, campagne, duree, instructeur, pilote, lignes_etapes):
        """Les transitions qui ont mené au statut : [(déclencheur, avant, après, rôle, organisation, porteur,
        commentaire, instant)], la création et la dernière attestation."""
        rng = self.rng
        evenements = []
        etat = S.brouillon

        def passer(declencheur, apres, role, instant, organisation=None, commentaire=None):
            nonlocal etat
            porteur = role in ("contributeur", "signataire")
            evenements.append((declencheur, etat, apres, role, organisation, porteur, commentaire, instant))
            etat = apres

        def demander_complements(instant):
            passer(
                "demander_complements",
                S.a_completer,
                "instructeur",
                instant,
                instructeur,
                rng.choice(MESSAGES_COMPLEMENTS),
            )

        haut_depot = min(campagne.fin_depot, self.fin - HEURE)
        if statut is S.brouillon:
            return evenements, rng.uniform(campagne.ouverture, haut_depot), None
        if not transmise:  # en attente d'attestation, ou retirée avant d'être transmise
            cree, soumise = sorted(rng.uniform(campagne.ouverture, haut_depot) for _ in range(2))
            passer("soumettre", S.attente_attestation, "contributeur", soumise)
            if statut is S.retiree:
                t = self._entre(soumise, soumise, min(campagne.comite, soumise + 60 * JOUR))
                passer("retirer", S.retiree, "signataire", t, commentaire=rng.choice(MOTIFS_RETRAIT))
            return evenements, cree, None
        soumise = max(campagne.ouverture, transmise - rng.uniform(300, 3 * JOUR))
        cree = max(campagne.ouverture - 10 * JOUR, soumise - rng.uniform(HEURE, 30 * JOUR))
        passer("soumettre", S.attente_attestation, "contributeur", soumise)
        passer("attester", S.transmise, "signataire", transmise)
        atteste = t = transmise
        if statut is S.transmise:
            return evenements, cree, atteste
        fin_instruction = campagne.comite - 5 * JOUR
        if statut in (S.retiree, S.a_completer, S.classee_sans_suite) and rng.random() < 0.5:
            fin_instruction = self.fin  # arrêt à n'importe quel moment de l'instruction
        if statut is S.retiree:
            if rng.random() < 0.5:
                t = self._entre(t, t, fin_instruction)
                passer("debuter_instruction", S.en_instruction, "systeme", t)
            t = self._entre(t, t, fin_instruction)
            passer("retirer", S.retiree, "signataire", t, commentaire=rng.choice(MOTIFS_RETRAIT))
            return evenements, cree, atteste
        if statut is S.a_completer:
            if any(e is not L.sollicitee for e in lignes_etapes):  # une ligne prise en charge
                t = self._entre(t, t, fin_instruction)
                passer("debuter_instruction", S.en_instruction, "systeme", t)
            t = self._entre(t, t, fin_instruction)
            demander_complements(t)
            return evenements, cree, atteste
        t = self._entre(t, t, min(t + 30 * JOUR, fin_instruction))
        passer("debuter_instruction", S.en_instruction, "systeme", t)
        if statut is not S.en_instruction and rng.random() < 0.12:
            t = self._entre(t, t, fin_instruction)
            demander_complements(t)
            t = atteste = self._entre(t, t, fin_instruction)
            passer("attester", S.en_instruction, "signataire", t)
        if statut is S.en_instruction:
            return evenements, cree, atteste
        if statut is S.classee_sans_suite:
            if rng.random() < 0.3:
                t = self._entre(t, t, fin_instruction)
                passer("instruire", S.instruite, "systeme", t)
            t = self._entre(t, t, campagne.comite + 30 * JOUR)
            passer(
                "classer_sans_suite",
                S.classee_sans_suite,
                "instructeur",
                t,
                instructeur,
                rng.choice(MOTIFS_CLASSEMENT),
            )
            return evenements, cree, atteste
        t = self._entre(t, t, fin_instruction)
        passer("instruire", S.instruite, "systeme", t)
        if statut is S.instruite:
            return evenements, cree, atteste
        t = self._entre(t, campagne.comite - 21 * JOUR, campagne.comite - JOUR)
        passer("programmer", S.programmee, "pilote", t, pilote)
        if statut is S.programmee:
            return evenements, cree, atteste
        t = self._entre(t, campagne.comite, campagne.comite)
        if statut is S.rejetee:
            passer("rejeter", S.rejetee, "systeme", t)
            return evenements, cree, atteste
        passer("attribuer", S.attribuee, "systeme", t)
        if statut is S.attribuee:
            return evenements, cree, atteste
        if any(e in (L.avance_versee, L.soldee) for e in lignes_etapes):
            t = self._entre(t, campagne.comite + 10 * JOUR, campagne.comite + 120 * JOUR)
            passer("verser", S.versee, "systeme", t)
        if statut is S.versee:
            return evenements, cree, atteste
        annee = campagne.exercice + duree  # l'exercice de l'action est terminé
        t = self._entre(t, _secondes(date(annee, 1, 2), 8), _secondes(date(annee, 1, 25), 18))
        passer("cloturer_exercice", S.a_justifier, "pilote", t, pilote)
        if statut is S.a_justifier:
            return evenements, cree, atteste
        t = self._entre(t, _secondes(date(annee, 2, 1)), _secondes(date(annee, 6, 30), 20))
        passer("deposer_justification", S.justification_en_cours, "signataire", t)
        retour = statut is S.justification_a_modifier or rng.random() < 0.15
        if retour:
            t = self._entre(t, t + 5 * JOUR, t + 60 * JOUR)
            passer(
                "retourner_justification",
                S.justification_a_modifier,
                "instructeur",
                t,
                instructeur,
                rng.choice(MESSAGES_JUSTIFICATION),
            )
            if statut is S.justification_a_modifier:
                return evenements, cree, atteste
            t = self._entre(t, t + 3 * JOUR, t + 45 * JOUR)
            passer("deposer_justification", S.justification_en_cours, "signataire", t)
        if statut is S.justification_en_cours:
            return evenements, cree, atteste
        t = self._entre(t, t + 5 * JOUR, t + 90 * JOUR)
        passer("valider_justification", S.justifiee, "systeme", t)
        return evenements, cree, atteste

    def _demande(self, i: int) -> None:
        rng = self.rng
        plan = self.plan
        contrat = self.referentiel.contrats[plan.contrat[i]]
        exercice = plan.exercice[i]
        campagne = contrat.campagnes[exercice]
        statut = STATUTS[plan.statut[i]]
        structure_id = plan.structure[i]
        transmise = plan.transmise[i] or None
        numero = f"{exercice}-{plan.numero[i]:06d}" if plan.numero[i] else None

        # L'action : reconduite d'une année sur l'autre par la même structure (renouvellement)
        cle = structure_id * 8 + rng.randrange(self.structures.nb_actions[structure_id])
        precedente = self.actions.get(cle)
        if precedente and precedente[1] < exercice and precedente[4] == contrat.id:
            precedente_id, _, theme, titre, _, qpvs = precedente
            renouvellement = True
        else:
            precedente_id, renouvellement = None, False
            theme = self.tirage_theme(rng)
            nb_qpv = min(len(contrat.qpvs), rng.choices((1, 2, 3), (65, 28, 7))[0])
            qpvs = tuple(rng.sample(contrat.qpvs, nb_qpv))
            titre = f"{rng.choice(ACTIONS[theme][1])} – {qpvs[0][1]}"[:250]
        self.actions[cle] = (i, exercice, theme, titre, contrat.id, qpvs)

        duree = 1
        if rng.random() < 0.07:
            duree = rng.choice((2, 3))
            if statut in APRES_CLOTURE and exercice + duree - 1 >= self.referentiel.aujourdhui.year:
                duree = 1

        financeurs = self._financeurs(contrat)
        demandes = self._budget(i, financeurs, contrat.etat_id)
        # Comme le service (synchroniser_lignes_financement), les lignes de financement naissent à la
        # première attestation : avant, les financeurs sollicités ne figurent qu'au compte 74 du budget.
        etapes = self._etapes(statut, len(financeurs)) if transmise else []
        if transmise:
            self._lignes(
                i, statut, structure_id, campagne, financeurs, demandes, etapes, numero, _instant(transmise)
            )
        instructeur = financeurs[0]
        evenements, cree, atteste = self._parcours(
            statut,
            transmise,
            campagne,
            duree,
            instructeur,
            contrat.etat_id,
            etapes,
        )
        modifie = max([cree, *(e[7] for e in evenements)])
        precedente = None  # chaîne d'empreintes du journal de ce dossier (services/empreintes.py)
        for declencheur, avant, apres, role, organisation, porteur, commentaire, instant in evenements:
            horodatage = _instant(instant)
            champs = {
                "demande_id": i,
                "ligne_id": None,
                "acteur_id": None,
                "role": role,
                "organisation_id": organisation,
                "structure_id": structure_id if porteur else None,
                "declencheur": declencheur,
                "statut_avant": avant.value,
                "statut_apres": apres.value,
                "commentaire": commentaire,
            }
            scellee = empreinte(precedente, horodatage, **champs)
            self.lot["journal"].append(
                (
                    self._id("journal"),
                    i,
                    role,
                    organisation,
                    champs["structure_id"],
                    declencheur,
                    avant.value,
                    apres.value,
                    commentaire,
                    horodatage,
                    scellee,
                    precedente,
                )
            )
            precedente = scellee

        brouillon_incomplet = statut is S.brouillon and rng.random() < 0.4
        _, prenom = rng.choice(PERSONNES)
        salaries = rng.randrange(0, 4)
        debut_action = date(exercice, rng.choice((1, 1, 2, 3, 4, 9)), 1)
        fin_action = (
            date(exercice + duree - 1, 12, 31) if rng.random() < 0.8 else date(exercice + duree - 1, 7, 31)
        )
        fin_action = max(fin_action, debut_action + timedelta(days=60))
        self.lot["demande"].append(
            (
                i,
                numero,
                structure_id,
                campagne.id,
                exercice,
                statut.value,
                1 + len(evenements),
                f"{prenom} {rng.choice(NOMS)}",
                rng.choice(FONCTIONS),
                f"referent{structure_id}@volume.test",
                f"01 99 00 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                structure_id,  # le compte bancaire de la structure porte son identifiant
                titre,
                " ".join(rng.sample(OBJECTIFS, 2)),
                None
                if brouillon_incomplet
                else f"{rng.choice(RYTHMES)} {rng.choice(LIEUX)}, de {MOIS[debut_action.month - 1]} à "
                f"{MOIS[fin_action.month - 1]} {fin_action.year}. {rng.choice(DETAILS)}",
                rng.choice(PUBLICS),
                int(min(max(rng.lognormvariate(math.log(60), 0.9), 8), 2_000)),
                theme,
                debut_action,
                fin_action,
                None
                if brouillon_incomplet
                else f"{salaries} salarié·e·s ({salaries * rng.choice((5, 8, 10)) / 10:g} ETP) et "
                f"{rng.randrange(1, 15)} bénévoles.",
                None if brouillon_incomplet else "; ".join(rng.sample(INDICATEURS, 2)) + ".",
                renouvellement,
                duree,
                precedente_id,
                None if atteste is None else _instant(atteste),
                None if transmise is None else _instant(transmise),
                _instant(cree),
                _instant(modifie),
            )
        )
        self.lot["demande_qpv"] += [(i, qpv_id) for qpv_id, _ in qpvs]
        if rng.random() < 0.55:
            self.lot["demande_axe"] += [(i, axe) for axe in rng.sample(self.axes, rng.choice((1, 1, 2)))]
        if statut is not S.brouillon or rng.random() < 0.6:
            self.lot["reponse_eligibilite"] += [
                (i, question_id, attendue)
                for question_id, (_, attendue) in zip(campagne.questions, QUESTIONS, strict=True)
            ]

    def enveloppes(self) -> Iterator[tuple]:
        """Une enveloppe par financeur partenaire et par campagne : jamais moins que ce qui a été voté."""
        rng = random.Random(f"{self.graine}-enveloppes")
        identifiant = 0
        for contrat in self.referentiel.contrats:
            for campagne in contrat.campagnes.values():
                for organisation_id in (contrat.etat_id, *(f for f, _ in contrat.financeurs)):
                    cle = (campagne.id, organisation_id)
                    vote = self.votes.get(cle, 0) * rng.uniform(1.03, 1.3)
                    demande = self.demandes.get(cle, 0) * rng.uniform(0.55, 0.85)
                    montant = max(vote, demande) or contrat.population * rng.uniform(1, 5) * 100
                    montant = max(500_000, math.ceil(montant / 100_000) * 100_000)
                    identifiant += 1
                    yield identifiant, campagne.id, organisation_id, _euros(montant)


# --- Point d'entrée --------------------------------------------------------------------------


def _verifier_base_vide() -> None:
    tables = db.metadata.tables
    nb = db.session.execute(select(func.count()).select_from(tables["demande"])).scalar_one()
    if nb:
        raise ChargementImpossible(
            f"Chargement du volume refusé : la base contient déjà {nb} demande(s). Le jeu de volume ne se "
            "charge que dans une base vide, dédiée aux mesures, jamais par-dessus des données de "
            "démonstration ou réelles."
        )
    for nom, libelle in (
        ("contrat_de_ville", "contrat(s) de ville"),
        ("organisation", "organisation(s)"),
        ("structure", "structure(s)"),
        ("qpv", "QPV"),
        ("campagne", "campagne(s)"),
    ):
        nb = db.session.execute(select(func.count()).select_from(tables[nom])).scalar_one()
        if nb:
            raise ChargementImpossible(
                f"Chargement du volume refusé : la base contient déjà {nb} {libelle}. Le jeu de volume "
                "apporte son propre référentiel et ne se charge que dans une base vide."
            )


def charger_volume(
    nb_demandes: int,
    *,
    graine: int = 147,
    journal: Callable[[str], object] = print,
    aujourdhui: date | None = None,
) -> dict:
    """Charge le jeu de volume national dans la base de l'application courante et valide (commit).

    `aujourdhui` fixe le calendrier (exercices, statuts, horodatages) ; par défaut la date du jour.
    Rend le nombre de lignes insérées par table et la durée (`secondes`). Lève ChargementImpossible
    si la base contient déjà des demandes ou un référentiel.
    """
    if nb_demandes < 0:
        raise ValueError("Le nombre de demandes ne peut pas être négatif.")
    debut = time.perf_counter()
    aujourdhui = aujourdhui or date.today()
    _verifier_base_vide()

    def etape(message: str) -> None:
        journal(f"[{time.perf_counter() - debut:7.1f} s] {message}")

    try:
        charger_nomenclature()
        chargeur = _Chargeur()
        identifiants = _Identifiants()
        referentiel = _Referentiel(graine, aujourdhui, identifiants)
        referentiel.inserer(chargeur)
        etape(
            f"Référentiel : {len(referentiel.contrats)} contrats, {len(referentiel.lignes_qpv)} QPV, "
            f"{len(referentiel.organisations.lignes)} organisations, {len(referentiel.lignes_campagnes)} "
            f"campagnes (exercices {referentiel.exercices[0]}–{referentiel.exercices[-1]})."
        )
        structures = _Structures(graine, referentiel, identifiants)
        structures.inserer(chargeur)
        etape(f"Structures : {len(structures.lignes)} avec leur compte bancaire.")
        chargeur.suspendre_cles_etrangeres([nom for nom, _ in TABLES_LOT])
        plan = _Plan(graine, nb_demandes, referentiel)
        generateur = _Generateur(graine, referentiel, structures, plan)
        for debut_lot in range(1, nb_demandes + 1, TAILLE_LOT):
            fin_lot = min(debut_lot + TAILLE_LOT, nb_demandes + 1)
            lot = generateur.produire(debut_lot, fin_lot)
            for nom, colonnes in TABLES_LOT:
                chargeur.inserer(nom, colonnes, lot[nom])
            if (fin_lot - 1) % (TAILLE_LOT * 10) == 0 or fin_lot > nb_demandes:
                etape(f"Demandes : {fin_lot - 1} / {nb_demandes}.")
        chargeur.inserer(
            "enveloppe", ("id", "campagne_id", "organisation_id", "montant"), generateur.enveloppes()
        )
        if chargeur.suspendues:
            chargeur.retablir_cles_etrangeres()
            etape("Clés étrangères rétablies et vérifiées.")
        _compteurs(plan.compteurs)
        chargeur.recaler_sequences()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if chargeur.postgresql:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    comptes = {nom: chargeur.lignes.get(nom, 0) for nom in sorted(chargeur.lignes)}
    comptes["compteur_numero"] = len(plan.compteurs)
    comptes["secondes"] = round(time.perf_counter() - debut, 1)
    etape(f"Terminé : {nb_demandes} demandes en {comptes['secondes']} s.")
    return comptes


def _compteurs(derniers: dict[int, int]) -> None:
    """Le compteur de chaque exercice reprend au plus grand numéro attribué."""
    from dauphin.models import CompteurNumero

    for exercice, dernier in derniers.items():
        compteur = db.session.get(CompteurNumero, exercice)
        if compteur is None:
            db.session.add(CompteurNumero(exercice=exercice, dernier=dernier))
        else:
            compteur.dernier = max(compteur.dernier, dernier)
    db.session.flush()
