"""La matrice des autorisations, tirée de la carte des routes de l'application.

Chaque route est demandée par chaque rôle — anonyme, membres de la structure porteuse, administrateur d'une
autre structure, instructeur du financeur, instructeur d'un autre financeur, partenaire d'un autre contrat,
pilote, administration nationale — sur les objets de la structure et du contrat de test (que les rôles
« autres » ne possèdent pas). Le résultat attendu est une catégorie :

- ``ok`` : la page répond (200), ou l'action est prise en compte ou refusée pour sa saisie (302 ailleurs que
  vers la connexion, 400, 409, 422) — l'utilisateur y a droit ;
- ``refus`` : 401 (API sans jeton), 403 ou 404, sans rien révéler ;
- ``connexion`` : redirection vers la page de connexion (anonyme).

Une route ajoutée sans entrée dans `MATRICE` fait échouer `test_chaque_route_a_son_entree`.
Les requêtes POST sont envoyées vides : un droit se vérifie avant toute validation de la saisie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from dauphin.extensions import db as _db
from dauphin.models import (
    CompteBancaire,
    DemandeAcces,
    Document,
    EvenementJournal,
    Invitation,
    LivraisonWebhook,
    MembreOrganisation,
    MembreStructure,
    NatureVersement,
    Organisation,
    ReportDates,
    RoleOrganisation,
    RoleStructure,
    StatutLivraison,
    TypeOrganisation,
    Versement,
    maintenant,
)
from dauphin.services import api as jetons
from dauphin.services import comites, donnees_ouvertes, lectures, sessions, webhooks
from dauphin.services.documents import cle_du_fichier
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from dauphin.stockage import stockage
from tests.connexions import se_connecter
from tests.fabriques_db import demande_complete, utilisateur

ROLES = (
    "anonyme",
    "contributeur",
    "signataire",
    "administrateur",  # administrateur de la structure porteuse
    "admin_autre_structure",
    "instructeur",  # du financeur sollicité
    "instructeur_autre_financeur",
    "partenaire_autre_contrat",
    "pilote",
    "admin_national",
)
MEMBRES = {"contributeur", "signataire", "administrateur"}
CONNECTES = set(ROLES) - {"anonyme"}
ADMIN = {"admin_national"}


@dataclass(frozen=True)
class Entree:
    url: Callable[[dict], str]
    ok: frozenset[str]
    methode: str = "GET"
    # Sans droit, l'anonyme est renvoyé vers la connexion ; sur une page publique il est « ok ».
    anonyme: str = "connexion"
    donnees: Callable[[dict], dict] | None = None  # ce qu'un formulaire légitime enverrait


def entree(url, ok, methode="GET", anonyme="connexion", donnees=None):
    return Entree(url, frozenset(ok), methode, anonyme, donnees)


def public(url):
    return Entree(url, frozenset(ROLES), "GET", "ok")


MATRICE: dict[str, Entree] = {
    # Pages publiques et comptes
    "public.accueil": public(lambda o: "/"),
    "public.accessibilite": public(lambda o: "/accessibilite"),
    "public.cycle_de_vie": public(lambda o: "/cycle-de-vie"),
    "public.donnees_personnelles": public(lambda o: "/donnees-personnelles"),
    "public.mentions_legales": public(lambda o: "/mentions-legales"),
    "public.donnees_ouvertes_page": public(lambda o: "/donnees-ouvertes/"),
    "sante": public(lambda o: "/sante"),  # sonde des répartiteurs de charge : à tous, sans session
    "public.fichier_donnees_ouvertes": public(lambda o: f"/donnees-ouvertes/{o['fichier_donnees_ouvertes']}"),
    "auth.connexion": public(lambda o: "/compte/connexion"),
    "auth.deconnexion": entree(lambda o: "/compte/deconnexion", CONNECTES, "POST"),
    "comptes.inscription": public(lambda o: "/compte/inscription"),
    "comptes.inscription_envoyee": public(lambda o: "/compte/inscription/courriel-envoye"),
    # Un lien signé invalide n'ouvre rien, à personne.
    "comptes.confirmer": entree(lambda o: "/compte/confirmation/jeton-invalide", set(), anonyme="refus"),
    "comptes.invitation": entree(lambda o: "/compte/invitation/jeton-invalide", set(), anonyme="refus"),
    "comptes.renvoyer_confirmation": public(lambda o: "/compte/confirmation/renvoyer"),
    "comptes.mon_compte": entree(lambda o: "/compte/", CONNECTES),
    "comptes.changer_mot_de_passe": entree(lambda o: "/compte/mot-de-passe", CONNECTES),
    "comptes.mot_de_passe_oublie": public(lambda o: "/compte/mot-de-passe/oublie"),
    "comptes.mot_de_passe_demande_envoyee": public(lambda o: "/compte/mot-de-passe/oublie/courriel-envoye"),
    # Sessions et double authentification : chacun les siennes (une session d'un autre compte : 404). Le
    # second temps de la connexion (code, activation imposée) renvoie à la connexion sans mot de passe
    # vérifié, et à l'accueil une fois connecté.
    "auth.code": entree(lambda o: "/compte/connexion/code", CONNECTES),
    "auth.activer_second_facteur": entree(lambda o: "/compte/connexion/double-authentification", CONNECTES),
    "auth.etat_session": public(lambda o: "/compte/session/etat"),
    "auth.prolonger_session": entree(lambda o: "/compte/session/prolonger", CONNECTES, "POST"),
    "comptes.fermer_session": entree(
        lambda o: f"/compte/sessions/{o['session_autre_appareil']}/fermer", {"contributeur"}, "POST"
    ),
    "comptes.fermer_les_autres_sessions": entree(
        lambda o: "/compte/sessions/fermer-les-autres", CONNECTES, "POST"
    ),
    "comptes.double_authentification": entree(lambda o: "/compte/double-authentification", CONNECTES),
    "comptes.activer_second_facteur": entree(lambda o: "/compte/double-authentification/activer", CONNECTES),
    "comptes.desactiver_second_facteur": entree(
        lambda o: "/compte/double-authentification/desactiver", CONNECTES, "POST"
    ),
    "comptes.renouveler_codes_secours": entree(
        lambda o: "/compte/double-authentification/codes-de-secours", CONNECTES, "POST"
    ),
    "comptes.reinitialiser_mot_de_passe": entree(
        lambda o: "/compte/mot-de-passe/reinitialiser/jeton-invalide", set(), anonyme="refus"
    ),
    # Porteur : structures
    "structures.mes_structures": entree(lambda o: "/structures/", CONNECTES),
    "structures.inscrire": entree(lambda o: "/structures/inscrire", CONNECTES),
    "structures.demander_acces": entree(lambda o: f"/structures/acces/{o['siret']}", CONNECTES),
    "structures.voir": entree(lambda o: f"/structures/{o['structure']}", MEMBRES),
    "structures.modifier": entree(lambda o: f"/structures/{o['structure']}/modifier", {"administrateur"}),
    "structures.inviter": entree(lambda o: f"/structures/{o['structure']}/inviter", {"administrateur"}),
    "structures.ajouter_compte": entree(
        lambda o: f"/structures/{o['structure']}/comptes-bancaires/ajouter", {"administrateur"}
    ),
    "structures.desactiver_compte": entree(
        lambda o: f"/structures/{o['structure']}/comptes-bancaires/{o['compte']}/desactiver",
        {"administrateur"},
        "POST",
    ),
    "structures.changer_role": entree(
        lambda o: f"/structures/{o['structure']}/membres/{o['membre']}/role", {"administrateur"}, "POST"
    ),
    "structures.retirer_membre": entree(  # l'administrateur, ou le membre qui quitte lui-même la structure
        lambda o: f"/structures/{o['structure']}/membres/{o['membre']}/retirer",
        {"administrateur", "contributeur"},
    ),
    "structures.transmettre_administration": entree(
        lambda o: f"/structures/{o['structure']}/membres/{o['membre_signataire']}/administration",
        {"administrateur"},
    ),
    "structures.revoquer_invitation": entree(
        lambda o: f"/structures/{o['structure']}/invitations/{o['invitation']}/revoquer",
        {"administrateur"},
        "POST",
    ),
    "structures.traiter_acces": entree(
        lambda o: f"/structures/{o['structure']}/acces/{o['demande_acces']}", {"administrateur"}
    ),
    # Porteur : documents, demandes, tableau de bord
    "documents.porte_documents": entree(lambda o: f"/documents/structure/{o['structure']}", MEMBRES),
    "documents.archiver": entree(lambda o: f"/documents/{o['document']}/archiver", MEMBRES),
    "documents.restaurer": entree(lambda o: f"/documents/{o['document']}/restaurer", MEMBRES, "POST"),
    # Une pièce jointe à une demande transmise : ceux qui voient la demande la téléchargent.
    "documents.telecharger": entree(
        lambda o: f"/documents/{o['document']}/telecharger",
        MEMBRES | {"instructeur", "pilote", "admin_national"},
    ),
    # Le tableau de bord est celui des structures de l'utilisateur (l'isolation : tests/test_isolation.py).
    "usager.tableau_de_bord": entree(lambda o: "/mes-demandes/", MEMBRES | {"admin_autre_structure"}),
    # Les appels à projets ouverts sont publics pour tout compte (qui n'a pas de structure y est guidé).
    "demandes.campagnes": entree(lambda o: "/demandes/campagnes", CONNECTES),
    "demandes.nouvelle": entree(
        lambda o: "/demandes/nouvelle",
        MEMBRES,
        "POST",
        donnees=lambda o: {"campagne_id": o["campagne"], "structure_id": o["structure"]},
    ),
    "demandes.etape": entree(lambda o: f"/demandes/{o['brouillon']}/etape/action", MEMBRES),
    "demandes.soumettre": entree(lambda o: f"/demandes/{o['brouillon']}/soumettre", MEMBRES, "POST"),
    "demandes.modifier": entree(lambda o: f"/demandes/{o['brouillon']}/modifier", MEMBRES, "POST"),
    # Attester : un signataire ; retirer (et la page du motif) : un signataire ou l'administrateur.
    "demandes.attester": entree(lambda o: f"/demandes/{o['brouillon']}/attester", {"signataire"}, "POST"),
    "demandes.retirer": entree(
        lambda o: f"/demandes/{o['demande']}/retirer", {"signataire", "administrateur"}
    ),
    "demandes.renouveler": entree(lambda o: f"/demandes/{o['demande']}/renouveler", MEMBRES, "POST"),
    # Le dossier : le porteur, les financeurs sollicités, les partenaires et le pilote du contrat.
    "dossiers.voir": entree(
        lambda o: f"/dossiers/{o['demande']}", MEMBRES | {"instructeur", "pilote", "admin_national"}
    ),
    # Qui a consulté le dossier : l'administrateur de la structure et l'administration nationale (les autres
    # membres et les financeurs voient le dossier : 403 ; qui ne le voit pas : 404).
    "dossiers.consultations": entree(
        lambda o: f"/dossiers/{o['demande']}/consultations", {"administrateur", "admin_national"}
    ),
    # Instruction
    "instruction.corbeille": entree(
        lambda o: "/instruction/",
        {"instructeur", "instructeur_autre_financeur", "partenaire_autre_contrat", "pilote"},
    ),
    "instruction.enveloppes": entree(
        lambda o: "/instruction/enveloppes",
        {"instructeur", "instructeur_autre_financeur", "partenaire_autre_contrat", "pilote"},
    ),
    "instruction.action_ligne": entree(
        lambda o: f"/instruction/lignes/{o['ligne']}/recevable", {"instructeur"}
    ),
    "instruction.action_dossier": entree(
        lambda o: f"/instruction/dossiers/{o['demande']}/complements", {"instructeur"}
    ),
    "instruction.ajouter_note": entree(
        lambda o: f"/instruction/dossiers/{o['demande']}/notes", {"instructeur", "pilote"}
    ),
    # Comité de pilotage
    "comites.liste": entree(
        lambda o: "/comites/",
        {
            "instructeur",
            "instructeur_autre_financeur",
            "partenaire_autre_contrat",
            "pilote",
            "admin_national",
        },
    ),
    "comites.nouvelle": entree(lambda o: "/comites/nouvelle", {"pilote"}),
    "comites.voir": entree(lambda o: f"/comites/{o['seance']}", {"instructeur", "pilote", "admin_national"}),
    "comites.inscrire": entree(lambda o: f"/comites/{o['seance']}/inscrire", {"pilote"}, "POST"),
    "comites.retirer_point": entree(
        lambda o: f"/comites/{o['seance']}/points/{o['point']}/retirer", {"pilote"}, "POST"
    ),
    "comites.ouvrir": entree(lambda o: f"/comites/{o['seance']}/ouvrir", {"pilote"}, "POST"),
    "comites.clore": entree(lambda o: f"/comites/{o['seance']}/clore", {"pilote"}),
    "comites.voter": entree(
        lambda o: f"/comites/{o['seance']}/points/{o['point']}/vote/{o['organisation_instructeur']}",
        {"instructeur"},
        "POST",
    ),
    "comites.saisir_montant": entree(
        lambda o: f"/comites/{o['seance']}/points/{o['point']}/lignes/{o['ligne_point']}/montant",
        {"instructeur"},
        "POST",
    ),
    # Le procès-verbal n'existe qu'après la clôture : la séance de test est en préparation (404 pour tous).
    "comites.proces_verbal": entree(lambda o: f"/comites/{o['seance']}/proces-verbal.pdf", set()),
    "comites.presences": entree(lambda o: f"/comites/{o['seance']}/presences", {"pilote"}, "POST"),
    "comites.convoquer": entree(lambda o: f"/comites/{o['seance']}/convocation", {"pilote"}, "POST"),
    # La convocation n'existe qu'une fois envoyée (404 pour tous ici) ; qui la télécharge ensuite :
    # tests/test_comites.py (ceux qui voient la séance, VOIR_SEANCE).
    "comites.convocation": entree(lambda o: f"/comites/{o['seance']}/convocation.pdf", set()),
    # API JSON : seuls les jetons y ouvrent des droits (tests/test_api.py) ; une session n'y ouvre rien.
    "api.lister_demandes": entree(lambda o: "/api/v1/demandes", set(), anonyme="refus"),
    "api.lire_demande": entree(lambda o: f"/api/v1/demandes/{o['demande']}", set(), anonyme="refus"),
    "api.declencher": entree(
        lambda o: f"/api/v1/lignes/{o['ligne']}/transitions", set(), "POST", anonyme="refus"
    ),
    "api.lire_programmation": entree(
        lambda o: f"/api/v1/campagnes/{o['campagne']}/programmation", set(), anonyme="refus"
    ),
    "api.lister_subventions": entree(
        lambda o: f"/api/v1/donnees-ouvertes/subventions?exercice={o['exercice']}", set(), anonyme="refus"
    ),
    "api.lister_evenements": entree(lambda o: "/api/v1/evenements", set(), anonyme="refus"),
    "api.lire_ligne": entree(lambda o: f"/api/v1/lignes/{o['ligne']}", set(), anonyme="refus"),
    "api.lister_versements": entree(lambda o: "/api/v1/versements", set(), anonyme="refus"),
    "api.lister_campagnes": entree(lambda o: "/api/v1/campagnes", set(), anonyme="refus"),
    "api.lister_enveloppes": entree(lambda o: "/api/v1/enveloppes", set(), anonyme="refus"),
    "api.lister_seances": entree(lambda o: "/api/v1/seances", set(), anonyme="refus"),
    "api.lister_structures": entree(lambda o: "/api/v1/structures", set(), anonyme="refus"),
    "api.lister_comptes_rendus": entree(lambda o: "/api/v1/comptes-rendus", set(), anonyme="refus"),
    "api.lister_pieces": entree(lambda o: f"/api/v1/demandes/{o['demande']}/pieces", set(), anonyme="refus"),
    "api.telecharger_document": entree(
        lambda o: f"/api/v1/documents/{o['document']}/contenu", set(), anonyme="refus"
    ),
    "api.enregistrer_engagement": entree(
        lambda o: f"/api/v1/lignes/{o['ligne']}/engagement", set(), "PUT", anonyme="refus"
    ),
    "api.prevoir_echeance": entree(
        lambda o: f"/api/v1/lignes/{o['ligne']}/echeances", set(), "POST", anonyme="refus"
    ),
    "api.enregistrer_paiement": entree(
        lambda o: f"/api/v1/versements/{o['versement']}/paiement", set(), "POST", anonyme="refus"
    ),
    "api.retourner_compte_rendu": entree(
        lambda o: f"/api/v1/demandes/{o['demande']}/compte-rendu/retour", set(), "POST", anonyme="refus"
    ),
    "api.openapi": public(lambda o: "/api/v1/openapi.json"),
    "api.documentation": public(lambda o: "/api/v1/documentation"),
    # Jetons d'API : un instructeur pour son organisation, l'administration nationale pour toutes.
    "jetons.liste": entree(
        lambda o: "/jetons-api/", {"instructeur", "instructeur_autre_financeur", "admin_national"}
    ),
    "jetons.choisir_organisation": entree(
        lambda o: "/jetons-api/nouveau", {"instructeur", "instructeur_autre_financeur", "admin_national"}
    ),
    "jetons.creer": entree(
        lambda o: f"/jetons-api/organisations/{o['organisation_instructeur']}/nouveau",
        {"instructeur", "admin_national"},
    ),
    "jetons.revoquer": entree(
        lambda o: f"/jetons-api/{o['jeton']}/revoquer", {"instructeur", "admin_national"}
    ),
    # Webhooks : les mêmes que pour les jetons (GERER_JETONS).
    "webhooks.liste": entree(
        lambda o: "/webhooks/", {"instructeur", "instructeur_autre_financeur", "admin_national"}
    ),
    "webhooks.choisir_organisation": entree(
        lambda o: "/webhooks/nouveau", {"instructeur", "instructeur_autre_financeur", "admin_national"}
    ),
    "webhooks.creer": entree(
        lambda o: f"/webhooks/organisations/{o['organisation_instructeur']}/nouveau",
        {"instructeur", "admin_national"},
    ),
    "webhooks.livraisons": entree(
        lambda o: f"/webhooks/{o['abonnement']}", {"instructeur", "admin_national"}
    ),
    "webhooks.desactiver": entree(
        lambda o: f"/webhooks/{o['abonnement']}/desactiver", {"instructeur", "admin_national"}
    ),
    "webhooks.renvoyer": entree(
        lambda o: f"/webhooks/livraisons/{o['livraison']}/renvoyer", {"instructeur", "admin_national"}, "POST"
    ),
    # Engagement et versements : le financeur de la ligne ; le signataire dépose la convention signée.
    "engagements.acte": entree(lambda o: f"/engagements/lignes/{o['ligne']}/acte", {"instructeur"}),
    "engagements.relancer_acte": entree(
        lambda o: f"/engagements/lignes/{o['ligne']}/acte/relancer", {"instructeur"}, "POST"
    ),
    "engagements.convention_signee": entree(
        lambda o: f"/engagements/lignes/{o['ligne']}/convention-signee", {"instructeur", "signataire"}
    ),
    "engagements.engagement": entree(
        lambda o: f"/engagements/lignes/{o['ligne']}/engagement", {"instructeur"}
    ),
    "engagements.prevoir": entree(lambda o: f"/engagements/lignes/{o['ligne']}/echeances", {"instructeur"}),
    "engagements.paiement": entree(
        lambda o: f"/engagements/echeances/{o['versement']}/paiement", {"instructeur"}
    ),
    "engagements.supprimer": entree(
        lambda o: f"/engagements/echeances/{o['versement']}/supprimer", {"instructeur"}, "POST"
    ),
    # Compte rendu financier : la structure le remplit ; le financeur qui a voté décide d'un report de dates ;
    # le pilote clôt l'exercice de ses contrats.
    "justification.formulaire": entree(lambda o: f"/comptes-rendus/{o['justifier']}", MEMBRES),
    "justification.report": entree(lambda o: f"/comptes-rendus/{o['reportable']}/report", MEMBRES),
    "justification.decider_report": entree(
        lambda o: f"/comptes-rendus/reports/{o['report']}", {"instructeur"}
    ),
    "justification.cloture": entree(lambda o: "/comptes-rendus/cloture", {"pilote"}),
    # Pilotage et administration
    "pilotage.contrats": entree(lambda o: "/pilotage/", {"pilote"}),
    "administration.accueil": entree(lambda o: "/administration/", ADMIN),
    # Référentiel, comptes et historique : l'administration nationale seule (POST envoyés vides).
    "administration.activation_compte": entree(
        lambda o: f"/administration/comptes/{o['contributeur_id']}/activation", ADMIN, "POST"
    ),
    "administration.activation_organisation": entree(
        lambda o: f"/administration/organisations/{o['organisation_instructeur']}/activation", ADMIN, "POST"
    ),
    "administration.activation_thematique": entree(
        lambda o: "/administration/thematiques/1.5/activation", ADMIN, "POST"
    ),
    "administration.reinitialiser_second_facteur": entree(
        lambda o: f"/administration/comptes/{o['contributeur_id']}/second-facteur", ADMIN, "POST"
    ),
    "administration.administration_nationale": entree(
        lambda o: f"/administration/comptes/{o['contributeur_id']}/administration-nationale", ADMIN, "POST"
    ),
    "administration.ajouter_partenaire": entree(
        lambda o: f"/administration/contrats/{o['contrat']}/partenaires", ADMIN, "POST"
    ),
    "administration.ajouter_pilotage": entree(
        lambda o: f"/administration/comptes/{o['contributeur_id']}/pilotages", ADMIN, "POST"
    ),
    "administration.ajouter_role": entree(
        lambda o: f"/administration/comptes/{o['contributeur_id']}/organisations", ADMIN, "POST"
    ),
    "administration.compte": entree(lambda o: f"/administration/comptes/{o['contributeur_id']}", ADMIN),
    "administration.comptes": entree(lambda o: "/administration/comptes", ADMIN),
    "administration.contrat": entree(lambda o: f"/administration/contrats/{o['contrat']}", ADMIN),
    "administration.contrats": entree(lambda o: "/administration/contrats", ADMIN),
    "administration.historique": entree(lambda o: "/administration/historique", ADMIN),
    "administration.lectures": entree(lambda o: "/administration/lectures", ADMIN),
    "administration.importer": entree(lambda o: "/administration/imports/contrats", ADMIN),
    "administration.confirmer_import": entree(
        lambda o: "/administration/imports/contrats/confirmer", ADMIN, "POST"
    ),
    "administration.organisation": entree(
        lambda o: f"/administration/organisations/{o['organisation_instructeur']}/modifier", ADMIN
    ),
    "administration.organisations": entree(lambda o: "/administration/organisations", ADMIN),
    "administration.qpvs": entree(lambda o: "/administration/qpv", ADMIN),
    "administration.regles_comite": entree(
        lambda o: f"/administration/contrats/{o['contrat']}/regles", ADMIN, "POST"
    ),
    "administration.retirer_partenaire": entree(
        lambda o: f"/administration/contrats/{o['contrat']}/partenaires/{o['organisation_caf']}/retirer",
        ADMIN,
        "POST",
    ),
    "administration.retirer_pilotage": entree(
        lambda o: f"/administration/comptes/{o['pilote_id']}/pilotages/{o['pilotage']}/retirer", ADMIN, "POST"
    ),
    "administration.retirer_role": entree(
        lambda o: (
            f"/administration/comptes/{o['instructeur_id']}/organisations/{o['adhesion_instructeur']}/retirer"
        ),
        ADMIN,
        "POST",
    ),
    "administration.supprimer_thematique": entree(
        lambda o: "/administration/thematiques/1.5/supprimer", ADMIN, "POST"
    ),
    "administration.thematique": entree(lambda o: "/administration/thematiques/1.5/modifier", ADMIN),
    "administration.thematiques": entree(lambda o: "/administration/thematiques", ADMIN),
    # Programmation : le pilote, les signataires du contrat (lecture), l'administration nationale.
    "pilotage.programmations": entree(
        lambda o: "/pilotage/programmation/",
        {
            "instructeur",
            "instructeur_autre_financeur",
            "partenaire_autre_contrat",
            "pilote",
            "admin_national",
        },
    ),
    "pilotage.programmation": entree(
        lambda o: f"/pilotage/programmation/{o['campagne']}", {"instructeur", "pilote", "admin_national"}
    ),
    "pilotage.export_csv": entree(
        lambda o: f"/pilotage/programmation/{o['campagne']}/export.csv",
        {"instructeur", "pilote", "admin_national"},
    ),
    "pilotage.export_xlsx": entree(
        lambda o: f"/pilotage/programmation/{o['campagne']}/export.xlsx",
        {"instructeur", "pilote", "admin_national"},
    ),
    "administration.tableau_de_bord": entree(lambda o: "/administration/tableau-de-bord", ADMIN),
    # Boîte d'envoi des courriels et reprise de l'envoi (tests/test_pannes.py) : l'administration nationale.
    "administration.courriels": entree(lambda o: "/administration/courriels", ADMIN),
    "administration.relancer_courriels": entree(
        lambda o: "/administration/courriels/relancer", ADMIN, "POST"
    ),
    # Modèles de courriels, rendus avec leurs données d'exemple (tests/test_gabarits_courriels.py).
    "administration.modeles_courriels": entree(lambda o: "/administration/courriels/modeles", ADMIN),
    "administration.modele_courriel": entree(
        lambda o: "/administration/courriels/modeles/complements_demandes", ADMIN
    ),
    "administration.modele_courriel_html": entree(
        lambda o: "/administration/courriels/modeles/complements_demandes/html", ADMIN
    ),
    "administration.exports": entree(lambda o: "/administration/exports", ADMIN),
    # Un export inconnu n'existe pour personne (les exports produits : tests/test_programmation.py).
    "administration.telecharger_export": entree(lambda o: "/administration/exports/inconnu.xlsx", set()),
    # Campagnes : le pilote du contrat.
    "pilotage.nouvelle_campagne": entree(
        lambda o: f"/pilotage/campagnes/nouvelle?contrat={o['contrat']}", {"pilote"}
    ),
    "pilotage.modifier_campagne": entree(
        lambda o: f"/pilotage/campagnes/{o['campagne']}/modifier", {"pilote"}
    ),
}

ROUTES_TECHNIQUES = {"static", "dsfr.fichier"}  # fichiers statiques, publics par nature


@dataclass(frozen=True)
class Compte:
    """Un compte de rôle, lisible hors de la session qui l'a chargé."""

    id: int
    email: str


