"""L'API JSON sous /api/v1 : authentification par jeton d'organisation (`Authorization: Bearer …`), lecture
des demandes du périmètre de l'organisation, actions d'instruction sur sa ligne, document OpenAPI.

Toute réponse sous /api/ est du JSON, erreurs comprises : `{"erreur": "…", "details": …}`. Pas de jeton
CSRF (aucun cookie n'authentifie ici), une limite de requêtes par jeton (Flask-Limiter). La lecture d'un
dossier ou d'une programmation est tracée au nom du jeton et de son organisation (`dauphin.lectures`).
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, NotFound

from dauphin.api import schemas
from dauphin.api.openapi import MESSAGES_ERREURS, Registre, document, operation, proprietes, type_lisible
from dauphin.extensions import csrf, db, limiter
from dauphin.lectures import noter
from dauphin.models import Campagne
from dauphin.policies import gere_des_jetons
from dauphin.policies.jetons import DESCRIPTIONS_PORTEES, Portee
from dauphin.services import api as service
from dauphin.services import documents, donnees_ouvertes, engagements, idempotence, lectures
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.stockage import FichierAbsent
from workflows import StatutDemande, StatutLigne, TransitionRefusee

journal = logging.getLogger(__name__)

PREFIXE = "/api/v1"
ENTIER = "<int(min=1, max=2147483647):{}>"

bp = Blueprint("api", __name__, url_prefix=PREFIXE)
registre = Registre(PREFIXE)
csrf.exempt(bp)

DESCRIPTION = """API JSON de Dauphin pour les organisations financeuses et partenaires.

Chaque jeton appartient à une organisation et agit au nom d’un compte réel (son titulaire), dans les
seules **portées** choisies à sa création :

- `lecture` : lire ce que l’organisation voit dans l’espace d’instruction (ses lignes de financement et les
  dossiers des contrats de ville dont elle est partenaire) ;
- `instruction` : prise en charge et avis de recevabilité sur la ligne de l’organisation, validation ou
  retour du compte rendu financier ;
- `comite` : correction et annulation motivées d’un vote du comité sur sa ligne ;
- `paiement` : numéro d’engagement juridique, échéancier et paiements de sa ligne.