def _a_justifier(monde, intitule: str):
    """Une demande votée par ses deux financeurs puis passée « à justifier » par la clôture de l'exercice."""
    demande = demande_complete(monde, intitule=intitule)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    financeurs = {monde.etat.id: monde.instructeur_etat, monde.commune.id: monde.instructeur_commune}
    for lf in list(demande.lignes_financement):
        declencher_ligne(lf.id, "prendre_en_charge", financeurs[lf.organisation_id])
        declencher_ligne(lf.id, "declarer_recevable", financeurs[lf.organisation_id], montant=Decimal("100"))
    declencher_demande(demande.id, "programmer", monde.pilote)
    for lf in list(demande.lignes_financement):
        declencher_ligne(lf.id, "voter", financeurs[lf.organisation_id], montant=Decimal("100"))
    declencher_demande(
        demande.id, "cloturer_exercice", monde.pilote, aujourdhui=date(demande.exercice + 1, 1, 15)
    )
    return demande


def construire_objets(monde) -> dict:
    """Les objets de la structure porteuse et de son contrat, et les comptes de chaque rôle (validés)."""
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    ligne = next(lf for lf in demande.lignes_financement if lf.organisation_id == monde.etat.id)
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    brouillon = demande_complete(monde, intitule="Brouillon de test")
    document = _db.session.get(Document, demande.pieces_jointes[0].document_id)
    # Une seconde demande instruite, inscrite à une séance en préparation
    instruite = demande_complete(monde, intitule="Dossier du comité")
    declencher_demande(instruite.id, "soumettre", monde.contributeur)
    declencher_demande(instruite.id, "attester", monde.signataire, attestation=True)
    for lf in list(instruite.lignes_financement):
        compte = monde.instructeur_etat if lf.organisation_id == monde.etat.id else monde.instructeur_commune
        declencher_ligne(lf.id, "prendre_en_charge", compte)
        declencher_ligne(lf.id, "declarer_recevable", compte, montant=Decimal("100"))
    # Une troisième et une quatrième, votées puis « à justifier » (exercice clos) : leur compte rendu est
    # ouvert ; la troisième attend la réponse à une demande de report, la quatrième peut en demander un.
    justifier = _a_justifier(monde, "Action à justifier")
    reportable = _a_justifier(monde, "Action aux dates à décaler")
    seance = comites.creer_seance(monde.pilote, monde.campagne.id, aujourdhui(), None)
    comites.inscrire(seance.id, [instruite.id], monde.pilote)
    point = comites.charger(seance.id).points[0]
    ligne_point = next(lf for lf in instruite.lignes_financement if lf.organisation_id == monde.etat.id)
    stockage().ecrire(cle_du_fichier(document.cle_stockage), b"%PDF-1.4\n%%EOF\n")  # la pièce existe vraiment

    region = Organisation(nom="Région hors contrat", type_organisation=TypeOrganisation.region)
    _db.session.add(region)
    _db.session.flush()
    instructeur_autre = utilisateur("instructeur.region@test.fr")
    _db.session.add(
        MembreOrganisation(
            utilisateur_id=instructeur_autre.id, organisation_id=region.id, role=RoleOrganisation.instructeur
        )
    )
    invitation = Invitation(
        structure_id=monde.structure.id,
        email="invite@test.fr",
        role=RoleStructure.contributeur,
        invite_par_id=monde.administrateur.id,
        expire_le=maintenant() + timedelta(days=7),
    )
    acces = DemandeAcces(
        structure_id=monde.structure.id, utilisateur_id=monde.sans_role.id, message="Bonjour"
    )
    echeance = Versement(
        ligne_id=ligne.id,
        nature=NatureVersement.avance,
        date_prevue=aujourdhui(),
        montant_prevu=Decimal("10"),
    )
    report = ReportDates(
        demande_id=justifier.id,
        date_debut=justifier.date_debut,
        date_fin=justifier.date_fin + timedelta(days=90),
        motif="Retard de livraison du matériel.",
    )
    _db.session.add_all([invitation, acces, echeance, report])
    monde.etat.siret = "17590001800011"
    _db.session.commit()
    # Un fichier de données ouvertes publié (en-tête seul), servi à tous par la page publique
    publication = donnees_ouvertes.enregistrer_publication(
        monde.etat.id, monde.campagne.exercice, donnees_ouvertes.contenu_csv([]), 0
    )
    jeton, _ = jetons.creer_jeton(
        monde.instructeur_etat,
        monde.etat.id,
        libelle="Outil de suivi",
        portees=["lecture"],
        expire_le=aujourdhui() + timedelta(days=30),
    )
    # Une adresse de webhook (injoignable : un renvoi échoue tout de suite) et une livraison abandonnée
    abonnement, _ = webhooks.creer(monde.instructeur_etat, monde.etat.id, "http://127.0.0.1:9/dauphin")
    livraison = LivraisonWebhook(
        abonnement_id=abonnement.id,
        journal_id=_db.session.scalar(select(EvenementJournal.id).order_by(EvenementJournal.id.desc())),
        statut=StatutLivraison.echec,
        tentatives=8,
    )
    _db.session.add(livraison)
    _db.session.commit()
    # Des lectures tracées : « Qui a consulté ce dossier » et la liste nationale ont des lignes à montrer.
    for lu in (
        lectures.lecture_du_dossier(monde.instructeur_etat, demande),
        lectures.lecture_du_document(monde.pilote, document, demande.id),
        lectures.lecture_du_dossier(jeton, demande),
        lectures.lecture_d_export(
            monde.pilote,
            f"Programmation {monde.campagne.exercice} du contrat {monde.contrat.code} (CSV)",
            {"campagne": monde.campagne.id, "format": "csv", "statut": "transmise"},
            monde.contrat,
        ),
    ):
        lectures.ecrire(lu, "192.0.2.10")
    _db.session.commit()
    membres = {
        m.utilisateur_id: m.id
        for m in _db.session.query(MembreStructure).filter_by(structure_id=monde.structure.id)
    }
    comptes = {
        "contributeur": monde.contributeur,
        "signataire": monde.signataire,
        "administrateur": monde.administrateur,
        "admin_autre_structure": monde.signataire_autre,
        "instructeur": monde.instructeur_etat,
        "instructeur_autre_financeur": instructeur_autre,
        "partenaire_autre_contrat": monde.partenaire_autre_contrat,
        "pilote": monde.pilote,
        "admin_national": monde.admin_national,
    }
    # Une session du contributeur sur un autre appareil (« Mes sessions »)
    sessions.ouvrir(
        monde.contributeur, "198.51.100.4", "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Firefox/128.0"
    )
    autre_appareil = monde.contributeur.session_courante.id
    monde.contributeur.session_courante = monde.contributeur.jeton_de_session = None
    return {
        "session_autre_appareil": autre_appareil,
        "comptes": {role: Compte(compte.id, compte.email) for role, compte in comptes.items()},
        "structure": monde.structure.id,
        "siret": monde.structure.siret,
        "membre": membres[monde.contributeur.id],
        "membre_signataire": membres[monde.signataire.id],
        "compte": _db.session.query(CompteBancaire).filter_by(structure_id=monde.structure.id).first().id,
        "invitation": invitation.id,
        "demande_acces": acces.id,
        "demande": demande.id,
        "brouillon": brouillon.id,
        "ligne": ligne.id,
        "document": document.id,
        "seance": seance.id,
        "point": point.id,
        "ligne_point": ligne_point.id,
        "campagne": monde.campagne.id,
        "organisation_instructeur": monde.etat.id,
        "jeton": jeton.id,
        "abonnement": abonnement.id,
        "livraison": livraison.id,
        "versement": echeance.id,
        "report": report.id,
        "justifier": justifier.id,
        "reportable": reportable.id,
        "contrat": monde.contrat.id,
        "contributeur_id": monde.contributeur.id,
        "pilote_id": monde.pilote.id,
        "instructeur_id": monde.instructeur_etat.id,
        "organisation_caf": monde.caf.id,
        "pilotage": monde.pilote.pilotages[0].id,
        "adhesion_instructeur": monde.instructeur_etat.adhesions_organisations[0].id,
        "fichier_donnees_ouvertes": publication.nom_fichier,
        "exercice": monde.campagne.exercice,
    }


def categorie(reponse) -> str:
    if reponse.status_code in (401, 403, 404):
        return "refus"
    if reponse.status_code in (301, 302, 303) and "/compte/connexion" in reponse.headers.get("Location", ""):
        return "connexion"
    assert reponse.status_code < 500, reponse.status_code
    return "ok"


def test_chaque_route_a_son_entree(app):
    routes = {regle.endpoint for regle in app.url_map.iter_rules()} - ROUTES_TECHNIQUES
    assert routes - set(MATRICE) == set(), "Routes sans entrée dans la matrice des autorisations"
    assert set(MATRICE) - routes == set(), "Entrées de la matrice sans route"


@pytest.fixture(scope="module")
def objets(transaction_du_module):
    """Construits une fois pour le module (et pour tests/test_routes_proprietes.py, qui l'importe) ; chaque
    test les retrouve intacts, ses écritures étant annulées à sa fin."""
    from tests.fabriques_db import charger_monde

    objets = construire_objets(charger_monde())
    _db.session.remove()
    return objets


@pytest.fixture(scope="module")
def sessions_par_role(_application, objets):
    """Le cookie de session de chaque rôle, connecté une fois par le vrai formulaire pour tout le module :
    les connexions sont validées dans la transaction du module, que les tests retrouvent intacte."""
    sessions = {}
    client = _application.test_client()
    for role, compte in objets["comptes"].items():
        reponse = se_connecter(client, compte.email)
        assert reponse.status_code == 302, f"Connexion impossible pour {role}"
        sessions[role] = client.get_cookie("session").value
        g.pop("_login_user", None)
        client.delete_cookie("session")
    _db.session.remove()
    return sessions