Une opération hors des portées du jeton est refusée (403). Le journal du dossier retient le titulaire, en
qualité d’instructeur de l’organisation, et le jeton. Les écritures acceptent un en-tête
`Idempotency-Key` : rejouée avec la même clé et le même corps, la requête rend la réponse déjà donnée sans
rien refaire. Les erreurs sont en JSON : `{"erreur": "…", "details": …}`."""


# --- Authentification et limite par jeton -----------------------------------------------------------


def _jeton_en_clair() -> str | None:
    entete = request.headers.get("Authorization", "")
    methode, _, valeur = entete.partition(" ")
    if methode.lower() != "bearer":
        return None
    return valeur.strip() or None


def cle_limite() -> str:
    """Une limite par jeton (son empreinte, jamais le clair) ; sans jeton, par adresse."""
    clair = _jeton_en_clair()
    if clair:
        return "jeton:" + hashlib.sha256(clair.encode("utf-8", "surrogatepass")).hexdigest()
    return "adresse:" + (get_remote_address() or "")


limiter.limit(lambda: current_app.config["API_LIMITE"], key_func=cle_limite)(bp)


@bp.before_request
def authentifier():
    vue = current_app.view_functions.get(request.endpoint)
    if vue is None or getattr(vue, "operation_publique", False):
        return None
    g.jeton = service.authentifier(_jeton_en_clair())
    return None


# --- Erreurs en JSON --------------------------------------------------------------------------------


def reponse_erreur(code: int, message: str, details=None, entetes=None):
    reponse = jsonify({"erreur": message, "details": details})
    reponse.status_code = code
    for nom, valeur in (entetes or {}).items():
        reponse.headers[nom] = valeur
    return reponse


MESSAGES_HTTP = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Ressource introuvable, ou hors du périmètre de votre organisation.",
    405: "Méthode non permise sur cette adresse.",
    409: "Conflit.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
    429: "Trop de requêtes pour ce jeton : réessayez dans un moment.",
}


def erreur_http(erreur: HTTPException):
    """Toute erreur HTTP sous /api/ (route inconnue et méthode non permise comprises) : en JSON."""
    db.session.rollback()
    code = erreur.code or 500
    entetes = {}
    if code == 405 and erreur.valid_methods:
        entetes["Allow"] = ", ".join(erreur.valid_methods)
    details = {"limite": str(erreur.limit.limit)} if code == 429 and hasattr(erreur, "limit") else None
    return reponse_erreur(code, MESSAGES_HTTP.get(code, erreur.name), details, entetes)


def erreur_interne(erreur: Exception):
    db.session.rollback()
    journal.exception("Erreur non rattrapée sur %s %s", request.method, request.path)
    return reponse_erreur(500, "Erreur interne : elle a été journalisée.")


@bp.errorhandler(service.JetonRefuse)
def jeton_refuse(erreur: service.JetonRefuse):
    db.session.rollback()
    entetes = {"WWW-Authenticate": 'Bearer realm="dauphin"'} if erreur.code == 401 else None
    return reponse_erreur(erreur.code, str(erreur), entetes=entetes)


@bp.errorhandler(ValidationError)
def saisie_invalide(erreur: ValidationError):
    db.session.rollback()
    return reponse_erreur(400, "Requête invalide : voir le détail par champ.", erreur.messages)


@bp.errorhandler(Conflit)
def conflit(erreur: Conflit):
    db.session.rollback()
    message = str(erreur)
    if message == str(Conflit()):
        message = (
            "La ligne a été modifiée entre-temps : rien n’a été enregistré. Relisez le dossier et renvoyez "
            "l’action avec la version actuelle de la ligne."
        )
    return reponse_erreur(409, message.replace("Rechargez la page.", "Relisez le dossier."))


@bp.errorhandler(NonAutorise)
def non_autorise(erreur: NonAutorise):
    db.session.rollback()
    return reponse_erreur(403, "Votre organisation ne peut pas faire cette action sur ce dossier.")


@bp.errorhandler(Refus)
def refus(erreur: Refus):
    db.session.rollback()
    return reponse_erreur(422, erreur.message, {"champ": erreur.champ} if erreur.champ else None)


@bp.errorhandler(idempotence.CleRefusee)
def cle_refusee(erreur: idempotence.CleRefusee):
    db.session.rollback()
    return reponse_erreur(erreur.code, str(erreur))


@bp.errorhandler(TransitionRefusee)
def transition_refusee(erreur: TransitionRefusee):
    db.session.rollback()
    return reponse_erreur(
        422,
        "Transition refusée : " + "; ".join(p.message for p in erreur.problemes),
        [{"code": p.code, "message": p.message, "champ": p.champ} for p in erreur.problemes],
    )


bp.register_error_handler(HTTPException, erreur_http)
bp.register_error_handler(Exception, erreur_interne)


def est_requete_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


# --- Opérations -------------------------------------------------------------------------------------


@operation(
    bp,
    registre,
    "/demandes",
    resume="Lister les demandes visibles de l’organisation",
    parametres=schemas.FiltresDemandes,
    reponse=schemas.ListeDemandes,
)
def lister_demandes(filtres: dict):
    """Les dossiers transmis dont l’organisation est financeur sollicité, ou d’un contrat de ville dont elle
    est partenaire ; dans l’ordre de leur dernière modification, par pages que relie le curseur `suivant`.
    Avec `modifie_depuis`, un logiciel ne relit que ce qui a changé depuis son dernier passage."""
    criteres = service.FiltresApi(
        exercice=filtres.get("exercice"),
        contrat_id=filtres.get("contrat"),
        statut_dossier=StatutDemande(filtres["statut"]) if filtres.get("statut") else None,
        statut_ligne=StatutLigne(filtres["statut_ligne"]) if filtres.get("statut_ligne") else None,
        modifie_depuis=filtres.get("modifie_depuis"),
        recherche=(filtres.get("q") or "").strip() or None,
    )
    demandes, suivant = service.page_demandes(
        g.jeton, criteres, apres=filtres.get("apres"), par_page=filtres["par_page"]
    )
    return {"demandes": demandes, "suivant": suivant}


@operation(
    bp,
    registre,
    "/demandes/" + ENTIER.format("demande_id"),
    resume="Lire une demande, ses lignes de financement, son journal et ses notes",
    reponse=schemas.DemandeDetail,
    erreurs=(404,),
)
def lire_demande(demande_id: int):
    """Ce que l’écran du dossier montre à l’organisation : le contenu de la demande, toutes ses lignes de
    financement (avis compris), l’historique complet, les notes partagées et les notes privées de
    l’organisation (jamais celles d’une autre). Hors périmètre : 404, sans révéler l’existence."""
    demande = service.demande_visible(g.jeton, demande_id)
    noter(lectures.lecture_du_dossier(g.jeton, demande))  # tracée comme une lecture par l'organisation
    return _Avec(demande, journal=service.journal(demande), notes=service.notes(demande, g.jeton))


class _Avec:
    """La demande, plus ce que le schéma de sortie lit à côté d'elle (journal, notes)."""

    def __init__(self, objet, **en_plus):
        self._objet = objet
        self.__dict__.update(en_plus)

    def __getattr__(self, nom):
        return getattr(self._objet, nom)