@pytest.mark.parametrize("endpoint", sorted(MATRICE))
def test_matrice(app, client, objets, sessions_par_role, endpoint):
    attendu_entree = MATRICE[endpoint]
    url = attendu_entree.url(objets)
    ecarts = {}
    for role in ROLES:
        g.pop("_login_user", None)  # le compte de la requête précédente, gardé dans le contexte du test
        if role == "anonyme":
            attendu = attendu_entree.anonyme
            client.delete_cookie("session")
        else:
            attendu = "ok" if role in attendu_entree.ok else "refus"
            client.set_cookie("session", sessions_par_role[role])
        donnees = attendu_entree.donnees(objets) if attendu_entree.donnees else None
        reponse = client.open(url, method=attendu_entree.methode, data=donnees)
        obtenu = categorie(reponse)
        reponse.close()  # un export en flux referme son contexte ici, pas au ramasse-miettes
        if obtenu != attendu:
            ecarts[role] = f"attendu {attendu}, obtenu {obtenu} ({reponse.status_code})"
    assert ecarts == {}, f"{attendu_entree.methode} {url}"


# Les noms que `url_for` se réserve, tapés dans la barre d'adresse : recopiés dans les liens d'une liste
# (pagination, tri, onglets), ils donnaient une erreur 500 (« endpoint ») ou des liens absolus.
PARAMETRES_RESERVES = "endpoint=x&_external=1&_anchor=ancre&_scheme=https&_method=POST"


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, entree in MATRICE.items() if entree.methode == "GET" and entree.ok)
)
def test_parametres_reserves_de_url_for_dans_l_adresse(app, client, objets, sessions_par_role, endpoint):
    """Chaque page, ouverte par un rôle qui y a droit avec les paramètres réservés de `url_for` dans son
    adresse, répond sans erreur serveur et sans lien absolu ; une page par élément (PAGE_TAILLE = 1) pour
    que toute liste de plus d'un élément affiche sa pagination."""
    entree_ = MATRICE[endpoint]
    url = entree_.url(objets)
    url += ("&" if "?" in url else "?") + PARAMETRES_RESERVES
    role = "anonyme" if entree_.anonyme == "ok" else next(r for r in ROLES if r in entree_.ok)
    g.pop("_login_user", None)
    if role == "anonyme":
        client.delete_cookie("session")
    else:
        client.set_cookie("session", sessions_par_role[role])
    taille = app.config["PAGE_TAILLE"]
    app.config["PAGE_TAILLE"] = 1
    try:
        reponse = client.get(url)
        corps = reponse.get_data(as_text=True) if reponse.mimetype == "text/html" else ""
        reponse.close()
    finally:
        app.config["PAGE_TAILLE"] = taille
    assert reponse.status_code < 500, f"GET {url} ({role}) : {reponse.status_code}"
    assert 'href="http://localhost' not in corps and 'href="https://localhost' not in corps, url
    assert "#ancre" not in corps, url