@operation(
    bp,
    registre,
    "/lignes/" + ENTIER.format("ligne_id") + "/transitions",
    "POST",
    resume="Faire une action d’instruction sur la ligne de l’organisation",
    corps=schemas.Transition,
    reponse=schemas.Ligne,
    erreurs=(403, 404, 409, 422),
    action_du_corps="declencheur",
    actions=service.DECLENCHEURS_LIGNE,
)
def declencher(ligne_id: int, donnees: dict):
    """Prendre en charge, déclarer recevable (avec `montant`), non recevable (avec le motif en
    `commentaire`) ou réviser l’avis, sur la seule ligne de l’organisation du jeton, au nom de son
    titulaire. `version` est celle de la ligne lue : si elle a changé entre-temps, 409 et rien n’est
    enregistré. Une règle du workflow qui refuse donne 422 et la liste de ce qui manque."""
    ligne = service.declencher(
        g.jeton,
        ligne_id,
        donnees["declencheur"],
        version=donnees["version"],
        commentaire=donnees.get("commentaire"),
        montant=donnees.get("montant"),
    )
    return ligne


@operation(
    bp,
    registre,
    "/campagnes/" + ENTIER.format("campagne_id") + "/programmation",
    resume="Lire la programmation d’une campagne",
    etiquette="Programmation",
    parametres=schemas.FiltresProgrammation,
    reponse=schemas.Programmation,
    erreurs=(404,),
)
def lire_programmation(campagne_id: int, filtres: dict):
    """La programmation d’une campagne d’un contrat de ville dont l’organisation est signataire : une
    page de demandes avec, par financeur, les montants demandés, proposés, votés et versés ; les totaux par
    financeur et par pilier ; la consommation des enveloppes. Hors périmètre : 404.

    Les demandes viennent dans l’ordre de leur dernière modification, par pages que relie le curseur
    `suivant`. Avec `modifie_depuis`, seules les demandes modifiées depuis cet instant : toute écriture
    sur le dossier (une ligne instruite, votée, engagée, un échéancier, un paiement) en change la date.
    `total`, `totaux` et `enveloppes` restent ceux de toute la campagne (au `statut` demandé), quelle
    que soit la page et quel que soit `modifie_depuis`."""
    resultat, suivant = service.programmation_visible(
        g.jeton,
        campagne_id,
        statut=StatutDemande(filtres["statut"]) if filtres.get("statut") else None,
        **_communs(filtres),
    )
    campagne = db.session.get(Campagne, campagne_id)
    noter(
        lectures.lecture_d_export(
            g.jeton,
            f"Programmation {campagne.exercice} du contrat {campagne.contrat.code} (API)",
            {
                "campagne": campagne_id,
                **{
                    cle: filtres[cle]
                    for cle in ("statut", "modifie_depuis", "apres", "par_page")
                    if filtres.get(cle)
                },
            },
            campagne.contrat,
        )
    )
    return {**programmation_typee(resultat.en_dict()), "suivant": suivant}


def programmation_typee(donnees: dict) -> dict:
    """Les montants par financeur de l'écran (un dictionnaire par id) en listes typées pour l'API ; le
    nombre de demandes de la campagne en `total` (l'API pagine par curseur, pas par numéro de page)."""

    def par_financeur(montants: dict) -> list[dict]:
        return [{"financeur": int(cle), **valeurs} for cle, valeurs in montants.items()]

    donnees = dict(donnees)
    pagination = donnees.pop("pagination")
    return {
        **donnees,
        "demandes": [{**d, "montants": par_financeur(d["montants"])} for d in donnees["demandes"]],
        "total": pagination["total"],
        "totaux": {**donnees["totaux"], "financeurs": par_financeur(donnees["totaux"]["financeurs"])},
    }


@operation(
    bp,
    registre,
    "/donnees-ouvertes/subventions",
    resume="Lire les données essentielles des subventions attribuées (SCDL)",
    etiquette="Données ouvertes",
    parametres=schemas.FiltresSubventions,
    reponse=schemas.ListeSubventions,
)
def lister_subventions(filtres: dict):
    """Les subventions engagées d’un exercice (notifiées, ou dont la convention est signée), une par ligne de
    financement votée, au format SCDL Subventions 2.1.1 : les lignes des fichiers publiés sur la page
    « Données ouvertes » du portail, colonne pour colonne (une cellule vide y est `null` ; un texte qui
    commence par = + - @, que le fichier préfixe d’une apostrophe pour les tableurs, est ici tel quel).
    Seulement celles des dossiers du périmètre de l’organisation. Le schéma officiel de ces lignes est à
    l’adresse `schema_scdl`.

    Les lignes viennent dans l’ordre de la dernière modification de leur demande, par pages que relie le
    curseur `suivant`. La date qui compte est celle de la **demande** (`modifie_le`) : la ligne de
    financement n’a pas de date propre, mais toute écriture sur le dossier — vote, acte, numéro
    d’engagement, échéancier, paiement, ligne d’un cofinanceur, la demande elle-même — change celle de la
    demande. Avec `modifie_depuis`, seules les lignes des demandes modifiées depuis cet instant : ce qui a
    pu changer depuis votre dernier passage. Ni une ligne qui cesse d’être publiable (vote annulé), ni
    le renommage d’une structure ou d’un financeur (hors du dossier) n’y paraissent : relisez de temps en
    temps tout l’exercice."""
    exercice = filtres["exercice"]
    lignes, suivant, sans_siret = service.subventions_visibles(
        g.jeton, exercice, filtres.get("financeur"), **_communs(filtres)
    )
    return {
        "exercice": exercice,
        "schema_scdl": url_for("static", filename=donnees_ouvertes.NOM_SCHEMA, _external=True),
        "subventions": [{nom: valeur or None for nom, valeur in ligne.items()} for ligne in lignes],
        "financeurs_sans_siret": sans_siret,
        "suivant": suivant,
    }


# --- Campagnes, enveloppes, comité, structures, comptes rendus, pièces -----------------------------


def _liste(nom: str, resultat) -> dict:
    elements, suivant = resultat
    return {nom: elements, "suivant": suivant}


def _communs(filtres: dict) -> dict:
    return {
        "modifie_depuis": filtres.get("modifie_depuis"),
        "apres": filtres.get("apres"),
        "par_page": filtres["par_page"],
    }


@operation(
    bp,
    registre,
    "/campagnes",
    resume="Lister les campagnes",
    etiquette="Campagnes et comité",
    parametres=schemas.FiltresListe,
    reponse=schemas.ListeCampagnes,
)
def lister_campagnes(filtres: dict):
    """Les campagnes (appels à projets annuels) des contrats de ville dont l’organisation est signataire,
    comme l’écran de la programmation ; dans l’ordre de leur dernière modification, par curseur."""
    return _liste("campagnes", service.page_campagnes(g.jeton, **_communs(filtres)))


@operation(
    bp,
    registre,
    "/enveloppes",
    resume="Lister les enveloppes",
    etiquette="Campagnes et comité",
    parametres=schemas.FiltresParCampagne,
    reponse=schemas.ListeEnveloppes,
)
def lister_enveloppes(filtres: dict):
    """Les enveloppes (budget d’un financeur pour une campagne) de l’organisation, et toutes celles des
    contrats qu’elle pilote ; dans l’ordre de leur dernière modification, par curseur."""
    resultat = service.page_enveloppes(g.jeton, campagne_id=filtres.get("campagne"), **_communs(filtres))
    return _liste("enveloppes", resultat)


@operation(
    bp,
    registre,
    "/seances",
    resume="Lister les séances du comité, leurs votes et leurs décisions",
    etiquette="Campagnes et comité",
    parametres=schemas.FiltresParCampagne,
    reponse=schemas.ListeSeances,
)
def lister_seances(filtres: dict):
    """Les séances du comité de pilotage des contrats que l’organisation voit : ordre du jour, vote de
    chaque partenaire, décision et montant saisi par chaque financeur ; par curseur. `modifie_depuis` suit
    la séance elle-même (ouverture du vote, clôture) : un vote saisi se lit dans `votes`."""
    resultat = service.page_seances(g.jeton, campagne_id=filtres.get("campagne"), **_communs(filtres))
    return _liste("seances", resultat)


@operation(
    bp,
    registre,
    "/structures",
    resume="Lister les structures porteuses",
    etiquette="Campagnes et comité",
    parametres=schemas.FiltresListe,
    reponse=schemas.ListeStructures,
)
def lister_structures(filtres: dict):
    """Les structures porteuses des dossiers que l’organisation voit ; par curseur."""
    return _liste("structures", service.page_structures(g.jeton, **_communs(filtres)))


@operation(
    bp,
    registre,
    "/comptes-rendus",
    resume="Lister les comptes rendus financiers déposés",
    parametres=schemas.FiltresListe,
    reponse=schemas.ListeComptesRendus,
)
def lister_comptes_rendus(filtres: dict):
    """Les comptes rendus financiers déposés des dossiers que l’organisation voit, poste par poste (prévu,
    réalisé, écart expliqué) ; par curseur. Pour les valider ou les renvoyer : portée « instruction »."""
    return _liste("comptes_rendus", service.page_comptes_rendus(g.jeton, **_communs(filtres)))


@operation(
    bp,
    registre,
    "/demandes/" + ENTIER.format("demande_id") + "/pieces",
    resume="Lister les pièces jointes d’une demande",
    reponse=schemas.Pieces,
    erreurs=(404,),
)
def lister_pieces(demande_id: int):
    """Les pièces jointes du dossier (type, nom, taille, empreinte SHA-256) ; le contenu de chacune se
    télécharge par `/documents/{document_id}/contenu`."""
    return {"pieces": service.pieces_visibles(g.jeton, demande_id)}


@operation(
    bp,
    registre,
    "/documents/" + ENTIER.format("document_id") + "/contenu",
    resume="Télécharger une pièce ou un acte",
    reponse=None,
    erreurs=(404,),
    fichier=True,
)
def telecharger_document(document_id: int):
    """Le fichier, avec son type et son nom (`Content-Disposition`), si l’organisation voit le dossier
    auquel il est joint (même règle que l’écran) ; le téléchargement est tracé au nom du jeton. 404
    sinon."""
    document = service.document_telechargeable(g.jeton, document_id)
    try:  # la même réponse que l'écran : le stockage (disque ou seau), en flux, les mêmes en-têtes
        reponse = documents.reponse_piece(document)
    except (ValueError, FichierAbsent):
        journal.error("Fichier absent du stockage pour le document %s", document.id)
        raise NotFound() from None
    noter(lectures.lecture_du_document(g.jeton, document, None))
    return reponse


# --- Engagements, échéancier, paiements, compte rendu -----------------------------------------------


def _ligne_et_echeancier(ligne) -> _Avec:
    return _Avec(ligne, echeancier=engagements.echeanciers([ligne.id])[ligne.id])


@operation(
    bp,
    registre,
    "/lignes/" + ENTIER.format("ligne_id"),
    resume="Lire une ligne de financement, son engagement et son échéancier",
    etiquette="Engagements et paiements",
    reponse=schemas.LigneEngagement,
    erreurs=(404,),
)
def lire_ligne(ligne_id: int):
    """Une ligne de financement d’un dossier du périmètre : avis, vote, numéro d’engagement juridique et
    échéancier (échéances prévues et payées). Hors périmètre : 404."""
    return _ligne_et_echeancier(service.ligne_visible(g.jeton, ligne_id))


@operation(
    bp,
    registre,
    "/versements",
    resume="Lister les échéances et les paiements",
    etiquette="Engagements et paiements",
    parametres=schemas.FiltresVersements,
    reponse=schemas.ListeVersements,
)
def lister_versements(filtres: dict):
    """Les échéances prévues et payées des lignes des dossiers du périmètre, dans l’ordre de leur dernière
    modification, par pages que relie le curseur `suivant` ; `modifie_depuis` pour ne relire que ce qui a
    changé."""
    versements, suivant = service.page_versements(
        g.jeton,
        ligne_id=filtres.get("ligne"),
        payes=filtres.get("payes"),
        modifie_depuis=filtres.get("modifie_depuis"),
        apres=filtres.get("apres"),
        par_page=filtres["par_page"],
    )
    return {"versements": versements, "suivant": suivant}


@operation(
    bp,
    registre,
    "/lignes/" + ENTIER.format("ligne_id") + "/engagement",
    "PUT",
    resume="Enregistrer le numéro d’engagement juridique de la ligne",
    etiquette="Engagements et paiements",
    corps=schemas.Engagement,
    reponse=schemas.LigneEngagement,
    erreurs=(404,),
    action="enregistrer_engagement",
)
def enregistrer_engagement(ligne_id: int, donnees: dict):
    """Le numéro d’engagement juridique (EJ) de la ligne de votre organisation, saisi ou corrigé, comme à
    l’écran de l’engagement ; journalisé. La ligne doit être engagée (notifiée ou conventionnée) : sinon
    409. Le même numéro renvoyé ne change rien."""
    ligne = service.enregistrer_engagement(g.jeton, ligne_id, donnees["numero"], donnees["version"])
    return _ligne_et_echeancier(service.ligne_visible(g.jeton, ligne.id))


@operation(
    bp,
    registre,
    "/lignes/" + ENTIER.format("ligne_id") + "/echeances",
    "POST",
    resume="Ajouter une échéance à l’échéancier de la ligne",
    etiquette="Engagements et paiements",
    corps=schemas.NouvelleEcheance,
    reponse=schemas.VersementSortie,
    erreurs=(404,),
    action="prevoir_echeance",
    statut=201,
)
def prevoir_echeance(ligne_id: int, donnees: dict):
    """Une avance ou le solde, à une date prévue, sur la ligne de votre organisation : le total prévu et
    versé reste borné par le montant voté (422 sinon, avec le champ en cause). Journalisé."""
    return service.prevoir_echeance(
        g.jeton, ligne_id, donnees["nature"], donnees["date_prevue"], donnees["montant"], donnees["version"]
    )


@operation(
    bp,
    registre,
    "/versements/" + ENTIER.format("versement_id") + "/paiement",
    "POST",
    resume="Enregistrer le paiement d’une échéance",
    etiquette="Engagements et paiements",
    corps=schemas.Paiement,
    reponse=schemas.VersementSortie,
    erreurs=(404,),
    action="enregistrer_paiement",
)
def enregistrer_paiement(versement_id: int, donnees: dict):
    """Le paiement d’une échéance de la ligne de votre organisation, comme à l’écran : avance ou solde
    (le solde exige le compte rendu financier validé), jamais sans numéro d’engagement, jamais deux fois
    (une échéance déjà payée : 409). Journalisé ; la structure est prévenue par courriel. Envoyez un
    `Idempotency-Key` : un envoi rejoué rend la même réponse sans second paiement."""
    return service.enregistrer_paiement(
        g.jeton,
        versement_id,
        donnees["verse_le"],
        donnees["montant"],
        donnees["reference"],
        donnees["version"],
    )


@operation(
    bp,
    registre,
    "/demandes/" + ENTIER.format("demande_id") + "/compte-rendu/retour",
    "POST",
    resume="Renvoyer le compte rendu financier au porteur",
    corps=schemas.RetourCompteRendu,
    reponse=schemas.DemandeResume,
    erreurs=(404,),
    action="retourner_justification",
)
def retourner_compte_rendu(demande_id: int, donnees: dict):
    """Le compte rendu financier déposé est renvoyé au porteur avec ce qu’il doit modifier (par un
    financeur qui a voté une subvention) ; le dossier passe « justification à modifier ». Pour le valider,
    déclenchez `valider_compte_rendu` sur votre ligne (`/lignes/{ligne_id}/transitions`)."""
    return service.retourner_compte_rendu(g.jeton, demande_id, donnees["commentaire"], donnees["version"])


@operation(
    bp,
    registre,
    "/openapi.json",
    resume="Le document OpenAPI 3 de cette API",
    etiquette="Documentation",
    publique=True,
)
def openapi():
    """Produit à partir du code (routes et schémas marshmallow)."""
    return jsonify(document_openapi())


def document_openapi() -> dict:
    return document(registre, titre="API Dauphin", version="1.0.0", description=DESCRIPTION)


# CommonMark sans HTML brut : les descriptions OpenAPI (Markdown) mises en forme, le texte échappé
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def description_html(texte: str | None) -> Markup:
    return Markup(_MARKDOWN.render(texte or ""))


@bp.route("/documentation")
def documentation():
    """La même description, lisible dans le portail (aucune ressource extérieure)."""
    spec = document_openapi()
    gere = gere_des_jetons(current_user)
    return render_template(
        "api/documentation.html",
        spec=spec,
        messages_erreurs=MESSAGES_ERREURS,
        proprietes=proprietes,
        type_lisible=type_lisible,
        base=url_for("api.lister_demandes", _external=True).removesuffix("/demandes"),
        portees=list(Portee),
        descriptions=DESCRIPTIONS_PORTEES,
        gere_jetons=gere,  # le lien vers l'écran des jetons, pour qui y a droit
        # Le numéro à donner à `flask api jeton creer --organisation` (au plus une dizaine : pas la liste
        # nationale de l'administration)
        organisations=service.organisations_gerees(current_user)[:11] if gere else [],
        description_html=description_html,
    )


documentation.operation_publique = True


# Le flux des changements (ses opérations s'inscrivent sur le même blueprint et le même registre)
from dauphin.api import evenements as _evenements  # noqa: E402, F401
